"""The feedback item table: one row per feedback item with its prediction and variants, rebuilt when the data changes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from analytics.errors import LiftboardError
from analytics.workspace import Workspace, quote_ident

ITEMS = "lb_feedback_items"

#: The item table's own columns; on a remote source it also holds the item's context (see ``live_sql``).
ITEM_COLUMNS: tuple[str, ...] = (
    "feedback_id", "ts", "signal", "rating", "prediction_id", "user_id", "model_version", "score", "variants",
)  # fmt: skip

#: Prediction columns the item already holds under its own names (the rest are its context).
_PREDICTION_KEYS = frozenset({"prediction_id", "user_id", "timestamp", "model_version", "score"})

# Building the item table and tag writes are serialised per workspace file (threads of one process
# share a connection; DuckDB lets only one process write a file).
_LOCKS: dict[str, threading.RLock] = {}

_LOCKS_GUARD = threading.Lock()


@contextmanager
def serialised(ws: Workspace) -> Iterator[None]:
    """Hold the workspace's write lock (re-entrant within a thread)."""
    key = str(ws.path.resolve())
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(key, threading.RLock())
    with lock:
        yield


def live_sql(ws: Workspace, *, context: bool = False) -> str:
    """Feedback joined to its prediction and to the user's variant in every experiment (a MAP).

    One row per feedback_id (duplicated ids in an upload keep their first row), so an item is never
    queued twice; predictions are deduplicated on prediction_id likewise. Users exposed to more than
    one variant of an experiment get no variant in it. ``ts`` is the feedback time, else the prediction's.
    With ``context`` each row also carries the feedback's comment and correction and the prediction's
    other columns (input, output, features).
    """
    fb = ws.table("feedback")
    fcols = ws.columns("feedback")
    has_pred = ws.has_table("predictions") and "prediction_id" in fcols
    pcols = ws.columns("predictions") if has_pred else {}

    def f(col: str, typ: str) -> str:
        return f"f.{quote_ident(col)}" if col in fcols else f"NULL::{typ}"

    def p(col: str, typ: str) -> str:
        return f"p.{quote_ident(col)}" if col in pcols else f"NULL::{typ}"

    user = f"coalesce({f('user_id', 'VARCHAR')}, {p('user_id', 'VARCHAR')})"
    ts = f"coalesce({f('timestamp', 'TIMESTAMP')}, {p('timestamp', 'TIMESTAMP')})"
    select = [
        "f.feedback_id AS feedback_id",
        f"{ts} AS ts",
        "lower(f.signal) AS signal",
        f"{f('rating', 'DOUBLE')} AS rating",
        f"{f('prediction_id', 'VARCHAR')} AS prediction_id",
        f"{user} AS user_id",
        f"{p('model_version', 'VARCHAR')} AS model_version",
        f"{p('score', 'DOUBLE')}::DOUBLE AS score",
        "a.variants AS variants",
    ]
    if context:
        select += [f"{f(c, 'VARCHAR')} AS {c}" for c in ("comment", "corrected_output")]
        taken = {*ITEM_COLUMNS, "variant", "comment", "corrected_output"}
        select += [
            f"p.{quote_ident(c)} AS {quote_ident(c)}" for c in pcols if c not in _PREDICTION_KEYS | taken
        ]
    joins = ""
    if has_pred:
        joins += (
            " LEFT JOIN (SELECT * FROM predictions QUALIFY row_number() OVER "
            "(PARTITION BY prediction_id ORDER BY timestamp) = 1) p ON p.prediction_id = f.prediction_id"
        )
    else:
        joins += " LEFT JOIN (SELECT NULL::VARCHAR AS user_id, NULL::TIMESTAMP AS timestamp) p ON false"
    if ws.has_table("assignments"):
        joins += (
            " LEFT JOIN (SELECT user_id, map_from_entries(list({'k': experiment, 'v': variant})) AS variants"
            " FROM (SELECT user_id, experiment, CASE WHEN count(DISTINCT variant) = 1 THEN min(variant) END"
            " AS variant FROM assignments GROUP BY user_id, experiment) GROUP BY user_id) a ON a.user_id = "
            + user
        )
    else:
        joins += (
            " LEFT JOIN (SELECT NULL::VARCHAR AS user_id, NULL::MAP(VARCHAR, VARCHAR) AS variants) a ON false"
        )
    first = "QUALIFY row_number() OVER (PARTITION BY f.feedback_id ORDER BY ts NULLS LAST) = 1"
    return f"SELECT {', '.join(select)} FROM {fb} f{joins} {first}"  # identifiers checked


def _signature(ws: Workspace) -> str:
    return ws.data_version(("feedback", "predictions", "assignments"))


def _is_current(ws: Workspace, sig: str) -> bool:
    built = ws.scalar(
        "SELECT value FROM lb_meta WHERE key = 'feedback_items' AND EXISTS (SELECT 1 FROM "
        "information_schema.tables WHERE table_schema = 'main' AND table_name = ?)",
        [ITEMS],
        purpose="the is current query",
    )
    return built == sig


def ensure_items(ws: Workspace) -> bool:
    """Keep ``lb_feedback_items`` (the joined feedback, sorted by time) current; False if it cannot be.

    The join of feedback, predictions and assignments is the expensive part of every queue query, so
    it is materialised once per change of the data and reused by the queue, the metrics and bulk tags.
    A read-only workspace whose table is stale falls back to the live join; on a remote source (Spark)
    there is no live join to fall back to (see ``_copy_remote_items``), so that is an error.
    Every feedback query asks this first: a page run's workspace (``Workspace.for_run``) answers it once.
    """
    return ws.once(ITEMS, lambda: _make_current(ws))


def _make_current(ws: Workspace) -> bool:
    sig = _signature(ws)
    if _is_current(ws, sig):
        return True
    if ws.read_only:
        if ws.remote_data:
            raise LiftboardError(
                "The feedback items of a Spark source are kept in the local workspace, which is open "
                "read-only; open it writable (as the app does) to review feedback."
            )
        return False
    with serialised(ws):
        if _is_current(ws, sig):
            return True
        if ws.remote_data:
            _copy_remote_items(ws, sig)
            return True
        with ws.transaction() as cur:
            cur.execute(
                f"CREATE OR REPLACE TABLE {ITEMS} AS SELECT * FROM ({live_sql(ws)}) j ORDER BY ts, feedback_id"
            )
            cur.execute("INSERT OR REPLACE INTO lb_meta VALUES ('feedback_items', ?)", [sig])
    return True


def _copy_remote_items(ws: Workspace, sig: str) -> None:
    """Run the item join where the data is (Spark) and keep its result in the local workspace.

    Why a local copy, when every other analysis brings back only aggregates: the review queue is a list of
    items, not an aggregate. Every screen pages, filters and counts them and joins each one with the
    reviewers' tags (``lb_reviews``, local and written on every save), dozens of queries per rerun; on Spark
    each would be a distributed job that also ships the tags there. The copy is one row per feedback item
    (never events or predictions: those stay in the lake), with the item's context (comment, correction,
    input and output) so that reading an item needs no lookup in the lake either. The result travels as
    Arrow record batches (``spark.sql.execution.arrow.maxRecordsPerBatch`` rows each, no Python row objects)
    and DuckDB reads those batches directly. It is rebuilt when the source changes (``data_version``) or on
    ``refresh_items``.
    """
    items = ws.fetch_arrow(
        live_sql(ws, context=True), purpose="the feedback items joined to their predictions and variants"
    )
    view = "lb_tmp_remote_items"
    with ws.transaction() as cur:
        cur.register(view, items)
        try:
            cur.execute(f"CREATE OR REPLACE TABLE {ITEMS} AS SELECT * FROM {view} ORDER BY ts, feedback_id")
        finally:
            cur.unregister(view)
        cur.execute("INSERT OR REPLACE INTO lb_meta VALUES ('feedback_items', ?)", [sig])


def refresh_items(ws: Workspace) -> bool:
    """Re-read the data source now and rebuild the item table, changed or not (the page's Refresh button)."""
    ws.refresh_source()
    if not ws.read_only:
        with serialised(ws), ws.transaction() as cur:
            cur.execute("DELETE FROM lb_meta WHERE key = 'feedback_items'")
    return ws.once(ITEMS, lambda: _make_current(ws), fresh=True)

"""Feedback joined to its prediction and variant: the filtered selection, the review queue and exports."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from analytics.errors import LiftboardError
from analytics.export import _FORMULA_START
from analytics.store import Workspace, quote_ident

SIGNALS: tuple[str, ...] = ("accept", "reject", "correct", "rating")
STATUSES: tuple[str, ...] = ("untagged", "tagged", "all")
#: Prediction columns shown as the item's context when present (the rest are features).
CONTEXT_COLUMNS: tuple[str, ...] = ("input_text", "output_text")
MAX_PAGE = 1000
#: tag_id → current name, cross-joined where tag lists are shown (lambdas cannot hold subqueries).
TAG_MAP = "(SELECT map(list(tag_id), list(name)) AS m FROM lb_tags) tm"


@dataclass(frozen=True)
class FeedbackFilter:
    """A selection of feedback items; every field narrows it, empty fields do not.

    ``status`` is relative to ``reviewer`` when one is given ("untagged" = not yet tagged by this
    reviewer, so that a second reviewer can tag items for agreement), else to everyone ("untagged" =
    no reviewer has tagged it). An item counts as tagged once a review row holds at least one tag.
    """

    experiment: str | None = None
    signals: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()
    model_versions: tuple[str, ...] = ()
    start: dt.date | None = None
    end: dt.date | None = None  # inclusive
    score_min: float | None = None
    score_max: float | None = None
    status: str = "all"
    reviewer: str | None = None
    feedback_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueuePage:
    """One page of the review queue, with the reviewer's own tags and the item's version."""

    rows: (
        pd.DataFrame
    )  # feedback_id, ts, signal, variant, model_version, score, rating, tags, others, version
    total: int  # items matching the filter (all pages)
    offset: int
    limit: int


@dataclass(frozen=True)
class Progress:
    tagged: int
    total: int

    @property
    def share(self) -> float:
        return self.tagged / self.total if self.total else 0.0


@dataclass(frozen=True)
class Selection:
    """SQL for the filtered, joined feedback (one row per feedback_id) and its parameters."""

    sql: str
    params: list[Any] = field(default_factory=list)


def _has(ws: Workspace, table: str, column: str) -> bool:
    return column in ws.columns(table)


def experiments(ws: Workspace) -> list[str]:
    """Experiments in the assignments table, by name."""
    if not ws.has_table("assignments"):
        return []
    return [r[0] for r in ws.query("SELECT DISTINCT experiment FROM assignments ORDER BY 1")]


def default_experiment(ws: Workspace) -> str | None:
    """The experiment whose variants label feedback when none is chosen: the first one by name."""
    names = experiments(ws)
    return names[0] if names else None


ITEMS = "lb_feedback_items"
#: The item table's own columns; on a remote source it also holds the item's context (see ``_live_sql``).
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


def _live_sql(ws: Workspace, *, context: bool = False) -> str:
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
    return f"SELECT {', '.join(select)} FROM {fb} f{joins} {first}"  # noqa: S608 - identifiers checked


def _signature(ws: Workspace) -> str:
    return ws.data_version(("feedback", "predictions", "assignments"))


def _is_current(ws: Workspace, sig: str) -> bool:
    return ws.scalar("SELECT value FROM lb_meta WHERE key = 'feedback_items'") == sig and ws.has_table(ITEMS)


def ensure_items(ws: Workspace) -> bool:
    """Keep ``lb_feedback_items`` (the joined feedback, sorted by time) current; False if it cannot be.

    The join of feedback, predictions and assignments is the expensive part of every queue query, so
    it is materialised once per change of the data and reused by the queue, the metrics and bulk tags.
    A read-only workspace whose table is stale falls back to the live join; on a remote source (Spark)
    there is no live join to fall back to (see ``_copy_remote_items``), so that is an error.
    """
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
                f"CREATE OR REPLACE TABLE {ITEMS} AS SELECT * FROM ({_live_sql(ws)}) j ORDER BY ts, feedback_id"
            )  # noqa: S608
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
    items = ws.fetch_arrow(_live_sql(ws, context=True))
    view = "lb_tmp_remote_items"
    with ws.transaction() as cur:
        cur.register(view, items)
        try:
            cur.execute(f"CREATE OR REPLACE TABLE {ITEMS} AS SELECT * FROM {view} ORDER BY ts, feedback_id")  # noqa: S608
        finally:
            cur.unregister(view)
        cur.execute("INSERT OR REPLACE INTO lb_meta VALUES ('feedback_items', ?)", [sig])


def refresh_items(ws: Workspace) -> bool:
    """Re-read the data source now and rebuild the item table, changed or not (the page's Refresh button)."""
    ws.refresh_source()
    if not ws.read_only:
        with serialised(ws), ws.transaction() as cur:
            cur.execute("DELETE FROM lb_meta WHERE key = 'feedback_items'")
    return ensure_items(ws)


def joined_sql(ws: Workspace, experiment: str | None, *, context: bool = False) -> Selection:
    """One row per feedback item: ts, signal, rating, prediction_id, user_id, model_version, score, variant.

    ``variant`` is the user's variant in ``experiment`` (NULL without one). With ``context`` the item's
    comment and correction and every prediction column (input, output, features) are joined on.
    """
    src = ITEMS if ensure_items(ws) else f"({_live_sql(ws)})"
    var = "variants[?]" if experiment is not None else "NULL::VARCHAR"
    params: list[Any] = [experiment] if experiment is not None else []
    held = ""
    if context and ws.remote_data:  # the remote source's item table already holds the context
        held = "".join(f", {quote_ident(c)}" for c in ws.columns(ITEMS) if c not in ITEM_COLUMNS)
    sql = (
        "SELECT feedback_id, ts, signal, rating, prediction_id, user_id, model_version, score, "  # noqa: S608
        f"{var} AS variant{held} FROM {src} i"
    )
    if context and not ws.remote_data:
        fcols = ws.columns("feedback")
        extra = [f"fx.{quote_ident(c)} AS {quote_ident(c)}" if c in fcols else f"NULL::VARCHAR AS {c}"
                 for c in ("comment", "corrected_output")]  # fmt: skip
        joins = (
            " LEFT JOIN (SELECT * FROM feedback QUALIFY row_number() OVER (PARTITION BY feedback_id) = 1) fx"
            " ON fx.feedback_id = b.feedback_id"
        )
        if ws.has_table("predictions") and "prediction_id" in fcols:
            skip = {"prediction_id", "user_id", "timestamp", "model_version", "score"}
            extra += [
                f"px.{quote_ident(c)} AS {quote_ident(c)}" for c in ws.columns("predictions") if c not in skip
            ]
            joins += (
                " LEFT JOIN (SELECT * FROM predictions QUALIFY row_number() OVER (PARTITION BY prediction_id) = 1)"
                " px ON px.prediction_id = b.prediction_id"
            )
        sql = f"SELECT b.*, {', '.join(extra)} FROM ({sql}) b{joins}"  # noqa: S608
    return Selection(sql, params)


def selection(ws: Workspace, flt: FeedbackFilter, *, context: bool = False) -> Selection:
    """The joined feedback narrowed by the filter: ``SELECT * FROM (...) b WHERE ...``."""
    if flt.status not in STATUSES:
        raise LiftboardError(f"Unknown review status {flt.status!r}; use one of: {', '.join(STATUSES)}.")
    base = joined_sql(ws, flt.experiment, context=context)
    where: list[str] = []
    params = list(base.params)

    def any_of(col: str, values: tuple[str, ...]) -> None:
        if values:
            where.append(f"{col} IN ({', '.join('?' * len(values))})")
            params.extend(values)

    any_of("signal", tuple(s.lower() for s in flt.signals))
    any_of("variant", flt.variants)
    any_of("model_version", flt.model_versions)
    any_of("feedback_id", flt.feedback_ids)
    if flt.start is not None:
        where.append("ts >= ?")
        params.append(dt.datetime.combine(flt.start, dt.time()))
    if flt.end is not None:
        where.append("ts < ?")
        params.append(dt.datetime.combine(flt.end + dt.timedelta(days=1), dt.time()))
    if flt.score_min is not None:
        where.append("score >= ?")
        params.append(float(flt.score_min))
    if flt.score_max is not None:
        where.append("score <= ?")
        params.append(float(flt.score_max))
    if flt.status != "all":
        mine = " AND r.reviewer = ?" if flt.reviewer else ""
        neg = "NOT " if flt.status == "untagged" else ""
        where.append(
            f"{neg}EXISTS (SELECT 1 FROM lb_reviews r WHERE r.feedback_id = b.feedback_id"
            f" AND len(r.tag_ids) > 0{mine})"
        )
        if flt.reviewer:
            params.append(flt.reviewer)
    cond = " WHERE " + " AND ".join(where) if where else ""
    return Selection(f"SELECT * FROM ({base.sql}) b{cond}", params)  # noqa: S608


def count(ws: Workspace, flt: FeedbackFilter) -> int:
    sel = selection(ws, flt)
    return int(ws.scalar(f"SELECT count(*) FROM ({sel.sql}) s", sel.params))  # noqa: S608


def progress(ws: Workspace, flt: FeedbackFilter) -> Progress:
    """Tagged items / all items of the filter (its status ignored; relative to its reviewer if any)."""
    sel = selection(ws, replace(flt, status="all"))
    mine = " AND r.reviewer = ?" if flt.reviewer else ""
    row = ws.query(
        f"SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM lb_reviews r "  # noqa: S608
        f"WHERE r.feedback_id = s.feedback_id AND len(r.tag_ids) > 0{mine})) FROM ({sel.sql}) s",
        [*sel.params, *([flt.reviewer] if flt.reviewer else [])],
    )[0]
    return Progress(tagged=int(row[1]), total=int(row[0]))


def queue(
    ws: Workspace, flt: FeedbackFilter, *, limit: int = 50, offset: int = 0, viewer: str | None = None
) -> QueuePage:
    """One page of the selection, oldest first, with the tags (names) of ``viewer`` and of others.

    ``viewer`` (default ``flt.reviewer``) only chooses whose tags fill the ``tags`` column; which items
    are listed is up to the filter.

    ``version`` is the item's version: it goes up by one on every tag change by anyone, and a write
    must carry the version the reviewer saw (see ``analytics.tags``).
    """
    if not 1 <= limit <= MAX_PAGE:
        raise LiftboardError(f"A queue page holds 1 to {MAX_PAGE} items; ask for fewer.")
    if offset < 0:
        raise LiftboardError("The queue offset cannot be negative; start at 0.")
    viewer = viewer if viewer is not None else flt.reviewer
    sel = selection(ws, flt)
    total = int(ws.scalar(f"SELECT count(*) FROM ({sel.sql}) s", sel.params))  # noqa: S608
    rows = ws.query_df(
        f"""
        WITH page AS (SELECT * FROM ({sel.sql}) s ORDER BY ts NULLS LAST, feedback_id LIMIT ? OFFSET ?),
        named AS (
            SELECT r.feedback_id, r.reviewer, r.version,
                   list_sort(list_transform(r.tag_ids, lambda x: tm.m[x])) AS names
            FROM lb_reviews r, {TAG_MAP} WHERE r.feedback_id IN (SELECT feedback_id FROM page)
        ),
        per_item AS (
            SELECT feedback_id,
                   max(version) AS version,
                   flatten(list(names) FILTER (WHERE reviewer = ?)) AS tags,
                   list(reviewer || ': ' || array_to_string(names, ', ') ORDER BY reviewer)
                     FILTER (WHERE reviewer IS DISTINCT FROM ? AND len(names) > 0) AS others
            FROM named GROUP BY feedback_id
        )
        SELECT page.feedback_id, page.ts, page.signal, page.variant, page.model_version, page.score,
               page.rating, coalesce(per_item.tags, []::VARCHAR[]) AS tags,
               array_to_string(coalesce(per_item.others, []::VARCHAR[]), '; ') AS others,
               coalesce(per_item.version, 0) AS version
        FROM page LEFT JOIN per_item USING (feedback_id)
        ORDER BY page.ts NULLS LAST, page.feedback_id
        """,  # noqa: S608
        [*sel.params, int(limit), int(offset), viewer or "", viewer or ""],
    )
    rows["tags"] = rows["tags"].map(lambda v: [] if v is None else list(v))
    return QueuePage(rows=rows, total=total, offset=offset, limit=limit)


def item_context(ws: Workspace, feedback_id: str, experiment: str | None = None) -> dict[str, Any]:
    """Everything known about one item: signal, comment, correction, the prediction's input/output."""
    if ws.remote_data:  # all of it is in the local item table: no lookup in the lake
        base = joined_sql(ws, experiment, context=True)
        df = ws.query_df(f"SELECT * FROM ({base.sql}) b WHERE feedback_id = ?", [*base.params, feedback_id])  # noqa: S608
        if df.empty:
            raise LiftboardError(
                f"There is no feedback item {feedback_id!r}; check the id or reload the queue."
            )
        return {k: v if isinstance(v, list) or not pd.isna(v) else None for k, v in df.iloc[0].items()}
    base = joined_sql(ws, experiment)
    df = ws.query_df(f"SELECT * FROM ({base.sql}) b WHERE feedback_id = ?", [*base.params, feedback_id])  # noqa: S608
    if df.empty:
        raise LiftboardError(f"There is no feedback item {feedback_id!r}; check the id or reload the queue.")
    out: dict[str, Any] = dict(df.iloc[0].items())
    fcols = ws.columns("feedback")
    for c in ("comment", "corrected_output"):
        out[c] = None
        if c in fcols:
            out[c] = ws.scalar(
                f"SELECT {quote_ident(c)} FROM feedback WHERE feedback_id = ? LIMIT 1", [feedback_id]
            )  # noqa: S608
    if out.get("prediction_id") is not None and ws.has_table("predictions"):
        pdf = ws.query_df("SELECT * FROM predictions WHERE prediction_id = ? LIMIT 1", [out["prediction_id"]])
        skip = {"prediction_id", "user_id", "timestamp", "model_version", "score"}
        if not pdf.empty:
            out.update({k: v for k, v in pdf.iloc[0].items() if k not in skip})
    return {k: v if isinstance(v, list) or not pd.isna(v) else None for k, v in out.items()}


def options(ws: Workspace, experiment: str | None) -> dict[str, list[str]]:
    """Values the filters offer: signals, variants, model versions, and the date range."""
    out: dict[str, list[str]] = {"signals": [], "variants": [], "model_versions": []}
    if not ws.has_table("feedback"):
        return out
    out["signals"] = [
        r[0] for r in ws.query("SELECT DISTINCT lower(signal) FROM feedback ORDER BY 1") if r[0]
    ]
    if experiment is not None and ws.has_table("assignments"):
        out["variants"] = [
            r[0]
            for r in ws.query(
                "SELECT DISTINCT variant FROM assignments WHERE experiment = ? ORDER BY 1", [experiment]
            )
        ]
    if ws.has_table("predictions") and _has(ws, "predictions", "model_version"):
        out["model_versions"] = [
            r[0]
            for r in ws.query(
                "SELECT DISTINCT model_version FROM predictions WHERE model_version IS NOT NULL ORDER BY 1"
            )
        ]
    return out


#: The condition on a feedback row (aliased ``f``) whose prediction_id names no prediction; shared with
#: the loader's check of a feedback file before it is loaded (analytics.validate).
UNMATCHED = "NOT EXISTS (SELECT 1 FROM predictions p WHERE p.prediction_id = f.prediction_id)"


def unmatched_predictions(ws: Workspace) -> tuple[int, int]:
    """(feedback rows whose prediction_id matches no prediction, feedback rows with a prediction_id)."""
    if not ws.has_table("feedback") or not _has(ws, "feedback", "prediction_id"):
        return (0, 0)
    if not ws.has_table("predictions"):
        n = int(ws.scalar("SELECT count(*) FROM feedback WHERE prediction_id IS NOT NULL"))
        return (n, n)
    row = ws.query(
        f"SELECT count(*) FILTER (WHERE {UNMATCHED}), count(*) FROM feedback f WHERE f.prediction_id IS NOT NULL"  # noqa: S608
    )[0]
    return (int(row[0]), int(row[1]))


# -- export ---------------------------------------------------------------------------------------
def _neutral_sql(expr: str) -> str:
    # The same rule as analytics.export.neutralise, in SQL, so large exports never pass through pandas.
    starts = ", ".join("'" + c.replace("'", "''") + "'" for c in _FORMULA_START)
    return f"CASE WHEN left({expr}, 1) IN ({starts}) THEN '''' || {expr} ELSE {expr} END"


def export_sql(ws: Workspace, flt: FeedbackFilter) -> Selection:
    """Tagged feedback as an export: one row per item and reviewer, tags as 'a; b', text neutralised."""
    sel = selection(ws, flt, context=True)
    text_cols = [
        "feedback_id",
        "signal",
        "prediction_id",
        "user_id",
        "model_version",
        "variant",
        "comment",
        "corrected_output",
        "reviewer",
        "tags",
    ]
    pcols = ws.columns("predictions") if ws.has_table("predictions") else {}
    text_cols += [c for c in CONTEXT_COLUMNS if c in pcols]
    inner = f"""
        SELECT s.feedback_id, s.ts, s.signal, s.rating, s.prediction_id, s.user_id, s.model_version, s.score,
               s.variant, s.comment, s.corrected_output,
               {", ".join(f"s.{quote_ident(c)}" for c in CONTEXT_COLUMNS if c in pcols) or "NULL AS _none"},
               r.reviewer, r.version, r.updated_at,
               array_to_string(list_sort(list_transform(r.tag_ids, lambda x: tm.m[x])), '; ') AS tags
        FROM ({sel.sql}) s JOIN lb_reviews r ON r.feedback_id = s.feedback_id AND len(r.tag_ids) > 0
        CROSS JOIN {TAG_MAP}
    """  # noqa: S608
    cols = [
        "feedback_id",
        "ts",
        "signal",
        "rating",
        "prediction_id",
        "user_id",
        "model_version",
        "score",
        "variant",
        "comment",
        "corrected_output",
        *[c for c in CONTEXT_COLUMNS if c in pcols],
        "reviewer",
        "version",
        "updated_at",
        "tags",
    ]
    outer = ", ".join(
        f"{_neutral_sql(quote_ident(c))} AS {quote_ident(c)}" if c in text_cols else quote_ident(c)
        for c in cols
    )
    return Selection(f"SELECT {outer} FROM ({inner}) e ORDER BY ts, feedback_id, reviewer", sel.params)  # noqa: S608


def export_tagged(ws: Workspace, flt: FeedbackFilter, out: str | Path) -> int:
    """Write tagged feedback to ``out`` (.csv or .parquet) straight from DuckDB; returns rows written."""
    out = Path(out)
    fmt = out.suffix.lower()
    if fmt not in (".csv", ".parquet"):
        raise LiftboardError(f"Cannot export to {out.name}: give a file name ending in .csv or .parquet.")
    if not out.parent.exists():
        raise LiftboardError(f"The folder {out.parent} does not exist; create it or choose another path.")
    sel = export_sql(ws, flt)
    cur = ws.cursor()
    try:
        rel = cur.sql(sel.sql, params=sel.params)
        # The relation API takes the path as an argument: no file name is ever spliced into SQL.
        if fmt == ".csv":
            rel.write_csv(str(out), header=True)
        else:
            rel.write_parquet(str(out))
        return int(cur.execute(f"SELECT count(*) FROM ({sel.sql}) x", sel.params).fetchone()[0])  # noqa: S608
    finally:
        cur.close()


def export_frame(ws: Workspace, flt: FeedbackFilter, *, limit: int = 200_000) -> pd.DataFrame:
    """Tagged feedback as a (bounded) DataFrame for a download button; text already neutralised."""
    sel = export_sql(ws, flt)
    return ws.query_df(f"SELECT * FROM ({sel.sql}) x LIMIT ?", [*sel.params, int(limit)])  # noqa: S608


def date_range(ws: Workspace) -> tuple[dt.date | None, dt.date | None]:
    """The first and last day of the feedback log (None, None when it is empty or has no timestamps)."""
    if "timestamp" not in ws.columns("feedback"):
        return None, None
    lo, hi = ws.query(f"SELECT min(timestamp)::DATE, max(timestamp)::DATE FROM {ws.table('feedback')}")[0]  # noqa: S608
    return lo, hi

"""Feedback joined to its prediction and variant: the filtered selection, the review queue and exports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
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


def joined_sql(ws: Workspace, experiment: str | None, *, context: bool = False) -> Selection:
    """Feedback joined to its prediction and to the user's variant in ``experiment``.

    One row per feedback_id (duplicated ids in an upload keep their first row), so an item is never
    queued twice. Users exposed to more than one variant of the experiment get variant NULL.
    ``ts`` is the feedback time, else the prediction time.
    """
    fb = ws.table("feedback")
    fcols = ws.columns("feedback")
    has_pred = ws.has_table("predictions") and "prediction_id" in fcols
    pcols = ws.columns("predictions") if has_pred else {}
    params: list[Any] = []

    def f(col: str, typ: str) -> str:
        return f"f.{quote_ident(col)}" if col in fcols else f"NULL::{typ}"

    def p(col: str, typ: str) -> str:
        return f"p.{quote_ident(col)}" if col in pcols else f"NULL::{typ}"

    user = (
        f"coalesce({f('user_id', 'VARCHAR')}, {p('user_id', 'VARCHAR')})"
        if has_pred
        else f("user_id", "VARCHAR")
    )
    ts = (
        f"coalesce({f('timestamp', 'TIMESTAMP')}, {p('timestamp', 'TIMESTAMP')})"
        if has_pred
        else f("timestamp", "TIMESTAMP")
    )
    select = [
        "f.feedback_id AS feedback_id",
        f"{ts} AS ts",
        "lower(f.signal) AS signal",
        f"{f('rating', 'DOUBLE')} AS rating",
        f"{f('prediction_id', 'VARCHAR')} AS prediction_id",
        f"{user} AS user_id",
        f"{p('model_version', 'VARCHAR')} AS model_version",
        f"{p('score', 'DOUBLE')} AS score",
        "a.variant AS variant",
    ]
    if context:
        select += [
            f"{f('comment', 'VARCHAR')} AS comment",
            f"{f('corrected_output', 'VARCHAR')} AS corrected_output",
        ]
        skip = {"prediction_id", "user_id", "timestamp", "model_version", "score"}
        select += [f"p.{quote_ident(c)} AS {quote_ident(c)}" for c in pcols if c not in skip]
    joins = ""
    if has_pred:
        # Predictions deduplicated on prediction_id so that a repeated id cannot duplicate feedback.
        joins += (
            " LEFT JOIN (SELECT * FROM predictions QUALIFY row_number() OVER "
            "(PARTITION BY prediction_id ORDER BY timestamp) = 1) p ON p.prediction_id = f.prediction_id"
        )
    if experiment is not None and ws.has_table("assignments"):
        joins += (
            " LEFT JOIN (SELECT user_id, CASE WHEN count(DISTINCT variant) = 1 THEN min(variant) END AS variant"
            " FROM assignments WHERE experiment = ? GROUP BY user_id) a ON a.user_id = " + user
        )
        params.append(experiment)
    else:
        joins += " LEFT JOIN (SELECT NULL::VARCHAR AS user_id, NULL::VARCHAR AS variant) a ON false"
    first = "QUALIFY row_number() OVER (PARTITION BY feedback_id ORDER BY ts NULLS LAST) = 1"
    sql = f"SELECT {', '.join(select)} FROM {fb} f{joins} {first}"  # noqa: S608 - identifiers checked
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
    sel = selection(ws, FeedbackFilter(**{**flt.__dict__, "status": "all"}))
    mine = " AND r.reviewer = ?" if flt.reviewer else ""
    row = ws.query(
        f"SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM lb_reviews r "  # noqa: S608
        f"WHERE r.feedback_id = s.feedback_id AND len(r.tag_ids) > 0{mine})) FROM ({sel.sql}) s",
        [*sel.params, *([flt.reviewer] if flt.reviewer else [])],
    )[0]
    return Progress(tagged=int(row[1]), total=int(row[0]))


def queue(ws: Workspace, flt: FeedbackFilter, *, limit: int = 50, offset: int = 0) -> QueuePage:
    """One page of the selection, oldest first, with tags (names) of ``flt.reviewer`` and of others.

    ``version`` is the item's version: it goes up by one on every tag change by anyone, and a write
    must carry the version the reviewer saw (see ``analytics.tags``).
    """
    if not 1 <= limit <= MAX_PAGE:
        raise LiftboardError(f"A queue page holds 1 to {MAX_PAGE} items; ask for fewer.")
    if offset < 0:
        raise LiftboardError("The queue offset cannot be negative; start at 0.")
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
        [*sel.params, int(limit), int(offset), flt.reviewer or "", flt.reviewer or ""],
    )
    rows["tags"] = rows["tags"].map(lambda v: [] if v is None else list(v))
    return QueuePage(rows=rows, total=total, offset=offset, limit=limit)


def item_context(ws: Workspace, feedback_id: str, experiment: str | None = None) -> dict[str, Any]:
    """Everything known about one item: signal, comment, correction, the prediction's input/output."""
    base = joined_sql(ws, experiment, context=True)
    df = ws.query_df(f"SELECT * FROM ({base.sql}) b WHERE feedback_id = ?", [*base.params, feedback_id])  # noqa: S608
    if df.empty:
        raise LiftboardError(f"There is no feedback item {feedback_id!r}; check the id or reload the queue.")
    return {k: (None if pd.isna(v) else v) if not isinstance(v, list) else v for k, v in df.iloc[0].items()}


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


def unmatched_predictions(ws: Workspace) -> tuple[int, int]:
    """(feedback rows whose prediction_id matches no prediction, feedback rows with a prediction_id)."""
    if not ws.has_table("feedback") or not _has(ws, "feedback", "prediction_id"):
        return (0, 0)
    if not ws.has_table("predictions"):
        n = int(ws.scalar("SELECT count(*) FROM feedback WHERE prediction_id IS NOT NULL"))
        return (n, n)
    row = ws.query(
        "SELECT count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM predictions p WHERE p.prediction_id = f.prediction_id)),"
        " count(*) FROM feedback f WHERE f.prediction_id IS NOT NULL"
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

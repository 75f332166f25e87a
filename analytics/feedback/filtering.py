"""Feedback joined to its prediction and variant: the filtered selection, the review queue and its options."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from analytics.errors import LiftboardError
from analytics.feedback.choices import STATUSES, ReviewStatus
from analytics.feedback.items import ITEM_COLUMNS, ITEMS, ensure_items, live_sql
from analytics.workspace import Workspace, experiment_names, quote_ident

SIGNALS: tuple[str, ...] = ("accept", "reject", "correct", "rating")


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

    def matching(self, status: ReviewStatus) -> int:
        """Items of the selection with this review status: what ``count`` returns with that status."""
        return {"all": self.total, "tagged": self.tagged, "untagged": self.total - self.tagged}[status]


@dataclass(frozen=True)
class Selection:
    """SQL for the filtered, joined feedback (one row per feedback_id) and its parameters."""

    sql: str
    params: list[Any] = field(default_factory=list)


def default_experiment(ws: Workspace) -> str | None:
    """The experiment whose variants label feedback when none is chosen: the first one by name."""
    names = experiment_names(ws)
    return names[0] if names else None


def joined_sql(ws: Workspace, experiment: str | None, *, context: bool = False) -> Selection:
    """One row per feedback item: ts, signal, rating, prediction_id, user_id, model_version, score, variant.

    ``variant`` is the user's variant in ``experiment`` (NULL without one). With ``context`` the item's
    comment and correction and every prediction column (input, output, features) are joined on.
    """
    src = ITEMS if ensure_items(ws) else f"({live_sql(ws)})"
    var = "variants[?]" if experiment is not None else "NULL::VARCHAR"
    params: list[Any] = [experiment] if experiment is not None else []
    held = ""
    if context and ws.remote_data:  # the remote source's item table already holds the context
        held = "".join(f", {quote_ident(c)}" for c in ws.columns(ITEMS) if c not in ITEM_COLUMNS)
    sql = (
        "SELECT feedback_id, ts, signal, rating, prediction_id, user_id, model_version, score, "
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
        sql = f"SELECT b.*, {', '.join(extra)} FROM ({sql}) b{joins}"
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
    return Selection(f"SELECT * FROM ({base.sql}) b{cond}", params)


def count(ws: Workspace, flt: FeedbackFilter) -> int:
    sel = selection(ws, flt)
    return int(ws.scalar(f"SELECT count(*) FROM ({sel.sql}) s", sel.params, purpose="the count query"))


def progress(ws: Workspace, flt: FeedbackFilter) -> Progress:
    """Tagged items / all items of the filter (its status ignored; relative to its reviewer if any)."""
    sel = selection(ws, replace(flt, status="all"))
    mine = " AND r.reviewer = ?" if flt.reviewer else ""
    row = ws.query(
        f"SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM lb_reviews r "
        f"WHERE r.feedback_id = s.feedback_id AND len(r.tag_ids) > 0{mine})) FROM ({sel.sql}) s",
        [*sel.params, *([flt.reviewer] if flt.reviewer else [])],
        purpose="the progress query",
    )[0]
    return Progress(tagged=int(row[1]), total=int(row[0]))


def queue(
    ws: Workspace, flt: FeedbackFilter, *, limit: int = 50, offset: int = 0, viewer: str | None = None
) -> QueuePage:
    """One page of the selection, oldest first, with the tags (names) of ``viewer`` and of others.

    ``viewer`` (default ``flt.reviewer``) only chooses whose tags fill the ``tags`` column; which items
    are listed is up to the filter.

    ``version`` is the item's version: it goes up by one on every tag change by anyone, and a write
    must carry the version the reviewer saw (see ``analytics.feedback.tags``).
    """
    if not 1 <= limit <= MAX_PAGE:
        raise LiftboardError(f"A queue page holds 1 to {MAX_PAGE} items; ask for fewer.")
    if offset < 0:
        raise LiftboardError("The queue offset cannot be negative; start at 0.")
    viewer = viewer if viewer is not None else flt.reviewer
    sel = selection(ws, flt)
    total = int(ws.scalar(f"SELECT count(*) FROM ({sel.sql}) s", sel.params, purpose="the queue query"))
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
        """,
        [*sel.params, int(limit), int(offset), viewer or "", viewer or ""],
        purpose="the queue query",
    )
    rows["tags"] = rows["tags"].map(lambda v: [] if v is None else list(v))
    return QueuePage(rows=rows, total=total, offset=offset, limit=limit)


def item_context(ws: Workspace, feedback_id: str, experiment: str | None = None) -> dict[str, Any]:
    """Everything known about one item: signal, comment, correction, the prediction's input/output."""
    if ws.remote_data:  # all of it is in the local item table: no lookup in the lake
        base = joined_sql(ws, experiment, context=True)
        df = ws.query_df(
            f"SELECT * FROM ({base.sql}) b WHERE feedback_id = ?",
            [*base.params, feedback_id],
            purpose="the item context query",
        )
        if df.empty:
            raise LiftboardError(
                f"There is no feedback item {feedback_id!r}; check the id or reload the queue."
            )
        return {k: v if isinstance(v, list) or not pd.isna(v) else None for k, v in df.iloc[0].items()}
    base = joined_sql(ws, experiment)
    df = ws.query_df(
        f"SELECT * FROM ({base.sql}) b WHERE feedback_id = ?",
        [*base.params, feedback_id],
        purpose="the item context query",
    )
    if df.empty:
        raise LiftboardError(f"There is no feedback item {feedback_id!r}; check the id or reload the queue.")
    out: dict[str, Any] = dict(df.iloc[0].items())
    fcols = ws.columns("feedback")
    for c in ("comment", "corrected_output"):
        out[c] = None
        if c in fcols:
            out[c] = ws.scalar(
                f"SELECT {quote_ident(c)} FROM feedback WHERE feedback_id = ? LIMIT 1",
                [feedback_id],
                purpose="the item context query",
            )
    if out.get("prediction_id") is not None and ws.has_table("predictions"):
        pdf = ws.query_df(
            "SELECT * FROM predictions WHERE prediction_id = ? LIMIT 1",
            [out["prediction_id"]],
            purpose="the item context query",
        )
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
        r[0]
        for r in ws.query(
            "SELECT DISTINCT lower(signal) FROM feedback ORDER BY 1", purpose="the feedback filter options"
        )
        if r[0]
    ]
    if experiment is not None and ws.has_table("assignments"):
        out["variants"] = [
            r[0]
            for r in ws.query(
                "SELECT DISTINCT variant FROM assignments WHERE experiment = ? ORDER BY 1",
                [experiment],
                purpose="the feedback filter options",
            )
        ]
    if ws.has_table("predictions") and "model_version" in ws.columns("predictions"):
        out["model_versions"] = [
            r[0]
            for r in ws.query(
                "SELECT DISTINCT model_version FROM predictions WHERE model_version IS NOT NULL ORDER BY 1",
                purpose="the feedback filter options",
            )
        ]
    return out


def date_range(ws: Workspace) -> tuple[dt.date | None, dt.date | None]:
    """The first and last day of the feedback log (None, None when it is empty or has no timestamps)."""
    if "timestamp" not in ws.columns("feedback"):
        return None, None
    lo, hi = ws.query(
        f"SELECT min(timestamp)::DATE, max(timestamp)::DATE FROM {ws.table('feedback')}",
        purpose="the feedback log's date range",
    )[0]
    return lo, hi

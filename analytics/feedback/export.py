"""Tagged feedback exports (CSV, Parquet, a bounded frame), safe to open in a spreadsheet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analytics.errors import LiftboardError
from analytics.feedback.filtering import CONTEXT_COLUMNS, TAG_MAP, FeedbackFilter, Selection, selection
from analytics.workspace import Workspace, neutral_sql, quote_ident


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
    """
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
        f"{neutral_sql(quote_ident(c))} AS {quote_ident(c)}" if c in text_cols else quote_ident(c)
        for c in cols
    )
    return Selection(f"SELECT {outer} FROM ({inner}) e ORDER BY ts, feedback_id, reviewer", sel.params)


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
            rel.write_csv(str(out), header=True, quoting="all")  # every cell whole, whatever the separator
        else:
            rel.write_parquet(str(out))
        return int(cur.execute(f"SELECT count(*) FROM ({sel.sql}) x", sel.params).fetchone()[0])
    finally:
        cur.close()


def export_frame(ws: Workspace, flt: FeedbackFilter, *, limit: int = 200_000) -> pd.DataFrame:
    """Tagged feedback as a (bounded) DataFrame for a download button; text already neutralised."""
    sel = export_sql(ws, flt)
    return ws.query_df(
        f"SELECT * FROM ({sel.sql}) x LIMIT ?", [*sel.params, int(limit)], purpose="the export frame query"
    )

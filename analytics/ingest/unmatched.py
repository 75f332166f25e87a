"""Feedback rows whose prediction_id names no prediction, and the small counting helpers the checks share."""

from __future__ import annotations

from typing import Any

import duckdb

from analytics.ingest.report import Issue
from analytics.workspace import UNMATCHED


def count(cur: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    row = cur.execute(sql, params).fetchone()
    return row[0] if row else None


def fmt_examples(values: list[Any]) -> tuple[str, ...]:
    return tuple(str(v)[:80] for v in values)


def _share(part: int, whole: int) -> str:
    """A percentage that never rounds a few rows to 0% or almost all of them to 100%."""
    ratio = part / whole
    if 0 < ratio < 0.01:
        return "<1%"
    if 0.99 < ratio < 1:
        return ">99%"
    return f"{ratio:.0%}"


def unmatched_predictions(
    cur: duckdb.DuckDBPyConnection,
    stage: str,
    keep: str,
    file_name: str,
    *,
    has_predictions: bool,
    allow: bool,
) -> tuple[int, int | None, Issue | None]:
    """(rows with a prediction_id, rows whose id is in no prediction or None, the finding) of a feedback file.

    Counted in SQL against the staged rows and the predictions table (the condition the Feedback page
    counts loaded rows with). Every id unmatched means the file most likely belongs to another workspace
    or inference log: refused unless the user confirms. Some ids unmatched is a warning, not a refusal:
    inference logs are often sampled or cover a shorter period than the feedback, and those rows still
    count in the signal rates (and join to a variant through their user); an analyst wants them loaded
    and counted, not a file to edit by hand. The Feedback page keeps reporting them once loaded.
    """
    where = f"f.prediction_id IS NOT NULL AND {keep}"
    if not has_predictions:
        with_pid = int(count(cur, f"SELECT count(*) FROM {stage} f WHERE {where}"))
        said = (
            f"The workspace has no predictions table yet, so the {with_pid:,} feedback rows of {file_name} that "
            "name a prediction_id cannot be joined to their model version and score until the inference log is loaded."
        )
        return with_pid, None, Issue("warning", "no_predictions", said, with_pid) if with_pid else None
    row = cur.execute(
        f"SELECT count(*) FILTER (WHERE {UNMATCHED}), count(*) FROM {stage} f WHERE {where}"
    ).fetchone()
    unmatched, with_pid = int(row[0]), int(row[1])
    if not unmatched:
        return with_pid, (0 if with_pid else None), None
    examples = fmt_examples(
        [
            r[0]
            for r in cur.execute(
                f"SELECT f.prediction_id FROM {stage} f WHERE {where} AND {UNMATCHED} "
                "GROUP BY f.prediction_id ORDER BY count(*) DESC, f.prediction_id LIMIT 5"
            ).fetchall()
        ]
    )
    said = (
        f"{unmatched:,} of {with_pid:,} feedback rows of {file_name} ({_share(unmatched, with_pid)}) name a "
        f"prediction_id that is not in the predictions table (e.g. {', '.join(repr(e) for e in examples[:3])})"
    )
    level = "warning"
    if unmatched < with_pid:
        fix = "they will be loaded, without a model version or score until their predictions are loaded"
    elif allow:
        fix = "they will be loaded as confirmed, without a model version or score"
    else:
        level = "error"
        fix = (
            "check that the file belongs to this workspace's inference log, or load it anyway to keep it "
            "(--allow-unmatched, or the Load anyway box)"
        )
    said = f"{said}; {fix}."
    return with_pid, unmatched, Issue(level, "unmatched_predictions", said, unmatched, examples)

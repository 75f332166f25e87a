"""The data model: the canonical tables a workspace holds and their columns (no database needed to read it)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

#: The workspace file the app and the command line open unless told otherwise.
DEFAULT_DB = Path("data/workspace.duckdb")

#: Canonical data tables and their required and optional columns (DESIGN.md, Data model).
#: Any other column of an upload is kept as an extra column (a property or a feature).
CANONICAL: dict[str, dict[str, dict[str, str]]] = {
    "events": {
        "required": {"user_id": "VARCHAR", "timestamp": "TIMESTAMP", "event": "VARCHAR"},
        "optional": {"value": "DOUBLE"},
    },
    "assignments": {
        "required": {
            "user_id": "VARCHAR",
            "experiment": "VARCHAR",
            "variant": "VARCHAR",
            "timestamp": "TIMESTAMP",
        },
        "optional": {},
    },
    "predictions": {
        "required": {"prediction_id": "VARCHAR", "user_id": "VARCHAR", "timestamp": "TIMESTAMP"},
        "optional": {
            "model_version": "VARCHAR",
            "score": "DOUBLE",
            "latency_ms": "DOUBLE",
            "cost_usd": "DOUBLE",
            "tokens_in": "BIGINT",
            "tokens_out": "BIGINT",
            "tokens_cached": "BIGINT",
        },
    },
    "feedback": {
        "required": {"feedback_id": "VARCHAR", "signal": "VARCHAR"},
        "optional": {
            "prediction_id": "VARCHAR",
            "user_id": "VARCHAR",
            "timestamp": "TIMESTAMP",
            "rating": "DOUBLE",
            "comment": "VARCHAR",
            "corrected_output": "VARCHAR",
        },
    },
    "users": {"required": {"user_id": "VARCHAR"}, "optional": {}},
    # A/B data as analysts hold it (issue 15). One row per user: every other boolean or number is an outcome,
    # every text column a segment attribute. The experiment is a column, or named at load (--experiment).
    "outcomes": {
        "required": {"user_id": "VARCHAR", "variant": "VARCHAR"},
        "optional": {"experiment": "VARCHAR", "timestamp": "TIMESTAMP"},
    },
    # One row per arm: users, then per outcome a count or a NAME_mean/NAME_sd pair (workspace.ab_schema).
    "totals": {"required": {"variant": "VARCHAR", "users": "BIGINT"}, "optional": {"experiment": "VARCHAR"}},
}
KINDS: tuple[str, ...] = tuple(CANONICAL)

#: Audit actions of reviewers (tags, reviews): they change what the Feedback page shows, never an analysis.
REVIEW_ACTIONS: tuple[str, ...] = ("review.%", "tag.%")

#: The grains a time series is summed by (cost per day or week, feedback rates per day or week).
Period = Literal["day", "week"]
PERIODS: tuple[Period, ...] = get_args(Period)

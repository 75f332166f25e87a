"""What a workspace holds: its tables (rows, dates, users), experiments and variants, and its load history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from analytics.workspace.store import Workspace, quote_ident


@dataclass(frozen=True)
class TableSummary:
    """One canonical table: rows, time span and distinct users (None where it has no such column)."""

    kind: str
    rows: int
    first: datetime | None
    last: datetime | None
    users: int | None
    columns: tuple[str, ...]
    users_exact: bool = True  # False above EXACT_USERS_MAX_ROWS rows: a hashed-sample estimate (within ±3%)


@dataclass(frozen=True)
class VariantSummary:
    name: str
    users: int


@dataclass(frozen=True)
class ExperimentSummary:
    """An experiment seen in assignments: its variants with exposed users, and its exposure period."""

    name: str
    variants: tuple[VariantSummary, ...]
    users: int
    multi_variant_users: int
    first_exposure: datetime | None
    last_exposure: datetime | None


@dataclass(frozen=True)
class Catalog:
    tables: tuple[TableSummary, ...]
    experiments: tuple[ExperimentSummary, ...]

    @property
    def empty(self) -> bool:
        return not self.tables

    def tables_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "table": t.kind,
                    "rows": t.rows,
                    "users": t.users,
                    "users counted": "exactly" if t.users_exact else "estimated (±3%)",
                    "from": t.first,
                    "to": t.last,
                    "columns": len(t.columns),
                }
                for t in self.tables
            ],
            columns=["table", "rows", "users", "users counted", "from", "to", "columns"],
        )

    def experiments_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "experiment": e.name,
                    "variant": v.name,
                    "users": v.users,
                    "first exposure": e.first_exposure,
                    "last exposure": e.last_exposure,
                }
                for e in self.experiments
                for v in e.variants
            ],
            columns=["experiment", "variant", "users", "first exposure", "last exposure"],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "tables": [
                {
                    "kind": t.kind,
                    "rows": t.rows,
                    "users": t.users,
                    "users_exact": t.users_exact,
                    "first": t.first,
                    "last": t.last,
                    "columns": list(t.columns),
                }
                for t in self.tables
            ],
            "experiments": [
                {
                    "name": e.name,
                    "users": e.users,
                    "multi_variant_users": e.multi_variant_users,
                    "first_exposure": e.first_exposure,
                    "last_exposure": e.last_exposure,
                    "variants": [{"name": v.name, "users": v.users} for v in e.variants],
                }
                for e in self.experiments
            ],
        }


EXACT_USERS_MAX_ROWS = 5_000_000  # an exact distinct count stays well under a second up to here
# Above EXACT_USERS_MAX_ROWS, users are counted exactly among the ids whose hash falls in 1 of
# USER_BUCKETS buckets, times the buckets, as the loader's report does (see analytics.ingest.checks): as fast
# as HyperLogLog here and far tighter (0.5% at 500k users, where DuckDB's approx_count_distinct was 5% off).
#: Users are estimated from the ids that hash into 1 of USER_BUCKETS buckets (here and in the loader's report).
USER_BUCKETS = 16
#: Fewer sampled users than this (under ~80k users: error above 1.4%) and users are counted exactly.
MIN_SAMPLED_USERS = 5_000


def table_summary(ws: Workspace, kind: str) -> TableSummary:
    """Rows, time span and users of one canonical table (users estimated above EXACT_USERS_MAX_ROWS)."""
    table = ws.table(kind)
    cols = ws.columns(kind)
    sel = [
        "count(*)",
        "min(timestamp)" if "timestamp" in cols else "NULL",
        "max(timestamp)" if "timestamp" in cols else "NULL",
    ]
    rows, first, last = ws.query(f"SELECT {', '.join(sel)} FROM {table}")[0]  # noqa: S608
    users, exact = None, True
    if "user_id" in cols:
        if rows > EXACT_USERS_MAX_ROWS:
            sampled = int(
                ws.scalar(
                    # The bucket count is ours, inlined: as a bound parameter DuckDB runs this 10x slower.
                    f"SELECT count(DISTINCT user_id) FROM {table} WHERE hash(user_id) % {USER_BUCKETS} = 0"  # noqa: S608
                )
            )
            if sampled >= MIN_SAMPLED_USERS:
                users, exact = sampled * USER_BUCKETS, False
        if exact:
            users = ws.scalar(f"SELECT count(DISTINCT user_id) FROM {table}")  # noqa: S608
    return TableSummary(
        kind, int(rows), first, last, None if users is None else int(users), tuple(cols), exact
    )


def experiments(ws: Workspace) -> tuple[ExperimentSummary, ...]:
    """Experiments with exposed users per variant (users seen in two variants counted apart)."""
    if "assignments" not in ws.data_tables():
        return ()
    table = quote_ident("assignments")
    # min <> max flags a user seen in two variants at half the cost of count(DISTINCT variant) per user.
    rows = ws.query(
        f"""
        WITH per_user AS (
            SELECT experiment, user_id, min(variant) AS variant, min(variant) <> max(variant) AS multi,
                   min(timestamp) AS first_seen
            FROM {table} GROUP BY experiment, user_id)
        SELECT experiment, variant, count(*) FILTER (NOT multi), count(*) FILTER (multi),
               min(first_seen), max(first_seen)
        FROM per_user GROUP BY experiment, variant ORDER BY experiment, variant
        """  # noqa: S608
    )
    out: dict[str, dict[str, Any]] = {}
    for exp, variant, users, multi, first, last in rows:
        e = out.setdefault(exp, {"variants": [], "multi": 0, "first": first, "last": last})
        e["variants"].append(VariantSummary(str(variant), int(users)))
        e["multi"] += int(multi)
        e["first"] = min(e["first"], first) if first and e["first"] else e["first"] or first
        e["last"] = max(e["last"], last) if last and e["last"] else e["last"] or last
    return tuple(
        ExperimentSummary(
            name=str(name),
            variants=tuple(v for v in e["variants"] if v.users),
            users=sum(v.users for v in e["variants"]),
            multi_variant_users=e["multi"],
            first_exposure=e["first"],
            last_exposure=e["last"],
        )
        for name, e in out.items()
    )


def catalog(ws: Workspace) -> Catalog:
    """Every canonical table's summary and the experiments found in assignments."""
    return Catalog(tuple(table_summary(ws, k) for k in ws.data_tables()), experiments(ws))


def load_history(ws: Workspace, limit: int = 500) -> pd.DataFrame:
    """The most recent loads and deletions, newest first."""
    return ws.query_df(
        "SELECT load_id, kind, file_name, mode, rows, loaded_at, loaded_by, content_hash, source "
        "FROM lb_loads ORDER BY load_id DESC LIMIT ?",
        [int(limit)],
    )


#: The condition on a feedback row (aliased ``f``) whose prediction_id names no prediction; shared with
#: the loader's check of a feedback file before it is loaded (analytics.ingest.checks).
UNMATCHED = "NOT EXISTS (SELECT 1 FROM predictions p WHERE p.prediction_id = f.prediction_id)"


def unmatched_predictions(ws: Workspace) -> tuple[int, int]:
    """(feedback rows whose prediction_id matches no prediction, feedback rows with a prediction_id)."""
    if not ws.has_table("feedback") or "prediction_id" not in ws.columns("feedback"):
        return (0, 0)
    if not ws.has_table("predictions"):
        n = int(ws.scalar("SELECT count(*) FROM feedback WHERE prediction_id IS NOT NULL"))
        return (n, n)
    row = ws.query(
        f"SELECT count(*) FILTER (WHERE {UNMATCHED}), count(*) FROM feedback f WHERE f.prediction_id IS NOT NULL"  # noqa: S608
    )[0]
    return (int(row[0]), int(row[1]))

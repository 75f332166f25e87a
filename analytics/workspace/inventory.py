"""What a workspace holds: its tables (rows, dates, users), experiments and variants, and its load history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from analytics.workspace.store import Workspace

if TYPE_CHECKING:  # pandas loads with the first DataFrame, not with every command
    import pandas as pd


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
    """An experiment: its variants with exposed users, its exposure period and the table its users come from."""

    name: str
    variants: tuple[VariantSummary, ...]
    users: int
    multi_variant_users: int
    first_exposure: datetime | None
    last_exposure: datetime | None
    source: str = "assignments"  # assignments, outcomes (one row per user) or totals (one row per arm)

    @property
    def arms(self) -> tuple[str, ...]:
        """The variants' names, by name."""
        return tuple(v.name for v in self.variants)


@dataclass(frozen=True)
class Catalog:
    tables: tuple[TableSummary, ...]
    experiments: tuple[ExperimentSummary, ...]

    @property
    def empty(self) -> bool:
        return not self.tables

    def tables_frame(self) -> pd.DataFrame:
        import pandas as pd

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
        import pandas as pd

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
    rows, first, last = ws.query(f"SELECT {', '.join(sel)} FROM {table}", purpose="the table summary query")[
        0
    ]
    users, exact = None, True
    if "user_id" in cols:
        if rows > EXACT_USERS_MAX_ROWS:
            sampled = int(
                ws.scalar(
                    # The bucket count is ours, inlined: as a bound parameter DuckDB runs this 10x slower.
                    f"SELECT count(DISTINCT user_id) FROM {table} WHERE hash(user_id) % {USER_BUCKETS} = 0",
                    purpose="the table summary query",
                )
            )
            if sampled >= MIN_SAMPLED_USERS:
                users, exact = sampled * USER_BUCKETS, False
        if exact:
            users = ws.scalar(
                f"SELECT count(DISTINCT user_id) FROM {table}", purpose="the table summary query"
            )
    return TableSummary(
        kind, int(rows), first, last, None if users is None else int(users), tuple(cols), exact
    )


def exposure_ctes(
    ws: Workspace, *, all_experiments: bool = False, param: str = "?", table: str = "assignments"
) -> str:
    """The one definition of an exposed user, as two SQL CTEs (without the leading WITH).

    ``assigned``: one row per user (per experiment and user with ``all_experiments``): the first exposure
    ``assigned_at``, the ``variant`` and ``multi``, true when the user was seen in more than one variant.
    ``exposed``: the users seen in exactly one variant (``user_id``, ``variant``, ``assigned_at``), the only
    ones any metric counts. Without ``all_experiments`` the experiment is the ``param`` placeholder. ``table``
    is where exposures are: the assignments, or an outcomes table (one row per user; its timestamp, the
    exposure, may be missing, and ``assigned_at`` is then NULL).
    """
    key = "experiment, " if all_experiments else ""
    where = "" if all_experiments else f" WHERE experiment = {param}"
    # min <> max flags a user seen in two variants at half the cost of count(DISTINCT variant) per user.
    return (
        f"assigned AS (\n  SELECT {key}user_id, min(timestamp) AS assigned_at, min(variant) AS variant,\n"
        "         min(variant) <> max(variant) AS multi\n"
        f"  FROM {ws.table(table)}{where} GROUP BY {key}user_id),\n"
        f"exposed AS (SELECT {key}user_id, variant, assigned_at FROM assigned WHERE NOT multi)"
    )


#: Where an experiment's users are, in order of precedence: exposures, per-user outcome rows, per-arm totals.
SOURCES: tuple[str, ...] = ("assignments", "outcomes", "totals")


def experiment_names(ws: Workspace) -> list[str]:
    """Every experiment's name (assignments, outcomes and totals), sorted; empty without any: cheap, for pickers."""
    names: set[str] = set()
    for table in SOURCES:
        if ws.has_table(table):
            names |= {
                str(r[0])
                for r in ws.query(
                    f"SELECT DISTINCT experiment FROM {ws.table(table)}", purpose="the list of experiments"
                )
            }
    return sorted(names)


def experiment_source(ws: Workspace, experiment: str) -> str | None:
    """The table an experiment's users come from (the first of SOURCES that names it), or None."""
    for table in SOURCES:
        if ws.has_table(table) and ws.scalar(
            f"SELECT count(*) FROM (SELECT 1 FROM {ws.table(table)} WHERE experiment = ? LIMIT 1)",
            [experiment],
            purpose="where the experiment's users are",
        ):
            return table
    return None


def list_experiments(ws: Workspace) -> tuple[ExperimentSummary, ...]:
    """Every experiment with its exposed users per variant (users seen in two variants counted apart), by name:
    from the assignments, else the outcomes table, else the totals (users as typed per arm)."""
    out: dict[str, dict[str, Any]] = {}
    for table in ("assignments", "outcomes"):
        if not ws.has_table(table):
            continue
        rows = ws.query(
            f"WITH {exposure_ctes(ws, all_experiments=True, table=table)}\n"
            "SELECT experiment, variant, count(*) FILTER (NOT multi), count(*) FILTER (multi),\n"
            "       min(assigned_at), max(assigned_at)\n"
            "FROM assigned GROUP BY experiment, variant ORDER BY experiment, variant",
            purpose="the list of experiments",
        )
        taken = set(out)  # an experiment of the assignments whose outcomes are loaded too stays one
        for exp, variant, users, multi, first, last in rows:
            if exp in taken:
                continue
            e = out.setdefault(
                exp, {"variants": [], "multi": 0, "first": first, "last": last, "source": table}
            )
            e["variants"].append(VariantSummary(str(variant), int(users)))
            e["multi"] += int(multi)
            e["first"] = min(e["first"], first) if first and e["first"] else e["first"] or first
            e["last"] = max(e["last"], last) if last and e["last"] else e["last"] or last
    if ws.has_table("totals"):
        taken = set(out)
        for exp, variant, users in ws.query(
            f"SELECT experiment, variant, users FROM {ws.table('totals')} ORDER BY 1, 2",
            purpose="the list of experiments",
        ):
            if exp not in taken:
                e = out.setdefault(
                    exp, {"variants": [], "multi": 0, "first": None, "last": None, "source": "totals"}
                )
                e["variants"].append(VariantSummary(str(variant), int(users or 0)))
    return tuple(
        ExperimentSummary(
            name=str(name),
            variants=tuple(v for v in e["variants"] if v.users),
            users=sum(v.users for v in e["variants"]),
            multi_variant_users=e["multi"],
            first_exposure=e["first"],
            last_exposure=e["last"],
            source=e["source"],
        )
        for name, e in sorted(out.items())
    )


def catalog(ws: Workspace) -> Catalog:
    """Every canonical table's summary and the experiments found in assignments."""
    return Catalog(tuple(table_summary(ws, k) for k in ws.data_tables()), list_experiments(ws))


def load_history(ws: Workspace, limit: int = 500) -> pd.DataFrame:
    """The most recent loads and deletions, newest first."""
    return ws.query_df(
        "SELECT load_id, kind, file_name, mode, rows, loaded_at, loaded_by, content_hash, source "
        "FROM lb_loads ORDER BY load_id DESC LIMIT ?",
        [int(limit)],
        purpose="the load history query",
    )


#: The condition on a feedback row (aliased ``f``) whose prediction_id names no prediction; shared with
#: the loader's check of a feedback file before it is loaded (analytics.ingest.checks).
UNMATCHED = "NOT EXISTS (SELECT 1 FROM predictions p WHERE p.prediction_id = f.prediction_id)"


def unmatched_predictions(ws: Workspace) -> tuple[int, int]:
    """(feedback rows whose prediction_id matches no prediction, feedback rows with a prediction_id)."""
    if not ws.has_table("feedback") or "prediction_id" not in ws.columns("feedback"):
        return (0, 0)
    if not ws.has_table("predictions"):
        n = int(
            ws.scalar(
                "SELECT count(*) FROM feedback WHERE prediction_id IS NOT NULL",
                purpose="the count of feedback rows that match no prediction",
            )
        )
        return (n, n)
    row = ws.query(
        f"SELECT count(*) FILTER (WHERE {UNMATCHED}), count(*) FROM feedback f WHERE f.prediction_id IS NOT NULL",
        purpose="the count of feedback rows that match no prediction",
    )[0]
    return (int(row[0]), int(row[1]))

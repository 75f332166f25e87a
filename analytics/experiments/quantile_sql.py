"""Quantile metrics in SQL: per arm, the ν-quantile of every value in the users' windows and its rank bounds.

A quantile is not a sum, so it gets its own statement (one per quantile metric) that returns a handful of numbers
per (segment, arm): the number of values n, ``quantile_cont`` at ν and at the rank-bound levels of GrowthBook's
grid of sample sizes n* (computed in one sort), and for the users (clusters) the sums of s = a user's values at or
below the arm's quantile and d = the user's values, which give the cluster-robust variance. The grid is
GrowthBook's (``N_STAR_VALUES``): SQL cannot take quantile levels that depend on the group's own n, so every
grid pair is computed and the one for the largest n* below n is used, its variance scaled by n*/n.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from analytics.errors import LiftboardError
from analytics.experiments.spec import MetricSpec
from analytics.experiments.sql import Segment, segment_join, window_filter
from analytics.stats import ClusterSums, QuantileMoments, quantile_levels
from analytics.workspace import Workspace, exposure_ctes

#: GrowthBook's grid of sample sizes at which the rank-bound levels are evaluated (back-end constants.ts).
N_STAR_GRID: tuple[int, ...] = tuple(100 * 2**k for k in range(20))


def grid_levels(nu: float) -> list[float]:
    """ν, then the lower and upper rank-bound levels for each n* of the grid."""
    levels = [nu]
    for n_star in N_STAR_GRID:
        levels.extend(quantile_levels(nu, n_star))
    return levels


def pick_bounds(n: int, values: Sequence[float]) -> tuple[int, float, float]:
    """(n*, lower, upper): the grid pair for the largest n* below n (the smallest n* when n ≤ 100), moving to a
    smaller n* while the pair is collapsed (the same value twice), as GrowthBook's back end does."""
    k = max([i for i, s in enumerate(N_STAR_GRID) if s < n] or [0])
    for j in range(k, -1, -1):
        lo, hi = values[1 + 2 * j], values[2 + 2 * j]
        if lo != hi:
            return N_STAR_GRID[j], lo, hi
    return N_STAR_GRID[k], values[1 + 2 * k], values[2 + 2 * k]


@dataclass(frozen=True)
class QuantileQuery:
    sql: str
    params: tuple[Any, ...]


def quantile_sql(
    ws: Workspace, experiment: str, spec: MetricSpec, data_end: datetime, *, segment: Segment | None = None
) -> QuantileQuery:
    """The statement for one quantile metric; rows are (segment, variant, n, quantiles, users, Σs, Σs², Σd, Σd²,
    Σsd), over users whose window has fully elapsed before ``data_end``."""
    if spec.kind != "quantile" or spec.quantile is None or spec.table is None:
        raise ValueError("quantile_sql needs a quantile spec resolved by parse_metrics")
    seg_join, seg_expr = segment_join(ws, segment)
    if spec.table == "predictions":
        table, value = ws.table("predictions"), "v." + ws.column("predictions", spec.column or "")
        event_filter, event_params = "", []
    else:
        table, value = ws.table("events"), "v." + ws.column("events", "value")
        event_filter, event_params = " AND v.event = ?", [spec.column]
    sql = (
        f"WITH {exposure_ctes(ws)},\n"
        "vals AS (\n"
        f"  SELECT x.variant, coalesce({seg_expr}, '(missing)') AS seg, x.user_id, CAST({value} AS DOUBLE) AS v\n"
        f"  FROM exposed x JOIN {table} v ON v.user_id = x.user_id AND {window_filter('v.timestamp', spec)}"
        f"{event_filter}{seg_join}\n"
        f"  WHERE {value} IS NOT NULL AND x.assigned_at + INTERVAL '{int(spec.end)}' SECOND <= CAST(? AS TIMESTAMP)),\n"
        "q AS (SELECT seg, variant, count(*) AS n, quantile_cont(v, ?::DOUBLE[]) AS qs FROM vals GROUP BY seg, variant),\n"
        "per_user AS (\n"
        "  SELECT vals.seg, vals.variant, count(*) FILTER (WHERE vals.v <= q.qs[1]) AS s, count(*) AS d\n"
        "  FROM vals JOIN q ON q.seg = vals.seg AND q.variant = vals.variant\n"
        "  GROUP BY vals.seg, vals.variant, vals.user_id)\n"
        "SELECT q.seg, q.variant, q.n, q.qs, count(*), sum(s), sum(s * s), sum(d), sum(d * d), sum(s * d)\n"
        "FROM q JOIN per_user p ON p.seg = q.seg AND p.variant = q.variant\n"
        "GROUP BY q.seg, q.variant, q.n, q.qs ORDER BY q.seg, q.variant"
    )  # names are quoted identifiers checked against the schema; values are parameters
    return QuantileQuery(sql, (experiment, *event_params, data_end, grid_levels(spec.quantile)))


def run_quantiles(
    ws: Workspace, experiment: str, spec: MetricSpec, data_end: datetime, *, segment: Segment | None = None
) -> dict[str, dict[str, QuantileMoments]]:
    """segment value → variant → the arm's QuantileMoments (arms with no values are absent)."""
    q = quantile_sql(ws, experiment, spec, data_end, segment=segment)
    out: dict[str, dict[str, QuantileMoments]] = {}
    assert spec.quantile is not None
    rows = ws.query(q.sql, list(q.params), purpose=f"the quantiles of {spec.text}")
    for seg, variant, n, qs, users, s, s2, d, d2, sd in rows:
        if not n:
            continue
        if qs is None or any(v is None for v in qs):
            raise LiftboardError(f"{spec.text}: the quantiles of arm {variant!r} could not be computed.")
        n_star, lo, hi = pick_bounds(int(n), qs)
        clusters = ClusterSums(int(users), float(s), float(s2), float(d), float(d2), float(sd))
        out.setdefault(seg, {})[variant] = QuantileMoments(
            n=int(n), nu=spec.quantile, estimate=float(qs[0]), lower=float(lo), upper=float(hi),
            n_star=n_star, clusters=clusters,
        )  # fmt: skip
    return out

"""Experiment curves: cumulative lift (by days since exposure, by calendar date) and retention by day."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from scipy import special

from analytics import stats
from analytics.errors import LiftboardError
from analytics.experiments.analysis import run_moments
from analytics.experiments.arms import experiment_config, resolve_arms
from analytics.experiments.outcomes import analysis_end, experiment_end, experiment_source, resolve_outcomes
from analytics.experiments.spec import DAY, MetricSpec, parse_metric
from analytics.experiments.spec_check import parse_metrics
from analytics.experiments.sql import Segment
from analytics.experiments.totals import needs_rows
from analytics.stats import Moments
from analytics.workspace import Workspace, exposure_ctes


@dataclass(frozen=True)
class LiftPoint:
    """The lift of one variant at one point of the curve, with its interval (absolute and relative)."""

    x: str | int  # days since exposure (int) or exposure date (ISO string)
    variant: str
    n_control: int
    n_variant: int
    abs_lift: float
    abs_lo: float
    abs_hi: float
    rel_lift: float | None
    rel_lo: float | None
    rel_hi: float | None


@dataclass(frozen=True)
class LiftCurve:
    """Cumulative lift of one metric; ``by`` is ``day`` (since exposure) or ``date`` (of exposure)."""

    spec: MetricSpec
    by: str
    control: str
    points: tuple[LiftPoint, ...]


@dataclass(frozen=True)
class RetentionPoint:
    """Share of a variant's users active on ``day`` after exposure, over users whose day has elapsed."""

    variant: str
    day: int
    users: int
    active: int
    share: float
    lo: float
    hi: float


def _point(x: str | int, base: Moments, var: Moments, names: tuple[str, str], kind: str, alpha: float,
           sequential: bool) -> LiftPoint | None:  # fmt: skip
    try:
        c = stats.compare(
            base, var, names=names, alpha=alpha, kind=kind, sequential=sequential, bayesian=False
        )
    except LiftboardError:
        return None  # too few users (or no denominator) yet at this point: the curve starts later
    rel = c.rel_ci or (None, None)
    return LiftPoint(x, names[1], base.n, var.n, c.abs_lift, *c.abs_ci, c.rel_lift, *rel)


def cumulative_lift(
    ws: Workspace,
    experiment: str,
    metric: str,
    *,
    control: str | None = None,
    by: Literal["day", "date"] = "date",
    alpha: float = 0.05,
    sequential: bool = False,
    data_through: date | None = None,
) -> LiftCurve:
    """Cumulative lift with its interval: by exposure date (all kinds) or by days since exposure.

    By date, the point at date D uses every user exposed up to D (whose window has elapsed). By day, the point at
    day d uses each user's value accumulated over days 0..d after exposure (conversion, mean and count only),
    over the users whose day d has elapsed. One SQL groups by day; the sums are cumulated here.
    """

    source = experiment_source(ws, experiment)
    if source == "totals":
        raise needs_rows("A cumulative curve", experiment)
    choice, arms = resolve_arms(ws, experiment, control, source=source)
    ctrl = choice.arm
    spec = resolve_outcomes(ws, experiment, parse_metrics(ws, [metric]))[0]
    through = data_through or experiment_config(ws, experiment).data_through
    if source == "outcomes" and experiment_end(ws, experiment, source) is None:
        raise LiftboardError(
            f"A cumulative curve follows users by their exposure time, and {experiment!r} has none (its outcomes "
            "file has no timestamp column); load it with its exposure timestamp to see the lift over time."
        )
    if spec.aggregate == "quantile":
        raise LiftboardError(
            f"A quantile is not a sum that accumulates day by day, so {spec.text} has no cumulative lift curve; "
            "read its interval in the results table."
        )
    end = analysis_end(ws, experiment, [spec], source, through)
    points: list[LiftPoint] = []
    if by == "date":
        day = Segment("exposure_day", "exposure_day")
        rows = run_moments(ws, experiment, [spec], end, segment=day, source=source)
        acc = {a: Moments(0, 0.0, 0.0) for a in arms}
        for key in sorted(rows):  # (exposure day, stratum 'all')
            day = key[0]
            for a, (_, ms) in rows[key].items():
                if a in acc:
                    acc[a] = acc[a] + ms[0]
            for v in arms[1:]:
                p = _point(day, acc[ctrl], acc[v], (ctrl, v), spec.aggregate, alpha, sequential)
                if p:
                    points.append(p)
        return LiftCurve(spec, "date", ctrl, tuple(points))
    if by != "day":
        raise LiftboardError(f"Cumulative lift is by 'day' or 'date', not {by!r}.")
    if spec.kind == "outcome":
        raise LiftboardError(
            f"An outcome is read as it is, not counted day by day after exposure, so {spec.text} has a curve by "
            "exposure date only."
        )
    if spec.kind not in ("conversion", "mean", "count"):
        raise LiftboardError(
            f"Lift by days since exposure needs a conversion, mean or count metric, not {spec.text}; "
            "view it by exposure date instead."
        )
    days = max(1, math.ceil(spec.window / DAY))
    sums, users = _daily_sums(ws, experiment, spec, end, days, source)
    for d in range(days):
        acc = {}
        for a in arms:
            n = sum(c for (v, last), c in users.items() if v == a and last >= d)
            s = ss = 0.0
            for (v, k, last), (dy, dyy) in sums.items():
                if v == a and k <= d <= last:
                    s += dy
                    ss += dyy
            acc[a] = Moments(n, s, ss)
        for v in arms[1:]:
            p = _point(d, acc[ctrl], acc[v], (ctrl, v), spec.aggregate, alpha, sequential)
            if p:
                points.append(p)
    return LiftCurve(spec, "day", ctrl, tuple(points))


def _exposed_sql(ws: Workspace, days: int, table: str = "assignments") -> str:
    """Exposed users (inventory.exposure_ctes) with the last whole day after exposure that has elapsed
    before the data end (the second parameter), capped at ``days``−1, as the CTE ``exposed_days``."""
    return (
        f"WITH {exposure_ctes(ws, table=table)},\n"
        "exposed_days AS (\n"
        "  SELECT user_id, variant, assigned_at,\n"
        f"    least({int(days) - 1}, CAST(floor((epoch(CAST(? AS TIMESTAMP)) - epoch(assigned_at)) / {DAY}) AS INTEGER)"
        " - 1) AS last_day\n"
        "  FROM exposed)"
    )


def _daily_sums(
    ws: Workspace, experiment: str, spec: MetricSpec, end: datetime, days: int, table: str = "assignments"
) -> tuple[dict[tuple[str, int, int], tuple[float, float]], dict[tuple[str, int], int]]:
    """Per (variant, day k, last elapsed day): Σ of the increments of Y and of Y² at day k.

    A user's accumulated value Y_d is a step function of d; summing its increments f(Z_k) − f(Z_k − z_k)
    (and of squares) at the days it changes gives Σ Y_d and Σ Y_d² for every d without a user × day grid.
    """
    value = "sum(e.value)" if spec.kind == "mean" else "count(*)"
    if spec.kind == "conversion":
        f_now, f_before = (
            "CASE WHEN zc > 0 THEN 1.0 ELSE 0.0 END",
            "CASE WHEN zc - z > 0 THEN 1.0 ELSE 0.0 END",
        )
    else:
        f_now, f_before = "CAST(zc AS DOUBLE)", "CAST(zc - z AS DOUBLE)"
    sql = (
        _exposed_sql(ws, days, table) + ",\n"
        "daily AS (\n"
        f"  SELECT x.user_id, x.variant, x.last_day, CAST(floor((epoch(e.timestamp) - epoch(x.assigned_at)) / {DAY})"
        f" AS INTEGER) AS k, {value} AS z\n"
        f"  FROM exposed_days x JOIN {ws.table('events')} e ON e.user_id = x.user_id AND e.event = ?\n"
        f"   AND e.timestamp >= x.assigned_at AND e.timestamp < x.assigned_at + INTERVAL '{int(days) * DAY}' SECOND\n"
        "  GROUP BY 1, 2, 3, 4),\n"
        "cum AS (SELECT *, sum(z) OVER (PARTITION BY user_id ORDER BY k) AS zc FROM daily)\n"
        f"SELECT 's', variant, k, last_day, sum({f_now} - {f_before}), sum({f_now} * {f_now} - {f_before} * {f_before})\n"
        "FROM cum WHERE k <= last_day GROUP BY variant, k, last_day\n"
        "UNION ALL\n"
        "SELECT 'n', variant, NULL, last_day, count(*), NULL FROM exposed_days WHERE last_day >= 0 GROUP BY variant, last_day"
    )
    sums: dict[tuple[str, int, int], tuple[float, float]] = {}
    users: dict[tuple[str, int], int] = {}
    for tag, variant, k, last, a, b in ws.query(
        sql, [experiment, end, spec.event], purpose="the daily sums query"
    ):
        if tag == "s":
            sums[(variant, int(k), int(last))] = (float(a or 0.0), float(b or 0.0))
        else:
            users[(variant, int(last))] = int(a)
    return sums, users


def retention_curve(
    ws: Workspace, experiment: str, *, days: int = 30, alpha: float = 0.05, data_through: date | None = None
) -> tuple[RetentionPoint, ...]:
    """Share of users active (any event) on day 0..``days`` after exposure, by variant, with a normal interval.

    Only users whose day has fully elapsed before the data ends count, in the numerator and the denominator.
    """

    source = experiment_source(ws, experiment)
    if source == "totals":
        raise needs_rows("A cumulative curve", experiment)
    if source == "outcomes" and experiment_end(ws, experiment, source) is None:
        raise LiftboardError(
            f"Retention by day counts each user's events after exposure, and {experiment!r} has no exposure times "
            "(its outcomes file has no timestamp column); its retention outcomes are in the verdict."
        )
    _, arms = resolve_arms(ws, experiment, None, source=source)
    through = data_through or experiment_config(ws, experiment).data_through
    end = analysis_end(ws, experiment, [parse_metric("retention:1d")], source, through)
    n_days = int(days) + 1
    sql = (
        _exposed_sql(ws, n_days, source) + ",\n"
        "active AS (\n"
        f"  SELECT DISTINCT x.user_id, x.variant, x.last_day, CAST(floor((epoch(e.timestamp) - epoch(x.assigned_at)) / {DAY})"
        " AS INTEGER) AS k\n"
        f"  FROM exposed_days x JOIN {ws.table('events')} e ON e.user_id = x.user_id\n"
        f"   AND e.timestamp >= x.assigned_at AND e.timestamp < x.assigned_at + INTERVAL '{n_days * DAY}' SECOND)\n"
        "SELECT 'a', variant, k, count(*) FROM active WHERE k <= last_day GROUP BY variant, k\n"
        "UNION ALL\n"
        "SELECT 'n', variant, last_day, count(*) FROM exposed_days WHERE last_day >= 0 GROUP BY variant, last_day"
    )
    act: dict[tuple[str, int], int] = {}
    elig: dict[tuple[str, int], int] = {}
    for tag, variant, k, c in ws.query(sql, [experiment, end], purpose="the retention curve query"):
        (act if tag == "a" else elig)[(variant, int(k))] = int(c)
    z = float(special.ndtri(1 - alpha / 2))
    out = []
    for a in arms:
        for d in range(n_days):
            n = sum(c for (v, last), c in elig.items() if v == a and last >= d)
            if n == 0:
                continue
            k = act.get((a, d), 0)
            p = k / n
            half = z * math.sqrt(p * (1 - p) / n)
            out.append(RetentionPoint(a, d, n, k, p, max(0.0, p - half), min(1.0, p + half)))
    return tuple(out)

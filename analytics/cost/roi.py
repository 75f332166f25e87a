"""Does the lift pay for its cost? Incremental revenue and cost per exposed user, ROI and break-even price.

Per exposed user (first exposure ``t0``, users seen in two variants left out, only users whose window has
fully elapsed before the events end): revenue = Σ value of the revenue event in [t0, t0+window), cost = Σ
prediction cost in the same window, tokens = Σ (tokens_in + tokens_out). One SQL pass returns per-arm sums
(n, Σr, Σr², Σc, Σc², Σrc, Σtokens) and cost per model version; the rest is arithmetic here, so a what-if
(model-version cost multipliers) recomputes without SQL.

Intervals are Welch t intervals on the difference of arm means (as the Experiments engine). ROI =
(ΔR − ΔC)/ΔC with a delta-method interval that includes the covariance of revenue and cost; break-even
price per 1k tokens = 1000·ΔR/ΔT (the blended token price at which the incremental cost eats the
incremental revenue). Arm sizes, means and intervals equal ``experiments.analyze`` on
``mean:EVENT:WINDOW`` and ``cost:WINDOW`` (tested); this pass adds Σrc and cost per model version, which the
ROI interval and the what-if need.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import norm

from analytics.cost.aggregates import cost_sql
from analytics.errors import LiftboardError
from analytics.stats import Moments, arm_mean_var, compare
from analytics.workspace import Workspace, experiment_names, exposure_ctes


@dataclass(frozen=True)
class ArmSums:
    """Sufficient statistics of per-user revenue r, cost c and tokens t in one arm."""

    variant: str
    n: int
    sum_r: float
    sum_r2: float
    sum_c: float
    sum_c2: float
    sum_rc: float
    sum_t: float
    cost_by_model: tuple[tuple[str, float], ...] = ()

    def scaled(self, multipliers: dict[str, float] | None) -> ArmSums:
        """The same arm with its cost under per-model-version multipliers (exact when a user uses one model)."""
        if not multipliers or not self.sum_c:
            return self
        f = sum(c * multipliers.get(m, 1.0) for m, c in self.cost_by_model) / self.sum_c
        return ArmSums(
            self.variant,
            self.n,
            self.sum_r,
            self.sum_r2,
            self.sum_c * f,
            self.sum_c2 * f * f,
            self.sum_rc * f,
            self.sum_t,
            tuple((m, c * multipliers.get(m, 1.0)) for m, c in self.cost_by_model),
        )


@dataclass(frozen=True)
class Estimate:
    value: float
    ci: tuple[float, float]


@dataclass(frozen=True)
class VariantEconomics:
    """One variant against the control, per exposed user."""

    variant: str
    baseline: str
    incremental_revenue: Estimate
    incremental_cost: Estimate
    net: Estimate
    incremental_tokens: float
    roi: Estimate | None
    break_even_price_per_1k: float | None
    break_even_multiple: float | None
    sentence: str


@dataclass(frozen=True)
class UnitEconomics:
    experiment: str
    control: str
    window_days: int
    revenue_event: str
    arms: tuple[ArmSums, ...]
    variants: tuple[VariantEconomics, ...]
    alpha: float


def _mean_var(n: int, s: float, s2: float) -> tuple[float, float]:
    return arm_mean_var(Moments(n, s, s2))


def _welch(t: tuple[int, float, float], c: tuple[int, float, float], alpha: float) -> Estimate:
    """Welch difference of arm means from (n, Σ, Σ²), by the Experiments engine's own comparison."""
    comp = compare(Moments(*c), Moments(*t), kind="mean", alpha=alpha, bayesian=False)
    return Estimate(comp.abs_lift, comp.abs_ci)


def fetch_arms(
    ws: Workspace, experiment: str, *, window_days: int = 7, revenue_event: str = "purchase"
) -> tuple[ArmSums, ...]:
    """Per-arm sums for an experiment (one pass over assignments, events and predictions)."""
    if window_days < 1:
        raise LiftboardError(f"The window is {window_days} days; use 1 day or more.")
    ws.table("assignments")  # a LiftboardError saying what to load when there is none
    ev = ws.table("events")
    if "value" not in ws.columns("events"):
        raise LiftboardError(
            "The events table has no value column; map the revenue column to value to see revenue."
        )
    known = experiment_names(ws)
    if experiment not in known:
        raise LiftboardError(
            f"There is no experiment {experiment!r}; the experiments are: {', '.join(known)}."
        )
    base, _ = cost_sql(ws)
    e_uid, e_ts = ws.column("events", "user_id"), ws.column("events", "timestamp")
    e_ev, e_val = ws.column("events", "event"), ws.column("events", "value")
    # Identifiers are schema-checked and quoted; the experiment, event and window are parameters.
    ctes = (
        f"WITH {exposure_ctes(ws, param='$exp')}, "
        "a AS (SELECT user_id, variant, assigned_at AS t0 FROM exposed), "
        f"a2 AS (SELECT * FROM a WHERE t0 + to_days($win) <= (SELECT max({e_ts}) FROM {ev})), "
        f"r AS (SELECT a2.user_id, sum(COALESCE(e.{e_val}, 0)) AS rev FROM a2 JOIN {ev} e "
        f"ON CAST(e.{e_uid} AS VARCHAR) = a2.user_id AND e.{e_ev} = $rev_event AND e.{e_ts} >= a2.t0 "
        f"AND e.{e_ts} < a2.t0 + to_days($win) GROUP BY 1), "
        f"c AS ({base}), "
        "pc AS (SELECT a2.user_id, c.model_version, sum(COALESCE(c.cost, 0)) AS cost, "
        "sum(COALESCE(c.tokens_in, 0) + COALESCE(c.tokens_out, 0)) AS tok FROM a2 JOIN c "
        "ON c.user_id = a2.user_id AND c.ts >= a2.t0 AND c.ts < a2.t0 + to_days($win) GROUP BY 1, 2) "
    )
    params = {"exp": experiment, "win": int(window_days), "rev_event": revenue_event}
    rows = ws.query(
        ctes + ", pu AS (SELECT user_id, sum(cost) AS cost, sum(tok) AS tok FROM pc GROUP BY 1), "
        "u AS (SELECT a2.variant, COALESCE(r.rev, 0) AS r, COALESCE(pu.cost, 0) AS c, COALESCE(pu.tok, 0) AS t "
        "FROM a2 LEFT JOIN r USING (user_id) LEFT JOIN pu USING (user_id)) "
        "SELECT variant, count(*), sum(r), sum(r * r), sum(c), sum(c * c), sum(r * c), sum(t) "
        "FROM u GROUP BY 1 ORDER BY 1",
        params,
        purpose="the fetch arms query",
    )
    if not rows:
        raise LiftboardError(
            f"No user of {experiment!r} has a full {window_days}-day window before the data ends; "
            "wait for more data or use a shorter window."
        )
    by_model: dict[str, list[tuple[str, float]]] = {}
    for variant, model, cost in ws.query(
        ctes + "SELECT a2.variant, pc.model_version, sum(pc.cost) FROM pc JOIN a2 USING (user_id) "
        "GROUP BY 1, 2 ORDER BY 1, 2",
        params,
        purpose="the fetch arms query",
    ):
        by_model.setdefault(variant, []).append((str(model), float(cost or 0.0)))
    return tuple(
        ArmSums(
            str(v),
            int(n),
            float(r or 0),
            float(r2 or 0),
            float(c or 0),
            float(c2 or 0),
            float(rc or 0),
            float(t or 0),
            tuple(by_model.get(v, [])),
        )
        for v, n, r, r2, c, c2, rc, t in rows
    )


def unit_economics(
    arms: tuple[ArmSums, ...],
    *,
    experiment: str,
    control: str,
    window_days: int = 7,
    revenue_event: str = "purchase",
    multipliers: dict[str, float] | None = None,
    alpha: float = 0.05,
) -> UnitEconomics:
    """Each variant against the control; ``multipliers`` (model version → cost factor) apply a what-if."""
    by_name = {a.variant: a.scaled(multipliers) for a in arms}
    if control not in by_name:
        raise LiftboardError(
            f"There is no variant {control!r}; the variants are: {', '.join(sorted(by_name))}."
        )
    c = by_name[control]
    if c.n < 2:
        raise LiftboardError(
            f"The control {control!r} has fewer than 2 users with a full window; wait for more data."
        )
    out = []
    for name, t in by_name.items():
        if name == control or t.n < 2:
            continue
        rt, vrt = _mean_var(t.n, t.sum_r, t.sum_r2)
        rc, vrc = _mean_var(c.n, c.sum_r, c.sum_r2)
        ct, vct = _mean_var(t.n, t.sum_c, t.sum_c2)
        cc, vcc = _mean_var(c.n, c.sum_c, c.sum_c2)
        dr = _welch((t.n, t.sum_r, t.sum_r2), (c.n, c.sum_r, c.sum_r2), alpha)
        dc = _welch((t.n, t.sum_c, t.sum_c2), (c.n, c.sum_c, c.sum_c2), alpha)
        # Net value per user r − c: its Σ² is Σr² − 2Σrc + Σc².
        net = _welch(
            (t.n, t.sum_r - t.sum_c, t.sum_r2 - 2 * t.sum_rc + t.sum_c2),
            (c.n, c.sum_r - c.sum_c, c.sum_r2 - 2 * c.sum_rc + c.sum_c2),
            alpha,
        )
        dt = t.sum_t / t.n - c.sum_t / c.n
        roi = None
        if dc.value > 0:
            ratio = dr.value / dc.value
            cov_t = (t.sum_rc - t.sum_r * t.sum_c / t.n) / (t.n - 1)
            cov_c = (c.sum_rc - c.sum_r * c.sum_c / c.n) / (c.n - 1)
            var_dr, var_dc = vrt / t.n + vrc / c.n, vct / t.n + vcc / c.n
            cov = cov_t / t.n + cov_c / c.n
            var = (var_dr - 2 * ratio * cov + ratio**2 * var_dc) / dc.value**2
            half = float(norm.ppf(1 - alpha / 2)) * math.sqrt(max(var, 0.0))
            roi = Estimate(ratio - 1, (ratio - 1 - half, ratio - 1 + half))
        be_price = 1000 * dr.value / dt if dt > 0 and dr.value > 0 else None
        be_mult = dr.value / dc.value if dc.value > 0 and dr.value > 0 else None
        out.append(
            VariantEconomics(
                name,
                control,
                dr,
                dc,
                net,
                dt,
                roi,
                be_price,
                be_mult,
                _sentence(name, dr, dc, net, roi, be_mult, window_days),
            )
        )
    return UnitEconomics(
        experiment, control, window_days, revenue_event, tuple(by_name.values()), tuple(out), alpha
    )


def _sentence(
    name: str, dr: Estimate, dc: Estimate, net: Estimate, roi: Estimate | None, mult: float | None, days: int
) -> str:
    per = f"per exposed user over {days} days"
    head = (
        f"{name}: ${dr.value:+.4f} revenue and ${dc.value:+.4f} cost {per}"
        + (f", ROI {roi.value:+.0%}" if roi else "")
        + "."
    )
    if net.ci[0] > 0:
        verdict = "It pays for itself: the net gain's interval is above zero"
    elif net.ci[1] < 0:
        verdict = "It does not pay: the net gain's interval is below zero"
    else:
        verdict = "Not clear yet whether it pays: the net gain's interval includes zero"
    tail = f"; token prices could rise {mult:.0f}× before the cost eats the revenue." if mult else "."
    return f"{head} {verdict} (${net.ci[0]:+.4f} to ${net.ci[1]:+.4f}){tail}"

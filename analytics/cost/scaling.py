"""The cost curve: a power law cost = a·xᵇ fitted on logs by OLS, and projections with prediction intervals.

The fit is ``log(cost) = log a + b·log(x)`` by ordinary least squares (statsmodels) over days (or whole
weeks) with x > 0 and cost > 0. The exponent b reads: its interval below 1 → economies of scale; containing 1 → roughly
linear; above 1 → costs outgrow users.

Projections back-transform the log-scale prediction interval with exp (exact for a monotone transform:
the interval for log cost maps onto the interval for cost). The point estimate ``cost`` applies Duan's
smearing correction (mean of exp(residual)) so it estimates the *mean* daily cost; ``median`` is the plain
exp(fit) without smearing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm

MIN_POINTS = 7
MULTIPLES = (2.0, 10.0, 100.0)


@dataclass(frozen=True)
class ScalingFit:
    """A power-law fit, or the reason it cannot be fitted yet (``ok`` False, numbers None)."""

    against: str
    ok: bool
    reason: str | None
    n_points: int
    excluded: int
    x: tuple[float, ...]
    y: tuple[float, ...]
    exponent: float | None = None
    exponent_ci: tuple[float, float] | None = None
    log_a: float | None = None
    r_squared: float | None = None
    resid_sd: float | None = None
    smearing: float | None = None
    alpha: float = 0.05

    @property
    def reading(self) -> str:
        """One plain sentence about the exponent."""
        if not self.ok or self.exponent_ci is None or self.exponent is None:
            return f"Cannot fit the cost curve yet: {self.reason}"
        lo, hi = self.exponent_ci
        b = f"b = {self.exponent:.2f} ({1 - self.alpha:.0%} CI {lo:.2f}–{hi:.2f})"
        if hi - lo > 1:
            return (
                f"Too uncertain to say how cost scales with {self.against} yet ({b}); "
                "more data with different volumes will narrow it."
            )
        if hi < 1:
            return f"Economies of scale: cost grows slower than {self.against} ({b})."
        if lo > 1:
            return f"Costs outgrow {self.against}: cost grows faster than {self.against} ({b})."
        return f"Roughly linear: cost grows in proportion to {self.against} ({b})."

    @property
    def kind(self) -> str:
        """'economies', 'linear', 'outgrow', 'uncertain' or 'unknown'."""
        if not self.ok or self.exponent_ci is None:
            return "unknown"
        lo, hi = self.exponent_ci
        if hi - lo > 1:
            return "uncertain"
        return "economies" if hi < 1 else "outgrow" if lo > 1 else "linear"


@dataclass(frozen=True)
class Projection:
    """Projected daily cost at ``x`` (users or predictions) with its prediction interval."""

    multiple: float
    x: float
    cost: float
    median: float
    low: float
    high: float


def fit_power_law(
    x: np.ndarray | list[float],
    y: np.ndarray | list[float],
    *,
    against: str = "users",
    alpha: float = 0.05,
    unit: str = "day",
) -> ScalingFit:
    """Fit cost = a·xᵇ on the points with x > 0 and y > 0; too few or constant x gives ``ok=False``.

    ``unit`` names a point ("day" or "week") in the reasons a fit cannot be made yet.
    """
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    keep = np.isfinite(xa) & np.isfinite(ya) & (xa > 0) & (ya > 0)
    xs, ys = xa[keep], ya[keep]
    excluded = int((~keep).sum())
    common = {
        "against": against,
        "n_points": int(keep.sum()),
        "excluded": excluded,
        "alpha": alpha,
        "x": tuple(map(float, xs)),
        "y": tuple(map(float, ys)),
    }
    if len(xs) < MIN_POINTS:
        return ScalingFit(
            ok=False,
            reason=(
                f"it needs at least {MIN_POINTS} {unit}s with {against} and cost above zero, "
                f"and has {len(xs)}; come back after {MIN_POINTS - len(xs)} more {unit}(s) of data."
            ),
            **common,
        )
    lx = np.log(xs)
    if float(np.ptp(lx)) < 1e-9 or len(np.unique(xs)) < 3:
        return ScalingFit(
            ok=False,
            reason=(
                f"the number of {against} barely varies between {unit}s ({len(np.unique(xs))} distinct "
                f"values); a slope needs {unit}s with different volumes, e.g. a ramp-up"
                f"{' or a weekly cycle' if unit == 'day' else ''}."
            ),
            **common,
        )
    res = sm.OLS(np.log(ys), sm.add_constant(lx)).fit()
    lo, hi = res.conf_int(alpha=alpha)[1]
    return ScalingFit(
        ok=True,
        reason=None,
        exponent=float(res.params[1]),
        exponent_ci=(float(lo), float(hi)),
        log_a=float(res.params[0]),
        r_squared=float(res.rsquared) if math.isfinite(res.rsquared) else None,
        resid_sd=float(math.sqrt(res.scale)),
        smearing=float(np.mean(np.exp(res.resid))),
        **common,
    )


def project(fit: ScalingFit, base: float, multiples: tuple[float, ...] = MULTIPLES) -> list[Projection]:
    """Daily cost at ``multiple × base`` with a (1 − alpha) prediction interval for one day's cost.

    Uses statsmodels ``get_prediction(...).summary_frame(alpha)`` (``obs_ci_*``: a new observation, not
    the mean) on the log scale, then exp. Empty when the fit is not ok or base is not positive.
    """
    if not fit.ok or not base or base <= 0:
        return []
    lx = np.log(np.asarray(fit.x))
    res = sm.OLS(np.log(np.asarray(fit.y)), sm.add_constant(lx)).fit()
    xs = np.array([base * m for m in multiples], dtype=float)
    frame = res.get_prediction(sm.add_constant(np.log(xs), has_constant="add")).summary_frame(alpha=fit.alpha)
    # A very wide interval at 100× can overflow exp; it is then infinite (JSON shows null), not an error.
    with np.errstate(over="ignore"):
        frame = np.exp(frame)
    smear = fit.smearing or 1.0
    out = []
    for m, x_new, (_, row) in zip(multiples, xs, frame.iterrows(), strict=True):
        med = float(row["mean"])
        out.append(
            Projection(
                multiple=float(m),
                x=float(x_new),
                cost=med * smear,
                median=med,
                low=float(row["obs_ci_lower"]),
                high=float(row["obs_ci_upper"]),
            )
        )
    return out


def curve(fit: ScalingFit, xs: np.ndarray, *, band: bool = True) -> dict[str, np.ndarray]:
    """The fitted median curve (and its observation band) at ``xs`` for a chart."""
    if not fit.ok:
        return {}
    lx = np.log(np.asarray(fit.x))
    res = sm.OLS(np.log(np.asarray(fit.y)), sm.add_constant(lx)).fit()
    frame = res.get_prediction(sm.add_constant(np.log(xs), has_constant="add")).summary_frame(alpha=fit.alpha)
    out = {"x": xs, "fit": np.exp(frame["mean"].to_numpy())}
    if band:
        out["low"] = np.exp(frame["obs_ci_lower"].to_numpy())
        out["high"] = np.exp(frame["obs_ci_upper"].to_numpy())
    return out

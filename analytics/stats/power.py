"""Power analysis for two-arm tests: sample size per arm for a relative MDE, and the MDE at a given n."""

from __future__ import annotations

import math

from scipy import optimize
from scipy.stats import norm

from analytics.errors import LiftboardError


def _check(alpha: float, power: float, baseline_var: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise LiftboardError(f"The significance level α must be between 0 and 1 (got {alpha}).")
    if not alpha < power < 1.0:
        raise LiftboardError(f"The power must be between α and 1, e.g. 0.8 (got {power}).")
    if not math.isfinite(baseline_var) or baseline_var <= 0.0:
        raise LiftboardError(
            "The metric has no variation in the baseline (variance 0), so no sample size can be computed; "
            "choose a metric whose value differs between users."
        )


def power_at(effect_abs: float, baseline_var: float, n_per_arm: float, *, alpha: float = 0.05) -> float:
    """Power of the two-sided z test of a difference of means, equal n and equal variance in both arms.

    Both rejection tails are counted, as statsmodels ``NormalIndPower`` does.
    """
    se = math.sqrt(2.0 * baseline_var / n_per_arm)
    z = norm.ppf(1.0 - alpha / 2.0)
    shift = abs(effect_abs) / se
    return float(norm.sf(z - shift) + norm.cdf(-z - shift))


def sample_size_per_arm(
    baseline_mean: float,
    baseline_var: float,
    mde_rel: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
) -> int:
    """Users needed in each arm to detect a relative lift of ``mde_rel`` with the given power.

    Args:
        baseline_mean: control mean of the per-user metric (a proportion for conversion metrics).
        baseline_var: per-user variance in the control arm (p(1−p) for a proportion).
        mde_rel: the minimum detectable effect relative to the baseline mean, e.g. 0.05 for +5%.

    Returns:
        The smallest whole number of users per arm whose two-sided test at ``alpha`` has at least ``power``.
    """
    _check(alpha, power, baseline_var)
    if baseline_mean == 0.0 or not math.isfinite(baseline_mean):
        raise LiftboardError("A relative effect needs a non-zero baseline mean; this metric's baseline is 0.")
    if not mde_rel > 0.0:
        raise LiftboardError(
            f"The minimum detectable effect must be a positive share, e.g. 0.05 (got {mde_rel})."
        )
    delta = mde_rel * abs(baseline_mean)
    z_total = norm.ppf(1.0 - alpha / 2.0) + norm.ppf(power)
    # The one-tail closed form overshoots slightly (it ignores the far tail), so the exact answer lies below it.
    upper = 2.0 * baseline_var * z_total**2 / delta**2 * 1.01  # margin against rounding at the bracket
    lower = upper * 0.5
    exact = optimize.brentq(lambda n: power_at(delta, baseline_var, n, alpha=alpha) - power, lower, upper)
    return max(2, math.ceil(exact - 1e-9))


def mde(
    baseline_mean: float,
    baseline_var: float,
    n_per_arm: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
) -> float:
    """Relative minimum detectable effect with ``n_per_arm`` users per arm (the inverse of the sample size).

    Returns:
        The relative lift (e.g. 0.031 for 3.1%) that a two-sided test at ``alpha`` detects with ``power``.
    """
    _check(alpha, power, baseline_var)
    if baseline_mean == 0.0 or not math.isfinite(baseline_mean):
        raise LiftboardError("A relative effect needs a non-zero baseline mean; this metric's baseline is 0.")
    if not n_per_arm >= 2:
        raise LiftboardError(
            f"At least 2 users per arm are needed to compute a detectable effect (got {n_per_arm}); "
            "wait for more data."
        )
    se = math.sqrt(2.0 * baseline_var / n_per_arm)
    upper = (norm.ppf(1.0 - alpha / 2.0) + norm.ppf(power)) * se * 1.01  # the closed form, plus a margin
    delta = optimize.brentq(
        lambda d: power_at(d, baseline_var, n_per_arm, alpha=alpha) - power, 0.5 * upper, upper
    )
    return float(delta / abs(baseline_mean))

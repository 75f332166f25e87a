"""Power analysis for two-arm tests: sample size per arm for a relative MDE, and the MDE at a given n.

The power function is statsmodels' ``NormalIndPower`` (a two-sided z test counting both rejection tails);
Liftboard supplies the effect size: the lift over the standard deviation of one user pair's contribution, from
the control alone or from both arms once the variant is observed (GrowthBook's planning). The inversions search
its root to 1e-12 with brentq: statsmodels' own ``solve_power`` stops about 5e-5 away, enough to move a rounded
sample size by one user.
"""

from __future__ import annotations

import math
from typing import Any

from analytics.errors import LiftboardError


def _z_power() -> Any:
    # statsmodels loads here, not with every command that imports the statistics (about a second on two cores).
    from statsmodels.stats.power import NormalIndPower

    return NormalIndPower()


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
    effect_size = abs(effect_abs) / math.sqrt(baseline_var)  # Cohen's d: the difference in units of σ
    return float(_z_power().power(effect_size, n_per_arm, alpha, ratio=1.0, alternative="two-sided"))


def lift_variance(
    baseline_mean: float,
    baseline_var: float,
    variant_mean: float | None = None,
    variant_var: float | None = None,
) -> float:
    """Per-user-pair variance of the relative lift, V: its variance with n users per arm is V/n.

    With both arms observed it is the delta-method variance σ²_T/μ_C² + σ²_C·μ_T²/μ_C⁴ that the relative test uses
    (GrowthBook plans from it); with only the control known, both arms are assumed alike: 2σ²_C/μ_C².
    """
    if baseline_mean == 0.0 or not math.isfinite(baseline_mean):
        raise LiftboardError("A relative effect needs a non-zero baseline mean; this metric's baseline is 0.")
    if (variant_mean is None) != (variant_var is None):
        raise LiftboardError("Give both the variant's mean and its variance, or neither.")
    if variant_mean is None or variant_var is None:
        return 2.0 * baseline_var / baseline_mean**2
    if not math.isfinite(variant_var) or variant_var < 0.0:
        raise LiftboardError(f"The variant's per-user variance must be a number ≥ 0 (got {variant_var}).")
    v = variant_var / baseline_mean**2 + baseline_var * variant_mean**2 / baseline_mean**4
    if not v > 0.0:
        raise LiftboardError(
            "The lift has no variance here (the variant's values are all 0), so no sample size can be computed "
            "from both arms; plan from the control's variance instead."
        )
    return v


def _effect_size(mde_rel: float, v: float) -> float:
    """The relative lift as NormalIndPower's standardised effect: with n per arm its z is d·√(n/2) = lift/√(V/n)."""
    return abs(mde_rel) / math.sqrt(v / 2.0)


def _power_rel(mde_rel: float, v: float, n: float, alpha: float) -> float:
    return float(_z_power().power(_effect_size(mde_rel, v), n, alpha, ratio=1.0, alternative="two-sided"))


def _root(f: Any, lower: float, upper: float) -> float:
    from scipy import optimize  # only when a plan is asked for

    return float(optimize.brentq(f, lower, upper, xtol=1e-12))


def _z_sum(alpha: float, power: float) -> float:
    """z_(1-α/2) + z_power: the one-tail closed form's factor, which brackets the exact root."""
    from scipy import special

    return float(special.ndtri(1.0 - alpha / 2.0) + special.ndtri(power))


def sample_size_per_arm(
    baseline_mean: float,
    baseline_var: float,
    mde_rel: float,
    *,
    variant_mean: float | None = None,
    variant_var: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
) -> int:
    """Users needed in each arm to detect a relative lift of ``mde_rel`` with the given power.

    Args:
        baseline_mean: control mean of the per-user metric (a proportion for conversion metrics).
        baseline_var: per-user variance in the control arm (p(1−p) for a proportion).
        mde_rel: the minimum detectable effect relative to the baseline mean, e.g. 0.05 for +5%.
        variant_mean, variant_var: the variant arm's, once observed: the plan then uses the variance of the
            lift from both arms, as GrowthBook's mid-experiment power does (see :func:`lift_variance`).

    Returns:
        The smallest whole number of users per arm whose two-sided test at ``alpha`` has at least ``power``.
    """
    _check(alpha, power, baseline_var)
    v = lift_variance(baseline_mean, baseline_var, variant_mean, variant_var)
    if not mde_rel > 0.0:
        raise LiftboardError(
            f"The minimum detectable effect must be a positive share, e.g. 0.05 (got {mde_rel})."
        )
    # The one-tail closed form overshoots slightly (it ignores the far tail), so the exact answer lies below it.
    upper = v * _z_sum(alpha, power) ** 2 / mde_rel**2 * 1.01  # margin against rounding at the bracket
    exact = _root(lambda n: _power_rel(mde_rel, v, n, alpha) - power, 0.5 * upper, upper)
    return max(2, math.ceil(exact - 1e-9))


def mde(
    baseline_mean: float,
    baseline_var: float,
    n_per_arm: float,
    *,
    variant_mean: float | None = None,
    variant_var: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
) -> float:
    """Relative minimum detectable effect with ``n_per_arm`` users per arm (the inverse of the sample size).

    ``variant_mean``/``variant_var`` as for :func:`sample_size_per_arm`.

    Returns:
        The relative lift (e.g. 0.031 for 3.1%) that a two-sided test at ``alpha`` detects with ``power``.
    """
    _check(alpha, power, baseline_var)
    v = lift_variance(baseline_mean, baseline_var, variant_mean, variant_var)
    if not n_per_arm >= 2:
        raise LiftboardError(
            f"At least 2 users per arm are needed to compute a detectable effect (got {n_per_arm}); "
            "wait for more data."
        )
    upper = _z_sum(alpha, power) * math.sqrt(v / n_per_arm) * 1.01  # the closed form, plus a margin
    return _root(lambda d: _power_rel(d, v, n_per_arm, alpha) - power, 0.5 * upper, upper)

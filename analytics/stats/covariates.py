"""CUPED as GrowthBook's regression adjustment: one θ per comparison, pooled over both arms' users.

y is the metric after exposure, x the same metric over the pre-exposure window. θ = Cov(y, x)/Var(x) over all users
of the two arms together (gbstats ``compute_theta``); each arm's adjusted mean is ȳ − θx̄ and its per-user variance
s²_y + θ²s²_x − 2θ·s_xy. The absolute lift is the difference of adjusted means; the relative lift divides it by the
*unadjusted* control mean, with gbstats' delta-method variance for that ratio. For 0/1 metrics (conversion) the
variances are p(1−p) and the covariance Σxy/n − x̄ȳ, as gbstats' ProportionStatistic, when the covariate is 0/1 too;
with a count covariate (events before exposure) all three are sample (co)variances, as for gbstats' count metrics.
"""

from __future__ import annotations

from dataclasses import dataclass

from analytics.stats.moments import Moments, covariance, variance


@dataclass(frozen=True)
class AdjustedArm:
    """One arm under regression adjustment: unadjusted mean, adjusted mean and adjusted per-user variance."""

    n: int
    mean: float  # ȳ, unadjusted (what the page shows)
    adjusted_mean: float  # ȳ − θx̄
    variance: float  # s²_y + θ²s²_x − 2θ·s_xy
    var_y: float
    var_x: float
    cov_xy: float


def binary_covariate(*arms: Moments) -> bool:
    """Whether x is 0/1 in every arm (Σx = Σx² for counts), so a 0/1 metric pairs with a 0/1 covariate and takes
    GrowthBook's proportion formulas; a count covariate (pre-exposure events) takes the sample ones."""
    return all(
        abs(m.sum_x - m.sum_x_sq) <= 1e-9 * max(1.0, abs(m.sum_x)) and 0 <= m.sum_x <= m.n for m in arms
    )


def theta(a: Moments, b: Moments, *, proportion: bool = False) -> float:
    """θ over the users of both arms (0 when x or y does not vary, which reverts to the unadjusted test)."""
    joint = a + b
    var_x = variance(joint.n, joint.sum_x, joint.sum_x_sq, proportion=proportion)
    var_y = variance(joint.n, joint.sum, joint.sum_sq, proportion=proportion)
    if var_x <= 0.0 or var_y <= 0.0:
        return 0.0
    return covariance(joint.n, joint.sum, joint.sum_x, joint.sum_xy, proportion=proportion) / var_x


def adjust_arm(m: Moments, th: float, *, proportion: bool = False) -> AdjustedArm:
    """One arm's adjusted mean and variance for a given θ."""
    var_y = variance(m.n, m.sum, m.sum_sq, proportion=proportion)
    var_x = variance(m.n, m.sum_x, m.sum_x_sq, proportion=proportion)
    cov = covariance(m.n, m.sum, m.sum_x, m.sum_xy, proportion=proportion)
    mean_y, mean_x = m.sum / m.n, m.sum_x / m.n
    return AdjustedArm(
        m.n, mean_y, mean_y - th * mean_x, var_y + th * th * var_x - 2.0 * th * cov, var_y, var_x, cov
    )


def relative_variance(control: AdjustedArm, variant: AdjustedArm, th: float) -> float:
    """Variance of (adjusted difference)/|unadjusted control mean| (gbstats frequentist_variance_relative_cuped)."""
    mc = control.mean
    v_variant = variant.variance / (variant.n * mc * mc)
    const = -variant.mean
    num = control.var_y * const**2 / mc**2 + 2.0 * th * control.cov_xy * const / mc + th * th * control.var_x
    return v_variant + num / (control.n * mc * mc)

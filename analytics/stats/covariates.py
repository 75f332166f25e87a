"""CUPED: variance reduction by the pre-exposure value of the same metric, one θ pooled over arms."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from analytics.errors import LiftboardError
from analytics.stats.moments import Moments, check_arm


def cuped(arms: Mapping[str, Moments]) -> tuple[dict[str, Moments], float, float]:
    """CUPED: adjust y by the pre-period covariate x, y' = y − θ(x − x̄), with one θ for all arms.

    θ = Cov(Y, X)/Var(X) from the within-arm covariances pooled over arms (so a treatment effect on y does not
    leak into θ); x̄ is the grand mean of x, so the adjustment keeps the overall mean of y.

    Returns:
        (adjusted arms as Moments with ``adjusted=True``, θ, variance reduction 1 − Var(y')/Var(y) pooled within
        arms, which equals the squared pooled correlation ρ²). If x does not vary, θ = 0 and the reduction is 0.
    """
    if not arms:
        raise LiftboardError("CUPED needs at least one arm with data.")
    for name, m in arms.items():
        check_arm(name, m)
        if m.adjusted:
            raise LiftboardError(f"Arm '{name}' is already CUPED-adjusted.")
    sxx = sum(m.sum_x_sq - m.sum_x**2 / m.n for m in arms.values())
    sxy = sum(m.sum_xy - m.sum * m.sum_x / m.n for m in arms.values())
    syy = sum(m.sum_sq - m.sum**2 / m.n for m in arms.values())
    total_n = sum(m.n for m in arms.values())
    x_bar = sum(m.sum_x for m in arms.values()) / total_n
    # Relative tolerance: Σx² − (Σx)²/n of a constant x is rounding noise, not variation.
    scale = max(sum(m.sum_x_sq for m in arms.values()), 1e-300)
    theta = sxy / sxx if sxx > 1e-12 * scale else 0.0
    adjusted: dict[str, Moments] = {}
    for name, m in arms.items():
        sum_c = m.sum_x - m.n * x_bar  # Σ(x − x̄)
        sum_c_sq = m.sum_x_sq - 2.0 * x_bar * m.sum_x + m.n * x_bar**2  # Σ(x − x̄)²
        sum_y_c = m.sum_xy - x_bar * m.sum  # Σ y(x − x̄)
        adjusted[name] = replace(
            m,
            sum=m.sum - theta * sum_c,
            sum_sq=m.sum_sq - 2.0 * theta * sum_y_c + theta**2 * sum_c_sq,
            adjusted=True,
        )
    reduction = 0.0
    if syy > 0.0:
        syy_adj = syy - 2.0 * theta * sxy + theta**2 * sxx
        reduction = min(max(1.0 - syy_adj / syy, 0.0), 1.0)
    return adjusted, float(theta), float(reduction)

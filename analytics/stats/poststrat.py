"""Post-stratification (GrowthBook's estimator): the lift estimated within strata of a pre-exposure attribute.

Within each stratum k the control mean and the effect are estimated (for CUPED by a regression of y on the arm and
the pre-exposure x within the stratum); the strata are then weighted by their shares ν̂_k of all users. The variance
adds the strata's own variances and the multinomial variance of ν̂ (gbstats ``PostStratificationSummary``). Strata
too small to estimate a variance (no users, or no variation, in one arm) are merged into the largest stratum, as
gbstats does. Ratio metrics carry numerator and denominator through the same steps (gbstats' Algorithm 3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analytics.stats.moments import Moments, covariance, variance


@dataclass(frozen=True)
class StratifiedEffect:
    """The post-stratified lift: absolute and relative estimates with their standard errors."""

    abs_lift: float
    se: float
    rel_lift: float | None  # None when the weighted control mean is 0
    rel_se: float | None
    strata: int  # strata kept after merging the ones too small to stand alone


def _viable(a: Moments, b: Moments, *, ratio: bool, proportion: bool) -> bool:
    if a.n < 2 or b.n < 2:
        return False
    if ratio:
        return _ratio_var(a) > 0 and _ratio_var(b) > 0
    return (
        variance(a.n, a.sum, a.sum_sq, proportion=proportion) > 0
        and variance(b.n, b.sum, b.sum_sq, proportion=proportion) > 0
    )


def _ratio_var(m: Moments) -> float:
    if m.sum_x == 0:
        return 0.0
    mm, md = m.sum / m.n, m.sum_x / m.n
    vm, vd = variance(m.n, m.sum, m.sum_sq), variance(m.n, m.sum_x, m.sum_x_sq)
    cov = covariance(m.n, m.sum, m.sum_x, m.sum_xy)
    return vm / md**2 + vd * mm**2 / md**4 - 2 * cov * mm / md**3


def merge_small(
    cells: Sequence[tuple[Moments, Moments]], *, ratio: bool = False, proportion: bool = False
) -> list[tuple[Moments, Moments]]:
    """Strata sorted largest first; a stratum that cannot stand alone joins the largest (gbstats' rule)."""
    ordered = sorted(cells, key=lambda c: c[0].n + c[1].n, reverse=True)
    kept = [ordered[0]]
    for a, b in ordered[1:]:
        if _viable(a, b, ratio=ratio, proportion=proportion):
            kept.append((a, b))
        else:
            kept[0] = (kept[0][0] + a, kept[0][1] + b)
    if not _viable(*kept[0], ratio=ratio, proportion=proportion):
        # Even the largest stratum cannot stand alone: there is nothing to stratify, so analyse all together.
        return [(sum((a for a, _ in kept), Moments(0, 0, 0)), sum((b for _, b in kept), Moments(0, 0, 0)))]
    return kept


def _count_cell(a: Moments, b: Moments, *, proportion: bool) -> tuple[int, np.ndarray, np.ndarray]:
    """(n, [control mean, effect], n × their covariance) of one stratum without adjustment (Algorithm 1)."""
    n = a.n + b.n
    va = variance(a.n, a.sum, a.sum_sq, proportion=proportion) * n / a.n
    vb = variance(b.n, b.sum, b.sum_sq, proportion=proportion) * n / b.n
    mean = np.array([a.sum / a.n, b.sum / b.n - a.sum / a.n])
    return n, mean, np.array([[va, -va], [-va, va + vb]])


def _cuped_cell(a: Moments, b: Moments) -> tuple[int, np.ndarray, np.ndarray]:
    """One stratum by regression y ~ 1 + arm + x over its users (gbstats CreateStrataResultRegressionAdjusted)."""
    n = a.n + b.n
    if variance(a.n, a.sum_x, a.sum_x_sq) <= 0 or variance(b.n, b.sum_x, b.sum_x_sq) <= 0:
        return _count_cell(a, b, proportion=False)
    xtx = np.array(
        [
            [n, b.n, a.sum_x + b.sum_x],
            [b.n, b.n, b.sum_x],
            [a.sum_x + b.sum_x, b.sum_x, a.sum_x_sq + b.sum_x_sq],
        ]
    )
    xty = np.array([a.sum + b.sum, b.sum, a.sum_xy + b.sum_xy])
    xtx_inv = np.linalg.inv(xtx)
    gamma = xtx_inv @ xty
    sigma2 = (a.sum_sq + b.sum_sq - xty @ xtx_inv @ xty) / (n - 3)
    coef_cov = sigma2 * xtx_inv
    x_all = Moments(n, a.sum_x + b.sum_x, a.sum_x_sq + b.sum_x_sq)
    x_bar, x_var = x_all.sum / n, variance(n, x_all.sum, x_all.sum_sq)
    contrast = np.array([[1.0, 0.0, x_bar], [0.0, 1.0, 0.0]])
    mean = contrast @ gamma
    # n × Cov of (control mean, effect): the coefficients' covariance through the contrasts, plus the variance of
    # x̄ in the control mean γ0 + γ2·x̄ (E[γ2²]·Var(x̄), the two-factor product's variance).
    cov = n * (contrast @ coef_cov @ contrast.T)
    cov[0, 0] += (coef_cov[2, 2] + gamma[2] ** 2) * x_var
    return n, mean, cov


def _ratio_cell(a: Moments, b: Moments) -> tuple[int, np.ndarray, np.ndarray]:
    """One stratum of a ratio metric: [num. control mean, num. effect, den. control mean, den. effect] (Alg. 1)."""
    n = a.n + b.n

    def lam(m: Moments) -> np.ndarray:
        cov = covariance(m.n, m.sum, m.sum_x, m.sum_xy)
        return np.array([[variance(m.n, m.sum, m.sum_sq), cov], [cov, variance(m.n, m.sum_x, m.sum_x_sq)]])

    coef_cov = np.zeros((4, 4))
    coef_cov[:2, :2] = lam(b) * n / b.n
    coef_cov[2:, 2:] = lam(a) * n / a.n
    coefs = np.array([b.sum / b.n, b.sum_x / b.n, a.sum / a.n, a.sum_x / a.n])
    contrast = np.array([[0, 0, 1, 0], [1, 0, -1, 0], [0, 0, 0, 1], [0, 1, 0, -1]], dtype=float)
    return n, contrast @ coefs, contrast @ coef_cov @ contrast.T


def post_stratify(
    cells: Sequence[tuple[Moments, Moments]],
    *,
    ratio: bool = False,
    proportion: bool = False,
    cuped: bool = False,
) -> StratifiedEffect:
    """The post-stratified lift of the variant over the control from per-stratum (control, variant) Moments."""
    kept = merge_small(cells, ratio=ratio, proportion=proportion)
    if cuped and not ratio:
        kept = _fall_back_without_x(kept)
    if ratio:
        parts = [_ratio_cell(a, b) for a, b in kept]
    elif cuped:
        parts = [_cuped_cell(a, b) for a, b in kept]
    else:
        parts = [_count_cell(a, b, proportion=proportion) for a, b in kept]
    ns = np.array([p[0] for p in parts], dtype=float)
    total = ns.sum()
    nu = ns / total
    alpha = np.column_stack([p[1] for p in parts])  # len_alpha × strata
    nu_cov = (np.diag(nu) - np.outer(nu, nu)) / total
    cov = alpha @ nu_cov @ alpha.T + sum(nu[k] * parts[k][2] for k in range(len(parts))) / total
    mean = alpha @ nu
    if ratio:
        return _ratio_summary(mean, cov, len(kept))
    grad_abs = np.array([0.0, 1.0])
    se = float(np.sqrt(grad_abs @ cov @ grad_abs))
    if mean[0] == 0:
        return StratifiedEffect(float(mean[1]), se, None, None, len(kept))
    grad_rel = np.array([-mean[1] / mean[0] ** 2, 1.0 / mean[0]])
    rel_se = float(np.sqrt(max(grad_rel @ cov @ grad_rel, 0.0)))
    return StratifiedEffect(float(mean[1]), se, float(mean[1] / abs(mean[0])), rel_se, len(kept))


def _fall_back_without_x(cells: list[tuple[Moments, Moments]]) -> list[tuple[Moments, Moments]]:
    """gbstats drops the adjustment everywhere when x does not vary in an arm overall (θ would be undefined)."""
    a = sum((c[0] for c in cells), Moments(0, 0, 0))
    b = sum((c[1] for c in cells), Moments(0, 0, 0))
    if variance(a.n, a.sum_x, a.sum_x_sq) > 0 and variance(b.n, b.sum_x, b.sum_x_sq) > 0:
        return cells
    return [(Moments(x.n, x.sum, x.sum_sq), Moments(y.n, y.sum, y.sum_sq)) for x, y in cells]


def _ratio_summary(mean: np.ndarray, cov: np.ndarray, strata: int) -> StratifiedEffect:
    m0, m1, m2, m3 = (float(v) for v in mean)
    abs_lift = (m0 + m1) / (m2 + m3) - m0 / m2
    g_abs = np.empty(4)
    g_abs[1] = 1 / (m2 + m3)
    g_abs[0] = g_abs[1] - 1 / m2
    g_abs[3] = -(m0 + m1) / (m2 + m3) ** 2
    g_abs[2] = g_abs[3] + m0 / m2**2
    se = float(np.sqrt(g_abs @ cov @ g_abs))
    if m0 == 0:
        return StratifiedEffect(abs_lift, se, None, None, strata)
    num, den = m2 * (m0 + m1), m0 * (m2 + m3)
    g = np.array(
        [
            (m2 * den - (m2 + m3) * num) / den**2,
            m2 / den,
            ((m0 + m1) * den - m0 * num) / den**2,
            -num / (m0 * (m2 + m3) ** 2),
        ]
    )
    rel = (num / den - 1) * np.sign(m0 / m2)
    return StratifiedEffect(abs_lift, se, float(rel), float(np.sqrt(g @ cov @ g)), strata)

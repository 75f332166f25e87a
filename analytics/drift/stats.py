"""Drift statistics computed from binned counts: PSI, binned KS, binned Wasserstein, χ² and Jensen–Shannon."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import special, stats
from scipy.spatial.distance import jensenshannon

#: Share given to a bin that is empty on one side before PSI takes logarithms, so that a category or range
#: never seen on one side gives a large but finite contribution instead of infinity. Shares are floored
#: rather than smoothed with pseudo-counts so that two identical distributions give exactly 0 whatever
#: their sizes.
PSI_EPSILON = 1e-4
KS_EXACT_N = 20_000

#: Reference quantiles that make the shared fine grid for KS and Wasserstein: every percentile, plus
#: extra points in both tails, where heavy-tailed features (latency, cost) put most of their distance.
FINE_PROBS: tuple[float, ...] = tuple(
    sorted(
        {k / 100 for k in range(1, 100)}
        | {0.0001, 0.0005, 0.001, 0.002, 0.005}
        | {0.995, 0.998, 0.999, 0.9995, 0.9999}
    )
)


def psi(reference: Sequence[float], current: Sequence[float], *, epsilon: float = PSI_EPSILON) -> float:
    """Population stability index Σ (c − r)·ln(c / r) over the bins of two count vectors.

    Shares of empty bins are floored at ``epsilon``. Two empty sides, or a single bin, give 0 (nothing to
    compare), never NaN.
    """
    r = np.asarray(reference, dtype=float)
    c = np.asarray(current, dtype=float)
    if r.size < 2 or r.sum() <= 0 or c.sum() <= 0:
        return 0.0
    rs = np.maximum(r / r.sum(), epsilon)
    cs = np.maximum(c / c.sum(), epsilon)
    return float(np.sum((cs - rs) * np.log(cs / rs)))


def ks_binned(reference: Sequence[float], current: Sequence[float]) -> tuple[float, float]:
    """Two-sample Kolmogorov–Smirnov statistic and asymptotic p-value from counts on shared bins.

    The empirical CDFs are compared only at the bin edges, so the statistic is a lower bound of the exact
    one; with fine bins (percentiles of the reference) it differs from ``scipy.stats.ks_2samp`` by at most
    the mass of one fine bin. The p-value is the asymptotic two-sided one ks_2samp uses (``method="asymp"``),
    and for effective sizes above ``KS_EXACT_N`` the limiting Kolmogorov distribution.
    """
    r = np.asarray(reference, dtype=float)
    c = np.asarray(current, dtype=float)
    n, m = r.sum(), c.sum()
    if n <= 0 or m <= 0:
        return 0.0, 1.0
    d = float(np.max(np.abs(np.cumsum(r) / n - np.cumsum(c) / m)))
    en = round(n * m / (n + m))
    if en <= KS_EXACT_N:
        p = float(stats.kstwo.sf(d, max(en, 1)))
    else:  # the limiting Kolmogorov distribution: equal to kstwo to ~1e-3 here, and 100× faster
        p = float(special.kolmogorov(math.sqrt(en) * d))
    return d, min(max(p, 0.0), 1.0)


def _quantile_segments(
    lows: np.ndarray, highs: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Linear pieces (u0, u1, x0, x1) of the quantile function when mass is uniform inside each bin."""
    keep = counts > 0
    cum = np.cumsum(counts) / counts.sum()
    u1 = cum[keep]
    u0 = (cum - counts / counts.sum())[keep]
    return u0, u1, lows[keep], highs[keep]


def wasserstein_binned(
    edges: Sequence[float],
    reference: Sequence[float],
    current: Sequence[float],
    ref_range: tuple[float, float],
    cur_range: tuple[float, float],
) -> float:
    """Wasserstein-1 distance between two distributions known by counts on shared bins.

    Bins are ``(-inf, e0], (e0, e1], …, (e_k, inf)`` (``len(edges) + 1`` counts). Mass is taken as uniform
    within a bin, clipped to each side's own [min, max], so open end bins stay finite. W1 is then
    ∫₀¹ |F⁻¹(u) − G⁻¹(u)| du, integrated exactly over the piecewise-linear quantile functions.
    """
    e = np.asarray(edges, dtype=float)
    r = np.asarray(reference, dtype=float)
    c = np.asarray(current, dtype=float)
    if r.sum() <= 0 or c.sum() <= 0:
        return 0.0
    lo_edges = np.concatenate([[-np.inf], e])
    hi_edges = np.concatenate([e, [np.inf]])

    def pieces(counts: np.ndarray, rng: tuple[float, float]) -> tuple[np.ndarray, ...]:
        lo = np.clip(lo_edges, rng[0], rng[1])
        hi = np.clip(hi_edges, rng[0], rng[1])
        return _quantile_segments(lo, np.maximum(hi, lo), counts)

    ru0, ru1, rx0, rx1 = pieces(r, ref_range)
    cu0, cu1, cx0, cx1 = pieces(c, cur_range)
    grid = np.unique(np.concatenate([[0.0, 1.0], ru1, cu1]))
    a, b = grid[:-1], grid[1:]
    mid = (a + b) / 2

    def at(u0: np.ndarray, u1: np.ndarray, x0: np.ndarray, x1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # The piece holding each grid interval, evaluated at both ends of the interval.
        i = np.clip(np.searchsorted(u1, mid), 0, len(u1) - 1)
        width = np.where(u1[i] > u0[i], u1[i] - u0[i], 1.0)
        slope = (x1[i] - x0[i]) / width
        return x0[i] + slope * (a - u0[i]), x0[i] + slope * (b - u0[i])

    fa, fb = at(ru0, ru1, rx0, rx1)
    ga, gb = at(cu0, cu1, cx0, cx1)
    d0, d1 = fa - ga, fb - gb
    w = b - a
    same = d0 * d1 >= 0
    denom = np.where(same, 1.0, np.abs(d0) + np.abs(d1))
    area = np.where(same, w * (np.abs(d0) + np.abs(d1)) / 2, w * (d0**2 + d1**2) / (2 * denom))
    return float(np.sum(area))


def js_distance(reference: Sequence[float], current: Sequence[float]) -> float:
    """Jensen–Shannon distance (base 2, in [0, 1]) between two count vectors; 0 when a side is empty."""
    r = np.asarray(reference, dtype=float)
    c = np.asarray(current, dtype=float)
    if r.sum() <= 0 or c.sum() <= 0:
        return 0.0
    value = float(jensenshannon(r / r.sum(), c / c.sum(), base=2))
    return 0.0 if math.isnan(value) else value


def chi2_p(reference: Sequence[float], current: Sequence[float]) -> float:
    """p-value of the χ² test of homogeneity (scipy.stats.chi2_contingency) on a 2×k table of counts.

    Categories empty on both sides are dropped; fewer than two categories left gives p = 1.
    """
    table = np.vstack([np.asarray(reference, dtype=float), np.asarray(current, dtype=float)])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) <= 0).any():
        return 1.0
    return float(stats.chi2_contingency(table, correction=False).pvalue)


def two_proportion_p(x1: float, n1: float, x2: float, n2: float) -> float:
    """Two-sided p-value of the pooled z test that two proportions are equal (1 when undefined)."""
    if n1 <= 0 or n2 <= 0:
        return 1.0
    pooled = (x1 + x2) / (n1 + n2)
    var = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if var <= 0:
        return 1.0
    z = (x1 / n1 - x2 / n2) / math.sqrt(var)
    return float(2 * stats.norm.sf(abs(z)))


def learned_threshold(scores: Sequence[float], *, floor: float = 0.0, min_chunks: int = 3) -> float | None:
    """mean + 3σ (sample σ) of a score over the reference chunks, never below ``floor``.

    None when fewer than ``min_chunks`` reference chunks exist: σ of one or two values means nothing.
    """
    s = np.asarray([x for x in scores if x is not None and math.isfinite(x)], dtype=float)
    if s.size < min_chunks:
        return None
    return float(max(s.mean() + 3 * s.std(ddof=1), floor))

"""Asymptotic confidence sequences and always-valid p-values (Waudby-Smith et al. 2023, GrowthBook's tuning)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

N_STAR = 5000  # GrowthBook's default: the sequence is tightest around N* = 5000 total users


def sequential_rho(alpha: float, n_star: float = N_STAR) -> float:
    """Mixture tuning ρ of the asymptotic confidence sequence (Waudby-Smith et al. 2023, eq. 161)."""
    return math.sqrt((-2.0 * math.log(alpha) + math.log(-2.0 * math.log(alpha) + 1.0)) / n_star)


def halfwidth_multiplier(n_total: Any, alpha: float, n_star: float = N_STAR) -> np.ndarray:
    """Factor k such that the confidence sequence is estimate ± k·se after ``n_total`` users (eq. 9).

    With per-user σ̂² = se²·N: half-width = σ̂·√(2(Nρ²+1)/(N²ρ²)·ln(√(Nρ²+1)/α)), so k = √N times the root.
    """
    big_n = np.asarray(n_total, dtype=float)
    rho2 = sequential_rho(alpha, n_star) ** 2
    u = big_n * rho2 + 1.0
    return np.sqrt(2.0 * u * np.log(np.sqrt(u) / alpha) / (big_n * rho2))


def always_valid_p(estimate: Any, se: Any, n_total: Any, alpha: float, n_star: float = N_STAR) -> np.ndarray:
    """Always-valid p-value 1/E, E the normal-mixture e-value of the estimate (eq. 155); capped at 1.

    It is ≤ α exactly when the confidence sequence excludes 0. With ``se`` = 0 the result is 0 or NaN (no
    warning); :func:`analytics.stats.comparison` replaces it with a defined value.
    """
    d, s, big_n = (np.asarray(a, dtype=float) for a in (estimate, se, n_total))
    rho2 = sequential_rho(alpha, n_star) ** 2
    u = big_n * rho2 + 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        st2 = d * d / (s * s) * big_n  # S_t²/(t·σ̂²) with S_t = N·estimate and σ̂² = se²·N
        log_e = rho2 * st2 / (2.0 * u) - 0.5 * np.log(u)
    return np.minimum(1.0, np.exp(-log_e))

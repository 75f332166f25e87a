"""Quantile metrics (p50, p90, p99 …) per arm: the sample quantile and its variance from rank bounds (GrowthBook).

The SQL returns, per arm, the sample quantile at level ν and at the two levels ν ∓ z·√(ν(1−ν)/n) (a binomial
interval for the rank of the quantile, z for 95%); the distance between those two order statistics gives the
quantile's standard error, Var = (n*/n)(n−1)(Δ/2z)² per value (gbstats ``QuantileStatistic``). Values of one user
are not independent (all of a user's predictions): with ``clusters`` the variance is scaled by the ratio of the
cluster-robust to the i.i.d. variance of the share of values at or below the quantile
(gbstats ``QuantileClusteredStatistic``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import special

from analytics.errors import LiftboardError

#: GrowthBook evaluates the rank bounds at 95% whatever α the comparison uses.
_Z = float(special.ndtri(0.975))
#: A quantile's level is kept strictly inside (0, 1), as GrowthBook's getQuantileBoundValues does.
_EDGE = 1e-8


def quantile_levels(nu: float, n: int) -> tuple[float, float]:
    """The levels of the lower and upper rank bounds of the ν-quantile of n values."""
    half = _Z * math.sqrt(nu * (1.0 - nu) / n)
    return max(nu - half, _EDGE), min(nu + half, 1.0 - _EDGE)


def min_values(nu: float) -> int:
    """The fewest values for which the rank interval of the ν-quantile lies inside the sample (gbstats' check)."""
    return math.floor(_Z**2 * max(nu / (1.0 - nu), (1.0 - nu) / nu)) + 1


@dataclass(frozen=True)
class ClusterSums:
    """Per-user sums for an event-level quantile: s = a user's values ≤ the arm's quantile, d = the user's values."""

    n_clusters: int
    sum_s: float
    sum_s_sq: float
    sum_d: float
    sum_d_sq: float
    sum_sd: float

    def share_variance(self) -> float:
        """Delta-method variance of Σs/Σd over users (clusters)."""
        k = self.n_clusters
        mu_s, mu_d = self.sum_s / k, self.sum_d / k
        var_s = (self.sum_s_sq / k - mu_s * mu_s) * k / (k - 1)
        var_d = (self.sum_d_sq / k - mu_d * mu_d) * k / (k - 1)
        cov = (self.sum_sd / k - mu_s * mu_d) * k / (k - 1)
        return (var_s - 2.0 * mu_s * cov / mu_d + mu_s**2 * var_d / mu_d**2) / (k * mu_d**2)


@dataclass(frozen=True)
class QuantileMoments:
    """One arm's ν-quantile: ``n`` values, the estimate and the order statistics at the two rank-bound levels.

    ``n_star`` is the sample size the bound levels were computed for (``n`` unless a coarser grid was used).
    """

    n: int
    nu: float
    estimate: float
    lower: float
    upper: float
    n_star: int | None = None
    clusters: ClusterSums | None = None

    def __post_init__(self) -> None:
        if not 0.0 < self.nu < 1.0:
            raise LiftboardError(
                f"A quantile level must be between 0 and 1, e.g. 0.9 for p90 (got {self.nu})."
            )

    @property
    def label(self) -> str:
        """``p90``, ``p99.9``: how the level is written in a metric spec."""
        return f"p{self.nu * 100:g}"

    def interval(self, alpha: float = 0.05) -> tuple[float, float]:
        """The arm's own (1 − α) interval for its quantile: the rank bounds (a distribution-free interval, so
        asymmetric like the data), each side scaled by the same factor as the variance (n*/n, and the cluster
        ratio for a user's repeated values) and by z for α."""
        w = (self.upper - self.lower) / (2.0 * _Z)
        if w <= 0.0 or self.n <= 0:
            return self.estimate, self.estimate
        k = math.sqrt(self.variance() / self.n) / w * float(special.ndtri(1.0 - alpha / 2.0)) / _Z
        return self.estimate - (self.estimate - self.lower) * k, self.estimate + (
            self.upper - self.estimate
        ) * k

    def variance(self) -> float:
        """Per-value variance of the estimate (its variance is this / n), gbstats' formula, clustered if given."""
        n_star = self.n_star or self.n
        if self.n <= 1:
            return 0.0
        iid = (n_star / self.n) * (self.n - 1) * ((self.upper - self.lower) / (2.0 * _Z)) ** 2
        if self.clusters is not None:
            c = self.clusters
            if c.n_clusters <= 1 or c.sum_d <= 0:
                return 0.0
            iid *= c.share_variance() / (self.nu * (1.0 - self.nu) / self.n)
        # gbstats floors the variance at 1e-5 once there are 100 values (bounds a rounding step apart).
        return max(iid, 1e-5) if self.n >= 100 and iid > 0 else iid


def check_quantile(m: QuantileMoments, arm: str, metric: str | None) -> None:
    """Refuse an arm whose quantile has no usable interval, with one sentence naming the arm and the metric."""
    of = f" for {metric}" if metric else ""
    values = (m.estimate, m.lower, m.upper)
    if m.n < 0 or not all(math.isfinite(v) for v in values):
        raise LiftboardError(
            f"The {m.label} of arm {arm!r}{of} is not a finite number; check the loaded data."
        )
    if not m.lower <= m.estimate <= m.upper:
        raise LiftboardError(
            f"The {m.label} rank bounds of arm {arm!r}{of} do not enclose the estimate; the statistics are impossible."
        )
    need = min_values(m.nu)
    if m.n < need:
        raise LiftboardError(
            f"For {metric or 'this metric'}, arm {arm!r} has {m.n:,} values; a {m.label} needs at least {need:,} "
            "to estimate its interval, so wait for more data or choose a lower quantile."
        )
    if m.upper == m.lower:
        raise LiftboardError(
            f"The {m.label} of arm {arm!r}{of} has the same value at both rank bounds (many identical values "
            "around it), so its spread cannot be estimated; choose another quantile or metric."
        )

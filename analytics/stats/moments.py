"""Per-arm sufficient statistics (n, Σy, Σy², Σx, Σx², Σxy) and each arm's mean and variance."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from analytics.errors import LiftboardError

Kind = Literal["mean", "proportion", "ratio"]

KINDS: tuple[Kind, ...] = get_args(Kind)


@dataclass(frozen=True)
class Moments:
    """Per-arm sufficient statistics of a per-user value y (0/1 for proportions).

    ``sum_x``, ``sum_x_sq`` and ``sum_xy`` hold the denominator of a ratio metric or the pre-period covariate of
    CUPED. ``adjusted`` is set by :func:`cuped`: y is then a continuous adjusted value whatever the metric kind.
    """

    n: int
    sum: float
    sum_sq: float
    sum_x: float = 0.0
    sum_x_sq: float = 0.0
    sum_xy: float = 0.0
    adjusted: bool = False

    @classmethod
    def of(cls, y: Sequence[float] | np.ndarray, x: Sequence[float] | np.ndarray | None = None) -> Moments:
        """Moments of raw per-user values (for tests and small in-memory data; SQL computes them otherwise)."""
        ya = np.asarray(y, dtype=float)
        if x is None:
            return cls(int(ya.size), float(ya.sum()), float((ya * ya).sum()))
        xa = np.asarray(x, dtype=float)
        return cls(
            int(ya.size), float(ya.sum()), float((ya * ya).sum()),
            float(xa.sum()), float((xa * xa).sum()), float((xa * ya).sum()),
        )  # fmt: skip

    def __add__(self, other: Moments) -> Moments:
        if self.adjusted or other.adjusted:
            raise ValueError("CUPED-adjusted moments cannot be added; adjust the summed moments instead.")
        return Moments(
            self.n + other.n, self.sum + other.sum, self.sum_sq + other.sum_sq,
            self.sum_x + other.sum_x, self.sum_x_sq + other.sum_x_sq, self.sum_xy + other.sum_xy,
        )  # fmt: skip


def check_arm(name: str | None, m: Moments) -> None:
    arm = f"Arm '{name}'" if name else "An arm"
    if m.n < 2:
        raise LiftboardError(
            f"{arm} has {m.n} user{'s' if m.n != 1 else ''} with data for this metric; at least 2 per arm "
            "are needed to estimate a variance, so wait for more data or widen the window."
        )
    values = (m.sum, m.sum_sq, m.sum_x, m.sum_x_sq, m.sum_xy)
    if not all(math.isfinite(v) for v in values):
        raise LiftboardError(f"{arm} has a missing or infinite metric value; check the loaded data.")


def _sample_var(n: int, total: float, total_sq: float) -> float:
    # Clamp: Σy² − (Σy)²/n can come out a hair below 0 by rounding when all values are equal.
    return max((total_sq - total * total / n) / (n - 1), 0.0)


def arm_mean_var(
    m: Moments, *, ratio: bool = False, proportion: bool = False, name: str | None = None
) -> tuple[float, float]:
    """Mean and per-user variance of one arm (the variance of the mean is ``var / n``).

    Proportions: p and p(1−p) (GrowthBook). Means: Σy/n and (Σy² − (Σy)²/n)/(n−1). Ratio metrics: Σy/Σx and
    the delta-method variance n·Var(ȳ/x̄) = (s²_y − 2R s_xy + R² s²_x)/x̄², with R = ȳ/x̄.
    CUPED-adjusted moments always use the sample variance. ``name`` only names the arm in error messages.
    """
    check_arm(name, m)
    n = m.n
    if ratio:
        if m.sum_x == 0.0:
            raise LiftboardError(
                f"The denominator of this ratio metric is 0 for every user of {f'arm {name!r}' if name else 'an arm'}; "
                "choose a denominator event that these users have, or a longer window."
            )
        mx = m.sum_x / n
        r = m.sum / m.sum_x
        var_y = _sample_var(n, m.sum, m.sum_sq)
        var_x = _sample_var(n, m.sum_x, m.sum_x_sq)
        cov = (m.sum_xy - m.sum * m.sum_x / n) / (n - 1)
        var = (var_y - 2.0 * r * cov + r * r * var_x) / (mx * mx)
        return r, max(var, 0.0)
    mean = m.sum / n
    if proportion and not m.adjusted:
        if not -1e-9 <= mean <= 1.0 + 1e-9:
            raise LiftboardError("A proportion metric must be 0 or 1 per user; this one is not.")
        return mean, max(mean * (1.0 - mean), 0.0)
    return mean, _sample_var(n, m.sum, m.sum_sq)


def winsorize_caps(percentile: float, *, two_sided: bool = False) -> tuple[float | None, float]:
    """Quantile levels at which per-user values are capped before their moments are summed.

    The experiments SQL computes the caps with ``quantile_cont(y, level)`` over the exposed users (pooled over
    arms, so every arm is capped at the same value and the comparison stays fair), clamps each per-user value
    with ``least(greatest(y, lower_cap), upper_cap)``, then sums n, Σy, Σy² as usual. Only mean metrics are
    winsorized; proportions are already bounded.

    Args:
        percentile: the upper level, as a share (0.99) or a percent (99).
        two_sided: also cap the lower tail at 1 − level.

    Returns:
        (lower level or None, upper level).
    """
    level = percentile / 100.0 if percentile > 1.0 else percentile
    if not 0.5 < level < 1.0:
        raise LiftboardError(
            f"The winsorization percentile must be between 50 and 100, e.g. 99 (got {percentile})."
        )
    return (1.0 - level if two_sided else None), level

"""Per-arm sufficient statistics (n, Σy, Σy², Σx, Σx², Σxy), their variances, and the refusal of impossible ones."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from analytics.errors import LiftboardError

Kind = Literal["mean", "proportion", "ratio", "quantile"]
KINDS: tuple[Kind, ...] = get_args(Kind)

#: What x holds, when it is used: a ratio metric's denominator or CUPED's pre-exposure value of the metric.
XRole = Literal["denominator", "pre-exposure value"]
# Σy² − (Σy)²/n of equal values comes out a few ulps below 0; a real negative variance is far below this.
_ROUNDING = 1e-9


@dataclass(frozen=True)
class Moments:
    """Per-arm sufficient statistics of a per-user value y (0/1 for proportions).

    ``sum_x``, ``sum_x_sq`` and ``sum_xy`` hold the denominator of a ratio metric or, under CUPED, the same metric
    over the pre-exposure window.
    """

    n: int
    sum: float
    sum_sq: float
    sum_x: float = 0.0
    sum_x_sq: float = 0.0
    sum_xy: float = 0.0

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
        return Moments(
            self.n + other.n, self.sum + other.sum, self.sum_sq + other.sum_sq,
            self.sum_x + other.sum_x, self.sum_x_sq + other.sum_x_sq, self.sum_xy + other.sum_xy,
        )  # fmt: skip


def _centred(n: int, total: float, total_sq: float) -> float:
    """Σ(y − ȳ)², with rounding below 0 set to 0 (a real negative value is refused by :func:`check_moments`)."""
    return max(total_sq - total * total / n, 0.0)


def variance(n: int, total: float, total_sq: float, *, proportion: bool = False) -> float:
    """Per-user variance: p(1−p) for a proportion (GrowthBook), else the sample variance (n − 1)."""
    if n <= 1:
        return 0.0
    if proportion:
        p = total / n
        return p * (1.0 - p)
    return _centred(n, total, total_sq) / (n - 1)


def covariance(n: int, sum_y: float, sum_x: float, sum_xy: float, *, proportion: bool = False) -> float:
    """Per-user covariance of y and x: Σxy/n − x̄ȳ for two proportions (GrowthBook), else the sample covariance."""
    if n <= 1:
        return 0.0
    if proportion:
        return sum_xy / n - sum_y * sum_x / (n * n)
    return (sum_xy - sum_y * sum_x / n) / (n - 1)


def _impossible(arm: str, metric: str | None, what: str) -> LiftboardError:
    of = f" for {metric}" if metric else ""
    return LiftboardError(
        f"The statistics of arm {arm!r}{of} are impossible: {what}; no real data gives that, so check the "
        "loaded data or totals."
    )


def check_moments(
    m: Moments,
    *,
    arm: str,
    metric: str | None = None,
    proportion: bool = False,
    x_role: XRole | None = None,
    min_n: int = 2,
) -> None:
    """Refuse statistics no data can produce (one sentence naming the arm and the metric); never clamp them.

    ``x_role`` says whether Σx, Σx², Σxy are used and what they are; ``min_n`` is the fewest users the comparison
    needs (strata cells may hold fewer: they are merged, not refused).
    """
    values = (m.sum, m.sum_sq, m.sum_x, m.sum_x_sq, m.sum_xy)
    of = f" for {metric}" if metric else ""
    if not all(math.isfinite(v) for v in values) or not math.isfinite(m.n):
        raise LiftboardError(
            f"Arm {arm!r}{of} has a missing or infinite metric value; check the loaded data."
        )
    if m.n < 0:
        raise _impossible(arm, metric, f"a negative number of users (n = {m.n})")
    if m.n < min_n:
        raise LiftboardError(
            f"Arm {arm!r}{of} has {m.n} user{'s' if m.n != 1 else ''} with data; at least {min_n} per arm are "
            "needed to estimate a variance, so wait for more data or widen the window."
        )
    if m.n == 0:
        return
    if proportion:
        if m.sum < -_ROUNDING:
            raise _impossible(arm, metric, f"a negative number of conversions ({m.sum:g})")
        if m.sum > m.n * (1 + _ROUNDING):
            raise _impossible(arm, metric, f"more conversions than users ({m.sum:g} of {m.n})")
    _check_spread(m.n, m.sum, m.sum_sq, arm, metric, "the metric")
    if x_role is None:
        return
    # A 0/1 covariate (pre-exposure conversion: Σx = Σx²) counts users, so it cannot exceed n.
    binary_x = abs(m.sum_x - m.sum_x_sq) <= _ROUNDING * max(1.0, abs(m.sum_x))
    in_range = -_ROUNDING <= m.sum_x <= m.n * (1 + _ROUNDING)
    if proportion and x_role == "pre-exposure value" and binary_x and not in_range:
        raise _impossible(
            arm, metric, f"the pre-exposure conversions ({m.sum_x:g}) are not between 0 and {m.n}"
        )
    _check_spread(m.n, m.sum_x, m.sum_x_sq, arm, metric, f"the {x_role}")
    sxx = m.sum_x_sq - m.sum_x**2 / m.n
    syy = m.sum_sq - m.sum**2 / m.n
    sxy = m.sum_xy - m.sum * m.sum_x / m.n
    # Cauchy–Schwarz: |Σ(x−x̄)(y−ȳ)| ≤ √(Σ(x−x̄)²·Σ(y−ȳ)²) for any data.
    if sxy * sxy > max(sxx, 0.0) * max(syy, 0.0) * (1 + 1e-9) + _ROUNDING * (abs(m.sum_xy) + 1.0):
        raise _impossible(arm, metric, f"the metric and the {x_role} have a correlation beyond ±1")


def _check_spread(n: int, total: float, total_sq: float, arm: str, metric: str | None, what: str) -> None:
    centred = total_sq - total * total / n
    if total_sq < 0 or centred < -_ROUNDING * max(abs(total_sq), 1.0):
        raise _impossible(
            arm, metric, f"{what} has a negative variance (Σ² {total_sq:g} < (Σ)²/n {total * total / n:g})"
        )


def arm_mean_var(
    m: Moments,
    *,
    ratio: bool = False,
    proportion: bool = False,
    name: str | None = None,
    metric: str | None = None,
) -> tuple[float, float]:
    """Mean and per-user variance of one arm (the variance of the mean is ``var / n``).

    Proportions: p and p(1−p) (GrowthBook). Means: Σy/n and (Σy² − (Σy)²/n)/(n−1). Ratio metrics: Σy/Σx and
    the delta-method variance n·Var(ȳ/x̄) = (s²_y − 2R s_xy + R² s²_x)/x̄², with R = ȳ/x̄.
    """
    arm = name or "the arm"
    check_moments(m, arm=arm, metric=metric, proportion=proportion, x_role="denominator" if ratio else None)
    if ratio:
        if m.sum_x == 0.0:
            raise LiftboardError(
                f"The denominator of {metric or 'this ratio metric'} is 0 for every user of arm {arm!r}; "
                "choose a denominator event that these users have, or a longer window."
            )
        mx, r = m.sum_x / m.n, m.sum / m.sum_x
        var_y, var_x = variance(m.n, m.sum, m.sum_sq), variance(m.n, m.sum_x, m.sum_x_sq)
        cov = covariance(m.n, m.sum, m.sum_x, m.sum_xy)
        return r, max((var_y - 2.0 * r * cov + r * r * var_x) / (mx * mx), 0.0)
    return m.sum / m.n, variance(m.n, m.sum, m.sum_sq, proportion=proportion)


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

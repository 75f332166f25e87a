"""Non-inferiority guardrails: a one-sided test that the variant is not worse than a declared margin.

"Must not get worse than −1%" on a higher-is-better metric is H0: lift ≤ −1% against H1: lift > −1%; it passes
when the one-sided (1 − α) lower bound of the lift is above −1%. For a lower-is-better metric (a cost, a latency)
"worse" is up: it passes when the upper bound is below +1%. With a margin of 0 this is gbstats' one-sided t test
(OneSidedTreatmentGreaterTTest / LesserTTest); in sequential mode the bound is the one-sided confidence sequence
(Waudby-Smith et al. 2023, eq. 134) and the p-value the α at which it touches the margin, as gbstats finds it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from scipy import special

from analytics.errors import LiftboardError
from analytics.stats.comparison import Comparison

# gbstats searches the sequential one-sided p-value in [1e-5, 0.4999] (its rho is tuned for α < 0.5).
_P_MIN, _P_MAX = 1e-5, 0.4999


@dataclass(frozen=True)
class GuardrailCheck:
    """A guardrail's verdict: the one-sided bound of the lift, its p-value against the margin, pass or fail."""

    variant: str
    margin: float  # how much worse is tolerated, ≥ 0 (a share of the control mean for the relative estimand)
    estimand: Literal["relative", "absolute"]
    bound: float  # the one-sided (1 − α) bound: lower if higher is better, upper if lower is better
    p_value: float
    passed: bool
    alpha: float
    lower_is_better: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _one_sided_rho(alpha: float, n_star: float) -> float:
    a = 2.0 * alpha  # eq. 161 with the one-sided level
    return math.sqrt((-2.0 * math.log(a) + math.log(-2.0 * math.log(a) + 1.0)) / n_star)


def _seq_halfwidth(se: float, big_n: float, alpha: float, rho: float) -> float:
    """One-sided asymptotic confidence sequence half-width after ``big_n`` users (eq. 134), se the lift's SE."""
    u = big_n * rho * rho + 1.0
    return math.sqrt(
        se * se * big_n * 2.0 * u / (big_n * rho) ** 2 * math.log(1.0 + math.sqrt(u) / (2.0 * alpha))
    )


def noninferiority(
    c: Comparison, margin: float, *, estimand: Literal["relative", "absolute"] = "relative"
) -> GuardrailCheck:
    """Test that the variant is no worse than ``margin`` (0.01 = 1% of the control mean for the relative lift)."""
    if not (math.isfinite(margin) and margin >= 0.0):
        raise LiftboardError(
            f"A guardrail margin is how much worse you tolerate, a share ≥ 0 such as 0.01 for 1% (got {margin})."
        )
    if estimand == "relative":
        if c.rel_lift is None or c.rel_se is None:
            raise LiftboardError(
                "The control mean is 0, so a relative guardrail margin has no meaning; declare the margin in "
                "the metric's own units instead."
            )
        est, se = c.rel_lift, c.rel_se
    else:
        est, se = c.abs_lift, c.se
    sign = -1.0 if c.lower_is_better else 1.0  # look at the lift so that "up" is "better"
    threshold = -margin
    better = sign * est
    if c.method == "sequential":
        big_n = c.n_baseline + c.n_variant
        rho = _one_sided_rho(c.alpha, c.n_star)
        bound_up = better - _seq_halfwidth(se, big_n, c.alpha, rho)

        def gap(a: float) -> float:
            return better - _seq_halfwidth(se, big_n, a, rho) - threshold

        if gap(_P_MIN) > 0:
            p = _P_MIN
        elif gap(_P_MAX) < 0:
            p = _P_MAX
        else:
            from scipy import optimize  # only here: scipy.optimize costs every command that imports stats

            p = float(optimize.brentq(gap, _P_MIN, _P_MAX, xtol=1e-12))
    else:
        t = float(special.stdtrit(c.df, 1.0 - c.alpha)) if se > 0 else 0.0
        bound_up = better - t * se
        p = float(special.stdtr(c.df, -(better - threshold) / se)) if se > 0 else float(better <= threshold)
    return GuardrailCheck(
        variant=c.variant,
        margin=margin,
        estimand=estimand,
        bound=sign * bound_up,
        p_value=p,
        passed=bound_up > threshold,
        alpha=c.alpha,
        lower_is_better=c.lower_is_better,
    )

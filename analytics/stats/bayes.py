"""The Bayesian view of a lift: Gaussian posterior, credible interval, chance to win and risk (GrowthBook's)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import special

from analytics.errors import LiftboardError


@dataclass(frozen=True)
class GaussianPrior:
    """A proper prior N(mean, sd²) on the lift (GrowthBook's: on the relative lift, mean 0; off by default)."""

    mean: float = 0.0
    sd: float = 0.3

    def __post_init__(self) -> None:
        if not (math.isfinite(self.mean) and math.isfinite(self.sd) and self.sd > 0):
            raise LiftboardError(
                f"A prior needs a finite mean and a positive standard deviation, e.g. 0.3 for ±30% (got sd {self.sd})."
            )


@dataclass(frozen=True)
class Posterior:
    """The lift's posterior N(mean, sd²) and what it says, from the variant's side (mirrored if lower is better).

    ``chance_to_win`` is P(lift > 0), or P(lift < 0) for a lower-is-better metric; ``risk`` is the loss expected
    from shipping the variant, E[max(0, −lift)] (E[max(0, lift)] for lower-is-better).
    """

    mean: float
    sd: float
    interval: tuple[float, float]
    chance_to_win: float
    risk: float


def gaussian_risk(mu: float, sd: float) -> tuple[float, float]:
    """(E[max(0, X)], E[max(0, −X)]) for X ~ N(mu, sd²): the risk of keeping the control, of shipping the variant.

    GrowthBook's get_risk; past |mu/sd| > 37 the normal tail is 0 in float64, so the limit is returned exactly.
    """
    if sd <= 0.0 or abs(mu / sd) > 37:
        return max(mu, 0.0), max(-mu, 0.0)
    z = mu / sd
    pdf = math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    # E[max(0, X)] = μΦ(z) + σφ(z); E[max(0, −X)] = −μΦ(−z) + σφ(z).
    return float(mu * special.ndtr(z) + sd * pdf), float(sd * pdf - mu * special.ndtr(-z))


def posterior(
    mean: float,
    se: float,
    prior: GaussianPrior | None = None,
    *,
    alpha: float = 0.05,
    lower_is_better: bool = False,
) -> Posterior:
    """Combine the data's N(mean, se²) with a prior (flat when None) as GrowthBook's EffectBayesianABTest does.

    The credible interval is the central 1 − α interval of the posterior.
    """
    if not se > 0.0:
        # No spread in the data (an arm without variation): the lift is known exactly, whatever the prior says.
        win = 0.5 if mean == 0 else float((mean < 0) if lower_is_better else (mean > 0))
        return Posterior(mean, 0.0, (mean, mean), win, max(mean if lower_is_better else -mean, 0.0))
    if prior is None:
        post_mean, post_sd = mean, se
    else:
        precision = 1.0 / prior.sd**2 + 1.0 / se**2
        post_mean = (mean / se**2 + prior.mean / prior.sd**2) / precision
        post_sd = math.sqrt(1.0 / precision)
    z = float(special.ndtri(1.0 - alpha / 2.0))
    p_up = float(special.ndtr(post_mean / post_sd))
    risk_keep, risk_ship = gaussian_risk(post_mean, post_sd)
    if lower_is_better:
        chance, risk = 1.0 - p_up, risk_keep
    else:
        chance, risk = p_up, risk_ship
    return Posterior(post_mean, post_sd, (post_mean - z * post_sd, post_mean + z * post_sd), chance, risk)

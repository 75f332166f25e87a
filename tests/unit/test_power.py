"""Power analysis against statsmodels' NormalIndPower / tt_ind_solve_power, and by simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.power import NormalIndPower, tt_ind_solve_power

from analytics.errors import LiftboardError
from analytics.stats import mde, power_at, sample_size_per_arm, welch_arrays

CASES = [  # baseline mean, per-user variance, relative MDE, alpha, power
    (0.10, 0.10 * 0.90, 0.05, 0.05, 0.8),  # 7-day conversion, +5% relative
    (0.30, 0.30 * 0.70, 0.05, 0.05, 0.8),  # 7-day retention
    (0.02, 0.02 * 0.98, 0.10, 0.01, 0.9),
    (4.2, 90.0, 0.03, 0.05, 0.8),  # revenue per user, heavy variance
    (1.0, 1.0, 0.20, 0.10, 0.8),  # a small test
]


@pytest.mark.parametrize(("mean", "var", "mde_rel", "alpha", "power"), CASES)
def test_sample_size_matches_statsmodels(
    mean: float, var: float, mde_rel: float, alpha: float, power: float
) -> None:
    n = sample_size_per_arm(mean, var, mde_rel, alpha=alpha, power=power)
    effect = mde_rel * mean / math.sqrt(var)
    ref_z = NormalIndPower().solve_power(effect_size=effect, alpha=alpha, power=power, ratio=1.0)
    ref_t = tt_ind_solve_power(effect_size=effect, alpha=alpha, power=power, ratio=1.0)
    assert n == math.ceil(ref_z - 1e-6)  # the same z test, rounded up to whole users
    assert n == pytest.approx(ref_t, rel=0.01)
    # n is the smallest whole number that reaches the power.
    assert power_at(mde_rel * mean, var, n, alpha=alpha) >= power
    assert power_at(mde_rel * mean, var, n - 1, alpha=alpha) < power
    # The MDE at that n is the requested effect (slightly below it, since n was rounded up).
    found = mde(mean, var, n, alpha=alpha, power=power)
    assert found <= mde_rel and found == pytest.approx(mde_rel, rel=0.01)
    assert mde(mean, var, ref_z, alpha=alpha, power=power) == pytest.approx(mde_rel, rel=1e-6)


def test_known_case_by_hand() -> None:
    """p = 10%, +5% relative, α = 5%, power 80%: 2·p(1−p)·(1.95996 + 0.84162)²/0.005² ≈ 56,512 per arm."""
    n = sample_size_per_arm(0.10, 0.09, 0.05)
    assert n == 56_512
    assert mde(0.10, 0.09, 10_000) == pytest.approx(0.11887, rel=1e-3)


def test_power_by_simulation() -> None:
    """At the computed n, 4 000 simulated experiments with the true effect reject about 80% of the time.

    (The planning formula assumes the control variance in both arms; the variant's p(1−p) is a little larger,
    so the exact power here is ≈ 0.79.)
    """
    rng = np.random.default_rng(40)
    p, lift = 0.10, 0.08
    n = sample_size_per_arm(p, p * (1 - p), lift)
    sims = 4000
    s_c, s_t = rng.binomial(n, p, sims), rng.binomial(n, p * (1 + lift), sims)
    pc, pt = s_c / n, s_t / n
    out = welch_arrays(pc, pc * (1 - pc), n, pt, pt * (1 - pt), n)
    rate = float(np.mean(out["p_value"] < 0.05))
    print(f"n per arm {n}, simulated power {rate:.3f}")
    assert rate == pytest.approx(0.80, abs=0.025)


def test_power_errors_are_plain_sentences() -> None:
    with pytest.raises(LiftboardError, match="no variation"):
        sample_size_per_arm(0.1, 0.0, 0.05)
    with pytest.raises(LiftboardError, match="baseline is 0"):
        sample_size_per_arm(0.0, 1.0, 0.05)
    with pytest.raises(LiftboardError, match="positive share"):
        sample_size_per_arm(0.1, 0.09, -0.05)
    with pytest.raises(LiftboardError, match="power"):
        sample_size_per_arm(0.1, 0.09, 0.05, power=1.2)
    with pytest.raises(LiftboardError, match="At least 2 users"):
        mde(0.1, 0.09, 1)
    with pytest.raises(LiftboardError, match="baseline is 0"):
        mde(0.0, 0.09, 1000)

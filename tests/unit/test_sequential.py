"""Sequential mode: confidence sequences keep coverage under daily peeking; always-valid p-values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analytics.stats import (
    Moments,
    always_valid_p,
    compare,
    halfwidth_multiplier,
    sequential_rho,
    welch_arrays,
)

SIMS, DAYS = 500, 30


def _daily_proportions(rng: np.random.Generator, p_c: float, p_t: float) -> dict[str, np.ndarray]:
    """Cumulative per-arm counts after each of DAYS daily looks, for SIMS experiments (shape SIMS × DAYS)."""
    n = rng.poisson(150, (2, SIMS, DAYS)).cumsum(axis=2)
    new = np.diff(n, axis=2, prepend=0)
    s = np.stack([rng.binomial(new[0], p_c), rng.binomial(new[1], p_t)]).cumsum(axis=2)
    return {"n": n, "s": s}


def test_confidence_sequence_keeps_coverage_under_daily_peeking() -> None:
    """500 experiments × 30 daily looks: the truth is inside the sequence at every look ≥ 95% of the time."""
    rng = np.random.default_rng(30)
    p_c, p_t = 0.10, 0.108
    d = _daily_proportions(rng, p_c, p_t)
    n_c, n_t = d["n"]
    m_c, m_t = d["s"][0] / n_c, d["s"][1] / n_t
    args = (m_c, m_c * (1 - m_c), n_c, m_t, m_t * (1 - m_t), n_t)
    seq = welch_arrays(*args, sequential=True)
    fixed = welch_arrays(*args, sequential=False)
    truth = p_t - p_c

    def always_covered(r: dict[str, np.ndarray], lo: str, hi: str, value: float) -> float:
        return float(np.mean(np.all((r[lo] <= value) & (value <= r[hi]), axis=1)))

    cov_seq = always_covered(seq, "lo", "hi", truth)
    cov_seq_rel = always_covered(seq, "rel_lo", "rel_hi", truth / p_c)
    cov_fixed = always_covered(fixed, "lo", "hi", truth)
    print(
        f"coverage at all {DAYS} looks: sequential {cov_seq:.3f} (relative {cov_seq_rel:.3f}), fixed {cov_fixed:.3f}"
    )
    assert cov_seq >= 0.95
    assert cov_seq_rel >= 0.95
    # Peeking at a fixed-horizon interval every day loses its 95% promise: this is why sequential mode exists.
    assert cov_fixed < 0.90
    # And at each single look the fixed interval still covers about 95%.
    assert float(np.mean((fixed["lo"][:, -1] <= truth) & (truth <= fixed["hi"][:, -1]))) == pytest.approx(
        0.95, abs=0.03
    )


def test_confidence_sequence_coverage_for_skewed_means() -> None:
    """Revenue-like lognormal values, daily looks on raw data: still ≥ 95% coverage at every look."""
    rng = np.random.default_rng(31)
    sims, days, per_day = 300, 30, 60
    y = rng.lognormal(0.0, 1.0, (2, sims, days * per_day))
    truth = 0.0  # same distribution in both arms
    n = np.arange(1, days + 1) * per_day
    cum = y.reshape(2, sims, days, per_day).sum(axis=3).cumsum(axis=2)
    cum_sq = (y**2).reshape(2, sims, days, per_day).sum(axis=3).cumsum(axis=2)
    mean = cum / n
    var = (cum_sq - cum**2 / n) / (n - 1)
    r = welch_arrays(mean[0], var[0], n, mean[1], var[1], n, sequential=True)
    coverage = float(np.mean(np.all((r["lo"] <= truth) & (truth <= r["hi"]), axis=1)))
    false_alarms = float(np.mean(np.any(r["p_value"] < 0.05, axis=1)))
    print(f"lognormal: coverage at every look {coverage:.3f}, ever significant under A/A {false_alarms:.3f}")
    assert coverage >= 0.95
    assert false_alarms <= 0.05


def test_always_valid_p_is_at_least_the_fixed_p_and_matches_the_interval() -> None:
    rng = np.random.default_rng(32)
    for _ in range(300):
        n_c, n_t = (int(v) for v in rng.integers(50, 200_000, size=2))
        p = rng.uniform(0.02, 0.5)
        s_c, s_t = int(rng.binomial(n_c, p)), int(rng.binomial(n_t, p * rng.uniform(0.9, 1.15)))
        alpha = float(rng.choice([0.01, 0.05, 0.1]))
        c, t = Moments(n_c, s_c, s_c), Moments(n_t, s_t, s_t)
        fixed = compare(c, t, kind="proportion", alpha=alpha)
        seq = compare(c, t, kind="proportion", alpha=alpha, sequential=True)
        assert seq.method == "sequential" and seq.abs_lift == fixed.abs_lift
        assert seq.p_value >= fixed.p_value - 1e-15
        assert seq.abs_ci[0] <= fixed.abs_ci[0] and seq.abs_ci[1] >= fixed.abs_ci[1]
        excludes_zero = seq.abs_ci[0] > 0 or seq.abs_ci[1] < 0
        if abs(seq.p_value - alpha) > 1e-9:  # the p-value and the interval tell the same story
            assert (seq.p_value < alpha) == excludes_zero


def test_sequential_formulas_by_hand() -> None:
    """GrowthBook's tuning, worked by hand from Waudby-Smith et al. (2023), eqs. 9, 155 and 161."""
    alpha = 0.05
    rho = math.sqrt((-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / 5000)
    assert sequential_rho(alpha) == pytest.approx(rho, rel=1e-15)
    assert rho == pytest.approx(0.0398401, rel=1e-5)
    c, t = Moments(5000, 500, 500), Moments(5000, 560, 560)
    res = compare(c, t, kind="proportion", sequential=True)
    big_n = 10_000
    se = math.sqrt(0.1 * 0.9 / 5000 + 0.112 * 0.888 / 5000)
    sigma = se * math.sqrt(big_n)
    u = big_n * rho**2 + 1
    half = sigma * math.sqrt(2 * u / (big_n**2 * rho**2) * math.log(math.sqrt(u) / alpha))
    assert res.abs_ci == pytest.approx((0.012 - half, 0.012 + half), rel=1e-12)
    s_t = big_n * 0.012 / sigma  # the standardised partial sum Σ(y_i − μ)/σ̂ after N users
    evalue = math.exp(rho**2 * s_t**2 / (2 * u)) / math.sqrt(u)
    assert res.p_value == pytest.approx(min(1.0, 1 / evalue), rel=1e-12)
    assert float(halfwidth_multiplier(big_n, alpha)) == pytest.approx(half / se, rel=1e-12)
    assert float(always_valid_p(0.0, se, big_n, alpha)) == 1.0
    # Near N* the sequence is about 1.5× wider than the fixed interval (the price of peeking).
    assert half / (1.96 * se) == pytest.approx(1.55, abs=0.05)


def test_matches_growthbook_reference_values() -> None:
    """The published expectations of GrowthBook's gbstats unit tests for SequentialTwoSidedTTest (5 decimals)."""
    mean = compare(
        Moments(3000, 1396.87, 52377.9767), Moments(3461, 2422.7, 134698.29), sequential=True, n_star=1000
    )
    assert mean.rel_lift == pytest.approx(0.50336, abs=5e-6)
    assert mean.rel_se == pytest.approx(0.33341, abs=5e-6)
    assert mean.rel_ci == pytest.approx((-0.55844, 1.56516), abs=5e-6)
    prop = compare(Moments(3000, 1396, 1396), Moments(3461, 2422, 2422), kind="proportion", sequential=True)
    assert prop.rel_lift == pytest.approx(0.50386, abs=5e-6)
    assert prop.rel_se == pytest.approx(0.03386, abs=5e-6)
    assert prop.rel_ci == pytest.approx((0.40098, 0.60675), abs=5e-6)
    assert prop.p_value < 1e-5 and prop.significant

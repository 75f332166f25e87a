"""The power-law cost curve: known exponents are recovered, projections cover the truth at their rate."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analytics.cost import MIN_POINTS, fit_power_law, project


def _days(rng: np.random.Generator, b: float, *, days: int = 30, a: float = 0.002, sigma: float = 0.1):
    users = np.round(np.exp(rng.uniform(np.log(200), np.log(20_000), days)))
    cost = a * users**b * np.exp(rng.normal(0, sigma, days))
    return users, cost


@pytest.mark.parametrize(("b", "kind"), [(0.7, "economies"), (1.0, "linear"), (1.3, "outgrow")])
def test_known_exponent_is_recovered_within_its_interval(b: float, kind: str) -> None:
    users, cost = _days(np.random.default_rng(11), b)
    fit = fit_power_law(users, cost)
    assert fit.ok and fit.n_points == 30
    lo, hi = fit.exponent_ci
    assert lo < b < hi
    assert abs(fit.exponent - b) < 0.05
    assert fit.kind == kind
    # Same slope and standard error as scipy's simple regression on the logs.
    ref = stats.linregress(np.log(users), np.log(cost))
    assert fit.exponent == pytest.approx(ref.slope, rel=1e-9)
    half = stats.t.ppf(0.975, 28) * ref.stderr
    assert (lo, hi) == pytest.approx((ref.slope - half, ref.slope + half), rel=1e-9)


def test_recovery_rate_of_the_exponent_interval_is_nominal() -> None:
    rng = np.random.default_rng(3)
    hits = 0
    for _ in range(300):
        users, cost = _days(rng, 1.3, days=14, sigma=0.3)
        lo, hi = fit_power_law(users, cost).exponent_ci
        hits += lo < 1.3 < hi
    # 95% of 300 with a 3-sigma binomial tolerance (sd ≈ 0.0126).
    assert 0.912 <= hits / 300 <= 0.988


def test_projection_interval_covers_a_new_day_at_its_nominal_rate() -> None:
    rng = np.random.default_rng(5)
    b, a, sigma = 0.85, 0.01, 0.25
    hits = {2.0: 0, 10.0: 0, 100.0: 0}
    for _ in range(300):
        users, cost = _days(rng, b, days=21, a=a, sigma=sigma)
        fit = fit_power_law(users, cost)
        base = float(users[-7:].mean())
        for p in project(fit, base):
            truth = a * p.x**b * np.exp(rng.normal(0, sigma))
            hits[p.multiple] += p.low <= truth <= p.high
    for multiple, h in hits.items():
        assert 0.912 <= h / 300 <= 0.988, (multiple, h)


def test_projection_back_transform_and_smearing() -> None:
    users, cost = _days(np.random.default_rng(8), 1.0, sigma=0.2)
    fit = fit_power_law(users, cost)
    (p2,) = project(fit, 1000.0, (2.0,))
    assert p2.x == 2000.0
    assert p2.median == pytest.approx(np.exp(fit.log_a + fit.exponent * np.log(2000.0)), rel=1e-9)
    # Duan's smearing: the mean estimate is the median times the mean of exp(residuals), > 1 here.
    assert p2.cost == pytest.approx(p2.median * fit.smearing, rel=1e-12)
    assert 1.0 < fit.smearing < 1.05
    assert p2.low < p2.median < p2.high


def test_too_few_days_cannot_fit_yet() -> None:
    fit = fit_power_law([100, 200, 300], [1.0, 2.0, 3.0])
    assert not fit.ok and fit.exponent is None and fit.kind == "unknown"
    assert f"at least {MIN_POINTS} days" in fit.reason and "has 3" in fit.reason
    assert project(fit, 100.0) == []
    assert fit.reading.startswith("Cannot fit the cost curve yet")


def test_no_variation_in_users_cannot_fit_yet() -> None:
    fit = fit_power_law([500] * 10, np.linspace(1, 2, 10))
    assert not fit.ok and "barely varies" in fit.reason


def test_zero_days_are_excluded_not_fatal() -> None:
    users, cost = _days(np.random.default_rng(2), 1.0, days=12)
    users[3] = 0
    cost[5] = 0.0
    fit = fit_power_law(users, cost)
    assert fit.ok and fit.n_points == 10 and fit.excluded == 2


def test_wide_interval_reads_as_uncertain() -> None:
    rng = np.random.default_rng(4)
    users = np.array([100, 110, 120, 105, 115, 125, 108.0])
    cost = users * np.exp(rng.normal(0, 0.5, 7))
    fit = fit_power_law(users, cost)
    assert fit.ok and fit.kind == "uncertain"
    assert "Too uncertain" in fit.reading

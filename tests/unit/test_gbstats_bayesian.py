"""GrowthBook gbstats' published Bayesian vectors (flat and proper priors, inverse metrics, risk) at 5 decimals.

Sources are gbstats 0.8.0 (packages/stats, commit 8f1db44); each test names the gbstats test it ports. "computed"
marks values computed with gbstats 0.8.0 from the same inputs where its tests assert nothing.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from analytics.stats import GaussianPrior, Moments, compare, gaussian_risk, posterior

D5 = 5e-6


def test_binomial_flat_prior() -> None:
    """tests/bayesian/test_tests.py TestBinom.test_bayesian_binomial_ab_test."""
    c = compare(Moments(100, 49, 49), Moments(100, 51, 51), kind="proportion")
    assert c.posterior_lift == pytest.approx(0.04082, abs=D5)
    assert c.posterior_sd == pytest.approx(0.14725, abs=D5)
    assert c.credible_interval == pytest.approx((-0.24779, 0.32943), abs=D5)
    assert c.chance_to_win == pytest.approx(0.60918, abs=D5)
    assert c.risk == pytest.approx(0.04058, abs=D5)  # gbstats' risk[1]: the loss expected from shipping it
    assert gaussian_risk(c.posterior_lift, c.posterior_sd) == pytest.approx((0.0814, 0.04058), abs=D5)
    assert c.risk_scale == "relative"


def test_gaussian_flat_prior() -> None:
    """TestNorm.test_bayesian_gaussian_ab_test."""
    c = compare(Moments(10, 100, 1002.25), Moments(10, 105, 1111.5))
    assert c.posterior_lift == pytest.approx(0.05, abs=D5)
    assert c.posterior_sd == pytest.approx(0.03572, abs=D5)
    assert c.credible_interval == pytest.approx((-0.02, 0.12), abs=D5)
    assert c.chance_to_win == pytest.approx(0.91923, abs=D5)
    assert c.risk == pytest.approx(0.00131, abs=D5)
    assert gaussian_risk(c.posterior_lift, c.posterior_sd)[0] == pytest.approx(0.05131, abs=D5)


def test_gaussian_informative_prior() -> None:
    """TestNorm.test_bayesian_gaussian_ab_test_informative: prior N(0.1, 0.1) on the relative lift."""
    prior = GaussianPrior(mean=0.1, sd=math.sqrt(0.1))
    c = compare(Moments(10, 100, 1002.25), Moments(10, 105, 1111.5), prior=prior)
    assert c.posterior_lift == pytest.approx(0.05063, abs=D5)
    assert c.posterior_sd == pytest.approx(0.03549, abs=D5)
    assert c.credible_interval == pytest.approx((-0.01893, 0.12019), abs=D5)
    assert c.chance_to_win == pytest.approx(0.92315, abs=D5)
    assert c.risk == pytest.approx(0.00123, abs=D5)
    assert gaussian_risk(c.posterior_lift, c.posterior_sd)[0] == pytest.approx(0.05186, abs=D5)
    # The prior changes the Bayesian view only: the frequentist estimate and p-values stay as they were.
    flat = compare(Moments(10, 100, 1002.25), Moments(10, 105, 1111.5))
    assert c.rel_lift == flat.rel_lift and c.rel_p_value == flat.rel_p_value and c.prior_sd == math.sqrt(0.1)


# test_gbstats.py MULTI_DIMENSION_STATISTICS_DF, dimension "one": control "zero", variant "one"
ZERO, ONE = Moments(100, 270, 848.79), Moments(120, 300, 869)


def test_count_metric_higher_is_better() -> None:
    """TestAnalyzeMetricDfBayesian.test_get_metric_dfs_new."""
    c = compare(ZERO, ONE)
    assert c.posterior_lift == pytest.approx(-0.074074074, abs=1e-9)
    assert c.chance_to_win == pytest.approx(0.071834168, abs=1e-9)
    assert c.risk == pytest.approx(0.075691131, abs=1e-9)


def test_inverse_metric_is_mirrored() -> None:
    """TestAnalyzeMetricDfBayesian.test_get_metric_dfs_inverse: for a lower-is-better metric (a cost) a 7% drop
    is a win: chance to win 92.8%, risk 0.16% (Liftboard printed 7.2% and 7.57% before)."""
    c = compare(ZERO, ONE, lower_is_better=True)
    assert c.lower_is_better
    assert c.posterior_lift == pytest.approx(-0.074074074, abs=1e-9)
    assert c.chance_to_win == pytest.approx(1 - 0.071834168, abs=1e-9)
    assert c.risk == pytest.approx(0.001617057, abs=1e-9)


def test_inverse_metric_with_a_proper_prior() -> None:
    """computed: the same inverse count metric with GrowthBook's proper prior N(0, 0.1²) on the relative lift."""
    c = compare(ZERO, ONE, lower_is_better=True, prior=GaussianPrior(sd=0.1))
    assert c.posterior_lift == pytest.approx(-0.05894737472597249, abs=D5)
    assert c.posterior_sd == pytest.approx(0.04518964939002871, abs=D5)
    assert c.credible_interval == pytest.approx((-0.1475174600044212, 0.0296227105524762), abs=D5)
    assert c.chance_to_win == pytest.approx(0.9039589084195241, abs=D5)
    assert c.risk == pytest.approx(0.002038028480776524, abs=D5)
    two = compare(
        Moments(200, 740, 3615.59), Moments(220, 770, 3571), lower_is_better=True
    )  # dimension "two"
    assert two.chance_to_win == pytest.approx(0.8478279411160458, abs=D5)
    assert two.risk == pytest.approx(0.004162321093831818, abs=D5)


def _quantile_moments():
    """tests/bayesian/test_tests.py TestEffectBayesianABTest: p90 of two arms with their rank-bound intervals."""
    from analytics.stats import QuantileMoments

    c = QuantileMoments(n=11054, nu=0.9, estimate=7.157987489967789, lower=7.098780136176828,
                        upper=7.217194843758751)  # fmt: skip
    t = QuantileMoments(n=10861, nu=0.9, estimate=7.694499927525767, lower=7.64180598628119,
                        upper=7.747193868770344)  # fmt: skip
    return c, t


def test_quantile_posteriors_absolute_and_relative_with_priors() -> None:
    """TestEffectBayesianABTest.test_bayesian_effect_ab_test: improper, flat (variance 1e6) and informative
    (variance 1) priors; GrowthBook's relative prior is scaled by the control quantile for the absolute scale."""
    c = compare(*_quantile_moments())
    assert c.posterior_lift == pytest.approx(0.07495297222736319, abs=D5)  # relative, flat
    abs_flat = posterior(c.abs_lift, c.se)
    assert abs_flat.mean == pytest.approx(0.5365124375579775, abs=D5)
    assert abs_flat.interval == pytest.approx((0.4572559589115422, 0.6157689162044128), abs=D5)
    scale = abs(c.mean_baseline)
    cases = [
        (GaussianPrior(sd=math.sqrt(1e6)), 0.536512437540855, (0.4572559588956844, 0.6157689161860256)),
        (GaussianPrior(sd=1.0), 0.536495315442269, (0.4572401014910488, 0.6157505293934892)),
    ]
    for prior, mean, ci in cases:
        post = posterior(c.abs_lift, c.se, GaussianPrior(prior.mean * scale, prior.sd * scale))
        assert post.mean == pytest.approx(mean, abs=D5)
        assert post.interval == pytest.approx(ci, abs=D5)
    rel_flat = compare(*_quantile_moments(), prior=GaussianPrior(sd=math.sqrt(1e6)))
    assert rel_flat.posterior_lift == pytest.approx(0.07495297222736319, abs=D5)
    assert rel_flat.credible_interval == pytest.approx((0.06341005842481906, 0.08649588602990732), abs=D5)
    rel_inf = compare(*_quantile_moments(), prior=GaussianPrior(sd=1.0))
    assert rel_inf.posterior_lift == pytest.approx(0.07495037261804469, abs=D5)
    assert rel_inf.credible_interval == pytest.approx((0.06340765898986044, 0.08649308624622894), abs=D5)


def test_risk_matches_simulation() -> None:
    """TestEffectBayesianABTest (second half): risk against 10⁷ posterior draws, 3 decimals."""
    m, s = 0.5365124375579775, 0.5  # a posterior as wide as gbstats' ±1 quantile bounds make it
    rng = np.random.default_rng(20240329)
    y = s * rng.normal(size=10_000_000) + m
    risk_control, risk_variant = gaussian_risk(m, s)
    assert risk_control == pytest.approx(np.mean(np.maximum(y, 0)), abs=5e-4)
    assert risk_variant == pytest.approx(np.mean(np.maximum(-y, 0)), abs=5e-4)


def test_risk_numerical_stability() -> None:
    """TestGetRiskNumericalStability: extreme |μ/σ| and a normal case (10 decimals)."""
    assert gaussian_risk(0.01, 4.5e-9) == (0.01, 0.0)
    assert gaussian_risk(-0.01, 4.5e-9) == (0.0, 0.01)
    got = gaussian_risk(0.1, 0.05)
    assert [round(x, 10) for x in got] == [round(x, 10) for x in (0.1004245351308, 0.0004245351308414)]


def test_credible_interval_level_follows_alpha() -> None:
    c = compare(ZERO, ONE, alpha=0.1)
    z = norm.ppf(0.95)
    assert c.credible_interval == pytest.approx(
        (c.posterior_lift - z * c.posterior_sd, c.posterior_lift + z * c.posterior_sd), abs=1e-12
    )

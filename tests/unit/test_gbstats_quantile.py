"""Quantile metrics (p50/p90/p99 per arm) against gbstats 0.8.0's QuantileStatistic and QuantileClusteredStatistic.

gbstats estimates the standard error of a sample quantile from two other order statistics: the sample quantiles at
levels ν ∓ z·√(ν(1−ν)/n*) (a binomial confidence interval for the rank), so Var = (n*/n)(n−1)(Δ/2z)² per user.
Event-level quantiles (latency of every prediction) are clustered by user: the variance is scaled by the ratio of
the cluster-robust to the i.i.d. variance of the share of events below the quantile. Published vectors are in
tests/bayesian/test_tests.py and tests/test_shared_models.py; "computed" values come from gbstats 0.8.0 itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import norm

from analytics.errors import LiftboardError
from analytics.stats import ClusterSums, QuantileMoments, compare, quantile_levels

D5 = 5e-6
VECTORS = json.loads((Path(__file__).with_name("gbstats_vectors.json")).read_text())

# tests/bayesian/test_tests.py TestEffectBayesianABTest (also test_shared_models.py TestSumStats)
QC = QuantileMoments(
    n=11054, nu=0.9, estimate=7.157987489967789, lower=7.098780136176828, upper=7.217194843758751
)
QT = QuantileMoments(
    n=10861, nu=0.9, estimate=7.694499927525767, lower=7.64180598628119, upper=7.747193868770344
)


def test_quantile_frequentist_relative_and_absolute() -> None:
    """computed: gbstats TwoSidedTTest on the published quantile statistics."""
    c = compare(QC, QT)
    assert c.kind == "quantile"
    assert c.mean_baseline == QC.estimate and c.mean_variant == QT.estimate
    assert c.rel_lift == pytest.approx(0.07495297222996289, abs=D5)
    assert c.rel_se == pytest.approx(0.005889349954281477, abs=D5)
    assert c.rel_ci == pytest.approx((0.06340941348955016, 0.08649653097037562), abs=D5)
    assert c.abs_lift == pytest.approx(0.5365124375579775, abs=D5)
    assert c.se == pytest.approx(0.040437721953872775, abs=D5)
    assert c.abs_ci == pytest.approx((0.45725153061125173, 0.6157733445047033), abs=D5)
    assert c.df == pytest.approx(21663.958355118295, rel=1e-9)
    assert c.p_value < 1e-9 and c.rel_p_value < 1e-9 and c.significant


def test_quantile_sequential() -> None:
    """computed: gbstats SequentialTwoSidedTTest (N* = 5000) on the same statistics."""
    c = compare(QC, QT, sequential=True)
    assert c.rel_ci == pytest.approx((0.05647498717686122, 0.09343095728306455), abs=D5)
    assert c.abs_ci == pytest.approx((0.4096380579327809, 0.663386817183174), abs=D5)


def test_quantile_with_a_grid_sample_size() -> None:
    """computed: bounds evaluated at n* = 6400 < n (GrowthBook's SQL grid) widen the variance by n*/n."""
    c = QuantileMoments(n=11054, nu=0.9, estimate=7.157987489967789, lower=7.08, upper=7.24, n_star=6400)
    t = QuantileMoments(n=10861, nu=0.9, estimate=7.694499927525767, lower=7.62, upper=7.77, n_star=6400)
    res = compare(c, t)
    assert res.rel_se == pytest.approx(0.006212171945592956, abs=D5)
    assert res.rel_ci == pytest.approx((0.06277666491563794, 0.08712927954428784), abs=D5)
    assert res.df == pytest.approx(21864.969208366954, rel=1e-9)


def test_event_quantile_clustered_by_user() -> None:
    """computed: gbstats QuantileClusteredStatistic (quantile_event metrics) on simulated latencies."""
    v = VECTORS["quantile_clustered"]

    def arm(d: dict) -> QuantileMoments:
        clusters = ClusterSums(
            d["n_clusters"], d["sum_s"], d["sum_s_sq"], d["sum_d"], d["sum_d_sq"], d["sum_sd"]
        )
        return QuantileMoments(n=d["n"], nu=d["nu"], estimate=d["estimate"], lower=d["lower"], upper=d["upper"],
                               clusters=clusters)  # fmt: skip

    c = compare(arm(v["control"]), arm(v["variant"]))
    assert c.var_baseline == pytest.approx(v["var_control"], rel=1e-9)
    for key, got in (("relative", (c.rel_lift, c.rel_se, c.rel_ci, c.rel_p_value)),
                     ("absolute", (c.abs_lift, c.se, c.abs_ci, c.p_value))):  # fmt: skip
        want = v[key]
        assert got[0] == pytest.approx(want["estimate"], abs=D5)
        assert got[1] == pytest.approx(want["se"], abs=D5)
        assert got[2] == pytest.approx(tuple(want["ci"]), abs=D5)
        assert got[3] == pytest.approx(want["p"], abs=D5)
    # Here the absolute difference is significant (p = 0.049) but the relative one is not (p = 0.055): the mark
    # follows the estimand that is drawn, the relative one by default.
    assert (
        not c.significant and compare(arm(v["control"]), arm(v["variant"]), estimand="absolute").significant
    )


def test_quantile_levels_are_the_binomial_rank_interval() -> None:
    """GrowthBook's getQuantileBoundValues: ν ∓ z·√(ν(1−ν)/n), clipped to (1e-8, 1 − 1e-8), z for 95%."""
    lo, hi = quantile_levels(0.9, 10_000)
    z = norm.ppf(0.975)
    assert (lo, hi) == pytest.approx((0.9 - z * 0.003, 0.9 + z * 0.003), abs=1e-15)
    assert quantile_levels(0.999, 50) == pytest.approx((0.999 - z * np.sqrt(0.999 * 0.001 / 50), 0.99999999))


def test_collapsed_bounds_are_refused() -> None:
    """test_shared_models.py TestQuantileStatisticZeroVariance: lower == upper (an atom at the quantile) has no
    variance to test with; gbstats returns ZERO_NEGATIVE_VARIANCE, Liftboard says what happened."""
    flat = QuantileMoments(n=60_000_000, nu=0.9, estimate=5.0, lower=5.0, upper=5.0)
    ok = QuantileMoments(n=60_000_000, nu=0.9, estimate=5.0, lower=4.99, upper=5.01)
    with pytest.raises(LiftboardError, match=r"arm 'control'.*p90.*same value"):
        compare(flat, ok, metric="quantile:latency_ms:p90")


def test_too_few_values_for_the_quantile_are_refused() -> None:
    """gbstats QuantileStatistic._has_zero_variance: n ≤ z²·ν/(1−ν) leaves the rank interval outside (0, n)."""
    small = QuantileMoments(n=30, nu=0.9, estimate=5.0, lower=4.0, upper=6.0)  # needs n > 34.6 for p90
    with pytest.raises(LiftboardError, match=r"arm 'ai'.*at least 35"):
        compare(QC, small, names=("control", "ai"), metric="quantile:latency_ms:p90")
    with pytest.raises(LiftboardError, match="between"):
        QuantileMoments(n=100, nu=1.2, estimate=1.0, lower=0.0, upper=2.0)

"""Drift statistics on binned counts, checked by hand and against scipy / statsmodels on raw data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon
from statsmodels.stats.proportion import proportions_ztest

from analytics.drift import stats as ds


def _binned(edges: np.ndarray, *samples: np.ndarray) -> list[np.ndarray]:
    """Counts on (-inf, e0], (e0, e1], …, (e_last, inf), like DuckDB's histogram(x, boundaries)."""
    return [np.bincount(np.searchsorted(edges, s, side="left"), minlength=len(edges) + 1) for s in samples]


def test_psi_by_hand() -> None:
    # The textbook formula on shares: (0.3 − 0.5)·ln(0.3/0.5) + 0 + (0.4 − 0.2)·ln(0.4/0.2) = 0.2408.
    assert ds.psi([50, 30, 20], [30, 30, 40]) == pytest.approx(0.2 * math.log(5 / 3) + 0.2 * math.log(2))
    assert ds.psi([50, 30, 20], [30, 30, 40]) == pytest.approx(0.2408, abs=1e-4)
    # An empty bin takes the share 1e-4: (0.5 − 1)·ln(0.5/1) + (0.5 − 1e-4)·ln(0.5/1e-4).
    assert ds.psi([100, 0], [50, 50]) == pytest.approx(
        -0.5 * math.log(0.5) + (0.5 - 1e-4) * math.log(0.5 / 1e-4)
    )
    # Identical shares give exactly 0 whatever the sizes, empty bins included.
    assert ds.psi([0, 1400, 0], [0, 200, 0]) == 0.0


def test_psi_is_finite_with_empty_bins_and_zero_when_undefined() -> None:
    value = ds.psi([100, 0, 0], [0, 0, 100])
    assert math.isfinite(value) and value > 5
    assert ds.psi([10, 20], [10, 20]) == 0.0
    assert ds.psi([5], [7]) == 0.0  # one bin: nothing to compare
    assert ds.psi([0, 0], [3, 4]) == 0.0  # an empty side
    assert ds.psi([3, 4], [0, 0]) == 0.0


def test_ks_exact_when_bins_are_every_distinct_value() -> None:
    rng = np.random.default_rng(1)
    a = rng.integers(0, 40, 3000).astype(float)
    b = rng.integers(2, 42, 2500).astype(float)
    edges = np.unique(np.concatenate([a, b]))
    ra, rb = _binned(edges, a, b)
    d, p = ds.ks_binned(ra, rb)
    ref = stats.ks_2samp(a, b, method="asymp")
    assert d == pytest.approx(ref.statistic, abs=1e-12)
    assert p == pytest.approx(ref.pvalue, rel=1e-9)


@pytest.mark.parametrize("shift", [0.0, 0.05, 0.2])
def test_ks_on_percentile_bins_is_close_to_scipy(shift: float) -> None:
    rng = np.random.default_rng(2)
    a = rng.normal(0, 1, 20_000)
    b = rng.normal(shift, 1, 5_000)
    edges = np.quantile(a, np.arange(1, 100) / 100)
    ra, rb = _binned(edges, a, b)
    d, p = ds.ks_binned(ra, rb)
    ref = stats.ks_2samp(a, b, method="asymp")
    # A binned approximation: a lower bound, off by at most about one fine bin's mass (1%).
    assert d <= ref.statistic + 1e-12
    assert d == pytest.approx(ref.statistic, abs=0.012)
    if shift >= 0.2:
        assert p < 1e-10 and ref.pvalue < 1e-10


@pytest.mark.parametrize(("dist", "shift"), [("normal", 0.3), ("lognormal", 0.2), ("normal", 0.0)])
def test_wasserstein_on_percentile_bins_is_close_to_scipy(dist: str, shift: float) -> None:
    rng = np.random.default_rng(3)
    draw = rng.normal if dist == "normal" else rng.lognormal
    a = draw(0, 1, 20_000)
    b = draw(shift, 1, 5_000)
    # The engine's grid: the reference minimum and its fine quantiles (percentiles plus tail points).
    edges = np.unique(np.quantile(a, [0.0, *ds.FINE_PROBS], method="inverted_cdf"))
    ra, rb = _binned(edges, a, b)
    w = ds.wasserstein_binned(edges, ra, rb, (a.min(), a.max()), (b.min(), b.max()))
    exact = stats.wasserstein_distance(a, b)
    scale = a.std(ddof=1)
    # Normalised by the reference std, the binned value is within 0.01 σ of scipy's on raw data.
    assert abs(w - exact) / scale < 0.01
    if shift:
        assert w == pytest.approx(exact, rel=0.05)


def test_wasserstein_of_point_masses_is_the_gap() -> None:
    edges = np.array([1.0, 2.0, 3.0])
    w = ds.wasserstein_binned(edges, [10, 0, 0, 0], [0, 0, 10, 0], (1.0, 1.0), (3.0, 3.0))
    assert w == pytest.approx(2.0)
    assert ds.wasserstein_binned(edges, [0, 0, 0, 0], [1, 0, 0, 0], (0, 0), (1, 1)) == 0.0


def test_js_distance_by_hand_and_scipy() -> None:
    assert ds.js_distance([1, 0], [0, 1]) == pytest.approx(1.0)
    # P = (.5, .5), Q = (1, 0): M = (.75, .25); JSD = (0.2075 + 0.4150) / 2; distance = sqrt.
    kl_pm = 0.5 * math.log2(0.5 / 0.75) + 0.5 * math.log2(0.5 / 0.25)
    kl_qm = math.log2(1 / 0.75)
    assert ds.js_distance([5, 5], [8, 0]) == pytest.approx(math.sqrt((kl_pm + kl_qm) / 2))
    assert ds.js_distance([5, 5], [8, 0]) == pytest.approx(0.5579, abs=1e-4)
    a, b = np.array([120, 80, 30, 0]), np.array([100, 90, 20, 15])
    assert ds.js_distance(a, b) == pytest.approx(jensenshannon(a / a.sum(), b / b.sum(), base=2))
    assert ds.js_distance([0, 0], [1, 2]) == 0.0


def test_chi2_matches_scipy_and_drops_empty_categories() -> None:
    a, b = [120, 80, 30, 0], [100, 90, 20, 0]
    expected = stats.chi2_contingency(np.array([[120, 80, 30], [100, 90, 20]]), correction=False).pvalue
    assert ds.chi2_p(a, b) == pytest.approx(expected)
    assert ds.chi2_p([10, 0], [12, 0]) == 1.0  # one category left: no test


def test_two_proportion_p_matches_statsmodels() -> None:
    _, expected = proportions_ztest([30, 55], [1000, 1100])
    assert ds.two_proportion_p(30, 1000, 55, 1100) == pytest.approx(expected)
    assert ds.two_proportion_p(0, 100, 0, 50) == 1.0
    assert ds.two_proportion_p(1, 0, 1, 5) == 1.0


def test_learned_threshold_is_mean_plus_three_sigma_with_floor() -> None:
    assert ds.learned_threshold([0.01, 0.02, 0.03]) == pytest.approx(0.02 + 3 * 0.01)
    assert ds.learned_threshold([0.01, 0.02, 0.03], floor=0.1) == 0.1
    assert ds.learned_threshold([0.01, 0.02]) is None


def test_ks_p_value_for_large_samples_uses_the_limit_distribution() -> None:
    ref = [500_000, 500_000]
    ps = []
    for cur in ([250_000, 250_000], [251_000, 249_000], [252_000, 248_000]):
        d, p = ds.ks_binned(ref, cur)
        exact = float(stats.kstwo.sf(d, round(1e6 * 5e5 / 1.5e6)))
        assert p == pytest.approx(exact, abs=2e-3)
        ps.append(p)
    assert ps[0] == 1.0 and 0.05 < ps[1] < 0.3 and ps[2] < 1e-3

"""analytics.stats checked against scipy/statsmodels on raw samples, bootstraps and A/A simulations."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW, ttest_ind

from analytics.errors import LiftboardError
from analytics.stats import (
    Moments,
    adjust,
    arm_mean_var,
    benjamini_hochberg,
    compare,
    holm,
    method_notes,
    srm,
    welch_arrays,
    winsorize_caps,
)


def _random_samples(rng: np.random.Generator, case: int) -> tuple[np.ndarray, np.ndarray]:
    """Control and treatment samples of varied shapes, sizes and variances (0/1 data every third case)."""
    n_c, n_t = rng.integers(5, 3000, size=2)
    if case % 3 == 0:
        p = rng.uniform(0.02, 0.6)
        return rng.binomial(1, p, n_c).astype(float), rng.binomial(1, p * rng.uniform(0.8, 1.3), n_t).astype(
            float
        )
    if case % 3 == 1:
        return rng.normal(10, rng.uniform(0.5, 5), n_c), rng.normal(10.3, rng.uniform(0.5, 5), n_t)
    return rng.lognormal(1, 1.2, n_c), rng.lognormal(1.1, 0.8, n_t)  # skewed, like revenue


def test_welch_matches_scipy_and_statsmodels_on_raw_samples() -> None:
    rng = np.random.default_rng(20260901)
    for case in range(60):
        c, t = _random_samples(rng, case)
        alpha = [0.05, 0.01, 0.1][case % 3]
        res = compare(Moments.of(c), Moments.of(t), alpha=alpha, kind="mean", bayesian=False)
        ref = sps.ttest_ind(t, c, equal_var=False)
        ci_scipy = ref.confidence_interval(1 - alpha)
        ci_sm = CompareMeans(DescrStatsW(t), DescrStatsW(c)).tconfint_diff(alpha=alpha, usevar="unequal")
        _, _, df_sm = ttest_ind(t, c, usevar="unequal")
        assert res.abs_lift == pytest.approx(t.mean() - c.mean(), abs=1e-9)
        assert res.p_value == pytest.approx(ref.pvalue, abs=1e-9)
        assert res.df == pytest.approx(df_sm, rel=1e-9)
        assert res.abs_ci[0] == pytest.approx(ci_sm[0], abs=1e-9)
        assert res.abs_ci[1] == pytest.approx(ci_sm[1], abs=1e-9)
        assert res.abs_ci[0] == pytest.approx(ci_scipy.low, abs=1e-9)
        assert res.abs_ci[1] == pytest.approx(ci_scipy.high, abs=1e-9)
        assert res.significant == (ref.pvalue < alpha)


def test_proportion_variance_is_p_times_one_minus_p_and_matches_welch_from_stats() -> None:
    rng = np.random.default_rng(7)
    for _ in range(40):
        n_c, n_t = (int(v) for v in rng.integers(50, 20000, size=2))
        s_c, s_t = int(rng.binomial(n_c, 0.1)), int(rng.binomial(n_t, 0.108))
        res = compare(Moments(n_c, s_c, s_c), Moments(n_t, s_t, s_t), kind="proportion")
        p_c, p_t = s_c / n_c, s_t / n_t
        ref = sps.ttest_ind_from_stats(
            p_t, math.sqrt(p_t * (1 - p_t)), n_t, p_c, math.sqrt(p_c * (1 - p_c)), n_c, equal_var=False
        )
        se = math.sqrt(p_t * (1 - p_t) / n_t + p_c * (1 - p_c) / n_c)
        assert res.var_baseline == pytest.approx(p_c * (1 - p_c), abs=1e-15)
        assert res.se == pytest.approx(se, rel=1e-12)
        assert res.p_value == pytest.approx(ref.pvalue, abs=1e-9)
        half = sps.t.ppf(0.975, res.df) * se
        assert res.abs_ci == pytest.approx((p_t - p_c - half, p_t - p_c + half), abs=1e-9)
        # The relative interval uses GrowthBook's delta-method variance.
        rel_var = p_t * (1 - p_t) / (p_c**2 * n_t) + p_c * (1 - p_c) * p_t**2 / (p_c**4 * n_c)
        assert res.rel_se == pytest.approx(math.sqrt(rel_var), rel=1e-12)
        assert res.rel_lift == pytest.approx((p_t - p_c) / p_c, rel=1e-12)


def test_welch_arrays_agree_with_compare() -> None:
    rng = np.random.default_rng(3)
    arms = [(Moments.of(rng.normal(1, 2, 300)), Moments.of(rng.normal(1.2, 1, 500))) for _ in range(5)]
    means = [[arm_mean_var(a)[0] for a in pair] for pair in arms]
    vars_ = [[arm_mean_var(a)[1] for a in pair] for pair in arms]
    out = welch_arrays(
        [m[0] for m in means], [v[0] for v in vars_], [300] * 5,
        [m[1] for m in means], [v[1] for v in vars_], [500] * 5,
    )  # fmt: skip
    for i, (c, t) in enumerate(arms):
        res = compare(c, t)
        assert out["p_value"][i] == pytest.approx(res.p_value, abs=1e-15)
        assert out["lo"][i] == pytest.approx(res.abs_ci[0], abs=1e-15)


def _bootstrap_sd(rng: np.random.Generator, stat, *arrays: np.ndarray, reps: int = 2000) -> float:
    """SD of a statistic of resampled sums over bootstrap resamples (vectorised)."""
    n = arrays[0].size
    idx = rng.integers(0, n, (reps, n))
    return float(np.std(stat(*(a[idx].sum(axis=1) for a in arrays), n), ddof=1))


def test_relative_lift_delta_method_matches_bootstrap() -> None:
    rng = np.random.default_rng(11)
    for _ in range(3):
        c, t = rng.lognormal(1.0, 1.0, 3000), rng.lognormal(1.05, 1.0, 2500)
        res = compare(Moments.of(c), Moments.of(t))
        mean_c = c[rng.integers(0, c.size, (2000, c.size))].mean(axis=1)
        mean_t = t[rng.integers(0, t.size, (2000, t.size))].mean(axis=1)
        boot_sd = float(np.std((mean_t - mean_c) / mean_c, ddof=1))
        assert res.rel_se == pytest.approx(boot_sd, rel=0.07)


def test_ratio_metric_delta_method_matches_bootstrap() -> None:
    rng = np.random.default_rng(12)
    for _ in range(3):
        x = rng.poisson(3.0, 4000).astype(float)  # denominator: views per user
        y = rng.binomial(x.astype(int), 0.2).astype(float)  # numerator: carts per user, correlated with x
        m = Moments.of(y, x)
        ratio, var = arm_mean_var(m, ratio=True)
        assert ratio == pytest.approx(y.sum() / x.sum(), rel=1e-12)
        boot = _bootstrap_sd(rng, lambda sy, sx, n: sy / sx, y, x)
        assert math.sqrt(var / m.n) == pytest.approx(boot, rel=0.07)
    # Through compare(): the ratio flag is set and the lift is the difference of ratios.
    x2 = rng.poisson(3.0, 4000).astype(float)
    y2 = rng.binomial(x2.astype(int), 0.22).astype(float)
    res = compare(m, Moments.of(y2, x2), kind="ratio")
    assert res.ratio and res.abs_lift == pytest.approx(y2.sum() / x2.sum() - y.sum() / x.sum(), rel=1e-12)


def test_srm_matches_scipy_chisquare() -> None:
    rng = np.random.default_rng(5)
    for k in (2, 3, 4):
        for _ in range(10):
            shares = rng.dirichlet(np.ones(k)) + 0.05
            counts = rng.multinomial(20000, shares / shares.sum())
            names = [f"arm{i}" for i in range(k)]
            res = srm(dict(zip(names, counts.tolist(), strict=True)), dict(zip(names, shares, strict=True)))
            ref = sps.chisquare(counts, counts.sum() * shares / shares.sum())
            assert res.chi2 == pytest.approx(ref.statistic, rel=1e-10)
            assert res.p_value == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-300)
            assert res.df == k - 1
    balanced = srm({"control": 25_040, "ai": 24_960})
    assert balanced.ok and balanced.p_value == pytest.approx(sps.chisquare([25_040, 24_960]).pvalue)
    unbalanced = srm({"control": 25_000, "ai": 26_000})  # 49%/51%: a broken assignment
    assert not unbalanced.ok and unbalanced.p_value < 1e-4
    assert json.dumps(unbalanced.as_dict())


def test_srm_rejects_bad_input() -> None:
    with pytest.raises(LiftboardError, match="two arms"):
        srm({"control": 10})
    with pytest.raises(LiftboardError, match="No users"):
        srm({"control": 0, "ai": 0})
    with pytest.raises(LiftboardError, match="mismatched: b"):
        srm({"a": 10, "b": 10}, {"a": 0.5, "c": 0.5})


def test_holm_and_bh_match_statsmodels_multipletests() -> None:
    rng = np.random.default_rng(9)
    for size in (1, 2, 3, 5, 20):
        for rep in range(20):
            p = np.concatenate([rng.uniform(0, 0.05, size // 2), rng.uniform(0, 1, size - size // 2)])
            p[rng.integers(0, size)] = p[0]  # ties
            bh = multipletests(p, method="fdr_bh")[1]
            assert benjamini_hochberg(p) == pytest.approx(bh.tolist(), abs=1e-12)
            if rep < 2:  # statsmodels' Holm runs gc.collect() on every call (~0.1–0.4 s), so fewer cases
                assert holm(p) == pytest.approx(multipletests(p, method="holm")[1].tolist(), abs=1e-12)
    assert holm([]) == [] and benjamini_hochberg([]) == []


def test_adjust_fills_adjusted_p_and_significance() -> None:
    base = Moments(10000, 1000, 1000)
    arms = [Moments(10000, s, s) for s in (1090, 1040, 1000)]
    raw = [compare(base, a, kind="proportion", names=("control", f"v{i}")) for i, a in enumerate(arms)]
    adj = adjust(raw, "holm")
    expected = multipletests([c.p_value for c in raw], method="holm")[1]
    assert [c.p_value_adjusted for c in adj] == pytest.approx(expected.tolist())
    assert [c.significant for c in adj] == [bool(p < 0.05) for p in expected]
    assert raw[0].p_value < 0.05 and adj[0].p_value_adjusted > raw[0].p_value
    bh = adjust(raw, "bh", alpha=0.1)
    assert [c.p_value_adjusted for c in bh] == pytest.approx(
        multipletests([c.p_value for c in raw], method="fdr_bh")[1]
    )
    with pytest.raises(LiftboardError):
        adjust(raw, "bonferroni")  # type: ignore[arg-type]


def test_aa_simulation_rejects_about_five_percent() -> None:
    """20 000 A/A experiments drawn as sufficient statistics: the nominal 5% test rejects 4–6%."""
    rng = np.random.default_rng(2026)
    sims = 20_000
    # Proportions: per-arm sizes and base rates vary between experiments.
    n_c, n_t = rng.integers(300, 20_000, sims), rng.integers(300, 20_000, sims)
    p = rng.uniform(0.03, 0.5, sims)
    s_c, s_t = rng.binomial(n_c, p), rng.binomial(n_t, p)
    pc, pt = s_c / n_c, s_t / n_t
    out = welch_arrays(pc, pc * (1 - pc), n_c, pt, pt * (1 - pt), n_t)
    rate_prop = float(np.mean(out["p_value"] < 0.05))
    # Continuous normal data: Σy ~ N(nμ, nσ²) and Σ(y−ȳ)² ~ σ²χ²(n−1) independently, so Σy² is exact.
    n = rng.integers(20, 5000, (2, sims))
    sigma = np.stack([rng.uniform(0.5, 3, sims)] * 2)
    sums = rng.normal(n * 5.0, np.sqrt(n) * sigma)
    ss = sigma**2 * rng.chisquare(n - 1)
    var = ss / (n - 1)
    out_n = welch_arrays(sums[0] / n[0], var[0], n[0], sums[1] / n[1], var[1], n[1])
    rate_norm = float(np.mean(out_n["p_value"] < 0.05))
    # compare() itself gives the same p-values as the vectorised core on the first experiments.
    for i in range(200):
        res = compare(
            Moments(int(n_c[i]), s_c[i], s_c[i]), Moments(int(n_t[i]), s_t[i], s_t[i]), kind="proportion"
        )
        assert res.p_value == pytest.approx(out["p_value"][i], abs=1e-12)
    print(f"A/A rejection at 5%: proportions {rate_prop:.4f}, normal means {rate_norm:.4f}")
    assert 0.04 <= rate_prop <= 0.06
    assert 0.04 <= rate_norm <= 0.06


def _bivariate(rng: np.random.Generator, sims: int, n: int, rho: float, effect: float) -> dict[str, Moments]:
    x = rng.normal(0, 1, (2, sims, n))
    y = rho * x + math.sqrt(1 - rho**2) * rng.normal(0, 1, (2, sims, n)) + 3.0
    y[1] += effect
    return {
        "s": (x.sum(-1), (x * x).sum(-1), y.sum(-1), (y * y).sum(-1), (x * y).sum(-1)),
        "raw": (x, y),
    }  # type: ignore[return-value]


def test_cuped_keeps_coverage_while_shrinking_the_interval() -> None:
    rng = np.random.default_rng(44)
    sims, n, rho, effect = 1500, 400, 0.7, 0.1
    data = _bivariate(rng, sims, n, rho, effect)
    sx, sxx, sy, syy, sxy = data["s"]
    covered_plain = covered_cuped = 0
    width_ratio, reductions = [], []
    for i in range(sims):
        arms = {
            a: Moments(n, sy[k, i], syy[k, i], sx[k, i], sxx[k, i], sxy[k, i]) for k, a in enumerate("ct")
        }
        plain = compare(arms["c"], arms["t"], bayesian=False)
        adj = compare(arms["c"], arms["t"], bayesian=False, cuped=True)
        covered_plain += plain.abs_ci[0] <= effect <= plain.abs_ci[1]
        covered_cuped += adj.abs_ci[0] <= effect <= adj.abs_ci[1]
        width_ratio.append((adj.abs_ci[1] - adj.abs_ci[0]) / (plain.abs_ci[1] - plain.abs_ci[0]))
        reductions.append(adj.variance_reduction)
        assert adj.cuped and not plain.cuped
    print(f"CUPED coverage {covered_cuped / sims:.3f} (plain {covered_plain / sims:.3f}), "
          f"variance reduction {np.mean(reductions):.3f} vs rho^2 {rho**2:.3f}, width ratio {np.mean(width_ratio):.3f}")  # fmt: skip
    assert 0.93 <= covered_cuped / sims <= 0.97
    assert 0.93 <= covered_plain / sims <= 0.97
    assert np.mean(reductions) == pytest.approx(rho**2, abs=0.01)
    assert np.mean(width_ratio) == pytest.approx(math.sqrt(1 - rho**2), abs=0.01)

    # One experiment in detail, against statsmodels on raw values: θ is the slope of y on x over the users of
    # both arms (GrowthBook's compute_theta), each arm's adjusted mean is ȳ − θx̄, and the relative lift divides
    # the adjusted difference by the unadjusted control mean.
    x, y = (a[:, 0, :] for a in data["raw"])
    arms = {a: Moments.of(y[k], x[k]) for k, a in enumerate("ct")}
    res = compare(arms["c"], arms["t"], cuped=True)
    fit = sm.OLS(y.ravel(), np.column_stack([np.ones(2 * n), x.ravel()])).fit()
    assert res.theta == pytest.approx(fit.params[1], rel=1e-9)
    adj = [y[k] - res.theta * x[k] for k in (0, 1)]
    assert res.abs_lift == pytest.approx(adj[1].mean() - adj[0].mean(), rel=1e-9)
    assert res.rel_lift == pytest.approx((adj[1].mean() - adj[0].mean()) / abs(y[0].mean()), rel=1e-9)
    assert res.var_baseline == pytest.approx(adj[0].var(ddof=1), rel=1e-9)
    assert res.se == pytest.approx(math.sqrt(adj[0].var(ddof=1) / n + adj[1].var(ddof=1) / n), rel=1e-9)
    plain = compare(arms["c"], arms["t"])
    assert res.variance_reduction == pytest.approx(1 - (res.se / plain.se) ** 2, rel=1e-12)
    assert res.mean_baseline == pytest.approx(y[0].mean(), rel=1e-12)  # the means shown are unadjusted


def test_cuped_with_constant_covariate_changes_nothing() -> None:
    rng = np.random.default_rng(1)
    arms = {a: Moments.of(rng.binomial(1, 0.1, 500), np.zeros(500)) for a in ("c", "t")}
    plain = compare(arms["c"], arms["t"], kind="proportion")
    adj = compare(arms["c"], arms["t"], kind="proportion", cuped=True)
    assert adj.theta == 0.0 and adj.variance_reduction == 0.0
    assert adj.abs_lift == pytest.approx(plain.abs_lift) and adj.p_value == pytest.approx(plain.p_value)
    assert adj.var_baseline == pytest.approx(plain.var_baseline, rel=1e-12)  # p(1−p), as without CUPED
    with pytest.raises(LiftboardError, match="ratio"):
        compare(arms["c"], arms["t"], kind="ratio", cuped=True)


def test_bayesian_view() -> None:
    same = compare(Moments(5000, 500, 500), Moments(5000, 500, 500), kind="proportion")
    assert same.chance_to_win == pytest.approx(0.5, abs=1e-12)
    big = compare(Moments(5000, 500, 500), Moments(5000, 650, 650), kind="proportion")
    assert big.chance_to_win > 0.9999 and big.risk < 1e-6
    worse = compare(Moments(5000, 500, 500), Moments(5000, 450, 450), kind="proportion")
    assert worse.chance_to_win < 0.1 and worse.risk > 0.05
    # Expected loss E[max(0, −lift)] against Monte Carlo draws of the Gaussian posterior.
    rng = np.random.default_rng(8)
    for res in (same, big, worse):
        draws = rng.normal(res.rel_lift, res.rel_se, 400_000)
        assert res.risk >= 0.0
        assert res.risk == pytest.approx(np.maximum(0, -draws).mean(), rel=0.02, abs=1e-7)
        assert res.chance_to_win == pytest.approx((draws > 0).mean(), abs=0.003)
        # Mirrored for a lower-is-better metric: a decrease wins, and the risk is that of an increase.
        inv = compare(Moments(5000, 500, 500), Moments(5000, res.mean_variant * 5000, res.mean_variant * 5000),
                      kind="proportion", lower_is_better=True)  # fmt: skip
        assert inv.chance_to_win == pytest.approx(1 - res.chance_to_win, abs=1e-12)
        assert inv.risk == pytest.approx(np.maximum(0, draws).mean(), rel=0.02, abs=1e-7)
    assert compare(Moments(50, 5, 5), Moments(50, 6, 6), bayesian=False).chance_to_win is None


def _floats(doc: object) -> list[float]:
    if isinstance(doc, dict):
        return [f for v in doc.values() for f in _floats(v)]
    if isinstance(doc, list | tuple):
        return [f for v in doc for f in _floats(v)]
    return [doc] if isinstance(doc, float) else []


def test_degenerate_input_raises_or_is_defined() -> None:
    ok = Moments(100, 10, 10)
    for bad in (Moments(1, 1, 1), Moments(0, 0, 0)):
        with pytest.raises(LiftboardError, match="Arm 'ai' has [01] user"):
            compare(ok, bad, kind="proportion")
    with pytest.raises(LiftboardError, match="denominator"):
        compare(Moments(10, 0, 0, 0, 0, 0), Moments(10, 3, 3, 5, 5, 3), kind="ratio")
    with pytest.raises(LiftboardError, match="between 0 and 1"):
        compare(ok, ok, alpha=5)
    with pytest.raises(LiftboardError, match="infinite"):
        compare(ok, Moments(100, math.nan, 1))
    with pytest.raises(LiftboardError, match="more conversions than users"):
        compare(ok, Moments(100, 300, 900), kind="proportion")
    # No variation at all: a defined result, with a note.
    flat = compare(Moments(100, 0, 0), Moments(100, 0, 0), kind="proportion")
    assert flat.p_value == 1.0 and flat.abs_ci == (0.0, 0.0) and not flat.significant
    assert flat.rel_lift is None and any("no variation" in n for n in flat.notes)
    # Control mean 0 (cost guardrail: the control arm has no AI cost): relative lift undefined, not NaN.
    rng = np.random.default_rng(2)
    cost = compare(Moments(500, 0.0, 0.0), Moments.of(rng.gamma(2.0, 0.01, 500)))
    assert cost.rel_lift is None and cost.rel_ci is None and cost.rel_p_value is None
    assert (
        cost.estimand == "absolute" and cost.significant
    )  # the mark follows the absolute lift, the one defined
    assert cost.chance_to_win > 0.999 and cost.p_value < 1e-10 and cost.df == pytest.approx(499)
    assert cost.risk_scale == "absolute" and cost.risk == pytest.approx(0.0, abs=1e-12)
    # As a lower-is-better metric (an AI cost) the same numbers are a sure loss of about the cost added.
    paid = compare(Moments(500, 0.0, 0.0), Moments.of(rng.gamma(2.0, 0.01, 500)), lower_is_better=True)
    assert paid.chance_to_win < 0.001 and paid.risk == pytest.approx(paid.abs_lift, rel=1e-6)
    assert any("relative lift is undefined" in n for n in cost.notes)
    for res in (flat, cost):
        doc = res.as_dict()
        assert all(math.isfinite(f) for f in _floats(doc))
        json.dumps(doc, allow_nan=False)


def test_moments_add_and_of() -> None:
    rng = np.random.default_rng(4)
    y, x = rng.normal(size=100), rng.normal(size=100)
    total = Moments.of(y[:40], x[:40]) + Moments.of(y[40:], x[40:])
    whole = Moments.of(y, x)
    assert total.n == 100
    for field in ("sum", "sum_sq", "sum_x", "sum_x_sq", "sum_xy"):
        assert getattr(total, field) == pytest.approx(getattr(whole, field), rel=1e-12, abs=1e-12)


def test_winsorize_caps_and_method_notes() -> None:
    assert winsorize_caps(99) == (None, 0.99)
    assert winsorize_caps(0.95, two_sided=True) == pytest.approx((0.05, 0.95))
    with pytest.raises(LiftboardError):
        winsorize_caps(20)
    fixed = method_notes("proportion", sequential=False, cuped=False, alpha=0.05)
    seq = method_notes("ratio", sequential=True, cuped=True, alpha=0.1)
    assert "Welch" in fixed and "p(1−p)" in fixed and "95%" in fixed
    assert "confidence sequence" in seq and "N* = 5000" in seq and "CUPED" in seq and "90%" in seq
    assert "delta-method" in seq and "CUPED" not in fixed


def test_ratio_metric_aa_simulation_rejects_about_five_percent() -> None:
    """4 000 A/A experiments on a ratio metric (carts per view, clustered by user): 4–6% rejections."""
    rng = np.random.default_rng(77)
    sims, n = 4000, 400
    x = rng.poisson(rng.gamma(2.0, 1.5, (2, sims, n)))  # views per user, overdispersed
    y = rng.binomial(x, rng.beta(2, 8, (2, sims, n)))  # carts per user, rate varies between users
    sums = [a.sum(-1).astype(float) for a in (y, y * y, x, x * x, x * y)]
    rejections = 0
    for i in range(sims):
        c, t = (Moments(n, *(float(s[k, i]) for s in sums)) for k in (0, 1))
        rejections += compare(c, t, kind="ratio", bayesian=False).p_value < 0.05
    print(f"ratio A/A rejection at 5%: {rejections / sims:.4f}")
    assert 0.04 <= rejections / sims <= 0.06


def test_matches_growthbook_reference_values() -> None:
    """The published expectations of GrowthBook's gbstats unit tests for TwoSidedTTest (5 decimals)."""
    a, b = Moments(3407, 1396.87, 52377.9767), Moments(3461, 2422.7, 134698.29)
    res = compare(a, b)
    assert res.rel_lift == pytest.approx(0.70732, abs=5e-6)
    assert res.rel_se == pytest.approx(0.37879, abs=5e-6)
    assert res.rel_ci == pytest.approx((-0.03526, 1.44989), abs=5e-6)
    assert res.abs_lift == pytest.approx(0.29, abs=5e-6)
    assert res.se == pytest.approx(0.12478, abs=5e-6)
    assert res.abs_ci == pytest.approx((0.04538, 0.53462), abs=5e-6)
    assert res.p_value == pytest.approx(0.02016, abs=5e-6)  # GrowthBook's absolute-difference p-value
    binom = compare(Moments(28, 14, 14), Moments(30, 16, 16), kind="proportion")
    assert binom.rel_lift == pytest.approx(0.06667, abs=5e-6)
    assert binom.rel_se == pytest.approx(0.2717, abs=5e-6)
    assert binom.rel_ci == pytest.approx((-0.47767, 0.61101), abs=5e-6)

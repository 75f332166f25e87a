"""GrowthBook gbstats' published frequentist vectors (fixed, sequential, one-sided, CUPED, power) at 5 decimals.

Sources are gbstats 0.8.0 (github.com/growthbook/growthbook, packages/stats, commit 8f1db44): each test names the
gbstats test it ports. Values marked "computed" were not asserted in gbstats' own tests; they were computed with
gbstats 0.8.0 in a throwaway venv from the same inputs (gbstats is not a dependency of these tests).
"""

from __future__ import annotations

import math

import pytest

from analytics.errors import LiftboardError
from analytics.stats import Moments, adjust, compare, noninferiority, sample_size_per_arm

D5 = 5e-6  # "equal at 5 decimals", as gbstats' own tests round

# tests/frequentist/test_tests.py: TestTwoSidedTTest.setUp
A = Moments(3407, 1396.87, 52377.9767)
B = Moments(3461, 2422.7, 134698.29)
# tests/frequentist/test_tests.py: TestOneSided*/TestSequential* use n = 3000 for the control
A3000 = Moments(3000, 1396.87, 52377.9767)


def test_two_sided_relative_and_absolute_each_with_its_own_p_value() -> None:
    """TestTwoSidedTTest.test_two_sided_ttest (relative) and test_two_sided_ttest_absolute."""
    c = compare(A, B)
    assert c.rel_lift == pytest.approx(0.70732, abs=D5)
    assert c.rel_se == pytest.approx(0.37879, abs=D5)
    assert c.rel_ci == pytest.approx((-0.03526, 1.44989), abs=D5)
    assert c.rel_p_value == pytest.approx(0.06191, abs=D5)  # the relative lift's p: agrees with its interval
    assert c.abs_lift == pytest.approx(0.29, abs=D5)
    assert c.se == pytest.approx(0.12478, abs=D5)
    assert c.abs_ci == pytest.approx((0.04538, 0.53462), abs=D5)
    assert c.p_value == pytest.approx(0.02016, abs=D5)  # the absolute difference's p
    # The page draws the relative interval, which crosses 0, so the mark follows the relative p: no ✓.
    assert c.estimand == "relative" and not c.significant
    assert compare(A, B, estimand="absolute").significant


def test_two_sided_binomial() -> None:
    """TestTwoSidedTTest.test_two_sided_ttest_binom (relative); the absolute p is computed."""
    c = compare(Moments(28, 14, 14), Moments(30, 16, 16), kind="proportion")
    assert c.rel_lift == pytest.approx(0.06667, abs=D5)
    assert c.rel_se == pytest.approx(0.2717, abs=D5)
    assert c.rel_ci == pytest.approx((-0.47767, 0.61101), abs=D5)
    assert c.rel_p_value == pytest.approx(0.80707, abs=D5)
    assert c.abs_ci == pytest.approx((-0.22961, 0.29628), abs=D5)  # computed
    assert c.p_value == pytest.approx(0.80045, abs=D5)  # computed


def test_count_metric_end_to_end_vectors() -> None:
    """test_gbstats.py TestAnalyzeMetricDfFrequentist.test_get_metric_dfs_frequentist (dimension "one")."""
    control, variant = Moments(100, 270, 848.79), Moments(120, 300, 869)
    c = compare(control, variant)
    assert c.mean_baseline == pytest.approx(2.7, abs=1e-9) and c.mean_variant == pytest.approx(2.5, abs=1e-9)
    assert c.rel_lift == pytest.approx(-0.074074074, abs=1e-9)
    assert c.rel_p_value == pytest.approx(0.145219005, abs=1e-9)
    assert c.p_value == pytest.approx(0.16330, abs=D5)  # computed: the absolute difference's p


def test_sequential_vectors() -> None:
    """TestSequentialTTest.test_sequential_test_runs (N* = 1000) and test_sequential_test_runs_prop."""
    mean = compare(A3000, B, sequential=True, n_star=1000)
    assert mean.rel_lift == pytest.approx(0.50336, abs=D5)
    assert mean.rel_se == pytest.approx(0.33341, abs=D5)
    assert mean.rel_ci == pytest.approx((-0.55844, 1.56516), abs=D5)
    assert mean.rel_p_value == pytest.approx(1.0, abs=D5)
    prop = compare(Moments(3000, 1396, 1396), Moments(3461, 2422, 2422), kind="proportion", sequential=True)
    assert prop.rel_lift == pytest.approx(0.50386, abs=D5)
    assert prop.rel_se == pytest.approx(0.03386, abs=D5)
    assert prop.rel_ci == pytest.approx((0.40098, 0.60675), abs=D5)
    assert prop.rel_p_value == pytest.approx(0.0, abs=D5) and prop.significant


def test_sequential_count_metric_vector() -> None:
    """test_gbstats.py TestAnalyzeMetricDfSequential.test_analyze_metric_df_sequential (N* = 600)."""
    c = compare(Moments(100, 270, 848.79), Moments(120, 300, 869), sequential=True, n_star=600)
    assert c.rel_lift == pytest.approx(-0.074074074, abs=1e-9)
    assert c.rel_p_value == pytest.approx(0.892332229, abs=1e-9)
    assert c.rel_ci[0] == pytest.approx(-0.233322085, abs=1e-9)
    wide = compare(Moments(100, 270, 848.79), Moments(120, 300, 869), sequential=True, n_star=1)
    assert wide.rel_ci[0] < c.rel_ci[0]  # a bad tuning widens the interval (same test)


def test_sequential_tuning_is_tightest_near_the_sample_size() -> None:
    """TestSequentialTTest.test_sequential_test_tuning_as_expected (N = 6461)."""
    below, near, above = (compare(A3000, B, sequential=True, n_star=s) for s in (10, 6461, 10_000))
    assert below.rel_ci[0] < above.rel_ci[0] and below.rel_ci[1] > above.rel_ci[1]
    assert below.rel_ci[0] < near.rel_ci[0] and below.rel_ci[1] > near.rel_ci[1]
    assert above.rel_ci[0] < near.rel_ci[0] and above.rel_ci[1] > near.rel_ci[1]


# -- one-sided tests: the non-inferiority guardrail with a margin of 0 is gbstats' one-sided t test ---------


def test_one_sided_greater_is_the_guardrail_of_a_higher_is_better_metric() -> None:
    """TestOneSidedGreaterTTest.test_one_sided_ttest and test_one_sided_ttest_absolute."""
    c = compare(A3000, B)
    rel = noninferiority(c, 0.0)
    assert c.rel_lift == pytest.approx(0.5033610858562358, abs=D5)
    assert c.rel_se == pytest.approx(0.3334122146400735, abs=D5)
    assert rel.bound == pytest.approx(-0.045136675850396046, abs=D5)  # the one-sided lower bound
    assert rel.p_value == pytest.approx(0.06558262868467746, abs=D5)
    assert not rel.passed  # the bound is below the margin (0): not shown to be non-inferior
    ab = noninferiority(c, 0.0, estimand="absolute")
    assert c.abs_lift == pytest.approx(0.23437666666666668, abs=D5)
    assert c.se == pytest.approx(0.12983081254184736, abs=D5)
    assert ab.bound == pytest.approx(0.020791480063255735, abs=D5)
    assert ab.p_value == pytest.approx(0.03554272489873023, abs=D5)
    assert ab.passed


def test_one_sided_lesser_is_the_guardrail_of_a_lower_is_better_metric() -> None:
    """TestOneSidedLesserTTest.test_one_sided_ttest and test_one_sided_ttest_absolute."""
    c = compare(A3000, B, lower_is_better=True)
    rel = noninferiority(c, 0.0)
    assert rel.bound == pytest.approx(1.0518588475628676, abs=D5)  # the one-sided upper bound
    assert rel.p_value == pytest.approx(0.9344173713153225, abs=D5)
    ab = noninferiority(c, 0.0, estimand="absolute")
    assert ab.bound == pytest.approx(0.44796185327007765, abs=D5)
    assert ab.p_value == pytest.approx(0.9644572751012698, abs=D5)
    assert not rel.passed and not ab.passed


def test_sequential_one_sided_bounds() -> None:
    """TestSequentialOneSided{Greater,Lesser}TTest: bounds and the bisection p-values (0.4999 is their cap)."""
    up = compare(A3000, B, sequential=True)
    down = compare(A3000, B, sequential=True, lower_is_better=True)
    g_rel, g_abs = noninferiority(up, 0.0), noninferiority(up, 0.0, estimand="absolute")
    l_rel, l_abs = noninferiority(down, 0.0), noninferiority(down, 0.0, estimand="absolute")
    assert g_rel.bound == pytest.approx(-0.42356454602790883, abs=D5)
    assert g_abs.bound == pytest.approx(-0.12656844172804982, abs=D5)
    assert l_rel.bound == pytest.approx(1.4302867177403806, abs=D5)
    assert l_abs.bound == pytest.approx(0.5953217750613832, abs=D5)
    assert g_rel.p_value == pytest.approx(0.4999, abs=D5)
    # gbstats bisects α until the bound is within 1e-6 of the margin, which fixes its p-value to about 1e-4;
    # Liftboard solves for the root exactly, so this one value agrees at 3 decimals (0.46305 vs 0.46316).
    assert g_abs.p_value == pytest.approx(0.46316491943359384, abs=2e-4)
    assert l_rel.p_value == pytest.approx(0.4999, abs=D5)
    assert l_abs.p_value == pytest.approx(0.4999, abs=D5)


def test_noninferiority_margin_moves_the_bound_test_not_the_bound() -> None:
    """A margin: 'must not get worse than −1%' passes when the one-sided bound is above −1% (p < α)."""
    control, variant = Moments(40_000, 4000, 4000), Moments(40_000, 3990, 3990)
    c = compare(control, variant, kind="proportion")
    strict, lenient = noninferiority(c, 0.0), noninferiority(c, 0.10)
    assert strict.bound == pytest.approx(lenient.bound, abs=1e-15)
    assert not strict.passed and lenient.passed and lenient.p_value < 0.05 < strict.p_value
    # The p-value is the one-sided t test of H0: lift ≤ −margin (computed by hand from the comparison).
    from scipy import stats as sps

    assert lenient.p_value == pytest.approx(sps.t.sf((c.rel_lift + 0.10) / c.rel_se, c.df), rel=1e-12)
    with pytest.raises(LiftboardError, match="margin"):
        noninferiority(c, -0.01)


# -- CUPED: gbstats' regression adjustment ------------------------------------------------------------------

# test_gbstats.py RA_STATISTICS_DF: n, Σy, Σy², Σx (pre), Σx², Σxy
RA_ZERO = Moments(3001, 300, 600, 210, 415, -20)
RA_ONE = Moments(3000, 222, 555, 120, 405, -10)
RA_TWO = Moments(4000, 450, 900, 300, 600, -30)  # THREE_ARMED_CUPED_DF


def test_cuped_mean_vector() -> None:
    """TestAnalyzeMetricDfRegressionAdjustment.test_analyze_metric_df_ra: relative to the unadjusted mean."""
    c = compare(RA_ZERO, RA_ONE, cuped=True)
    assert c.mean_baseline == pytest.approx(0.099966678, abs=1e-9)  # the means shown stay unadjusted
    assert c.mean_variant == pytest.approx(0.074, abs=1e-9)
    assert c.rel_lift == pytest.approx(-0.281707154, abs=1e-9)
    assert c.rel_p_value == pytest.approx(0.003732549, abs=1e-9)
    assert c.rel_lift != pytest.approx(
        (0.074 - 0.110963012) / 0.110963012, abs=1e-3
    )  # not DIM / adjusted mean
    # computed: θ pooled over both arms' users, the absolute estimand and its own p-value
    assert c.theta == pytest.approx(-0.07321194034813545, abs=1e-9)
    assert c.rel_se == pytest.approx(0.09710487644510962, abs=D5)
    assert c.rel_ci == pytest.approx((-0.47206764569207416, -0.09134666199938102), abs=D5)
    assert c.abs_lift == pytest.approx(-0.02816132827514771, abs=D5)
    assert c.abs_ci == pytest.approx((-0.04987423944207356, -0.00644841710822186), abs=D5)
    assert c.p_value == pytest.approx(0.011029368646360727, abs=D5)
    assert c.df == pytest.approx(5995.24042250744, rel=1e-9)


def test_cuped_proportion_vector() -> None:
    """TestAnalyzeMetricDfRegressionAdjustment.test_analyze_metric_df_ra_proportion (binomial y and x)."""
    zero = Moments(3001, 300, 300, 210, 210, -20)
    one = Moments(3000, 222, 222, 120, 120, -10)
    c = compare(zero, one, kind="proportion", cuped=True)
    assert c.rel_lift == pytest.approx(-0.31620216, abs=1e-8)
    assert c.rel_p_value == pytest.approx(0.000000353, abs=1e-9)
    assert c.abs_lift == pytest.approx(-0.03160967945681005, abs=D5)  # computed
    assert c.p_value == pytest.approx(1.0867366002642598e-05, abs=D5)  # computed
    assert c.theta == pytest.approx(-0.18824642118593798, abs=1e-9)  # computed


def test_cuped_three_arms_use_the_pairs_theta() -> None:
    """TestThreeArmedCuped.test_three_armed_cuped_baseline_stats_hardcoded: per-arm adjusted SDs."""
    one = compare(RA_ZERO, RA_ONE, cuped=True, names=("zero", "one"))
    two = compare(RA_ZERO, RA_TWO, cuped=True, names=("zero", "two"))
    assert math.sqrt(one.var_variant) == pytest.approx(0.423529598, abs=1e-9)
    assert math.sqrt(two.var_variant) == pytest.approx(0.458953951, abs=1e-9)
    assert math.sqrt(two.var_baseline) == pytest.approx(0.434288923, abs=1e-9)  # θ of the 0-vs-2 pair
    assert math.sqrt(one.var_baseline) == pytest.approx(0.43441657109289394, abs=1e-9)  # computed
    assert two.rel_lift == pytest.approx(0.13075202228263139, abs=D5)  # computed
    assert two.rel_p_value == pytest.approx(0.2557603379327307, abs=D5)  # computed
    assert two.theta == pytest.approx(-0.10700541855982729, abs=1e-9)  # computed
    # Holm across the two arms adjusts both families of p-values.
    adj = adjust([one, two], "holm")
    assert adj[0].rel_p_value_adjusted == pytest.approx(2 * one.rel_p_value, rel=1e-12)
    assert adj[1].p_value_adjusted == pytest.approx(two.p_value, rel=1e-12)


def test_cuped_sequential_vector() -> None:
    """TestSequentialTTest.test_sequential_test_runs_ra (N* = 5000)."""
    a = Moments(3000, 1396.87, 52377.9767, 16.87, 527.9767, 1)
    b = Moments(3461, 2422.7, 134698.29, 22.7, 1348.29, 1)
    c = compare(a, b, cuped=True, sequential=True)
    assert c.rel_lift == pytest.approx(0.50338, abs=D5)
    assert c.rel_se == pytest.approx(0.33341, abs=D5)
    assert c.rel_ci == pytest.approx((-0.50969, 1.51646), abs=D5)
    assert c.rel_p_value == pytest.approx(1.0, abs=D5)
    assert c.abs_ci == pytest.approx((-0.16010558651893275, 0.6288802544766403), abs=D5)  # computed
    assert c.p_value == pytest.approx(0.7600207129748536, abs=D5)  # computed


def test_cuped_with_constant_covariate_is_the_plain_test() -> None:
    """gbstats reverts to the unadjusted test when θ = 0 (no pre-period variance)."""
    a, b = Moments(3407, 1396.87, 52377.9767, 0, 0, 0), Moments(3461, 2422.7, 134698.29, 0, 0, 0)
    c, plain = compare(a, b, cuped=True), compare(A, B)
    assert c.theta == 0.0 and c.variance_reduction == 0.0
    assert c.rel_ci == pytest.approx(plain.rel_ci, abs=1e-12) and c.p_value == pytest.approx(plain.p_value)


# -- impossible sufficient statistics are refused, never clamped ------------------------------------------


def test_missing_variance_is_refused() -> None:
    """TestTwoSidedTTest.test_two_sided_ttest_missing_variance: gbstats returns its ZERO_NEGATIVE_VARIANCE default;
    Liftboard refuses the input with a sentence naming the arm and the metric."""
    bad = Moments(2, 1396.87, 52377.9767)  # Σy² < (Σy)²/n: a negative variance
    with pytest.raises(LiftboardError, match=r"arm 'control'.*revenue:7d.*negative variance"):
        compare(bad, B, metric="revenue:7d")


def test_ratio_vector_with_an_impossible_denominator_is_refused() -> None:
    """test_gbstats.py RATIO_STATISTICS_DF: the denominator has Σd² = 800 < (Σd)²/n = 2083 (not ported as a
    number: no real data can give it), so Liftboard refuses it."""
    control = Moments(100, 270, 848.79, 510, 810, -900)
    variant = Moments(120, 300, 869, 500, 800, -905)
    with pytest.raises(LiftboardError, match=r"arm 'control'.*denominator.*negative variance"):
        compare(control, variant, kind="ratio")


@pytest.mark.parametrize(
    ("moments", "kind", "words"),
    [
        (Moments(-5, 1, 1), "mean", "negative number of users"),
        (Moments(100, 120, 120), "proportion", "more conversions than users"),
        (Moments(100, -3, 3), "proportion", "negative"),
        (Moments(100, 10, 10, 5, 5, 40), "mean", "correlation"),  # |Cov(y, x)| > sd(y)·sd(x)
        (Moments(100, 10, 200, 5, -1, 4), "mean", "negative variance"),
    ],
)
def test_impossible_statistics_name_arm_and_metric(moments: Moments, kind: str, words: str) -> None:
    ok = Moments(100, 10, 10, 5, 5, 2)
    with pytest.raises(LiftboardError, match=words) as err:
        compare(ok, moments, kind=kind, cuped=True, names=("control", "ai"), metric="conversion:buy:7d")
    text = str(err.value)
    assert "'ai'" in text and "conversion:buy:7d" in text and text.count(". ") <= 1


# -- power: plan from the variance of the lift (both arms) -------------------------------------------------


def test_sample_size_from_both_arms_matches_midexperiment_power() -> None:
    """test_midexperimentpower.py TestMidExperimentPower.test_calculate_midexperiment_power_freq: gbstats needs
    25.45703125 × the 1000 users seen so far on top of them, 13,229 per arm; the control's variance alone
    gives 12,584."""
    a = Moments(500, 499.99999999999994, 1499.999999999999)
    b = Moments(500, 525.0000000000008, 1551.2499999999998)
    c = compare(a, b)
    both = sample_size_per_arm(
        c.mean_baseline, c.var_baseline, 0.05, variant_mean=c.mean_variant, variant_var=c.var_variant
    )
    assert both == 13_229 == math.ceil(1000 * (1 + 25.45703125) / 2)
    assert sample_size_per_arm(c.mean_baseline, c.var_baseline, 0.05) == 12_584

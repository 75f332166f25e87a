"""Post-stratification (GrowthBook's post-stratified estimator) against gbstats 0.8.0's vectors at 5 decimals.

Per stratum (a pre-exposure attribute such as country or plan) the control mean and the effect are estimated, then
combined with the strata's shares ν̂ of all users, the multinomial variance of ν̂ included. CUPED combines with it
(a regression per stratum with one pooled θ). Cells are (control, variant) Moments per stratum; see
gbstats_vectors.json for sources.
"""

from __future__ import annotations

import json
from functools import reduce
from pathlib import Path

import pytest

from analytics.errors import LiftboardError
from analytics.stats import Moments, compare

D5 = 5e-6
VECTORS = json.loads((Path(__file__).with_name("gbstats_vectors.json")).read_text())


def _cells(name: str) -> list[tuple[Moments, Moments]]:
    return [(Moments(**a), Moments(**b)) for a, b in VECTORS[name]["cells"]]


def _strat(name: str, **kw):
    cells = _cells(name)
    ctrl = reduce(lambda x, y: x + y, (a for a, _ in cells))
    var = reduce(lambda x, y: x + y, (b for _, b in cells))
    return compare(ctrl, var, strata=cells, **kw), compare(ctrl, var, **kw)


@pytest.mark.parametrize(
    ("name", "kw"),
    [
        ("poststrat_count", {}),
        ("poststrat_count_cuped", {"cuped": True}),
        ("poststrat_ratio", {"kind": "ratio"}),
    ],
)
def test_post_stratified_estimates_match_gbstats(name: str, kw: dict) -> None:
    """test_post_strat.py: test_post_strat_{count,count_reg,ratio}_effect_moments and the _gbstats intervals."""
    v = VECTORS[name]
    strat, plain = _strat(name, **kw)
    assert strat.strata == 5 and plain.strata == 0
    assert strat.rel_lift == pytest.approx(v["relative"]["estimate"], abs=D5)
    assert strat.rel_se == pytest.approx(v["relative"]["se"], abs=D5)
    assert strat.rel_ci == pytest.approx(tuple(v["relative"]["ci"]), abs=D5)
    assert strat.abs_lift == pytest.approx(v["absolute"]["estimate"], abs=D5)
    assert strat.se == pytest.approx(v["absolute"]["se"], abs=D5)
    assert strat.abs_ci == pytest.approx(tuple(v["absolute"]["ci"]), abs=D5)
    assert strat.df == pytest.approx(
        v["absolute"]["dof"], rel=1e-9
    )  # Welch df of the pooled arms, as gbstats
    # The unstratified comparison of the same users is gbstats' unstratified one.
    assert plain.rel_lift == pytest.approx(v["unstratified_relative"]["estimate"], abs=D5)
    assert plain.rel_se == pytest.approx(v["unstratified_relative"]["se"], abs=D5)
    # Variance reduction is reported as for CUPED: 1 − Var(lift)/Var(lift without strata and without CUPED).
    bare = _strat(name, kind=kw.get("kind", "mean"))[1]
    assert strat.variance_reduction == pytest.approx(1 - (strat.se / bare.se) ** 2, rel=1e-12)
    assert strat.variance_reduction > (plain.variance_reduction or 0.0)


def test_post_stratified_p_values_and_sequential() -> None:
    """computed: gbstats TwoSidedTTest / SequentialTwoSidedTTest with post_stratify=True on three strata."""
    v = VECTORS["poststrat_modest"]
    fixed, _ = _strat("poststrat_modest")
    assert fixed.rel_lift == pytest.approx(v["relative"]["estimate"], abs=D5)
    assert fixed.rel_p_value == pytest.approx(v["relative"]["p"], abs=D5)
    assert fixed.p_value == pytest.approx(v["absolute"]["p"], abs=D5)
    assert fixed.rel_ci == pytest.approx(tuple(v["relative"]["ci"]), abs=D5)
    seq, _ = _strat("poststrat_modest", sequential=True)
    assert seq.rel_ci == pytest.approx(tuple(v["relative_seq"]["ci"]), abs=D5)
    assert seq.abs_ci == pytest.approx(tuple(v["absolute_seq"]["ci"]), abs=D5)
    assert seq.rel_p_value == pytest.approx(1.0, abs=D5)


@pytest.mark.parametrize(("variant_mean", "expected"), [(-5, 0.5), (-15, -0.5), (5, 1.5)])
def test_relative_lift_uses_the_baseline_magnitude(variant_mean: float, expected: float) -> None:
    """test_count_relative_point_estimate_uses_negative_baseline_magnitude."""

    def arm(mean: float, n: int = 1000) -> Moments:
        return Moments(n, mean * n, (mean**2 + 4) * n)

    cells = [(arm(-10), arm(variant_mean)) for _ in range(2)]
    c = compare(arm(-10, 2000), arm(variant_mean, 2000), strata=cells)
    assert c.rel_lift == pytest.approx(expected, abs=1e-9)


def test_a_stratum_without_users_in_one_arm_joins_the_largest() -> None:
    """test_missing_variation_data: a cell with no variant users is merged into the largest cell, so moving one
    control user into a new cell of its own changes nothing."""
    cells = _cells("poststrat_count")
    last_a, last_b = cells[-1]
    moved = [*cells[:-1], (Moments(last_a.n - 1, last_a.sum - 1, last_a.sum_sq - 1), last_b),
             (Moments(1, 1, 1), Moments(0, 0, 0))]  # fmt: skip
    ctrl = reduce(lambda x, y: x + y, (a for a, _ in cells))
    var = reduce(lambda x, y: x + y, (b for _, b in cells))
    want, got = compare(ctrl, var, strata=cells), compare(ctrl, var, strata=moved)
    assert got.rel_lift == pytest.approx(want.rel_lift, abs=1e-12)
    assert got.rel_se == pytest.approx(want.rel_se, abs=1e-12)
    assert got.strata == 5  # the cell without variant users does not count as a stratum of its own


def test_one_stratum_is_the_unstratified_test() -> None:
    """test_post_strat_count_reg_effect_moments_single_cell."""
    cells = _cells("poststrat_count_cuped")
    ctrl = reduce(lambda x, y: x + y, (a for a, _ in cells))
    var = reduce(lambda x, y: x + y, (b for _, b in cells))
    one, plain = compare(ctrl, var, strata=[(ctrl, var)], cuped=True), compare(ctrl, var, cuped=True)
    assert one.rel_lift == pytest.approx(plain.rel_lift, abs=1e-12)
    assert one.rel_se == pytest.approx(plain.rel_se, abs=1e-12)
    assert one.strata == 1


def test_strata_must_add_up_to_the_arms() -> None:
    cells = _cells("poststrat_count")
    with pytest.raises(LiftboardError, match="strata"):
        compare(cells[0][0], cells[0][1], strata=cells)


def test_a_stratum_with_no_variation_is_refused_like_an_arm() -> None:
    """test_zero_negative_variance: gbstats returns its error default; Liftboard names the stratum."""
    zero = [(Moments(21, 0, 0), Moments(42, 0, 0)), (Moments(65, 0, 0), Moments(75, 0, 0))]
    c = compare(Moments(86, 0, 0), Moments(117, 0, 0), strata=zero)
    assert c.p_value == 1.0 and any("no variation" in n for n in c.notes)  # as without strata
    with pytest.raises(LiftboardError, match="negative variance"):
        compare(Moments(86, 0, 0), Moments(117, 0, -1), strata=[(Moments(21, 0, 0), Moments(42, 0, -1)),
                                                                  (Moments(65, 0, 0), Moments(75, 0, 0))])  # fmt: skip

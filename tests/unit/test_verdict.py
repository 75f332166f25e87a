"""Verdict sentences, checked word for word."""

from __future__ import annotations

from dataclasses import replace

import pytest

from analytics.experiments import compare_metric, parse_metric, verdict
from analytics.stats import Moments, compare, srm

CONV = parse_metric("conversion:purchase:7d")


def test_significant_raise_reads_like_the_design() -> None:
    c = compare(
        Moments(20000, 2020, 2020), Moments(20000, 2320, 2320), names=("control", "ai"), kind="proportion"
    )
    assert verdict.sentence(CONV, c) == (
        "The AI variant raised 7-day purchase conversion from 10.1% to 11.6% (+1.5 pp, +14.9%, "
        "95% CI +8.4% to +21.3%). This is very unlikely to be chance (p < 0.001)."
    )  # the interval of the relative lift, whose p-value decides the mark
    assert verdict.bayesian_sentence(c, CONV) == (
        "Chance that AI is better than control: 100.0%; risk if you ship it: 0.00% (expected relative loss); "
        "95% credible interval of the lift +8.4% to +21.3% (flat prior)."
    )
    absolute = compare(Moments(20000, 2020, 2020), Moments(20000, 2320, 2320), kind="proportion",
                       estimand="absolute")  # fmt: skip
    assert "(+1.5 pp, +14.9%, 95% CI +0.9 to +2.1 pp)" in verdict.sentence(CONV, absolute)


def test_not_significant() -> None:
    c = compare(Moments(2000, 202, 202), Moments(2000, 212, 212), names=("control", "ai"), kind="proportion")
    assert verdict.sentence(CONV, c) == (
        "The AI variant did not clearly change 7-day purchase conversion: 10.6% against 10.1% in control "
        "(+0.5 pp, +5.0%, 95% CI −14.2% to +24.1%). This could well be chance (p = 0.61), so the data do not "
        "show a real difference yet."
    )


def test_guardrail_cost() -> None:
    cost = parse_metric("cost:7d")
    c = compare(
        Moments(1000, 100, 20), Moments(1000, 520, 400), names=("control", "ai"), lower_is_better=True
    )
    assert verdict.sentence(cost, c) == (
        "The AI variant raised 7-day AI cost per user by $0.42 (+420.0%, from $0.10 to $0.52; "
        "95% CI +380.7% to +459.3%). This is very unlikely to be chance (p < 0.001)."
    )
    # The Bayesian view of a cost is mirrored: an increase is a loss, not a win.
    assert verdict.bayesian_sentence(c, cost) == (
        "Chance that AI is better than control (lower is better): 0.0%; risk if you ship it: 420.00% (expected "
        "relative loss); 95% credible interval of the lift +380.8% to +459.2% (flat prior)."
    )


def test_noninferiority_guardrail_lines() -> None:
    cost = parse_metric("cost:7d")
    ok = compare_metric(cost, {"control": Moments(4000, 400, 80), "ai": Moments(4000, 404, 82)}, "control",
                        margin=0.05)  # fmt: skip
    assert verdict.metric_sentences(ok)[1] == (
        "✅ Guardrail passed: AI keeps 7-day AI cost per user no worse than +5.0% (upper 95% bound +4.7%, "
        "p = 0.039)."
    )
    bad = compare_metric(cost, {"control": Moments(4000, 400, 80), "ai": Moments(4000, 440, 100)}, "control",
                         margin=0.01)  # fmt: skip
    assert verdict.metric_sentences(bad)[1] == (
        "❌ Guardrail not passed: AI may make 7-day AI cost per user more than 1% higher (the upper 95% bound "
        "+14.1% does not clear +1.0%; p = 1.00)."
    )
    conv = compare_metric(CONV, {"control": Moments(40000, 4000, 4000), "ai": Moments(40000, 3990, 3990)},
                          "control", margin=0.1)  # fmt: skip
    assert verdict.metric_sentences(conv)[1] == (
        "✅ Guardrail passed: AI keeps 7-day purchase conversion no worse than −10.0% (lower 95% bound −3.7%, "
        "p < 0.001)."
    )
    assert conv.guardrail_checks[0].passed and not bad.guardrail_checks[0].passed


def test_several_arms_mention_the_adjusted_p_value() -> None:
    arms = {"control": Moments(3000, 300, 300), "a": Moments(3000, 345, 345), "b": Moments(3000, 360, 360)}
    m = compare_metric(CONV, arms, "control")
    assert verdict.metric_sentences(m) == [
        "The A variant did not clearly change 7-day purchase conversion: 11.5% against 10.0% in control "
        "(+1.5 pp, +15.0%, 95% CI −1.8% to +31.8%). This could well be chance (p = 0.080), so the data do not "
        "show a real difference yet.",
        "The B variant raised 7-day purchase conversion from 10.0% to 12.0% (+2.0 pp, +20.0%, "
        "95% CI +2.6% to +37.4%). This is unlikely to be chance (adjusted p = 0.048).",
    ]


def test_count_metric_numbers() -> None:
    arms = {"control": Moments(3000, 750, 1500), "ai": Moments(3000, 760, 1530)}
    m = compare_metric(parse_metric("count:share:7d"), arms, "control")
    assert verdict.metric_sentences(m) == [
        "The AI variant did not clearly change 7-day share events per user: 0.253 against 0.25 in control "
        "(+0.00333, +1.3%, 95% CI −12.2% to +14.9%). This could well be chance (p = 0.85), so the data do "
        "not show a real difference yet."
    ]


def test_not_enough_data() -> None:
    arms = {"control": Moments(2000, 200, 200), "ai": Moments(2000, 220, 220)}
    m = compare_metric(CONV, arms, "control")
    assert verdict.not_enough_data(m, "control") == (
        "Not enough data yet for 7-day purchase conversion: about 14,232 more users per arm are needed to "
        "detect a lift of 10.0% (the size seen so far) with 80% power."
    )  # from the variance of the lift in both arms; the control's variance alone said 12,128
    # A significant result, or one needing more than 10× today's users, is not "wait for more data".
    big = compare_metric(
        CONV, {"control": Moments(20000, 2020, 2020), "ai": Moments(20000, 2320, 2320)}, "control"
    )
    assert verdict.not_enough_data(big, "control") is None
    tiny = compare_metric(
        CONV, {"control": Moments(2000, 200, 200), "ai": Moments(2000, 202, 202)}, "control"
    )
    assert verdict.not_enough_data(tiny, "control") is None


def test_srm_sentence() -> None:
    assert verdict.srm_sentence(srm({"control": 1000, "ai": 1010})) is None
    assert verdict.srm_sentence(srm({"control": 1000, "ai": 1200})) == (
        "Sample ratio mismatch: the users are not split between arms as planned (control 1,000, ai 1,200; "
        "expected 50% / 50%; p < 0.001). Assignment or logging is broken somewhere, so do not trust these "
        "results until it is fixed."
    )


def test_formatting_helpers() -> None:
    assert verdict.arm_name("ai") == "AI" and verdict.arm_name("large") == "large"
    assert verdict.p_text(0.0004) == "p < 0.001" and verdict.p_text(0.0123) == "p = 0.012"
    assert verdict.p_text(0.5) == "p = 0.50"
    # dollars only for money: a mean of values marked as money, not any mean (issue 15)
    assert verdict.delta(replace(parse_metric("mean:purchase"), money=True), -0.031) == "−$0.031"
    assert verdict.delta(parse_metric("mean:purchase"), -0.031) == "−0.031"
    assert verdict.value(parse_metric("outcome:sum_gamerounds"), 51.3) == "51.3"
    assert verdict.value(parse_metric("cost"), 0.0) == "$0.00"
    assert verdict.percent(None) == "n/a"


def test_many_users_left_out_open_the_verdict_loudly() -> None:
    arms = {"control": Moments(130, 3, 3), "treatment": Moments(130, 12, 12)}
    m = compare_metric(CONV, arms, "control", exposed={"control": 237, "treatment": 237})
    assert m.left_out == 214 and m.left_out_share == pytest.approx(214 / 474)
    first, *rest = verdict.metric_sentences(m)
    assert first == (
        "⚠️ 214 of 474 exposed users (45%) are left out of 7-day purchase conversion: 214 because their "
        "7-day window had not ended when the data end. To count them, use a shorter "
        "window (e.g. conversion:purchase:1d) or set the date the data are complete through "
        "(--data-through YYYY-MM-DD, or Data complete through on the Experiments page)."
    )
    assert rest[0].startswith("The TREATMENT variant") or rest[0].startswith("The treatment variant")
    few = compare_metric(CONV, arms, "control", exposed={"control": 140, "treatment": 140})
    assert verdict.left_out_sentence(few) is None  # 20 of 280 (7%): said in the details, not first

"""Each stage rule passes on evidence crafted to pass it and fails, with its reason, on evidence crafted to fail."""

from __future__ import annotations

from dataclasses import replace

import pytest

from analytics.overview import STAGES, Evidence, Thresholds, ladder

GOOD = Evidence(
    experiment="ai_recs",
    primary_spec="conversion:purchase:7d",
    primary_significant=True,
    primary_abs_lift=0.009,
    srm_ok=True,
    mde_rel=0.07,
    drift_monitored=True,
    open_input_alerts=(),
    tagged_items=500,
    acceptance_change_pp=-0.5,
    cost_per_user_growth=0.01,
    latency_p95_ms=800.0,
    scaling_exponent=0.95,
    harmed_segments=(),
    segment_column="platform",
    audit_rows=12,
    datasets=5,
    projected_monthly_cost_10x=9_000.0,
    roi=1.5,
)
TH = Thresholds(monthly_budget_usd=10_000.0)


def rule(ev: Evidence, stage: str, name: str, th: Thresholds = TH):
    lad = ladder(ev, th)
    st = next(s for s in lad.stages if s.name == stage)
    return next(r for r in st.rules if r.name == name)


def test_all_stages_pass_on_good_evidence() -> None:
    lad = ladder(GOOD, TH)
    assert [s.name for s in lad.stages] == list(STAGES)
    assert all(s.passed for s in lad.stages)
    assert lad.reached == "Scale" and lad.next_stage is None


@pytest.mark.parametrize(
    ("stage", "name", "change", "reason"),
    [
        (
            "Validate",
            "Significant improvement on the primary metric",
            {"primary_significant": False},
            "not significant",
        ),
        (
            "Validate",
            "Significant improvement on the primary metric",
            {"primary_abs_lift": -0.01},
            "wrong direction",
        ),
        ("Validate", "No sample-ratio mismatch", {"srm_ok": False}, "Sample-ratio mismatch"),
        ("Validate", "Enough power", {"mde_rel": 0.25}, "25.0% relative"),
        (
            "Stabilise",
            "Drift monitored, no open input alert",
            {"open_input_alerts": ("category",)},
            "category",
        ),
        (
            "Stabilise",
            "Drift monitored, no open input alert",
            {"drift_monitored": False, "open_input_alerts": None},
            "No predictions",
        ),
        ("Stabilise", "A feedback loop with reviewed items", {"tagged_items": 20}, "20 reviewed"),
        ("Stabilise", "Acceptance rate not falling", {"acceptance_change_pp": -9.0}, "-9.0 pp"),
        ("Optimise", "Cost per user falling or flat", {"cost_per_user_growth": 0.3}, "+30.0%"),
        ("Optimise", "Latency p95 under target", {"latency_p95_ms": 2500.0}, "2,500 ms"),
        ("Optimise", "Cost grows no faster than users", {"scaling_exponent": 1.3}, "b = 1.30"),
        (
            "Govern",
            "No segment significantly harmed (bias check)",
            {"harmed_segments": ("android",)},
            "android",
        ),
        ("Govern", "An audit trail", {"audit_rows": 0}, "0 audited"),
        ("Govern", "Every dataset has a recorded source", {"datasets_without_source": ("events",)}, "events"),
        ("Scale", "Cost at 10× users within budget", {"projected_monthly_cost_10x": 20_000.0}, "$20,000"),
        ("Scale", "Positive return on the AI cost", {"roi": -0.4}, "-40%"),
    ],
)
def test_each_rule_fails_with_its_reason(stage: str, name: str, change: dict, reason: str) -> None:
    assert rule(GOOD, stage, name).passed
    bad = rule(replace(GOOD, **change), stage, name)
    assert not bad.passed
    assert reason in bad.detail
    assert bad.next_step


def test_guardrail_direction_counts() -> None:
    # A metric where lower is better (a cost) "improves" when the lift is negative.
    ev = replace(GOOD, primary_abs_lift=-0.2, primary_higher_is_better=False)
    assert rule(ev, "Validate", "Significant improvement on the primary metric").passed


def test_no_primary_metric_is_one_clear_failure() -> None:
    lad = ladder(replace(GOOD, primary_spec=None), TH)
    validate = lad.stages[0]
    assert not validate.passed and len(validate.rules) == 1
    assert "No primary metric" in validate.rules[0].detail
    assert lad.reached is None and lad.next_stage is validate


def test_missing_measurements_explain_themselves() -> None:
    ev = Evidence(
        experiment="x",
        primary_spec="conversion:buy",
        notes={"cost": "The predictions log has no cost_usd or tokens."},
    )
    lad = ladder(ev, Thresholds())
    optimise = lad.stages[2]
    assert optimise.rules[0].detail == "The predictions log has no cost_usd or tokens."
    scale = lad.stages[4]
    assert not scale.passed and "cannot be projected" in scale.rules[0].detail


def test_reached_is_the_highest_unbroken_stage() -> None:
    lad = ladder(replace(GOOD, latency_p95_ms=9_999.0), TH)
    assert lad.reached == "Stabilise"
    assert lad.next_stage.name == "Optimise"


def test_thresholds_round_trip_and_ignore_unknown_keys() -> None:
    th = Thresholds.from_dict({"latency_p95_target_ms": 700, "bogus": 1})
    assert th.latency_p95_target_ms == 700
    assert Thresholds.from_dict(th.to_dict()) == th
    assert not rule(GOOD, "Optimise", "Latency p95 under target", th).passed

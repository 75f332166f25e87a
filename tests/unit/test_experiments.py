"""analyze() on the demo workspace (true lifts inside the intervals) and on small built workspaces."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from analytics.cli import main
from analytics.errors import LiftboardError
from analytics.experiments import (
    analyze,
    cumulative_lift,
    experiment_config,
    power_inputs,
    retention_curve,
)
from analytics.ingest import TRUTH
from analytics.workspace import Workspace, list_experiments, open_workspace

AI = ["conversion:purchase:7d", "retention:7d", "mean:purchase:7d", "count:share:7d", "cost:7d"]


@pytest.fixture(scope="module")
def ai_result(demo_ws: Workspace):
    return analyze(demo_ws, "ai_recs", AI)


def test_demo_true_lifts_inside_intervals(ai_result) -> None:
    r = ai_result
    truth = {
        "conversion:purchase:7d": TRUTH.conversion_7d["ai_recs"]["ai"]
        - TRUTH.conversion_7d["ai_recs"]["control"],
        "retention:7d": TRUTH.retention_7d["ai_recs"]["ai"] - TRUTH.retention_7d["ai_recs"]["control"],
        "mean:purchase:7d": 0.008 * TRUTH.purchase_value_mean,
        "count:share:7d": 0.0,
    }
    for spec, lift in truth.items():
        c = r.metric(spec).comparison("ai")
        assert c.abs_ci[0] <= lift <= c.abs_ci[1], (spec, c.abs_ci, lift)
    conv = r.metric("conversion:purchase:7d")
    assert conv.arm("control").mean == pytest.approx(0.10, abs=0.01)
    assert conv.arm("ai").users + conv.arm("control").users == sum(r.exposed.values())
    assert not r.metric("count:share:7d").comparison("ai").significant  # the true null
    assert r.metric("cost:7d").comparison("ai").abs_lift > 0  # AI costs money, control none
    assert r.metric("retention:7d").incomplete > 0  # exposed within 8 days of the data's end
    assert r.multi_variant_users == TRUTH.double_exposed_per_experiment
    assert r.variants == ("control", "ai") and r.control == "control"
    assert r.metric("conversion:purchase:7d").role == "primary"
    assert r.metric("cost:7d").role == "guardrail"


def test_demo_srm_passes_and_matches_scipy(ai_result) -> None:
    from scipy.stats import chisquare

    r = ai_result
    assert r.srm.ok and r.srm.p_value >= 0.001
    obs = [r.exposed["control"], r.exposed["ai"]]
    assert r.srm.p_value == pytest.approx(chisquare(obs).pvalue, rel=1e-9)


def test_three_arms_holm(demo_ws: Workspace) -> None:
    r = analyze(demo_ws, "model_size", ["conversion:purchase:7d"], alpha=0.1)
    comps = r.metrics[0].comparisons
    assert [c.variant for c in comps] == ["large", "small"]
    raw = [c.p_value for c in comps]
    reject, adj, *_ = multipletests(raw, alpha=0.1, method="holm")
    np.testing.assert_allclose([c.p_value_adjusted for c in comps], adj, rtol=1e-12)
    assert [c.significant for c in comps] == list(reject)
    truth = TRUTH.conversion_7d["model_size"]
    large = r.metrics[0].comparison("large")
    # A 90% interval; the truth is inside it for this seed.
    assert large.abs_ci[0] <= truth["large"] - truth["control"] <= large.abs_ci[1]
    other = analyze(demo_ws, "model_size", ["conversion:purchase:7d"], control="small")
    assert other.variants[0] == "small" and {c.variant for c in other.metrics[0].comparisons} == {
        "control",
        "large",
    }


def test_segments_bh_across_segments(demo_ws: Workspace) -> None:
    r = analyze(demo_ws, "ai_recs", ["conversion:purchase:7d"], segment="platform")
    assert r.segment == "platform" and len(r.segments) >= 2
    comps = [s.metrics[0].comparisons[0] for s in r.segments]
    _, adj, *_ = multipletests([c.p_value for c in comps], method="fdr_bh")
    np.testing.assert_allclose([c.p_value_adjusted for c in comps], adj, rtol=1e-12)
    assert any("Benjamini" in w for w in r.warnings)
    # The segments add up to the whole.
    assert sum(s.metrics[0].arm("ai").users for s in r.segments) == r.metrics[0].arm("ai").users


def test_cumulative_lift_ends_at_the_analysis(demo_ws: Workspace, ai_result) -> None:
    c = ai_result.metric("conversion:purchase:7d").comparison("ai")
    by_date = cumulative_lift(demo_ws, "ai_recs", "conversion:purchase:7d", by="date")
    last = by_date.points[-1]
    assert last.x == "2026-09-28" and last.abs_lift == pytest.approx(c.abs_lift, rel=1e-12)
    assert (last.abs_lo, last.abs_hi) == pytest.approx(c.abs_ci, rel=1e-9)
    assert [p.n_control for p in by_date.points] == sorted(p.n_control for p in by_date.points)
    by_day = cumulative_lift(demo_ws, "ai_recs", "conversion:purchase:7d", by="day")
    assert [p.x for p in by_day.points] == list(range(7))
    assert by_day.points[-1].abs_lift == pytest.approx(c.abs_lift, rel=1e-12)
    assert by_day.points[-1].abs_hi - by_day.points[-1].abs_lo == pytest.approx(c.abs_ci[1] - c.abs_ci[0])
    rev = cumulative_lift(demo_ws, "ai_recs", "mean:purchase:7d", by="day").points[-1]
    assert rev.abs_lift == pytest.approx(ai_result.metric("mean:purchase:7d").comparison("ai").abs_lift)
    with pytest.raises(LiftboardError, match="by exposure date instead"):
        cumulative_lift(demo_ws, "ai_recs", "retention:7d", by="day")


def test_retention_curve_day7_equals_retention_metric(demo_ws: Workspace, ai_result) -> None:
    curve = retention_curve(demo_ws, "ai_recs", days=30)
    m = ai_result.metric("retention:7d")
    for arm in ("control", "ai"):
        p = next(p for p in curve if p.variant == arm and p.day == 7)
        assert p.users == m.arm(arm).users
        assert p.share == pytest.approx(m.arm(arm).mean, rel=1e-12)
        assert p.lo < p.share < p.hi
    days = [p.day for p in curve if p.variant == "ai"]
    assert days[0] == 0 and days == sorted(days) and max(days) <= 30
    users = [p.users for p in curve if p.variant == "ai"]
    assert users == sorted(users, reverse=True)  # later days have fewer users whose day has elapsed


def test_power_inputs(ai_result) -> None:
    m = ai_result.metric("conversion:purchase:7d")
    p = power_inputs(m, "control")
    assert p.n_per_arm == min(a.users for a in m.variants)
    assert p.baseline_var == pytest.approx(p.baseline_mean * (1 - p.baseline_mean))
    assert 0.05 < p.mde_now < 0.2


def test_json_document(ai_result) -> None:
    doc = json.loads(json.dumps(ai_result.to_dict(), allow_nan=False))
    assert doc["experiment"] == "ai_recs" and set(doc["srm"]) >= {"p_value", "ok"}
    m = doc["metrics"][0]
    assert m["spec"] == "conversion:purchase:7d"
    assert [v["name"] for v in m["variants"]] == ["control", "ai"]
    assert set(m["variants"][0]) >= {"name", "users", "mean"}
    keys = {"variant", "baseline", "abs_lift", "abs_ci", "rel_lift", "rel_ci", "p_value", "p_value_adjusted",
            "significant"}  # fmt: skip
    assert set(m["comparisons"][0]) >= keys


def test_list_and_config(demo_ws: Workspace) -> None:
    names = {e.name: e for e in list_experiments(demo_ws)}
    assert set(names) == {"ai_recs", "model_size"}
    assert names["model_size"].arms == ("control", "large", "small")
    cfg = experiment_config(demo_ws, "ai_recs")
    assert cfg.primary == "conversion:purchase:7d" and cfg.split == {"control": 0.5, "ai": 0.5}
    assert experiment_config(demo_ws, "nope").metrics == ()


# -- small built workspaces --------------------------------------------------------------------------


def _build(ws: Workspace, assignments: pd.DataFrame, events: pd.DataFrame) -> None:
    with ws.transaction() as cur:
        for name, df in {"assignments": assignments, "events": events}.items():
            cur.register("df", df)
            cur.execute(f"CREATE TABLE {name} AS SELECT * FROM df")
            cur.unregister("df")


def _ab(n_control: int, n_treat: int, *, seed: int = 1, rate_gain: float = 0.0):
    """Users with a personal activity rate; pre- and post-exposure counts of 'view' both follow it."""
    rng = np.random.default_rng(seed)
    n = n_control + n_treat
    t0 = datetime(2026, 9, 15)
    variant = np.array(["control"] * n_control + ["treatment"] * n_treat)
    rate = rng.gamma(2.0, 1.0, n)
    asg = pd.DataFrame({"user_id": [f"u{i}" for i in range(n)], "experiment": "e", "variant": variant,
                        "timestamp": t0})  # fmt: skip
    rows = []
    for i in range(n):
        lam = rate[i] * (1 + rate_gain * (variant[i] == "treatment"))
        for _k in range(rng.poisson(rate[i] * 2)):  # pre-period: 14 days before exposure
            rows.append((f"u{i}", t0 - timedelta(hours=float(rng.uniform(1, 300))), "view"))
        for _k in range(rng.poisson(lam * 2)):
            rows.append((f"u{i}", t0 + timedelta(hours=float(rng.uniform(0, 160))), "view"))
    rows.append(("u0", t0 + timedelta(days=20), "ping"))  # the data end
    ev = pd.DataFrame(rows, columns=["user_id", "timestamp", "event"])
    return asg, ev


def test_cuped_shrinks_interval_when_covariate_correlates(tmp_ws: Workspace) -> None:
    asg, ev = _ab(1500, 1500, rate_gain=0.05)
    _build(tmp_ws, asg, ev)
    plain = analyze(tmp_ws, "e", ["count:view:7d"], control="control")
    cup = analyze(tmp_ws, "e", ["count:view:7d"], control="control", cuped=True)
    pm, cm = plain.metrics[0], cup.metrics[0]
    assert cm.variance_reduction > 0.3 and cm.cuped_theta > 0.5
    w_plain = np.diff(pm.comparisons[0].abs_ci)[0]
    w_cuped = np.diff(cup.metrics[0].comparisons[0].abs_ci)[0]
    assert w_cuped < 0.85 * w_plain
    assert cm.comparisons[0].cuped and not pm.comparisons[0].cuped


def test_unbalanced_assignment_fails_srm(tmp_ws: Workspace) -> None:
    asg, ev = _ab(1000, 1200, seed=2)
    _build(tmp_ws, asg, ev)
    r = analyze(tmp_ws, "e", ["conversion:view:7d"])
    assert not r.srm.ok and r.srm.p_value < 0.001
    assert r.warnings[0] == "srm"


def test_bad_input_errors(tmp_ws: Workspace) -> None:
    asg, ev = _ab(30, 30, seed=3)
    one = asg.assign(experiment="solo", variant="control")
    gone = asg.copy()
    gone["experiment"] = "gone"
    # Every treatment user of "gone" is also seen in control: the arm is empty after exclusion.
    extra = gone[gone.variant == "treatment"].assign(variant="control")
    _build(tmp_ws, pd.concat([asg, one, gone, extra]), ev)
    cases = [
        (dict(experiment="nope", metrics=["conversion:view"]), "no experiment 'nope'"),
        (dict(experiment="e", metrics=["conversion:view"], control="ai"), "has no arm 'ai'"),
        (dict(experiment="solo", metrics=["conversion:view"]), "only one arm"),
        (dict(experiment="gone", metrics=["conversion:view"]), "Arm 'treatment'.*no users left"),
        (dict(experiment="e", metrics=["conversion:view:30d"]), "window has fully elapsed"),
        (dict(experiment="e", metrics=["conversion:vew"]), "did you mean view"),
        (dict(experiment="e", metrics=["conversion:view"], alpha=1.5), "between 0 and 1"),
    ]
    for kwargs, message in cases:
        with pytest.raises(LiftboardError, match=message):
            analyze(tmp_ws, kwargs.pop("experiment"), kwargs.pop("metrics"), **kwargs)


def test_cli_json_and_errors(demo_path, capsys) -> None:
    code = main(["analyze", "--db", str(demo_path), "--experiment", "ai_recs", "--metric",
                 "conversion:purchase:7d", "--metric", "count:share:7d", "--json"])  # fmt: skip
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert [m["spec"] for m in doc["metrics"]] == ["conversion:purchase:7d", "count:share:7d"]
    assert doc["srm"]["ok"] is True
    code = main(
        ["analyze", "--db", str(demo_path), "--experiment", "ai_recs", "--metric", "conversion:purchse"]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "did you mean purchase" in err
    code = main(["analyze", "--db", str(demo_path), "--experiment", "ai_recs", "--cuped"])
    out = capsys.readouterr().out
    assert code == 0 and "The AI variant raised 7-day purchase conversion" in out


def test_open_read_only_demo_is_unchanged(demo_path) -> None:
    ws = open_workspace(demo_path, read_only=True)
    try:
        assert analyze(ws, "ai_recs", ["count:share:7d"]).metrics[0].spec.text == "count:share:7d"
    finally:
        ws.close()


def test_feedback_metric_leaves_out_arms_without_ai_output(demo_ws) -> None:
    res = analyze(demo_ws, "model_size", ["feedback:accept"])
    m = res.metrics[0]
    assert [a.name for a in m.variants] == [v for v in res.variants if v != "control"]
    assert [(c.baseline, c.variant) for c in m.comparisons] == [("large", "small")]
    assert "does not apply to control" in m.note and "compared against large" in m.note
    # The demo's large model is accepted more often (by 6 pp before the drift, in every period).
    assert m.comparisons[0].abs_lift < -0.03 and m.comparisons[0].significant
    with pytest.raises(LiftboardError, match="only ai has any"):
        analyze(demo_ws, "ai_recs", ["feedback:accept"])


def test_the_list_counts_users_as_the_analysis_does(tmp_ws: Workspace) -> None:
    """Former disagreement: the experiments list counted users seen in two variants, the analysis left them
    out; both now read inventory.exposure_ctes."""
    asg, ev = _ab(60, 60)
    twice = asg.iloc[[0]].assign(variant="treatment")  # u0 also seen in the other arm
    _build(tmp_ws, pd.concat([asg, twice]), ev)
    (summary,) = list_experiments(tmp_ws)
    result = analyze(tmp_ws, "e", ["count:view:7d"])
    assert result.multi_variant_users == summary.multi_variant_users == 1
    assert summary.users == sum(result.exposed.values()) == 119
    assert {v.name: v.users for v in summary.variants} == result.exposed


def test_mde_now_has_one_home(demo_ws: Workspace, ai_result) -> None:
    """The Overview's MDE, the Experiments page's power inputs and its calculator read one rule."""
    from analytics import overview, stats
    from analytics.experiments import power_plan

    m = ai_result.metric("conversion:purchase:7d")
    pi = power_inputs(m, ai_result.control, alpha=ai_result.alpha)
    (exp,) = overview.build(demo_ws, only="ai_recs").experiments
    assert exp.evidence.mde_rel == pytest.approx(pi.mde_now)
    # Both arms observed: the plan uses the variance of the lift from both (GrowthBook's mid-experiment power).
    both = {"variant_mean": pi.variant_mean, "variant_var": pi.variant_var}
    assert pi.variant_mean == pytest.approx(m.arm("ai").mean)
    plan = power_plan(pi.baseline_mean, pi.baseline_var, pi.n_per_arm, 0.05, **both)
    assert plan.mde_now == pytest.approx(pi.mde_now)
    assert plan.users_per_arm == stats.sample_size_per_arm(pi.baseline_mean, pi.baseline_var, 0.05, **both)
    control_only = power_plan(pi.baseline_mean, pi.baseline_var, pi.n_per_arm, 0.05)
    assert control_only.users_per_arm < plan.users_per_arm  # the variant's higher rate adds variance
    with pytest.raises(LiftboardError):
        power_plan(0.1, 0.09, 100, 0.0)


def test_lower_is_better_is_the_metric_s() -> None:
    from analytics.experiments import parse_metric

    cost, conv = parse_metric("cost:7d"), parse_metric("conversion:purchase:7d")
    assert cost.lower_is_better and not conv.lower_is_better
    assert cost.improves(-0.1) and cost.worsens(0.1) and not cost.improves(0.1)
    assert conv.improves(0.1) and conv.worsens(-0.1) and not conv.worsens(0.0) and not conv.improves(0.0)


def test_cuped_narrowing_comes_with_the_result(tmp_ws: Workspace) -> None:
    """Formerly the page ran the analysis a second time without CUPED to show the narrowing; the result now
    carries the plain interval, computed from the same sums, equal to a plain analysis's."""
    from analytics.experiments import verdict

    asg, ev = _ab(800, 800, rate_gain=0.05)
    _build(tmp_ws, asg, ev)
    plain = analyze(tmp_ws, "e", ["count:view:7d"], control="control").metrics[0]
    cup = analyze(tmp_ws, "e", ["count:view:7d"], control="control", cuped=True).metrics[0]
    assert plain.ci_without_cuped is None and plain.cuped_narrowing("treatment") is None
    assert cup.ci_without_cuped["treatment"] == pytest.approx(plain.comparison("treatment").abs_ci)
    w0, w1, share = cup.cuped_narrowing("treatment")
    assert w0 == pytest.approx(np.diff(plain.comparison("treatment").abs_ci)[0]) and 0.1 < share < 1
    (line,) = verdict.cuped_sentences(cup)
    assert f"({share * 100:.1f}% narrower)" in line and verdict.cuped_sentences(plain) == []

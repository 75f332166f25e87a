"""Outcome and totals tables through the Python API: several experiments in one table, the quick comparison,
money units, keeping one experiment of a file, event metrics on outcome experiments, blanks left out loudly."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps

from analytics.errors import LiftboardError
from analytics.experiments import (
    analyze,
    cumulative_lift,
    default_metrics,
    experiment_columns,
    quick_comparison,
    retention_curve,
    verdict,
)
from analytics.ingest import load, validate
from analytics.workspace import Actor, ArmTotals, is_money, money_by_name, open_workspace
from tests.support import ab_shapes as shapes
from tests.support.files import write

WHO = Actor("tester", "editor")


def test_two_totals_experiments_share_one_table(tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "ws.duckdb")
    load(ws, shapes.totals_counts(tmp_path / "a.csv"), "totals", experiment="gates", actor=WHO)
    load(ws, shapes.totals_means(tmp_path / "b.csv"), "totals", experiment="models", actor=WHO)
    assert default_metrics(ws, "gates") == ["outcome:Conversions"]
    assert default_metrics(ws, "models") == ["outcome:revenue"]
    gates = analyze(ws, "gates", ["outcome:Conversions"], control="gate_30")
    assert gates.source == "totals" and gates.data_end is None
    assert [a.users for a in gates.metrics[0].variants] == [44_700, 45_489]
    with pytest.raises(LiftboardError, match="no outcome 'revenue' in every arm"):
        analyze(ws, "gates", ["outcome:revenue"])
    # an outcome left blank for an arm is refused at load, in one sentence
    with pytest.raises(LiftboardError, match="Arm 'B' of c.csv has a blank count"):
        load(ws, write(tmp_path, "c.csv", "variant,users,clicks\nA,100,10\nB,120,\n"), "totals", experiment="half",
             actor=WHO)  # fmt: skip
    ws.close()


def test_two_outcome_experiments_share_one_table(tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "ws.duckdb")
    load(
        ws, shapes.cookie_cats(tmp_path / "cookie.csv", scale=0.05), "outcomes", experiment="gates", actor=WHO
    )
    load(ws, shapes.enews(tmp_path / "abtest.csv"), "outcomes", experiment="enews", actor=WHO)
    cols = experiment_columns(ws, "enews")
    assert cols.outcomes == ("time_spent_on_the_page", "converted")
    assert cols.segments == ("landing_page", "language_preferred")
    assert default_metrics(ws, "gates") == [
        "outcome:sum_gamerounds", "outcome:retention_1", "outcome:retention_7",
    ]  # fmt: skip
    r = analyze(ws, "enews", default_metrics(ws, "enews"))
    assert [m.spec.aggregate for m in r.metrics] == ["mean", "proportion"]
    with pytest.raises(LiftboardError, match="no values for the experiment 'enews'"):
        analyze(ws, "enews", ["outcome:sum_gamerounds"])
    ws.close()


def test_event_metrics_need_exposure_times_and_use_them(tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "ws.duckdb")
    load(
        ws, shapes.cookie_cats(tmp_path / "cookie.csv", scale=0.01), "outcomes", experiment="gates", actor=WHO
    )
    load(
        ws,
        write(tmp_path, "ev.csv", "user_id,timestamp,event\nx,2026-09-01 10:00:00,buy\n"),
        "events",
        actor=WHO,
    )
    with pytest.raises(LiftboardError, match="has no exposure times") as err:
        analyze(ws, "gates", ["conversion:buy:1d"])
    assert "outcome:COLUMN" in str(err.value)
    # with exposure timestamps the outcome rows are the exposures of event metrics too
    rows = "user_id,variant,at,paid\n" + "".join(
        f"u{i},{'a' if i % 2 else 'b'},2026-09-01 0{i % 9}:00:00,{i % 3 == 0}\n" for i in range(40)
    )
    load(
        ws,
        write(tmp_path, "o.csv", rows),
        "outcomes",
        experiment="timed",
        mapping={"timestamp": "at"},
        actor=WHO,
    )
    events = "user_id,timestamp,event\n" + "".join(f"u{i},2026-09-01 12:00:00,buy\n" for i in range(0, 40, 4))
    load(ws, write(tmp_path, "ev2.csv", events), "events", actor=WHO)
    r = analyze(
        ws, "timed", ["conversion:buy:1d", "outcome:paid"], control="a", data_through=date(2026, 9, 30)
    )
    conv = r.metric("conversion:buy:1d")
    assert {a.name: a.moments.sum for a in conv.variants} == {"a": 0.0, "b": 10.0}
    ws.close()


def test_blank_outcomes_are_left_out_and_said_first(tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "ws.duckdb")
    rows = "user_id,variant,nps\n" + "".join(
        f"u{i},{'a' if i % 2 else 'b'},{'' if i % 4 == 0 else i % 10}\n" for i in range(200)
    )
    load(ws, write(tmp_path, "nps.csv", rows), "outcomes", experiment="survey", actor=WHO)
    m = analyze(ws, "survey", ["outcome:nps"], control="a").metrics[0]
    assert m.incomplete == 50 and m.left_out_share == pytest.approx(0.25)
    first = verdict.metric_sentences(m)[0]
    assert first.startswith(
        "⚠️ 50 of 200 exposed users (25%) are left out of nps: 50 because they have no value"
    )
    ws.close()


def test_quick_comparison_equals_scipy() -> None:
    arms = [
        ArmTotals("Original", 10_000, {"conversion": 1_000}),
        ArmTotals("New", 10_150, {"conversion": 1_130}),
    ]
    r = quick_comparison(arms, outcome="conversion")
    c = r.metrics[0].comparisons[0]
    pt, pc = 1_130 / 10_150, 0.1
    ref = sps.ttest_ind_from_stats(
        pt, np.sqrt(pt * (1 - pt)), 10_150, pc, np.sqrt(pc * 0.9), 10_000, equal_var=False
    )
    assert c.p_value == pytest.approx(ref.pvalue, rel=1e-9) and c.abs_lift == pytest.approx(
        pt - pc, rel=1e-12
    )
    assert r.control == "Original" and r.srm.observed == {"Original": 10_000, "New": 10_150}
    # the control is recognised by its name wherever it is typed (arms.CONTROL_NAMES), else the first arm
    flipped = quick_comparison(arms[::-1], outcome="conversion")
    assert flipped.control == "Original" and flipped.control_choice.reason == "named"
    assert flipped.metrics[0].comparisons[0].abs_lift == pytest.approx(c.abs_lift, rel=1e-12)
    typed = quick_comparison([ArmTotals("Zed", 100, {"conversion": 10}), ArmTotals("Ann", 100, {"conversion": 12})],
                             outcome="conversion")  # fmt: skip
    assert typed.control == "Zed" and typed.control_choice.sentence() == (
        "Control: Zed (no arm is named like a control, so the first arm typed is)."
    )
    means = [
        ArmTotals("A", 500, means={"spend": (3.2, 9.0)}),
        ArmTotals("B", 520, means={"spend": (3.9, 9.5)}),
    ]
    m = quick_comparison(means, outcome="spend", money=True).metrics[0]
    ref = sps.ttest_ind_from_stats(3.9, 9.5, 520, 3.2, 9.0, 500, equal_var=False)
    assert m.comparisons[0].p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert "$3.20" in verdict.sentence(m.spec, m.comparisons[0])
    with pytest.raises(LiftboardError, match="1,200 conversion out of 1,000 users"):
        quick_comparison([ArmTotals("A", 1_000, {"conversion": 1_200}), ArmTotals("B", 10, {"conversion": 1})],
                         outcome="conversion")  # fmt: skip


def test_money_is_said_by_name_or_marked(tmp_path: Path) -> None:
    assert [money_by_name(n) for n in ("revenue", "price_usd", "orderValueEUR", "LTV", "cost_per_click")] == [
        True, True, True, True, True,
    ]  # fmt: skip
    assert not any(
        money_by_name(n) for n in ("sum_gamerounds", "time_spent_on_the_page", "total ads", "purchases")
    )
    ws = open_workspace(tmp_path / "ws.duckdb")
    path = write(tmp_path, "o.csv", "user_id,variant,score,spend\n" + "".join(
        f"u{i},{'a' if i % 2 else 'b'},{i},{i / 3:.2f}\n" for i in range(20)))  # fmt: skip
    assert not is_money(ws, "outcomes", "score") and is_money(ws, "outcomes", "spend") is not False
    load(ws, path, "outcomes", experiment="x", money=("score",), actor=WHO)  # marked by hand: exactly these
    assert is_money(ws, "outcomes", "score") and not is_money(ws, "outcomes", "spend")
    assert not is_money(ws, "events", "value")  # a value is money only when declared
    load(ws, write(tmp_path, "e.csv", "user_id,timestamp,event,revenue\nu1,2026-09-01 10:00:00,buy,3\n"),
         "events", actor=WHO)  # fmt: skip
    assert is_money(ws, "events", "value")  # mapped from a column named revenue
    ws.close()


def test_experiment_column_and_a_name_keep_that_experiment(tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "ws.duckdb")
    rows = "user_id,test,variant,ok\n" + "".join(f"u{i},{'t1' if i < 30 else 't2'},{'a' if i % 2 else 'b'},1\n"
                                                  for i in range(50))  # fmt: skip
    path = write(tmp_path, "two.csv", rows)
    report = validate(ws, path, "outcomes", experiment="t2", actor=WHO)
    assert report.rows == 20 and [i.code for i in report.warnings] == ["other_experiments"]
    assert "30 rows of two.csv belong to other experiments (t1)" in report.warnings[0].message
    with pytest.raises(
        LiftboardError, match="has no rows of the experiment 't3'; its experiments are: t1, t2"
    ):
        validate(ws, path, "outcomes", experiment="t3", actor=WHO)
    ws.close()


def test_curves_say_what_they_need(tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "ws.duckdb")
    load(ws, shapes.totals_counts(tmp_path / "t.csv"), "totals", experiment="gates_totals", actor=WHO)
    load(ws, shapes.cookie_cats(tmp_path / "c.csv", scale=0.01), "outcomes", experiment="gates", actor=WHO)
    load(ws, shapes.ab_data(tmp_path / "ab.csv", users=3_000), "outcomes", experiment="landing", actor=WHO)
    with pytest.raises(LiftboardError, match="needs per-user rows"):
        cumulative_lift(ws, "gates_totals", "outcome:Conversions")
    with pytest.raises(LiftboardError, match="has none"):
        cumulative_lift(ws, "gates", "outcome:retention_7")
    with pytest.raises(LiftboardError, match="no exposure times"):
        retention_curve(ws, "gates")
    curve = cumulative_lift(ws, "landing", "outcome:converted", by="date")
    last = curve.points[-1]
    c = analyze(ws, "landing", ["outcome:converted"]).metrics[0].comparisons[0]
    assert last.x == "2017-01-24" and last.abs_lift == pytest.approx(c.abs_lift, rel=1e-12)
    assert last.n_control + last.n_variant == c.n_baseline + c.n_variant
    with pytest.raises(LiftboardError, match="by exposure date only"):
        cumulative_lift(ws, "landing", "outcome:converted", by="day")
    ws.close()


def test_report_and_overview_of_outcome_and_totals_experiments(tmp_path: Path, capsys) -> None:
    from analytics.cli import main

    db = tmp_path / "ws.duckdb"
    ws = open_workspace(db)
    load(ws, shapes.enews(tmp_path / "abtest.csv"), "outcomes", experiment="enews", actor=WHO)
    load(ws, shapes.totals_means(tmp_path / "rev.csv"), "totals", experiment="models", actor=WHO)
    ws.close()
    for name, needle in (("enews", "time_spent_on_the_page"), ("models", "$3.41")):
        out = tmp_path / f"{name}.html"
        assert main(["report", "--experiment", name, "--out", str(out), "--db", str(db)]) == 0, (
            capsys.readouterr()
        )
        html = out.read_text()
        assert needle in html and "<p class=verdict>" in html
    assert "per-arm totals" in (tmp_path / "models.html").read_text()
    from analytics.overview import build

    ws = open_workspace(db, read_only=True)
    overview = build(ws)
    ws.close()
    assert not overview.empty and [e.experiment for e in overview.experiments] == ["enews", "models"]
    assert overview.experiments[0].primary == "outcome:time_spent_on_the_page"
    assert overview.experiments[0].cards[0].title == "Does it work?"

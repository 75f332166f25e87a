"""Feedback charts carry the numbers they are given, with units on their axes."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics import feedback as fb
from analytics.charts import feedback as charts
from analytics.workspace import Actor, Workspace
from tests.support.feedback_data import make


@pytest.fixture()
def ws(tmp_path: Path) -> Workspace:
    w = make(tmp_path / "charts.duckdb", 700, seed=8)
    yield w
    w.close()


def test_rate_over_time_plots_rates_and_bands(ws: Workspace) -> None:
    rates = fb.rates(ws, fb.FeedbackFilter(experiment="exp"), by="variant", period="week")
    fig = charts.rate_over_time(rates, "accept", control="control")
    lines = [t for t in fig.data if t.mode == "lines+markers"]
    assert [t.name for t in lines] == ["ai", "control"]
    df = rates.frame()
    want = df[(df.signal == "accept") & (df.group == "control")].sort_values("period")
    ctrl = next(t for t in lines if t.name == "control")
    assert list(ctrl.y) == pytest.approx(list(100 * want.rate))
    assert ctrl.line.color == "#0072B2"  # control is always blue
    assert "%" in fig.layout.yaxis.title.text and "UTC" in fig.layout.xaxis.title.text


def test_rate_by_group_and_tag_mix_and_agreement(ws: Workspace) -> None:
    fig = charts.rate_by_group(fb.rates(ws, fb.FeedbackFilter(), by="model_version", period=None))
    assert [t.name for t in fig.data] == ["accept", "reject", "correct"] and list(fig.data[0].x) == [
        "v1",
        "v2",
    ]
    assert "%" in fig.layout.yaxis.title.text
    empty = charts.tag_mix(fb.tag_mix(ws, fb.FeedbackFilter()))
    assert len(empty.data) == 0 and empty.layout.annotations[0].text == "No tagged items yet"
    fb.tag_item(ws, "f0", ["wrong"], Actor("alice", "editor"), 0)
    fb.tag_item(ws, "f0", ["wrong"], Actor("bob", "editor"), 1)
    fb.tag_item(ws, "f1", ["helpful"], Actor("alice", "editor"), 0)
    fb.tag_item(ws, "f1", ["wrong"], Actor("bob", "editor"), 1)
    mix = charts.tag_mix(fb.tag_mix(ws, fb.FeedbackFilter(), period="week"))
    assert {t.name: list(t.y) for t in mix.data} == {"helpful": [50.0], "wrong": [100.0]}
    assert "%" in mix.layout.yaxis.title.text
    k = charts.agreement(fb.kappas(ws))
    assert k.data[0].name == "alice vs bob" and "κ" in k.layout.xaxis.title.text

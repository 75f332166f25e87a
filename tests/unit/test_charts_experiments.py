"""Experiment charts: the figures carry the numbers of the result, with units on the axes."""

from __future__ import annotations

import pytest

from analytics.charts.experiments import (
    cumulative_lift_chart,
    lift_intervals,
    retention_chart,
    segment_intervals,
)
from analytics.experiments import analyze, cumulative_lift, retention_curve
from analytics.workspace import Workspace


@pytest.fixture(scope="module")
def result(demo_ws: Workspace):
    return analyze(demo_ws, "model_size", ["conversion:purchase:7d", "count:share:7d"], segment="platform")


def test_lift_intervals(result) -> None:
    fig = lift_intervals(result)
    assert [t.name for t in fig.data] == ["large", "small"]
    c = result.metric("conversion:purchase:7d").comparison("large")
    t = fig.data[0]
    assert t.x[0] == pytest.approx(c.rel_lift * 100)
    assert t.error_x.array[0] == pytest.approx((c.rel_ci[1] - c.rel_lift) * 100)
    assert t.error_x.arrayminus[0] == pytest.approx((c.rel_lift - c.rel_ci[0]) * 100)
    assert "(%)" in fig.layout.xaxis.title.text and fig.layout.yaxis.title.text == "Metric"
    assert "relative-lift p" in fig.layout.xaxis.title.text
    assert t.marker.color == "#E69F00"  # control keeps blue; the first variant is orange
    # The mark on the chart follows the p-value of the interval drawn: ✓ exactly when it excludes 0.
    for trace in fig.data:
        for x, lo, hi, text in zip(
            trace.x, trace.error_x.arrayminus, trace.error_x.array, trace.text, strict=True
        ):
            assert text.startswith(("relative-lift p", "adjusted relative-lift p"))
            assert ("✓" in text) == (x - lo > 0 or x + hi < 0)


def test_lift_intervals_of_the_absolute_estimand(demo_ws: Workspace) -> None:
    res = analyze(demo_ws, "ai_recs", ["conversion:purchase:7d", "retention:7d"], estimand="absolute")
    fig = lift_intervals(res)
    c = res.metric("retention:7d").comparison("ai")
    t = fig.data[0]
    scale = 100 / c.mean_baseline
    assert t.x[1] == pytest.approx(c.abs_lift * scale)
    assert t.error_x.array[1] == pytest.approx((c.abs_ci[1] - c.abs_lift) * scale)
    assert "p of the difference" in t.text[1] and "Absolute difference" in fig.layout.xaxis.title.text


def test_segment_intervals(result) -> None:
    fig = segment_intervals(result, "conversion:purchase:7d")
    assert set(fig.data[0].y) == {s.value for s in result.segments}
    assert fig.layout.yaxis.title.text == "platform" and "(%)" in fig.layout.xaxis.title.text


def test_cumulative_and_retention(demo_ws: Workspace) -> None:
    curve = cumulative_lift(demo_ws, "ai_recs", "conversion:purchase:7d", by="day")
    fig = cumulative_lift_chart(curve)
    line = fig.data[1]
    assert list(line.x) == list(range(7))
    assert line.y[-1] == pytest.approx(curve.points[-1].rel_lift * 100)
    assert (
        fig.layout.xaxis.title.text == "Days since exposure (days)" and "(%)" in fig.layout.yaxis.title.text
    )
    pts = retention_curve(demo_ws, "ai_recs", days=10)
    fig = retention_chart(pts, "control")
    assert [t.name for t in fig.data if t.showlegend is not False] == ["control", "ai"]
    ctrl = [p for p in pts if p.variant == "control"]
    assert list(fig.data[1].y) == pytest.approx([p.share * 100 for p in ctrl])
    assert fig.layout.yaxis.title.text == "Users active that day (%)"
    # Empty inputs draw an empty figure rather than failing.
    assert len(retention_chart([]).data) == 0

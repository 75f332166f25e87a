"""Drift charts carry the report's numbers, state their units, and never break on all-null features."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from analytics.charts import drift as charts
from analytics.drift import DriftReport, DriftSettings, compute_drift
from analytics.workspace import open_workspace
from tests.support.drift_data import make_log, write


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DriftReport]:
    ws = open_workspace(Path(tmp_path_factory.mktemp("charts")) / "c.duckdb")
    df = make_log(days=21, per_day=400, seed=9)
    df["empty"] = np.nan
    write(ws, df)
    yield compute_drift(ws)
    ws.close()


def test_score_over_time_has_scores_thresholds_and_alert_markers(report: DriftReport) -> None:
    x = report.feature("x")
    fig = charts.score_over_time(x)
    traces = {t.name: t for t in fig.data}
    assert list(traces["x"].y) == pytest.approx([c.score for c in x.chunks])
    assert len(traces["alert"].x) == sum(c.alert_fixed or c.alert_learned for c in x.chunks) == 7
    assert set(traces["fixed threshold 0.2"].y) == {0.2}
    learned = next(t for name, t in traces.items() if name.startswith("learned threshold"))
    assert learned.y[0] == pytest.approx(x.learned_threshold)
    assert fig.layout.yaxis.title.text.startswith("PSI") and "UTC" in fig.layout.xaxis.title.text


def test_overlay_shows_shares_in_percent(report: DriftReport) -> None:
    x = report.feature("x")
    fig = charts.distribution_overlay(x, "2026-09-20")
    ref, cur = fig.data
    assert sum(ref.y) == pytest.approx(100) and sum(cur.y) == pytest.approx(100)
    assert [html.unescape(v) for v in cur.x] == list(x.bin_labels)  # '<' drawn as text: written as &lt;
    assert fig.layout.yaxis.title.text == "share of values (%)"


def test_heatmap_is_features_by_chunks_with_alert_marks(report: DriftReport) -> None:
    fig = charts.heatmap(report)
    hm = fig.data[0]
    assert list(hm.y) == [f.name for f in report.features]
    assert len(hm.x) == len(report.chunks) == 21
    row = list(hm.y).index("x")
    assert sum(mark == "✕" for mark in hm.text[row]) == 7
    assert max(v for r in hm.z for v in r if v is not None) <= 3.0
    assert fig.layout.xaxis.title.text == "chunk"


def test_all_null_feature_charts_render(report: DriftReport) -> None:
    empty = report.feature("empty")
    assert all(c.score == 0 for c in empty.chunks)
    fig = charts.distribution_overlay(empty, "2026-09-20")
    assert fig.layout.annotations[0].text.startswith("No values to compare")
    fig = charts.score_over_time(empty)
    assert all(np.isfinite(fig.data[0].y))
    miss = charts.missing_over_time(empty)
    assert set(miss.data[0].y) == {100.0} and miss.layout.yaxis.title.text == "missing values (% of rows)"
    assert charts.score_label("distance").startswith("distance")


def test_distance_method_changes_the_score(report: DriftReport, tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "d.duckdb")
    write(ws, make_log(days=21, per_day=400, seed=9))
    rep = compute_drift(ws, DriftSettings(method="distance"))
    x = rep.feature("x")
    assert x.fixed_threshold == 0.1
    assert [c.score for c in x.chunks] == [c.wasserstein for c in x.chunks]
    late = x.chunk("2026-09-20")
    assert late.score == pytest.approx(0.8, abs=0.1)  # the shift is 0.8 reference σ
    ws.close()

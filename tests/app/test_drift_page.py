"""The Drift page driven with AppTest on the demo workspace, a generated log and a broken one."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics.drift import DriftSettings, compute_drift
from analytics.workspace import open_workspace
from tests.support.apptest import page_test
from tests.support.drift_data import make_log, write


def _page(db: Path, monkeypatch: pytest.MonkeyPatch, **query: str) -> AppTest:
    monkeypatch.setenv("LIFTBOARD_DB", str(db))
    at = page_test("drift", timeout=180)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def _qp(at: AppTest, key: str) -> str | None:
    value = at.query_params.get(key)
    return value[0] if isinstance(value, list) else value


def test_demo_verdict_charts_and_alert_list(demo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(demo_copy, monkeypatch)
    assert not at.exception
    assert at.title[0].value == "Drift"
    verdict = at.error[0].value
    assert "features drift in the latest chunk (2026-10-05)" in verdict
    for name in ("score", "category", "query_length"):
        assert f"**{name}**" in verdict
    assert verdict.index("**score**") < verdict.index("**category**")  # worst first
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["First alert"] == "22 Sep"
    ws = open_workspace(demo_copy)
    report = compute_drift(ws)
    ws.close()
    assert int(metrics["Alerts (feature × chunk)"]) == len(report.alerts)
    assert int(metrics["Drifting now"]) == len(report.drifting_now())
    assert at.selectbox(key="drift_feature").value == "score"
    assert at.select_slider(key="drift_at").value == "2026-10-05"
    alerts = at.dataframe[-1].value
    assert len(alerts) == len(report.alerts) and alerts["chunk"].min() == "2026-09-22"
    assert [b.label for b in at.get("download_button")] == [
        "Download alerts (CSV)",
        "Download the whole drift table (CSV)",
    ]
    assert len(at.get("plotly_chart")) >= 3


def test_settings_live_in_the_url_and_recompute(demo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(
        demo_copy,
        monkeypatch,
        ref="2026-09-08..2026-09-17",
        chunk="week",
        bins="5",
        threshold="0.3",
        feature="category",
    )
    assert not at.exception
    assert at.date_input(key="drift_ref").value == (date(2026, 9, 8), date(2026, 9, 17))
    assert at.selectbox(key="drift_chunk").value == "week"
    assert at.slider(key="drift_bins").value == 5
    assert at.number_input(key="drift_threshold").value == pytest.approx(0.3)
    assert at.selectbox(key="drift_feature").value == "category"
    at.selectbox(key="drift_method").set_value("distance").run()
    assert not at.exception
    assert _qp(at, "method") == "distance"
    assert at.number_input(key="drift_threshold").value == pytest.approx(0.1)  # the method's default
    at.slider(key="drift_bins").set_value(20).run()
    assert _qp(at, "bins") == "20" and _qp(at, "chunk") == "week"


def test_generated_shift_is_reported_from_its_date(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "gen.duckdb"
    ws = open_workspace(db)
    write(ws, make_log(days=21, per_day=300, seed=21))
    expected = compute_drift(ws, DriftSettings())
    ws.close()
    at = _page(db, monkeypatch)
    assert not at.exception
    assert "1 of 5 features drift" in at.error[0].value and "**x**" in at.error[0].value
    assert at.dataframe[0].value["drifting since"].tolist() == ["2026-09-15"]
    assert len(at.dataframe[-1].value) == len(expected.alerts)


def test_bad_logs_give_one_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "bad.duckdb"
    ws = open_workspace(db)
    ws.close()
    at = _page(db, monkeypatch)
    assert not at.exception and "No predictions log yet" in at.info[0].value
    ws = open_workspace(db)
    write(ws, make_log(days=3, per_day=50))
    ws.close()
    at = _page(db, monkeypatch)
    assert not at.exception
    assert "Every prediction falls inside the reference window" in at.error[0].value


def test_a_hand_edited_link_falls_back_to_defaults(demo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(demo_copy, monkeypatch, ref="2020-01-01..2020-01-07", threshold="-3", bins="900", chunk="7")
    assert not at.exception
    assert "at most 500" in at.error[0].value  # 100-row chunks would make 3,601 of them
    assert at.date_input(key="drift_ref").value == (date(2026, 9, 8), date(2026, 9, 14))
    assert at.number_input(key="drift_threshold").value == pytest.approx(0.001)
    assert at.slider(key="drift_bins").value == 50
    assert at.number_input(key="drift_rows").value == 100
    at = _page(demo_copy, monkeypatch, ref="garbage")
    assert not at.exception and at.date_input(key="drift_ref").value == (date(2026, 9, 8), date(2026, 9, 14))

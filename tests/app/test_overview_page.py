"""AppTest of the Overview (the landing page): cards, the stage ladder, and the empty-workspace start."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _run(db: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("LIFTBOARD_DB", str(db))
    monkeypatch.chdir(Path(APP).parent)  # st.Page paths are relative to the app's folder
    return AppTest.from_file(APP, default_timeout=120).run()


def test_overview_on_demo(demo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _run(demo_copy, monkeypatch)
    assert not at.exception
    assert at.title[0].value == "Overview"
    text = " ".join(m.value for m in at.markdown)
    assert "**Stage reached: Validate.**" in text  # ai_recs passes Validate
    assert "The AI variant raised 7-day purchase conversion from 9.6% to 10.5%" in text
    assert "Inputs drifting in the last chunk" in text
    for stage in ("Validate", "Stabilise", "Optimise", "Govern", "Scale"):
        assert f"**{stage}**" in text
    assert [s.value for s in at.subheader][:2] == ["ai_recs", "model_size"]
    # Local mode says so in the sidebar.
    assert any("Local single-user mode" in c.value for c in at.sidebar.caption)


def _save_latency(at: AppTest, value: float) -> AppTest:
    lat = next(n for n in at.number_input if n.label.startswith("Latency p95 target"))
    lat.set_value(value)
    return next(b for b in at.button if b.label == "Save thresholds").click().run()


def test_thresholds_need_a_name(demo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _save_latency(_run(demo_copy, monkeypatch), 500.0)
    assert any("Type your name" in e.value for e in at.error)


def test_thresholds_save_with_a_name(demo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIFTBOARD_DB", str(demo_copy))
    monkeypatch.chdir(Path(APP).parent)
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["actor_name"] = "Ada"
    at = _save_latency(at.run(), 500.0)
    assert not at.exception and not at.error
    text = " ".join(c.value for c in at.caption)
    assert "target ≤ 500 ms" in text


def test_empty_workspace_shows_how_to_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _run(tmp_path / "empty.duckdb", monkeypatch)
    assert not at.exception
    assert "no experiment yet" in at.info[0].value

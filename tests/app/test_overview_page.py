"""AppTest of the Overview (the landing page): cards, the stage ladder, and the empty-workspace start."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics import feedback as fb
from analytics.workspace import Actor, open_workspace

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


def _entries() -> Counter[str]:
    """Cached results per st.cache_data function of the Overview page, as Streamlit's own storage counts them."""
    from streamlit.runtime.caching.cache_data_api import _data_caches

    out: Counter[str] = Counter()
    for caches in list(_data_caches._function_caches.values()):
        for cache in list(caches.values()):
            for stats in cache.get_stats().values():
                for stat in stats:
                    out[stat.cache_name.rpartition(".")[2]] += 1
    return out


def _reviewed(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if "items reviewed" in m.value]


def test_a_reviewer_at_work_recomputes_only_the_feedback_cards(
    demo_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Analyses, cost and drift are cached on state_token(reviews=False); the feedback cards on the full token."""
    at = _run(demo_copy, monkeypatch)
    before, readings = _entries(), _reviewed(at)
    assert before["_analysis"] >= 2 and before["_reviewed"] >= 2 and len(readings) == 2, (before, readings)
    ws = open_workspace(demo_copy)  # same configuration as the page's connection
    item = ws.scalar(
        "SELECT feedback_id FROM feedback WHERE feedback_id NOT IN (SELECT feedback_id FROM lb_reviews) "
        "ORDER BY feedback_id LIMIT 1"
    )
    fb.tag_item(ws, item, ["helpful"], Actor("rita", "editor"), 0)
    ws.close()
    at.run()
    assert not at.exception
    after = _entries()
    assert after["_reviewed"] == before["_reviewed"] + 2, (before, after)  # both feedback cards read afresh
    assert (after["_analysis"], after["_shared"]) == (before["_analysis"], before["_shared"]), (before, after)
    assert _reviewed(at) != readings, readings  # the tag is counted
    # a change that is not a review (the stage thresholds) moves the analyses' token too
    at.session_state["actor_name"] = "Ada"
    at = _save_latency(at, 480.0)
    assert not at.exception and not at.error
    moved = _entries()
    assert moved["_analysis"] == after["_analysis"] + 2 and moved["_shared"] == after["_shared"] + 1, moved

"""The Feedback page driven with AppTest: verdict, tagging through the table, stale edits, bulk, URL state."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics import feedback as fb
from analytics.workspace import Actor, open_workspace
from tests.support.apptest import page_test
from tests.support.feedback_data import make


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    make(tmp_path / "page.duckdb", 1500, seed=4).close()
    return tmp_path / "page.duckdb"


def _page(db: Path, monkeypatch: pytest.MonkeyPatch, *, name: str | None = "ann", **query: str) -> AppTest:
    monkeypatch.setenv("LIFTBOARD_DB", str(db))
    at = page_test("feedback", timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    if name:
        at.text_input(key="fb_name").set_value(name).run()
    assert not at.exception, at.exception
    return at


def _edit(at: AppTest, row: int, new_tags: list[str]) -> AppTest:
    at.session_state[at.session_state["fb_editor_key"]] = {
        "edited_rows": {row: {"tags": new_tags}},
        "added_rows": [],
        "deleted_rows": [],
    }
    return at.run()


def test_demo_page_states_the_verdict_first(demo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(demo_copy, monkeypatch, name=None, fb_tab="Tag mix & agreement")
    assert at.title[0].value == "Feedback" and not at.error
    ws = open_workspace(demo_copy)
    s = fb.summary(ws, fb.FeedbackFilter(experiment="ai_recs"))
    ws.close()
    assert at.markdown[0].value == f"**{fb.summary_sentence(s)}**"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Acceptance rate"] == f"{s.acceptance.rate:.1%}"
    assert metrics["Tagged"] == f"550 / {s.total:,}"
    # No name yet: read-only, the save button disabled, and the page says why.
    assert any("Type your name" in i.value for i in at.info)
    assert at.button(key="fb_save").disabled
    # Agreement between the demo's two reviewers is stated in words.
    assert any("**alice** and **bob** agree" in m.value for m in at.markdown)


def test_tag_an_item_in_the_table_writes_review_and_audit(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(db, monkeypatch)
    assert at.session_state["actor_name"] == "ann"
    _edit(at, 0, ["wrong", "unsafe"])
    assert at.button(key="fb_save").label == "Save 1 change(s)"
    at.button(key="fb_save").click().run()
    assert [s.value for s in at.success] == ["Saved tags on 1 item(s)."]
    assert "tagged 1 of 1,500 items" in at.markdown[0].value
    ws = open_workspace(db)
    try:
        assert ws.query("SELECT feedback_id, reviewer, version FROM lb_reviews") == [("f0", "ann", 1)]
        trail = fb.audit_trail(ws)
        assert trail.actor.tolist() == ["ann"] and trail.target.tolist() == ["f0"]
    finally:
        ws.close()
    # The untagged queue no longer shows f0.
    assert "f0" not in at.selectbox(key="fb_item").options


def test_stale_edit_is_refused_with_a_reload_message(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(db, monkeypatch)
    ws = open_workspace(db)
    fb.tag_item(ws, "f0", ["helpful"], Actor("bob", "editor"), 0)  # bob saves while ann has the page open
    ws.close()
    _edit(at, 0, ["wrong"])
    at.button(key="fb_save").click().run()
    assert [e.value for e in at.error] == [
        "Someone else tagged item f0 since you loaded it; reload to see their tags."
    ]
    ws = open_workspace(db)
    try:
        assert ws.query("SELECT reviewer FROM lb_reviews") == [("bob",)]
    finally:
        ws.close()


def test_bulk_action_confirms_the_count_then_tags(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(db, monkeypatch, fb_signal="reject")
    ws = open_workspace(db)
    n = fb.count(ws, fb.FeedbackFilter(signals=("reject",)))
    ws.close()
    assert at.metric[1].value == f"{n:,}"  # the URL's filter applies
    at.multiselect(key="fb_bulk_add").set_value(["irrelevant"]).run()
    assert any(f"**{n:,}** of the {n:,} selected items" in m.value for m in at.markdown)
    assert at.button(key="fb_bulk_go").disabled
    at.checkbox(key=f"fb_bulk_sure_{n}_{n}").check().run()
    at.button(key="fb_bulk_go").click().run()
    assert [s.value for s in at.success] == [f"Changed tags on {n:,} item(s)."]
    ws = open_workspace(db)
    try:
        assert ws.scalar("SELECT count(*) FROM lb_reviews WHERE reviewer = 'ann'") == n
        assert ws.scalar("SELECT count(*) FROM lb_audit WHERE action = 'review.tag'") == n
    finally:
        ws.close()

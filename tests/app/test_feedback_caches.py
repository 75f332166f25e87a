"""The Feedback page's caches: another reviewer's tag shows up at the next rerun wherever reviews count."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics import feedback as fb
from analytics.workspace import Actor, open_workspace
from tests.support.apptest import page_test
from tests.support.feedback_data import make

N = 1500


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    make(tmp_path / "caches.duckdb", N, seed=5).close()
    return tmp_path / "caches.duckdb"


def _tag_elsewhere(db: Path, reviewer: str, item: str, tags: list[str]) -> None:
    """A reviewer in another session (its own connection) tags one item; this page is not told."""
    ws = open_workspace(db)
    try:
        fb.tag_item(ws, item, tags, Actor(reviewer, "editor"), fb.item_version(ws, item))
    finally:
        ws.close()


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _charts(at: AppTest) -> dict[str, dict]:
    """The plotly charts drawn, by title, as the browser receives them."""
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return {s["layout"].get("title", {}).get("text"): s for s in specs}


def _open(at: AppTest, tab: str) -> AppTest:
    at.session_state["fb_tab"] = tab  # what a click on the tab does (it is bound to the URL)
    at.run()
    assert not at.exception, at.exception
    return at


def test_a_tag_moves_what_reviews_decide_and_nothing_else(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIFTBOARD_DB", str(db))
    at = page_test("feedback", timeout=120)
    at.run()
    at.text_input(key="fb_name").set_value("ann").run()
    assert not at.exception, at.exception
    before = _metrics(at)
    assert before["Tagged"] == f"0 / {N:,}"
    assert f"{N:,} items match" in " ".join(c.value for c in at.caption)
    assert "Tag mix per week" not in _charts(at)  # a closed tab draws nothing (the queue is open)
    at.multiselect(key="fb_bulk_add").set_value(["irrelevant"]).run()  # ann prepares a bulk action
    assert any(f"of the {N:,} selected items" in m.value for m in at.markdown)
    _open(at, "Tag mix & agreement")
    assert _charts(at)["Tag mix per week"]["data"] == []  # nobody has tagged yet
    at.run()  # a rerun with every cache warm

    _tag_elsewhere(db, "bob", "f3", ["wrong"])
    at.run()
    assert not at.exception, at.exception
    after = _metrics(at)
    assert after["Tagged"] == f"1 / {N:,}"
    assert f"reviewers have tagged 1 of {N:,} items" in at.markdown[0].value
    # The queue runs with any tab open (its widgets keep their state): it shrank, and so did the bulk preview.
    assert f"{N - 1:,} items match" in " ".join(c.value for c in at.caption)
    assert any(f"of the {N - 1:,} selected items" in m.value for m in at.markdown)
    assert [t["name"] for t in _charts(at)["Tag mix per week"]["data"]] == ["wrong"]
    # Users' own signals do not depend on reviews: the same numbers as before the tag.
    for label in ("Acceptance rate", "Feedback items", "Reject rate"):
        assert after[label] == before[label]
    _open(at, "Audit trail")
    (trail,) = [d.value for d in at.dataframe if "actor" in d.value.columns]
    assert trail.actor.tolist() == ["bob"] and trail.target.tolist() == ["f3"]

    # A second reviewer on the same item: agreement can now be measured, and is stated in words.
    _open(at, "Tag mix & agreement")
    assert not any("agree" in m.value for m in at.markdown)
    _tag_elsewhere(db, "carol", "f3", ["wrong"])
    at.run()
    assert _metrics(at)["Tagged"] == f"1 / {N:,}"  # still one item
    assert any("**bob** and **carol** agree" in m.value for m in at.markdown)
    _tag_elsewhere(db, "carol", "f4", ["unsafe"])
    at.run()
    assert _metrics(at)["Tagged"] == f"2 / {N:,}"
    assert sorted(t["name"] for t in _charts(at)["Tag mix per week"]["data"]) == ["unsafe", "wrong"]

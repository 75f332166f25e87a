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


def _chart(at: AppTest, title: str) -> dict:
    """The spec of the plotly chart with this title, as the browser receives it."""
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    found = [s for s in specs if s["layout"].get("title", {}).get("text") == title]
    assert found, [s["layout"].get("title") for s in specs]
    return found[0]


def test_a_tag_moves_what_reviews_decide_and_nothing_else(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIFTBOARD_DB", str(db))
    at = page_test("feedback", timeout=120)
    at.run()
    at.text_input(key="fb_name").set_value("ann").run()
    assert not at.exception, at.exception
    before = _metrics(at)
    assert before["Tagged"] == f"0 / {N:,}"
    assert f"{N:,} items match" in " ".join(c.value for c in at.caption)
    assert _chart(at, "Tag mix per week")["data"] == []  # nobody has tagged yet
    at.multiselect(key="fb_bulk_add").set_value(["irrelevant"]).run()  # ann prepares a bulk action
    assert any(f"of the {N:,} selected items" in m.value for m in at.markdown)
    at.run()  # a rerun with every cache warm

    _tag_elsewhere(db, "bob", "f3", ["wrong"])
    at.run()
    assert not at.exception, at.exception
    after = _metrics(at)
    assert after["Tagged"] == f"1 / {N:,}"
    assert f"reviewers have tagged 1 of {N:,} items" in at.markdown[0].value
    assert f"{N - 1:,} items match" in " ".join(c.value for c in at.caption)  # the untagged queue shrank
    assert any(
        f"of the {N - 1:,} selected items" in m.value for m in at.markdown
    )  # and so did the bulk preview
    mix = _chart(at, "Tag mix per week")
    assert [t["name"] for t in mix["data"]] == ["wrong"]
    trail = at.dataframe[-2].value  # the audit trail (the taxonomy table follows it)
    assert trail.actor.tolist() == ["bob"] and trail.target.tolist() == ["f3"]
    # Users' own signals do not depend on reviews: the same numbers as before the tag.
    for label in ("Acceptance rate", "Feedback items", "Reject rate"):
        assert after[label] == before[label]

    # A second reviewer on the same item: agreement can now be measured, and is stated in words.
    assert not any("agree" in m.value for m in at.markdown)
    _tag_elsewhere(db, "carol", "f3", ["wrong"])
    at.run()
    assert _metrics(at)["Tagged"] == f"1 / {N:,}"  # still one item
    assert any("**bob** and **carol** agree" in m.value for m in at.markdown)
    _tag_elsewhere(db, "carol", "f4", ["unsafe"])
    at.run()
    assert _metrics(at)["Tagged"] == f"2 / {N:,}"
    assert sorted(t["name"] for t in _chart(at, "Tag mix per week")["data"]) == ["unsafe", "wrong"]

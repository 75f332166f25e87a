"""Taxonomy edits, tagging one item or a selection, audit rows, stale writes, restarts and kills."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from analytics import feedback as fb
from analytics.errors import LiftboardError
from analytics.workspace import Actor, Workspace, open_workspace
from tests.support.feedback_data import make

ROOT = Path(__file__).resolve().parents[2]
N = 1000


@pytest.fixture()
def ws(tmp_path: Path) -> Workspace:
    w = make(tmp_path / "tags.duckdb", N, seed=5)
    yield w
    w.close()


def _reviews(ws: Workspace) -> dict[tuple[str, str], tuple[list[int], int]]:
    rows = ws.query("SELECT feedback_id, reviewer, tag_ids, version FROM lb_reviews")
    return {(f, r): (list(t), int(v)) for f, r, t, v in rows}


def _tag_audit(ws: Workspace) -> list[tuple]:
    return ws.query(
        "SELECT actor, target, before, after FROM lb_audit WHERE action = 'review.tag' ORDER BY audit_id"
    )


# -- taxonomy ---------------------------------------------------------------------------------------
def test_taxonomy_add_rename_retire_keeps_ids_and_history(ws: Workspace) -> None:
    assert [t.name for t in fb.list_tags(ws)] == ["helpful", "irrelevant", "too slow", "unsafe", "wrong"]
    new = fb.add_tag(ws, "  off  topic ", Actor("alice", "admin"), "not about the question")
    assert new.name == "off topic" and new.tag_id == 6
    fb.tag_item(ws, "f0", ["off topic", "wrong"], Actor("alice", "editor"), 0)
    renamed = fb.rename_tag(ws, "OFF TOPIC", "off-topic", Actor("bob", "admin"))
    assert renamed.tag_id == new.tag_id
    # The item keeps the tag under its new name; the rename is in the tag's history.
    assert fb.queue(ws, fb.FeedbackFilter(reviewer="alice"), limit=1).rows.tags[0] == ["off-topic", "wrong"]
    hist = fb.tag_history(ws, "off-topic")
    assert list(hist.action) == ["tag.add", "tag.rename"]
    assert json.loads(hist.before[1]) == {"name": "off topic"} and hist.actor[1] == "bob"
    fb.retire_tag(ws, "off-topic", Actor("bob", "admin"))
    assert "off-topic" not in [t.name for t in fb.list_tags(ws)]
    assert "off-topic" in [t.name for t in fb.list_tags(ws, include_retired=True)]
    # Retired: kept on items, and re-saving the item with it is fine; adding it anew is refused.
    assert fb.tag_item(ws, "f0", ["off-topic", "wrong", "unsafe"], Actor("alice", "editor"), 1).changed == 1
    with pytest.raises(LiftboardError, match="retired"):
        fb.tag_item(ws, "f1", ["off-topic"], Actor("alice", "editor"), 0)
    with pytest.raises(LiftboardError, match="retired"):
        fb.bulk_tag(ws, fb.FeedbackFilter(feedback_ids=("f1",)), Actor("alice", "editor"), add=["off-topic"])
    fb.retire_tag(ws, "off-topic", Actor("bob", "admin"), retired=False)
    assert fb.tag_item(ws, "f1", ["off-topic"], Actor("alice", "editor"), 0).changed == 1
    assert list(fb.tag_history(ws, "off-topic").action) == [
        "tag.add",
        "tag.rename",
        "tag.retire",
        "tag.restore",
    ]


def test_taxonomy_bad_input(ws: Workspace) -> None:
    with pytest.raises(LiftboardError, match="already exists"):
        fb.add_tag(ws, "Wrong", Actor("alice", "admin"))
    with pytest.raises(LiftboardError, match="blank"):
        fb.add_tag(ws, "   ", Actor("alice", "admin"))
    with pytest.raises(LiftboardError, match="already exists"):
        fb.rename_tag(ws, "wrong", "helpful", Actor("alice", "admin"))
    with pytest.raises(LiftboardError, match="no tag 'nope'"):
        fb.rename_tag(ws, "nope", "x", Actor("alice", "admin"))
    with pytest.raises(LiftboardError, match="who you are"):
        fb.add_tag(ws, "fine", Actor("  ", "admin"))
    assert len(fb.list_tags(ws, include_retired=True)) == 5


# -- tagging ----------------------------------------------------------------------------------------
def test_tag_one_item_writes_review_and_audit(ws: Workspace) -> None:
    assert fb.tag_item(ws, "f3", ["wrong", "unsafe", "wrong"], Actor("alice", "editor"), 0) == fb.WriteResult(
        1, 0
    )
    wrong, unsafe = fb.get_tag(ws, "wrong").tag_id, fb.get_tag(ws, "unsafe").tag_id
    assert _reviews(ws) == {("f3", "alice"): (sorted([wrong, unsafe]), 1)}
    # Saving the same tags again changes nothing and writes no audit row.
    assert fb.tag_item(ws, "f3", ["unsafe", "wrong"], Actor("alice", "editor"), 1) == fb.WriteResult(0, 1)
    assert fb.tag_item(ws, "f3", ["wrong"], Actor("alice", "editor"), 1) == fb.WriteResult(1, 0)
    audit = _tag_audit(ws)
    assert len(audit) == 2 and {a[0] for a in audit} == {"alice"} and {a[1] for a in audit} == {"f3"}
    assert json.loads(audit[0][2]) == {"tag_ids": [], "tags": [], "version": 0}
    assert json.loads(audit[1][2])["tags"] == ["unsafe", "wrong"]
    assert json.loads(audit[1][3]) == {"tag_ids": [wrong], "tags": ["wrong"], "version": 2}
    trail = fb.audit_trail(ws, actor="alice")
    assert len(trail) == 2 and trail.target.tolist() == ["f3", "f3"]


def test_unknown_tag_empty_selection_unknown_item_blank_reviewer(ws: Workspace) -> None:
    with pytest.raises(LiftboardError, match="no tag 'bogus'"):
        fb.tag_item(ws, "f1", ["bogus"], Actor("alice", "editor"), 0)
    with pytest.raises(LiftboardError, match="No items"):
        fb.save_tags(ws, Actor("alice", "editor"), [])
    with pytest.raises(LiftboardError, match="empty"):
        fb.bulk_tag(ws, fb.FeedbackFilter(signals=("nonexistent",)), Actor("alice", "editor"), add=["wrong"])
    with pytest.raises(LiftboardError, match="at least one tag"):
        fb.bulk_tag(ws, fb.FeedbackFilter(), Actor("alice", "editor"))
    with pytest.raises(LiftboardError, match="no feedback item 'f999999'"):
        fb.tag_item(ws, "f999999", ["wrong"], Actor("alice", "editor"), 0)
    with pytest.raises(LiftboardError, match="who you are"):
        fb.tag_item(ws, "f1", ["wrong"], Actor("", "editor"), 0)
    assert _reviews(ws) == {} and _tag_audit(ws) == []


def test_stale_concurrent_edit_is_detected_not_overwritten(ws: Workspace) -> None:
    # Alice and Bob both load f5 at version 0; Bob saves first; Alice's save must be refused.
    seen = fb.queue(ws, fb.FeedbackFilter(feedback_ids=("f5",)), limit=1).rows.version[0]
    assert seen == 0
    fb.tag_item(ws, "f5", ["helpful"], Actor("bob", "editor"), seen)
    with pytest.raises(LiftboardError, match="Someone else tagged item f5 since you loaded it; reload"):
        fb.save_tags(
            ws,
            Actor("alice", "editor"),
            [fb.TagEdit("f6", ("wrong",), 0), fb.TagEdit("f5", ("wrong",), seen)],
        )
    # Nothing of Alice's save was written (all or nothing), Bob's tags stand.
    assert _reviews(ws) == {("f5", "bob"): ([fb.get_tag(ws, "helpful").tag_id], 1)}
    # After reloading she sees version 1 and can save.
    assert fb.tag_item(ws, "f5", ["wrong"], Actor("alice", "editor"), fb.item_version(ws, "f5")).changed == 1
    assert fb.item_version(ws, "f5") == 2


def test_racing_threads_one_wins_the_other_is_told(ws: Workspace) -> None:
    # Eight threads save the same item from version 0 at once: exactly one write lands.
    results: list[str] = []
    barrier = threading.Barrier(8)

    def save(i: int) -> None:
        barrier.wait()
        try:
            fb.tag_item(ws, "f9", ["wrong"], Actor(f"r{i}", "editor"), 0)
            results.append("ok")
        except LiftboardError as exc:
            results.append(str(exc))

    threads = [threading.Thread(target=save, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1 and all("reload" in r for r in results if r != "ok")
    assert len(_reviews(ws)) == 1 and len(_tag_audit(ws)) == 1


def test_bulk_tag_filtered_selection(ws: Workspace) -> None:
    flt = fb.FeedbackFilter(experiment="exp", signals=("reject",), model_versions=("v2",))
    n = fb.count(ws, flt)
    assert n > 50
    fb.tag_item(ws, fb.queue(ws, flt, limit=1).rows.feedback_id[0], ["wrong"], Actor("alice", "editor"), 0)
    preview = fb.bulk_preview(ws, flt, "alice", add=["wrong", "unsafe"])
    assert preview == fb.WriteResult(changed=n, unchanged=0)  # the tagged one still gains 'unsafe'
    token = fb.current_audit_id(ws)
    res = fb.bulk_tag(
        ws, flt, Actor("alice", "editor"), add=["wrong", "unsafe"], expected_count=n, seen_audit_id=token
    )
    assert res == fb.WriteResult(changed=n, unchanged=0)
    wrong, unsafe = fb.get_tag(ws, "wrong").tag_id, fb.get_tag(ws, "unsafe").tag_id
    revs = _reviews(ws)
    assert len(revs) == n and all(t == sorted([wrong, unsafe]) for t, _ in revs.values())
    assert len(_tag_audit(ws)) == n + 1
    # Again: nothing changes, no audit rows. Then remove one tag from all of them.
    assert fb.bulk_tag(ws, flt, Actor("alice", "editor"), add=["wrong"]) == fb.WriteResult(0, n)
    assert fb.bulk_tag(ws, flt, Actor("alice", "editor"), remove=["wrong"]).changed == n
    assert all(t == [unsafe] for t, _ in _reviews(ws).values())
    assert len(_tag_audit(ws)) == 2 * n + 1
    # Other reviewers' rows are never touched by alice's bulk action.
    fb.tag_item(ws, "f0", ["helpful"], Actor("bob", "editor"), fb.item_version(ws, "f0"))
    fb.bulk_tag(ws, fb.FeedbackFilter(feedback_ids=("f0",)), Actor("alice", "editor"), add=["wrong"])
    assert _reviews(ws)[("f0", "bob")][0] == [fb.get_tag(ws, "helpful").tag_id]


def test_bulk_tag_refuses_changed_selection_or_stale_items(ws: Workspace) -> None:
    flt = fb.FeedbackFilter(signals=("correct",))
    n = fb.count(ws, flt)
    token = fb.current_audit_id(ws)
    with pytest.raises(LiftboardError, match=f"now holds {n} items, not the {n + 1}"):
        fb.bulk_tag(ws, flt, Actor("alice", "editor"), add=["wrong"], expected_count=n + 1)
    victim = fb.queue(ws, flt, limit=1).rows.feedback_id[0]
    fb.tag_item(ws, victim, ["helpful"], Actor("bob", "editor"), 0)
    with pytest.raises(LiftboardError, match=f"item {victim} since you loaded it"):
        fb.bulk_tag(ws, flt, Actor("alice", "editor"), add=["wrong"], expected_count=n, seen_audit_id=token)
    assert len(_reviews(ws)) == 1


# -- durability -------------------------------------------------------------------------------------
def _run(code: str, *args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        **kw,
    )


def test_tags_survive_a_restart_in_a_new_process(ws: Workspace, tmp_path: Path) -> None:
    fb.add_tag(ws, "needs context", Actor("alice", "admin"))
    fb.tag_item(ws, "f2", ["needs context", "wrong"], Actor("alice", "editor"), 0)
    fb.bulk_tag(ws, fb.FeedbackFilter(signals=("reject",)), Actor("bob", "editor"), add=["irrelevant"])
    n_reject = fb.count(ws, fb.FeedbackFilter(signals=("reject",)))
    path = ws.path
    ws.close()
    proc = _run(
        """
        import json, sys
        from analytics import feedback as fb
        from analytics.workspace import open_workspace
        ws = open_workspace(sys.argv[1])
        row = fb.queue(ws, fb.FeedbackFilter(feedback_ids=("f2",), reviewer="alice"), limit=1).rows.iloc[0]
        print(json.dumps({"tags": list(row.tags), "version": int(row.version),
                          "bob": fb.progress(ws, fb.FeedbackFilter(reviewer="bob")).tagged,
                          "names": [t.name for t in fb.list_tags(ws)]}))
        """,
        str(path),
    )
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0
    doc = json.loads(out)
    assert doc["tags"] == ["needs context", "wrong"] and doc["version"] == 1
    assert doc["bob"] == n_reject and "needs context" in doc["names"]


def test_sigkill_mid_bulk_write_leaves_all_or_nothing(tmp_path: Path) -> None:
    path = tmp_path / "kill.duckdb"
    make(path, 60_000, seed=9).close()
    # A writer toggles 'wrong' on every item, again and again; it is killed at an arbitrary moment.
    proc = _run(
        """
        import sys
        from analytics import feedback as fb
        from analytics.workspace import Actor
        from analytics.workspace import open_workspace
        ws = open_workspace(sys.argv[1])
        print("ready", flush=True)
        i = 0
        while True:
            if i % 2 == 0:
                fb.bulk_tag(ws, fb.FeedbackFilter(), Actor("writer", "editor"), add=["wrong"])
            else:
                fb.bulk_tag(ws, fb.FeedbackFilter(), Actor("writer", "editor"), remove=["wrong"])
            i += 1
            print("done", i, flush=True)
        """,
        str(path),
    )
    assert proc.stdout.readline().strip() == "ready"
    assert proc.stdout.readline().startswith("done")  # at least one write committed
    time.sleep(0.37)  # then kill somewhere inside a later write
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    ws = open_workspace(path)
    try:
        with_tag, total, versions = ws.query(
            "SELECT count(*) FILTER (WHERE len(tag_ids) = 1), count(*), count(DISTINCT version) FROM lb_reviews"
        )[0]
        audits = ws.scalar("SELECT count(*) FROM lb_audit WHERE action = 'review.tag'")
        version = ws.scalar("SELECT max(version) FROM lb_reviews")
    finally:
        ws.close()
    assert total == 60_000 and versions == 1  # every item at the same version: no half-written bulk
    assert with_tag in (0, 60_000)
    assert with_tag == (60_000 if version % 2 == 1 else 0)
    assert audits == 60_000 * version  # one audit row per item per committed write, no more, no less


def test_tagging_moves_the_feedback_cache_key_but_not_the_analyses(ws: Workspace) -> None:
    """Reviewers at work must not send every page's analysis back to the database (20-session load test)."""
    from analytics.cost import Price, set_prices

    full, analyses = ws.state_token(), ws.state_token(reviews=False)
    fb.tag_item(ws, "f3", ["wrong"], Actor("alice", "editor"), 0)
    fb.add_tag(ws, "off-topic", Actor("alice", "admin"))
    assert ws.state_token() != full  # the Feedback page and the Overview see the new tags
    assert ws.state_token(reviews=False) == analyses  # experiments, cost and drift keep their results
    set_prices(ws, [Price("m", 1.0, 2.0, 0.5)], actor=Actor("alice", "admin"))
    assert ws.state_token(reviews=False) != analyses  # a price change does move them

"""Every engine write checks the actor's role itself: a viewer calling the engine directly changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from analytics import feedback as fb
from analytics import ingest, overview
from analytics.cost import Price, get_budget, get_prices, set_budget, set_prices
from analytics.errors import LiftboardError
from analytics.ingest import populate_demo
from analytics.overview import Thresholds
from analytics.workspace import Actor, RoleRule, Workspace, get_rules, open_workspace, set_rules
from tests.support.feedback_data import make

VIEWER = Actor("vera@example.com", "viewer", authenticated=True)
EDITOR = Actor("ed@example.com", "editor", authenticated=True)
ADMIN = Actor("ada@example.com", "admin", authenticated=True)
FORGED = Actor("mallory@example.com", "superuser", authenticated=True)  # a role that does not exist

EVENTS = "user_id,timestamp,event,value\nu1,2026-09-01 10:00:00,view,\nu2,2026-09-02 11:00:00,purchase,9.5\n"


@pytest.fixture()
def ws(tmp_path: Path) -> Iterator[Workspace]:
    ws = make(tmp_path / "roles.duckdb", 200, seed=3)
    src = tmp_path / "events.csv"
    src.write_text(EVENTS)
    ingest.load(ws, src, "events", actor=ADMIN)
    (tmp_path / "more.csv").write_text(EVENTS.replace("u1", "u3"))
    set_prices(ws, [Price("v1", 0.5, 1.5)], actor=ADMIN)
    set_rules(ws, ADMIN, [RoleRule("@example.com", "viewer")])
    yield ws
    ws.close()


def snapshot(ws: Workspace) -> dict[str, tuple[int, int]]:
    """Row count and an order-free content hash of every table: equal snapshots mean nothing was written."""
    names = [
        r[0] for r in ws.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")
    ]
    return {
        n: tuple(ws.query(f'SELECT count(*), coalesce(sum(hash(t)), 0) FROM "{n}" t')[0])  # catalog names
        for n in sorted(names)
    }


def _writes(tmp_path: Path) -> dict[str, Callable[[Workspace, Actor | None], Any]]:
    src = tmp_path / "more.csv"  # written by the fixture
    flt = fb.FeedbackFilter(feedback_ids=("f1", "f2"))
    return {
        "load": lambda ws, a: ingest.load(ws, src, "events", actor=a),
        "load_replace": lambda ws, a: ingest.load(ws, src, "events", replace=True, actor=a),
        "delete": lambda ws, a: ingest.delete_dataset(ws, "events", actor=a),
        "tag_item": lambda ws, a: fb.tag_item(ws, "f0", ["wrong"], a, 0),
        "save_tags": lambda ws, a: fb.save_tags(ws, a, [fb.TagEdit("f3", ("helpful",), 0)]),
        "bulk_tag": lambda ws, a: fb.bulk_tag(ws, flt, a, add=["unsafe"]),
        "add_tag": lambda ws, a: fb.add_tag(ws, "off topic", a),
        "rename_tag": lambda ws, a: fb.rename_tag(ws, "wrong", "incorrect", a),
        "retire_tag": lambda ws, a: fb.retire_tag(ws, "unsafe", a),
        "set_prices": lambda ws, a: set_prices(ws, [Price("v1", 9.0, 9.0)], actor=a),
        "set_budget": lambda ws, a: set_budget(ws, 1234.0, actor=a),
        "save_thresholds": lambda ws, a: overview.save_thresholds(ws, Thresholds(max_mde_rel=0.5), a),
        "set_rules": lambda ws, a: set_rules(ws, a, [RoleRule("@evil.com", "admin")]),
        "populate_demo": lambda ws, a: populate_demo(ws, actor=a, users=1000),
    }


WRITES = sorted(_writes(Path("/nonexistent")))
EDITOR_MAY = {
    "load",
    "load_replace",
    "tag_item",
    "save_tags",
    "bulk_tag",
    "set_prices",
    "set_budget",
    "save_thresholds",
}
ADMIN_ONLY = {"delete", "add_tag", "rename_tag", "retire_tag", "set_rules"}


@pytest.mark.parametrize("who", [VIEWER, None, FORGED], ids=["viewer", "nobody", "forged-role"])
@pytest.mark.parametrize("write", WRITES)
def test_without_a_writing_role_every_write_is_refused_and_nothing_changes(
    ws: Workspace, tmp_path: Path, write: str, who: Actor | None
) -> None:
    before = snapshot(ws)
    audit = ws.scalar("SELECT count(*) FROM lb_audit")
    with pytest.raises(LiftboardError) as err:
        _writes(tmp_path)[write](ws, who)
    msg = str(err.value)
    if who is None:
        assert msg.startswith("Sign in to ")
    else:
        assert msg.startswith(f"Your role ({who.role}) cannot ") and "ask an admin for the" in msg
    assert snapshot(ws) == before
    assert ws.scalar("SELECT count(*) FROM lb_audit") == audit


@pytest.mark.parametrize("write", sorted(ADMIN_ONLY))
def test_an_editor_cannot_delete_edit_the_taxonomy_or_roles(
    ws: Workspace, tmp_path: Path, write: str
) -> None:
    before = snapshot(ws)
    with pytest.raises(
        LiftboardError, match=r"Your role \(editor\) cannot .*ask an admin for the admin role"
    ):
        _writes(tmp_path)[write](ws, EDITOR)
    assert snapshot(ws) == before


def test_an_editor_tags_loads_and_edits_settings_with_their_name_in_the_audit(
    ws: Workspace, tmp_path: Path
) -> None:
    w = _writes(tmp_path)
    first = ws.scalar("SELECT max(audit_id) FROM lb_audit")
    for name in ("load", "tag_item", "save_tags", "bulk_tag", "set_prices", "set_budget", "save_thresholds"):
        w[name](ws, EDITOR)
    assert ws.scalar("SELECT count(*) FROM events") == 4
    assert ws.scalar("SELECT loaded_by FROM lb_loads ORDER BY load_id DESC LIMIT 1") == EDITOR.name
    assert get_budget(ws) == 1234.0 and get_prices(ws)[0].input_per_1k == 9.0
    assert overview.thresholds(ws).max_mde_rel == 0.5
    reviews = ws.query("SELECT feedback_id, reviewer FROM lb_reviews ORDER BY feedback_id")
    assert reviews == [("f0", EDITOR.name), ("f1", EDITOR.name), ("f2", EDITOR.name), ("f3", EDITOR.name)]
    actors = ws.query("SELECT DISTINCT actor FROM lb_audit WHERE audit_id > ?", [first])
    assert actors == [(EDITOR.name,)]
    # one audit row per load, tagged item (4), prices, budget and thresholds
    assert ws.scalar("SELECT count(*) FROM lb_audit WHERE audit_id > ?", [first]) == 1 + 4 + 3


def test_an_admin_can_do_everything(ws: Workspace, tmp_path: Path) -> None:
    w = _writes(tmp_path)
    for name in ("add_tag", "rename_tag", "retire_tag", "set_rules", "delete"):
        w[name](ws, ADMIN)
    assert not ws.has_table("events")
    names = {t.name: t.retired for t in fb.list_tags(ws, include_retired=True)}
    assert names["off topic"] is False and "incorrect" in names and "wrong" not in names and names["unsafe"]
    assert get_rules(ws) == [RoleRule("@evil.com", "admin")]
    audit = ws.query("SELECT action, actor FROM lb_audit WHERE actor = ? ORDER BY audit_id", [ADMIN.name])
    assert [a for a, _ in audit][-5:] == ["tag.add", "tag.rename", "tag.retire", "roles.set", "delete"]


def test_a_role_read_from_the_workspace_is_what_the_engine_enforces(tmp_path: Path) -> None:
    """A session that only carries an email gets its role from the workspace, not from what it claims."""
    from analytics.workspace import resolve

    ws = open_workspace(tmp_path / "r.duckdb")
    try:
        set_rules(ws, ADMIN, [RoleRule("@example.com", "viewer"), RoleRule("ed@example.com", "editor")])
        vera, ed, stranger = (
            resolve(ws, e, email_verified=True) for e in ("Vera@Example.com", "ed@example.com", "x@other.org")
        )
        assert (vera.role, ed.role, stranger) == ("viewer", "editor", None)
        src = tmp_path / "e.csv"
        src.write_text(EVENTS)
        with pytest.raises(LiftboardError, match=r"Your role \(viewer\) cannot load data"):
            ingest.load(ws, src, "events", actor=vera)
        with pytest.raises(LiftboardError, match="Sign in to load data"):
            ingest.load(ws, src, "events", actor=stranger)
        assert not ws.has_table("events")
        assert ingest.load(ws, src, "events", actor=ed).record["loaded_by"] == "ed@example.com"
    finally:
        ws.close()


def test_cli_roles_set_list_remove_and_audit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from analytics.cli import main

    db = str(tmp_path / "cli.duckdb")
    open_workspace(db).close()

    def run(*argv: str) -> tuple[int, Any]:
        code = main([*argv, "--db", db, "--json"])
        out, _ = capsys.readouterr()
        doc = json.loads(out)  # with --json an error too is one JSON document on stdout: {"error": "…"}
        return code, (doc if code == 0 else f"error: {doc['error']}\n")

    assert run("roles", "set", "Ada@Example.com=admin", "@example.com=viewer") == (
        0,
        {
            "rules": [
                {"match": "ada@example.com", "role": "admin"},
                {"match": "@example.com", "role": "viewer"},
            ]
        },
    )
    assert run("roles", "set", "@example.com=editor")[1]["rules"][1] == {
        "match": "@example.com",
        "role": "editor",
    }
    code, err = run("roles", "set", "ed@example.com=owner")
    assert code == 2 and err == "error: Unknown role 'owner'; the roles are viewer, editor and admin.\n"
    code, err = run("roles", "set", "nobody")
    assert code == 2 and "is not EMAIL_OR_@DOMAIN_OR_sub:ID=ROLE" in err
    code, err = run("roles", "remove", "@nope.com")
    assert code == 2 and err.startswith("error: There is no role rule for '@nope.com'")
    assert run("roles", "remove", "@example.com")[1] == {
        "rules": [{"match": "ada@example.com", "role": "admin"}]
    }
    assert run("roles", "list")[1] == {"rules": [{"match": "ada@example.com", "role": "admin"}]}
    audit = run("audit", "--area", "roles")[1]["audit"]
    assert [a["action"] for a in audit] == ["roles.set"] * 3  # set, set, remove; the refused ones left no row
    assert json.loads(audit[0]["after"]) == [{"match": "ada@example.com", "role": "admin"}]
    assert run("audit", "--area", "tags")[1] == {"audit": []}

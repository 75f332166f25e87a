"""The Data page's administration section (AppTest, local mode: the person at the machine is its admin)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analytics import ingest
from analytics.workspace import Actor, RoleRule, open_workspace, set_rules
from tests.support.apptest import page_test


def test_admin_sees_the_audit_trail_and_the_role_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "admin.duckdb"
    ws = open_workspace(db)
    src = tmp_path / "e.csv"
    src.write_text("user_id,timestamp,event\nu1,2026-09-01 10:00:00,view\nu2,2026-09-02 10:00:00,view\n")
    ingest.load(ws, src, "events", actor=Actor("ana", "editor"))
    set_rules(
        ws, Actor("root", "admin"), [RoleRule("@example.com", "viewer"), RoleRule("ed@example.com", "editor")]
    )
    ws.close()
    monkeypatch.setenv("LIFTBOARD_DB", str(db))
    at = page_test("data", timeout=120).run()
    assert not at.exception and not at.error
    assert [h.value for h in at.header][-1] == "Administration"
    trail = next(d.value for d in at.dataframe if "action" in d.value.columns)
    assert list(trail.action) == ["roles.set", "load:new"] and list(trail.actor) == ["root", "ana"]
    assert json.loads(trail.after[0]) == [
        {"match": "@example.com", "role": "viewer"},
        {"match": "ed@example.com", "role": "editor"},
    ]
    at.multiselect(key="data-audit-areas").set_value(["loads and deletions"]).run()
    trail = next(d.value for d in at.dataframe if "action" in d.value.columns)
    assert list(trail.action) == ["load:new"]
    assert at.button(key="data-save-roles").label == "Save roles"

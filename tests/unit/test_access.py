"""Roles: emails and domains map to viewer, editor or admin; every write checks the role."""

from __future__ import annotations

import pytest

from analytics.errors import LiftboardError
from analytics.workspace import (
    Actor,
    RoleRule,
    Workspace,
    get_rules,
    local_actor,
    require,
    resolve,
    set_rules,
)

ADMIN = Actor("root@example.com", "admin", authenticated=True)


def test_role_order_gates_actions() -> None:
    viewer, editor = Actor("v", "viewer"), Actor("e", "editor")
    assert viewer.can("read") and viewer.can("download") and not viewer.can("tag")
    assert editor.can("tag") and editor.can("load") and not editor.can("delete")
    assert ADMIN.can("delete") and ADMIN.can("edit_roles")
    with pytest.raises(
        LiftboardError, match=r"Your role \(viewer\) cannot load data; ask an admin for the editor role"
    ):
        require(viewer, "load")
    with pytest.raises(LiftboardError, match="Sign in to tag feedback"):
        require(None, "tag")


def test_resolve_exact_email_beats_domain_and_unknown_gets_nothing(tmp_ws: Workspace) -> None:
    set_rules(tmp_ws, ADMIN, [RoleRule("@example.com", "viewer"), RoleRule("Ed@Example.com", "editor")])
    assert resolve(tmp_ws, "ed@example.com").role == "editor"
    assert resolve(tmp_ws, "someone@example.com").role == "viewer"
    assert resolve(tmp_ws, "mallory@evil.test") is None
    assert resolve(tmp_ws, "") is None
    # A lookalike domain does not match: the rule is "@example.com", not "example.com".
    assert resolve(tmp_ws, "x@notexample.com") is None


def test_set_rules_is_admin_only_validated_and_audited(tmp_ws: Workspace) -> None:
    with pytest.raises(LiftboardError, match="cannot edit roles"):
        set_rules(tmp_ws, Actor("e@example.com", "editor", True), [RoleRule("@x.com", "admin")])
    with pytest.raises(LiftboardError, match="Unknown role 'owner'"):
        set_rules(tmp_ws, ADMIN, [RoleRule("@x.com", "owner")])
    with pytest.raises(LiftboardError, match="neither an email"):
        set_rules(tmp_ws, ADMIN, [RoleRule("x.com; DROP TABLE users", "viewer")])
    assert get_rules(tmp_ws) == []
    set_rules(tmp_ws, ADMIN, [RoleRule("@x.com", "viewer")])
    rows = tmp_ws.query("SELECT actor, action, before, after FROM lb_audit WHERE action = 'roles.set'")
    assert rows == [("root@example.com", "roles.set", "[]", '[{"match": "@x.com", "role": "viewer"}]')]


def test_local_actor_needs_a_name() -> None:
    assert local_actor("  Ada   Lovelace ").name == "Ada Lovelace"
    assert local_actor("ada").role == "admin"
    with pytest.raises(LiftboardError, match="Type your name"):
        local_actor("   ")

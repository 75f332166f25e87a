"""Roles: emails and domains map to viewer, editor or admin; every write checks the role."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics.errors import LiftboardError
from analytics.workspace import (
    Actor,
    RoleRule,
    Workspace,
    get_rules,
    local_actor,
    open_workspace,
    remove_rules,
    require,
    resolve,
    resolve_at,
    set_rules,
    verified,
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
    assert resolve(tmp_ws, "ed@example.com", email_verified=True).role == "editor"
    assert resolve(tmp_ws, "someone@example.com", email_verified=True).role == "viewer"
    assert resolve(tmp_ws, "mallory@evil.test", email_verified=True) is None
    assert resolve(tmp_ws, "", email_verified=True) is None
    # A lookalike domain does not match: the rule is "@example.com", not "example.com".
    assert resolve(tmp_ws, "x@notexample.com", email_verified=True) is None


def test_only_verified_emails_and_bound_accounts_get_a_role(tmp_ws: Workspace, tmp_path: Path) -> None:
    rules = [
        RoleRule("admin@example.com", "admin"),
        RoleRule("@example.com", "viewer"),
        RoleRule("SUB: Ab-12", "editor"),
    ]
    assert set_rules(tmp_ws, ADMIN, rules)[2] == RoleRule("sub:Ab-12", "editor")  # the id keeps its case
    # an email the provider has not verified gets nothing, however it is spelled
    for email in ("admin@example.com", "Admin@Example.com", "x@example.com"):
        assert resolve(tmp_ws, email, email_verified=False) is None
    assert resolve(tmp_ws, "Admin@Example.com", email_verified=True).role == "admin"
    # a bound account needs no (verified) email; its name in the audit trail is the account
    bound = resolve(tmp_ws, "bot@elsewhere.org", email_verified=False, subject="Ab-12")
    assert (bound.name, bound.role) == ("sub:Ab-12", "editor")
    assert resolve(tmp_ws, None, email_verified=False, subject="ab-12") is None  # ids are case-sensitive
    both = resolve(tmp_ws, "x@example.com", email_verified=True, subject="Ab-12")
    assert (both.name, both.role) == ("x@example.com", "editor")  # the higher of the two roles
    assert [verified(v) for v in (True, "true", " TRUE ", False, "false", None, 1)] == [
        True, True, True, False, False, False, False,
    ]  # fmt: skip
    with pytest.raises(LiftboardError, match="names no account id"):
        set_rules(tmp_ws, ADMIN, [RoleRule("sub:  ", "viewer")])
    assert [r.match for r in remove_rules(tmp_ws, ADMIN, [" sub:Ab-12"])] == [
        "admin@example.com",
        "@example.com",
    ]


def test_a_role_lookup_leaves_the_file_closed(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "other.duckdb"
    ws = open_workspace(path)
    set_rules(ws, ADMIN, [RoleRule("ada@example.com", "admin")])
    ws.close()
    assert resolve_at(path, "ada@example.com", email_verified=True).role == "admin"
    assert resolve_at(path, "eve@example.com", email_verified=True) is None
    assert resolve_at(tmp_path / "missing.duckdb", "ada@example.com", email_verified=True) is None
    assert not (tmp_path / "missing.duckdb").exists()
    code = "import duckdb, sys; duckdb.connect(sys.argv[1]).execute('CREATE TABLE t AS SELECT 1')"
    assert subprocess.run([sys.executable, "-c", code, str(path)], timeout=60).returncode == 0


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

"""Who may do what: roles (viewer, editor, admin) mapped from emails or domains, checked on every write."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from analytics.errors import LiftboardError
from analytics.store import Workspace

ROLES: tuple[str, ...] = ("viewer", "editor", "admin")
SETTINGS_KEY = "access:roles"

#: The least role each action needs. Reading and downloading reports is every role's.
ACTIONS: dict[str, str] = {
    "read": "viewer",
    "download": "viewer",
    "tag": "editor",
    "load": "editor",
    "edit_prices": "editor",
    "edit_settings": "editor",
    "delete": "admin",
    "edit_taxonomy": "admin",
    "edit_roles": "admin",
}

_VERBS = {
    "tag": "tag feedback",
    "load": "load data",
    "edit_prices": "edit the price table",
    "edit_settings": "change workspace settings",
    "delete": "delete datasets",
    "edit_taxonomy": "edit the tag taxonomy",
    "edit_roles": "edit roles",
    "read": "read this workspace",
    "download": "download reports",
}


@dataclass(frozen=True)
class Actor:
    """The person acting: their name for the audit trail and their role in this workspace."""

    name: str
    role: str
    authenticated: bool = False

    def can(self, action: str) -> bool:
        need = ACTIONS.get(action)
        if need is None:
            raise ValueError(f"unknown action {action!r}")
        return ROLES.index(self.role) >= ROLES.index(need)


@dataclass(frozen=True)
class RoleRule:
    """`match` is a full email (alice@example.com) or a domain (@example.com)."""

    match: str
    role: str


def local_actor(name: str) -> Actor:
    """Local single-user mode (no sign-in configured): the person at the machine is its admin."""
    clean = " ".join(name.split())
    if not clean:
        raise LiftboardError(
            "Type your name in the sidebar first: every change is recorded with who made it."
        )
    return Actor(name=clean[:80], role="admin", authenticated=False)


def require(actor: Actor | None, action: str) -> Actor:
    """Raise unless the actor's role allows the action; every engine write calls this first."""
    if actor is None:
        raise LiftboardError(f"Sign in to {_VERBS.get(action, action)}.")
    if not actor.can(action):
        need = ACTIONS[action]
        raise LiftboardError(
            f"Your role ({actor.role}) cannot {_VERBS.get(action, action)}; ask an admin for the {need} role."
        )
    return actor


def get_rules(ws: Workspace) -> list[RoleRule]:
    raw = ws.get_setting(SETTINGS_KEY, []) or []
    return [RoleRule(str(r["match"]), str(r["role"])) for r in raw]


def _check_rule(rule: RoleRule) -> RoleRule:
    match = rule.match.strip().lower()
    if rule.role not in ROLES:
        raise LiftboardError(f"Unknown role {rule.role!r}; the roles are viewer, editor and admin.")
    if not match or "@" not in match or any(c.isspace() for c in match):
        raise LiftboardError(
            f"{rule.match!r} is neither an email (alice@example.com) nor a domain (@example.com); fix the role table."
        )
    return RoleRule(match, rule.role)


def set_rules(ws: Workspace, actor: Actor, rules: Sequence[RoleRule]) -> list[RoleRule]:
    """Replace the role table (admins only), audited with the table before and after."""
    require(actor, "edit_roles")
    clean = [_check_rule(r) for r in rules]
    before = [r.__dict__ for r in get_rules(ws)]
    after = [r.__dict__ for r in clean]
    with ws.transaction() as cur:
        ws.set_setting(SETTINGS_KEY, after, cur=cur)
        ws.audit(cur, actor.name, "roles.set", SETTINGS_KEY, before, after)
    return clean


def resolve(ws: Workspace, email: str | None) -> Actor | None:
    """The signed-in user's role: an exact email rule wins over a domain rule; None means no access."""
    if not email:
        return None
    email = email.strip().lower()
    rules = get_rules(ws)
    exact = [r for r in rules if r.match == email]
    domain = [r for r in rules if r.match.startswith("@") and email.endswith(r.match)]
    chosen = exact or domain
    if not chosen:
        return None
    role = max((r.role for r in chosen), key=ROLES.index)
    return Actor(name=email, role=role, authenticated=True)

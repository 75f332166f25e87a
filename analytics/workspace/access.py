"""Who may do what: roles (viewer, editor, admin) mapped from verified emails, domains or provider accounts,
checked on every write."""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from analytics.errors import LiftboardError
from analytics.workspace.schema import REVIEW_ACTIONS

if TYPE_CHECKING:  # annotations only: the command line's --help reads ROLES and AUDIT_AREAS without duckdb
    import pandas as pd

    from analytics.workspace.store import Workspace

#: The roles, weakest first: each may do what the ones before it may.
Role = Literal["viewer", "editor", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
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
    role: Role
    authenticated: bool = False

    def can(self, action: str) -> bool:
        need = ACTIONS.get(action)
        if need is None:
            raise ValueError(f"unknown action {action!r}")
        if self.role not in ROLES:  # a crafted or stale role grants nothing
            return False
        return ROLES.index(self.role) >= ROLES.index(need)


#: A rule bound to the sign-in provider's account id (its `sub` claim) rather than an email: `sub:ID`.
SUBJECT_PREFIX = "sub:"


@dataclass(frozen=True)
class RoleRule:
    """`match` is a full email (alice@example.com), a domain (@example.com) or a provider account (sub:ID)."""

    match: str
    role: Role


def local_actor(name: str) -> Actor:
    """Local single-user mode (no sign-in configured): the person at the machine is its admin."""
    clean = " ".join(name.split())
    if not clean:
        raise LiftboardError(
            "Type your name in the sidebar first: every change is recorded with who made it."
        )
    return Actor(name=clean[:80], role="admin", authenticated=False)


def cli_actor(name: str | None = None) -> Actor:
    """The command line's actor: a local admin named NAME, else the operating-system user.

    Whoever can open the workspace file holds all of its data, so the CLI does not pretend to restrict them.
    """
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = "unknown"
    return local_actor(name)


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


def _match(text: str) -> str:
    """A rule's match as stored: an email or domain lower-cased, a provider account id kept as issued."""
    match = text.strip()
    if match[: len(SUBJECT_PREFIX)].lower() == SUBJECT_PREFIX:
        subject = match[len(SUBJECT_PREFIX) :].strip()
        if not subject or any(c.isspace() for c in subject):
            raise LiftboardError(
                f"{text!r} names no account id; write sub: and the provider's id, e.g. sub:248289761001."
            )
        return SUBJECT_PREFIX + subject
    match = match.lower()
    if not match or "@" not in match or any(c.isspace() for c in match):
        raise LiftboardError(
            f"{text!r} is neither an email (alice@example.com), a domain (@example.com) nor a provider "
            "account (sub:ID); fix the role table."
        )
    return match


def _check_rule(rule: RoleRule) -> RoleRule:
    if rule.role not in ROLES:
        raise LiftboardError(f"Unknown role {rule.role!r}; the roles are viewer, editor and admin.")
    return RoleRule(_match(rule.match), rule.role)


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


def verified(claim: object) -> bool:
    """Whether an ID token's email_verified claim says yes (some providers send the string "true")."""
    return claim is True or (isinstance(claim, str) and claim.strip().lower() == "true")


def resolve(
    ws: Workspace, email: str | None, *, email_verified: bool, subject: str | None = None
) -> Actor | None:
    """The signed-in user's role; None means no access.

    An email counts only when the provider verified it (anyone can type any email into an account at many
    providers): then an exact email rule wins over a domain rule. A rule bound to the provider's account id
    (``sub:ID``) needs no email at all. When both apply, the higher role counts.
    """
    rules = get_rules(ws)
    chosen: list[RoleRule] = []
    name = None
    if email and email_verified:
        email = email.strip().lower()
        exact = [r for r in rules if r.match == email]
        domain = [r for r in rules if r.match.startswith("@") and email.endswith(r.match)]
        chosen = exact or domain
        name = email
    if subject:
        bound = [r for r in rules if r.match == SUBJECT_PREFIX + subject]
        chosen += bound
        if name is None and bound:
            name = SUBJECT_PREFIX + subject
    if not chosen or name is None:
        return None
    role = max((r.role for r in chosen), key=ROLES.index)
    return Actor(name=name, role=role, authenticated=True)


def resolve_at(
    path: str | Path, email: str | None, *, email_verified: bool, subject: str | None = None
) -> Actor | None:
    """``resolve`` on the workspace file at ``path``, read through a connection closed before returning.

    A visitor refused a workspace leaves nothing open: the file stays open in this process only while a
    session with a role uses it, so the command line can still write to it. Nothing is written.
    """
    import duckdb

    from analytics.workspace.store import open_workspace

    path = Path(path)
    if not path.is_file():
        return None
    ws = open_workspace(path, create=False, migrate=False)
    try:
        return resolve(ws, email, email_verified=email_verified, subject=subject)
    except duckdb.Error:  # a file Liftboard never set up (no role table): nobody has a role in it
        return None
    finally:
        ws.close()


def upsert_rules(ws: Workspace, actor: Actor, rules: Sequence[RoleRule]) -> list[RoleRule]:
    """Add rules or change the role of existing matches (admins only); other rules stay as they were."""
    new = [_check_rule(r) for r in rules]
    by_match = {r.match: r for r in get_rules(ws)}
    for r in new:
        by_match[r.match] = r
    return set_rules(ws, actor, list(by_match.values()))


def remove_rules(ws: Workspace, actor: Actor, matches: Sequence[str]) -> list[RoleRule]:
    """Remove the rules for these emails or domains (admins only); an unknown one is refused, nothing removed."""
    require(actor, "edit_roles")
    current = get_rules(ws)
    known = {r.match for r in current}
    wanted = [_match(m) for m in matches]
    missing = [m for m in wanted if m not in known]
    if missing:
        listed = ", ".join(sorted(known)) or "none"
        raise LiftboardError(f"There is no role rule for {missing[0]!r}; the rules are: {listed}.")
    return set_rules(ws, actor, [r for r in current if r.match not in wanted])


AUDIT_AREAS: dict[str, tuple[str, ...]] = {
    "loads and deletions": ("load:%", "delete", "demo.%"),
    "tags": REVIEW_ACTIONS,
    "roles": ("roles.%",),
    "settings and prices": ("set_prices", "set_budget", "settings.%"),
}


def audit_log(
    ws: Workspace,
    *,
    areas: Sequence[str] = (),
    actor: str | None = None,
    limit: int = 500,
) -> pd.DataFrame:
    """The audit trail, newest first (who, when, what, before, after), optionally for some areas or one actor.

    Args:
        areas: keys of ``AUDIT_AREAS``; none means every action.
    """
    unknown = [a for a in areas if a not in AUDIT_AREAS]
    if unknown:
        raise LiftboardError(f"Unknown audit area {unknown[0]!r}; choose from: {', '.join(AUDIT_AREAS)}.")
    patterns = [p for a in areas for p in AUDIT_AREAS[a]]
    where, params = [], []
    if patterns:
        where.append("(" + " OR ".join(["action LIKE ?"] * len(patterns)) + ")")
        params.extend(patterns)
    if actor:
        where.append("actor = ?")
        params.append(actor)
    sql = "SELECT audit_id, at_time, actor, action, target, before, after FROM lb_audit"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return ws.query_df(
        sql + " ORDER BY audit_id DESC LIMIT ?", [*params, max(1, int(limit))], purpose="the audit log query"
    )

"""Access commands: `roles list|set|remove` (who may do what) and `audit` (who did what, when)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from analytics.errors import LiftboardError

if TYPE_CHECKING:  # the engine loads when a command runs, so --help and argument errors stay quick
    from analytics import workspace


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from analytics import workspace

    p = sub.add_parser(
        "roles", parents=[common], help="list or change who may read, tag, load and administer"
    )
    p.add_argument("action", choices=["list", "set", "remove"], help="list the rules, set some, remove some")
    p.add_argument(
        "rules",
        nargs="*",
        metavar="EMAIL_OR_@DOMAIN[=ROLE]",
        help="set: ada@example.com=admin @example.com=viewer sub:ID=editor …; remove: ada@example.com …",
    )
    p.set_defaults(func=cmd_roles)

    p = sub.add_parser(
        "audit", parents=[common], help="the audit trail: loads, deletions, tags, roles, settings"
    )
    p.add_argument(
        "--area",
        action="append",
        default=[],
        choices=list(workspace.AUDIT_AREAS),
        help="only this area (repeatable)",
    )
    p.add_argument("--actor", help="only this person's changes")
    p.add_argument("--limit", type=int, default=50, help="newest N rows (default %(default)s)")
    p.set_defaults(func=cmd_audit)


def _parse(items: list[str]) -> list[workspace.RoleRule]:
    from analytics import workspace

    rules = []
    for item in items:
        match, sep, role = item.rpartition("=")
        if not sep or not match.strip():
            raise LiftboardError(
                f"{item!r} is not EMAIL_OR_@DOMAIN_OR_sub:ID=ROLE; write e.g. ada@example.com=admin."
            )
        rules.append(workspace.RoleRule(match.strip(), role.strip().lower()))
    return rules


def cmd_roles(args: argparse.Namespace) -> dict[str, Any]:
    from analytics import workspace
    from analytics.workspace import open_workspace

    if args.action == "list" and args.rules:
        raise LiftboardError("`roles list` takes no rules; use `roles set EMAIL=ROLE` to change one.")
    if args.action != "list" and not args.rules:
        raise LiftboardError(f"`roles {args.action}` needs at least one email, @domain or sub:ID.")
    ws = open_workspace(args.db, create=False, read_only=args.action == "list")
    try:
        if args.action == "set":
            rules = workspace.upsert_rules(ws, workspace.cli_actor(), _parse(args.rules))
        elif args.action == "remove":
            rules = workspace.remove_rules(ws, workspace.cli_actor(), args.rules)
        else:
            rules = workspace.get_rules(ws)
    finally:
        ws.close()
    if not args.json:
        if not rules:
            print("No role rules: with sign-in configured, nobody can open this workspace yet.")
        for r in sorted(rules, key=lambda r: (r.match.startswith("@"), r.match)):
            print(f"{r.match:<40} {r.role}")
    return {"rules": [{"match": r.match, "role": r.role} for r in rules]}


def cmd_audit(args: argparse.Namespace) -> dict[str, Any]:
    from analytics import workspace
    from analytics.workspace import open_workspace

    ws = open_workspace(args.db, create=False, read_only=True)
    try:
        df = workspace.audit_log(ws, areas=args.area, actor=args.actor, limit=args.limit)
    finally:
        ws.close()
    rows = df.astype({"at_time": str}).to_dict(orient="records")
    if not args.json:
        if df.empty:
            print("The audit trail is empty for this selection.")
        for r in rows:
            print(f"{r['at_time'][:19]}  {r['actor']:<24} {r['action']:<16} {r['target'] or ''}")
    return {"audit": rows}

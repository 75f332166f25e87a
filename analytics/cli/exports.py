"""`load FILE [FILE ...] --from TOOL`: an analytics tool's export as events + assignments (and its printout)."""

from __future__ import annotations

import argparse
from typing import Any

from analytics.errors import CommandFailed, LiftboardError

#: Options of `load` that mean nothing for a tool's export, which is read by the tool's own convention.
_NOT_FOR_EXPORTS = {"map": "--map", "encoding": "--encoding", "delimiter": "--delimiter",
                    "allow_unmatched": "--allow-unmatched"}  # fmt: skip


def cmd_load_export(args: argparse.Namespace) -> dict[str, Any]:
    from analytics.cli.scratch import workspace_for_dry_run
    from analytics.ingest.sources import load_export, validate_export
    from analytics.workspace import cli_actor, open_workspace

    for attr, flag in _NOT_FOR_EXPORTS.items():
        if getattr(args, attr, None):
            raise LiftboardError(
                f"{flag} does not apply to --from {args.source}: a tool's export is read by the tool's own "
                "convention; leave it out."
            )
    max_bytes = int(args.max_size_mb * 2**20) if args.max_size_mb else None
    kwargs = dict(experiment=args.experiment, replace=args.replace, skip_bad_rows=args.skip_bad_rows,
                  max_bytes=max_bytes, money=tuple(args.money) if args.money else None)  # fmt: skip
    if args.dry_run:  # writes nothing, not even a new workspace file; exit 2 when not loadable as it is
        with workspace_for_dry_run(args.db) as ws:
            doc = validate_export(ws, args.files, args.source, actor=cli_actor(), **kwargs).to_dict() | {
                "records": None
            }
        if not args.json:
            _print(doc)
        if not doc["ok"]:
            raise CommandFailed(next(i["message"] for i in _issues(doc) if i["level"] == "error"), doc)
        return doc
    ws = open_workspace(args.db)
    try:
        doc = load_export(ws, args.files, args.source, actor=cli_actor(), **kwargs).to_dict()
    finally:
        ws.close()
    if not args.json:
        _print(doc)
    return doc


def _issues(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        *doc["events"]["issues"],
        *(doc["assignments"]["issues"] if doc["assignments"] else ()),
        *doc["notes"],
    ]


def _print(doc: dict[str, Any]) -> None:
    ev = doc["events"]
    span = f", {ev['first']} .. {ev['last']}" if ev["first"] else ""
    users = f", {ev['users']:,} users" if ev["users"] is not None else ""
    for f in doc["files"]:
        print(f"{f['name']}: {f['rows']:,} rows, read as {f['read_as']}")
    print(f"{doc['label']} export: {ev['rows']:,} events{users}{span} (events, {ev['mode']})")
    for e in doc["experiments"]:
        arms = ", ".join(f"{v['name']} {v['users']:,}" for v in e["variants"])
        both = (
            f"; {e['multi_variant_users']:,} users saw two variants and are left out"
            if e["multi_variant_users"]
            else ""
        )
        print(f"  experiment {e['name']}: {arms}{both}")
    for issue in _issues(doc):
        print(f"  {issue['level']}: {issue['message']}")
    values = doc.get("values")
    if values and not values["warning"]:  # a warning is printed with the others
        print(f"  note: {values['note']}")
    recs = doc.get("records")
    if recs:
        loaded = [r for r in recs if r["kind"] == "events"]
        assigned = sum(r["rows"] for r in recs if r["kind"] == "assignments")
        ids = f"{recs[0]['load_id']}" + (f"-{recs[-1]['load_id']}" if len(recs) > 1 else "")
        print(f"Loaded {sum(r['rows'] for r in loaded):,} events and {assigned:,} assignments from {len(loaded)} "
              f"file{'s' if len(loaded) > 1 else ''} (load {ids}).")  # fmt: skip
    elif doc["ok"]:
        print("Valid: nothing written (dry run).")
    else:
        print("Not loadable as is: see the errors above.")

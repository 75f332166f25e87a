"""Data commands: `demo` builds the demo workspace, `load` ingests a file, `tables` lists what is loaded."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from analytics.errors import CommandFailed, LiftboardError


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from analytics.ingest.sources.spec import TOOLS
    from analytics.workspace import KINDS

    p = sub.add_parser("demo", parents=[common], help="build the seeded demo workspace")
    p.add_argument("--users", type=int, default=50_000, help="number of users (default %(default)s)")
    p.add_argument("--seed", type=int, default=7, help="random seed (default %(default)s)")
    p.add_argument("--force", action="store_true", help="rebuild the workspace file if it exists")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "load",
        parents=[common],
        help="load a CSV, TSV, gzipped CSV or Parquet file, or an analytics tool's export",
        description="Load a file into one canonical table (--kind), or an analytics tool's export (one or "
        "several files: CSV, JSON lines or Parquet, gzipped or zipped) as events plus assignments (--from).",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="path of the file to load (several with --from)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--kind", choices=KINDS, help="which canonical table the file feeds")
    what.add_argument(
        "--from",
        dest="source",
        choices=TOOLS,
        help="the analytics tool the export comes from; its exposure events become the assignments",
    )
    p.add_argument(
        "--experiment",
        metavar="NAME",
        help="the experiment this load is about: with --from, only its exposures are kept (its id or name); "
        "with --kind assignments, outcomes or totals, the name of a file's one experiment when it has no "
        "experiment column (with one, only NAME's rows are loaded)",
    )
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="CANONICAL=SOURCE",
        help="map a canonical column to a source column (repeatable; SOURCE empty to unmap)",
    )
    p.add_argument("--replace", action="store_true", help="replace the table instead of appending")
    p.add_argument("--skip-bad-rows", action="store_true", help="skip rows that fail validation")
    p.add_argument(
        "--allow-unmatched",
        action="store_true",
        help="load a feedback file even when none of its prediction_ids is in the predictions table",
    )
    p.add_argument(
        "--encoding", choices=["utf-8", "latin-1", "utf-16"], help="override the detected encoding"
    )
    p.add_argument("--delimiter", help="override the detected delimiter: , ; | or tab")
    p.add_argument(
        "--max-size-mb", type=float, help="largest file accepted (default 2048, or LIFTBOARD_MAX_LOAD_MB)"
    )
    p.add_argument(
        "--money",
        action="append",
        metavar="COLUMN",
        help="a column whose numbers are money, shown in dollars (repeatable; default: by name, e.g. revenue; "
        "with --from, `value` or the tool's revenue property: by default money unless another currency is named)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="validate only; write nothing (exit 2 when the file cannot be loaded as it is)",
    )
    p.set_defaults(func=cmd_load)

    p = sub.add_parser("tables", parents=[common], help="list tables, experiments and loads of the workspace")
    p.set_defaults(func=cmd_tables)


def _parse_map(items: list[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for item in items:
        if "=" not in item:
            raise LiftboardError(
                f"--map {item!r} is not CANONICAL=SOURCE; write e.g. --map user_id=distinct_id."
            )
        canon, src = item.split("=", 1)
        out[canon.strip()] = src.strip() or None
    return out


def cmd_demo(args: argparse.Namespace) -> dict[str, Any]:
    from analytics.ingest import build_demo
    from analytics.workspace import open_workspace

    def say(frac: float, step: str) -> None:
        if not args.json:
            print(f"\r{frac:4.0%} {step:<40}", end="", file=sys.stderr, flush=True)

    build_demo(args.db, users=args.users, seed=args.seed, overwrite=args.force, progress=say)
    if not args.json:
        print(file=sys.stderr)
    ws = open_workspace(args.db, read_only=True)
    try:
        from analytics.workspace import catalog

        doc = {"db": args.db, "users": args.users, "seed": args.seed, **catalog(ws).to_dict()}
    finally:
        ws.close()
    if not args.json:
        print(f"Built the demo workspace {args.db} ({args.users:,} users, seed {args.seed}).")
        _print_tables(doc)
    return doc


def cmd_load(args: argparse.Namespace) -> dict[str, Any]:
    if args.source is not None:
        from analytics.cli.exports import cmd_load_export

        return cmd_load_export(args)
    from analytics import ingest
    from analytics.workspace import cli_actor, open_workspace

    if len(args.files) > 1:
        raise LiftboardError(
            f"load takes one file at a time with --kind ({len(args.files)} given); several files at once are "
            "one tool's export: add --from TOOL."
        )
    args.file = args.files[0]

    max_bytes = int(args.max_size_mb * 2**20) if args.max_size_mb else None
    kwargs = dict(
        mapping=_parse_map(args.map),
        replace=args.replace,
        skip_bad_rows=args.skip_bad_rows,
        allow_unmatched=args.allow_unmatched,
        encoding=args.encoding,
        delimiter=args.delimiter,
        max_bytes=max_bytes,
        experiment=args.experiment,
        money=tuple(args.money) if args.money else None,
    )
    if args.dry_run:
        # A dry run writes nothing, not even a new workspace file: a missing workspace is validated against an
        # empty one in a scratch folder (the same checks: no tables yet).
        from analytics.cli.scratch import workspace_for_dry_run

        with workspace_for_dry_run(args.db) as ws:
            report = ingest.validate(ws, args.file, args.kind, actor=cli_actor(), **kwargs)
        doc: dict[str, Any] = {"report": report.to_dict(), "record": None}
        if not args.json:
            _print_report(doc)
        if not report.ok:
            raise CommandFailed(report.errors[0].message, doc)
        return doc
    ws = open_workspace(args.db)
    try:
        result = ingest.load(ws, args.file, args.kind, actor=cli_actor(), **kwargs)
        doc = {"report": result.report.to_dict(), "record": result.record}
    finally:
        ws.close()
    if not args.json:
        _print_report(doc)
    return doc


def _print_report(doc: dict[str, Any]) -> None:
    r = doc["report"]
    span = f", {r['first']} .. {r['last']}" if r["first"] else ""
    users = f", {r['users']:,} users" if r["users"] is not None else ""
    print(f"{r['file_name']}: {r['rows']:,} rows{users}{span} ({r['kind']}, {r['mode']})")
    for issue in r["issues"]:
        print(f"  {issue['level']}: {issue['message']}")
    rec = doc["record"]
    if rec:
        print(
            f"Loaded {rec['rows']:,} rows into {rec['kind']} (load {rec['load_id']}, sha256 {rec['content_hash'][:12]}…)."
        )
    elif r["ok"]:
        print("Valid: nothing written (dry run).")
    else:
        print("Not loadable as is: see the errors above.")


def cmd_tables(args: argparse.Namespace) -> dict[str, Any]:
    from analytics.workspace import catalog, load_history, open_workspace

    ws = open_workspace(args.db, create=False)
    try:
        doc = catalog(ws).to_dict()
        doc["loads"] = load_history(ws, limit=50).to_dict(orient="records")
    finally:
        ws.close()
    if not args.json:
        _print_tables(doc)
    return doc


def _print_tables(doc: dict[str, Any]) -> None:
    if not doc["tables"]:
        print("The workspace holds no data yet: run `python -m analytics demo` or load a file.")
    for t in doc["tables"]:
        span = f"  {t['first']} .. {t['last']}" if t["first"] else ""
        users = f"  {t['users']:,} users" if t["users"] is not None else ""
        print(f"{t['kind']:<12} {t['rows']:>12,} rows{users}{span}")
    for e in doc["experiments"]:
        arms = ", ".join(f"{v['name']} {v['users']:,}" for v in e["variants"])
        print(f"experiment {e['name']}: {arms} (users in two variants: {e['multi_variant_users']:,})")

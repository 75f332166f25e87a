"""Command line: `python -m analytics COMMAND` (demo, load, analyze, cost, drift, report, …)."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from typing import Any

from analytics.errors import CommandFailed, LiftboardError
from analytics.workspace import DEFAULT_DB

# Each module defines `register(subparsers)`, which adds its commands and sets `func` on them.
# `func(args)` returns a JSON-able document (printed with --json) and prints its own text otherwise.
COMMAND_MODULES = [
    "analytics.cli.cost",
    "analytics.cli.data",
    "analytics.cli.drift",
    "analytics.cli.experiments",
    "analytics.cli.feedback",
    "analytics.cli.power",
    "analytics.cli.report",
    "analytics.cli.access",
]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line and exit 2, as for every bad input
        command = "" if self.prog == "python -m analytics" else f" {self.prog.split()[-1]}"
        self.exit(2, f"error: {message} (see `python -m analytics{command} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m analytics", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=str(DEFAULT_DB), help="workspace file (default %(default)s)")
    common.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    as_json = getattr(args, "json", False)
    try:
        doc: Any = args.func(args)
    except LiftboardError as exc:
        # With --json, a script reads one JSON document on stdout whatever happens: {"error": "…"}.
        if as_json:
            extra = exc.doc if isinstance(exc, CommandFailed) else {}
            print(json.dumps({"error": str(exc), **extra}, default=str, allow_nan=False, indent=2))
        else:
            print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; the workspace is unchanged by the unfinished step.", file=sys.stderr)
        return 130
    if as_json:
        print(json.dumps(doc, default=str, allow_nan=False, indent=2))
    return 0

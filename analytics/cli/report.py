"""CLI: `report --experiment NAME --out FILE.html` writes the founder's report."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the engine loads when a command runs, so --help and argument errors stay quick
    pass


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "report", parents=[common], help="write a self-contained HTML report for an experiment"
    )
    p.add_argument("--experiment", required=True, help="experiment name")
    p.add_argument("--out", required=True, help="output file, e.g. report.html")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from analytics.overview import write_report
    from analytics.workspace import open_workspace

    ws = open_workspace(args.db, create=False, read_only=True)
    try:
        out = write_report(ws, args.experiment, args.out)
    finally:
        ws.close()
    if not args.json:
        print(
            f"Wrote {out} ({out.stat().st_size / 1e6:.1f} MB): open it in a browser; print it to PDF from there."
        )
    return {"experiment": args.experiment, "out": str(out), "bytes": out.stat().st_size}

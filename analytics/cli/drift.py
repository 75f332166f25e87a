"""CLI: `python -m analytics drift [--reference START..END] [--chunk day|week|N] [--bins N] [--threshold X]`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from analytics.cli.spark import add_spark_flags, workspace_from_args

if TYPE_CHECKING:  # the engine loads when a command runs, so --help and argument errors stay quick
    from analytics.drift import (
        DriftReport,
    )


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from analytics.drift import METHODS

    p = sub.add_parser(
        "drift",
        parents=[common],
        help="compare the predictions log, chunk by chunk, with a reference window",
        description=(
            "Is it still the model we validated? Every numeric and categorical column of the predictions "
            "log (and feedback acceptance) is compared chunk by chunk with a reference window."
        ),
    )
    p.add_argument(
        "--reference", help="reference window START..END (dates inclusive; default: the first 7 days)"
    )
    p.add_argument(
        "--chunk", default="day", help="day, week or a number of rows per chunk (default %(default)s)"
    )
    p.add_argument("--bins", type=int, default=10, help="quantile bins for PSI (default %(default)s)")
    p.add_argument(
        "--method", choices=METHODS, default="psi", help="score that drives alerts (default %(default)s)"
    )
    p.add_argument(
        "--threshold", type=float, help="fixed alert threshold (default 0.2 for psi, 0.1 for distance)"
    )
    p.add_argument(
        "--no-learned", action="store_true", help="do not learn a threshold from the reference chunks"
    )
    p.add_argument(
        "--alpha", type=float, default=0.01, help="p-value a small chunk must beat (default %(default)s)"
    )
    p.add_argument("--feature", action="append", help="only this column (repeatable; default: all)")
    add_spark_flags(p)
    p.set_defaults(func=_drift)


def _drift(args: argparse.Namespace) -> dict[str, Any]:
    from analytics.drift import DriftSettings, compute_drift, parse_chunk, parse_reference

    settings = DriftSettings(
        reference=parse_reference(args.reference),
        chunk=parse_chunk(args.chunk),
        bins=args.bins,
        method=args.method,
        threshold=args.threshold,
        learned=not args.no_learned,
        alpha=args.alpha,
        features=tuple(args.feature) if args.feature else None,
    )
    ws = workspace_from_args(args)
    try:
        report = compute_drift(ws, settings)
    finally:
        ws.close()
    if not args.json:
        print(summary_text(report))
    return report.to_dict()


def summary_text(report: DriftReport) -> str:
    """The human-readable summary: the verdict first, then one line per feature."""
    from analytics.drift import method_name

    s = report.settings
    metric = method_name(s.method)
    hot = report.drifting_now()
    chunk = s.chunk if isinstance(s.chunk, str) else f"{s.chunk}-row"
    lines = [
        f"Reference {report.reference_start:%Y-%m-%d %H:%M} .. {report.reference_end:%Y-%m-%d %H:%M} "
        f"({report.reference_n:,} predictions); {len(report.chunks)} {chunk} chunks.",
        (
            f"{len(hot)} of {len(report.features)} features drift in the latest chunk: "
            + ", ".join(f"{f.name} ({metric} {f.latest().score:.3f})" for f in hot)  # type: ignore[union-attr]
            if hot
            else f"No drift in the latest chunk across {len(report.features)} features."
        ),
        "",
        f"{'feature':<24} {'kind':<12} {'latest ' + metric:>14} {'fixed':>7} {'learned':>8} "
        f"{'alerting chunks':>16}  drifting since",
    ]
    for f in report.features:
        latest = f.latest()
        alerting = [c for c in f.chunks if c.alert]
        learned = "-" if f.learned_threshold is None else f"{f.learned_threshold:.3f}"
        lines.append(
            f"{f.name[:24]:<24} {f.kind:<12} {latest.score if latest else 0:>14.3f} {f.fixed_threshold:>7.3f} "
            f"{learned:>8} {len(alerting):>16}  {f.drifting_since.key if f.drifting_since else '-'}"
        )
    if report.skipped:
        lines.append("")
        lines.append("Skipped: " + "; ".join(f"{n} ({r})" for n, r in report.skipped))
    lines.append(f"{len(report.alerts)} alerts (use --json for the list).")
    return "\n".join(lines)

"""CLI: `python -m analytics analyze --experiment NAME --metric SPEC …` and `experiments` (the list)."""

from __future__ import annotations

import argparse
from typing import Any

from analytics.cli.spark import add_spark_flags, workspace_from_args


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "analyze",
        parents=[common],
        help="compare an experiment's arms on one or more metrics",
        description="Compare each arm of an experiment with its control on the given metrics.",
    )
    p.add_argument("--experiment", required=True, help="experiment name in the assignments")
    p.add_argument(
        "--metric",
        action="append",
        default=[],
        help="metric spec, e.g. conversion:purchase:7d (repeatable; default: the experiment's saved metrics)",
    )
    p.add_argument(
        "--control",
        help="the control arm (default: the saved setting, else an arm named like control/baseline/A, else the first arm)",
    )
    p.add_argument(
        "--cuped", action="store_true", help="reduce variance with the pre-exposure period (CUPED)"
    )
    p.add_argument("--sequential", action="store_true", help="always-valid intervals, safe to peek")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level (default %(default)s)")
    p.add_argument("--winsorize", type=float, help="cap per-user values at this percentile, e.g. 99")
    p.add_argument("--segment", help="break results down by a users column or event property")
    add_spark_flags(p)
    p.set_defaults(func=_analyze)

    q = sub.add_parser("experiments", parents=[common], help="list the experiments in the workspace")
    q.set_defaults(func=_list)


def _analyze(args: argparse.Namespace) -> dict[str, Any]:
    from analytics.experiments import analyze, experiment_config

    ws = workspace_from_args(args)
    try:
        metrics = args.metric or list(experiment_config(ws, args.experiment).metrics)
        if not metrics:
            metrics = ["conversion:purchase:7d"] if not args.metric else args.metric
        result = analyze(
            ws,
            args.experiment,
            metrics,
            control=args.control,
            alpha=args.alpha,
            cuped=args.cuped,
            sequential=args.sequential,
            winsorize=args.winsorize,
            segment=args.segment,
        )
    finally:
        ws.close()
    if not args.json:
        _print(result)
    return result.to_dict()


def _print(result: Any) -> None:
    from analytics.experiments import verdict

    warn = verdict.srm_sentence(result.srm)
    if warn:
        print(f"WARNING: {warn}\n")
    mode = "sequential (safe to peek)" if result.sequential else "fixed-horizon"
    arms = ", ".join(f"{a} {n:,}" for a, n in result.exposed.items())
    print(f"Experiment {result.experiment}: {arms} exposed users; control {result.control} ({result.control_choice.because}); {mode}"
          f"{'; CUPED' if result.cuped else ''}; SRM p = {result.srm.p_value:.3g}.")  # fmt: skip
    for m in result.metrics:
        print(f"\n{m.spec.text} ({m.role})")
        for line in verdict.metric_sentences(m):
            print(f"  {line}")
        more = verdict.not_enough_data(m, result.control)
        if more:
            print(f"  {more}")
        if m.incomplete:
            print(f"  ({m.incomplete:,} recently exposed users left out: their window has not elapsed.)")
    for w in result.warnings:
        if w != "srm":
            print(f"\nNote: {w}")
    if result.segments:
        print(f"\nBy {result.segment} (Benjamini–Hochberg adjusted):")
        for s in result.segments:
            for m in s.metrics:
                for c in m.comparisons:
                    print(f"  {s.value:<16} {m.spec.text:<26} {c.variant:<10} {verdict.percent(c.rel_lift):>8} "
                          f"p_adj = {c.p_value_adjusted:.3g}")  # fmt: skip


def _list(args: argparse.Namespace) -> dict[str, Any]:
    from analytics.workspace import list_experiments, open_workspace

    ws = open_workspace(args.db, read_only=True)
    try:
        rows = list_experiments(ws)
    finally:
        ws.close()
    doc = {
        "experiments": [
            {"name": e.name, "variants": list(e.arms), "users": e.users,
             "users_by_variant": {v.name: v.users for v in e.variants},
             "multi_variant_users": e.multi_variant_users,
             "first_exposure": e.first_exposure, "last_exposure": e.last_exposure}
            for e in rows
        ]
    }  # fmt: skip
    if not args.json:
        for e in rows:
            multi = (
                f" ({e.multi_variant_users:,} more seen in several variants, left out)"
                if e.multi_variant_users
                else ""
            )
            print(f"{e.name}: {', '.join(e.arms)} — {e.users:,} exposed users{multi}")
    return doc

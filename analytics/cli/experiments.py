"""CLI: `python -m analytics analyze --experiment NAME --metric SPEC …` and `experiments` (the list)."""

from __future__ import annotations

import argparse
from typing import Any

from analytics.cli.spark import add_spark_flags, workspace_from_args
from analytics.errors import LiftboardError


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "analyze",
        parents=[common],
        help="compare an experiment's arms on one or more metrics",
        description="Compare each arm of an experiment with its control on the given metrics.",
    )
    p.add_argument(
        "--experiment", required=True, help="experiment name (in the assignments, outcomes or totals)"
    )
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
    p.add_argument(
        "--segment",
        help="break results down by a users column, an event property or a text column of outcomes",
    )
    p.add_argument(
        "--data-through",
        metavar="YYYY-MM-DD",
        help="the date the data are complete through: windows ending by its midnight count as elapsed "
        "(default: the experiment's saved date, else the last event)",
    )
    p.add_argument(
        "--cuped-covariate",
        metavar="COLUMN",
        help="a pre-period column of the outcomes table used as CUPED's covariate for outcome:… metrics",
    )
    p.add_argument(
        "--stratify",
        help="post-stratify by a users column known before exposure, e.g. country (default: the saved "
        "setting; 'none' switches it off)",
    )
    p.add_argument(
        "--estimand",
        choices=["relative", "absolute"],
        default="relative",
        help="the lift whose p-value marks significance (default %(default)s; both p-values are reported)",
    )
    p.add_argument(
        "--prior",
        action="append",
        default=[],
        metavar="[SPEC=]SD",
        help="proper prior N(0, SD²) on the relative lift for the Bayesian view, e.g. 0.3 for every metric or "
        "cost:7d=0.1 for one (repeatable; 0 = flat; default: the saved priors)",
    )
    p.add_argument(
        "--margin",
        action="append",
        default=[],
        metavar="SPEC=MARGIN",
        help="non-inferiority guardrail: the metric must not get worse than MARGIN, e.g. cost:7d=0.01 or "
        "cost:7d=1%% (repeatable; default: the saved margins)",
    )
    p.add_argument("--bayesian", action="store_true", help="also print the Bayesian view (always in --json)")
    p.add_argument(
        "--save-settings",
        action="store_true",
        help="save --prior, --margin and --stratify as the experiment's settings (editors), then analyse",
    )
    add_spark_flags(p)
    p.set_defaults(func=_analyze)

    q = sub.add_parser("experiments", parents=[common], help="list the experiments in the workspace")
    q.set_defaults(func=_list)


def _share(text: str, what: str) -> float:
    """0.01, 1% or 1.5%: a share."""
    t = text.strip()
    try:
        return float(t[:-1]) / 100 if t.endswith("%") else float(t)
    except ValueError:
        raise LiftboardError(f"The {what} {text!r} is not a number; write it like 0.01 or 1%.") from None


def _per_metric(items: list[str], metrics: list[str], what: str, *, bare: bool) -> dict[str, float] | None:
    """``SPEC=VALUE`` (or a bare VALUE for every metric when ``bare``) → {spec: value}; None when none given."""
    if not items:
        return None
    out: dict[str, float] = {}
    for item in items:
        spec, sep, value = item.rpartition("=")
        if not sep:
            if not bare:
                raise LiftboardError(f"Write the {what} as SPEC=VALUE, e.g. cost:7d=0.01 (got {item!r}).")
            out.update({m: _share(value, what) for m in metrics})
            continue
        from analytics.experiments import parse_metric

        out[parse_metric(spec).text] = _share(value, what)
    return {k: v for k, v in out.items() if v}


def _analyze(args: argparse.Namespace) -> dict[str, Any]:
    from analytics.experiments import analyze, default_metrics, parse_data_through

    through = parse_data_through(args.data_through) if args.data_through else None
    stratify = None if args.stratify is None else ("" if args.stratify.lower() == "none" else args.stratify)
    if args.save_settings:
        _save(args, stratify)
    ws = workspace_from_args(args)
    try:
        metrics = args.metric or default_metrics(ws, args.experiment)
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
            stratify=stratify,
            priors=_per_metric(args.prior, metrics, "prior", bare=True),
            margins=_per_metric(args.margin, metrics, "guardrail margin", bare=False),
            estimand=args.estimand,
            data_through=through,
            cuped_covariate=args.cuped_covariate,
        )
    finally:
        ws.close()
    if not args.json:
        _print(result, bayesian=args.bayesian)
    return result.to_dict()


def _save(args: argparse.Namespace, stratify: str | None) -> None:
    from analytics.experiments import experiment_config, save_statistics_settings
    from analytics.workspace import cli_actor, open_workspace

    ws = open_workspace(args.db, create=False)
    try:
        metrics = args.metric or list(experiment_config(ws, args.experiment).metrics)
        save_statistics_settings(
            ws, args.experiment, priors=_per_metric(args.prior, metrics, "prior", bare=True),
            margins=_per_metric(args.margin, metrics, "guardrail margin", bare=False), stratify=stratify,
            actor=cli_actor(),
        )  # fmt: skip
    finally:
        ws.close()


def _print(result: Any, *, bayesian: bool = False) -> None:
    from analytics.experiments import verdict

    warn = verdict.srm_sentence(result.srm)
    if warn:
        print(f"WARNING: {warn}\n")
    mode = "sequential (safe to peek)" if result.sequential else "fixed-horizon"
    arms = ", ".join(f"{a} {n:,}" for a, n in result.exposed.items())
    print(f"Experiment {result.experiment}: {arms} {'users' if result.source == 'totals' else 'exposed users'}; "
          f"control arm: {result.control} ({result.control_choice.because_with('pass --control ARM to choose it')}); {mode}"
          f"{'; CUPED' if result.cuped else ''}"
          f"{f'; post-stratified by {result.stratify}' if result.stratify else ''}; SRM p = {result.srm.p_value:.3g}; "
          f"significance on the {result.estimand} lift.")  # fmt: skip
    when = verdict.data_end_sentence(result)
    if when:
        print(when)
    for m in result.metrics:
        print(f"\n{m.spec.text} ({m.role}{', lower is better' if m.spec.lower_is_better else ''})")
        for line in verdict.metric_sentences(m):
            print(f"  {line}")
        for extra in [
            verdict.bayesian_sentence(c, m.spec) if bayesian else None for c in m.comparisons
        ] + list(verdict.cuped_sentences(m)):
            if extra:
                print(f"  {extra}")
        per_arm = verdict.quantile_arms_sentence(m, result.alpha)
        if per_arm:
            print(f"  {per_arm}")
        more = verdict.not_enough_data(m, result.control)
        if more:
            print(f"  {more}")
        if m.incomplete and not verdict.left_out_sentence(m):
            why = (
                "their window has not elapsed" if m.spec.windowed else f"they have no value in {m.spec.label}"
            )
            print(f"  ({m.incomplete:,} exposed users left out: {why}.)")
    for w in result.warnings:
        if w != "srm":
            print(f"\nNote: {w}")
    if result.segments:
        print(f"\nBy {result.segment} (Benjamini–Hochberg adjusted):")
        for s in result.segments:
            for m in s.metrics:
                for c in m.comparisons:
                    print(f"  {s.value:<16} {m.spec.text:<26} {c.variant:<10} {verdict.percent(c.rel_lift):>8} "
                          f"p_adj = {c.shown_p_value:.3g} ({c.estimand} lift)")  # fmt: skip


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
             "multi_variant_users": e.multi_variant_users, "source": e.source,
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
            kind = {"outcomes": " (per-user outcomes)", "totals": " (per-arm totals)"}.get(e.source, "")
            print(f"{e.name}: {', '.join(e.arms)} — {e.users:,} {'users' if e.source == 'totals' else 'exposed users'}"
                  f"{multi}{kind}")  # fmt: skip
    return doc

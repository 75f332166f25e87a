"""CLI: `python -m analytics power` — users needed per arm for a relative lift, or the MDE at a given n."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from analytics.errors import LiftboardError

if TYPE_CHECKING:  # the engine loads when a command runs, so --help and argument errors stay quick
    pass


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "power",
        parents=[common],
        help="sample size per arm for a minimum detectable effect, or the MDE at a given number of users",
        description=(
            "Plan a two-arm test. With --mde: users needed per arm. With --users: the smallest relative lift "
            "detectable with that many users per arm. The workspace (--db) is not used."
        ),
    )
    p.add_argument(
        "--baseline", type=float, required=True, help="control mean, e.g. 0.10 for 10%% conversion"
    )
    p.add_argument(
        "--variance",
        type=float,
        help="per-user variance of the metric (default: p(1−p), for a proportion baseline between 0 and 1)",
    )
    p.add_argument(
        "--variant-mean",
        type=float,
        help="the variant's mean once observed: plan from both arms (GrowthBook)",
    )
    p.add_argument(
        "--variant-variance",
        type=float,
        help="the variant's per-user variance (default: p(1−p) of --variant-mean for a proportion)",
    )
    p.add_argument("--mde", type=float, help="relative minimum detectable effect, e.g. 0.05 for +5%%")
    p.add_argument("--users", type=int, help="users per arm, to compute the detectable effect instead")
    p.add_argument(
        "--alpha", type=float, default=0.05, help="two-sided significance level (default %(default)s)"
    )
    p.add_argument("--power", type=float, default=0.8, help="power (default %(default)s)")
    p.set_defaults(func=_power)


def _power(args: argparse.Namespace) -> dict[str, Any]:
    from analytics.stats import mde, sample_size_per_arm

    if (args.mde is None) == (args.users is None):
        raise LiftboardError("Give exactly one of --mde (to get users per arm) or --users (to get the MDE).")
    variance = args.variance
    if variance is None:
        if not 0.0 < args.baseline < 1.0:
            raise LiftboardError(
                "A baseline outside 0..1 is not a proportion; give its per-user variance with --variance."
            )
        variance = args.baseline * (1.0 - args.baseline)
    variant: dict[str, float] = {}
    if args.variant_mean is not None:
        var_v = args.variant_variance
        if var_v is None:
            if not 0.0 < args.variant_mean < 1.0:
                raise LiftboardError(
                    "A variant mean outside 0..1 is not a proportion; give its per-user variance with "
                    "--variant-variance."
                )
            var_v = args.variant_mean * (1.0 - args.variant_mean)
        variant = {"variant_mean": args.variant_mean, "variant_var": var_v}
    elif args.variant_variance is not None:
        raise LiftboardError("--variant-variance needs --variant-mean too.")
    doc: dict[str, Any] = {
        "baseline_mean": args.baseline,
        "baseline_variance": variance,
        "alpha": args.alpha,
        "power": args.power,
        "variant_mean": variant.get("variant_mean"),
        "variant_variance": variant.get("variant_var"),
    }
    if args.mde is not None:
        n = sample_size_per_arm(
            args.baseline, variance, args.mde, alpha=args.alpha, power=args.power, **variant
        )
        doc.update(mde_rel=args.mde, users_per_arm=n)
        text = (
            f"{n:,} users per arm detect a {args.mde * 100:g}% relative lift from {args.baseline:g} "
            f"with {args.power * 100:g}% power at α = {args.alpha:g} (two-sided)."
        )
    else:
        rel = mde(args.baseline, variance, args.users, alpha=args.alpha, power=args.power, **variant)
        doc.update(users_per_arm=args.users, mde_rel=rel)
        text = (
            f"With {args.users:,} users per arm the smallest detectable lift is {rel * 100:.2f}% relative "
            f"({args.baseline * rel:+.4g} absolute) at {args.power * 100:g}% power, α = {args.alpha:g}."
        )
    if not args.json:
        print(text)
    return doc

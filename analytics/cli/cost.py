"""`python -m analytics cost`: unit costs, the scaling exponent, projections, budget and unit economics."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from analytics.cli.spark import add_spark_flags, workspace_from_args
from analytics.plain import plain
from analytics.workspace import PERIODS

if TYPE_CHECKING:  # the engine loads when a command runs, so --help and argument errors stay quick
    from analytics.cost import (
        CostSummary,
        UnitEconomics,
    )


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "cost",
        parents=[common],
        help="what the AI feature costs and how the cost scales with users",
        description="Cost per prediction and per active user, the power-law scaling exponent, daily cost "
        "projected at 2x, 10x and 100x today's users, the monthly budget and, with --experiment, whether "
        "the lift pays for its cost.",
    )
    p.add_argument("--experiment", help="experiment for unit economics (incremental revenue vs cost)")
    p.add_argument(
        "--control",
        help="control variant (default: the saved setting, else an arm named like control/baseline/A, else the first arm)",
    )
    p.add_argument("--window", type=int, default=7, help="days after exposure for unit economics (default 7)")
    p.add_argument(
        "--revenue-event", default="purchase", help="event whose value is revenue (default purchase)"
    )
    p.add_argument("--budget", type=float, help="monthly budget in USD (default: the saved cost:budget_usd)")
    p.add_argument(
        "--users",
        choices=["predictions", "events"],
        default="predictions",
        help="active users for the cost curve: with a prediction that day (default) or with any event",
    )
    p.add_argument(
        "--period",
        choices=PERIODS,
        default="day",
        help="fit and project cost per day (default) or per whole calendar week (weekly active users)",
    )
    p.add_argument("--top", type=int, default=10, help="how many top cost users to list (default 10)")
    g = p.add_argument_group("what-if")
    g.add_argument(
        "--input-price-x", type=float, default=1.0, help="multiply input (and cached) token prices"
    )
    g.add_argument("--output-price-x", type=float, default=1.0, help="multiply output token prices")
    g.add_argument("--cache-hit-rate", type=float, help="share of input tokens served from cache (0-1)")
    g.add_argument("--route-to", help="model version that takes a share of the other models' traffic")
    g.add_argument(
        "--route-share", type=float, default=0.0, help="share of traffic routed to --route-to (0-1)"
    )
    g.add_argument("--predictions-x", type=float, default=1.0, help="multiply predictions per user")
    add_spark_flags(p)
    p.set_defaults(func=run)


def _num(x: Any) -> Any:
    """JSON-safe number: NaN and infinities become null."""
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return x
    return plain(f)


def document(summary: CostSummary, data: Any, top: Any, ue: UnitEconomics | None) -> dict[str, Any]:
    """The JSON document of the `cost` command (also reusable by reports)."""
    h = summary.unit_costs

    def fit_doc(fit: Any) -> dict[str, Any]:
        return {
            "against": fit.against,
            "ok": fit.ok,
            "reason": fit.reason,
            "exponent": _num(fit.exponent),
            "exponent_ci": None if fit.exponent_ci is None else [_num(v) for v in fit.exponent_ci],
            "points": fit.n_points,
            "excluded_days": fit.excluded,  # days, or weeks with --period week
            "period": summary.period,
            "r_squared": _num(fit.r_squared),
            "kind": fit.kind,
            "reading": fit.reading,
        }

    return {
        "days": {"first": str(data.first_day), "last": str(data.last_day)},
        "total_cost": _num(h.total_cost),
        "predictions": h.predictions,
        "cost_per_prediction": _num(h.cost_per_prediction),
        "cost_per_active_user": _num(h.cost_per_active_user),
        "cost_per_event_active_user": _num(h.cost_per_event_active_user),
        "cost_per_conversion": _num(h.cost_per_conversion),
        "predictions_per_active_user": _num(h.predictions_per_active_user),
        "monthly_run_rate": _num(h.monthly_run_rate),
        "mean_daily_active_users": _num(h.mean_dau_recent),
        "latency_ms": {q: _num(data.totals[f"lat_{q}"]) for q in ("p50", "p95", "p99")},
        "tokens": {k: _num(data.totals[f"tokens_{k}"]) for k in ("in", "out", "cached")},
        "scaling": fit_doc(summary.fit_users),
        "scaling_predictions": fit_doc(summary.fit_predictions),
        "period": summary.period,  # what a projection's cost covers: one day or one week
        "projection": [
            {
                "multiple": p.multiple,
                "users": _num(p.x),
                "cost": _num(p.cost),
                "median": _num(p.median),
                "low": _num(p.low),
                "high": _num(p.high),
            }
            for p in summary.projection
        ],
        "by_model": [
            {
                "model_version": str(r["model_version"]),
                "predictions": int(r["predictions"]),
                "users": int(r["users"]),
                "cost": _num(r["cost"]),
                "cost_per_prediction": _num(r["cost"] / r["predictions"]),
                "latency_ms": {q: _num(r[f"lat_{q}"]) for q in ("p50", "p95", "p99")},
            }
            for _, r in data.by_model.iterrows()
        ],
        "budget": None
        if summary.budget is None
        else {
            k: (
                str(v)
                if k == "crosses_on" and v is not None
                else _num(v)
                if k != "month" and k != "sentence"
                else v
            )
            for k, v in asdict(summary.budget).items()
        },
        "top_users": [
            {
                "user_id": str(r["user_id"]),
                "cost": _num(r["cost"]),
                "predictions": int(r["predictions"]),
                "share": _num(r["share"]),
                "x_median": _num(r["x_median"]),
            }
            for _, r in top.iterrows()
        ],
        "unit_economics": None
        if ue is None
        else {
            "experiment": ue.experiment,
            "control": ue.control,
            "window_days": ue.window_days,
            "variants": [
                {
                    "variant": v.variant,
                    "incremental_revenue": _num(v.incremental_revenue.value),
                    "incremental_revenue_ci": [_num(x) for x in v.incremental_revenue.ci],
                    "incremental_cost": _num(v.incremental_cost.value),
                    "incremental_cost_ci": [_num(x) for x in v.incremental_cost.ci],
                    "net": _num(v.net.value),
                    "net_ci": [_num(x) for x in v.net.ci],
                    "roi": None if v.roi is None else _num(v.roi.value),
                    "roi_ci": None if v.roi is None else [_num(x) for x in v.roi.ci],
                    "break_even_price_per_1k": _num(v.break_even_price_per_1k),
                    "break_even_multiple": _num(v.break_even_multiple),
                    "reading": v.sentence,
                }
                for v in ue.variants
            ],
        },
        "whatif": asdict(summary.whatif),
        "notes": list(summary.notes),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    from analytics.cost import (
        WhatIf,
        fetch_arms,
        get_budget,
        load_costs,
        summarize,
        top_users,
        unit_economics,
        with_weeks,
    )
    from analytics.experiments import choose_control, default_control

    ws = workspace_from_args(args)
    try:
        w = WhatIf(
            args.input_price_x,
            args.output_price_x,
            args.cache_hit_rate,
            args.route_to,
            args.route_share,
            args.predictions_x,
        )
        data = load_costs(ws, conversion_event=args.revenue_event)
        if args.period == "week":
            data = with_weeks(ws, data)
        budget = args.budget if args.budget is not None else get_budget(ws)
        summary = summarize(
            data,
            w,
            users="users" if args.users == "predictions" else "event_users",
            budget=budget,
            period=args.period,
        )
        top = top_users(ws, limit=args.top)
        ue = choice = None
        if args.experiment:
            arms = fetch_arms(ws, args.experiment, window_days=args.window, revenue_event=args.revenue_event)
            names = [a.variant for a in arms]
            # A --control that is no arm goes through as given: unit_economics names the arms there are.
            choice = (
                choose_control(names, given=args.control)
                if args.control
                else default_control(ws, args.experiment, names)
            )
            ue = unit_economics(
                arms,
                experiment=args.experiment,
                control=args.control or choice.arm,
                window_days=args.window,
                revenue_event=args.revenue_event,
                multipliers=summary.model_multipliers,
            )
    finally:
        ws.close()
    doc = document(summary, data, top, ue)
    if doc["unit_economics"] is not None and choice is not None:
        doc["unit_economics"]["control_reason"] = str(choice.reason)
        doc["unit_economics"]["control_sentence"] = choice.sentence("pass --control ARM to choose it")
    if not args.json:
        _print(summary, doc)
    return doc


def _money(x: float | None, digits: int = 4) -> str:
    return "n/a" if x is None else f"${x:,.{digits}f}"


def _print(s: CostSummary, doc: dict[str, Any]) -> None:
    h = s.unit_costs
    print(
        f"Cost {doc['days']['first']} .. {doc['days']['last']}: {_money(h.total_cost, 2)} over "
        f"{h.predictions:,} predictions"
    )
    print(f"  per prediction      {_money(h.cost_per_prediction, 6)}")
    print(
        f"  per active user-day {_money(h.cost_per_active_user, 5)}  ({_num(h.predictions_per_active_user) or 0:.2f} "
        "predictions each)"
    )
    print(f"  monthly run-rate    {_money(h.monthly_run_rate, 2)}")
    lat = doc["latency_ms"]
    if lat["p50"] is not None:
        print(f"  latency p50/p95/p99 {lat['p50']:.0f} / {lat['p95']:.0f} / {lat['p99']:.0f} ms")
    print(s.fit_users.reading)
    print(s.fit_predictions.reading)
    adj = "daily" if s.period == "day" else "weekly"
    for p in s.projection:
        print(
            f"  at {p.multiple:g}x ({p.x:,.0f} {adj} active users): {_money(p.cost, 2)} a {s.period} "
            f"(95% prediction interval {_money(p.low, 2)} to {_money(p.high, 2)})"
        )
    if s.budget:
        print(s.budget.sentence)
    if doc["unit_economics"]:
        print(doc["unit_economics"].get("control_sentence", ""))
        for v in doc["unit_economics"]["variants"]:
            print(v["reading"])
    for note in s.notes:
        print(f"note: {note}")

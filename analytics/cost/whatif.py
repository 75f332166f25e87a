"""What-if on the fetched cost aggregates (pure arithmetic, no SQL) and the summary the page and CLI show.

A what-if rewrites each (day, model version) cost:

1. **Token prices** ×``input_x`` (input and cached tokens) and ×``output_x``; **cache hit rate** h moves
   h·tokens_in onto the cached price. Where the model version has tokens and a price, the logged cost is
   scaled by (cost under the new prices and cache rate) ÷ (cost under today's prices and cache rate), so
   a logged cost keeps its level and only the relative change applies. Without tokens or a price, the
   cost scales by the mean of the two price multipliers and the cache rate cannot apply.
2. **Routing**: a share s of every other model version's predictions moves to ``route_to``, at its
   what-if cost per prediction over the whole period.
3. **Predictions per user** ×k scales predictions and cost; active users stay as they are.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analytics.cost.aggregates import CostData, UnitCosts, monthly_cost, unit_costs
from analytics.cost.scaling import MULTIPLES, Projection, ScalingFit, fit_power_law, project
from analytics.errors import LiftboardError
from analytics.workspace import PERIODS, Actor, Workspace, require

BUDGET_KEY = "cost:budget_usd"


@dataclass(frozen=True)
class WhatIf:
    """Scenario knobs; the defaults reproduce the measured costs."""

    input_x: float = 1.0
    output_x: float = 1.0
    cache_hit_rate: float | None = None
    route_to: str | None = None
    route_share: float = 0.0
    predictions_x: float = 1.0

    @property
    def is_identity(self) -> bool:
        return (
            self.input_x == 1.0
            and self.output_x == 1.0
            and self.cache_hit_rate is None
            and (self.route_to is None or self.route_share == 0.0)
            and self.predictions_x == 1.0
        )


@dataclass(frozen=True)
class Budget:
    """A monthly budget against projected spend at the recent daily run-rate."""

    monthly_budget: float
    month: str
    spent_to_date: float
    projected_month: float
    daily_run_rate: float
    crosses_on: dt.date | None
    sentence: str


@dataclass(frozen=True)
class CostSummary:
    """Cards, fits, projections and budget for one scenario."""

    whatif: WhatIf
    unit_costs: UnitCosts
    by_day: pd.DataFrame
    model_multipliers: dict[str, float]
    users_column: str
    fit_users: ScalingFit
    fit_predictions: ScalingFit
    projection: tuple[Projection, ...]
    projection_predictions: tuple[Projection, ...]
    budget: Budget | None
    notes: tuple[str, ...] = field(default=())
    period: str = "day"
    points: pd.DataFrame | None = None  # the days (or whole weeks) the cost curves were fitted on

    def projected(self, multiple: float = 10.0) -> Projection | None:
        """The projection at ``multiple`` × today's active users, if the curve could be fitted."""
        return next((p for p in self.projection if p.multiple == multiple), None)

    def projected_monthly(self, multiple: float = 10.0) -> float | None:
        """The projected cost of an average month at ``multiple`` × today's active users."""
        p = self.projected(multiple)
        return None if p is None else monthly_cost(p.cost, self.period)


def _check(w: WhatIf, models: list[str]) -> None:
    for name, v in (
        ("input price", w.input_x),
        ("output price", w.output_x),
        ("predictions", w.predictions_x),
    ):
        if not math.isfinite(v) or v < 0:
            raise LiftboardError(
                f"The {name} multiplier is {v}; use a number of zero or more (1 = as today)."
            )
    if w.cache_hit_rate is not None and not 0 <= w.cache_hit_rate <= 1:
        raise LiftboardError(f"The cache hit rate is {w.cache_hit_rate}; use a share between 0 and 1.")
    if not 0 <= w.route_share <= 1:
        raise LiftboardError(f"The routed share is {w.route_share}; use a share between 0 and 1.")
    if w.route_to is not None and w.route_share > 0 and w.route_to not in models:
        raise LiftboardError(
            f"There is no model version {w.route_to!r} in the predictions; route to one of: {', '.join(models)}."
        )


def _rows(data: CostData, w: WhatIf) -> pd.DataFrame:
    """Per (day, model) rows with the what-if cost and predictions (columns cost_w, predictions_w)."""
    df = data.by_day_model[
        ["day", "model_version", "predictions", "cost", "tokens_in", "tokens_out", "tokens_cached"]
    ].copy()
    prices = {p.model_version: p for p in data.prices}
    pi = df["model_version"].map(lambda m: prices[m].input_per_1k if m in prices else np.nan)
    po = df["model_version"].map(lambda m: prices[m].output_per_1k if m in prices else np.nan)
    pc = df["model_version"].map(lambda m: prices[m].cached_per_1k if m in prices else np.nan)
    tin, tout, tc = df["tokens_in"], df["tokens_out"], df["tokens_cached"]
    base = ((tin - tc) * pi + tc * pc + tout * po) / 1000.0
    tc_new = tc if w.cache_hit_rate is None else tin * w.cache_hit_rate
    new = ((tin - tc_new) * pi * w.input_x + tc_new * pc * w.input_x + tout * po * w.output_x) / 1000.0
    fallback = (w.input_x + w.output_x) / 2.0
    ratio = (new / base).where((base > 0) & base.notna(), fallback)
    df["cost_w"] = df["cost"] * ratio
    df["predictions_w"] = df["predictions"].astype(float)
    if w.route_to is not None and w.route_share > 0:
        target = df["model_version"] == w.route_to
        t_preds = float(df.loc[target, "predictions"].sum())
        cpp_t = float(df.loc[target, "cost_w"].sum()) / t_preds if t_preds else 0.0
        moved = df["predictions_w"].where(~target, 0.0) * w.route_share
        df["cost_w"] = df["cost_w"].where(target, df["cost_w"] * (1 - w.route_share))
        df["predictions_w"] = df["predictions_w"] - moved
        # The moved predictions are billed on the target model, on the same day.
        gained = moved.groupby(df["day"]).transform("sum")
        df.loc[target, "predictions_w"] += gained[target]
        df.loc[target, "cost_w"] += gained[target] * cpp_t
        missing_days = set(df["day"]) - set(df.loc[target, "day"])
        if missing_days:
            extra = moved.groupby(df["day"]).sum().loc[sorted(missing_days)]
            add = pd.DataFrame(
                {
                    "day": extra.index,
                    "model_version": w.route_to,
                    "predictions": 0,
                    "cost": 0.0,
                    "predictions_w": extra.to_numpy(),
                    "cost_w": extra.to_numpy() * cpp_t,
                }
            )
            df = pd.concat([df, add], ignore_index=True)
    df["cost_w"] *= w.predictions_x
    df["predictions_w"] *= w.predictions_x
    return df


def apply_whatif(data: CostData, w: WhatIf) -> tuple[pd.DataFrame, dict[str, float]]:
    """The per-day table under the scenario, and each model version's cost multiplier (what-if ÷ measured).

    The per-day table keeps the measured columns' names (``cost``, ``predictions``, ``users`` …) so the
    same chart and card code reads either.
    """
    models = sorted(map(str, data.by_model["model_version"]))
    _check(w, models)
    if w.is_identity:
        return data.by_day, {m: 1.0 for m in models}
    rows = _rows(data, w)
    per_day = rows.groupby("day")[["cost_w", "predictions_w"]].sum()
    out = data.by_day.copy()
    out["cost"] = out["day"].map(per_day["cost_w"]).fillna(0.0)
    out["predictions"] = out["day"].map(per_day["predictions_w"]).fillna(0.0)
    # A model's multiplier is what its own original traffic costs now, wherever it is routed.
    own = _rows(data, WhatIf(w.input_x, w.output_x, w.cache_hit_rate))
    own_cost = own.groupby("model_version")["cost_w"].sum()
    orig = own.groupby("model_version")["cost"].sum()
    preds = own.groupby("model_version")["predictions"].sum()
    routing = w.route_to is not None and w.route_share > 0
    cpp_t = float(own_cost[w.route_to]) / float(preds[w.route_to]) if routing and preds[w.route_to] else 0.0
    mult: dict[str, float] = {}
    for m in models:
        if not orig.get(m, 0.0):
            mult[m] = 1.0
            continue
        new = float(own_cost[m])
        if routing and m != w.route_to:
            new = new * (1 - w.route_share) + float(preds[m]) * w.route_share * cpp_t
        mult[m] = new * w.predictions_x / float(orig[m])
    return out, mult


def budget_status(by_day: pd.DataFrame, monthly_budget: float, *, recent_days: int = 7) -> Budget:
    """Month-to-date spend plus the recent daily run-rate, and the first day spend crosses the budget.

    The run-rate is held flat (mean daily cost over the last ``recent_days``); the search runs up to
    12 months ahead, budget resetting on the 1st of each month.
    """
    if not math.isfinite(monthly_budget) or monthly_budget <= 0:
        raise LiftboardError(f"The monthly budget is {monthly_budget}; give a positive amount in USD.")
    last = by_day["day"].max()
    rate = float(by_day.tail(recent_days)["cost"].mean())
    month_start = last.replace(day=1)
    in_month = by_day[by_day["day"] >= month_start]
    cum = in_month["cost"].cumsum()
    spent = float(cum.iloc[-1]) if len(cum) else 0.0
    next_month = (month_start + dt.timedelta(days=32)).replace(day=1)
    remaining = (next_month - last).days - 1
    projected = spent + rate * remaining
    crosses: dt.date | None = None
    if spent >= monthly_budget:
        crosses = in_month["day"].iloc[int(np.argmax(cum.to_numpy() >= monthly_budget))]
    elif rate > 0 and projected >= monthly_budget:
        crosses = last + dt.timedelta(days=math.ceil((monthly_budget - spent) / rate))
    elif rate > 0:
        start = next_month
        for _ in range(12):
            following = (start + dt.timedelta(days=32)).replace(day=1)
            if rate * (following - start).days >= monthly_budget:
                crosses = start + dt.timedelta(days=math.ceil(monthly_budget / rate) - 1)
                break
            start = following
    month = month_start.strftime("%Y-%m")
    if crosses is None:
        sentence = (
            f"At ${rate:,.2f} a day, spend stays under the ${monthly_budget:,.0f} monthly budget "
            f"(projected ${projected:,.0f} for {month})."
        )
    elif crosses <= last:
        sentence = f"Spend crossed the ${monthly_budget:,.0f} monthly budget on {crosses:%Y-%m-%d}."
    else:
        sentence = (
            f"At ${rate:,.2f} a day, spend crosses the ${monthly_budget:,.0f} monthly budget on "
            f"{crosses:%Y-%m-%d} (projected ${projected:,.0f} for {month})."
        )
    return Budget(monthly_budget, month, spent, projected, rate, crosses, sentence)


def weekly_points(data: CostData, by_day: pd.DataFrame, users: str = "users") -> pd.DataFrame:
    """Whole calendar weeks: cost and predictions summed over the (what-if) days, active users distinct in
    the week (from the scan: a user active on five days is one weekly user, not five)."""
    cols = ["week", users, "cost", "predictions"]
    if data.by_week.empty and not data.by_day.empty:
        raise LiftboardError("Weekly active users are not counted yet: fetch them with cost.with_weeks().")
    if data.by_week.empty:
        return pd.DataFrame(columns=cols)
    whole = data.by_week[data.by_week["days"] == 7][["week", users]]
    monday = by_day["day"].map(lambda d: d - dt.timedelta(days=d.weekday()))
    sums = by_day.assign(week=monday).groupby("week", as_index=False)[["cost", "predictions"]].sum()
    return whole.merge(sums, on="week", how="left").fillna({"cost": 0.0, "predictions": 0.0})[cols]


def summarize(
    data: CostData,
    w: WhatIf | None = None,
    *,
    users: str = "users",
    budget: float | None = None,
    multiples: tuple[float, ...] = MULTIPLES,
    alpha: float = 0.05,
    period: str = "day",
) -> CostSummary:
    """Cards, the two cost curves, projections at multiples of recent volume, and the budget.

    Args:
        users: ``"users"`` (prediction-active) or ``"event_users"`` (event-active) for the cost curve.
        period: ``"day"`` fits daily cost against daily volume and projects from the mean of the last 7
            days; ``"week"`` fits weekly cost against weekly active users (distinct in the week) over whole
            calendar weeks, which takes the weekday cycle out, and projects from the last whole week.
    """
    w = w or WhatIf()
    if period not in PERIODS:
        raise LiftboardError(f"The cost curve is fitted per day or per week, not per {period!r}.")
    if users not in data.by_day.columns:
        raise LiftboardError(
            "Event-active users need an events table; load events or use prediction-active users."
        )
    by_day, mult = apply_whatif(data, w)
    head = unit_costs(data, by_day)
    points = by_day if period == "day" else weekly_points(data, by_day, users)
    fit_u = fit_power_law(points[users], points["cost"], against="active users", alpha=alpha, unit=period)
    fit_p = fit_power_law(
        points["predictions"], points["cost"], against="predictions", alpha=alpha, unit=period
    )
    recent = points.tail(7 if period == "day" else 1)
    base_u = float(recent[users].mean()) if len(recent) else 0.0
    base_p = float(recent["predictions"].mean()) if len(recent) else 0.0
    notes = list(data.notes)
    if fit_u.excluded:
        notes.append(
            f"{fit_u.excluded} {period}(s) without active users or cost are left out of the cost curve."
        )
    if period == "week" and not data.by_week.empty:
        partial = int((data.by_week["days"] < 7).sum())
        if partial:
            notes.append(
                f"{partial} partial week(s) at the ends of the data are left out of the weekly cost curve."
            )
    return CostSummary(
        whatif=w,
        unit_costs=head,
        by_day=by_day,
        model_multipliers=mult,
        users_column=users,
        fit_users=fit_u,
        fit_predictions=fit_p,
        projection=tuple(project(fit_u, base_u, multiples)),
        projection_predictions=tuple(project(fit_p, base_p, multiples)),
        budget=None if budget is None else budget_status(by_day, budget),
        notes=tuple(notes),
        period=period,
        points=points,
    )


def get_budget(ws: Workspace) -> float | None:
    value = ws.get_setting(BUDGET_KEY)
    return None if value is None else float(value)


def set_budget(ws: Workspace, usd: float | None, *, actor: Actor | None) -> None:
    """Save (or clear, with None) the monthly budget, with an audit row (editors and admins)."""
    who = require(actor, "edit_settings").name
    if usd is not None and (not math.isfinite(usd) or usd <= 0):
        raise LiftboardError(f"The monthly budget is {usd}; give a positive amount in USD.")
    before = get_budget(ws)
    with ws.transaction() as cur:
        if usd is None:
            cur.execute("DELETE FROM lb_settings WHERE key = ?", [BUDGET_KEY])
        else:
            ws.set_setting(BUDGET_KEY, float(usd), cur)
        ws.audit(cur, who, "set_budget", BUDGET_KEY, before, usd)

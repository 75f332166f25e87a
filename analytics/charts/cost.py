"""Cost charts: the log–log cost curve with projections, unit costs by model, latency, budget, unit economics."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analytics.charts.theme import ALERT, NEUTRAL, PALETTE, style, variant_colors
from analytics.cost import Projection, ScalingFit, UnitEconomics, curve


def cost_curve(
    fit: ScalingFit,
    projection: tuple[Projection, ...] = (),
    *,
    x_label: str = "Daily active users",
    period: str = "day",
) -> go.Figure:
    """Cost per day (or week) against volume on log–log axes: the points, the fit, its band, projections."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=list(fit.x),
            y=list(fit.y),
            mode="markers",
            name="Weeks" if period == "week" else "Days",
            marker={"color": PALETTE[0], "size": 7},
        )
    )
    if fit.ok:
        xs_all = list(fit.x) + [p.x for p in projection]
        xs = np.exp(np.linspace(np.log(min(xs_all)), np.log(max(xs_all)), 80))
        c = curve(fit, xs)
        fig.add_trace(
            go.Scatter(
                x=np.concatenate([c["x"], c["x"][::-1]]),
                y=np.concatenate([c["high"], c["low"][::-1]]),
                fill="toself",
                fillcolor="rgba(230,159,0,0.18)",
                line={"width": 0},
                name="95% prediction band",
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=c["x"],
                y=c["fit"],
                mode="lines",
                name=f"Fit: cost ∝ x^{fit.exponent:.2f}",
                line={"color": PALETTE[1], "width": 2},
            )
        )
    if projection:
        fig.add_trace(
            go.Scatter(
                x=[p.x for p in projection],
                y=[p.cost for p in projection],
                mode="markers+text",
                text=[f"{p.multiple:g}×" for p in projection],
                textposition="top left",
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [p.high - p.cost for p in projection],
                    "arrayminus": [p.cost - p.low for p in projection],
                },
                marker={"color": ALERT, "size": 10, "symbol": "diamond"},
                name="Projection (95% PI)",
            )
        )
    fig.update_xaxes(type="log")
    fig.update_yaxes(type="log")
    per = "Weekly" if period == "week" else "Daily"
    return style(fig, x=f"{x_label} (log scale)", y=f"{per} cost, USD (log scale)")


def cost_per_user_by_model(per: pd.DataFrame) -> go.Figure:
    """Cost per active user per day, one line per model version (``per`` from cost.per_user_by_model)."""
    fig = go.Figure()
    models = sorted(map(str, per["model_version"].unique()))
    colors = variant_colors(models)
    for m in models:
        d = per[per["model_version"] == m].sort_values("day")
        fig.add_trace(
            go.Scatter(
                x=d["day"], y=d["cost_per_user"], mode="lines+markers", name=m, line={"color": colors[m]}
            )
        )
    return style(fig, x="Date (UTC)", y="Cost per active user per day, USD")


def latency_over_time(by_day: pd.DataFrame) -> go.Figure:
    """Latency p50, p95 and p99 per day (milliseconds); days without latency are gaps."""
    fig = go.Figure()
    for q, color, dash in (("p50", PALETTE[0], "solid"), ("p95", PALETTE[1], "dash"), ("p99", ALERT, "dot")):
        fig.add_trace(
            go.Scatter(
                x=by_day["day"],
                y=by_day[f"lat_{q}"],
                mode="lines",
                name=q,
                line={"color": color, "dash": dash},
            )
        )
    return style(fig, x="Date (UTC)", y="Latency, ms")


def budget_chart(by_day: pd.DataFrame, monthly_budget: float | None, daily_rate: float | None) -> go.Figure:
    """Month-to-date spend (measured, then projected at the run-rate) against the monthly budget, USD."""
    last = by_day["day"].max()
    month_start = last.replace(day=1)
    month = by_day[by_day["day"] >= month_start]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=month["day"],
            y=month["cost"].cumsum(),
            mode="lines+markers",
            name="Spent this month",
            line={"color": PALETTE[0]},
        )
    )
    if daily_rate is not None:
        next_month = (month_start + dt.timedelta(days=32)).replace(day=1)
        days = [last + dt.timedelta(days=i) for i in range((next_month - last).days)]
        spent = float(month["cost"].sum())
        fig.add_trace(
            go.Scatter(
                x=days,
                y=[spent + daily_rate * i for i in range(len(days))],
                mode="lines",
                name="Projected at run-rate",
                line={"color": PALETTE[0], "dash": "dash"},
            )
        )
    if monthly_budget:
        fig.add_hline(
            y=monthly_budget,
            line={"color": ALERT, "dash": "dot"},
            annotation_text=f"Budget ${monthly_budget:,.0f}",
            annotation_position="top left",
        )
    return style(fig, x="Date (UTC)", y="Spend this month, USD")


def unit_economics_chart(ue: UnitEconomics) -> go.Figure:
    """Incremental revenue, cost and net per exposed user for each variant, with 95% intervals (USD)."""
    fig = go.Figure()
    rows = [
        ("Revenue", "incremental_revenue", PALETTE[2]),
        ("Cost", "incremental_cost", ALERT),
        ("Net", "net", PALETTE[0]),
    ]
    for label, attr, color in rows:
        ests = [getattr(v, attr) for v in ue.variants]
        fig.add_trace(
            go.Bar(
                y=[f"{v.variant} vs {v.baseline}" for v in ue.variants],
                x=[e.value for e in ests],
                orientation="h",
                name=label,
                marker_color=color,
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [e.ci[1] - e.value for e in ests],
                    "arrayminus": [e.value - e.ci[0] for e in ests],
                    "color": NEUTRAL,
                },
            )
        )
    fig.add_vline(x=0, line={"color": NEUTRAL})
    fig.update_layout(barmode="group")
    return style(fig, x=f"USD per exposed user over {ue.window_days} days (95% CI)", y=None)

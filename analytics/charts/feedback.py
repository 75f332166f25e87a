"""Feedback charts: signal rates over time with Wilson bands, tag mix over time, reviewer agreement."""

from __future__ import annotations

import math

import plotly.graph_objects as go

from analytics.charts.theme import NEUTRAL, PALETTE, style, variant_colors
from analytics.feedback import Kappa, Rates, TagMix


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def rate_over_time(rates: Rates, signal: str = "accept", *, control: str | None = None) -> go.Figure:
    """The signal's rate per period and group, a shaded band for each Wilson interval."""
    df = rates.frame()
    df = df[df.signal == signal]
    groups = sorted(df.group.unique().tolist())
    colours = variant_colors(groups, control)
    fig = go.Figure()
    for g in groups:
        d = df[df.group == g].sort_values("period")
        c = colours[g]
        fig.add_trace(
            go.Scatter(
                x=list(d.period) + list(d.period)[::-1],
                y=[100 * v for v in d.hi] + [100 * v for v in d.lo][::-1],
                fill="toself", fillcolor=_rgba(c, 0.18), line={"width": 0}, hoverinfo="skip",
                showlegend=False, name=f"{g} interval",
            )
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(
                x=d.period, y=100 * d.rate, mode="lines+markers", name=g, line={"color": c},
                customdata=list(zip(d.k, d.n, 100 * d.lo, 100 * d.hi, strict=True)),
                hovertemplate="%{x|%Y-%m-%d}: %{y:.1f}% (%{customdata[0]} of %{customdata[1]}; "
                "95% interval %{customdata[2]:.1f}–%{customdata[3]:.1f}%)<extra>%{fullData.name}</extra>",
            )
        )  # fmt: skip
    by = {"none": "", "variant": " by variant", "model_version": " by model version"}[rates.by]
    style(
        fig,
        title=f"{signal.capitalize()} rate per {rates.period}{by}",
        x=f"{rates.period} (UTC)",
        y=f"{signal} rate (% of feedback)",
    )
    fig.update_yaxes(rangemode="tozero")
    return fig


def rate_by_group(rates: Rates) -> go.Figure:
    """Accept, reject and correct rates of each group (whole selection) with Wilson error bars."""
    df = rates.frame()
    fig = go.Figure()
    for i, signal in enumerate(sorted(df.signal.unique(), key=["accept", "reject", "correct"].index)):
        d = df[df.signal == signal]
        fig.add_trace(
            go.Bar(
                x=d.group, y=100 * d.rate, name=signal, marker_color=PALETTE[i % len(PALETTE)],
                error_y={"type": "data", "symmetric": False, "array": 100 * (d.hi - d.rate),
                         "arrayminus": 100 * (d.rate - d.lo)},
                hovertemplate="%{x}: %{y:.1f}%<extra>%{fullData.name}</extra>",
            )
        )  # fmt: skip
    fig.update_layout(barmode="group")
    label = {"none": "all feedback", "variant": "variant", "model_version": "model version"}[rates.by]
    return style(fig, title="Signal rates with 95% intervals", x=label, y="rate (% of feedback)")


def tag_mix(mix: TagMix) -> go.Figure:
    """Share of tagged items carrying each tag, per period (an item may carry several tags)."""
    df = mix.rows
    fig = go.Figure()
    for i, tag in enumerate(sorted(df.tag.dropna().unique())):
        d = df[df.tag == tag]
        fig.add_trace(
            go.Bar(
                x=d.period, y=100 * d.share, name=tag, marker_color=PALETTE[i % len(PALETTE)],
                customdata=list(zip(d["items"], d.tagged, strict=True)),
                hovertemplate="%{x|%Y-%m-%d}: %{y:.0f}% (%{customdata[0]} of %{customdata[1]} tagged items)"
                "<extra>%{fullData.name}</extra>",
            )
        )  # fmt: skip
    fig.update_layout(barmode="group", showlegend=True)  # the legend names the tag even when there is one
    if df.empty:
        fig.add_annotation(text="No tagged items yet", showarrow=False, font={"color": NEUTRAL})
    style(
        fig, title=f"Tag mix per {mix.period}", x=f"{mix.period} (UTC)", y="items with the tag (% of tagged)"
    )
    fig.update_layout(margin={"t": 80})  # room for the title above the legend
    return fig


def agreement(kappas: list[Kappa]) -> go.Figure:
    """Cohen's κ per tag for each reviewer pair, with its interval (undefined κ left out)."""
    fig = go.Figure()
    pairs = sorted({(k.reviewer_a, k.reviewer_b) for k in kappas})
    for i, (a, b) in enumerate(pairs):
        ks = [k for k in kappas if (k.reviewer_a, k.reviewer_b) == (a, b) and not math.isnan(k.kappa)]
        fig.add_trace(
            go.Scatter(
                x=[k.kappa for k in ks], y=[k.tag for k in ks], mode="markers", name=f"{a} vs {b}",
                marker={"color": PALETTE[i % len(PALETTE)], "size": 10},
                error_x={"type": "data", "symmetric": False, "array": [k.ci[1] - k.kappa for k in ks],
                         "arrayminus": [k.kappa - k.ci[0] for k in ks]},
                customdata=[k.table.n for k in ks],
                hovertemplate="%{y}: κ = %{x:.2f} over %{customdata} items<extra></extra>",
            )
        )  # fmt: skip
    style(fig, title="Reviewer agreement (Cohen's κ)", x="Cohen's κ (1 = perfect, 0 = chance)", y="tag")
    fig.update_xaxes(range=[-1, 1.05])
    return fig

"""Experiment figures: lift intervals, cumulative lift, segment intervals and retention curves."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from analytics.charts.theme import NEUTRAL, label, style, variant_colors
from analytics.experiments import ExperimentResult, LiftCurve, MetricResult, RetentionPoint


def _pct(v: float | None) -> float | None:
    return None if v is None else v * 100.0


def _drawn(c) -> tuple[float, float, float] | None:
    """(lift, low, high) in % of the control mean for the estimand whose p-value marks significance: the relative
    lift with its delta-method interval, or the absolute difference with its own interval scaled by |μ_C|."""
    if c.estimand == "relative":
        if c.rel_lift is None or c.rel_ci is None:
            return None
        return c.rel_lift * 100, c.rel_ci[0] * 100, c.rel_ci[1] * 100
    if c.mean_baseline == 0:
        return None
    scale = 100 / abs(c.mean_baseline)
    return c.abs_lift * scale, c.abs_ci[0] * scale, c.abs_ci[1] * scale


def _p_label(c) -> str:
    which = "relative-lift p" if c.estimand == "relative" else "p of the difference"
    adjusted = c.shown_p_value != (c.rel_p_value if c.estimand == "relative" else c.p_value)
    return f"{'adjusted ' if adjusted else ''}{which} = {c.shown_p_value:.3g}" + (
        " ✓" if c.significant else ""
    )


def lift_intervals(result: ExperimentResult, metrics: Sequence[MetricResult] | None = None) -> go.Figure:
    """Lift of every variant on every metric with its interval bar (a forest plot), in % of the control mean.

    The interval drawn is that of the estimand the ✓ follows (``result.estimand``): the relative lift's, or the
    absolute difference's expressed in % of the control mean; the hover names the p-value it shows.
    """
    metrics = list(metrics if metrics is not None else result.metrics)
    colors = variant_colors(list(result.variants), result.control)
    fig = go.Figure()
    labels = [m.spec.label + (" (lower is better)" if m.spec.lower_is_better else "") for m in metrics]
    for v in result.variants[1:]:
        xs, lo, hi, ys, text = [], [], [], [], []
        for m, metric_label in zip(metrics, labels, strict=True):
            c = next((c for c in m.comparisons if c.variant == v), None)
            drawn = _drawn(c) if c is not None else None
            if c is None or drawn is None:
                continue
            xs.append(drawn[0])
            lo.append(drawn[0] - drawn[1])
            hi.append(drawn[2] - drawn[0])
            ys.append(metric_label)
            text.append(_p_label(c))
        fig.add_trace(
            go.Scatter(
                x=xs, y=ys, mode="markers", name=v, marker={"color": colors[v], "size": 11},
                error_x={"type": "data", "symmetric": False, "array": hi, "arrayminus": lo, "thickness": 2},
                text=text, hovertemplate="%{y}<br>%{x:.1f}% (%{text})<extra>%{fullData.name}</extra>",
            )
        )  # fmt: skip
    fig.add_vline(x=0, line_color=NEUTRAL, line_dash="dot")
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(labels)), automargin=True)
    level = f"{(1 - result.alpha) * 100:g}%"
    what = (
        f"Relative lift vs {label(result.control)} (%), {level} interval; ✓ = relative-lift p < α"
        if result.estimand == "relative"
        else f"Absolute difference vs {label(result.control)}, in % of its mean, {level} interval; ✓ = its p < α"
    )
    style(fig, x=what, y="Metric")
    fig.update_layout(height=120 + 60 * len(metrics))
    return fig


def segment_intervals(result: ExperimentResult, spec: str) -> go.Figure:
    """Lift per segment value for one metric (the estimand the ✓ follows), BH-adjusted p-values on hover, in %."""
    colors = variant_colors(list(result.variants), result.control)
    fig = go.Figure()
    for v in result.variants[1:]:
        xs, lo, hi, ys, text = [], [], [], [], []
        for s in result.segments:
            m = next((m for m in s.metrics if m.spec.text == spec), None)
            c = next((c for c in m.comparisons if c.variant == v), None) if m else None
            drawn = _drawn(c) if c is not None else None
            if c is None or drawn is None:
                continue
            xs.append(drawn[0])
            lo.append(drawn[0] - drawn[1])
            hi.append(drawn[2] - drawn[0])
            ys.append(s.value)
            text.append(f"BH-adjusted p = {c.shown_p_value:.3g}")
        fig.add_trace(
            go.Scatter(
                x=xs, y=ys, mode="markers", name=v, marker={"color": colors[v], "size": 10},
                error_x={"type": "data", "symmetric": False, "array": hi, "arrayminus": lo},
                text=text, hovertemplate="%{y}: %{x:.1f}% (%{text})<extra>%{fullData.name}</extra>",
            )
        )  # fmt: skip
    fig.add_vline(x=0, line_color=NEUTRAL, line_dash="dot")
    fig.update_yaxes(automargin=True)
    what = (
        "Relative lift" if result.estimand == "relative" else "Absolute difference in % of the control mean"
    )
    style(fig, x=f"{what} (%), unadjusted interval", y=label(result.segment or "Segment"))
    fig.update_layout(height=140 + 32 * max(1, len(result.segments)))
    return fig


def cumulative_lift_chart(curve: LiftCurve, variants: Sequence[str] | None = None) -> go.Figure:
    """Cumulative relative lift with its interval band, by days since exposure or by exposure date, in %."""
    names = list(dict.fromkeys(p.variant for p in curve.points))
    colors = variant_colors([curve.control, *names], curve.control)
    fig = go.Figure()
    for v in names:
        pts = [p for p in curve.points if p.variant == v and p.rel_lift is not None]
        xs = [p.x for p in pts]
        fig.add_trace(
            go.Scatter(
                x=xs + xs[::-1],
                y=[_pct(p.rel_hi) for p in pts] + [_pct(p.rel_lo) for p in pts][::-1],
                fill="toself", fillcolor=colors[v], opacity=0.18, line={"width": 0},
                hoverinfo="skip", showlegend=False, name=f"{v} interval",
            )
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(
                x=xs, y=[_pct(p.rel_lift) for p in pts], mode="lines+markers", name=v,
                line={"color": colors[v], "width": 2},
                hovertemplate="%{x}: %{y:.1f}%<extra>%{fullData.name}</extra>",
            )
        )  # fmt: skip
    fig.add_hline(y=0, line_color=NEUTRAL, line_dash="dot")
    x_title = "Days since exposure (days)" if curve.by == "day" else "Exposure date (users exposed up to it)"
    style(fig, x=x_title, y=f"Cumulative relative lift in {label(curve.spec.label)} (%)")
    return fig


def retention_chart(points: Sequence[RetentionPoint], control: str | None = None) -> go.Figure:
    """Share of users active on each day after exposure, by variant, with interval bands (%)."""
    names = list(dict.fromkeys(p.variant for p in points))
    colors = variant_colors(names, control)
    fig = go.Figure()
    for v in names:
        pts = [p for p in points if p.variant == v]
        xs = [p.day for p in pts]
        fig.add_trace(
            go.Scatter(
                x=xs + xs[::-1], y=[p.hi * 100 for p in pts] + [p.lo * 100 for p in pts][::-1],
                fill="toself", fillcolor=colors[v], opacity=0.18, line={"width": 0},
                hoverinfo="skip", showlegend=False,
            )
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(
                x=xs, y=[p.share * 100 for p in pts], mode="lines+markers", name=v,
                line={"color": colors[v]}, customdata=[p.users for p in pts],
                hovertemplate="day %{x}: %{y:.1f}% of %{customdata:,} users<extra>%{fullData.name}</extra>",
            )
        )  # fmt: skip
    style(fig, x="Days since exposure (days)", y="Users active that day (%)")
    return fig

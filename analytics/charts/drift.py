"""Drift charts: a feature's score over time against its thresholds, distributions overlaid, a heat map."""

from __future__ import annotations

import plotly.graph_objects as go

from analytics.charts.theme import ALERT, NEUTRAL, PALETTE, label, style
from analytics.drift import DEFAULT_THRESHOLDS, METHOD_UNITS, DriftReport, FeatureDrift, method_name


def _room(fig: go.Figure) -> go.Figure:
    # The theme puts the legend just above the plot; lift the title clear of it.
    fig.update_layout(margin={"t": 90}, title={"y": 0.97, "yanchor": "top"}, legend={"y": 1.04})
    return fig


def score_label(method: str) -> str:
    """The y-axis title of a drift score, with its unit."""
    unit = METHOD_UNITS[method]
    if method == "psi":
        unit += f"; ≥ {DEFAULT_THRESHOLDS['psi']:g} is a large shift"
    return f"{method_name(method)} ({unit})"


def score_over_time(feature: FeatureDrift, method: str = "psi") -> go.Figure:
    """The chosen score per chunk, both thresholds as lines, alerting chunks marked, reference shaded."""
    chunks = feature.chunks
    x = [c.start for c in chunks]
    fig = go.Figure()
    ref = [c for c in chunks if c.period == "reference"]
    if ref:
        fig.add_vrect(
            x0=ref[0].start,
            x1=ref[-1].end,
            fillcolor=NEUTRAL,
            opacity=0.12,
            line_width=0,
            annotation_text="reference",
            annotation_position="top left",
        )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[c.score for c in chunks],
            mode="lines+markers",
            name=feature.name,
            line={"color": PALETTE[0]},
            customdata=[[c.key, c.n, c.p_value] for c in chunks],
            hovertemplate="%{customdata[0]}<br>score %{y:.3f}<br>n %{customdata[1]:,}"
            "<br>p %{customdata[2]:.2g}<extra></extra>",
        )
    )
    alerts = [c for c in chunks if c.alert_fixed or c.alert_learned]
    if alerts:
        fig.add_trace(
            go.Scatter(
                x=[c.start for c in alerts],
                y=[c.score for c in alerts],
                mode="markers",
                name="alert",
                marker={"color": ALERT, "size": 12, "symbol": "x"},
                hoverinfo="skip",
            )
        )
    if x:
        fig.add_trace(
            go.Scatter(
                x=[x[0], chunks[-1].end],
                y=[feature.fixed_threshold] * 2,
                mode="lines",
                name=f"fixed threshold {feature.fixed_threshold:g}",
                line={"color": ALERT, "dash": "dash"},
            )
        )
        if feature.learned_threshold is not None:
            fig.add_trace(
                go.Scatter(
                    x=[x[0], chunks[-1].end],
                    y=[feature.learned_threshold] * 2,
                    mode="lines",
                    name=f"learned threshold {feature.learned_threshold:.3g}",
                    line={"color": PALETTE[1], "dash": "dot"},
                )
            )
    fig.update_yaxes(rangemode="tozero")
    title = f"{label(feature.name)}: drift score by chunk"
    return _room(style(fig, title=title, x="chunk start (UTC)", y=score_label(method)))


def missing_over_time(feature: FeatureDrift) -> go.Figure:
    """Share of missing values per chunk against the reference's share."""
    chunks = feature.chunks
    fig = go.Figure(
        go.Scatter(
            x=[c.start for c in chunks],
            y=[100 * c.missing_rate for c in chunks],
            mode="lines+markers",
            name="missing",
            line={"color": PALETTE[2]},
        )
    )
    flagged = [c for c in chunks if c.alert_missing]
    if flagged:
        fig.add_trace(
            go.Scatter(
                x=[c.start for c in flagged],
                y=[100 * c.missing_rate for c in flagged],
                mode="markers",
                name="alert",
                marker={"color": ALERT, "size": 12, "symbol": "x"},
            )
        )
    fig.add_hline(y=100 * feature.ref_missing_rate, line_dash="dash", line_color=NEUTRAL)
    fig.update_yaxes(rangemode="tozero")
    title = f"{label(feature.name)}: missing values"
    return _room(style(fig, title=title, x="chunk start (UTC)", y="missing values (% of rows)"))


def distribution_overlay(feature: FeatureDrift, chunk_key: str) -> go.Figure:
    """Reference vs one chunk: the share of values in each PSI bin (or category)."""
    chunk = feature.chunk(chunk_key)
    ref_total = sum(feature.ref_counts) or 1
    cur_total = sum(chunk.counts) or 1
    labels = list(feature.bin_labels)
    fig = go.Figure()
    if not labels or not sum(feature.ref_counts) and not sum(chunk.counts):
        fig.add_annotation(
            text="No values to compare (all missing).",
            showarrow=False,
            x=0.5,
            y=0.5,
            xref="paper",
            yref="paper",
        )
    else:
        fig.add_trace(
            go.Bar(
                x=labels,
                y=[100 * c / ref_total for c in feature.ref_counts],
                name="reference",
                marker_color=NEUTRAL,
            )
        )
        fig.add_trace(
            go.Bar(
                x=labels,
                y=[100 * c / cur_total for c in chunk.counts],
                name=f"chunk {chunk.key}",
                marker_color=PALETTE[0],
            )
        )
        fig.update_layout(barmode="group")
    axis = (
        "category"
        if feature.kind != "numeric"
        else "value range (reference quantile bins; open end bins outside it)"
    )
    return _room(
        style(
            fig,
            title=f"{label(feature.name)}: reference vs {label(chunk.key)}",
            x=axis,
            y="share of values (%)",
        )
    )


def heatmap(report: DriftReport) -> go.Figure:
    """Features × chunks, coloured by score relative to the fixed threshold (1 = at the threshold)."""
    keys = [c.key for c in report.chunks]
    names = [f.name for f in report.features]
    z, text = [], []
    for f in report.features:
        by_key = {c.key: c for c in f.chunks}
        row, marks = [], []
        for k in keys:
            c = by_key.get(k)
            row.append(None if c is None else min(c.score / f.fixed_threshold, 3.0))
            marks.append("✕" if c is not None and c.alert else "")
        z.append(row)
        text.append(marks)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=keys,
            y=names,
            text=text,
            texttemplate="%{text}",
            zmin=0,
            zmax=3,
            colorscale=[[0, "#F7F7F7"], [1 / 3, "#FDDBC7"], [0.5, "#F4A582"], [1, ALERT]],
            colorbar={"title": {"text": "score ÷ fixed<br>threshold"}},
            hovertemplate="%{y} · %{x}<br>score ÷ threshold %{z:.2f}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(type="category")
    return style(
        fig,
        title=f"{method_name(report.settings.method)} by feature and chunk (✕ = alert)",
        x="chunk",
        y="feature",
    )

"""Colours and layout shared by every chart: colour-blind safe, readable in light and dark themes."""

from __future__ import annotations

import plotly.graph_objects as go

# Okabe–Ito palette: distinguishable under the common colour-vision deficiencies.
CONTROL = "#0072B2"  # blue
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"]
ALERT = "#D55E00"
NEUTRAL = "#7F7F7F"


def variant_colors(names: list[str], control: str | None = None) -> dict[str, str]:
    """A stable colour per variant, the control always blue."""
    ordered = ([control] if control in names else []) + [n for n in names if n != control]
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(ordered)}


def style(
    fig: go.Figure, *, title: str | None = None, x: str | None = None, y: str | None = None
) -> go.Figure:
    """Transparent background and neutral grid so the figure reads on light and dark pages."""
    fig.update_layout(
        title=title,
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        margin={"l": 10, "r": 10, "t": 50 if title else 20, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        font={"size": 13},
    )
    grid = "rgba(128,128,128,0.25)"
    fig.update_xaxes(title=x, gridcolor=grid, zerolinecolor=grid)
    fig.update_yaxes(title=y, gridcolor=grid, zerolinecolor=grid)
    return fig

"""Colours and layout shared by every chart: colour-blind safe, readable in light and dark themes."""

from __future__ import annotations

import html
from typing import Any

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


def label(text: object) -> str:
    """A name from the data as plain text in a chart: plotly reads <b>, <a href>, <span style> in any text
    it draws (names, ticks, hover), so tags are written as entities and shown as the characters they are."""
    return html.escape(str(text), quote=False)


#: Trace properties that carry data into what plotly draws as text (legend, ticks, labels, hover).
_TEXT_PROPS = ("name", "text", "hovertext", "x", "y", "customdata", "labels", "ids", "parents", "legendgroup")


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        return label(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "dtype") and value.dtype == object:  # numpy arrays of text (numbers stay numbers)
        return [_plain(v) for v in value.tolist()]
    return value


def plain_text(fig: go.Figure) -> go.Figure:
    """Every data string a trace shows, as plain text (see ``label``); numbers and dates are left as they are."""
    for trace in fig.data:
        for prop in _TEXT_PROPS:
            value = getattr(trace, prop, None) if prop in trace else None
            if value is not None:
                trace[prop] = _plain(value)
    for axis in (*fig.select_xaxes(), *fig.select_yaxes()):  # an explicit category order names the same text
        if axis.categoryarray is not None:
            axis.categoryarray = _plain(axis.categoryarray)
    return fig


def style(
    fig: go.Figure, *, title: str | None = None, x: str | None = None, y: str | None = None
) -> go.Figure:
    """Transparent background and neutral grid so the figure reads on light and dark pages; data as text.

    Titles may hold markup of ours (<br>): a name from the data in a title goes through ``label`` first.
    """
    plain_text(fig)
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

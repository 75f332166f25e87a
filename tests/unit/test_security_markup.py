"""Issue 14, finding 5 in the engine: every chart draws names from the data as text, never as plotly markup."""

from __future__ import annotations

import html
import json
from datetime import datetime, timedelta

import plotly.graph_objects as go

from analytics.charts import label, style

HOSTILE = '<span style="background:url(//evil.example/v.png)">ai</span> <a href="//evil.example">x</a> & <b>'


def _strings(obj: object) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)]
    if isinstance(obj, list | tuple):
        return [s for v in obj for s in _strings(v)]
    return []


def test_every_text_a_trace_draws_is_plain() -> None:
    fig = go.Figure()
    fig.add_trace(
        go.Bar(x=[HOSTILE, "b"], y=[1, 2], name=HOSTILE, text=[HOSTILE, "t"], customdata=[[HOSTILE]])
    )
    days = [datetime(2026, 9, 1) + timedelta(days=i) for i in range(3)]
    fig.add_trace(go.Scatter(x=days, y=[1.0, 2.5, 3.0], name="plain", hovertext=HOSTILE))
    fig.update_yaxes(categoryorder="array", categoryarray=[HOSTILE])
    style(fig, title=f"{label(HOSTILE)}: by chunk")
    data = json.loads(fig.to_json())
    drawn = _strings(data["data"]) + _strings(data["layout"].get("yaxis", {}).get("categoryarray", []))
    assert not [s for s in drawn if "<" in s or ">" in s], drawn
    bar, line = fig.data
    assert html.unescape(bar.name) == HOSTILE and html.unescape(bar.x[0]) == HOSTILE  # shown as it is
    assert list(bar.y) == [1, 2] and list(line.y) == [1.0, 2.5, 3.0]  # numbers stay numbers
    assert "<span" not in fig.layout.title.text and fig.layout.title.text.endswith(": by chunk")

"""The Feedback page's engine calls and charts, cached on the workspace's state tokens."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st
from plotly.graph_objects import Figure

from analytics import feedback as fb
from analytics.charts import feedback as charts
from analytics.workspace import Workspace, experiment_names


# Two keys. `data` (state_token(reviews=False)) moves with loads and every audited change but tags, and keys
# what only users' feedback decides: signal counts, rates, filter options, an item's text. `token` moves with
# every tag as well and keys what reviewers decide: progress, tag mix, agreement, the audit trail, a bulk
# action's preview. So a tag, anyone's, recomputes only the second kind. `_ws` (not part of the key) is this
# run's workspace: the feedback item table is checked once per run, not once per query.
@st.cache_data(show_spinner=False, max_entries=16)
def counts(_ws: Workspace, data: str, flt: fb.FeedbackFilter) -> fb.SignalCounts:
    """Users' signals over the filter (reviews never move them)."""
    return fb.signal_counts(_ws, flt)


@st.cache_data(show_spinner=False, max_entries=16)
def progress(_ws: Workspace, token: str, flt: fb.FeedbackFilter) -> fb.Progress:
    """Tagged and all items of the filter (relative to its reviewer, if any)."""
    return fb.progress(_ws, flt)


@st.cache_data(show_spinner=False, max_entries=16)
def rates(_ws: Workspace, data: str, flt: fb.FeedbackFilter, by: str, period: str | None) -> fb.Rates:
    """Signal rates per period (or over the whole selection) and group."""
    return fb.rates(_ws, flt, by=by, period=period)


# Figures are built once per key and never changed after: shared (cache_resource), not copied, because a copy
# of a plotly figure costs as much as building it.
@st.cache_resource(show_spinner=False, max_entries=16)
def rate_chart(
    _ws: Workspace, data: str, flt: fb.FeedbackFilter, by: str, period: str, signal: str
) -> Figure:
    """The rate of one signal over time, per group."""
    return charts.rate_over_time(rates(_ws, data, flt, by, period), signal, control="control")


@st.cache_resource(show_spinner=False, max_entries=16)
def group_chart(_ws: Workspace, data: str, flt: fb.FeedbackFilter, by: str) -> Figure:
    """Every signal's rate per group, over the whole selection."""
    return charts.rate_by_group(rates(_ws, data, flt, by, None))


@st.cache_data(show_spinner=False, max_entries=16)
def mix(_ws: Workspace, token: str, flt: fb.FeedbackFilter, period: str) -> fb.TagMix:
    """The tag mix per period."""
    return fb.tag_mix(_ws, flt, period=period)


@st.cache_resource(show_spinner=False, max_entries=8)
def mix_chart(_ws: Workspace, token: str, flt: fb.FeedbackFilter, period: str) -> Figure:
    """The tag mix chart."""
    return charts.tag_mix(mix(_ws, token, flt, period))


@st.cache_data(show_spinner=False, max_entries=8)
def kappas(_ws: Workspace, token: str, flt: fb.FeedbackFilter) -> list[fb.Kappa]:
    """Cohen's kappa per reviewer pair and tag."""
    return fb.kappas(_ws, flt)


@st.cache_resource(show_spinner=False, max_entries=8)
def agreement_chart(_ws: Workspace, token: str, flt: fb.FeedbackFilter) -> Figure:
    """The agreement chart."""
    return charts.agreement(kappas(_ws, token, flt))


@st.cache_data(show_spinner=False, max_entries=4)
def options(_ws: Workspace, data: str, experiment: str | None) -> dict[str, list[str]]:
    """The values the filters offer."""
    return fb.options(_ws, experiment)


@st.cache_data(show_spinner=False, max_entries=4)
def experiments(_ws: Workspace, data: str) -> list[str]:
    """Every experiment's name (they label the variants)."""
    return experiment_names(_ws)


@st.cache_data(show_spinner=False, max_entries=4)
def log_days(_ws: Workspace, data: str) -> tuple[dt.date | None, dt.date | None]:
    """The first and last day of the feedback log."""
    return fb.date_range(_ws)


@st.cache_data(show_spinner=False, max_entries=64)
def context(_ws: Workspace, data: str, item: str, experiment: str | None) -> dict[str, Any]:
    """Everything known about one item (its text, prediction and variant)."""
    return fb.item_context(_ws, item, experiment)


@st.cache_data(show_spinner=False, max_entries=16)
def preview(
    _ws: Workspace,
    token: str,
    qflt: fb.FeedbackFilter,
    reviewer: str,
    add: tuple[str, ...],
    remove: tuple[str, ...],
) -> fb.WriteResult:
    """How many items of the selection a bulk action would change."""
    return fb.bulk_preview(_ws, qflt, reviewer, add=add, remove=remove)


@st.cache_data(show_spinner=False, max_entries=16)
def trail(_ws: Workspace, token: str, actor: str | None) -> pd.DataFrame:
    """The newest 500 tag and taxonomy changes, of one reviewer or everyone."""
    return fb.audit_trail(_ws, actor=actor, limit=500)

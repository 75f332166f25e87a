"""The Experiments page's engine calls, cached on their inputs and the workspace's state token, and its URL codes."""

from __future__ import annotations

from datetime import date

import streamlit as st

from analytics import experiments
from analytics.experiments import LiftCurve, RetentionPoint
from analytics.workspace import ExperimentSummary, OutcomeColumns, list_experiments
from pages._ui import workspace


@st.cache_data(show_spinner=False, max_entries=8)
def listed(token: str) -> tuple[ExperimentSummary, ...]:
    """Every experiment of the workspace."""
    return list_experiments(workspace())


@st.cache_data(show_spinner=False, max_entries=32)
def analyze(token: str, name: str, metrics: tuple[str, ...], control: str, alpha: float, cuped: bool,
            sequential: bool, winsorize: float | None, segment: str | None, stratify: str,
            priors: tuple[tuple[str, float], ...], margins: tuple[tuple[str, float], ...],
            estimand: str, through: date | None, covariate: str | None) -> experiments.ExperimentResult:  # fmt: skip
    """The analysis, cached on every setting of the page."""
    return experiments.analyze(workspace(), name, list(metrics), control=control, alpha=alpha, cuped=cuped,
                               sequential=sequential, winsorize=winsorize, segment=segment, stratify=stratify,
                               priors=dict(priors), margins=dict(margins), estimand=estimand,  # type: ignore[arg-type]
                               data_through=through, cuped_covariate=covariate)  # fmt: skip


@st.cache_data(show_spinner=False, max_entries=32)
def curve(token: str, name: str, metric: str, control: str, by: str, alpha: float, seq: bool,
          through: date | None) -> LiftCurve:  # fmt: skip
    """The cumulative lift curve of one metric."""
    return experiments.cumulative_lift(workspace(), name, metric, control=control, by=by, alpha=alpha,
                                       sequential=seq, data_through=through)  # fmt: skip


@st.cache_data(show_spinner=False, max_entries=8)
def retention(token: str, name: str, through: date | None) -> tuple[RetentionPoint, ...]:
    """Retention by day since exposure, 30 days."""
    return experiments.retention_curve(workspace(), name, days=30, data_through=through)


@st.cache_data(show_spinner=False, max_entries=8)
def defaults(token: str, name: str) -> list[str]:
    """The metrics an experiment opens with: saved ones, else its outcomes."""
    return experiments.default_metrics(workspace(), name)


@st.cache_data(show_spinner=False, max_entries=8)
def segment_columns(token: str, name: str) -> list[str]:
    """The columns results can be broken down by: the experiment's text columns, users columns, event properties."""
    ws = workspace()
    cols = [c for c in ws.columns("users") if c != "user_id"] if ws.has_table("users") else []
    props = [c for c in ws.columns("events") if c not in ("user_id", "timestamp", "event", "value")]
    own = list(experiments.experiment_columns(ws, name).segments)  # an outcomes experiment's text columns
    return own + [c for c in cols + props if c not in own]


@st.cache_data(show_spinner=False, max_entries=8)
def outcome_columns(token: str, name: str) -> OutcomeColumns:
    """The outcome and segment columns that hold values for the experiment."""
    return experiments.experiment_columns(workspace(), name)


@st.cache_data(show_spinner=False, max_entries=8)
def user_columns(token: str) -> list[str]:
    """The users table's attribute columns (post-stratification)."""
    ws = workspace()
    return [c for c in ws.columns("users") if c != "user_id"] if ws.has_table("users") else []


def decode(text: str) -> dict[str, float]:
    """``spec=0.3|spec=0.1`` (the URL form of per-metric settings) → {spec: value}; bad pieces are ignored."""
    out = {}
    for piece in text.split("|"):
        spec, _, value = piece.rpartition("=")
        try:
            out[spec] = float(value)
        except ValueError:
            continue
    return out


def encode(values: dict[str, float]) -> str | None:
    """{spec: value} → the URL form ``spec=0.3|spec=0.1`` (None when all are 0)."""
    return "|".join(f"{k}={v:g}" for k, v in values.items() if v) or None


def parse_date(text: str) -> date | None:
    """A YYYY-MM-DD date from the URL, None when absent or malformed."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def reset_for_experiment() -> None:
    """Forget the widgets that belong to the previous experiment."""
    for key in [k for k in st.session_state if k.startswith(("exp_prior:", "exp_margin:"))]:
        st.session_state.pop(key, None)
    for key in ("exp_metrics", "exp_control", "exp_strat", "exp_through", "exp_covariate"):
        st.session_state.pop(key, None)

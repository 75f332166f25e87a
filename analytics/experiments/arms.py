"""An experiment's arms and saved settings: the list of experiments, the control, where the data ends."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime

from analytics.errors import LiftboardError
from analytics.workspace import Workspace


@dataclass(frozen=True)
class ExperimentSummary:
    """One experiment in the assignments table."""

    name: str
    variants: tuple[str, ...]
    users: int
    first_exposure: datetime | None
    last_exposure: datetime | None


@dataclass(frozen=True)
class ExperimentConfig:
    """Settings ``experiment:<name>``: the control arm, the metrics by role and the expected split."""

    control: str | None = None
    primary: str | None = None
    secondary: tuple[str, ...] = ()
    guardrails: tuple[str, ...] = ()
    split: dict[str, float] | None = None
    description: str = ""

    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(m for m in (self.primary, *self.secondary, *self.guardrails) if m)

    def role(self, spec_text: str) -> str:
        if spec_text == self.primary:
            return "primary"
        if spec_text in self.guardrails:
            return "guardrail"
        if spec_text in self.secondary:
            return "secondary"
        return "other"


def list_experiments(ws: Workspace) -> list[ExperimentSummary]:
    """The experiments in the assignments table, by name (empty if there is no assignments table)."""
    if not ws.has_table("assignments"):
        return []
    rows = ws.query(
        f"SELECT experiment, list(DISTINCT variant ORDER BY variant), count(DISTINCT user_id), "  # noqa: S608
        f"min(timestamp), max(timestamp) FROM {ws.table('assignments')} GROUP BY experiment ORDER BY experiment"
    )
    return [ExperimentSummary(r[0], tuple(r[1]), int(r[2]), r[3], r[4]) for r in rows]


def experiment_config(ws: Workspace, name: str) -> ExperimentConfig:
    """The saved settings of an experiment; defaults when none are saved."""
    raw = ws.get_setting(f"experiment:{name}") or {}
    return ExperimentConfig(
        control=raw.get("control"),
        primary=raw.get("primary"),
        secondary=tuple(raw.get("secondary") or ()),
        guardrails=tuple(raw.get("guardrails") or ()),
        split=raw.get("split"),
        description=raw.get("description", ""),
    )


def resolve_arms(ws: Workspace, experiment: str, control: str | None) -> tuple[str, tuple[str, ...]]:
    """The control arm and all arms (control first), or a LiftboardError naming what is wrong."""
    arms = tuple(
        r[0]
        for r in ws.query(
            f"SELECT DISTINCT variant FROM {ws.table('assignments')} WHERE experiment = ? ORDER BY 1",  # noqa: S608
            [experiment],
        )
    )
    if not arms:
        known = [e.name for e in list_experiments(ws)]
        close = difflib.get_close_matches(experiment, known, n=3)
        hint = (
            f"did you mean {', '.join(close)}?"
            if close
            else f"the experiments are: {', '.join(known) or 'none'}."
        )
        raise LiftboardError(f"There is no experiment {experiment!r} in the assignments; {hint}")
    if len(arms) < 2:
        raise LiftboardError(
            f"The experiment {experiment!r} has only one arm ({arms[0]}); a comparison needs at least two."
        )
    ctrl = control or experiment_config(ws, experiment).control
    if ctrl is None:
        ctrl = "control" if "control" in arms else arms[0]
    if ctrl not in arms:
        raise LiftboardError(
            f"The experiment {experiment!r} has no arm {ctrl!r}; its arms are: {', '.join(arms)}."
        )
    return ctrl, (ctrl, *(a for a in arms if a != ctrl))


def data_end(ws: Workspace) -> datetime:
    """Where the data ends: the latest event timestamp (else the latest prediction)."""
    for table in ("events", "predictions"):
        if ws.has_table(table):
            end = ws.scalar(f"SELECT max(timestamp) FROM {ws.table(table)}")  # noqa: S608
            if end is not None:
                return end
    raise LiftboardError("The workspace has no events yet; load an events file first.")


def multi_variant_users(ws: Workspace, experiment: str) -> int:
    return int(
        ws.scalar(
            f"SELECT count(*) FROM (SELECT user_id FROM {ws.table('assignments')} WHERE experiment = ? "  # noqa: S608
            "GROUP BY user_id HAVING count(DISTINCT variant) > 1)",
            [experiment],
        )
    )

"""An experiment's arms and saved settings: the list of experiments, the control, where the data ends."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from analytics.errors import LiftboardError
from analytics.workspace import Workspace, experiment_names, exposure_ctes


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


#: Arm names taken for the control when none is saved, compared case-insensitively; the first that matches
#: wins (tools name it `control`, `Control`, `baseline`, `original`, `default`, `off`, `A` or `0`).
CONTROL_NAMES: tuple[str, ...] = ("control", "baseline", "original", "default", "off", "a", "0")


class ControlReason(StrEnum):
    """Why an arm is the control: the reader of a lift must be able to tell a choice from a guess."""

    CHOSEN = "chosen"  # named by the user (--control, the page's control box)
    SAVED = "saved"  # the experiment's saved setting
    NAMED = "named"  # recognised by its name (CONTROL_NAMES)
    GUESSED = "guessed"  # none of the above: the first arm by name


_BECAUSE = {
    ControlReason.CHOSEN: "chosen",
    ControlReason.SAVED: "saved in the experiment's settings",
    ControlReason.NAMED: "recognised by its name",
    ControlReason.GUESSED: "no arm is named like a control, so the first arm by name is used: a guess; "
    "set the control in the experiment's settings or pass --control",
}


@dataclass(frozen=True)
class ControlChoice:
    """The control arm and why it is the control."""

    arm: str
    reason: ControlReason

    @property
    def because(self) -> str:
        return _BECAUSE[self.reason]

    def sentence(self) -> str:
        return f"Control: {self.arm} ({self.because})."


def choose_control(
    arms: Sequence[str], *, saved: str | None = None, given: str | None = None
) -> ControlChoice:
    """The one rule for the control arm: the user's choice, else the saved one, else a control-like name,
    else the first arm by name (a guess, said so). A given or saved arm that is not among ``arms`` is ignored
    here; ``resolve_arms`` refuses a given one."""
    if not arms:
        raise LiftboardError("An experiment without arms has no control.")
    if given in arms:
        return ControlChoice(str(given), ControlReason.CHOSEN)
    if saved in arms:
        return ControlChoice(str(saved), ControlReason.SAVED)
    by_name = {str(a).strip().lower(): a for a in sorted(arms, reverse=True)}  # the first by name wins ties
    for name in CONTROL_NAMES:
        if name in by_name:
            return ControlChoice(str(by_name[name]), ControlReason.NAMED)
    return ControlChoice(str(sorted(arms)[0]), ControlReason.GUESSED)


def default_control(ws: Workspace, experiment: str, arms: Sequence[str]) -> ControlChoice:
    """The control of an experiment when the user names none (used by the analysis, every page and the CLI)."""
    return choose_control(arms, saved=experiment_config(ws, experiment).control)


def experiment_arms(ws: Workspace, experiment: str) -> tuple[str, ...]:
    """An experiment's arms by name (empty when it is not in the assignments)."""
    return tuple(
        r[0]
        for r in ws.query(
            f"SELECT DISTINCT variant FROM {ws.table('assignments')} WHERE experiment = ? ORDER BY 1",
            [experiment],
            purpose="the list of an experiment's arms",
        )
    )


def resolve_arms(
    ws: Workspace, experiment: str, control: str | None
) -> tuple[ControlChoice, tuple[str, ...]]:
    """The control arm (and why) and all arms (control first), or a LiftboardError naming what is wrong."""
    arms = experiment_arms(ws, experiment)
    if not arms:
        known = experiment_names(ws)
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
    if control is not None and control not in arms:
        raise LiftboardError(
            f"The experiment {experiment!r} has no arm {control!r}; its arms are: {', '.join(arms)}."
        )
    choice = (
        ControlChoice(control, ControlReason.CHOSEN) if control else default_control(ws, experiment, arms)
    )
    return choice, (choice.arm, *(a for a in arms if a != choice.arm))


def data_end(ws: Workspace) -> datetime:
    """Where the data ends: the latest event timestamp (else the latest prediction)."""
    for table in ("events", "predictions"):
        if ws.has_table(table):
            end = ws.scalar(f"SELECT max(timestamp) FROM {ws.table(table)}", purpose="where the data ends")
            if end is not None:
                return end
    raise LiftboardError("The workspace has no events yet; load an events file first.")


def multi_variant_users(ws: Workspace, experiment: str) -> int:
    """Users of the experiment seen in more than one variant (left out of every metric)."""
    return int(
        ws.scalar(
            f"WITH {exposure_ctes(ws)} SELECT count(*) FILTER (WHERE multi) FROM assigned",
            [experiment],
            purpose="the count of users exposed to several variants",
        )
    )

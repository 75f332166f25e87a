"""An experiment's arms and saved settings: the list of experiments, the control, where the data ends."""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from analytics.errors import LiftboardError
from analytics.workspace import Actor, Workspace, experiment_names, exposure_ctes, require


def no_such_experiment(ws: Workspace, experiment: str) -> LiftboardError:
    """The one sentence for an experiment name the workspace does not hold, with the closest names or all."""
    known = experiment_names(ws)
    close = difflib.get_close_matches(experiment, known, n=3)
    hint = (
        f"did you mean {', '.join(close)}?"
        if close
        else f"the experiments are: {', '.join(known) or 'none'}."
    )
    return LiftboardError(f"There is no experiment {experiment!r} in this workspace; {hint}")


@dataclass(frozen=True)
class ExperimentConfig:
    """Settings ``experiment:<name>``: the control arm, the metrics by role and the expected split, and the
    statistics settings saved with the experiment: a proper prior per metric (the sd of the relative lift; none
    is a flat prior), a non-inferiority margin per guardrail (0.01 = "must not get worse than 1%"), and the users
    column to post-stratify by."""

    control: str | None = None
    primary: str | None = None
    secondary: tuple[str, ...] = ()
    guardrails: tuple[str, ...] = ()
    split: dict[str, float] | None = None
    description: str = ""
    priors: dict[str, float] = field(default_factory=dict)
    margins: dict[str, float] = field(default_factory=dict)
    stratify: str | None = None
    data_through: date | None = None  # the date the data are complete through (set on the Experiments page)

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
        priors={str(k): float(v) for k, v in (raw.get("priors") or {}).items()},
        margins={str(k): float(v) for k, v in (raw.get("margins") or {}).items()},
        stratify=raw.get("stratify"),
        data_through=date.fromisoformat(raw["data_through"]) if raw.get("data_through") else None,
    )


def check_prior_sd(spec: str, sd: float) -> float:
    """A prior's sd on the relative lift: a positive share such as 0.3 (±30%)."""
    if not (math.isfinite(sd) and sd > 0.0):
        raise LiftboardError(
            f"The prior of {spec} must be a positive standard deviation of the relative lift, e.g. 0.3 for ±30% "
            f"(got {sd})."
        )
    return float(sd)


def check_margin(spec: str, margin: float) -> float:
    """A non-inferiority margin: how much worse is tolerated, a share ≥ 0 below 1 such as 0.01."""
    if not (math.isfinite(margin) and 0.0 <= margin < 1.0):
        raise LiftboardError(
            f"The guardrail margin of {spec} is how much worse you tolerate as a share of the control, e.g. 0.01 "
            f"for 1% (got {margin})."
        )
    return float(margin)


def save_statistics_settings(
    ws: Workspace,
    name: str,
    *,
    priors: Mapping[str, float] | None = None,
    margins: Mapping[str, float] | None = None,
    stratify: str | None = None,
    actor: Actor | None,
) -> ExperimentConfig:
    """Save an experiment's priors, guardrail margins and stratification column (editors and admins; audited).

    The keys of ``priors`` and ``margins`` are metric specs; each mapping given replaces the saved one, and
    ``stratify`` "" clears the column (None keeps it).
    """
    who = require(actor, "edit_settings").name
    key = f"experiment:{name}"
    before = ws.get_setting(key) or {}
    after = dict(before)
    if priors is not None:
        after["priors"] = {spec: check_prior_sd(spec, float(sd)) for spec, sd in priors.items()}
    if margins is not None:
        after["margins"] = {spec: check_margin(spec, float(m)) for spec, m in margins.items()}
    if stratify is not None:
        after["stratify"] = stratify or None
    with ws.transaction() as cur:
        ws.set_setting(key, after, cur)
        ws.audit(cur, who, "set_experiment_statistics", key, before, after)
    return experiment_config(ws, name)


def save_data_through(
    ws: Workspace, name: str, through: date | None, *, actor: Actor | None
) -> ExperimentConfig:
    """Save the date an experiment's data are complete through (None clears it); editors and admins, audited."""
    who = require(actor, "edit_settings").name
    key = f"experiment:{name}"
    before = ws.get_setting(key) or {}
    after = dict(before) | {"data_through": through.isoformat() if through else None}
    with ws.transaction() as cur:
        ws.set_setting(key, after, cur)
        ws.audit(cur, who, "set_experiment_data_through", key, before, after)
    return experiment_config(ws, name)


#: Arm names taken for the control when none is saved, compared case-insensitively; the first that matches
#: wins (tools name it `control`, `Control`, `baseline`, `original`, `default`, `off`, `A` or `0`).
CONTROL_NAMES: tuple[str, ...] = ("control", "baseline", "original", "default", "off", "a", "0")


class ControlReason(StrEnum):
    """Why an arm is the control: the reader of a lift must be able to tell a choice from a guess."""

    CHOSEN = "chosen"  # named by the user (--control, the page's control box)
    SAVED = "saved"  # the experiment's saved setting
    NAMED = "named"  # recognised by its name (CONTROL_NAMES)
    GUESSED = "guessed"  # none of the above: the first arm by name
    FIRST = "first"  # arms typed by hand (the quick comparison): none named like a control, the first typed


_BECAUSE = {
    ControlReason.CHOSEN: "chosen",
    ControlReason.SAVED: "saved in the experiment's settings",
    ControlReason.NAMED: "recognised by its name",
    ControlReason.GUESSED: "no arm is named like a control, so the first arm by name is used: a guess",
    ControlReason.FIRST: "no arm is named like a control, so the first arm typed is",
}


@dataclass(frozen=True)
class ControlChoice:
    """The control arm and why it is the control."""

    arm: str
    reason: ControlReason

    @property
    def because(self) -> str:
        return _BECAUSE[self.reason]

    def because_with(self, fix: str) -> str:
        """Why, and for a guess how to choose the control where the reader is (``fix``: "pass --control ARM")."""
        return f"{self.because}; {fix}" if self.reason is ControlReason.GUESSED and fix else self.because

    def sentence(self, fix: str = "") -> str:
        return f"Control: {self.arm} ({self.because_with(fix)})."


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


def experiment_arms(ws: Workspace, experiment: str, *, source: str = "assignments") -> tuple[str, ...]:
    """An experiment's arms by name (empty when it is not in the source table: assignments or outcomes)."""
    if not ws.has_table(source):
        return ()
    return tuple(
        r[0]
        for r in ws.query(
            f"SELECT DISTINCT variant FROM {ws.table(source)} WHERE experiment = ? ORDER BY 1",
            [experiment],
            purpose="the list of an experiment's arms",
        )
    )


def resolve_arms(
    ws: Workspace, experiment: str, control: str | None, *, source: str = "assignments"
) -> tuple[ControlChoice, tuple[str, ...]]:
    """The control arm (and why) and all arms (control first), or a LiftboardError naming what is wrong."""
    arms = experiment_arms(ws, experiment, source=source)
    if not arms:
        raise no_such_experiment(ws, experiment)
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


def multi_variant_users(ws: Workspace, experiment: str, *, source: str = "assignments") -> int:
    """Users of the experiment seen in more than one variant (left out of every metric)."""
    return int(
        ws.scalar(
            f"WITH {exposure_ctes(ws, table=source)} SELECT count(*) FILTER (WHERE multi) FROM assigned",
            [experiment],
            purpose="the count of users exposed to several variants",
        )
    )

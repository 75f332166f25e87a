"""Per-arm totals as the engine's sufficient statistics: a totals table, or a quick comparison typed by hand.

Users and conversions per arm, or users, mean and standard deviation, are exactly the n, Σy and Σy² the
statistics need, so a totals experiment is analysed by the same comparison, SRM check, Holm adjustment,
sequential intervals, Bayesian view and power as per-user data. What needs the users themselves (segments,
CUPED, winsorizing, cumulative curves) is refused in one plain sentence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from analytics import stats
from analytics.errors import LiftboardError
from analytics.experiments.arms import (
    ControlChoice,
    ControlReason,
    ExperimentConfig,
    choose_control,
    default_control,
)
from analytics.experiments.compare import compare_metric
from analytics.experiments.results import ExperimentResult
from analytics.experiments.spec import MetricSpec, parse_metric
from analytics.stats import Moments
from analytics.workspace import ArmTotals, Workspace, check_arms, is_money, quote_ident, totals_columns

#: What per-arm totals cannot give, and what the per-user rows would be for: one sentence per refusal.
PURPOSES = {
    "segments": "break results down by a column",
    "CUPED": "use a pre-period column as CUPED's covariate",
    "Winsorizing": "cap outlying users",
    "A cumulative curve": "follow the lift over time",
    "Post-stratification": "adjust for a column known before exposure",
}


def needs_rows(what: str, experiment: str) -> LiftboardError:
    """The refusal of a method that per-arm totals cannot support, and what to load instead."""
    verb = "need" if what.endswith("s") else "needs"
    return LiftboardError(
        f"{what[0].upper() + what[1:]} {verb} per-user rows, and {experiment!r} has only per-arm totals (users, "
        f"counts, means and standard deviations); load the per-user file as outcomes (--kind outcomes) to "
        f"{PURPOSES[what]}."
    )


def arm_moments(arm: ArmTotals, outcome: str) -> Moments:
    """n, Σy, Σy² of an outcome: (users, count, count) or (n, n·mean, (n−1)·sd² + n·mean²)."""
    n = arm.users
    if outcome in arm.counts:
        c = float(arm.counts[outcome])
        return Moments(n, c, c)
    mean, sd = arm.means[outcome]
    return Moments(n, n * mean, (n - 1) * sd * sd + n * mean * mean)


def outcome_spec(spec: MetricSpec, arms: Sequence[ArmTotals], experiment: str, money: bool) -> MetricSpec:
    """The outcome spec resolved against the totals: a count is a proportion, a mean/sd pair a mean."""
    if spec.kind != "outcome":
        raise LiftboardError(
            f"{experiment} has only per-arm totals, so event metrics such as {spec.text} cannot be computed; "
            "use outcome:NAME with one of its outcomes: " + ", ".join(_names(arms)) + "."
        )
    name = spec.column or ""
    if all(name in a.counts for a in arms):
        return _resolved(spec, binary=True, money=money)
    if all(name in a.means for a in arms):
        return _resolved(spec, binary=False, money=money)
    raise LiftboardError(
        f"{experiment} has no outcome {name!r} in every arm; its outcomes are: {', '.join(_names(arms))}."
    )


def _resolved(spec: MetricSpec, *, binary: bool, money: bool) -> MetricSpec:
    from dataclasses import replace

    return replace(spec, binary=binary, money=money)


def _names(arms: Sequence[ArmTotals]) -> list[str]:
    first = arms[0]
    return [*first.counts, *first.means] or ["none"]


def read_totals(ws: Workspace, experiment: str) -> tuple[ArmTotals, ...]:
    """The arms of a totals experiment with their users, counts and (mean, sd) pairs (one small query)."""
    layout = totals_columns(ws.columns("totals"))
    q = quote_ident
    picks = [f"CAST({q(c)} AS DOUBLE)" for c in layout.counts.values()]
    for m, sd in layout.means.values():
        picks += [f"CAST({q(m)} AS DOUBLE)", f"CAST({q(sd)} AS DOUBLE)"]
    rows = ws.query(
        f"SELECT variant, users{''.join(', ' + p for p in picks)} FROM {ws.table('totals')} "
        "WHERE experiment = ? ORDER BY variant",
        [experiment],
        purpose="the per-arm totals",
    )
    k = len(layout.counts)
    arms = [
        (
            str(variant),
            int(users),
            dict(zip(layout.counts, vals[:k], strict=True)),
            {o: (vals[k + 2 * i], vals[k + 2 * i + 1]) for i, o in enumerate(layout.means)},
        )
        for variant, users, *vals in rows
    ]
    # Totals files of several experiments share one table: an outcome blank in every arm of this experiment is
    # another experiment's column; blank in some arms only, it is missing data, said in one sentence.
    for outcome in (*layout.counts, *layout.means):
        blank = [a[0] for a in arms if _blank(a[2].get(outcome, a[3].get(outcome)))]
        if len(blank) == len(arms):
            for a in arms:
                a[2].pop(outcome, None)
                a[3].pop(outcome, None)
        elif blank:
            raise LiftboardError(
                f"The totals of {experiment!r} have no {outcome} for {', '.join(blank)}; load the file again with "
                "every outcome filled in for every arm."
            )
    return tuple(ArmTotals(*a) for a in arms)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, tuple) and any(v is None for v in value))


def analyze_totals(
    ws: Workspace,
    experiment: str,
    metrics: Sequence[str],
    *,
    control: str | None,
    alpha: float,
    sequential: bool,
    config: ExperimentConfig,
    refused: Mapping[str, object],
) -> ExperimentResult:
    """Analyse a totals experiment; what needs per-user rows (``refused`` names what was asked) is refused."""
    for what, asked in refused.items():
        if asked:
            raise needs_rows(what, experiment)
    arms = read_totals(ws, experiment)
    names = [a.name for a in arms]
    if control is not None and control not in names:
        raise LiftboardError(
            f"The experiment {experiment!r} has no arm {control!r}; its arms are: {', '.join(names)}."
        )
    choice = (
        ControlChoice(control, ControlReason.CHOSEN) if control else default_control(ws, experiment, names)
    )
    outcomes = _names(arms)
    return analyze_arms(
        experiment, arms, metrics, control=choice.arm, control_reason=choice.reason, alpha=alpha,
        sequential=sequential, split=config.split, roles={m: config.role(m) for m in metrics},
        money={o: is_money(ws, "totals", o) for o in outcomes},
    )  # fmt: skip


def analyze_arms(
    experiment: str,
    arms: Sequence[ArmTotals],
    metrics: Sequence[str],
    *,
    control: str,
    control_reason: ControlReason = ControlReason.CHOSEN,
    alpha: float = 0.05,
    sequential: bool = False,
    split: Mapping[str, float] | None = None,
    roles: Mapping[str, str] | None = None,
    money: Mapping[str, bool] | None = None,
    source: str = "totals",
) -> ExperimentResult:
    """Compare every arm with the control on outcomes given as per-arm totals (Holm across arms)."""
    check_arms(arms, experiment)
    by_name = {a.name: a for a in arms}
    if control not in by_name:
        raise LiftboardError(f"{experiment} has no arm {control!r}; its arms are: {', '.join(by_name)}.")
    order = (control, *(a.name for a in arms if a.name != control))
    specs: list[MetricSpec] = []
    for text in metrics:
        spec = outcome_spec(parse_metric(text), arms, experiment, (money or {}).get(_col(text), False))
        if spec not in specs:
            specs.append(spec)
    if not specs:
        raise LiftboardError("Choose at least one metric, e.g. outcome:" + _names(arms)[0] + ".")
    exposed = {a: by_name[a].users for a in order}
    wanted = dict(split) if split and set(split) == set(order) else None
    results = tuple(
        compare_metric(
            s,
            {a: arm_moments(by_name[a], s.column or "") for a in order},
            control,
            role=(roles or {}).get(s.text, (roles or {}).get(f"outcome:{s.column}", "other")),
            alpha=alpha,
            sequential=sequential,
            exposed=exposed,
        )
        for s in specs
    )
    srm = stats.srm(exposed, wanted)
    return ExperimentResult(
        experiment=experiment, control=control, control_reason=control_reason, variants=order, exposed=exposed,
        multi_variant_users=0,
        srm=srm, metrics=results, alpha=alpha, cuped=False, sequential=sequential, winsorize=None,
        data_end=None, warnings=("srm",) if not srm.ok else (), source=source,
    )  # fmt: skip


def _col(text: str) -> str:
    return text.split(":", 1)[1].strip() if ":" in text else text


#: The experiment name of a comparison typed by hand on the Experiments page.
QUICK = "Quick comparison"


def quick_comparison(
    arms: Sequence[ArmTotals],
    *,
    outcome: str,
    alpha: float = 0.05,
    sequential: bool = False,
    money: bool = False,
) -> ExperimentResult:
    """A comparison typed by hand, no file needed: the arm named like a control (the one rule of arms.py), else
    the first arm typed, is the control; the others are compared with it on one outcome (users and conversions,
    or users, mean and standard deviation per arm)."""
    arms = [a for a in arms if a.name.strip() or a.users]
    if not arms:
        raise LiftboardError("Type at least two arms: a name and users for each.")
    named = choose_control([a.name for a in arms])
    choice = (
        named if named.reason is ControlReason.NAMED else ControlChoice(arms[0].name, ControlReason.FIRST)
    )
    return analyze_arms(
        QUICK, arms, [f"outcome:{outcome}"], control=choice.arm, control_reason=choice.reason, alpha=alpha,
        sequential=sequential, money={outcome: money}, source="quick",
    )  # fmt: skip

"""Experiment analysis: per-variant metrics from one SQL pass, compared against the control arm."""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from analytics import stats
from analytics.errors import LiftboardError
from analytics.experiment_curves import cumulative_lift, retention_curve  # noqa: F401  (part of this API)
from analytics.metrics import MetricSpec, Segment, moments_sql, parse_metrics, resolve_segment
from analytics.stats import Comparison, Moments, SrmResult
from analytics.store import Workspace


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


@dataclass(frozen=True)
class ArmStats:
    """One arm on one metric: users counted (window elapsed), mean and per-user variance, raw moments."""

    name: str
    users: int
    mean: float
    variance: float
    moments: Moments


@dataclass(frozen=True)
class MetricResult:
    """One metric: per-arm statistics and each variant compared against the control."""

    spec: MetricSpec
    role: str
    variants: tuple[ArmStats, ...]
    comparisons: tuple[Comparison, ...]
    incomplete: int  # exposed users left out because their window had not elapsed when the data ends
    cuped_theta: float | None = None
    variance_reduction: float | None = None
    note: str | None = None  # e.g. arms left out because the metric does not apply to them

    def arm(self, name: str) -> ArmStats:
        """An arm's statistics; an arm the metric does not apply to (see ``note``) falls back to the baseline."""
        found = next((a for a in self.variants if a.name == name), None)
        if found is None and self.baseline is not None:
            found = next(a for a in self.variants if a.name == self.baseline)
        if found is None:
            raise LiftboardError(f"{self.spec.text} has no arm {name!r}.")
        return found

    def users(self, name: str) -> int | None:
        """Users counted in an arm, None where the metric does not apply."""
        return next((a.users for a in self.variants if a.name == name), None)

    @property
    def baseline(self) -> str | None:
        """The arm the comparisons are against (the control, unless the metric does not apply to it)."""
        return self.comparisons[0].baseline if self.comparisons else None

    def comparison(self, variant: str) -> Comparison:
        return next(c for c in self.comparisons if c.variant == variant)


@dataclass(frozen=True)
class SegmentResult:
    """The metrics within one segment value (p-values Benjamini–Hochberg adjusted across segments)."""

    value: str
    exposed: dict[str, int]
    metrics: tuple[MetricResult, ...]


@dataclass(frozen=True)
class ExperimentResult:
    """Everything the page, the CLI, the report and the tests read about one analysis."""

    experiment: str
    control: str
    variants: tuple[str, ...]  # the control first
    exposed: dict[str, int]
    multi_variant_users: int
    srm: SrmResult
    metrics: tuple[MetricResult, ...]
    alpha: float
    cuped: bool
    sequential: bool
    winsorize: float | None
    data_end: datetime
    segment: str | None = None
    segments: tuple[SegmentResult, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    def metric(self, spec: str) -> MetricResult:
        return next(m for m in self.metrics if m.spec.text == spec or m.spec == _parse(spec))

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of DESIGN.md's `analyze --json` (plus extra fields)."""
        return _clean(
            {
                "experiment": self.experiment,
                "control": self.control,
                "srm": {"p_value": self.srm.p_value, "ok": self.srm.ok, "chi2": self.srm.chi2,
                        "observed": self.srm.observed, "expected": self.srm.expected},
                "metrics": [_metric_dict(m) for m in self.metrics],
                "alpha": self.alpha,
                "cuped": self.cuped,
                "sequential": self.sequential,
                "winsorize": self.winsorize,
                "data_end": self.data_end.isoformat(),
                "multi_variant_users": self.multi_variant_users,
                "segment": self.segment,
                "segments": [
                    {"value": s.value, "exposed": s.exposed, "metrics": [_metric_dict(m) for m in s.metrics]}
                    for s in self.segments
                ],
                "warnings": list(self.warnings),
            }
        )  # fmt: skip


def _parse(spec: str) -> MetricSpec:
    from analytics.metrics import parse_metric

    return parse_metric(spec)


def _metric_dict(m: MetricResult) -> dict[str, Any]:
    return {
        "spec": m.spec.text,
        "label": m.spec.label,
        "role": m.role,
        "aggregate": m.spec.aggregate,
        "variants": [
            {"name": a.name, "users": a.users, "mean": a.mean, "variance": a.variance} for a in m.variants
        ],
        "comparisons": [c.as_dict() for c in m.comparisons],
        "incomplete_users": m.incomplete,
        "cuped_theta": m.cuped_theta,
        "variance_reduction": m.variance_reduction,
        "note": m.note,
    }


def _clean(obj: Any) -> Any:
    """NaN and infinities become null so the JSON is strict."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


# -- experiments and their settings ----------------------------------------------------------------


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


# -- the analysis ----------------------------------------------------------------------------------


def run_moments(
    ws: Workspace,
    experiment: str,
    specs: Sequence[MetricSpec],
    end: datetime,
    *,
    cuped: bool = False,
    winsorize: float | None = None,
    segment: Segment | None = None,
) -> dict[str, dict[str, tuple[int, list[Moments]]]]:
    """segment value → variant → (exposed users, per-metric Moments), from one SQL statement."""
    level = stats.winsorize_caps(winsorize)[1] if winsorize is not None else None
    q = moments_sql(ws, experiment, specs, end, cuped=cuped, winsorize=level, segment=segment)
    out: dict[str, dict[str, tuple[int, list[Moments]]]] = {}
    for row in ws.query(q.sql, list(q.params)):
        seg, variant, exposed = row[0], row[1], int(row[2])
        ms = []
        for i in range(q.n_metrics):
            n, *sums = row[3 + 6 * i : 9 + 6 * i]
            ms.append(Moments(int(n or 0), *(float(v or 0.0) for v in sums)))
        out.setdefault(seg, {})[variant] = (exposed, ms)
    return out


def _total(by_seg: dict[str, dict[str, tuple[int, list[Moments]]]], arms: Sequence[str], k: int):
    exposed = {a: 0 for a in arms}
    moments: list[dict[str, Moments]] = [{a: Moments(0, 0.0, 0.0) for a in arms} for _ in range(k)]
    for rows in by_seg.values():
        for a, (e, ms) in rows.items():
            if a not in exposed:
                continue
            exposed[a] += e
            for i, m in enumerate(ms):
                moments[i][a] = moments[i][a] + m
    return exposed, moments


def compare_metric(
    spec: MetricSpec,
    arms: dict[str, Moments],
    control: str,
    *,
    role: str = "other",
    alpha: float = 0.05,
    cuped: bool = False,
    sequential: bool = False,
    exposed: dict[str, int] | None = None,
    adjust: str | None = "holm",
) -> MetricResult:
    """Compare every arm with the control on one metric (Holm across arms unless ``adjust`` is None)."""
    for a, m in arms.items():
        if m.n < 2:
            raise LiftboardError(
                f"Arm {a!r} has {m.n} users whose {spec.label} window has fully elapsed before the data ends; "
                "use a shorter window or wait for more data."
            )
    theta = reduction = None
    kind = spec.aggregate
    note = None
    incomplete = sum(exposed.values()) - sum(m.n for m in arms.values()) if exposed else 0
    if kind == "ratio":
        # A ratio has no value in an arm whose denominator is zero (e.g. feedback rates in a control arm that
        # shows no AI output): leave such arms out and compare the others, against the first of them if need be.
        empty = [a for a, m in arms.items() if m.sum_x == 0]
        if empty:
            arms = {a: m for a, m in arms.items() if a not in empty}
            if len(arms) < 2:
                raise LiftboardError(
                    f"{spec.text}: only {', '.join(arms) or 'no arm'} has any {spec.label} denominator "
                    f"(none in {', '.join(empty)}); there is nothing to compare."
                )
            old_control, control = control, control if control in arms else next(iter(arms))
            note = (
                f"{spec.label} does not apply to {', '.join(empty)} (no denominator there, e.g. no AI output to "
                f"give feedback on)"
                + (f"; the other arms are compared against {control}." if control != old_control else ".")
            )
    used = arms
    if cuped and kind != "ratio":
        used, theta, reduction = stats.cuped(arms)
    try:
        comps = [
            stats.compare(
                used[control], used[v], names=(control, v), alpha=alpha, kind=kind, sequential=sequential
            )
            for v in arms
            if v != control
        ]
    except LiftboardError as exc:
        raise LiftboardError(f"{spec.text}: {exc}") from None
    if adjust and len(comps) > 1:
        comps = stats.adjust(comps, adjust, alpha)
    ratio, proportion = kind == "ratio", kind == "proportion"
    arm_stats = []
    for a, m in arms.items():
        mean, var = stats.arm_mean_var(m, ratio=ratio, proportion=proportion)
        arm_stats.append(ArmStats(a, m.n, mean, var, m))
    return MetricResult(spec, role, tuple(arm_stats), tuple(comps), incomplete, theta, reduction, note)


def analyze(
    ws: Workspace,
    experiment: str,
    metrics: Sequence[str],
    *,
    control: str | None = None,
    alpha: float = 0.05,
    cuped: bool = False,
    sequential: bool = False,
    winsorize: float | None = None,
    segment: str | None = None,
) -> ExperimentResult:
    """Analyse an experiment on the given metric specs; every user error is a LiftboardError."""
    if not 0.0 < alpha < 1.0:
        raise LiftboardError(f"The significance level α must be between 0 and 1, e.g. 0.05 (got {alpha}).")
    ctrl, arms = resolve_arms(ws, experiment, control)
    specs = parse_metrics(ws, metrics)
    seg = resolve_segment(ws, segment) if segment else None
    end = data_end(ws)
    config = experiment_config(ws, experiment)
    by_seg = run_moments(ws, experiment, specs, end, cuped=cuped, winsorize=winsorize, segment=seg)
    exposed, moments = _total(by_seg, arms, len(specs))
    empty = [a for a in arms if exposed[a] == 0]
    if empty:
        raise LiftboardError(
            f"Arm {empty[0]!r} of {experiment!r} has no users left after removing users exposed to several "
            "variants; check the assignments."
        )
    for spec, arm_moments in zip(specs, moments, strict=True):
        if all(m.n == 0 for m in arm_moments.values()):
            raise LiftboardError(
                f"No exposed user's {spec.label} window has fully elapsed before the data ends ({end:%Y-%m-%d}); "
                "use a shorter window."
            )
    split = config.split if config.split and set(config.split) == set(arms) else None
    srm_result = stats.srm(exposed, split)
    multi = _multi_variant_users(ws, experiment)
    results = tuple(
        compare_metric(s, m, ctrl, role=config.role(s.text), alpha=alpha, cuped=cuped, sequential=sequential,
                       exposed=exposed)
        for s, m in zip(specs, moments, strict=True)
    )  # fmt: skip
    warnings: list[str] = []
    if not srm_result.ok:
        warnings.append("srm")
    if multi:
        warnings.append(f"{multi} users saw more than one variant and are excluded.")
    segments = _segments(by_seg, specs, arms, ctrl, config, alpha, cuped, sequential) if seg else ()
    if seg:
        warnings.append(
            "Segment results are Benjamini–Hochberg adjusted across segments; treat them as leads to "
            "confirm, not findings."
        )
    return ExperimentResult(
        experiment=experiment, control=ctrl, variants=arms, exposed=exposed, multi_variant_users=multi,
        srm=srm_result, metrics=results, alpha=alpha, cuped=cuped, sequential=sequential,
        winsorize=winsorize, data_end=end, segment=segment, segments=segments, warnings=tuple(warnings),
    )  # fmt: skip


def _multi_variant_users(ws: Workspace, experiment: str) -> int:
    return int(
        ws.scalar(
            f"SELECT count(*) FROM (SELECT user_id FROM {ws.table('assignments')} WHERE experiment = ? "  # noqa: S608
            "GROUP BY user_id HAVING count(DISTINCT variant) > 1)",
            [experiment],
        )
    )


def _segments(by_seg, specs, arms, ctrl, config, alpha, cuped, sequential) -> tuple[SegmentResult, ...]:
    """Per segment value, the metrics compared; BH across segments (and arms) per metric."""
    kept: list[tuple[str, dict[str, int], list[MetricResult]]] = []
    for value, rows in sorted(by_seg.items()):
        if not all(a in rows for a in arms):
            continue
        exposed = {a: rows[a][0] for a in arms}
        per_metric = []
        for i, s in enumerate(specs):
            ms = {a: rows[a][1][i] for a in arms}
            if any(m.n < 2 for m in ms.values()):
                per_metric = []
                break
            try:
                per_metric.append(
                    compare_metric(s, ms, ctrl, role=config.role(s.text), alpha=alpha, cuped=cuped,
                                   sequential=sequential, exposed=exposed, adjust=None)
                )  # fmt: skip
            except LiftboardError:
                per_metric = []
                break
        if per_metric:
            kept.append((value, exposed, per_metric))
    for i in range(len(specs)):
        family = [c for _, _, ms in kept for c in ms[i].comparisons]
        if not family:
            continue
        adjusted = iter(stats.adjust(family, "bh", alpha))
        for _, _, ms in kept:
            m = ms[i]
            ms[i] = MetricResult(m.spec, m.role, m.variants, tuple(next(adjusted) for _ in m.comparisons),
                                 m.incomplete, m.cuped_theta, m.variance_reduction)  # fmt: skip
    return tuple(SegmentResult(v, e, tuple(ms)) for v, e, ms in kept)


# -- power -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PowerInputs:
    """What the power calculator starts from: the control's mean and variance, today's users per arm."""

    baseline_mean: float
    baseline_var: float
    n_per_arm: int
    mde_now: float | None  # relative MDE at today's n (power 0.8), None if it cannot be computed


def power_inputs(
    metric: MetricResult, control: str, *, alpha: float = 0.05, power: float = 0.8
) -> PowerInputs:
    ctrl = metric.arm(metric.baseline or control)
    n = min(a.users for a in metric.variants)
    try:
        now = stats.mde(ctrl.mean, ctrl.variance, n, alpha=alpha, power=power)
    except LiftboardError:
        now = None
    return PowerInputs(ctrl.mean, ctrl.variance, n, now)

"""Experiment analysis: per-variant metrics from one SQL pass, compared against the control arm."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from analytics import stats
from analytics.errors import LiftboardError
from analytics.experiments.arms import data_end, experiment_config, multi_variant_users, resolve_arms
from analytics.experiments.results import ArmStats, ExperimentResult, MetricResult, SegmentResult
from analytics.experiments.spec import MetricSpec, parse_metrics
from analytics.experiments.sql import Segment, moments_sql, resolve_segment
from analytics.stats import Comparison, Moments
from analytics.workspace import Workspace


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
    for row in ws.query(q.sql, list(q.params), purpose="the per-variant metric sums"):
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

    def against_control(moments: dict[str, Moments]) -> list[Comparison]:
        return [
            stats.compare(
                moments[control],
                moments[v],
                names=(control, v),
                alpha=alpha,
                kind=kind,
                sequential=sequential,
            )
            for v in arms
            if v != control
        ]

    try:
        comps = against_control(used)
        # The same comparison without the covariate, from the same sums (no second query): how much CUPED
        # narrowed each interval is then a fact of the result, not a second analysis run by the page.
        plain_ci = {c.variant: c.abs_ci for c in against_control(arms)} if used is not arms else None
    except LiftboardError as exc:
        raise LiftboardError(f"{spec.text}: {exc}") from None
    if adjust and len(comps) > 1:
        comps = stats.adjust(comps, adjust, alpha)
    ratio, proportion = kind == "ratio", kind == "proportion"
    arm_stats = []
    for a, m in arms.items():
        mean, var = stats.arm_mean_var(m, ratio=ratio, proportion=proportion)
        arm_stats.append(ArmStats(a, m.n, mean, var, m))
    return MetricResult(
        spec, role, tuple(arm_stats), tuple(comps), incomplete, theta, reduction, note, plain_ci
    )


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
    choice, arms = resolve_arms(ws, experiment, control)
    ctrl = choice.arm
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
    multi = multi_variant_users(ws, experiment)
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
        experiment=experiment, control=ctrl, control_reason=choice.reason, variants=arms, exposed=exposed, multi_variant_users=multi,
        srm=srm_result, metrics=results, alpha=alpha, cuped=cuped, sequential=sequential,
        winsorize=winsorize, data_end=end, segment=segment, segments=segments, warnings=tuple(warnings),
    )  # fmt: skip


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

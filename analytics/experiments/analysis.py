"""Experiment analysis: per-variant metrics from one SQL pass, compared against the control arm."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from analytics import stats
from analytics.errors import LiftboardError
from analytics.experiments.arms import (
    check_margin,
    check_prior_sd,
    data_end,
    experiment_config,
    multi_variant_users,
    resolve_arms,
)
from analytics.experiments.quantile_sql import run_quantiles
from analytics.experiments.results import ArmStats, ExperimentResult, MetricResult, SegmentResult
from analytics.experiments.spec import MetricSpec, parse_metrics
from analytics.experiments.sql import Segment, moments_sql, resolve_segment, resolve_stratum
from analytics.stats import Estimand, GaussianPrior, Moments, QuantileMoments
from analytics.workspace import Workspace

#: (segment value, stratum value) → variant → (exposed users, per-metric Moments)
Cells = dict[tuple[str, str], dict[str, tuple[int, list[Moments]]]]
#: stratum value → arm → Moments of one metric
Strata = dict[str, dict[str, Moments]]
_ZERO = Moments(0, 0.0, 0.0)


def run_moments(
    ws: Workspace,
    experiment: str,
    specs: Sequence[MetricSpec],
    end: datetime,
    *,
    cuped: bool = False,
    winsorize: float | None = None,
    segment: Segment | None = None,
    stratum: Segment | None = None,
) -> Cells:
    """(segment, stratum) → variant → (exposed users, per-metric Moments), from one SQL statement."""
    level = stats.winsorize_caps(winsorize)[1] if winsorize is not None else None
    q = moments_sql(
        ws, experiment, specs, end, cuped=cuped, winsorize=level, segment=segment, stratum=stratum
    )
    out: Cells = {}
    for row in ws.query(q.sql, list(q.params), purpose="the per-variant metric sums"):
        seg, strat, variant, exposed = row[0], row[1], row[2], int(row[3])
        ms = []
        for i in range(q.n_metrics):
            n, *sums = row[4 + 6 * i : 10 + 6 * i]
            ms.append(Moments(int(n or 0), *(float(v or 0.0) for v in sums)))
        out.setdefault((seg, strat), {})[variant] = (exposed, ms)
    return out


def _total(
    cells: Cells, arms: Sequence[str], k: int
) -> tuple[dict[str, int], list[dict[str, Moments]], list[Strata]]:
    """Exposed users per arm, per metric the arms' Moments, and per metric the strata's."""
    exposed = {a: 0 for a in arms}
    moments: list[dict[str, Moments]] = [{a: _ZERO for a in arms} for _ in range(k)]
    strata: list[Strata] = [{} for _ in range(k)]
    for (_, strat), rows in cells.items():
        for a, (e, ms) in rows.items():
            if a not in exposed:
                continue
            exposed[a] += e
            for i, m in enumerate(ms):
                moments[i][a] = moments[i][a] + m
                cell = strata[i].setdefault(strat, {})
                cell[a] = cell.get(a, _ZERO) + m
    return exposed, moments, strata


def _ratio_arms(spec: MetricSpec, arms: Mapping[str, Moments], control: str) -> tuple[dict, str, str | None]:
    """A ratio has no value in an arm whose denominator is zero (e.g. feedback rates in a control arm that shows
    no AI output): leave such arms out and compare the others, against the first of them if need be."""
    empty = [a for a, m in arms.items() if m.sum_x == 0]
    if not empty:
        return dict(arms), control, None
    kept = {a: m for a, m in arms.items() if a not in empty}
    if len(kept) < 2:
        raise LiftboardError(
            f"{spec.text}: only {', '.join(kept) or 'no arm'} has any {spec.label} denominator "
            f"(none in {', '.join(empty)}); there is nothing to compare."
        )
    new_control = control if control in kept else next(iter(kept))
    note = (
        f"{spec.label} does not apply to {', '.join(empty)} (no denominator there, e.g. no AI output to give "
        "feedback on)"
        + (f"; the other arms are compared against {new_control}." if new_control != control else ".")
    )
    return kept, new_control, note


def compare_metric(
    spec: MetricSpec,
    arms: Mapping[str, Moments | QuantileMoments],
    control: str,
    *,
    role: str = "other",
    alpha: float = 0.05,
    cuped: bool = False,
    sequential: bool = False,
    exposed: dict[str, int] | None = None,
    adjust: str | None = "holm",
    prior_sd: float | None = None,
    strata: Strata | None = None,
    stratified_by: str | None = None,
    estimand: Estimand = "relative",
    margin: float | None = None,
) -> MetricResult:
    """Compare every arm with the control on one metric (Holm across arms unless ``adjust`` is None).

    ``strata`` (stratum → arm → Moments) post-stratifies the comparisons; ``margin`` adds a non-inferiority
    check per variant; ``prior_sd`` is a proper prior on the relative lift for the Bayesian view.
    """
    quantile = spec.aggregate == "quantile"
    for a, m in arms.items():
        if not quantile and m.n < 2:
            raise LiftboardError(
                f"Arm {a!r} has {m.n} users whose {spec.label} window has fully elapsed before the data ends; "
                "use a shorter window or wait for more data."
            )
    kind = spec.aggregate
    note = None
    incomplete = sum(exposed.values()) - sum(m.n for m in arms.values()) if exposed and not quantile else 0
    if kind == "ratio":
        arms, control, note = _ratio_arms(spec, arms, control)  # type: ignore[arg-type]
    prior = GaussianPrior(sd=prior_sd) if prior_sd else None
    use_cuped = cuped and kind in ("mean", "proportion")
    comps = []
    for v in arms:
        if v == control:
            continue
        cells = None
        if strata and not quantile:
            cells = [(s.get(control, _ZERO), s.get(v, _ZERO)) for s in strata.values()]
        comps.append(
            stats.compare(
                arms[control], arms[v], names=(control, v), alpha=alpha, kind=kind, sequential=sequential,  # type: ignore[arg-type]
                lower_is_better=spec.lower_is_better, prior=prior, cuped=use_cuped, strata=cells,
                estimand=estimand, metric=spec.text,
            )
        )  # fmt: skip
    plain_ci = None
    if (use_cuped or (strata and not quantile)) and comps:
        # The same comparisons without the covariate and the strata, from the same sums (no second query): how
        # much they narrowed each interval is a fact of the result, not a second analysis run by the page.
        plain_ci = {
            v: stats.compare(arms[control], arms[v], names=(control, v), alpha=alpha, kind=kind,  # type: ignore[arg-type]
                             sequential=sequential, bayesian=False, metric=spec.text).abs_ci
            for v in arms
            if v != control
        }  # fmt: skip
    if adjust and len(comps) > 1:
        comps = stats.adjust(comps, adjust, alpha)
    checks: tuple[stats.GuardrailCheck, ...] = ()
    if margin is not None:
        judged = [c for c in comps if c.rel_lift is not None]
        checks = tuple(stats.noninferiority(c, margin) for c in judged)
        if len(judged) < len(comps):
            # A relative margin means nothing against a control mean of 0 (e.g. no AI cost in the control).
            skipped = (
                f"the {margin * 100:g}% guardrail margin cannot be checked against {control}, whose "
                f"{spec.label} is 0 (a relative margin needs a non-zero control)"
            )
            note = f"{note[:-1]}; {skipped}." if note else f"{skipped}."
    arm_stats = [_arm_stats(a, m, kind) for a, m in arms.items()]
    first = comps[0] if comps else None
    return MetricResult(
        spec, role, tuple(arm_stats), tuple(comps), incomplete,
        cuped_theta=first.theta if first and use_cuped else None,
        variance_reduction=first.variance_reduction if first else None,
        note=note, margin=margin, guardrail_checks=checks, prior_sd=prior_sd,
        stratified_by=stratified_by if strata and not quantile else None, ci_without_cuped=plain_ci,
    )  # fmt: skip


def _arm_stats(name: str, m: Moments | QuantileMoments, kind: str) -> ArmStats:
    if isinstance(m, QuantileMoments):
        users = m.clusters.n_clusters if m.clusters else m.n
        return ArmStats(name, users, m.estimate, m.variance(), m)
    mean, var = stats.arm_mean_var(m, ratio=kind == "ratio", proportion=kind == "proportion")
    return ArmStats(name, m.n, mean, var, m)


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
    stratify: str | None = None,
    priors: Mapping[str, float] | None = None,
    margins: Mapping[str, float] | None = None,
    estimand: Estimand = "relative",
) -> ExperimentResult:
    """Analyse an experiment on the given metric specs; every user error is a LiftboardError.

    ``stratify``, ``priors`` (spec → prior sd of the relative lift) and ``margins`` (spec → non-inferiority
    margin) default to the experiment's saved settings; pass "" / {} to switch them off.
    """
    if not 0.0 < alpha < 1.0:
        raise LiftboardError(f"The significance level α must be between 0 and 1, e.g. 0.05 (got {alpha}).")
    if estimand not in ("relative", "absolute"):
        raise LiftboardError(f"Significance can follow the relative or the absolute lift, not {estimand!r}.")
    choice, arms = resolve_arms(ws, experiment, control)
    ctrl = choice.arm
    specs = parse_metrics(ws, metrics)
    config = experiment_config(ws, experiment)
    stratify = config.stratify if stratify is None else (stratify or None)
    priors = _by_spec(config.priors if priors is None else priors, specs, check_prior_sd)
    margins = _by_spec(config.margins if margins is None else margins, specs, check_margin)
    seg = resolve_segment(ws, segment) if segment else None
    strat = resolve_stratum(ws, stratify) if stratify else None
    end = data_end(ws)
    plain = [s for s in specs if s.aggregate != "quantile"]
    cells = run_moments(
        ws, experiment, plain, end, cuped=cuped, winsorize=winsorize, segment=seg, stratum=strat
    )
    exposed, moments, strata = _total(cells, arms, len(plain))
    empty = [a for a in arms if exposed[a] == 0]
    if empty:
        raise LiftboardError(
            f"Arm {empty[0]!r} of {experiment!r} has no users left after removing users exposed to several "
            "variants; check the assignments."
        )
    quantile_specs = [s for s in specs if s.aggregate == "quantile"]
    quantiles = {s.text: run_quantiles(ws, experiment, s, end).get("all", {}) for s in quantile_specs}
    per_spec = {s.text: (m, st) for s, m, st in zip(plain, moments, strata, strict=True)}
    settings = dict(alpha=alpha, cuped=cuped, sequential=sequential, estimand=estimand)
    results = []
    for s in specs:
        if s.aggregate == "quantile":
            arm_q, q_ctrl, q_note = _quantile_arms(s, quantiles[s.text], arms, ctrl, end)
            res = compare_metric(s, arm_q, q_ctrl, role=config.role(s.text), exposed=exposed,
                                 prior_sd=priors.get(s.text), margin=margins.get(s.text), **settings)  # fmt: skip
            results.append(replace(res, note=q_note) if q_note and not res.note else res)
            continue
        m, st = per_spec[s.text]
        if all(a.n == 0 for a in m.values()):
            raise LiftboardError(
                f"No exposed user's {s.label} window has fully elapsed before the data ends ({end:%Y-%m-%d}); "
                "use a shorter window."
            )
        results.append(compare_metric(s, m, ctrl, role=config.role(s.text), exposed=exposed,
                                      prior_sd=priors.get(s.text), margin=margins.get(s.text),
                                      strata=st if strat else None, stratified_by=stratify, **settings))  # fmt: skip
    split = config.split if config.split and set(config.split) == set(arms) else None
    srm_result = stats.srm(exposed, split)
    multi = multi_variant_users(ws, experiment)
    warnings: list[str] = []
    if not srm_result.ok:
        warnings.append("srm")
    if multi:
        warnings.append(f"{multi} users saw more than one variant and are excluded.")
    segments: tuple[SegmentResult, ...] = ()
    if seg:
        by_seg = {s.text: run_quantiles(ws, experiment, s, end, segment=seg) for s in quantile_specs}
        segments = _segments(cells, by_seg, specs, plain, arms, ctrl, config, priors, stratify, settings)
        warnings.append(
            "Segment results are Benjamini–Hochberg adjusted across segments; treat them as leads to "
            "confirm, not findings."
        )
    return ExperimentResult(
        experiment=experiment, control=ctrl, control_reason=choice.reason, variants=arms, exposed=exposed,
        multi_variant_users=multi, srm=srm_result, metrics=tuple(results), alpha=alpha, cuped=cuped,
        sequential=sequential,
        winsorize=winsorize, data_end=end, segment=segment, segments=segments, warnings=tuple(warnings),
        stratify=stratify, estimand=estimand,
    )  # fmt: skip


def _by_spec(values: Mapping[str, float], specs: Sequence[MetricSpec], check) -> dict[str, float]:
    """Settings keyed by spec text, matched to the specs analysed in any spelling (``cost`` = ``cost:7d``)."""
    from analytics.experiments.spec import parse_metric

    out: dict[str, float] = {}
    for key, value in values.items():
        try:
            text = parse_metric(key).text
        except LiftboardError:
            continue  # a setting for a metric spelled in a way that no longer parses: not this analysis's
        for s in specs:
            if s.text == text or (s.kind == "quantile" and s.text.split(":")[:3] == text.split(":")[:3]):
                out[s.text] = check(s.text, value)
    return out


def _quantile_arms(spec: MetricSpec, rows: Mapping[str, QuantileMoments], arms: Sequence[str], control: str,
                   end: datetime) -> tuple[dict[str, QuantileMoments], str, str | None]:  # fmt: skip
    """The arms that have values (e.g. no latency in a control arm without AI): compared against the control,
    else against the first of them, with a note; a clear error when fewer than two arms have any."""
    kept = {a: rows[a] for a in arms if a in rows}
    empty = [a for a in arms if a not in rows]
    if len(kept) < 2:
        raise LiftboardError(
            f"{spec.text}: only {', '.join(kept) or 'no arm'} has {spec.column} values in a {spec.label} window "
            f"that has elapsed before the data ends ({end:%Y-%m-%d}); there is nothing to compare."
        )
    if not empty:
        return kept, control, None
    new_control = control if control in kept else next(iter(kept))
    note = f"{spec.label} does not apply to {', '.join(empty)} (no {spec.column} values there)" + (
        f"; the other arms are compared against {new_control}." if new_control != control else "."
    )
    return kept, new_control, note


def _segments(cells, quantiles, specs, plain, arms, ctrl, config, priors, stratify, settings):
    """Per segment value, the metrics compared (post-stratified within it too); BH across segments per metric."""
    values = sorted({seg for seg, _ in cells})
    kept: list[tuple[str, dict[str, int], list[MetricResult]]] = []
    for value in values:
        sub = {key: rows for key, rows in cells.items() if key[0] == value}
        exposed, moments, strata = _total(sub, arms, len(plain))
        if any(exposed[a] == 0 for a in arms):
            continue
        per_spec = {s.text: (m, st) for s, m, st in zip(plain, moments, strata, strict=True)}
        per_metric = []
        for s in specs:
            try:
                if s.aggregate == "quantile":
                    arm_m, q_ctrl, _ = _quantile_arms(
                        s, quantiles[s.text].get(value, {}), arms, ctrl, datetime.max
                    )
                    per_metric.append(compare_metric(s, arm_m, q_ctrl, role=config.role(s.text), exposed=exposed,
                                                     adjust=None, prior_sd=priors.get(s.text), **settings))  # fmt: skip
                    continue
                m, st = per_spec[s.text]
                if any(x.n < 2 for x in m.values()):
                    raise LiftboardError("too few users")
                per_metric.append(compare_metric(s, m, ctrl, role=config.role(s.text), exposed=exposed, adjust=None,
                                                 prior_sd=priors.get(s.text), strata=st if stratify else None,
                                                 stratified_by=stratify, **settings))  # fmt: skip
            except (LiftboardError, KeyError):
                per_metric = []  # too few users (or no values) in this segment: it is left out
                break
        if per_metric:
            kept.append((value, exposed, per_metric))
    for i in range(len(specs)):
        family = [c for _, _, ms in kept for c in ms[i].comparisons]
        if not family:
            continue
        adjusted = iter(stats.adjust(family, "bh", settings["alpha"]))
        for _, _, ms in kept:
            m = ms[i]
            ms[i] = replace(m, comparisons=tuple(next(adjusted) for _ in m.comparisons))
    return tuple(SegmentResult(v, e, tuple(ms)) for v, e, ms in kept)

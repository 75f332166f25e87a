"""Experiment analysis: per-variant metrics from one SQL pass, compared against the control arm."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime

from analytics import stats
from analytics.errors import LiftboardError
from analytics.experiments.arms import (
    check_margin,
    check_prior_sd,
    experiment_config,
    multi_variant_users,
    resolve_arms,
)
from analytics.experiments.compare import ZERO, Strata, compare_metric
from analytics.experiments.outcomes import (
    analysis_end,
    check_covariate,
    check_exposure_times,
    experiment_source,
    resolve_outcomes,
)
from analytics.experiments.quantile_sql import run_quantiles
from analytics.experiments.results import ExperimentResult, MetricResult, SegmentResult
from analytics.experiments.spec import MetricSpec
from analytics.experiments.spec_check import parse_metrics
from analytics.experiments.sql import Segment, moments_sql, resolve_segment, resolve_stratum
from analytics.experiments.totals import analyze_totals
from analytics.stats import Estimand, Moments, QuantileMoments
from analytics.workspace import Workspace

#: (segment value, stratum value) → variant → (exposed users, per-metric Moments)
Cells = dict[tuple[str, str], dict[str, tuple[int, list[Moments]]]]


def run_moments(
    ws: Workspace,
    experiment: str,
    specs: Sequence[MetricSpec],
    end: datetime | None,
    *,
    cuped: bool = False,
    winsorize: float | None = None,
    segment: Segment | None = None,
    stratum: Segment | None = None,
    covariate: str | None = None,
    source: str = "assignments",
) -> Cells:
    """(segment, stratum) → variant → (exposed users, per-metric Moments), from one SQL statement."""
    level = stats.winsorize_caps(winsorize)[1] if winsorize is not None else None
    q = moments_sql(ws, experiment, specs, end, cuped=cuped, winsorize=level, segment=segment, stratum=stratum,
                    covariate=covariate, source=source)  # fmt: skip
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
    moments: list[dict[str, Moments]] = [{a: ZERO for a in arms} for _ in range(k)]
    strata: list[Strata] = [{} for _ in range(k)]
    for (_, strat), rows in cells.items():
        for a, (e, ms) in rows.items():
            if a not in exposed:
                continue
            exposed[a] += e
            for i, m in enumerate(ms):
                moments[i][a] = moments[i][a] + m
                cell = strata[i].setdefault(strat, {})
                cell[a] = cell.get(a, ZERO) + m
    return exposed, moments, strata


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
    data_through: date | None = None,
    cuped_covariate: str | None = None,
) -> ExperimentResult:
    """Analyse an experiment on the given metric specs; every user error is a LiftboardError.

    ``stratify``, ``priors`` (spec → prior sd of the relative lift) and ``margins`` (spec → non-inferiority
    margin) default to the experiment's saved settings; pass "" / {} to switch them off. ``data_through``: the
    date the data are complete through (else the experiment's saved date, else the last event).
    ``cuped_covariate``: a pre-period column of the outcomes table, CUPED's covariate for outcome metrics
    (event metrics under ``cuped`` use their own pre-exposure window). An experiment whose users are in the
    outcomes table (one row per user) or the totals table (one row per arm) is analysed the same way.
    """
    if not 0.0 < alpha < 1.0:
        raise LiftboardError(f"The significance level α must be between 0 and 1, e.g. 0.05 (got {alpha}).")
    if estimand not in ("relative", "absolute"):
        raise LiftboardError(f"Significance can follow the relative or the absolute lift, not {estimand!r}.")
    source = experiment_source(ws, experiment)
    config = experiment_config(ws, experiment)
    through = data_through or config.data_through
    if source == "totals":
        return analyze_totals(
            ws, experiment, metrics, control=control, alpha=alpha, sequential=sequential, config=config,
            refused={"segments": segment, "CUPED": cuped or cuped_covariate, "Winsorizing": winsorize,
                     "Post-stratification": stratify},
        )  # fmt: skip
    choice, arms = resolve_arms(ws, experiment, control, source=source)
    ctrl = choice.arm
    specs = resolve_outcomes(ws, experiment, parse_metrics(ws, metrics))
    covariate = check_covariate(ws, cuped_covariate) if cuped_covariate else None
    stratify = config.stratify if stratify is None else (stratify or None)
    priors = _by_spec(config.priors if priors is None else priors, specs, check_prior_sd)
    margins = _by_spec(config.margins if margins is None else margins, specs, check_margin)
    seg = resolve_segment(ws, segment, source=source) if segment else None
    strat = resolve_stratum(ws, stratify) if stratify else None
    end = analysis_end(ws, experiment, specs, source, through)
    check_exposure_times(ws, experiment, specs, source)
    plain = [s for s in specs if s.aggregate != "quantile"]
    cells = run_moments(ws, experiment, plain, end, cuped=cuped, winsorize=winsorize, segment=seg, stratum=strat,
                        covariate=covariate, source=source)  # fmt: skip
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
    settings = dict(alpha=alpha, sequential=sequential, estimand=estimand)
    adjusted = {s.text: _uses_cuped(s, cuped, covariate) for s in specs}
    multi = multi_variant_users(ws, experiment, source=source)
    results = []
    for s in specs:
        if s.aggregate == "quantile":
            arm_q, q_ctrl, q_note = _quantile_arms(s, quantiles[s.text], arms, ctrl, end)
            res = compare_metric(s, arm_q, q_ctrl, role=config.role(s.text), exposed=exposed,
                                 prior_sd=priors.get(s.text), margin=margins.get(s.text), cuped=cuped,
                                 multi_variant=multi, **settings)  # fmt: skip
            results.append(replace(res, note=q_note) if q_note and not res.note else res)
            continue
        m, st = per_spec[s.text]
        if all(a.n == 0 for a in m.values()):
            if not s.windowed:
                raise LiftboardError(f"No exposed user of {experiment!r} has a value of {s.label}.")
            raise LiftboardError(
                f"No exposed user's {s.label} window has fully elapsed before the data ends ({end:%Y-%m-%d}); "
                "use a shorter window, or set the date the data are complete through."
            )
        res = compare_metric(s, m, ctrl, role=config.role(s.text), exposed=exposed, prior_sd=priors.get(s.text),
                             margin=margins.get(s.text), strata=st if strat else None, stratified_by=stratify,
                             cuped=adjusted[s.text], multi_variant=multi, **settings)  # fmt: skip
        results.append(_noted(res, cuped, covariate))
    split = config.split if config.split and set(config.split) == set(arms) else None
    srm_result = stats.srm(exposed, split)
    warnings: list[str] = []
    if not srm_result.ok:
        warnings.append("srm")
    if multi:
        warnings.append(f"{multi} users saw more than one variant and are excluded.")
    segments: tuple[SegmentResult, ...] = ()
    if seg:
        by_seg = {s.text: run_quantiles(ws, experiment, s, end, segment=seg) for s in quantile_specs}
        segments = _segments(
            cells, by_seg, specs, plain, arms, ctrl, config, priors, stratify, settings, adjusted
        )
        warnings.append(
            "Segment results are Benjamini–Hochberg adjusted across segments; treat them as leads to "
            "confirm, not findings."
        )
    return ExperimentResult(
        experiment=experiment, control=ctrl, control_reason=choice.reason, variants=arms, exposed=exposed,
        multi_variant_users=multi, srm=srm_result, metrics=tuple(results), alpha=alpha,
        cuped=any(adjusted.values()), sequential=sequential,
        winsorize=winsorize, data_end=end, segment=segment, segments=segments, warnings=tuple(warnings),
        stratify=stratify, estimand=estimand, source=source, data_through=through, cuped_covariate=covariate,
    )  # fmt: skip


def _uses_cuped(spec: MetricSpec, cuped: bool, covariate: str | None) -> bool:
    """Event metrics use their pre-exposure window under CUPED; outcome metrics the named covariate column."""
    return cuped if spec.windowed else covariate is not None


def _noted(m: MetricResult, cuped: bool, covariate: str | None) -> MetricResult:
    """An outcome metric asked for CUPED without a covariate column says why it is not adjusted."""
    if cuped and covariate is None and not m.spec.windowed and m.note is None:
        return replace(
            m,
            note=f"{m.spec.label} is not CUPED-adjusted: an outcome's pre-period is a column of the file; "
            "name it with --cuped-covariate COLUMN (or the CUPED covariate box).",
        )
    return m


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


def _segments(cells, quantiles, specs, plain, arms, ctrl, config, priors, stratify, settings, adjusted):
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
                                                     adjust=None, prior_sd=priors.get(s.text),
                                                     cuped=adjusted[s.text], **settings))  # fmt: skip
                    continue
                m, st = per_spec[s.text]
                if any(x.n < 2 for x in m.values()):
                    raise LiftboardError("too few users")
                per_metric.append(compare_metric(s, m, ctrl, role=config.role(s.text), exposed=exposed, adjust=None,
                                                 prior_sd=priors.get(s.text), strata=st if stratify else None,
                                                 stratified_by=stratify, cuped=adjusted[s.text], **settings))  # fmt: skip
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

"""One metric compared across arms: each variant against the control, Holm across arms, CUPED, strata, margins."""

from __future__ import annotations

from collections.abc import Mapping

from analytics import stats
from analytics.errors import LiftboardError
from analytics.experiments.results import ArmStats, MetricResult
from analytics.experiments.spec import MetricSpec
from analytics.stats import Estimand, GaussianPrior, Moments, QuantileMoments

#: stratum value → arm → Moments of one metric
Strata = dict[str, dict[str, Moments]]
ZERO = Moments(0, 0.0, 0.0)


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
    multi_variant: int = 0,
) -> MetricResult:
    """Compare every arm with the control on one metric (Holm across arms unless ``adjust`` is None).

    ``strata`` (stratum → arm → Moments) post-stratifies the comparisons; ``margin`` adds a non-inferiority
    check per variant; ``prior_sd`` is a proper prior on the relative lift for the Bayesian view.
    """
    quantile = spec.aggregate == "quantile"
    for a, m in arms.items():
        if not quantile and m.n < 2:
            if not spec.windowed:
                raise LiftboardError(
                    f"Arm {a!r} has {m.n} users with a value of {spec.label}; at least 2 per arm are needed."
                )
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
            cells = [(s.get(control, ZERO), s.get(v, ZERO)) for s in strata.values()]
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
        exposed_users=sum(exposed.values()) if exposed else sum(m.n for m in arms.values()),
        multi_variant=multi_variant,
    )  # fmt: skip


def _arm_stats(name: str, m: Moments | QuantileMoments, kind: str) -> ArmStats:
    if isinstance(m, QuantileMoments):
        users = m.clusters.n_clusters if m.clusters else m.n
        return ArmStats(name, users, m.estimate, m.variance(), m)
    mean, var = stats.arm_mean_var(m, ratio=kind == "ratio", proportion=kind == "proportion")
    return ArmStats(name, m.n, mean, var, m)

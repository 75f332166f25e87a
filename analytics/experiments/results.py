"""The frozen result of an analysis, per metric, arm and segment, and its JSON document."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from analytics.errors import LiftboardError
from analytics.experiments.arms import ControlChoice, ControlReason
from analytics.experiments.spec import MetricSpec, parse_metric
from analytics.plain import plain
from analytics.stats import Comparison, GuardrailCheck, Moments, QuantileMoments, SrmResult


@dataclass(frozen=True)
class ArmStats:
    """One arm on one metric: users counted (window elapsed), mean and per-user variance, raw moments.

    For a quantile metric ``mean`` is the arm's quantile, ``variance`` the per-value variance of it and
    ``moments`` the QuantileMoments (n values, rank bounds); ``users`` counts the users with values.
    """

    name: str
    users: int
    mean: float
    variance: float
    moments: Moments | QuantileMoments

    def quantile_interval(self, alpha: float = 0.05) -> tuple[float, float] | None:
        """A quantile arm's own (1 − α) interval for its quantile; None for other metrics."""
        return self.moments.interval(alpha) if isinstance(self.moments, QuantileMoments) else None


@dataclass(frozen=True)
class MetricResult:
    """One metric: per-arm statistics and each variant compared against the control."""

    spec: MetricSpec
    role: str
    variants: tuple[ArmStats, ...]
    comparisons: tuple[Comparison, ...]
    incomplete: int  # exposed users left out: window not elapsed when the data end, or no value of an outcome
    cuped_theta: float | None = None  # θ of the first variant's comparison (each comparison carries its own)
    variance_reduction: float | None = None  # CUPED and/or post-stratification, first variant's comparison
    note: str | None = None  # e.g. arms left out because the metric does not apply to them
    margin: float | None = (
        None  # the guardrail's non-inferiority margin (a share of the control), if declared
    )
    guardrail_checks: tuple[GuardrailCheck, ...] = ()  # one per variant when a margin is declared
    prior_sd: float | None = None  # the proper prior's sd on the relative lift (None: flat prior)
    stratified_by: str | None = None  # the users column the comparisons are post-stratified by
    #: Under CUPED or post-stratification, each variant's absolute interval without them (same sums, same settings).
    ci_without_cuped: dict[str, tuple[float, float]] | None = None
    exposed_users: int = 0  # users exposed to one arm (the base of ``incomplete``)
    multi_variant: int = 0  # users exposed to several arms, left out of every metric

    @property
    def left_out(self) -> int:
        """Exposed users not counted in this metric: window not elapsed or no value, or seen in two arms."""
        return self.incomplete + self.multi_variant

    @property
    def left_out_share(self) -> float:
        base = self.exposed_users + self.multi_variant
        return self.left_out / base if base else 0.0

    def cuped_narrowing(self, variant: str) -> tuple[float, float, float] | None:
        """(interval width without CUPED/strata, with them, share narrower) for a variant; None without them."""
        if self.ci_without_cuped is None or variant not in self.ci_without_cuped:
            return None
        lo0, hi0 = self.ci_without_cuped[variant]
        lo1, hi1 = self.comparison(variant).abs_ci
        w0, w1 = hi0 - lo0, hi1 - lo1
        return w0, w1, (1 - w1 / w0) if w0 else 0.0

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
    data_end: datetime | None  # None for per-arm totals (no time at all)
    segment: str | None = None
    segments: tuple[SegmentResult, ...] = ()
    warnings: tuple[str, ...] = field(default=())
    stratify: str | None = None  # post-stratification column, if any
    estimand: str = "relative"  # the estimand whose interval is drawn and whose p-value marks significance
    control_reason: ControlReason = (
        ControlReason.CHOSEN
    )  # why `control` is the control (see arms.choose_control)
    source: str = "assignments"  # where the users come from: assignments, outcomes, totals (or quick: typed)
    data_through: date | None = None  # the date the data are complete through, when set
    cuped_covariate: str | None = None  # the outcomes column used as CUPED's covariate

    @property
    def control_choice(self) -> ControlChoice:
        return ControlChoice(self.control, self.control_reason)

    def metric(self, spec: str) -> MetricResult:
        return next(m for m in self.metrics if m.spec.text == spec or m.spec == parse_metric(spec))

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of DESIGN.md's `analyze --json` (plus extra fields)."""
        return plain(
            {
                "experiment": self.experiment,
                "control": self.control,
                "control_reason": str(self.control_reason),
                "srm": {"p_value": self.srm.p_value, "ok": self.srm.ok, "chi2": self.srm.chi2,
                        "observed": self.srm.observed, "expected": self.srm.expected},
                "metrics": [_metric_dict(m, self.alpha) for m in self.metrics],
                "alpha": self.alpha,
                "cuped": self.cuped,
                "sequential": self.sequential,
                "stratify": self.stratify,
                "estimand": self.estimand,
                "winsorize": self.winsorize,
                "data_end": self.data_end.isoformat() if self.data_end else None,
                "data_through": self.data_through.isoformat() if self.data_through else None,
                "source": self.source,
                "cuped_covariate": self.cuped_covariate,
                "multi_variant_users": self.multi_variant_users,
                "segment": self.segment,
                "segments": [
                    {"value": s.value, "exposed": s.exposed, "metrics": [_metric_dict(m, self.alpha) for m in s.metrics]}
                    for s in self.segments
                ],
                "warnings": list(self.warnings),
            }
        )  # fmt: skip


def _metric_dict(m: MetricResult, alpha: float) -> dict[str, Any]:
    return {
        "spec": m.spec.text,
        "label": m.spec.label,
        "role": m.role,
        "aggregate": m.spec.aggregate,
        "variants": [
            {"name": a.name, "users": a.users, "mean": a.mean, "variance": a.variance}
            | (
                {"values": a.moments.n, "quantile_ci": list(a.quantile_interval(alpha))}  # type: ignore[arg-type, union-attr]
                if isinstance(a.moments, QuantileMoments)
                else {}
            )
            for a in m.variants
        ],
        "comparisons": [c.as_dict() for c in m.comparisons],
        "incomplete_users": m.incomplete,
        "left_out_users": m.left_out,
        "left_out_share": m.left_out_share,
        "cuped_theta": m.cuped_theta,
        "variance_reduction": m.variance_reduction,
        "lower_is_better": m.spec.lower_is_better,
        "prior_sd": m.prior_sd,
        "stratified_by": m.stratified_by,
        "margin": m.margin,
        "guardrail_checks": [g.as_dict() for g in m.guardrail_checks],
        "note": m.note,
    }

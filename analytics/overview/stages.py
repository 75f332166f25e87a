"""The five stages (Validate, Stabilise, Optimise, Govern, Scale): evidence rules that pass or fail, and why."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

STAGES: tuple[str, ...] = ("Validate", "Stabilise", "Optimise", "Govern", "Scale")


@dataclass(frozen=True)
class Thresholds:
    """The rules' editable thresholds (settings key `stages:thresholds`)."""

    max_mde_rel: float = 0.15  # enough power: the effect detectable (80% power) at today's n, relative
    min_tagged_items: int = 100  # a feedback loop: at least this many reviewed items
    max_acceptance_drop_pp: float = 2.0  # acceptance "not falling": last week vs the week before
    max_cost_growth: float = 0.05  # cost per user "falling or flat": at most +5% last week vs first week
    latency_p95_target_ms: float = 1500.0
    max_scaling_exponent: float = 1.0
    monthly_budget_usd: float | None = None  # Scale: projected monthly cost at 10× users within this

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> Thresholds:
        known = {k: v for k, v in (raw or {}).items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Evidence:
    """What the workspace shows about one experiment, gathered by `analytics.overview` from the engines.

    A field left as None means "not measured"; the rule that needs it fails and says what is missing.
    """

    experiment: str
    primary_spec: str | None = None
    primary_significant: bool | None = None
    primary_abs_lift: float | None = None
    primary_higher_is_better: bool = True
    srm_ok: bool | None = None
    mde_rel: float | None = None
    drift_monitored: bool = False
    open_input_alerts: tuple[str, ...] | None = None
    tagged_items: int | None = None
    acceptance_change_pp: float | None = None  # last week minus the week before, percentage points
    cost_per_user_growth: float | None = None  # relative change, last week vs first week
    latency_p95_ms: float | None = None
    scaling_exponent: float | None = None
    harmed_segments: tuple[str, ...] | None = None
    segment_column: str | None = None
    audit_rows: int = 0
    datasets_without_source: tuple[str, ...] = ()
    datasets: int = 0
    projected_monthly_cost_10x: float | None = None
    roi: float | None = None
    notes: dict[str, str] = field(default_factory=dict)  # why a measurement is missing, by field


@dataclass(frozen=True)
class Rule:
    """One evidence rule: passed or not, what was seen, and what to do next if it failed."""

    stage: str
    name: str
    passed: bool
    detail: str
    next_step: str = ""


@dataclass(frozen=True)
class Stage:
    name: str
    rules: tuple[Rule, ...]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.rules)


@dataclass(frozen=True)
class Ladder:
    experiment: str
    stages: tuple[Stage, ...]
    thresholds: Thresholds

    @property
    def reached(self) -> str | None:
        """The highest stage whose rules and all earlier stages' rules pass."""
        top = None
        for stage in self.stages:
            if not stage.passed:
                break
            top = stage.name
        return top

    @property
    def next_stage(self) -> Stage | None:
        return next((s for s in self.stages if not s.passed), None)


def _missing(ev: Evidence, key: str, default: str) -> str:
    return ev.notes.get(key, default)


def _validate(ev: Evidence, th: Thresholds) -> list[Rule]:
    s = "Validate"
    if ev.primary_spec is None:
        return [
            Rule(s, "A primary metric is chosen", False, "No primary metric is set for this experiment.",
                 "Choose a primary metric on the Experiments page (it is saved with the experiment)."),
        ]  # fmt: skip
    good = (
        ev.primary_significant
        and ev.primary_abs_lift is not None
        and ((ev.primary_abs_lift > 0) == ev.primary_higher_is_better)
    )
    rules = [
        Rule(s, "Significant improvement on the primary metric", bool(good),
             f"{ev.primary_spec}: " + ("significant improvement." if good else (
                 "significant, but in the wrong direction." if ev.primary_significant else "not significant yet.")),
             "" if good else "Keep the experiment running until it reaches its sample size, or rethink the feature."),
        Rule(s, "No sample-ratio mismatch", ev.srm_ok is True,
             "Exposure split matches the design." if ev.srm_ok else (
                 "Sample-ratio mismatch (p < 0.001): the assignment is broken." if ev.srm_ok is False
                 else "SRM not measured."),
             "" if ev.srm_ok else "Fix the assignment or exposure logging before trusting any result."),
    ]  # fmt: skip
    powered = ev.mde_rel is not None and ev.mde_rel <= th.max_mde_rel
    rules.append(
        Rule(s, "Enough power", powered,
             f"Detectable effect at today's sample: {ev.mde_rel:.1%} relative (target ≤ {th.max_mde_rel:.0%})."
             if ev.mde_rel is not None else _missing(ev, "mde_rel", "Power not measured."),
             "" if powered else "Collect more users per arm (see the power calculator on the Experiments page).")
    )  # fmt: skip
    return rules


def _stabilise(ev: Evidence, th: Thresholds) -> list[Rule]:
    s = "Stabilise"
    alerts = ev.open_input_alerts
    no_alerts = ev.drift_monitored and alerts is not None and not alerts
    tagged_ok = ev.tagged_items is not None and ev.tagged_items >= th.min_tagged_items
    drop = ev.acceptance_change_pp
    steady = drop is not None and drop >= -th.max_acceptance_drop_pp
    return [
        Rule(s, "Drift monitored, no open input alert", no_alerts,
             ("No drift alert on the model's inputs in the last chunk." if no_alerts else
              f"Open drift alerts in the last chunk: {', '.join(alerts)}." if alerts else
              _missing(ev, "drift", "No predictions log: drift cannot be monitored.")),
             "" if no_alerts else "Open the Drift page: retrain or recalibrate on recent data, or fix the input pipeline."),
        Rule(s, "A feedback loop with reviewed items", tagged_ok,
             f"{ev.tagged_items or 0:,} reviewed feedback items (target ≥ {th.min_tagged_items:,})."
             if ev.tagged_items is not None else _missing(ev, "tagged_items", "No feedback log."),
             "" if tagged_ok else "Review and tag feedback on the Feedback page."),
        Rule(s, "Acceptance rate not falling", steady,
             f"Acceptance moved {drop:+.1f} pp last week vs the week before (allowed ≥ −{th.max_acceptance_drop_pp:.1f} pp)."
             if drop is not None else _missing(ev, "acceptance", "Acceptance not measured (no feedback)."),
             "" if steady else "Look at rejected and corrected items on the Feedback page to find what changed."),
    ]  # fmt: skip


def _optimise(ev: Evidence, th: Thresholds) -> list[Rule]:
    s = "Optimise"
    g = ev.cost_per_user_growth
    flat = g is not None and g <= th.max_cost_growth
    lat = ev.latency_p95_ms
    fast = lat is not None and lat <= th.latency_p95_target_ms
    b = ev.scaling_exponent
    scales = b is not None and b <= th.max_scaling_exponent
    return [
        Rule(s, "Cost per user falling or flat", flat,
             f"Cost per active user changed {g:+.1%} from the first to the last week." if g is not None
             else _missing(ev, "cost", "No cost data (cost_usd or tokens) in the predictions log."),
             "" if flat else "Cache prompts, route traffic to a cheaper model, or trim tokens (Cost page what-if)."),
        Rule(s, "Latency p95 under target", fast,
             f"p95 latency {lat:,.0f} ms (target ≤ {th.latency_p95_target_ms:,.0f} ms)." if lat is not None
             else _missing(ev, "latency", "No latency_ms in the predictions log."),
             "" if fast else "Use a faster model or cache frequent answers."),
        Rule(s, "Cost grows no faster than users", scales,
             f"Scaling exponent b = {b:.2f} (target ≤ {th.max_scaling_exponent:.2f})." if b is not None
             else _missing(ev, "scaling", "The cost curve cannot be fitted yet."),
             "" if scales else "Find what makes heavy users expensive (Cost page: top cost users)."),
    ]  # fmt: skip


def _govern(ev: Evidence, th: Thresholds) -> list[Rule]:
    s = "Govern"
    harmed = ev.harmed_segments
    fair = harmed is not None and not harmed
    sourced = ev.datasets > 0 and not ev.datasets_without_source
    return [
        Rule(s, "No segment significantly harmed (bias check)", fair,
             (f"No {ev.segment_column} segment is significantly worse after Benjamini–Hochberg correction."
              if fair else f"Significantly harmed segments: {', '.join(harmed)}." if harmed else
              _missing(ev, "segments", "Segment breakdown not measured.")),
             "" if fair else "Investigate the harmed segments before a wider rollout."),
        Rule(s, "An audit trail", ev.audit_rows > 0, f"{ev.audit_rows:,} audited changes recorded.",
             "" if ev.audit_rows > 0 else "Loads, deletions and tag changes are audited as they happen."),
        Rule(s, "Every dataset has a recorded source", sourced,
             "Every dataset has a recorded source." if sourced else
             ("Datasets without a recorded load: " + ", ".join(ev.datasets_without_source)) if ev.datasets_without_source
             else "No datasets loaded.",
             "" if sourced else "Reload those datasets through the Data page so their source and hash are recorded."),
    ]  # fmt: skip


def _scale(ev: Evidence, th: Thresholds) -> list[Rule]:
    s = "Scale"
    cost = ev.projected_monthly_cost_10x
    budget = th.monthly_budget_usd
    within = cost is not None and budget is not None and cost <= budget
    if cost is None:
        detail = _missing(ev, "projection", "The cost at 10× users cannot be projected yet.")
    elif budget is None:
        detail = f"Projected monthly cost at 10× users ${cost:,.0f}; no budget is set."
    else:
        detail = f"Projected monthly cost at 10× users ${cost:,.0f} against a budget of ${budget:,.0f}."
    roi_ok = ev.roi is not None and ev.roi > 0
    return [
        Rule(s, "Cost at 10× users within budget", within, detail,
             "" if within else "Set a monthly budget on the Cost page, or lower the cost per user first."),
        Rule(s, "Positive return on the AI cost", roi_ok,
             f"ROI {ev.roi:+.0%}: incremental revenue per user over incremental cost per user." if ev.roi is not None
             else _missing(ev, "roi", "ROI not measured (needs revenue events and costs)."),
             "" if roi_ok else "The lift does not pay for the cost yet: raise the lift or lower the cost."),
    ]  # fmt: skip


def ladder(ev: Evidence, th: Thresholds | None = None) -> Ladder:
    """Check every stage's rules against the evidence (all stages are checked, even after a failure)."""
    th = th or Thresholds()
    builders = (_validate, _stabilise, _optimise, _govern, _scale)
    stages = tuple(Stage(name, tuple(build(ev, th))) for name, build in zip(STAGES, builders, strict=True))
    return Ladder(ev.experiment, stages, th)

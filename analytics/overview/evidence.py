"""The founder's view: per experiment, one reading per question, and the evidence behind the stage ladder."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from analytics import cost as cost_engine
from analytics import drift, experiments, feedback
from analytics.cost import fetch_arms, get_budget, summarize, unit_economics
from analytics.errors import LiftboardError
from analytics.experiments import verdict
from analytics.overview.stages import Evidence, Ladder, Thresholds, ladder
from analytics.workspace import Actor, Workspace, experiment_names, list_experiments, require

THRESHOLDS_KEY = "stages:thresholds"
SEGMENT_KEY = "stages:segment"
DEFAULT_SEGMENT = "platform"


#: How a card reads: the evidence is for the feature, against it, neither, or not there yet.
CardStatus = Literal["good", "bad", "neutral", "missing"]


@dataclass(frozen=True)
class Card:
    """One question about an experiment: a one-line reading, a status and the page that explains it."""

    title: str
    reading: str
    status: CardStatus
    page: str
    query: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ExperimentOverview:
    experiment: str
    description: str
    primary: str | None
    result: experiments.ExperimentResult | None
    cards: tuple[Card, ...]
    ladder: Ladder
    evidence: Evidence


@dataclass(frozen=True)
class Overview:
    empty: bool
    experiments: tuple[ExperimentOverview, ...]
    thresholds: Thresholds
    notes: tuple[str, ...] = ()


def thresholds(ws: Workspace) -> Thresholds:
    raw = ws.get_setting(THRESHOLDS_KEY, {}) or {}
    th = Thresholds.from_dict(raw)
    if th.monthly_budget_usd is None:
        th = replace(th, monthly_budget_usd=get_budget(ws))
    return th


def save_thresholds(ws: Workspace, th: Thresholds, actor: Actor | None) -> None:
    """Save the stage thresholds (editors and admins), audited before and after."""
    who = require(actor, "edit_settings").name
    before = ws.get_setting(THRESHOLDS_KEY)
    with ws.transaction() as cur:
        ws.set_setting(THRESHOLDS_KEY, th.to_dict(), cur=cur)
        ws.audit(cur, who, "settings.stages", THRESHOLDS_KEY, before, th.to_dict())


def _governance(ws: Workspace) -> dict[str, Any]:
    tables = ws.data_tables()
    loaded = {
        k
        for (k,) in ws.query(
            "SELECT DISTINCT kind FROM lb_loads WHERE source IS NOT NULL OR content_hash IS NOT NULL",
            purpose="the governance query",
        )
    }
    return {
        "audit_rows": int(ws.scalar("SELECT count(*) FROM lb_audit", purpose="the governance query") or 0),
        "datasets": len(tables),
        "datasets_without_source": tuple(t for t in tables if t not in loaded),
    }


def _experiment_part(
    ws: Workspace, name: str, cfg: experiments.ExperimentConfig, seg: str, notes: dict[str, str], every: bool
):
    """Analyze the primary metric (and the cost guardrail), its power and the segment bias check."""
    ev: dict[str, Any] = {"primary_spec": cfg.primary}
    cards: list[Card] = []
    result = None
    if cfg.primary is None:
        cards.append(Card("Does it work?", "No primary metric is chosen for this experiment yet.", "missing",
                          "experiments", {"experiment": name}))  # fmt: skip
        return ev, cards, result
    try:
        # The cost guardrail beside the primary metric, unless the primary is itself a cost.
        specs = list(cfg.metrics) if every else [cfg.primary]  # the primary first either way
        if ws.has_table("predictions") and not any(experiments.parse_metric(m).kind == "cost" for m in specs):
            specs.append("cost:7d")
        result = experiments.analyze(ws, name, specs)
    except LiftboardError as exc:
        cards.append(Card("Does it work?", str(exc), "missing", "experiments", {"experiment": name}))
        return ev, cards, result
    primary = result.metrics[0]
    comp = primary.comparisons[0] if primary.comparisons else None
    ev["srm_ok"] = result.srm.ok
    if comp is not None:
        ev.update(
            primary_significant=comp.significant,
            primary_abs_lift=comp.abs_lift,
            primary_higher_is_better=not primary.spec.lower_is_better,
        )
        reading = verdict.sentence(primary.spec, comp)
        good = comp.significant and primary.spec.improves(comp.abs_lift)
        status = "good" if good else ("bad" if comp.significant else "neutral")
        if not result.srm.ok:
            reading = (verdict.srm_sentence(result.srm) or "Sample-ratio mismatch.") + " " + reading
            status = "bad"
        cards.append(Card("Does it work?", reading, status, "experiments", {"experiment": name}))
    power = experiments.power_inputs(primary, result.control, alpha=result.alpha)
    if power.mde_now is not None:
        ev["mde_rel"] = power.mde_now
    else:
        notes["mde_rel"] = power.mde_error or "The minimum detectable effect cannot be computed."
    cost_m = next((m for m in result.metrics[1:] if m.spec.kind == "cost"), None)
    if cost_m is not None:
        cc = cost_m.comparisons[0] if cost_m.comparisons else None
        if cc is not None:
            cards.append(Card("What does it cost?", verdict.sentence(cost_m.spec, cc), "neutral", "cost",
                              {"experiment": name}))  # fmt: skip
    # Bias check: the primary metric by segment, BH-corrected; a segment is harmed when significantly worse.
    try:
        seg_res = experiments.analyze(ws, name, [cfg.primary], segment=seg)
        harmed = []
        for s in seg_res.segments:
            for c in s.metrics[0].comparisons:
                if c.significant and primary.spec.worsens(c.abs_lift):
                    harmed.append(f"{s.value} ({c.variant})")
        ev["harmed_segments"] = tuple(harmed)
        ev["segment_column"] = seg
    except LiftboardError as exc:
        notes["segments"] = f"Segment check on {seg!r} not possible: {exc}"
    return ev, cards, result


def _cost_part(ws: Workspace, notes: dict[str, str]) -> dict[str, Any]:
    ev: dict[str, Any] = {}
    try:
        data = cost_engine.load_costs(ws)
        summary = summarize(data, budget=get_budget(ws))
    except LiftboardError as exc:
        for key in ("cost", "latency", "scaling", "projection"):
            notes[key] = str(exc)
        return ev
    days = summary.by_day
    per_user = (days["cost"] / days["users"].where(days["users"] > 0)).dropna()
    if len(per_user) >= 14:
        first, last = per_user.head(7).mean(), per_user.tail(7).mean()
        ev["cost_per_user_growth"] = float(last / first - 1) if first > 0 else None
    else:
        notes["cost"] = f"Cost per user over time needs 14 days of predictions; the log has {len(per_user)}."
    p95 = data.totals.get("lat_p95")
    if p95 is not None and p95 == p95:
        ev["latency_p95_ms"] = float(p95)
    if summary.fit_users.ok:
        ev["scaling_exponent"] = summary.fit_users.exponent
        ev["projected_monthly_cost_10x"] = summary.projected_monthly(10.0)
    else:
        notes["scaling"] = summary.fit_users.reason or "The cost curve cannot be fitted yet."
        notes["projection"] = notes["scaling"]
    return ev


def _roi(ws: Workspace, name: str, notes: dict[str, str]) -> float | None:
    """The best variant's ROI against the control the analysis uses (experiments.default_control)."""
    try:
        arms = fetch_arms(ws, name)
        control = experiments.default_control(ws, name, [a.variant for a in arms]).arm
        ue = unit_economics(arms, experiment=name, control=control)
    except LiftboardError as exc:
        notes["roi"] = str(exc)
        return None
    rois = [v.roi.value for v in ue.variants if v.roi is not None]
    if not rois:
        notes["roi"] = "ROI needs a variant whose AI cost is above the control's."
        return None
    return max(rois)


def _feedback_part(ws: Workspace, name: str, notes: dict[str, str]) -> tuple[dict[str, Any], Card | None]:
    if not ws.has_table("feedback"):
        notes["tagged_items"] = "No feedback log is loaded."
        notes["acceptance"] = "No feedback log is loaded."
        return {}, Card("What do users say?", "No feedback log is loaded yet.", "missing", "feedback")
    flt = feedback.FeedbackFilter(experiment=name)
    try:
        summ = feedback.summary(ws, flt)
        weekly = feedback.rates(ws, flt, by="none", period="week", signals=("accept",))
    except LiftboardError as exc:
        notes["acceptance"] = str(exc)
        return {}, Card("What do users say?", str(exc), "missing", "feedback")
    ev: dict[str, Any] = {"tagged_items": summ.progress.tagged}
    points = [p.rate for p in weekly.points if p.rate.signal == "accept" and p.rate.n > 0]
    if len(points) >= 2:
        ev["acceptance_change_pp"] = 100 * (points[-1].rate - points[-2].rate)
    else:
        notes["acceptance"] = "The acceptance trend needs two weeks of feedback."
    acc = summ.acceptance
    reading = (
        f"{acc.rate:.1%} of {acc.n:,} responses accepted (95% CI {acc.lo:.1%}–{acc.hi:.1%}); "
        f"{summ.progress.tagged:,} of {summ.progress.total:,} items reviewed."
    )
    return ev, Card("What do users say?", reading, "neutral", "feedback", {"experiment": name})


# Columns that describe the model's output or its operation, not its inputs.
_NOT_INPUTS = {"score", "prediction", "latency_ms", "cost_usd", "tokens_in", "tokens_out", "tokens_cached",
               "model_version"}  # fmt: skip


def _drift_part(ws: Workspace, notes: dict[str, str]) -> tuple[dict[str, Any], Card]:
    """Drift of the model's inputs in the latest chunk, at the default settings (first 7 days as reference)."""
    try:
        report = drift.compute_drift(ws, drift.DriftSettings())
    except LiftboardError as exc:
        notes["drift"] = str(exc)
        return {}, Card("Is it stable?", str(exc), "missing", "drift")
    hot = [f for f in report.drifting_now() if f.kind != "outcome" and f.name not in _NOT_INPUTS]
    others = [f.name for f in report.drifting_now() if f not in hot]
    names = tuple(f.name for f in hot)
    last = report.chunks[-1] if report.chunks else None
    label = f"chunk ({last.start:%Y-%m-%d})" if last is not None else "chunk"
    ev = {"drift_monitored": True, "open_input_alerts": names}
    if names:
        reading = f"Inputs drifting in the last {label}: {', '.join(names[:4])}."
        return ev, Card("Is it stable?", reading, "bad", "drift")
    extra = f" Outputs or operations moving: {', '.join(others[:3])}." if others else ""
    status = "neutral" if others else "good"
    return ev, Card(
        "Is it stable?", f"No drift on the model's inputs in the last {label}.{extra}", status, "drift"
    )


@dataclass(frozen=True)
class SharedEvidence:
    """What every experiment's overview shares, computed once: thresholds, cost and drift."""

    thresholds: Thresholds
    segment: str
    cost: dict[str, Any]
    drift: dict[str, Any]
    drift_card: Card
    notes: dict[str, str]


@dataclass(frozen=True)
class ExperimentEvidence:
    """One experiment's analysis, cost card and ROI: what reviewers' tags and reviews never change."""

    name: str
    description: str
    primary: str | None
    result: experiments.ExperimentResult | None
    cards: tuple[Card, ...]
    evidence: dict[str, Any]
    notes: dict[str, str]


@dataclass(frozen=True)
class ReviewedEvidence:
    """What reviewers' work moves: the feedback card and the audit trail's size."""

    card: Card | None
    evidence: dict[str, Any]
    notes: dict[str, str]


def shared_evidence(ws: Workspace) -> SharedEvidence:
    """The workspace-wide part of the Overview (one cost and one drift computation for all experiments)."""
    notes: dict[str, str] = {}
    cost_ev = _cost_part(ws, notes) if ws.has_table("predictions") else {}
    if not ws.has_table("predictions"):
        for key in ("cost", "latency", "scaling", "projection", "drift"):
            notes[key] = "No predictions log is loaded: load the AI feature's inference log on the Data page."
        drift_ev, drift_card = {}, Card("Is it stable?", notes["drift"], "missing", "drift")
    else:
        drift_ev, drift_card = _drift_part(ws, notes)
    return SharedEvidence(
        thresholds(ws), ws.get_setting(SEGMENT_KEY, DEFAULT_SEGMENT), cost_ev, drift_ev, drift_card, notes
    )


def experiment_evidence(
    ws: Workspace, name: str, shared: SharedEvidence, *, every_metric: bool = False
) -> ExperimentEvidence:
    """One experiment's analysis (primary metric, cost guardrail, power, bias check) and ROI."""
    notes: dict[str, str] = {}
    cfg = experiments.config_with_defaults(ws, name)
    exp_ev, cards, result = _experiment_part(ws, name, cfg, shared.segment, notes, every_metric)
    roi = _roi(ws, name, notes) if ws.has_table("predictions") else None
    return ExperimentEvidence(
        name, cfg.description, cfg.primary, result, tuple(cards), {**exp_ev, "roi": roi}, notes
    )


def reviewed_evidence(ws: Workspace, name: str) -> ReviewedEvidence:
    """One experiment's feedback card and the governance counts, which reviewers' tags move."""
    notes: dict[str, str] = {}
    fb_ev, fb_card = _feedback_part(ws, name, notes)
    return ReviewedEvidence(fb_card, {**fb_ev, **_governance(ws)}, notes)


def compose(
    shared: SharedEvidence, exp: ExperimentEvidence, reviewed: ReviewedEvidence
) -> ExperimentOverview:
    """The cards and stage ladder of one experiment from its three parts (each cached on its own by the page)."""
    notes = {**shared.notes, **exp.notes, **reviewed.notes}
    ev = Evidence(
        experiment=exp.name, **exp.evidence, **shared.cost, **shared.drift, **reviewed.evidence, notes=notes
    )
    cards = [*exp.cards, shared.drift_card] + ([reviewed.card] if reviewed.card else [])
    return ExperimentOverview(
        exp.name, exp.description, exp.primary, exp.result, tuple(cards), ladder(ev, shared.thresholds), ev
    )


def experiment_overview(
    ws: Workspace, name: str, shared: SharedEvidence, *, every_metric: bool = False
) -> ExperimentOverview:
    """One experiment's cards and stage ladder: its analysis, feedback and ROI on top of the shared part."""
    exp = experiment_evidence(ws, name, shared, every_metric=every_metric)
    return compose(shared, exp, reviewed_evidence(ws, name))


def build(ws: Workspace, *, only: str | None = None, every_metric: bool = False) -> Overview:
    """Everything the Overview shows, for every experiment (or ``only`` one); the page computes a page at a time."""
    if not experiment_names(ws):  # assignments, per-user outcomes or per-arm totals
        return Overview(empty=True, experiments=(), thresholds=thresholds(ws))
    shared = shared_evidence(ws)
    names = [s.name for s in list_experiments(ws) if only is None or s.name == only]
    out = tuple(experiment_overview(ws, name, shared, every_metric=every_metric) for name in names)
    return Overview(empty=False, experiments=out, thresholds=shared.thresholds)

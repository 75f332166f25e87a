"""Plain-language verdicts: one sentence per metric that a founder can read in two minutes."""

from __future__ import annotations

from dataclasses import replace

from analytics import stats
from analytics.errors import LiftboardError
from analytics.experiments.results import ExperimentResult, MetricResult
from analytics.experiments.spec import DAY, MetricSpec
from analytics.stats import Comparison, SrmResult


def arm_name(name: str) -> str:
    """How an arm is named in a sentence: short acronyms upper-cased (``ai`` → ``AI``)."""
    return name.upper() if len(name) <= 3 and name.isalpha() else name


def _sign(v: float) -> str:
    return "−" if v < 0 else "+"


def _usd(v: float, *, signed: bool = False) -> str:
    a = abs(v)
    body = "0.00" if a == 0 else (f"{a:,.2f}" if a >= 0.1 else f"{a:.2g}")
    return (_sign(v) if signed else ("−" if v < 0 else "")) + "$" + body


def _num(v: float, *, signed: bool = False) -> str:
    # Three significant digits, but never an exponent for thousands (a p90 latency of 1,407 ms, not 1.41e+03).
    body = f"{abs(v):,.0f}" if abs(v) >= 1000 else f"{abs(v):.3g}"
    return (_sign(v) if signed else ("−" if v < 0 else "")) + body


def value(spec: MetricSpec, v: float) -> str:
    """A metric value in its unit: 10.1%, $3.89, 0.255."""
    if spec.unit == "share":
        return f"{v * 100:.1f}%"
    return _usd(v) if spec.unit == "usd" else _num(v)


def delta(spec: MetricSpec, v: float) -> str:
    """A signed absolute difference: +1.5 pp, +$0.32, −0.0017."""
    if spec.unit == "share":
        return f"{_sign(v)}{abs(v) * 100:.1f} pp"
    return _usd(v, signed=True) if spec.unit == "usd" else _num(v, signed=True)


def percent(v: float | None) -> str:
    return "n/a" if v is None else f"{_sign(v)}{abs(v) * 100:.1f}%"


def p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"


def _ci(spec: MetricSpec, c: Comparison) -> str:
    """The interval drawn next to the mark: the relative lift's, or the absolute one's when that is the estimand."""
    level = f"{(1 - c.alpha) * 100:g}%"
    if c.estimand == "relative" and c.rel_ci is not None:
        return f"{level} CI {percent(c.rel_ci[0])} to {percent(c.rel_ci[1])}"
    lo, hi = c.abs_ci
    if spec.unit == "share":
        return f"{level} CI {_sign(lo)}{abs(lo) * 100:.1f} to {_sign(hi)}{abs(hi) * 100:.1f} pp"
    return f"{level} CI {delta(spec, lo)} to {delta(spec, hi)}"


def _chance(c: Comparison) -> str:
    p = c.shown_p_value
    raw = c.rel_p_value if c.estimand == "relative" and c.rel_p_value is not None else c.p_value
    shown = p_text(p) if p == raw else p_text(p).replace("p ", "adjusted p ", 1)
    if c.significant:
        return f"This is {'very ' if p < 0.001 else ''}unlikely to be chance ({shown})."
    return f"This could well be chance ({shown}), so the data do not show a real difference yet."


def sentence(spec: MetricSpec, c: Comparison) -> str:
    """One verdict: what changed, by how much, with the interval, then how sure we are."""
    who = f"The {arm_name(c.variant)} variant"
    up = c.abs_lift > 0
    numbers = f"{delta(spec, c.abs_lift)}, {percent(c.rel_lift)}, {_ci(spec, c)}"
    if spec.lower_is_better:
        verb = "raised" if up else "lowered"
        if c.abs_lift == 0:
            verb = "did not change"
        rel = f"{percent(c.rel_lift)}, " if c.rel_lift is not None else ""
        what = (
            f"{who} {verb} {spec.label} by {value(spec, abs(c.abs_lift))} "
            f"({rel}from {value(spec, c.mean_baseline)} to {value(spec, c.mean_variant)}; {_ci(spec, c)})."
        )
        return f"{what} {_chance(c)}"
    if c.significant:
        verb = "raised" if up else "lowered"
        what = (
            f"{who} {verb} {spec.label} from {value(spec, c.mean_baseline)} to {value(spec, c.mean_variant)} "
            f"({numbers})."
        )
    else:
        what = (
            f"{who} did not clearly change {spec.label}: {value(spec, c.mean_variant)} against "
            f"{value(spec, c.mean_baseline)} in {c.baseline} ({numbers})."
        )
    return f"{what} {_chance(c)}"


#: Above this share of exposed users left out of a metric, the verdict opens with it (not a parenthesis).
LEFT_OUT_SHARE = 0.10


def left_out_sentence(m: MetricResult) -> str | None:
    """The first sentence of a verdict that leaves out more than a tenth of the exposed users: how many,
    why, and the fix (a shorter window or the date the data are complete through); None otherwise."""
    if m.left_out_share <= LEFT_OUT_SHARE or not m.left_out:
        return None
    base = m.exposed_users + m.multi_variant
    why = []
    if m.incomplete:
        if m.spec.windowed:
            why.append(
                f"{m.incomplete:,} because their {m.spec.window_phrase} had not ended when the data end"
            )
        else:
            why.append(f"{m.incomplete:,} because they have no value in {m.spec.label}")
    if m.multi_variant:
        why.append(f"{m.multi_variant:,} because they saw more than one arm")
    fixes = []
    if m.incomplete and m.spec.windowed:
        shorter = replace(m.spec, window=DAY if m.spec.window > DAY else max(3_600, m.spec.window // 2)).text
        fixes.append(
            f"use a shorter window (e.g. {shorter}) or set the date the data are complete through "
            "(--data-through YYYY-MM-DD, or Data complete through on the Experiments page)"
        )
    elif m.incomplete:
        fixes.append(
            f"fill in the blank {m.spec.label} values, or check that the column is the outcome you meant"
        )
    if m.multi_variant:
        fixes.append("check the assignment: a user should see one arm")
    return (
        f"⚠️ {m.left_out:,} of {base:,} exposed users ({m.left_out_share:.0%}) are left out of {m.spec.label}: "
        f"{'; '.join(why)}. To count them, {'; and '.join(fixes)}."
    )


def metric_sentences(m: MetricResult) -> list[str]:
    """The verdict of a metric: users left out first when they are many, one sentence per arm, then guardrail lines, then the note."""
    loud = left_out_sentence(m)
    return (
        ([loud] if loud else [])
        + [sentence(m.spec, c) for c in m.comparisons]
        + [guardrail_sentence(g, m.spec) for g in m.guardrail_checks]
        + ([m.note[0].upper() + m.note[1:]] if m.note else [])
    )


def interval_width(spec: MetricSpec, width: float) -> str:
    """An interval's width in the metric's unit (percentage points for shares)."""
    return f"{width * 100:.3f} pp" if spec.unit == "share" else f"{width:.4g}"


def cuped_sentences(m: MetricResult) -> list[str]:
    """Under CUPED and/or post-stratification, how much they reduced the variance of the lift and narrowed each
    variant's interval (against the same comparison without them); else nothing."""
    out = []
    for c in m.comparisons:
        narrowing = m.cuped_narrowing(c.variant)
        r = c.variance_reduction
        if narrowing is None or r is None:
            continue
        how = " and ".join(
            x
            for x in (
                "CUPED" if c.cuped else "",
                f"post-stratifying by {m.stratified_by}" if c.strata else "",
            )
            if x
        )
        how = how[0].upper() + how[1:] if how else "CUPED"
        w0, w1, share = narrowing
        if r <= 0.0005:
            # The attribute (or the pre-period) says nothing about the metric here: say so, not "reduced by −0.1%".
            out.append(
                f"{how} did not reduce the variance of {m.spec.label} for {arm_name(c.variant)} ({r * 100:+.1f}%)."
            )
            continue
        out.append(
            f"{how} reduced the variance of {m.spec.label} by {r * 100:.1f}%; the "
            f"{arm_name(c.variant)} interval went from {interval_width(m.spec, w0)} to "
            f"{interval_width(m.spec, w1)} wide ({share * 100:.1f}% narrower)."
        )
    return out


def quantile_arms_sentence(m: MetricResult, alpha: float = 0.05) -> str | None:
    """Each arm's quantile with its own interval, e.g. "p90 latency_ms per arm: small 393 (95% CI 385 to 401)…"."""
    parts = []
    for a in m.variants:
        ci = a.quantile_interval(alpha)
        if ci is None:
            return None
        parts.append(
            f"{arm_name(a.name)} {value(m.spec, a.mean)} ({(1 - alpha) * 100:g}% CI {value(m.spec, ci[0])} to "
            f"{value(m.spec, ci[1])}; {a.moments.n:,} values from {a.users:,} users)"
        )
    return f"{m.spec.level} {m.spec.column} per arm: " + ", ".join(parts) + "."


def srm_sentence(srm: SrmResult) -> str | None:
    """The loud warning shown above everything when the split is off (p < 0.001); None when it is fine."""
    if srm.ok:
        return None
    total = sum(srm.observed.values())
    seen = ", ".join(f"{k} {v:,}" for k, v in srm.observed.items())
    want = " / ".join(f"{v / total * 100:.0f}%" for v in srm.expected.values())
    return (
        f"Sample ratio mismatch: the users are not split between arms as planned ({seen}; expected {want}; "
        f"{p_text(srm.p_value)}). Assignment or logging is broken somewhere, so do not trust these results "
        "until it is fixed."
    )


def not_enough_data(m: MetricResult, control: str, *, power: float = 0.8) -> str | None:
    """ "Not enough data yet" for a non-significant comparison whose observed lift needs more users; else None.

    The users needed come from the variance of the lift in both arms (GrowthBook's mid-experiment power).
    """
    ctrl = m.arm(m.baseline or control)
    n = min(a.users for a in m.variants)
    for c in m.comparisons:
        if c.significant or c.rel_lift is None or abs(c.rel_lift) < 0.005:
            continue
        var = m.arm(c.variant)
        try:
            need = stats.sample_size_per_arm(ctrl.mean, ctrl.variance, abs(c.rel_lift), variant_mean=var.mean,
                                             variant_var=var.variance, alpha=c.alpha, power=power)  # fmt: skip
        except LiftboardError:
            continue
        # Beyond ten times today's sample the honest reading is "no effect of that size", not "wait".
        if n < need <= 10 * n:
            return (
                f"Not enough data yet for {m.spec.label}: about {need - n:,} more users per arm are needed to "
                f"detect a lift of {abs(c.rel_lift) * 100:.1f}% (the size seen so far) with "
                f"{power * 100:.0f}% power."
            )
    return None


def bayesian_sentence(c: Comparison, spec: MetricSpec | None = None) -> str | None:
    """The Bayesian view from the variant's side: for a lower-is-better metric a decrease is the win."""
    if c.chance_to_win is None:
        return None
    direction = " (lower is better)" if c.lower_is_better else ""
    text = f"Chance that {arm_name(c.variant)} is better than {c.baseline}{direction}: {c.chance_to_win * 100:.1f}%"
    if c.risk is not None:
        if c.risk_scale == "relative":
            text += f"; risk if you ship it: {c.risk * 100:.2f}% (expected relative loss)"
        else:
            text += (
                f"; risk if you ship it: {value(spec, c.risk) if spec else f'{c.risk:.3g}'} (expected loss)"
            )
    if c.credible_interval is not None:
        lo, hi = c.credible_interval
        level = f"{(1 - c.alpha) * 100:g}%"
        if c.risk_scale == "relative":
            text += f"; {level} credible interval of the lift {percent(lo)} to {percent(hi)}"
        elif spec is not None:
            text += f"; {level} credible interval {delta(spec, lo)} to {delta(spec, hi)}"
    text += (
        f" ({'prior ±' + format(c.prior_sd * 100, 'g') + '% on the lift' if c.prior_sd else 'flat prior'})"
    )
    return text + "."


def guardrail_sentence(check: stats.GuardrailCheck, spec: MetricSpec) -> str:
    """The pass/fail line of a non-inferiority guardrail ("must not get worse than −1%")."""
    level = f"{(1 - check.alpha) * 100:g}%"
    worse = "higher" if check.lower_is_better else "lower"
    limit = percent(check.margin if check.lower_is_better else -check.margin)
    side = "upper" if check.lower_is_better else "lower"
    bound = percent(check.bound) if check.estimand == "relative" else delta(spec, check.bound)
    who = arm_name(check.variant)
    if check.passed:
        return (
            f"✅ Guardrail passed: {who} keeps {spec.label} no worse than {limit} ({side} {level} bound {bound}, "
            f"{p_text(check.p_value)})."
        )
    return (
        f"❌ Guardrail not passed: {who} may make {spec.label} more than {check.margin * 100:g}% {worse} "
        f"(the {side} {level} bound {bound} does not clear {limit}; {p_text(check.p_value)})."
    )


def data_end_sentence(
    result: ExperimentResult, fix: str = "set --data-through YYYY-MM-DD if they are complete later"
) -> str | None:
    """Where the data end for this analysis, and why: the date set by the user, or the data themselves
    (``fix``: how to set the date where the reader is)."""
    if result.source == "totals" or result.source == "quick":
        return "Per-arm totals: segments, CUPED and curves over time need per-user rows."
    if result.data_through is not None:
        return f"Data complete through {result.data_through:%Y-%m-%d}, as set: a window ending by then counts as elapsed."
    if result.data_end is None:
        return None
    windowed = any(m.spec.windowed for m in result.metrics)
    what = "the last event" if windowed else "the last exposure"
    return f"The data end at {result.data_end:%Y-%m-%d %H:%M} ({what}); {fix}."


def headline(result: ExperimentResult) -> str:
    """The first sentence of the page and the report: the primary metric's verdict (or the first metric's)."""
    primary = next((m for m in result.metrics if m.role == "primary"), result.metrics[0])
    return " ".join(metric_sentences(primary))

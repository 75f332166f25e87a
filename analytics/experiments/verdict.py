"""Plain-language verdicts: one sentence per metric that a founder can read in two minutes."""

from __future__ import annotations

from analytics import stats
from analytics.errors import LiftboardError
from analytics.experiments.results import ExperimentResult, MetricResult
from analytics.experiments.spec import MetricSpec
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
    body = f"{abs(v):.3g}"
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
    level = f"{(1 - c.alpha) * 100:g}%"
    lo, hi = c.abs_ci
    if spec.unit == "share":
        return f"{level} CI {_sign(lo)}{abs(lo) * 100:.1f} to {_sign(hi)}{abs(hi) * 100:.1f} pp"
    return f"{level} CI {delta(spec, lo)} to {delta(spec, hi)}"


def _chance(c: Comparison) -> str:
    p = c.p_value_adjusted
    shown = p_text(p) if p == c.p_value else p_text(p).replace("p ", "adjusted p ", 1)
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
        what = (
            f"{who} {verb} {spec.label} by {value(spec, abs(c.abs_lift))} "
            f"(from {value(spec, c.mean_baseline)} to {value(spec, c.mean_variant)}; {_ci(spec, c)})."
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


def metric_sentences(m: MetricResult) -> list[str]:
    return [sentence(m.spec, c) for c in m.comparisons] + ([m.note[0].upper() + m.note[1:]] if m.note else [])


def interval_width(spec: MetricSpec, width: float) -> str:
    """An interval's width in the metric's unit (percentage points for shares)."""
    return f"{width * 100:.3f} pp" if spec.unit == "share" else f"{width:.4g}"


def cuped_sentences(m: MetricResult) -> list[str]:
    """Under CUPED, how much it reduced the variance and narrowed each variant's interval; else nothing."""
    out = []
    for c in m.comparisons:
        narrowing = m.cuped_narrowing(c.variant)
        if narrowing is None or m.variance_reduction is None:
            continue
        w0, w1, share = narrowing
        out.append(
            f"CUPED reduced the variance of {m.spec.label} by {m.variance_reduction * 100:.1f}%; the "
            f"{arm_name(c.variant)} interval went from {interval_width(m.spec, w0)} to "
            f"{interval_width(m.spec, w1)} wide ({share * 100:.1f}% narrower)."
        )
    return out


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
    """ "Not enough data yet" for a non-significant comparison whose observed lift needs more users; else None."""
    ctrl = m.arm(m.baseline or control)
    n = min(a.users for a in m.variants)
    for c in m.comparisons:
        if c.significant or c.rel_lift is None or abs(c.rel_lift) < 0.005:
            continue
        try:
            need = stats.sample_size_per_arm(
                ctrl.mean, ctrl.variance, abs(c.rel_lift), alpha=c.alpha, power=power
            )
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


def bayesian_sentence(c: Comparison) -> str | None:
    if c.chance_to_beat is None:
        return None
    text = f"Chance that {arm_name(c.variant)} beats {c.baseline}: {c.chance_to_beat * 100:.1f}%"
    if c.expected_loss is not None:
        text += f"; expected loss if you ship it: {c.expected_loss * 100:.2f}% (relative)"
    return text + "."


def headline(result: ExperimentResult) -> str:
    """The first sentence of the page and the report: the primary metric's verdict (or the first metric's)."""
    primary = next((m for m in result.metrics if m.role == "primary"), result.metrics[0])
    return " ".join(metric_sentences(primary))

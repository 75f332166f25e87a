"""The founder's report: one self-contained, printable HTML file per experiment (no network needed to open it)."""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import plotly.graph_objects as go
import plotly.offline

from analytics import experiments
from analytics.charts import cumulative_lift_chart
from analytics.errors import LiftboardError
from analytics.experiments import cumulative_lift, verdict
from analytics.overview import evidence
from analytics.stats import method_notes
from analytics.workspace import Workspace, experiment_names

_CSS = """
:root { --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --good: #1a7f37; --bad: #b35900; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: var(--fg);
       max-width: 1000px; margin: 2rem auto; padding: 0 1.2rem; line-height: 1.45; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
.muted { color: var(--muted); font-size: .92rem; }
.verdict { font-size: 1.1rem; margin: .4rem 0; }
.warn { border-left: 4px solid var(--bad); background: #fff4e5; padding: .6rem .9rem; margin: .8rem 0; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; margin: .6rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .45rem; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.pass { color: var(--good); font-weight: 600; } .fail { color: var(--bad); font-weight: 600; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: .7rem; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: .6rem .8rem; overflow-wrap: anywhere; }
td { overflow-wrap: anywhere; }
.notes { font-size: .88rem; } .notes code { font-size: .85rem; }
@page { size: auto; margin: 14mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10.5pt; }
  h2 { break-after: avoid; } table, .card, .chart, section { break-inside: avoid; }
  .warn { background: none; }
  a { color: inherit; text-decoration: none; }
}
"""


@dataclass(frozen=True)
class Report:
    experiment: str
    html: str


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _fmt(x: float | None, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    return f"{x:.{digits}g}"


def _markdown(text: str) -> str:
    """The few Markdown forms the method notes use (paragraphs, bullets, **bold**, `code`), escaped first."""
    out, items = [], []

    def inline(line: str) -> str:
        line = _e(line)
        line = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", line)
        return re.sub(r"`(.+?)`", r"<code>\1</code>", line)

    for raw in text.splitlines() + [""]:
        line = raw.strip()
        if line.startswith(("- ", "* ")):
            items.append(f"<li>{inline(line[2:])}</li>")
            continue
        if items:
            out.append(f"<ul>{''.join(items)}</ul>")
            items = []
        if line:
            out.append(f"<p>{inline(line)}</p>")
    return "".join(out)


def _p(raw: float | None, adjusted: float | None) -> str:
    if raw is None:
        return "—"
    if adjusted is None or adjusted == raw:
        return _fmt(raw, 3)
    return f"{_fmt(raw, 3)} (adj. {_fmt(adjusted, 3)})"


def _lift_table(result: experiments.ExperimentResult) -> str:
    """Both lifts with their own p-values, which one the mark follows, and the Bayesian view (mirrored for costs)."""
    head = (
        "<tr><th>Metric</th><th>Variant</th><th class=num>Control</th><th class=num>Variant</th>"
        "<th class=num>Abs. lift (CI)</th><th class=num>p (abs.)</th><th class=num>Rel. lift (CI)</th>"
        "<th class=num>p (rel.)</th><th>Significant</th><th class=num>Chance to win</th>"
        "<th class=num>Risk</th></tr>"
    )
    rows = []
    for m in result.metrics:
        for c in m.comparisons:
            rel = (
                "—" if c.rel_lift is None else f"{c.rel_lift:+.1%} ({c.rel_ci[0]:+.1%} to {c.rel_ci[1]:+.1%})"
            )
            risk = "—"
            if c.risk is not None:
                risk = f"{c.risk:.2%}" if c.risk_scale == "relative" else verdict.value(m.spec, c.risk)
            win = "—" if c.chance_to_win is None else f"{c.chance_to_win:.1%}"
            role = m.role + (", lower is better" if m.spec.lower_is_better else "")
            rows.append(
                f"<tr><td>{_e(m.spec.text)}<br><span class=muted>{_e(role)}</span></td><td>{_e(c.variant)}</td>"
                f"<td class=num>{_e(verdict.value(m.spec, c.mean_baseline))}</td>"
                f"<td class=num>{_e(verdict.value(m.spec, c.mean_variant))}</td>"
                f"<td class=num>{_e(verdict.delta(m.spec, c.abs_lift))} "
                f"({_e(verdict.delta(m.spec, c.abs_ci[0]))} to {_e(verdict.delta(m.spec, c.abs_ci[1]))})</td>"
                f"<td class=num>{_e(_p(c.p_value, c.p_value_adjusted))}</td><td class=num>{_e(rel)}</td>"
                f"<td class=num>{_e(_p(c.rel_p_value, c.rel_p_value_adjusted))}</td>"
                f"<td>{'yes' if c.significant else 'no'} <span class=muted>({_e(c.estimand)})</span></td>"
                f"<td class=num>{_e(win)}</td><td class=num>{_e(risk)}</td></tr>"
            )
    counts = ", ".join(f"{_e(v)}: {n:,}" for v, n in result.exposed.items())
    return (
        f"<table>{head}{''.join(rows)}</table><p class=muted>{_e(result.control_choice.sentence())} "
        f"Exposed users — {counts}. “Significant” follows the "
        f"(adjusted) p-value of the {_e(result.estimand)} lift. Chance to win and risk are the Bayesian view, read "
        "from the variant's side: for a lower-is-better metric a decrease wins.</p>"
    )


def _figure(fig: go.Figure, div_id: str) -> str:
    # A fixed div id keeps the report byte-for-byte deterministic (plotly would pick a random one).
    return (
        "<div class=chart>"
        + fig.to_html(
            full_html=False, include_plotlyjs=False, div_id=div_id, config={"displayModeBar": False}
        )
        + "</div>"
    )


def _cumulative_chart(ws: Workspace, exp: evidence.ExperimentOverview) -> str:

    if exp.primary is None:
        return ""
    try:
        curve = cumulative_lift(ws, exp.experiment, exp.primary, control=exp.result.control, by="date")
    except LiftboardError as exc:
        return f"<p class=muted>{_e(exc)}</p>"
    fig = cumulative_lift_chart(curve)
    fig.update_layout(template="plotly_white", paper_bgcolor="white", plot_bgcolor="white")
    return _figure(fig, "cumulative-lift")


def _ladder(exp: evidence.ExperimentOverview) -> str:
    parts = []
    for stage in exp.ladder.stages:
        rows = "".join(
            f"<tr><td class={'pass' if r.passed else 'fail'}>{'pass' if r.passed else 'fail'}</td>"
            f"<td>{_e(r.name)}</td><td>{_e(r.detail)}"
            + ("" if r.passed or not r.next_step else f"<br><span class=muted>Next: {_e(r.next_step)}</span>")
            + "</td></tr>"
            for r in stage.rules
        )
        parts.append(
            f"<h3>{_e(stage.name)} — {'reached' if stage.passed else 'not yet'}</h3><table>{rows}</table>"
        )
    return "".join(parts)


def _provenance(ws: Workspace) -> str:
    rows = ws.query(
        "SELECT kind, file_name, content_hash, rows, mode, loaded_at, loaded_by, source FROM lb_loads ORDER BY load_id",
        purpose="the provenance query",
    )
    body = "".join(
        f"<tr><td>{_e(k)}</td><td>{_e(f or '')}</td><td><code>{_e((h or '')[:16])}</code></td>"
        f"<td class=num>{(n or 0):,}</td><td>{_e(m or '')}</td><td>{_e(f'{t:%Y-%m-%d %H:%M}' if t else '')}</td><td>{_e(b or '')}</td>"
        f"<td>{_e(s or '')}</td></tr>"
        for k, f, h, n, m, t, b, s in rows
    )
    return (
        "<table><tr><th>Kind</th><th>File</th><th>SHA-256</th><th class=num>Rows</th><th>Mode</th>"
        f"<th>Loaded at</th><th>By</th><th>Source</th></tr>{body}</table>"
    )


def _data_line(result: experiments.ExperimentResult) -> str:
    """Where the data end, for the report's header line (per-arm totals and untimed per-user rows have no time)."""
    if result.source == "totals":
        return "per-arm totals"
    if result.data_through is not None:
        return f"data complete through {result.data_through:%Y-%m-%d}"
    if result.data_end is None:
        return "per-user outcomes, without times"
    return f"data up to {result.data_end:%Y-%m-%d %H:%M}"


def build_report(ws: Workspace, experiment: str, *, generated_at: datetime | None = None) -> Report:
    """Render the report for one experiment; the same workspace gives the same bytes but for the date line."""
    if experiment not in experiment_names(ws):
        raise experiments.no_such_experiment(ws, experiment)
    # One analysis of every configured metric feeds the Overview's cards, the verdict and the table alike.
    (exp,) = evidence.build(ws, only=experiment, every_metric=True).experiments
    if exp.primary is None:
        raise LiftboardError(
            f"The experiment {experiment!r} has no primary metric; choose one on the Experiments page first."
        )
    cfg = experiments.config_with_defaults(ws, experiment)
    if exp.result is None:  # the analysis failed: its card says why
        raise LiftboardError(exp.cards[0].reading)
    result = exp.result
    when = (generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")

    srm = verdict.srm_sentence(result.srm)
    sentences = "".join(
        f"<p class=verdict>{_e(s)}</p>" for m in result.metrics for s in verdict.metric_sentences(m)
    )
    cards = "".join(
        f"<div class=card><strong>{_e(c.title)}</strong><br>{_e(c.reading)}</div>" for c in exp.cards
    )
    notes = "\n\n".join(
        method_notes(kind, sequential=result.sequential, cuped=result.cuped, alpha=result.alpha,
                     stratify=result.stratify, estimand=result.estimand)
        for kind in dict.fromkeys(m.spec.aggregate for m in result.metrics)
    )  # fmt: skip
    body = f"""
<header>
<h1>{_e(experiment)}</h1>
<p class=muted>Liftboard report · generated {when} · {_e(_data_line(result))} ·
workspace {_e(Path(ws.path).name)}</p>
{f"<p>{_e(cfg.description)}</p>" if cfg.description else ""}
</header>
{f"<div class=warn><strong>Sample-ratio mismatch.</strong> {_e(srm)}</div>" if srm and not result.srm.ok else ""}
<section><h2>Verdict</h2>{sentences}</section>
<section><h2>Lift by metric</h2>{_lift_table(result)}</section>
<section><h2>Cumulative lift of the primary metric</h2>{_cumulative_chart(ws, exp)}</section>
<section><h2>Cost, stability and what users say</h2><div class=cards>{cards}</div></section>
<section><h2>From MVP to scale</h2>
<p>Stage reached: <strong>{_e(exp.ladder.reached or "none yet")}</strong>.</p>{_ladder(exp)}</section>
<section class=notes><h2>Method</h2>{_markdown(notes)}</section>
<section><h2>Data provenance</h2>{_provenance(ws)}</section>
"""
    page = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width, initial-scale=1'><title>{_e(experiment)} — Liftboard</title>"
        f"<style>{_CSS}</style><script>{plotly.offline.get_plotlyjs()}</script></head>"
        f"<body>{body}</body></html>"
    )
    return Report(experiment, page)


def write_report(ws: Workspace, experiment: str, out: str | Path) -> Path:
    """Write the report file atomically (a half-written report never replaces a good one)."""
    out = Path(out)
    if out.is_dir():
        raise LiftboardError(f"{out} is a directory; give a file name such as report.html.")
    if not out.parent.exists():
        raise LiftboardError(f"The folder {out.parent} does not exist; create it or choose another --out.")
    report = build_report(ws, experiment)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(report.html, encoding="utf-8")
    tmp.replace(out)
    return out

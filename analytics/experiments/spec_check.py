"""The metric language checked against a workspace: the events, signals and columns a spec names exist."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Sequence
from dataclasses import replace

from analytics.errors import LiftboardError
from analytics.experiments.spec import MetricSpec, parse_metric, window_text
from analytics.workspace import Workspace, is_money


def check_names(spec: MetricSpec, events: Collection[str], signals: Collection[str] = ()) -> None:
    """Raise if the spec names an event (or feedback signal) the data does not have; suggest close names."""
    for name in spec.events:
        if name not in events:
            raise LiftboardError(_unknown("event", name, events))
    if spec.signal is not None and spec.signal not in signals:
        raise LiftboardError(_unknown("feedback signal", spec.signal, signals))


def _unknown(what: str, name: str, known: Collection[str]) -> str:
    shown = repr(name if len(name) <= 80 else name[:80] + "…")  # a pasted megabyte is not echoed back whole
    close = difflib.get_close_matches(name[:200], list(known), n=3, cutoff=0.5)
    if close:
        return f"There is no {what} {shown} in the data; did you mean {', '.join(close)}?"
    listed = ", ".join(sorted(known)[:12]) or "none"
    return f"There is no {what} {shown} in the data; the known ones are: {listed}."


def parse_metrics(ws: Workspace, texts: Sequence[str]) -> list[MetricSpec]:
    """Parse specs and check their event and signal names against the workspace (duplicates dropped).

    A ``mean:`` spec is also checked to read an event that carries values (else every user would be 0 and the
    comparison "$0.00 against $0.00"), and learns whether the values are money. ``outcome:`` specs are checked
    against the experiment's table by the analysis (``experiments.outcomes``).
    """
    specs: list[MetricSpec] = []
    for t in texts:
        s = _resolve_quantile(ws, parse_metric(t))
        if s not in specs:
            specs.append(s)
    if not specs:
        raise LiftboardError("Choose at least one metric, e.g. conversion:purchase:7d.")
    named = sorted({n for s in specs for n in s.events})
    means = sorted({s.event for s in specs if s.kind == "mean" and s.event})
    if means and "value" not in ws.columns("events"):
        raise LiftboardError(
            f"The events table has no value column, so mean:{means[0]} cannot be computed; load events with "
            f"a value (e.g. the purchase amount), or count {means[0]} events with count:{means[0]}:7d."
        )
    events: set[str] = set()
    valued: set[str] = set()
    purpose = "the event and signal names"
    if named:
        table = ws.table("events")
        # Look up only the named events; list every name only when one is missing (for the suggestion).
        marks = ", ".join("?" for _ in named)
        if means:  # the same scan tells which named events carry a value
            sql = f"SELECT event, count(value) FROM {table} WHERE event IN ({marks}) GROUP BY event"
            rows = ws.query(sql, named, purpose=purpose)
            events = {r[0] for r in rows}
            valued = {r[0] for r in rows if r[1]}
        else:
            sql = f"SELECT DISTINCT event FROM {table} WHERE event IN ({marks})"
            events = {r[0] for r in ws.query(sql, named, purpose=purpose)}
        if len(events) < len(named):
            events = {r[0] for r in ws.query(f"SELECT DISTINCT event FROM {table}", purpose=purpose)}
    signals: set[str] = set()
    if any(s.kind == "feedback" for s in specs):
        signals = {
            r[0] for r in ws.query(f"SELECT DISTINCT signal FROM {ws.table('feedback')}", purpose=purpose)
        }
    valued_money = any(s.kind in ("mean", "quantile") for s in specs) and is_money(ws, "events", "value")
    out = []
    for s in specs:
        check_names(s, events, signals)
        if s.kind == "mean":
            if s.event not in valued:
                raise LiftboardError(
                    f"The event {s.event!r} has no value in the value column, so {s.text} would be 0 for every "
                    f"user; choose an event that carries a value (such as a purchase amount), or count it with "
                    f"count:{s.event}:{window_text(s.window)}."
                )
            s = replace(s, money=valued_money)
        if s.kind == "cost":
            ws.table("predictions")
            ws.column("predictions", "cost_usd")
        if s.kind == "quantile" and s.table == "events":
            if "value" not in ws.columns("events"):
                raise LiftboardError(
                    f"The events table has no value column, so {s.text} has no values to take a quantile of."
                )
            s = replace(s, money=valued_money)
        out.append(s)
    return out


def _resolve_quantile(ws: Workspace, s: MetricSpec) -> MetricSpec:
    """A quantile names a numeric predictions column, else an event whose values it reads."""
    if s.kind != "quantile" or s.table is not None:
        return s
    name = s.column or ""
    numeric = ("DOUBLE", "FLOAT", "REAL", "DECIMAL", "INTEGER", "BIGINT", "SMALLINT", "TINYINT", "HUGEINT")
    if ws.has_table("predictions"):
        cols = ws.columns("predictions")
        if name in cols and name not in ("user_id", "prediction_id", "timestamp"):
            if not str(cols[name]).upper().startswith(numeric):
                raise LiftboardError(
                    f"The predictions column {name!r} is not numeric ({cols[name]}), so it has no quantiles."
                )
            return replace(s, table="predictions")
    return replace(s, table="events")

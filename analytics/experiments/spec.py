"""The metric language (`conversion:purchase:7d`, …): parsing, windows and checks against the schema."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from analytics.errors import LiftboardError
from analytics.workspace import Workspace

MetricKind = Literal["conversion", "retention", "mean", "count", "ratio", "cost", "feedback"]
KINDS: tuple[MetricKind, ...] = get_args(MetricKind)

DAY = 86_400

DEFAULT_WINDOW = 7 * DAY

#: CUPED's covariate is the same metric over (up to) the 14 days before exposure.
PRE_WINDOW = 14 * DAY

_UNITS = {"h": 3_600, "d": DAY, "w": 7 * DAY}

_UNIT_WORDS = {"h": "hour", "d": "day", "w": "week"}

_DURATION = re.compile(r"^(\d+)([hdw])$")


def parse_window(text: str) -> int:
    """A duration such as ``72h``, ``7d`` or ``2w`` in seconds."""
    m = _DURATION.match(text.strip().lower())
    if not m or int(m.group(1)) <= 0:
        raise LiftboardError(f"The window {text!r} is not a duration; write it like 72h, 7d or 2w.")
    return int(m.group(1)) * _UNITS[m.group(2)]


def window_text(seconds: int) -> str:
    """The canonical spelling of a window: whole weeks are written in days (``14d``), else hours."""
    if seconds % DAY == 0:
        return f"{seconds // DAY}d"
    return f"{seconds // 3_600}h"


def _window_words(seconds: int) -> str:
    if seconds % DAY == 0:
        return f"{seconds // DAY}-day"
    return f"{seconds // 3_600}-hour"


@dataclass(frozen=True)
class MetricSpec:
    """One parsed metric. ``window`` is in seconds; for retention it is the day offset."""

    kind: MetricKind
    event: str | None = None
    denominator: str | None = None
    signal: str | None = None
    window: int = DEFAULT_WINDOW

    @property
    def text(self) -> str:
        """The canonical spec, e.g. ``conversion:purchase:7d``."""
        w = window_text(self.window)
        if self.kind == "retention":
            return f"retention:{w}"
        if self.kind == "cost":
            return f"cost:{w}"
        if self.kind == "ratio":
            return f"ratio:{self.event}/{self.denominator}:{w}"
        if self.kind == "feedback":
            return f"feedback:{self.signal}:{w}"
        return f"{self.kind}:{self.event}:{w}"

    @property
    def start(self) -> int:
        """Start of the per-user window, in seconds after exposure."""
        return self.window if self.kind == "retention" else 0

    @property
    def end(self) -> int:
        """End (exclusive) of the per-user window, in seconds after exposure."""
        return self.window + DAY if self.kind == "retention" else self.window

    @property
    def aggregate(self) -> str:
        """How per-user values combine: ``proportion``, ``mean`` or ``ratio`` (stats.compare's kind)."""
        if self.kind in ("conversion", "retention"):
            return "proportion"
        if self.kind in ("ratio", "feedback"):
            return "ratio"
        return "mean"

    @property
    def lower_is_better(self) -> bool:
        """A cost is a guardrail: less of it is the good direction (the one place this is decided)."""
        return self.kind == "cost"

    def improves(self, delta: float) -> bool:
        """Whether a change of ``delta`` in this metric is for the better."""
        return delta < 0 if self.lower_is_better else delta > 0

    def worsens(self, delta: float) -> bool:
        """Whether a change of ``delta`` in this metric is for the worse."""
        return delta > 0 if self.lower_is_better else delta < 0

    @property
    def unit(self) -> str:
        """``share`` (shown in %), ``usd`` or ``number``."""
        if self.aggregate == "proportion" or self.kind == "feedback":
            return "share"
        if self.kind in ("cost", "mean"):
            return "usd"
        return "number"

    @property
    def label(self) -> str:
        """Words for sentences and axis titles, e.g. ``7-day purchase conversion``."""
        w = _window_words(self.window)
        if self.kind == "conversion":
            return f"{w} {self.event} conversion"
        if self.kind == "retention":
            return f"day-{self.window // DAY} retention" if self.window % DAY == 0 else f"{w} retention"
        if self.kind == "mean":
            return f"{w} {self.event} value per user"
        if self.kind == "count":
            return f"{w} {self.event} events per user"
        if self.kind == "ratio":
            return f"{w} {self.event} per {self.denominator}"
        if self.kind == "cost":
            return f"{w} AI cost per user"
        return f"{w} {self.signal} share of feedback"

    @property
    def source(self) -> str:
        """The table the metric reads: ``events``, ``predictions`` or ``feedback``."""
        return {"cost": "predictions", "feedback": "feedback"}.get(self.kind, "events")

    @property
    def events(self) -> tuple[str, ...]:
        return tuple(e for e in (self.event, self.denominator) if e is not None)


def parse_metric(text: str) -> MetricSpec:
    """Parse one spec; a bad one raises a LiftboardError that names the problem."""
    raw = (text or "").strip()
    parts = raw.split(":")
    kind = parts[0].strip().lower()
    if kind not in KINDS:
        close = [k for k in KINDS if kind and k.startswith(kind)] or difflib.get_close_matches(
            kind, KINDS, n=1
        )
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise LiftboardError(
            f"Unknown metric kind {parts[0]!r} in {raw!r}{hint}; the kinds are: {', '.join(KINDS)}."
        )
    args = [p.strip() for p in parts[1:]]

    def window_at(i: int) -> int:
        if len(args) > i + 1:
            raise LiftboardError(f"The metric {raw!r} has too many ':' parts; see the metric language.")
        return parse_window(args[i]) if len(args) > i and args[i] else DEFAULT_WINDOW

    if kind == "retention":
        if len(args) != 1 or not args[0]:
            raise LiftboardError(f"The metric {raw!r} needs a day, like retention:7d.")
        day = args[0] + "d" if args[0].isdigit() else args[0]
        return MetricSpec(kind, window=parse_window(day))
    if kind == "cost":
        return MetricSpec(kind, window=window_at(0))
    if not args or not args[0]:
        what = "NUM/DEN events" if kind == "ratio" else ("a signal" if kind == "feedback" else "an event")
        raise LiftboardError(f"The metric {raw!r} needs {what}, like {_EXAMPLES[kind]}.")
    window = window_at(1)
    if kind == "ratio":
        num, sep, den = args[0].partition("/")
        if not sep or not num.strip() or not den.strip():
            raise LiftboardError(f"The metric {raw!r} needs NUM/DEN events, like {_EXAMPLES[kind]}.")
        return MetricSpec(kind, event=num.strip(), denominator=den.strip(), window=window)
    if kind == "feedback":
        return MetricSpec(kind, signal=args[0], window=window)
    return MetricSpec(kind, event=args[0], window=window)


_EXAMPLES = {
    "conversion": "conversion:purchase:7d",
    "mean": "mean:purchase:7d",
    "count": "count:share:7d",
    "ratio": "ratio:purchase/view:7d",
    "feedback": "feedback:accept:7d",
}


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
    """Parse specs and check their event and signal names against the workspace (duplicates dropped)."""
    specs: list[MetricSpec] = []
    for t in texts:
        s = parse_metric(t)
        if s not in specs:
            specs.append(s)
    if not specs:
        raise LiftboardError("Choose at least one metric, e.g. conversion:purchase:7d.")
    named = sorted({n for s in specs for n in s.events})
    events: set[str] = set()
    if named:
        table = ws.table("events")
        # Look up only the named events; list every name only when one is missing (for the suggestion).
        marks = ", ".join("?" for _ in named)
        sql = f"SELECT DISTINCT event FROM {table} WHERE event IN ({marks})"
        events = {r[0] for r in ws.query(sql, named, purpose="the event and signal names")}
        if len(events) < len(named):
            events = {
                r[0]
                for r in ws.query(f"SELECT DISTINCT event FROM {table}", purpose="the event and signal names")
            }
    signals: set[str] = set()
    if any(s.kind == "feedback" for s in specs):
        signals = {
            r[0]
            for r in ws.query(
                f"SELECT DISTINCT signal FROM {ws.table('feedback')}", purpose="the event and signal names"
            )
        }
    for s in specs:
        check_names(s, events, signals)
        if s.kind == "mean" and "value" not in ws.columns("events"):
            raise LiftboardError("The events table has no value column, so mean: metrics cannot be computed.")
        if s.kind == "cost":
            ws.table("predictions")
            ws.column("predictions", "cost_usd")
    return specs

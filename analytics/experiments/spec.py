"""The metric language (`conversion:purchase:7d`, …): parsing, windows and checks against the schema."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

from analytics.errors import LiftboardError

MetricKind = Literal[
    "conversion", "retention", "mean", "count", "ratio", "cost", "feedback", "quantile", "outcome"
]
KINDS: tuple[MetricKind, ...] = get_args(MetricKind)

DAY = 86_400

DEFAULT_WINDOW = 7 * DAY

#: CUPED's covariate is the same metric over (up to) the 14 days before exposure.
PRE_WINDOW = 14 * DAY

_UNITS = {"h": 3_600, "d": DAY, "w": 7 * DAY}

_UNIT_WORDS = {"h": "hour", "d": "day", "w": "week"}

_DURATION = re.compile(r"^(\d+)([hdw])$")

_LEVEL = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")

#: Prediction-log columns whose quantiles are costs an AI feature imposes (lower is better): latency, money,
#: tokens. A quantile of any other column or of an event's value is read higher-is-better.
LOWER_IS_BETTER_COLUMNS: frozenset[str] = frozenset({"latency_ms", "cost_usd", "tokens_in", "tokens_out"})


#: The longest window: ten years (longer ones overflow the date arithmetic and mean nothing here).
MAX_WINDOW = 3650 * DAY


def parse_window(text: str) -> int:
    """A duration such as ``72h``, ``7d`` or ``2w`` in seconds."""
    m = _DURATION.match(text.strip().lower())
    if not m or int(m.group(1)) <= 0:
        raise LiftboardError(f"The window {text!r} is not a duration; write it like 72h, 7d or 2w.")
    seconds = int(m.group(1)) * _UNITS[m.group(2)]
    if seconds > MAX_WINDOW:
        limit = window_text(MAX_WINDOW)
        raise LiftboardError(
            f"The window {text!r} is longer than ten years ({limit}); write a window of at most {limit}."
        )
    return seconds


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
    """One parsed metric. ``window`` is in seconds; for retention it is the day offset.

    ``outcome:COLUMN`` names a column of a per-user outcomes table (or an outcome of a totals table), read as it
    is, without a window. ``binary`` (a proportion, else a mean) and ``money`` (shown in dollars) are facts of the
    data, set when the spec is checked against a workspace (``parse_metrics``, ``experiments.outcomes``).
    """

    kind: MetricKind
    event: str | None = None
    denominator: str | None = None
    signal: str | None = None
    window: int = DEFAULT_WINDOW
    #: Quantile metrics: the column (of predictions) or event (its value) named in the spec, the level ν, and
    #: the table it was found in (``predictions`` or ``events``; None until :func:`parse_metrics` resolves it).
    column: str | None = None
    quantile: float | None = None
    table: str | None = None
    binary: bool = False
    money: bool = False

    @property
    def level(self) -> str:
        """A quantile's level as written in a spec: ``p90``, ``p99.9``."""
        return f"p{(self.quantile or 0.0) * 100:g}"

    @property
    def text(self) -> str:
        """The canonical spec, e.g. ``conversion:purchase:7d``."""
        w = window_text(self.window)
        if self.kind == "retention":
            return f"retention:{w}"
        if self.kind == "cost":
            return f"cost:{w}"
        if self.kind == "ratio":
            num, den = (
                quote_name(self.event or "", ratio=True),
                quote_name(self.denominator or "", ratio=True),
            )
            return f"ratio:{num}/{den}:{w}"
        if self.kind == "feedback":
            return f"feedback:{quote_name(self.signal or '')}:{w}"
        if self.kind == "quantile":
            return f"quantile:{quote_name(self.column or '')}:{self.level}:{w}"
        if self.kind == "outcome":
            return f"outcome:{quote_name(self.column or '')}"
        return f"{self.kind}:{quote_name(self.event or '')}:{w}"

    @property
    def start(self) -> int:
        """Start of the per-user window, in seconds after exposure."""
        return self.window if self.kind == "retention" else 0

    @property
    def window_phrase(self) -> str:
        """The per-user window in words: ``7-day window``, ``day 7`` (retention)."""
        if self.kind == "retention":
            return (
                f"day {self.window // DAY}"
                if self.window % DAY == 0
                else f"{_window_words(self.window)} mark"
            )
        return f"{_window_words(self.window)} window"

    @property
    def windowed(self) -> bool:
        """True when the metric counts events in a window after exposure (an outcome is read as it is)."""
        return self.kind != "outcome"

    @property
    def end(self) -> int:
        """End (exclusive) of the per-user window, in seconds after exposure."""
        return self.window + DAY if self.kind == "retention" else self.window

    @property
    def aggregate(self) -> str:
        """How values combine: ``proportion``, ``mean``, ``ratio`` or ``quantile`` (stats.compare's kind)."""
        if self.kind in ("conversion", "retention") or (self.kind == "outcome" and self.binary):
            return "proportion"
        if self.kind in ("ratio", "feedback"):
            return "ratio"
        if self.kind == "quantile":
            return "quantile"
        return "mean"

    @property
    def lower_is_better(self) -> bool:
        """Whether a decrease is the good direction (the one place this is decided): AI cost, and quantiles of
        latency, cost or tokens."""
        if self.kind == "quantile":
            return self.table == "predictions" and self.column in LOWER_IS_BETTER_COLUMNS
        return self.kind == "cost"

    def improves(self, delta: float) -> bool:
        """Whether a change of ``delta`` in this metric is for the better."""
        return delta < 0 if self.lower_is_better else delta > 0

    def worsens(self, delta: float) -> bool:
        """Whether a change of ``delta`` in this metric is for the worse."""
        return delta > 0 if self.lower_is_better else delta < 0

    @property
    def unit(self) -> str:
        """``share`` (shown in %), ``usd`` or ``number``: dollars only for money (see workspace.units)."""
        if self.aggregate == "proportion" or self.kind == "feedback":
            return "share"
        if self.kind == "cost" or (self.kind == "quantile" and self.column == "cost_usd"):
            return "usd"
        if self.kind in ("mean", "outcome", "quantile") and self.money:
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
        if self.kind == "quantile":
            what = f"{self.column} value" if self.table == "events" else str(self.column)
            return f"{w} {self.level} {what}"
        if self.kind == "outcome":
            return str(self.column)
        return f"{w} {self.signal} share of feedback"

    @property
    def source(self) -> str:
        """The table the metric reads: ``events``, ``predictions``, ``feedback`` or ``outcomes``."""
        if self.kind == "quantile":
            return self.table or "events"
        return {"cost": "predictions", "feedback": "feedback", "outcome": "outcomes"}.get(self.kind, "events")

    @property
    def events(self) -> tuple[str, ...]:
        if self.kind == "quantile":
            return (self.column,) if self.table == "events" and self.column else ()
        return tuple(e for e in (self.event, self.denominator) if e is not None)


def _split(raw: str, text: str, sep: str) -> list[str]:
    """``text`` cut at each ``sep`` outside double quotes (quotes kept); an unclosed quote is one sentence."""
    parts, start, quoted, opened = [], 0, False, 0
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted  # a doubled quote toggles twice: still inside
            opened = i if quoted else opened
        elif ch == sep and not quoted:
            parts.append(text[start:i])
            start = i + 1
    if quoted:
        name = text[opened:].rstrip()
        raise LiftboardError(f'The metric {raw!r} opens a quote it never closes; write the name as {name}".')
    return [*parts, text[start:]]


def _name(raw: str, part: str) -> str:
    """A name as written: bare (spaces around it dropped) or in double quotes (kept exactly, "" for a quote)."""
    text = part.strip()
    if not text.startswith('"'):
        return text
    end = 1
    while True:
        end = text.index('"', end)
        if text[end + 1 : end + 2] != '"':
            break
        end += 2
    if text[end + 1 :].strip():
        raise LiftboardError(
            f"The metric {raw!r} has text right after a quoted name; put ':' after the closing quote."
        )
    return text[1:end].replace('""', '"')


def quote_name(name: str, *, ratio: bool = False) -> str:
    """A name as the canonical spec writes it: in double quotes when it holds ':', ',', '"' (or '/' in a
    ratio), so that an event such as ``checkout:done`` is written ``conversion:"checkout:done":7d``."""
    special = ':,"' + ("/" if ratio else "")
    if name != name.strip() or not name or any(c in special for c in name):
        return '"' + name.replace('"', '""') + '"'
    return name


def split_specs(text: str) -> list[str]:
    """A comma-separated list of specs (as kept in a URL), commas inside quoted names respected."""
    return [p.strip() for p in _split(text, text, ",") if p.strip()]


def parse_metric(text: str) -> MetricSpec:
    """Parse one spec; a bad one raises a LiftboardError that names the problem.

    The first part names the kind; each kind's own parser (:data:`KIND_PARSERS`) reads the rest. A name that
    holds ':' (or '/' in a ratio, or ',') is written in double quotes: ``conversion:"checkout:done":7d``.
    """
    raw = (text or "").strip()
    parts = _split(raw, raw, ":")
    kind = parts[0].strip().lower()
    if kind not in KIND_PARSERS:
        close = [k for k in KINDS if kind and k.startswith(kind)] or difflib.get_close_matches(
            kind, KINDS, n=1
        )
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise LiftboardError(
            f"Unknown metric kind {parts[0]!r} in {raw!r}{hint}; the kinds are: {', '.join(KINDS)}."
        )
    return KIND_PARSERS[kind](kind, raw, [p.strip() for p in parts[1:]])


def _window_at(raw: str, args: list[str], i: int) -> int:
    """The optional window at ``args[i]``, the last part (default 7 days)."""
    if len(args) > i + 1:
        raise LiftboardError(
            f"The metric {raw!r} has too many ':' parts; a name holding ':' is written in double quotes, "
            'like conversion:"checkout:done":7d.'
        )
    return parse_window(args[i]) if len(args) > i and args[i] else DEFAULT_WINDOW


def _needs_first(kind: MetricKind, raw: str, args: list[str], what: str) -> str:
    """The name the spec gives first (unquoted), or one sentence saying what is missing."""
    name = _name(raw, args[0]) if args else ""
    if not name:
        raise LiftboardError(f"The metric {raw!r} needs {what}, like {EXAMPLES[kind]}.")
    return name


def _retention(kind: MetricKind, raw: str, args: list[str]) -> MetricSpec:
    if len(args) != 1 or not args[0]:
        raise LiftboardError(f"The metric {raw!r} needs a day, like {EXAMPLES[kind]}.")
    day = args[0] + "d" if args[0].isdigit() else args[0]
    return MetricSpec(kind, window=parse_window(day))


def _cost(kind: MetricKind, raw: str, args: list[str]) -> MetricSpec:
    return MetricSpec(kind, window=_window_at(raw, args, 0))


def _event(kind: MetricKind, raw: str, args: list[str]) -> MetricSpec:
    event = _needs_first(kind, raw, args, "an event")
    return MetricSpec(kind, event=event, window=_window_at(raw, args, 1))


def _ratio(kind: MetricKind, raw: str, args: list[str]) -> MetricSpec:
    pieces = _split(raw, args[0], "/") if args else []
    names = [_name(raw, p) for p in pieces]
    if len(names) != 2 or not all(names):
        raise LiftboardError(f"The metric {raw!r} needs NUM/DEN events, like {EXAMPLES[kind]}.")
    return MetricSpec(kind, event=names[0], denominator=names[1], window=_window_at(raw, args, 1))


def _feedback(kind: MetricKind, raw: str, args: list[str]) -> MetricSpec:
    signal = _needs_first(kind, raw, args, "a signal")
    return MetricSpec(kind, signal=signal, window=_window_at(raw, args, 1))


def _quantile(kind: MetricKind, raw: str, args: list[str]) -> MetricSpec:
    column = _needs_first(kind, raw, args, "a prediction column or an event")
    m = _LEVEL.match(args[1].lower()) if len(args) > 1 else None
    nu = float(m.group(1)) / 100.0 if m else 0.0
    if not 0.0 < nu < 1.0:
        raise LiftboardError(
            f"The metric {raw!r} needs a quantile level between p1 and p99.9 after the column, like "
            f"{EXAMPLES[kind]} (p50 is the median)."
        )
    return MetricSpec(kind, column=column, quantile=nu, window=_window_at(raw, args, 2))


def _outcome(kind: MetricKind, raw: str, args: list[str]) -> MetricSpec:
    rest = raw.split(":", 1)[1].strip() if args else ""
    column = (
        _name(raw, rest) if rest.startswith('"') else rest
    )  # unquoted, a column with ':' also stays whole
    if not column:
        raise LiftboardError(f"The metric {raw!r} needs a column, like {EXAMPLES[kind]}.")
    return MetricSpec(kind, column=column)  # a column name with ':' in it stays whole


#: One parser per kind: ``(kind, spec text, the ':' parts after the kind) → MetricSpec``. A new kind is a new row.
KIND_PARSERS: dict[MetricKind, Callable[[MetricKind, str, list[str]], MetricSpec]] = {
    "conversion": _event,
    "retention": _retention,
    "mean": _event,
    "count": _event,
    "ratio": _ratio,
    "cost": _cost,
    "feedback": _feedback,
    "quantile": _quantile,
    "outcome": _outcome,
}

EXAMPLES: dict[str, str] = {
    "conversion": "conversion:purchase:7d",
    "retention": "retention:7d",
    "mean": "mean:purchase:7d",
    "count": "count:share:7d",
    "ratio": "ratio:purchase/view:7d",
    "cost": "cost:7d",
    "feedback": "feedback:accept:7d",
    "quantile": "quantile:latency_ms:p90",
    "outcome": "outcome:converted",
}

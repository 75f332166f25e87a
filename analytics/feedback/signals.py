"""Feedback metrics: signal rates over time and by group with Wilson intervals, tag mix, a summary."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
from scipy.stats import norm

from analytics.errors import LiftboardError
from analytics.feedback.choices import GROUP_BY
from analytics.feedback.filtering import TAG_MAP, FeedbackFilter, Progress, progress, selection
from analytics.workspace import PERIODS, Workspace, unmatched_predictions

RATE_SIGNALS: tuple[str, ...] = ("accept", "reject", "correct")
#: The SQL of each way to split rates (its names: choices.GROUP_BY).
GROUPS: dict[str, str] = dict(zip(GROUP_BY, ("'all'", "variant", "model_version"), strict=True))


def wilson(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for a proportion k/n (NaN bounds when n = 0)."""
    if n <= 0:
        return (math.nan, math.nan)
    z = float(norm.ppf(1 - alpha / 2))
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Rate:
    """k of n feedback items carried the signal; the rate's denominator is all feedback (any signal)."""

    signal: str
    k: int
    n: int
    rate: float
    lo: float
    hi: float


@dataclass(frozen=True)
class RatePoint:
    period: pd.Timestamp | None  # None for the whole selection
    group: str
    rate: Rate


@dataclass(frozen=True)
class Rates:
    by: str
    period: str
    points: tuple[RatePoint, ...]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "period": p.period,
                    "group": p.group,
                    "signal": p.rate.signal,
                    "k": p.rate.k,
                    "n": p.rate.n,
                    "rate": p.rate.rate,
                    "lo": p.rate.lo,
                    "hi": p.rate.hi,
                }
                for p in self.points
            ],
            columns=["period", "group", "signal", "k", "n", "rate", "lo", "hi"],
        )


def _rate(signal: str, k: int, n: int, alpha: float) -> Rate:
    lo, hi = wilson(k, n, alpha)
    return Rate(signal, int(k), int(n), k / n if n else math.nan, lo, hi)


def rates(
    ws: Workspace,
    flt: FeedbackFilter,
    *,
    by: str = "none",
    period: str | None = "day",
    alpha: float = 0.05,
    signals: tuple[str, ...] = RATE_SIGNALS,
) -> Rates:
    """Signal rates per period (``day``/``week``, or None for the whole selection) and group.

    One SQL pass returns n and the count of each signal per (period, group); groups are ``none``,
    ``variant`` (in the filter's experiment) or ``model_version``. Missing groups show as "(none)".
    """
    if by not in GROUPS:
        raise LiftboardError(f"Cannot split rates by {by!r}; use one of: {', '.join(GROUPS)}.")
    if period is not None and period not in PERIODS:
        raise LiftboardError(f"Unknown period {period!r}; use day or week.")
    sel = selection(ws, flt)
    per = "date_trunc(?, ts)" if period else "NULL::TIMESTAMP"
    counts = ", ".join(f"count(*) FILTER (WHERE signal = ?) AS k{i}" for i in range(len(signals)))
    sql = (
        f"SELECT {per} AS period, coalesce({GROUPS[by]}, '(none)') AS grp, count(*) AS n, {counts} "
        f"FROM ({sel.sql}) s GROUP BY ALL ORDER BY period NULLS FIRST, grp"
    )
    params = [*([period] if period else []), *signals, *sel.params]
    rows = ws.query(sql, params, purpose="the rates query")
    points = tuple(
        RatePoint(
            None if r[0] is None else pd.Timestamp(r[0]), str(r[1]), _rate(s, int(r[3 + i]), int(r[2]), alpha)
        )
        for r in rows
        for i, s in enumerate(signals)
    )
    return Rates(by=by, period=period or "all", points=points)


@dataclass(frozen=True)
class TagMix:
    """Per period and tag: items carrying the tag (any reviewer) and their share of the tagged items."""

    period: str
    rows: pd.DataFrame  # period, tag, items, tagged, share


def tag_mix(ws: Workspace, flt: FeedbackFilter, *, period: str = "week") -> TagMix:
    if period not in PERIODS:
        raise LiftboardError(f"Unknown period {period!r}; use day or week.")
    sel = selection(ws, flt)
    df = ws.query_df(
        f"""
        WITH items AS (SELECT feedback_id, date_trunc(?, ts) AS period FROM ({sel.sql}) s),
        tagged AS (
            SELECT DISTINCT i.period, r.feedback_id, unnest(r.tag_ids) AS tag_id
            FROM lb_reviews r JOIN items i USING (feedback_id)
        ),
        per_period AS (SELECT period, count(DISTINCT feedback_id) AS tagged FROM tagged GROUP BY period)
        SELECT c.period, tm.m[c.tag_id] AS tag, c.items, p.tagged, c.items / p.tagged AS share
        FROM (SELECT period, tag_id, count(DISTINCT feedback_id) AS items FROM tagged GROUP BY 1, 2) c
        JOIN per_period p USING (period) CROSS JOIN {TAG_MAP}
        ORDER BY c.period, tag
        """,
        [period, *sel.params],
        purpose="the tag mix query",
    )
    return TagMix(period=period, rows=df)


@dataclass(frozen=True)
class SignalCounts:
    """What users said about a selection: items per signal and the acceptance rate (no reviewer moves these)."""

    total: int
    by_signal: dict[str, int]
    acceptance: Rate
    unmatched: tuple[int, int]  # feedback rows whose prediction_id matches nothing, rows with an id
    alpha: float = 0.05


@dataclass(frozen=True)
class Summary:
    total: int
    by_signal: dict[str, int]
    acceptance: Rate
    progress: Progress
    unmatched: tuple[int, int]  # feedback rows whose prediction_id matches nothing, rows with an id
    alpha: float = 0.05

    @classmethod
    def of(cls, counts: SignalCounts, progress: Progress) -> Summary:
        """Users' signals and reviewers' progress over the same selection, side by side."""
        return cls(
            counts.total, counts.by_signal, counts.acceptance, progress, counts.unmatched, counts.alpha
        )


def signal_counts(ws: Workspace, flt: FeedbackFilter, *, alpha: float = 0.05) -> SignalCounts:
    """Counts per signal and the acceptance rate with its Wilson interval.

    Signals come from users, never from reviewers: with ``flt.status`` "all" no tag changes these numbers,
    so a page may keep them while reviewers work (``Workspace.state_token(reviews=False)``).
    """
    sel = selection(ws, flt)
    rows = ws.query(
        f"SELECT signal, count(*) FROM ({sel.sql}) s GROUP BY 1 ORDER BY 2 DESC, 1",
        sel.params,
        purpose="the summary query",
    )
    by_signal = {str(r[0]): int(r[1]) for r in rows}
    total = sum(by_signal.values())
    return SignalCounts(
        total=total,
        by_signal=by_signal,
        acceptance=_rate("accept", by_signal.get("accept", 0), total, alpha),
        unmatched=unmatched_predictions(ws),
        alpha=alpha,
    )


def summary(ws: Workspace, flt: FeedbackFilter, *, alpha: float = 0.05) -> Summary:
    """Counts per signal, the acceptance rate with its Wilson interval and tagging progress."""
    return Summary.of(signal_counts(ws, flt, alpha=alpha), progress(ws, flt))


def summary_sentence(s: Summary) -> str:
    """One plain sentence: what users told us, and how far tagging has come."""
    if s.total == 0:
        return "No feedback matches these filters yet."
    a = s.acceptance
    pct = f"{a.rate:.1%}"
    return (
        f"Users accepted {pct} of {s.total:,} AI outputs ({1 - s.alpha:.0%} interval {a.lo:.1%}–{a.hi:.1%}); "
        f"reviewers have tagged {s.progress.tagged:,} of {s.progress.total:,} items."
    )

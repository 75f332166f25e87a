"""Agreement between reviewers who tagged the same items: Cohen's κ per tag (present/absent) and pooled."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import norm

from analytics.feedback.filtering import TAG_MAP, FeedbackFilter, selection
from analytics.workspace import Workspace


@dataclass(frozen=True)
class Table2x2:
    """Items both reviewers reviewed: both tagged (yy), only A (yn), only B (ny), neither (nn)."""

    yy: int
    yn: int
    ny: int
    nn: int

    @property
    def n(self) -> int:
        return self.yy + self.yn + self.ny + self.nn


@dataclass(frozen=True)
class Kappa:
    reviewer_a: str
    reviewer_b: str
    tag: str  # a tag name, or "(all tags)" for the pooled table
    table: Table2x2
    observed: float  # p_o
    expected: float  # p_e
    kappa: float  # NaN when p_e = 1 (both reviewers constant: κ is undefined)
    ci: tuple[float, float]


def cohen_kappa(t: Table2x2, alpha: float = 0.05) -> tuple[float, float, float, tuple[float, float]]:
    """(p_o, p_e, κ, CI) of a 2×2 table; κ = (p_o − p_e)/(1 − p_e), SE = √(p_o(1−p_o)/(n(1−p_e)²))."""
    n = t.n
    if n == 0:
        return (math.nan, math.nan, math.nan, (math.nan, math.nan))
    po = (t.yy + t.nn) / n
    pa, pb = (t.yy + t.yn) / n, (t.yy + t.ny) / n
    pe = pa * pb + (1 - pa) * (1 - pb)
    if pe >= 1:
        return (po, pe, math.nan, (math.nan, math.nan))
    from statsmodels.stats.inter_rater import cohens_kappa  # κ itself is statsmodels'

    k = float(cohens_kappa([[t.yy, t.yn], [t.ny, t.nn]], return_results=False))
    # Cohen's (1960) large-sample SE, as before (statsmodels' std_kappa is Fleiss et al.'s, ~0.5% apart).
    se = math.sqrt(po * (1 - po) / (n * (1 - pe) ** 2))
    z = float(norm.ppf(1 - alpha / 2))
    return (po, pe, k, (k - z * se, k + z * se))


def kappas(ws: Workspace, flt: FeedbackFilter | None = None, *, alpha: float = 0.05) -> list[Kappa]:
    """Cohen's κ for every pair of reviewers with items in common, per tag and pooled over tags.

    Each tag is a binary judgement per item (present/absent), over the items both reviewers reviewed
    (a review with no tags counts: "none of the tags applies"). Tags neither reviewer used on those items
    are left out. The pooled κ sums the per-tag 2×2 tables. One SQL pass returns the tables.
    """
    sel = selection(ws, flt or FeedbackFilter())
    rows = ws.query(
        f"""
        WITH r AS (SELECT feedback_id, reviewer, tag_ids FROM lb_reviews
                   WHERE feedback_id IN (SELECT feedback_id FROM ({sel.sql}) s)),
        pairs AS (SELECT a.reviewer AS ra, b.reviewer AS rb, a.tag_ids AS ta, b.tag_ids AS tb
                  FROM r a JOIN r b ON a.feedback_id = b.feedback_id AND a.reviewer < b.reviewer),
        tabs AS (
            SELECT ra, rb, t.tag_id,
                   count(*) FILTER (WHERE list_contains(ta, t.tag_id) AND list_contains(tb, t.tag_id)) AS yy,
                   count(*) FILTER (WHERE list_contains(ta, t.tag_id) AND NOT list_contains(tb, t.tag_id)) AS yn,
                   count(*) FILTER (WHERE NOT list_contains(ta, t.tag_id) AND list_contains(tb, t.tag_id)) AS ny,
                   count(*) FILTER (WHERE NOT list_contains(ta, t.tag_id) AND NOT list_contains(tb, t.tag_id)) AS nn
            FROM pairs CROSS JOIN (SELECT tag_id FROM lb_tags) t GROUP BY ALL
        )
        SELECT ra, rb, tm.m[tag_id] AS tag, yy, yn, ny, nn FROM tabs CROSS JOIN {TAG_MAP}
        WHERE yy + yn + ny > 0 ORDER BY ra, rb, tag
        """,
        sel.params,
        purpose="the kappas query",
    )
    out: list[Kappa] = []
    pooled: dict[tuple[str, str], list[int]] = {}
    for ra, rb, tag, *cells in rows:
        t = Table2x2(*(int(c) for c in cells))
        out.append(_kappa(ra, rb, tag, t, alpha))
        acc = pooled.setdefault((ra, rb), [0, 0, 0, 0])
        for i, c in enumerate(cells):
            acc[i] += int(c)
    for (ra, rb), cells in sorted(pooled.items()):
        out.append(_kappa(ra, rb, "(all tags)", Table2x2(*cells), alpha))
    return out


def _kappa(ra: str, rb: str, tag: str, t: Table2x2, alpha: float) -> Kappa:
    po, pe, k, ci = cohen_kappa(t, alpha)
    return Kappa(ra, rb, tag, t, po, pe, k, ci)


def describe(k: float) -> str:
    """Landis & Koch's words for a κ value."""
    if math.isnan(k):
        return "undefined"
    for bound, word in ((0, "poor"), (0.2, "slight"), (0.4, "fair"), (0.6, "moderate"), (0.8, "substantial")):
        if k <= bound:
            return word
    return "almost perfect"

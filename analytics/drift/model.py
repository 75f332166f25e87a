"""Drift settings and result objects (frozen), and the parsing of user input shared by the CLI and the page."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from analytics.errors import LiftboardError
from analytics.plain import plain

METHODS = ("psi", "distance")
#: Default fixed thresholds: PSI ≥ 0.2 is the usual "significant shift"; a distance of 0.1 is a tenth of a
#: reference standard deviation (Wasserstein) or a JS distance of 0.1 (categorical).
DEFAULT_THRESHOLDS = {"psi": 0.2, "distance": 0.1}
#: How each method's score is named in sentences, tables and chart titles.
METHOD_NAMES = {"psi": "PSI", "distance": "distance"}
#: What each method's score measures, for axis titles and pickers.
METHOD_UNITS = {
    "psi": "unitless",
    "distance": "Wasserstein in reference σ; Jensen–Shannon distance 0–1",
}


def method_name(method: str) -> str:
    """``PSI`` or ``distance``: the score's name wherever it is shown."""
    return METHOD_NAMES[method]


REFERENCE_DAYS = 7


@dataclass(frozen=True)
class Chunk:
    """One chunk of the predictions log: its key, time span and rows, in the reference window or after it."""

    key: str
    start: datetime
    end: datetime
    n: int
    period: str  # "reference" (wholly inside the reference window) or "analysis"


@dataclass(frozen=True)
class DriftSettings:
    """What to compare and when to alert. ``reference`` is [start, end); None means the first 7 days."""

    reference: tuple[datetime, datetime] | None = None
    chunk: str | int = "day"
    bins: int = 10
    method: str = "psi"
    threshold: float | None = None
    learned: bool = True
    alpha: float = 0.01
    missing_threshold: float = 0.05
    features: tuple[str, ...] | None = None

    @property
    def fixed_threshold(self) -> float:
        return DEFAULT_THRESHOLDS[self.method] if self.threshold is None else float(self.threshold)


@dataclass(frozen=True)
class ChunkDrift:
    """One feature in one chunk against the reference."""

    key: str
    start: datetime
    end: datetime
    period: str
    n: int  # non-missing values
    missing_rate: float
    psi: float
    ks: float | None
    ks_p: float | None
    wasserstein: float | None  # normalised by the reference standard deviation
    js: float | None
    chi2_p: float | None
    score: float  # the chosen method's score (PSI, or distance)
    p_value: float  # KS p for numeric features, χ² p for categorical ones
    alert_fixed: bool
    alert_learned: bool
    alert_missing: bool
    counts: tuple[int, ...]  # counts in the feature's PSI bins

    @property
    def alert(self) -> bool:
        return self.alert_fixed or self.alert_learned or self.alert_missing


@dataclass(frozen=True)
class FeatureDrift:
    name: str
    kind: str  # numeric | categorical | outcome
    bin_labels: tuple[str, ...]
    ref_counts: tuple[int, ...]
    ref_n: int
    ref_missing_rate: float
    fixed_threshold: float
    learned_threshold: float | None
    chunks: tuple[ChunkDrift, ...]
    notes: tuple[str, ...] = ()
    #: Numeric features: the PSI bin boundaries b0 < b1 < …; bins are (-inf, b0], (b0, b1], …, (b_last, inf).
    edges: tuple[float, ...] = ()

    def analysis(self) -> tuple[ChunkDrift, ...]:
        return tuple(c for c in self.chunks if c.period == "analysis")

    def latest(self) -> ChunkDrift | None:
        chunks = self.analysis()
        return chunks[-1] if chunks else None

    @property
    def drifting_since(self) -> ChunkDrift | None:
        """The first chunk of the unbroken run of alerting chunks that reaches the latest one (None when the
        latest chunk does not alert): when the current drift began, for the page and the CLI alike."""
        since = None
        for c in self.analysis():
            since = (since or c) if c.alert else None
        return since

    def chunk(self, key: str) -> ChunkDrift:
        for c in self.chunks:
            if c.key == key:
                return c
        raise LiftboardError(f"There is no chunk {key!r}; pick one of the chunks listed on the page.")


@dataclass(frozen=True)
class Alert:
    feature: str
    chunk: str
    start: datetime
    end: datetime
    score: float
    threshold: float
    method: str  # e.g. "fixed PSI ≥ 0.2", "learned PSI (mean + 3σ of reference chunks)", "missing rate"


@dataclass(frozen=True)
class DriftReport:
    settings: DriftSettings
    reference_start: datetime
    reference_end: datetime
    reference_n: int
    chunks: tuple[Chunk, ...]
    features: tuple[FeatureDrift, ...]
    skipped: tuple[tuple[str, str], ...]
    alerts: tuple[Alert, ...]
    notes: tuple[str, ...] = field(default=())

    def feature(self, name: str) -> FeatureDrift:
        for f in self.features:
            if f.name == name:
                return f
        raise LiftboardError(f"No feature {name!r} was compared; pick one of the features listed.")

    def drifting_now(self) -> list[FeatureDrift]:
        """Features whose latest chunk alerts, the worst (score relative to its threshold) first."""
        hot = [f for f in self.features if (c := f.latest()) is not None and c.alert]
        return sorted(hot, key=lambda f: -_severity(f))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able document (no NaN): the CLI's `--json` output."""
        return plain(
            {
                "settings": asdict(self.settings),
                "reference": {
                    "start": self.reference_start,
                    "end": self.reference_end,
                    "n": self.reference_n,
                },
                "features": [
                    {
                        "name": f.name,
                        "kind": f.kind,
                        "fixed_threshold": f.fixed_threshold,
                        "learned_threshold": f.learned_threshold,
                        "notes": list(f.notes),
                        "drifting_since": None if f.drifting_since is None else f.drifting_since.key,
                        "chunks": [
                            {
                                **{k: v for k, v in asdict(c).items() if k != "counts"},
                                "alert": c.alert,
                            }
                            for c in f.chunks
                        ],
                    }
                    for f in self.features
                ],
                "alerts": [asdict(a) for a in self.alerts],
                "drifting_now": [f.name for f in self.drifting_now()],
                "skipped": [{"name": n, "reason": r} for n, r in self.skipped],
                "notes": list(self.notes),
            },
            digits=6,
        )


def _severity(f: FeatureDrift) -> float:
    c = f.latest()
    if c is None:
        return 0.0
    return c.score / f.fixed_threshold if f.fixed_threshold > 0 else c.score


# -- parsing user input (shared by the CLI and the page) -----------------------------------------------


def parse_reference(text: str | None) -> tuple[datetime, datetime] | None:
    """``START..END`` (dates inclusive, or ISO timestamps with END exclusive) → [start, end)."""
    if text is None or not text.strip():
        return None
    parts = text.split("..")
    if len(parts) != 2:
        raise LiftboardError(f"The reference {text!r} is not START..END, e.g. 2026-09-01..2026-09-07.")
    bounds: list[datetime] = []
    for i, part in enumerate(p.strip() for p in parts):
        try:
            if len(part) == 10:
                day = datetime.combine(date.fromisoformat(part), datetime.min.time())
                bounds.append(day + timedelta(days=1) if i == 1 else day)
            else:
                bounds.append(datetime.fromisoformat(part).replace(tzinfo=None))
        except ValueError:
            raise LiftboardError(f"The reference date {part!r} is not a date such as 2026-09-01.") from None
    if bounds[1] <= bounds[0]:
        raise LiftboardError(f"The reference {text!r} ends before it starts; give START..END in order.")
    return bounds[0], bounds[1]


def parse_chunk(text: str | int) -> str | int:
    """``day``, ``week`` or a number of rows per chunk."""
    value = str(text).strip().lower()
    if value in ("day", "week"):
        return value
    if value.isdigit() and int(value) >= 10:
        return int(value)
    raise LiftboardError(f"The chunking {text!r} is not day, week or a number of rows (at least 10).")


def validate(settings: DriftSettings) -> None:
    if settings.method not in METHODS:
        raise LiftboardError(f"The method {settings.method!r} is not one of {', '.join(METHODS)}.")
    if not 2 <= settings.bins <= 100:
        raise LiftboardError(f"The bin count {settings.bins} is out of range; use 2 to 100 bins.")
    if settings.fixed_threshold <= 0 or not math.isfinite(settings.fixed_threshold):
        raise LiftboardError("The threshold must be a positive number, e.g. 0.2 for PSI.")
    if not 0 < settings.alpha < 1:
        raise LiftboardError("The significance level must be between 0 and 1, e.g. 0.01.")
    parse_chunk(settings.chunk)

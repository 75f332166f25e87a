"""The demo's known truth: its calendar, arms, effects, model prices and drift, which the tests rely on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

START = datetime(2026, 9, 1)

DAYS = 35  # 2026-09-01 .. 2026-10-05

EXPOSURE_DAYS = (7, 27)  # exposures from 2026-09-08 to 2026-09-28, inclusive

DRIFT_DAY = 21  # 2026-09-22

EVENTS = ("session_start", "view", "add_to_cart", "purchase", "share")

CATEGORIES = ("books", "electronics", "fashion", "home", "toys")

DAY = 86_400


@dataclass(frozen=True)
class ModelTruth:
    """A model version's prices (USD per 1k tokens) and behaviour."""

    input_per_1k: float
    output_per_1k: float
    cached_per_1k: float
    latency_median_ms: float
    accept_boost: float


@dataclass(frozen=True)
class DemoTruth:
    """The parameters the demo was generated from: what a correct analysis must recover."""

    start: datetime = START
    end: datetime = START + timedelta(days=DAYS)
    drift_date: datetime = START + timedelta(days=DRIFT_DAY)
    # P(purchase within 7 days of exposure), by experiment and variant (population means).
    conversion_7d: dict[str, dict[str, float]] = field(
        default_factory=lambda: {
            "ai_recs": {"control": 0.100, "ai": 0.108},
            "model_size": {"control": 0.100, "small": 0.100, "large": 0.106},
        }
    )
    # P(any event on day 7 after exposure).
    retention_7d: dict[str, dict[str, float]] = field(
        default_factory=lambda: {
            "ai_recs": {"control": 0.300, "ai": 0.315},
            "model_size": {"control": 0.300, "small": 0.300, "large": 0.300},
        }
    )
    purchase_value_mean: float = 40.0  # USD, every arm: revenue per user = conversion × 40
    shares_7d_mean: float = 0.25  # count:share:7d — the true null, every arm
    split: dict[str, dict[str, float]] = field(
        default_factory=lambda: {
            "ai_recs": {"control": 0.5, "ai": 0.5},
            "model_size": {"control": 1 / 3, "small": 1 / 3, "large": 1 / 3},
        }
    )
    models: dict[str, ModelTruth] = field(
        default_factory=lambda: {
            "recs-v1": ModelTruth(0.0005, 0.0015, 0.00025, 400.0, 0.0),
            "small-v1": ModelTruth(0.00015, 0.0006, 0.000075, 250.0, -0.02),
            "large-v1": ModelTruth(0.003, 0.015, 0.0015, 900.0, 0.06),
        }
    )
    arm_model: dict[str, str] = field(
        default_factory=lambda: {"ai": "recs-v1", "small": "small-v1", "large": "large-v1"}
    )
    double_exposed_per_experiment: int = 20
    accept_rate_before_drift: float = 0.62
    accept_drop_after_drift: float = 0.10


TRUTH = DemoTruth()

EXPERIMENT_CONFIG = {
    "ai_recs": {
        "control": "control",
        "primary": "conversion:purchase:7d",
        "secondary": ["retention:7d", "mean:purchase:7d", "count:share:7d"],
        "guardrails": ["cost:7d"],
        "split": TRUTH.split["ai_recs"],
        "description": "AI recommendations on the home page vs the rule-based carousel.",
    },
    "model_size": {
        "control": "control",
        "primary": "conversion:purchase:7d",
        "secondary": ["retention:7d", "mean:purchase:7d"],
        "guardrails": ["cost:7d"],
        "split": TRUTH.split["model_size"],
        "description": "Which model powers the assistant: none, a small model or a large one.",
    },
}

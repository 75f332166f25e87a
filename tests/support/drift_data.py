"""Generated predictions logs for the drift tests: a shift of known size in one feature from a known date."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from analytics.workspace import Workspace

START = datetime(2026, 9, 1)
SHIFT_DAY = 14  # the shift starts on 2026-09-15


def make_log(
    days: int = 28, per_day: int = 800, *, seed: int = 0, shift: float = 0.8, shift_day: int = SHIFT_DAY
) -> pd.DataFrame:
    """A predictions log: `x` moves by `shift` reference σ from `shift_day`; every other feature is stable."""
    rng = np.random.default_rng(seed)
    n = days * per_day
    day = np.repeat(np.arange(days), per_day)
    ts = [
        START + timedelta(days=int(d), seconds=int(s))
        for d, s in zip(day, rng.integers(0, 86_400, n), strict=True)
    ]
    return pd.DataFrame(
        {
            "prediction_id": [f"p{i}" for i in range(n)],
            "user_id": [f"u{i % 997}" for i in range(n)],
            "timestamp": ts,
            "score": rng.beta(5, 3, n),
            "latency_ms": rng.lognormal(5, 0.6, n),
            "x": rng.normal(0, 1, n) + np.where(day >= shift_day, shift, 0.0),
            "depth": rng.integers(1, 5, n),
            "category": rng.choice(["books", "music", "games", "electronics"], n, p=[0.4, 0.3, 0.2, 0.1]),
            "input_text": [f"free text {i}" for i in range(n)],
        }
    )


def write(ws: Workspace, df: pd.DataFrame, table: str = "predictions") -> None:
    with ws.transaction() as cur:
        cur.register("frame", df)
        cur.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM frame")
        cur.unregister("frame")

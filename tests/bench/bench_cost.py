"""Benchmark: the Cost page's aggregates on 20M predictions (target < 2 s) and a what-if (target < 300 ms)."""

from __future__ import annotations

import datetime as dt
import os
import platform
import time
from pathlib import Path

import duckdb

from analytics import cost
from analytics.cost import Price, set_prices
from analytics.workspace import Actor, open_workspace

ROOT = Path(__file__).resolve().parents[2]
ROWS = int(os.environ.get("LIFTBOARD_BENCH_ROWS", 20_000_000))
TARGET_LOAD_S, TARGET_WHATIF_S = 2.0, 0.3


def _build(path: Path) -> None:
    """20M predictions over 35 days, 500k users, 3 model versions; half logged costs, half from prices."""
    ws = open_workspace(path)
    with ws.transaction() as cur:
        cur.execute(
            """
            CREATE TABLE predictions AS
            SELECT 'p' || i AS prediction_id, 'u' || (hash(i) % 500000) AS user_id,
              TIMESTAMP '2026-09-01' + to_seconds((i * 35 * 86400 // ?)::BIGINT) AS timestamp,
              ['recs-v1', 'small-v1', 'large-v1'][1 + (hash(i * 7) % 3)::INT] AS model_version,
              random() AS score, 100 + 900 * random() AS latency_ms,
              CASE WHEN i % 2 = 0 THEN 0.001 * random() END AS cost_usd,
              (400 + hash(i * 3) % 600)::BIGINT AS tokens_in, (60 + hash(i * 5) % 180)::BIGINT AS tokens_out,
              ((hash(i * 11) % 2) * 200)::BIGINT AS tokens_cached
            FROM range(?) t(i)
            """,
            [ROWS, ROWS],
        )
    set_prices(
        ws,
        [
            Price("recs-v1", 0.0005, 0.0015, 0.00025),
            Price("small-v1", 0.00015, 0.0006, 0.000075),
            Price("large-v1", 0.003, 0.015, 0.0015),
        ],
        actor=Actor("tester", "editor"),
    )
    ws.close()


def _best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def test_bench_cost(tmp_path: Path) -> None:
    path = Path(os.environ.get("LIFTBOARD_BENCH_DB", tmp_path / "bench.duckdb"))
    if not path.exists():
        t = time.perf_counter()
        _build(path)
        print(f"built {ROWS:,} predictions in {time.perf_counter() - t:.1f} s")
    ws = open_workspace(path)
    data = cost.load_costs(ws)
    # The named baseline: the barest scan of the same rows (count and sum per day and model).
    bare_s = _best(
        lambda: ws.query(
            "SELECT CAST(timestamp AS DATE), model_version, count(*), sum(cost_usd) FROM predictions GROUP BY ALL"
        )
    )
    load_s = _best(lambda: cost.load_costs(ws))
    top_s = _best(lambda: cost.top_users(ws, limit=20), repeat=1)
    weeks_s = _best(lambda: cost.with_weeks(ws, data), repeat=2)  # only when the page is switched to weeks
    scenario = cost.WhatIf(0.5, 1.5, 0.4, "small-v1", 0.3, 1.2)
    whatif_s = _best(lambda: cost.summarize(data, scenario, budget=1000.0), repeat=5)
    ws.close()
    row = (
        f"| {dt.date.today():%Y-%m-%d} | cost page aggregates, {ROWS:,} predictions (load_costs: one SQL pass, "
        f"HyperLogLog users, latency percentiles on every k-th row, about 1M) | {load_s:.2f} s ({load_s / TARGET_LOAD_S:.2f}× the 2 s target; "
        f"{load_s / bare_s:.2f}× the bare scan's {bare_s:.2f} s) | what-if recompute {whatif_s * 1000:.0f} ms "
        f"({whatif_s / TARGET_WHATIF_S:.2f}× the 300 ms target) | top 20 cost users {top_s:.2f} s (behind a toggle); weekly users {weeks_s:.2f} s (when Per Weeks is chosen) | "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, {platform.machine()}, "
        f"DuckDB {duckdb.__version__} |"
    )
    print(row)
    with (ROOT / "BENCHMARKS.md").open("a") as f:
        f.write(row + "\n")
    assert data.totals["predictions"] == ROWS

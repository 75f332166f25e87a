"""Benchmark: the whole drift table by day on 20 million predictions with 10 features (target < 5 s, < 2 GB)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from tests.bench._common import machine

ROWS = 20_000_000
BASELINE_SECONDS = 5.0  # the target on this machine
BASELINE_RSS_MB = 2048.0

GENERATE = """
CREATE TABLE predictions AS
SELECT
    'p' || i AS prediction_id,
    'u' || (i % 2000000) AS user_id,
    TIMESTAMP '2026-09-01' + to_microseconds(CAST(i * (35 * 86400000000 / {rows}) AS BIGINT)) AS "timestamp",
    ['gpt-small', 'gpt-large', 'gpt-mini'][1 + CAST(i % 3 AS INTEGER)] AS model_version,
    CASE WHEN i > {rows} * 0.6 THEN random() * 0.8 ELSE random() END AS score,
    50 + 200 * -ln(1 - random()) AS latency_ms,
    0.0001 + 0.002 * random() AS cost_usd,
    CAST(100 + 900 * random() AS BIGINT) AS tokens_in,
    CAST(50 + 400 * random() AS BIGINT) AS tokens_out,
    CAST(300 * random() * (random() < 0.3)::INT AS BIGINT) AS tokens_cached,
    CASE WHEN i > {rows} * 0.6 AND random() < 0.3 THEN 'electronics'
         ELSE ['books', 'music', 'games', 'home', 'toys'][1 + CAST(i % 5 AS INTEGER)] END AS category,
    CAST(5 + 30 * random() AS BIGINT) AS query_length,
    CAST(1 + 9 * random() AS BIGINT) AS session_depth
FROM range({rows}) t(i)
"""

MEASURE = """
import json, resource, time
from analytics.workspace import open_workspace
from analytics.drift import DriftSettings, compute_drift

ws = open_workspace({path!r}, read_only=True)
t = time.perf_counter()
report = compute_drift(ws, DriftSettings(chunk="day"))
seconds = time.perf_counter() - t
print(json.dumps({{"seconds": seconds, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "features": len(report.features), "chunks": len(report.chunks), "alerts": len(report.alerts)}}))
"""


def _build(path: Path) -> None:
    if path.exists():
        return
    from analytics.workspace import open_workspace

    ws = open_workspace(path)
    ws.close()
    con = duckdb.connect(str(path))
    con.execute(GENERATE.format(rows=ROWS))  # a constant, no user input
    con.close()


def test_drift_20m_predictions_by_day(tmp_path_factory) -> None:
    folder = Path(os.environ.get("LIFTBOARD_BENCH_DIR", tmp_path_factory.mktemp("bench")))
    path = folder / "drift_20m.duckdb"
    _build(path)
    runs = []
    for _ in range(3):  # a warm cache after the first; the best of three is reported beside the first
        out = subprocess.run(
            [sys.executable, "-c", MEASURE.format(path=str(path))],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    best = min(runs, key=lambda r: r["seconds"])
    rss = max(r["rss_mb"] for r in runs)
    line = (
        f"| {datetime.now(UTC):%Y-%m-%d} | drift by day, {ROWS / 1e6:.0f}M predictions × 10 features "
        f"({best['chunks']} chunks) | {best['seconds']:.2f} s (first {runs[0]['seconds']:.2f} s; "
        f"{best['seconds'] / BASELINE_SECONDS:.2f}× the 5 s target) | peak RSS {rss:.0f} MB "
        f"({rss / BASELINE_RSS_MB:.2f}× the 2 GB target) | {machine()}; load average "
        f"{os.getloadavg()[0]:.1f} while measured (a shared machine: other work inflates the time) |"
    )
    print("\n" + line)
    bench = Path(__file__).resolve().parents[2] / "BENCHMARKS.md"
    with bench.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    assert best["features"] == 10
    assert rss < BASELINE_RSS_MB

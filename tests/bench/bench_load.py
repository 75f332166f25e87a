"""Benchmark: `load` (validation included) of a 20M-row events CSV against a bare DuckDB CREATE TABLE AS."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from tests.bench._common import alternate, machine

ROOT = Path(__file__).resolve().parents[2]
ROWS = int(os.environ.get("LIFTBOARD_BENCH_LOAD_ROWS", "20000000"))
REPEATS = int(os.environ.get("LIFTBOARD_BENCH_LOAD_REPEATS", "2"))
TARGET_RATIO = 1.3
TARGET_RSS_MB = 1536

GENERATE = """
COPY (
    SELECT 'u' || lpad(CAST((i * 7919) % {users} AS VARCHAR), 8, '0') AS user_id,
           TIMESTAMP '2026-09-01' + INTERVAL (CAST(i * 3024000 // {rows} AS BIGINT)) SECOND AS timestamp,
           ['session_start', 'view', 'view', 'view', 'add_to_cart', 'purchase', 'share'][1 + (i % 7)] AS event,
           CASE WHEN i % 7 = 5 THEN round(5 + (i % 9973) / 100.0, 2) END AS value,
           ['ios', 'android', 'web'][1 + (i % 3)] AS platform
    FROM range({rows}) t(i)
) TO '{path}' (HEADER, DELIMITER ',')
"""

# Each measurement runs in a fresh child so that its peak RSS is its own.
BARE = """
import duckdb, json, resource, sys, time
con = duckdb.connect(sys.argv[1])
t0 = time.perf_counter()
con.execute("CREATE TABLE events AS SELECT * FROM read_csv(?)", [sys.argv[2]])
seconds = time.perf_counter() - t0
rows = con.execute("SELECT count(*) FROM events").fetchone()[0]
con.close()
print(json.dumps({"seconds": seconds, "rows": rows,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
OURS = """
import json, resource, sys, time
from analytics import ingest, workspace
from analytics.workspace import local_actor
from analytics.workspace import open_workspace

ws = open_workspace(sys.argv[1])
t0 = time.perf_counter()
res = ingest.load(ws, sys.argv[2], "events", actor=local_actor("bench"))
seconds = time.perf_counter() - t0
t1 = time.perf_counter()
cat = workspace.catalog(ws)
catalog_seconds = time.perf_counter() - t1
ws.close()
print(json.dumps({"seconds": seconds, "rows": res.record["rows"], "users": res.report.users,
                  "approximate": res.report.approximate, "catalog_seconds": catalog_seconds,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def test_load_events_csv(tmp_path_factory) -> None:
    folder = Path(os.environ.get("LIFTBOARD_BENCH_DIR", tmp_path_factory.mktemp("bench-load")))
    csv = folder / f"events_{ROWS}.csv"
    if not csv.exists():
        con = duckdb.connect()
        con.execute(GENERATE.format(rows=ROWS, users=max(ROWS // 40, 1), path=csv))  # constants only
        con.close()
    size_gb = csv.stat().st_size / 1e9
    runs = alternate({"bare": BARE, "ours": OURS}, folder, csv, REPEATS)
    bares, ours_runs = runs["bare"], runs["ours"]
    bare = min(bares, key=lambda r: r["seconds"])
    ours = min(ours_runs, key=lambda r: r["seconds"])
    ratio = ours["seconds"] / bare["seconds"]
    every = lambda runs: "/".join(f"{r['seconds']:.1f}" for r in runs)  # noqa: E731
    line = (
        f"| {datetime.now(UTC):%Y-%m-%d} | load {ROWS / 1e6:g}M-row events CSV ({size_gb:.2f} GB), validation "
        f"included, best of {REPEATS} | {ours['seconds']:.2f} s (runs {every(ours_runs)}) vs bare CTAS "
        f"{bare['seconds']:.2f} s (runs {every(bares)}): **{ratio:.2f}×** (target ≤ {TARGET_RATIO}×) | peak RSS "
        f"{max(r['rss_mb'] for r in ours_runs):.0f} MB (bare {max(r['rss_mb'] for r in bares):.0f} MB; target < "
        f"{TARGET_RSS_MB} MB) | catalog of the loaded workspace {ours['catalog_seconds']:.2f} s | {machine()} |"
    )
    print("\n" + line)
    with (ROOT / "BENCHMARKS.md").open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    assert ours["rows"] == bare["rows"] == ROWS

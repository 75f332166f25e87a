"""Benchmark: `load --from amplitude` of a 20M-event JSON-lines export against DuckDB's bare read_json into a table.

The export has Amplitude's shape (event_properties and user_properties objects, 20-odd top-level fields,
high-cardinality ids and values; exposures, purchases with revenue, page views). Bare: `CREATE TABLE events AS
SELECT * FROM read_json(file)`, DuckDB's own detection. Ours: the whole load, validation, property flattening
and assignments included. Target (issue 16): within 2x, both measured in one run, each in a fresh process.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from tests.bench._common import alternate, append, machine

ROOT = Path(__file__).resolve().parents[2]
ROWS = int(os.environ.get("LIFTBOARD_BENCH_EXPORT_ROWS", "20000000"))
#: Best of 2 alternating runs each: the ratio is near its target, and other processes only ever add time.
REPEATS = int(os.environ.get("LIFTBOARD_BENCH_EXPORT_REPEATS", "2"))
TARGET_RATIO = 2.0

# Constants only (no user input); one user in 40 rows, a quarter of the events exposures or purchases.
GENERATE = """
COPY (
    SELECT
        'ins-' || md5(CAST(i AS VARCHAR)) AS "$insert_id",
        1000000000 + (i * 7919) % {users} AS amplitude_id,
        123456 AS app,
        ['Paris', 'Lyon', 'Berlin', 'Madrid', 'Austin'][1 + (i % 5)] AS city,
        ['France', 'France', 'Germany', 'Spain', 'United States'][1 + (i % 5)] AS country,
        'dev-' || md5(CAST((i * 7919) % {users} AS VARCHAR)) AS device_id,
        ['Apple iPhone', 'Samsung Galaxy', 'Mac', 'Windows'][1 + (i % 4)] AS device_type,
        i AS event_id,
        CASE WHEN i % 20 = 0 THEN json_object('flag_key', 'ai-recs', 'variant',
                 ['control', 'treatment'][1 + CAST(hash((i * 7919) % {users}) % 2 AS INTEGER)])
             WHEN i % 20 = 1 THEN json_object('revenue', round(5 + (i % 9973) / 100.0, 2), 'product_id',
                 'sku-' || (i % 5000), 'currency', 'EUR')
             ELSE json_object('page', '/p/' || (i % 100000), 'referrer', 'https://ref.example/' || (i % 777))
        END AS event_properties,
        strftime(TIMESTAMP '2026-03-01' + INTERVAL (CAST(i * 2419200 // {rows} AS BIGINT)) SECOND,
                 '%Y-%m-%d %H:%M:%S.%f') AS event_time,
        CASE WHEN i % 20 = 0 THEN '$exposure' WHEN i % 20 = 1 THEN 'Purchase' ELSE 'Page Viewed' END AS event_type,
        ['fr', 'fr', 'de', 'es', 'en'][1 + (i % 5)] AS language,
        'amplitude-ts/2.11.0' AS library,
        ['ios', 'android', 'web'][1 + (i % 3)] AS os_name,
        ['iOS', 'Android', 'Web'][1 + (i % 3)] AS platform,
        strftime(TIMESTAMP '2026-03-01' + INTERVAL (CAST(i * 2419200 // {rows} AS BIGINT) + 2) SECOND,
                 '%Y-%m-%d %H:%M:%S.%f') AS server_upload_time,
        1772000000000 + (i * 7919) % {users} AS session_id,
        CASE WHEN (i * 7919) % {users} % 5 = 0 THEN NULL ELSE 'user-' || ((i * 7919) % {users}) END AS user_id,
        json_object('plan', ['free', 'pro', 'team'][1 + ((i * 7919) % {users}) % 3], 'cohort', '2026-03',
                    'signup_day', (i * 7919) % {users} % 28) AS user_properties,
        md5('uuid' || CAST(i AS VARCHAR)) AS uuid
    FROM range({rows}) t(i)
) TO '{path}' (FORMAT json)
"""

BARE = """
import duckdb, json, resource, sys, time
con = duckdb.connect(sys.argv[1])
t0 = time.perf_counter()
con.execute("CREATE TABLE events AS SELECT * FROM read_json(?)", [sys.argv[2]])
seconds = time.perf_counter() - t0
rows = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
con.close()
print(json.dumps({"seconds": seconds, "rows": rows,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
OURS = """
import json, resource, sys, time
from analytics.ingest.sources import load_export
from analytics.workspace import local_actor, open_workspace

ws = open_workspace(sys.argv[1])
steps = []
t0 = time.perf_counter()
res = load_export(ws, [sys.argv[2]], "amplitude", actor=local_actor("bench"),
                  progress=lambda f, s: steps.append((s, time.perf_counter() - t0)))
seconds = time.perf_counter() - t0
first = {}
for step, at in steps:
    first.setdefault(step, at)
rows = ws.scalar("SELECT count(*) FROM events")
assigned = ws.scalar("SELECT count(*) FROM assignments")
ws.close()
print(json.dumps({"seconds": seconds, "rows": rows, "assignments": assigned, "steps": first,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def test_load_amplitude_export(tmp_path_factory) -> None:
    folder = Path(os.environ.get("LIFTBOARD_BENCH_DIR", tmp_path_factory.mktemp("bench-export")))
    path = folder / f"amplitude_{ROWS}.jsonl"
    if not path.exists():
        con = duckdb.connect()
        con.execute(GENERATE.format(rows=ROWS, users=max(ROWS // 40, 1), path=path))  # constants only
        con.close()
    size_gb = path.stat().st_size / 1e9
    # The file is far above the default 2 GB load limit: the benchmark raises it.
    runs = alternate(
        {"bare": BARE, "ours": OURS}, folder, path, REPEATS, env={"LIFTBOARD_MAX_LOAD_MB": "1000000"}
    )
    bares, ours_runs = runs["bare"], runs["ours"]
    bare = min(bares, key=lambda r: r["seconds"])
    ours = min(ours_runs, key=lambda r: r["seconds"])
    ratio = ours["seconds"] / bare["seconds"]
    steps = ", ".join(f"{k} at {v:.1f} s" for k, v in ours["steps"].items())

    def times(rs: list[dict]) -> str:
        return ", ".join(f"{r['seconds']:.1f}" for r in rs)

    append(
        f"| {datetime.now(UTC):%Y-%m-%d} | load --from amplitude, {ROWS / 1e6:g}M-event JSON-lines export "
        f"({size_gb:.2f} GB), validation, flattening and assignments included | {ours['seconds']:.2f} s vs bare "
        f"read_json into a table {bare['seconds']:.2f} s: **{ratio:.2f}×** (target ≤ {TARGET_RATIO}×; best of "
        f"{REPEATS} alternating run{'s' if REPEATS > 1 else ''} each: ours "
        f"{times(ours_runs)} s, bare {times(bares)} s) | peak RSS "
        f"{ours['rss_mb']:.0f} MB (bare {bare['rss_mb']:.0f} MB) | steps: {steps} | {machine()} |"
    )
    assert (
        ours["rows"] == bare["rows"] == ROWS and ours["assignments"] > 0
    )  # the target is read from the table

"""Benchmark: 20 browser sessions on one server for 60 s (views, a toggle, tagging); p95 page render."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from analytics.ingest import build_demo
from tests.bench._common import append, machine
from tests.e2e.load_sessions import run_sessions
from tests.support.server import CHROMIUM, AppServer

SESSIONS, TAGGERS, SECONDS, USERS = 20, 4, 60, 50_000


def test_bench_sessions(tmp_path: Path) -> None:
    db = tmp_path / "sessions.duckdb"
    build_demo(db, users=USERS, seed=7)
    server = AppServer(db, tmp_path / "logs")
    try:
        res = run_sessions(server.url, chromium=CHROMIUM, sessions=SESSIONS, seconds=SECONDS, taggers=TAGGERS)
    finally:
        server.stop()
    load = os.getloadavg()[0]
    in_app = sum(len(v) for k, v in res.by_view.items() if k != "first load")
    append(
        f"| {datetime.now(UTC):%Y-%m-%d} | {SESSIONS} browser sessions at once on one server ({USERS // 1000}k-user "
        f"demo, Chromium contexts on the same machine), {res.seconds:.0f} s: sidebar page views, Experiments "
        f"toggle, {TAGGERS} reviewers bulk-tagging | page render p95 {res.p(95, first_loads=False):.2f} s "
        f"(p50 {res.p(50, first_loads=False):.2f} s, {in_app} renders); first load "
        f"of the app p95 {res.p(95, first_loads=True):.2f} s | errors {len(res.errors)}; "
        f"{sum(res.tagged.values()):,} items tagged in {len(res.tagged)} bulk actions | {machine()}; "
        f"load average {load:.1f} |"
    )
    assert not res.errors, res.errors[:3]

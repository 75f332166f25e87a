"""Benchmark: the command line as whole processes — what an analyst or a CI job waits for, start-up included.

Targets (issue 13): `python -m analytics --help` and a command's argument error under 0.3 s; `analyze` of five
metrics on 1M users / 20M events within 2× one hand-written DuckDB query of the same sums run as its own process;
`load` of a 20M-row CSV within 1.3× a bare `read_csv` into a table, also as its own process. Every pair runs in
interleaved rounds (so load from other processes hits both alike) and keeps the best round.
Run with `make bench` (or alone: `python -m pytest tests/bench/bench_cli.py -s -o python_files='bench_*.py'`).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from analytics.workspace import open_workspace
from tests.bench._common import append, machine
from tests.bench.bench_analyze import GENERATE as ANALYZE_DATA
from tests.bench.bench_analyze import HAND_WRITTEN, METRICS
from tests.bench.bench_load import GENERATE as LOAD_CSV

ROOT = Path(__file__).resolve().parents[2]
USERS = int(os.environ.get("BENCH_USERS", 1_000_000))
EVENTS = int(os.environ.get("BENCH_EVENTS", 20_000_000))
LOAD_ROWS = int(os.environ.get("LIFTBOARD_BENCH_LOAD_ROWS", 20_000_000))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 3))

BARE_QUERY = "import duckdb, sys; duckdb.connect(sys.argv[1], read_only=True).execute(sys.argv[2]).fetchall()"
BARE_LOAD = (
    "import duckdb, sys; duckdb.connect(sys.argv[1]).execute("
    "'CREATE TABLE events AS SELECT * FROM read_csv(?)', [sys.argv[2]])"
)


def _seconds(argv: list[str], *, ok: tuple[int, ...] = (0,)) -> float:
    """Wall time of one whole process, from fork to exit."""
    t0 = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    took = time.perf_counter() - t0
    assert proc.returncode in ok, (argv, proc.returncode, proc.stderr[-500:])
    return took


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "analytics", *args]


def test_bench_cli_start() -> None:
    """--help and an argument error, against the bare interpreter (median of 15 runs each)."""
    runs: dict[str, list[float]] = {"python": [], "help": [], "arg error": []}
    for _ in range(15):
        runs["python"].append(_seconds([sys.executable, "-c", "pass"]))
        runs["help"].append(_seconds(_cli("--help")))
        runs["arg error"].append(_seconds(_cli("analyze", "--db", "x.duckdb"), ok=(2,)))
    med = {k: statistics.median(v) for k, v in runs.items()}
    append(
        f"| {datetime.now(UTC):%Y-%m-%d} | CLI start as whole processes: `python -m analytics --help`, and "
        f"`analyze` with a missing argument (one-line error) | --help {med['help']:.3f} s, argument error "
        f"{med['arg error']:.3f} s (median of 15; target < 0.3 s) | bare `python -c pass` {med['python']:.3f} s "
        f"| {machine()}; load average {os.getloadavg()[0]:.1f} |"
    )


def test_bench_cli_analyze(tmp_path: Path) -> None:
    """`analyze --json` of five metrics as a process against the hand-written query as a process."""
    db = tmp_path / "analyze.duckdb"
    con = duckdb.connect(str(db))
    con.execute(ANALYZE_DATA.format(users=USERS, events=EVENTS))
    con.close()
    open_workspace(db).close()  # Liftboard's own tables, as after a load
    ours_argv = _cli("analyze", "--db", str(db), "--experiment", "bench", "--json")
    for m in METRICS:
        ours_argv += ["--metric", m]
    hand, ours = [], []
    for _ in range(ROUNDS):
        hand.append(_seconds([sys.executable, "-c", BARE_QUERY, str(db), HAND_WRITTEN]))
        ours.append(_seconds(ours_argv))
    ratio = min(ours) / min(hand)
    append(
        f"| {datetime.now(UTC):%Y-%m-%d} | `python -m analytics analyze --json`, 5 metrics, {USERS:,} users / "
        f"{EVENTS:,} events, whole process | {min(ours):.2f} s vs one hand-written DuckDB query as a process "
        f"{min(hand):.2f} s: **{ratio:.2f}×** (target ≤ 2×; best of {ROUNDS} interleaved rounds; ours "
        f"{', '.join(f'{x:.2f}' for x in ours)}, hand {', '.join(f'{x:.2f}' for x in hand)}) | | {machine()}; "
        f"load average {os.getloadavg()[0]:.1f} |"
    )


def test_bench_cli_load(tmp_path: Path) -> None:
    """`load FILE --kind events` as a process against a bare read_csv CREATE TABLE as a process."""
    csv = tmp_path / "events.csv"
    duckdb.connect().execute(LOAD_CSV.format(rows=LOAD_ROWS, users=max(LOAD_ROWS // 40, 1), path=csv))
    bare, ours = [], []
    for k in range(ROUNDS):
        bare.append(_seconds([sys.executable, "-c", BARE_LOAD, str(tmp_path / f"bare{k}.duckdb"), str(csv)]))
        ws = tmp_path / f"ours{k}.duckdb"
        ours.append(_seconds(_cli("load", str(csv), "--kind", "events", "--db", str(ws))))
        for path in (ws, tmp_path / f"bare{k}.duckdb"):
            path.unlink()
    ratio = min(ours) / min(bare)
    append(
        f"| {datetime.now(UTC):%Y-%m-%d} | `python -m analytics load` of a {LOAD_ROWS:,}-row events CSV "
        f"({csv.stat().st_size / 1e9:.2f} GB), validation included, whole process | {min(ours):.2f} s vs bare "
        f"`read_csv` CREATE TABLE as a process {min(bare):.2f} s: **{ratio:.2f}×** (target ≤ 1.3×; best of "
        f"{ROUNDS} interleaved rounds; ours {', '.join(f'{x:.2f}' for x in ours)}, bare "
        f"{', '.join(f'{x:.2f}' for x in bare)}) | | {machine()}; load average {os.getloadavg()[0]:.1f} |"
    )

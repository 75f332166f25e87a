"""The command line starts light: --help and argument errors load no engine library (duckdb, pandas, scipy…).

Whole-process start times are measured in tests/bench/bench_cli.py; here the cause is pinned: which modules a
process has loaded when it prints its help or its one-line argument error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = {"duckdb", "pandas", "numpy", "scipy", "statsmodels", "pyarrow", "plotly", "pyspark", "sqlglot"}
PROBE = """
import json, runpy, sys
sys.argv = ["python -m analytics", *json.loads(sys.argv[1])]
code = 0
try:
    runpy.run_module("analytics", run_name="__main__")
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def _start(*argv: str) -> tuple[int, set[str], str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    doc = json.loads(out.stdout.strip().splitlines()[-1])
    return doc["code"], set(doc["modules"]), out.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ("--help",),
        ("analyze", "--help"),
        ("load", "--help"),
        ("load", "x.json", "--from", "amplitude", "--help"),
        ("cost", "--help"),
        ("drift", "--help"),
        ("feedback", "--help"),
        ("roles", "--help"),
        ("audit", "--help"),
        ("power", "--help"),
    ],
)
def test_help_loads_no_engine_library(argv: tuple[str, ...]) -> None:
    code, modules, _ = _start(*argv)
    assert code == 0
    assert not modules & HEAVY, sorted(modules & HEAVY)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (("analyze",), "the following arguments are required: --experiment"),
        (("load", "events.csv"), "one of the arguments --kind --from is required"),
        (("load", "a.json", "--from", "heap"), "invalid choice: 'heap'"),
        (("load", "events.csv", "--kind", "nonsense"), "invalid choice: 'nonsense'"),
        (("nonsense",), "see `python -m analytics --help`"),
        (("power", "--baseline", "x"), "invalid"),
    ],
)
def test_argument_errors_are_one_line_and_load_no_engine_library(argv: tuple[str, ...], says: str) -> None:
    code, modules, err = _start(*argv)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], err
    assert not modules & HEAVY, sorted(modules & HEAVY)


def test_a_reader_that_goes_away_gets_no_traceback(tmp_path: Path) -> None:
    # `python -m analytics ... | head`: the pipe's reader is closed before the command writes (deterministic,
    # no race), so the first print raises BrokenPipeError; the command stops quietly instead of a traceback.
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "analytics", "tables", "--db", str(tmp_path / "none.duckdb"), "--json"],
            cwd=ROOT, stdout=write, stderr=subprocess.PIPE, text=True, timeout=120,
        )  # fmt: skip
    finally:
        os.close(write)
    assert "Traceback" not in proc.stderr and "BrokenPipeError" not in proc.stderr, proc.stderr
    assert proc.returncode in (1, 2)

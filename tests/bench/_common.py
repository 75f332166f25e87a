"""What every benchmark shares: the machine's description and the one place results are written."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "BENCHMARKS.md"


def machine() -> str:
    """Cores, CPU model, memory and DuckDB version, as written beside each result."""
    cpu = platform.processor() or platform.machine()
    mem = 0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 // 1024
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), {mem} GB RAM, DuckDB {duckdb.__version__}"


def append(line: str) -> None:
    """Append one result row to BENCHMARKS.md (and print it)."""
    print("\n" + line)
    with BENCHMARKS.open("a", encoding="utf-8") as fh:
        fh.write(line.rstrip("\n") + "\n")


def child(code: str, *args: str, env: dict[str, str] | None = None) -> dict:
    """Run a measurement in a fresh Python process (its peak RSS its own); its last stdout line is JSON."""
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def alternate(runs: dict[str, str], folder: Path, data: Path, repeats: int, env: dict[str, str] | None = None
              ) -> dict[str, list[dict]]:  # fmt: skip
    """Each measurement (name -> child code) `repeats` times, alternating, each on a fresh workspace file
    <name>.duckdb in folder, given (workspace, data file); on a shared machine the best of each is compared,
    since other processes only ever add time."""
    out: dict[str, list[dict]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, code in runs.items():
            for leftover in (folder / f"{name}.duckdb", folder / f"{name}.duckdb.wal"):
                leftover.unlink(missing_ok=True)
            out[name].append(child(code, str(folder / f"{name}.duckdb"), str(data), env=env))
    return out

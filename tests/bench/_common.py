"""What every benchmark shares: the machine's description and the one place results are written."""

from __future__ import annotations

import os
import platform
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

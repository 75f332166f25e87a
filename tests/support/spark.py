"""A lake for the Spark tests: a seeded demo workspace with its data tables written to Parquet, and a comparer."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics.ingest import build_demo
from analytics.workspace import Workspace, open_workspace

REL = 1e-9
KINDS = ("events", "assignments", "predictions", "feedback", "users")
#: One metric of every kind (the analyses compared between engines).
ALL_KINDS = [
    "conversion:purchase:7d",
    "retention:7d",
    "mean:purchase:7d",
    "count:share:7d",
    "ratio:purchase/view:7d",
    "cost:7d",
]


def write_lake(root: Path) -> Path:
    """A small demo workspace (demo.duckdb), its data tables as Parquet, and local.duckdb without them."""
    build_demo(root / "demo.duckdb", users=3000, seed=11)
    con = duckdb.connect(str(root / "demo.duckdb"), read_only=True)
    for kind in KINDS:
        con.execute(f"COPY {kind} TO '{root / kind}.parquet' (FORMAT parquet)")
    con.close()
    (root / "local.duckdb").write_bytes((root / "demo.duckdb").read_bytes())
    con = duckdb.connect(str(root / "local.duckdb"))
    for kind in KINDS:  # the data lives only in the lake: a query that reached the local file would fail
        con.execute(f"DROP TABLE {kind} CASCADE")
    con.close()
    return root


def assert_same(a: Any, b: Any, path: str = "") -> None:
    """Equal structures; floats equal to REL relative (sums over another order differ in the last bits)."""
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), path
        for f in dataclasses.fields(a):
            assert_same(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    elif isinstance(a, pd.DataFrame):
        assert list(a.columns) == list(b.columns), path
        assert len(a) == len(b), path
        for col in a.columns:
            assert_same(a[col].tolist(), b[col].tolist(), f"{path}[{col}]")
    elif isinstance(a, pd.Series):
        assert_same(a.to_dict(), b.to_dict(), path)
    elif isinstance(a, dict):
        assert set(a) == set(b), f"{path}: {sorted(map(str, a))} != {sorted(map(str, b))}"
        for k in a:
            assert_same(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, (list, tuple, np.ndarray)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, (float, np.floating)) or isinstance(b, (float, np.floating)):
        if a is None or b is None or pd.isna(a) or pd.isna(b):
            assert (a is None or pd.isna(a)) and (b is None or pd.isna(b)), f"{path}: {a} != {b}"
        else:
            assert math.isclose(float(a), float(b), rel_tol=REL, abs_tol=1e-12), f"{path}: {a} != {b}"
    else:
        assert a == b or (pd.isna(a) and pd.isna(b)), f"{path}: {a!r} != {b!r}"


# Fixtures shared by test_spark.py and test_spark_connect.py, which import them by name (ruff's F811 is off
# for those two files in pyproject.toml: a fixture parameter "redefines" the imported fixture).
@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo workspace, its data tables written to Parquet, and a local copy without them."""
    return write_lake(tmp_path_factory.mktemp("lake"))


@pytest.fixture(scope="module")
def duck(lake: Path) -> Iterator[Workspace]:
    """The same data in the embedded engine, to compare with."""
    ws = open_workspace(lake / "demo.duckdb", read_only=True)
    yield ws
    ws.close()

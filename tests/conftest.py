"""Shared fixtures: a real demo workspace file built once per session, and empty workspaces."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from analytics.ingest import build_demo
from analytics.workspace import Workspace, open_workspace

# Shared fixtures of tests/support (the Spark lake and its DuckDB twin), loaded for every test folder.
pytest_plugins = ["tests.support.spark"]

DEMO_USERS = 50_000
DEMO_SEED = 7


@pytest.fixture(scope="session")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo workspace file (50k users, seed 7), built once; tests must not write to it."""
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build_demo(path, users=DEMO_USERS, seed=DEMO_SEED)
    return path


@pytest.fixture(scope="session")
def demo_ws(demo_path: Path) -> Iterator[Workspace]:
    """The demo workspace opened read-only (shared by the session's tests)."""
    ws = open_workspace(demo_path, read_only=True)
    yield ws
    ws.close()


@pytest.fixture()
def demo_copy(demo_path: Path, tmp_path: Path) -> Path:
    """A private writable copy of the demo workspace file, for tests that write."""
    dst = tmp_path / "demo-copy.duckdb"
    dst.write_bytes(demo_path.read_bytes())
    return dst


@pytest.fixture()
def tmp_ws(tmp_path: Path) -> Iterator[Workspace]:
    """A fresh, empty, writable workspace file."""
    ws = open_workspace(tmp_path / "ws.duckdb")
    yield ws
    ws.close()

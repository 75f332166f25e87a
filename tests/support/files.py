"""Test helpers for loads: write a data file, and count what a workspace holds before and after."""

from __future__ import annotations

from pathlib import Path

from analytics.workspace import Workspace


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def snapshot(ws: Workspace) -> dict[str, int]:
    """Row counts of every data table plus the number of recorded loads."""
    snap = {kind: ws.scalar(f'SELECT count(*) FROM "{kind}"') for kind in ws.data_tables()}
    snap["lb_loads"] = ws.scalar("SELECT count(*) FROM lb_loads")
    return snap

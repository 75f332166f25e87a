"""Issue 14, finding 4 in the engine: a load's memory is bounded and refused in one sentence; spooled uploads
do not outlive their owner."""

from __future__ import annotations

import gzip
import io
import os
import subprocess
import time
from pathlib import Path

import pytest

from analytics import ingest
from analytics.errors import LiftboardError
from analytics.workspace import Actor, check_memory_limit, open_workspace

EDITOR = Actor("e@example.com", "editor")


def test_a_file_that_needs_more_memory_than_allowed_is_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "cells.csv.gz"
    with gzip.open(path, "wt", compresslevel=9) as fh:
        fh.write("user_id,timestamp,event,note\n")
        for i in range(400):
            fh.write(f"u{i},2026-09-01 10:00:00,view,{'x' * 2**20}\n")
    ws = open_workspace(tmp_path / "ws.duckdb", memory_limit="256MB")
    try:
        with pytest.raises(LiftboardError) as err:
            ingest.validate(ws, path, "events", actor=EDITOR)
        assert str(err.value).startswith(
            "Checking cells.csv.gz needs more memory than this workspace may use ("
        )
        assert ws.data_tables() == []
        # the workspace is fine afterwards
        small = tmp_path / "small.csv"
        small.write_text("user_id,timestamp,event\nu1,2026-09-01 10:00:00,view\n")
        assert ingest.load(ws, small, "events", actor=EDITOR).record["rows"] == 1
    finally:
        ws.close()


@pytest.mark.parametrize(("text", "norm"), [("512MB", "512MB"), (" 2 gib ", "2GiB"), ("1.5GB", "1.5GB")])
def test_memory_limits_are_sizes(text: str, norm: str) -> None:
    assert check_memory_limit(text) == norm


@pytest.mark.parametrize("text", ["lots", "0GB", "1; DROP TABLE x", "-1GB", "10"])
def test_a_memory_limit_that_is_not_a_size_is_one_sentence(text: str) -> None:
    with pytest.raises(LiftboardError, match="is not a size; write it like 512MB or 2GB"):
        check_memory_limit(text)


def test_a_spool_holds_one_upload_and_sweeping_removes_only_orphans(tmp_path: Path) -> None:
    mine = ingest.spool_dir(tmp_path)
    assert mine.name.startswith(f"liftboard-upload-{os.getpid()}-") and oct(mine.stat().st_mode)[-3:] == "700"
    first = ingest.spool(io.BytesIO(b"a,b\n1,2\n"), "../../etc/passwd", mine)
    assert first == mine / "passwd"  # the name only, never a path
    second = ingest.spool(io.BytesIO(b"c\n3\n"), "two.csv", mine)
    assert [p.name for p in mine.iterdir()] == ["two.csv"] and second.read_text() == "c\n3\n"

    proc = subprocess.Popen(["true"])
    proc.wait()
    dead = tmp_path / f"liftboard-upload-{proc.pid}-abcd"
    old = tmp_path / "liftboard-upload-k2j4h1"  # named the old way, two days old
    fresh = tmp_path / "liftboard-upload-q9z8"  # named the old way, just made: perhaps in use
    for folder in (dead, old, fresh):
        folder.mkdir()
        (folder / "f.csv").write_text("x")
    os.utime(old, (time.time() - 2 * 86_400,) * 2)
    gone = ingest.sweep_spools(tmp_path)
    assert sorted(p.name for p in gone) == sorted([dead.name, old.name])
    assert mine.exists() and fresh.exists() and not dead.exists() and not old.exists()
    ingest.remove_spool(mine)
    ingest.remove_spool(mine)  # twice is fine
    assert not mine.exists()

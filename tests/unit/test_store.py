"""The workspace file: migrations, clear errors on open, atomic transactions, and crashes survived."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from analytics.errors import LiftboardError
from analytics.workspace import SCHEMA_VERSION, engine_version, open_workspace, quote_ident

ROOT = Path(__file__).resolve().parents[2]


def test_new_workspace_is_migrated_and_records_the_engine(tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "w.duckdb")
    try:
        assert ws.scalar("SELECT value FROM lb_meta WHERE key = 'schema_version'") == str(SCHEMA_VERSION)
        assert engine_version(ws) == duckdb.__version__
        assert ws.data_tables() == []
    finally:
        ws.close()


def test_open_errors_are_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(LiftboardError, match="is a directory"):
        open_workspace(tmp_path)
    with pytest.raises(LiftboardError, match="There is no workspace at"):
        open_workspace(tmp_path / "none.duckdb", create=False)
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(LiftboardError, match="junk.duckdb"):
        open_workspace(junk)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    ws = open_workspace(path)
    ws.con.execute("UPDATE lb_meta SET value = '999' WHERE key = 'schema_version'")
    ws.close()
    with pytest.raises(LiftboardError, match="schema version 999, newer than this Liftboard"):
        open_workspace(path)


def test_a_second_process_gets_a_clear_lock_message(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    ws = open_workspace(path)
    try:
        code = f"from analytics.workspace import open_workspace; open_workspace({str(path)!r})"
        run = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert run.returncode != 0
        assert "is in use by another process" in run.stderr
    finally:
        ws.close()


def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "w.duckdb")
    try:
        with pytest.raises(RuntimeError), ws.transaction() as cur:
            cur.execute("CREATE TABLE events (user_id VARCHAR)")
            ws.audit(cur, "t", "x", "y")
            raise RuntimeError("boom")
        assert not ws.has_table("events")
        assert ws.scalar("SELECT count(*) FROM lb_audit") == 0
    finally:
        ws.close()


def test_identifiers_are_checked_and_quoted(tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "w.duckdb")
    try:
        evil = 'x"; DROP TABLE lb_meta; --'
        ws.con.execute(f"CREATE TABLE users (user_id VARCHAR, {quote_ident(evil)} VARCHAR)")
        assert ws.column("users", evil) == '"x""; DROP TABLE lb_meta; --"'
        assert ws.scalar(f"SELECT count({ws.column('users', evil)}) FROM users") == 0
        assert ws.has_table("lb_meta")
        with pytest.raises(LiftboardError, match="has no column 'nope'"):
            ws.column("users", "nope")
        with pytest.raises(LiftboardError, match="has no predictions table"):
            ws.table("predictions")
    finally:
        ws.close()


def test_kill_during_a_migration_leaves_the_old_schema(tmp_path: Path) -> None:
    """A migration killed half-way (SIGKILL) is wholly absent on the next open: it ran in one transaction."""
    path = tmp_path / "w.duckdb"
    open_workspace(path).close()
    marker = tmp_path / "started"
    script = textwrap.dedent(
        f"""
        import pathlib
        import analytics.workspace.store as store
        # A slow second migration: a large table, then a marker, then more work before COMMIT.
        store.MIGRATIONS.append((SCHEMA_PLUS, '''
            CREATE TABLE lb_big AS SELECT range AS i, md5(range::VARCHAR) AS h FROM range(3000000);
            CREATE TABLE lb_more AS SELECT * FROM lb_big, range(40);
        '''))
        store.SCHEMA_VERSION = SCHEMA_PLUS
        pathlib.Path({str(marker)!r}).write_text("x")
        store.open_workspace({str(path)!r})
        """
    ).replace("SCHEMA_PLUS", str(SCHEMA_VERSION + 1))
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.5)  # well inside the migration's transaction
    assert proc.poll() is None, "the migration finished before it could be interrupted"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    ws = open_workspace(path)
    try:
        assert ws.scalar("SELECT value FROM lb_meta WHERE key = 'schema_version'") == str(SCHEMA_VERSION)
        assert not ws.has_table("lb_big") and not ws.has_table("lb_more")
    finally:
        ws.close()


def test_data_version_moves_with_rows_columns_and_loads(tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "v.duckdb")
    try:
        ws.con.execute("CREATE TABLE feedback AS SELECT range AS i FROM range(3)")
        tables = ("feedback", "predictions")  # predictions absent: left out, not an error
        v0 = ws.data_version(tables)
        assert v0 == "None|feedback:3:1"
        ws.con.execute("INSERT INTO feedback VALUES (9)")
        v1 = ws.data_version(tables)
        ws.con.execute("ALTER TABLE feedback ADD COLUMN x INTEGER")
        v2 = ws.data_version(tables)
        ws.con.execute("INSERT INTO lb_loads (load_id, kind) VALUES (7, 'feedback')")
        v3 = ws.data_version(tables)
        assert len({v0, v1, v2, v3}) == 4 and v3 == "7|feedback:4:2"
        run = ws.for_run()  # a run's copy remembers only what is asked through ``once``
        assert (
            run.data_version(tables) == v3 and run.once("k", lambda: 1) == 1 and run.once("k", lambda: 2) == 1
        )
        assert ws.once("k", lambda: 2) == 2 and run.once("k", lambda: 3, fresh=True) == 3
    finally:
        ws.close()

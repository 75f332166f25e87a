"""Issue 14, finding 4: a small upload cannot blow the server's memory, and no uploaded copy outlives its use.

A real server (its memory read from /proc: VmHWM is the peak resident set, reset between steps through
clear_refs), real sign-in, Chromium uploading a 2 MB gzip that expands to 1,900 rows of 1 MB cells. Spooled
copies live in the server's TMPDIR, watched by the test: stale ones are swept at start, a finished load
deletes its copy, and so does the end of the session.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import time
from pathlib import Path

from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from analytics.workspace import Actor, RoleRule, set_rules
from tests.support.browser import screenshot, wait_idle
from tests.support.feedback_data import make
from tests.support.oidc import Session, secrets_with, sign_in
from tests.support.server import Provider, free_port

VIEWER, EDITOR = "viewer@example.com", "editor@example.com"
ROWS, CELL = 1_900, 2**20
#: The most the server's resident memory may rise above its idle level while it reads and validates the file.
PEAK_BUDGET_MB = 1_536
UPLOADER = '[data-testid="stFileUploaderDropzoneInput"]'


def _mb(pid: int) -> dict[str, int]:
    """The process's current (VmRSS) and peak (VmHWM) resident memory, in MB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) // 1024
    return out


def _reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS (Linux, the process's owner)


def _bomb(path: Path) -> Path:
    with gzip.open(path, "wt", compresslevel=9) as fh:
        fh.write("user_id,timestamp,event,note\n")
        cell = "x" * CELL
        for i in range(ROWS):
            fh.write(f"u{i},2026-09-01 10:00:00,view,{cell}\n")
    return path


def _spools(tmp: Path) -> set[str]:
    return {p.name for p in tmp.glob("liftboard-upload-*")}


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _upload(page: Page, path: Path) -> str:
    """Upload a file on the Data page; the validation's outcome (a sentence), or '' when none came."""
    page.locator(UPLOADER).first.set_input_files(str(path))
    outcome = (
        page.get_by_text("Ready to load")
        .or_(page.get_by_text("cannot be loaded as it is"))
        .or_(page.locator('[data-testid="stAlertContentError"]'))
    )
    try:
        outcome.first.wait_for(timeout=300_000)
    except PlaywrightTimeout:
        return ""
    wait_idle(page, timeout_ms=300_000)
    return outcome.first.inner_text()


def test_uploads_are_bounded_in_memory_and_deleted_after_use(
    app_server, browser: Browser, provider: Provider, tmp_path: Path, artifacts: Path
) -> None:
    db = tmp_path / "memory.duckdb"
    ws = make(db, 60, seed=2)
    set_rules(ws, Actor("setup", "admin"), [RoleRule(VIEWER, "viewer"), RoleRule(EDITOR, "editor")])
    ws.close()
    bomb = _bomb(tmp_path / "cells.csv.gz")
    assert bomb.stat().st_size < 3 * 2**20
    small = tmp_path / "small.csv"
    small.write_text("user_id,timestamp,event\nu1,2026-09-01 10:00:00,view\n")

    tmp = tmp_path / "server-tmp"
    tmp.mkdir()
    legacy = tmp / "liftboard-upload-k2j4h1"  # as earlier versions named them, two days old
    legacy.mkdir()
    (legacy / "old.csv").write_text("x")
    os.utime(legacy, (time.time() - 2 * 86_400,) * 2)
    dead = tmp / f"liftboard-upload-{_dead_pid()}-a1b2"
    dead.mkdir()
    alive = tmp / f"liftboard-upload-{os.getpid()}-c3d4"  # another live process's upload: left alone
    alive.mkdir()

    port = free_port()
    secrets_file, _ = secrets_with(tmp_path / ".streamlit" / "secrets.toml", port, provider)
    server = app_server(
        db, port=port, extra_args=["--secrets.files", str(secrets_file)], env={"TMPDIR": str(tmp)}
    )
    pid = server.proc.pid
    numbers: dict[str, object] = {}

    # -- a viewer may not load, so nothing of theirs is read or validated
    viewer = Session(browser, provider)
    sign_in(viewer, server.url, provider, VIEWER)
    page = viewer.page
    page.goto(f"{server.url}/data")
    wait_idle(page)
    numbers["idle"] = idle = _mb(pid)
    _reset_peak(pid)
    viewer_outcome = _upload(page, bomb) if page.locator(UPLOADER).count() else ""
    numbers["viewer_peak_mb"] = _mb(pid)["VmHWM"] - idle["VmRSS"]
    screenshot(page, artifacts, "1-viewer")
    uploader_for_viewer = page.locator(UPLOADER).count()
    viewer.close()
    assert "Ready to load" not in viewer_outcome, "a viewer's upload was validated"
    assert numbers["viewer_peak_mb"] < 200, numbers
    assert uploader_for_viewer == 0, "a viewer is offered an upload they may not load"
    assert _spools(tmp) == {alive.name}, "stale uploads were not swept at start (or a viewer's was kept)"

    # -- an editor's 1,900 one-megabyte cells: read and validated within the budget
    editor = Session(browser, provider)
    sign_in(editor, server.url, provider, EDITOR)
    page = editor.page
    page.goto(f"{server.url}/data")
    wait_idle(page)
    before = _mb(pid)
    _reset_peak(pid)
    started = time.monotonic()
    outcome = _upload(page, bomb)
    numbers["editor_validation_s"] = round(time.monotonic() - started, 1)
    numbers["editor_outcome"] = outcome
    numbers["editor_peak_mb"] = _mb(pid)["VmHWM"] - before["VmRSS"]
    screenshot(page, artifacts, "2-editor-validated")
    assert outcome, "the editor's upload got no validation outcome"
    assert numbers["editor_peak_mb"] < PEAK_BUDGET_MB, numbers
    assert len(_spools(tmp) - {alive.name}) == 1

    # -- a file taken out of the uploader is deleted; a finished load deletes its copy
    page.locator('[data-testid="stFileChipDeleteBtn"]').first.click()
    wait_idle(page)
    assert not [p for p in tmp.rglob("cells.csv.gz")], "a removed upload's copy was kept"
    page.locator(UPLOADER).first.set_input_files(str(small))
    page.get_by_text("Ready to load 1 row").first.wait_for(timeout=60_000)
    wait_idle(page)
    page.get_by_role("button", name="Load", exact=True).click()
    expect(page.get_by_text("Loaded 1 rows of small.csv")).to_be_visible(timeout=60_000)
    assert _spools(tmp) == {alive.name}, "the loaded file's copy was kept"

    # -- the end of a session deletes its copy
    wait_idle(page)
    page.locator(UPLOADER).first.set_input_files(str(small))
    page.get_by_text("Ready to load 1 row").first.wait_for(timeout=60_000)
    wait_idle(page)
    assert len(_spools(tmp) - {alive.name}) == 1
    editor.close()
    deadline = time.monotonic() + 60
    while _spools(tmp) != {alive.name} and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _spools(tmp) == {alive.name}, "a closed session's upload was kept"

    numbers["after_mb"] = _mb(pid)["VmRSS"]
    (artifacts / "memory.json").write_text(json.dumps(numbers, indent=2))
    assert numbers["after_mb"] - idle["VmRSS"] < PEAK_BUDGET_MB, numbers

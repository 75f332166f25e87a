"""Helpers for browser tests: wait for the app to be idle, save screenshots, stop a server process."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import IO

from playwright.sync_api import Page

IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def wait_idle(page: Page, timeout_ms: int = 60_000) -> None:
    """Wait until the app's script has finished running (and stays finished briefly)."""
    page.wait_for_selector(IDLE, timeout=timeout_ms)
    page.wait_for_timeout(300)
    page.wait_for_selector(IDLE, timeout=timeout_ms)
    errors = page.locator('[data-testid="stException"]')
    if errors.count():
        raise AssertionError(f"the app shows a traceback: {errors.first.inner_text()[:500]}")


def screenshot(page: Page, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def pick_option(page: Page, label: str, option: str, attempts: int = 5) -> None:
    """Choose an option of a multiselect; a late rerun can close the dropdown, so open it again until it sticks."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(attempts):
        wait_idle(page)
        page.get_by_label(label).click()
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=10_000)
            return
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    raise AssertionError(f"could not choose {option!r} in {label!r} after {attempts} attempts")


def stop_process(proc: subprocess.Popen, log: IO[str]) -> None:
    """Terminate a server started for a test (kill it after 10 s) and close its log."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()

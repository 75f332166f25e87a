"""Helpers for browser tests: wait for the app to be idle, save screenshots."""

from __future__ import annotations

from pathlib import Path

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

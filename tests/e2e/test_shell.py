"""A shared link to a page opens that page inside the app shell, even as a fresh server's first request."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.support.browser import screenshot, wait_idle


def test_first_request_to_a_page_url_runs_through_app_py(
    app_server, page: Page, demo_copy: Path, artifacts: Path
) -> None:
    server = app_server(demo_copy)
    page.goto(f"{server.url}/drift")
    wait_idle(page, timeout_ms=120_000)
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_text("Workspace").first).to_be_visible(timeout=60_000)  # the picker from app.py
    expect(page.locator("h1").first).to_contain_text("Drift", timeout=60_000)
    screenshot(page, artifacts, "drift-first")
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    for title in ("Overview", "Data", "Experiments", "Cost", "Drift", "Feedback"):
        assert title in nav
    assert "ui" not in nav.split() and "app" not in nav.split()
    assert page.locator("h1").first.inner_text().startswith("Drift")

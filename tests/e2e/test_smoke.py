"""The app opens on the demo workspace in a real browser, with no request leaving localhost."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from tests.support.browser import screenshot, wait_idle


def test_app_opens_on_demo(app_server, page: Page, demo_path: Path, artifacts: Path) -> None:
    server = app_server(demo_path)
    page.goto(server.url)
    wait_idle(page)
    page.get_by_text("Workspace").first.wait_for()
    screenshot(page, artifacts, "home")
    assert "Liftboard" in page.title()

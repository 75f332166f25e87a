"""The Drift page in a real browser: verdict, charts, alert list, and settings reproduced from a shared link."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.support.browser import screenshot, wait_idle


def test_drift_page_in_browser(app_server, page: Page, demo_copy: Path, artifacts: Path) -> None:
    server = app_server(demo_copy)
    page.set_viewport_size(
        {"width": 1400, "height": 3200}
    )  # Streamlit scrolls inside: a tall window shows it all
    page.goto(f"{server.url}/drift")
    wait_idle(page, timeout_ms=180_000)
    page.get_by_text("features drift in the latest chunk (2026-10-05)").first.wait_for()
    # The cards come right after the verdict; a late rerun can redraw them, so wait for them as well.
    expect(page.locator('[data-testid="stMetric"]')).to_have_count(4, timeout=60_000)
    assert page.get_by_text("22 Sep").count() >= 1  # the first alert
    page.locator(".js-plotly-plot").nth(2).wait_for()  # score over time, overlay, heat map
    page.get_by_text("Download alerts (CSV)").first.wait_for()
    screenshot(page, artifacts, "drift")
    # A shared link with other settings reproduces them.
    page.goto(f"{server.url}/drift?chunk=week&feature=category&method=distance")
    wait_idle(page, timeout_ms=180_000)
    page.get_by_text("category: drift score by chunk").first.wait_for()
    page.get_by_text("Wasserstein in reference σ").first.wait_for()  # the y axis states the unit
    screenshot(page, artifacts, "drift-week-distance")

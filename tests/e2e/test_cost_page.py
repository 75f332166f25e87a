"""The Cost page in a real browser: cards, the log–log cost curve, and a what-if from a shared link."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.support.browser import screenshot, wait_idle


def test_cost_page_in_browser(app_server, page: Page, demo_copy: Path, artifacts: Path) -> None:
    server = app_server(demo_copy)
    page.goto(f"{server.url}/cost?experiment=ai_recs")
    wait_idle(page, timeout_ms=120_000)
    page.get_by_text("Scaling exponent b").first.wait_for()
    page.get_by_text("How cost grows with users").first.wait_for()
    # The cards may still be arriving when the texts above are drawn: wait for all four, then for no fifth.
    expect(page.locator('[data-testid="stMetric"]')).to_have_count(4, timeout=60_000)
    # Four plotly charts at least (cost curve, unit economics, cost per user, latency, budget).
    page.locator(".js-plotly-plot").nth(3).wait_for()
    expect(page.get_by_text("ai: $").first).to_be_visible()
    screenshot(page, artifacts, "cost")
    # Lower down: unit economics, unit cost by model and latency over time, the budget line.
    for header, name in (
        ("Does the lift pay for the cost?", "cost-unit-economics"),
        ("Over time", "cost-over-time"),
        ("Budget", "cost-budget"),
    ):
        page.get_by_text(header, exact=True).first.scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        page.screenshot(path=str(artifacts / f"{name}.png"))
    # A shared link with a what-if scenario reproduces it.
    page.goto(f"{server.url}/cost?experiment=model_size&in_x=2&out_x=2")
    wait_idle(page, timeout_ms=120_000)
    page.get_by_text("What-if scenario applied").first.wait_for()
    expect(page.get_by_text("large: $").first).to_be_visible()
    screenshot(page, artifacts, "cost-whatif")
    # Per week: the demo's four weeks (three whole) are too few, and the page says what the fit needs.
    page.goto(f"{server.url}/cost?experiment=ai_recs")
    wait_idle(page, timeout_ms=120_000)
    page.get_by_text("How cost grows with users").first.scroll_into_view_if_needed()
    page.locator('[data-testid="stButtonGroup"] button', has_text="Weeks").click()
    wait_idle(page, timeout_ms=120_000)
    page.get_by_text("it needs at least 7 weeks").first.wait_for()
    assert "period=week" in page.url
    page.get_by_text("How cost grows with users").first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / "cost-weekly.png"))

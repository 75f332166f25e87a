"""Charts stay readable in the dark theme: the app follows the browser's colour scheme and so do the charts."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser

from tests.support.browser import screenshot, wait_idle


def _luminance(css: str) -> float:
    r, g, b = (int(x) / 255 for x in re.findall(r"\d+", css)[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_dark_theme_charts_have_light_text(
    app_server, browser: Browser, demo_copy: Path, artifacts: Path
) -> None:
    server = app_server(demo_copy)
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, color_scheme="dark")
    page = context.new_page()
    try:
        page.goto(f"{server.url}/experiments?experiment=ai_recs")
        wait_idle(page, timeout_ms=120_000)
        chart = page.locator(".js-plotly-plot").first
        chart.scroll_into_view_if_needed()
        page.wait_for_selector(".js-plotly-plot .xtick text", timeout=30_000)
        background = page.evaluate(
            "getComputedStyle(document.querySelector('[data-testid=\"stApp\"]')).backgroundColor"
        )
        tick = page.evaluate("getComputedStyle(document.querySelector('.js-plotly-plot .xtick text')).fill")
        screenshot(page, artifacts, "experiments-dark")
        assert _luminance(background) < 0.2, background  # the page is dark …
        assert _luminance(tick) > 0.5, tick  # … and the chart's axis text is light on it
    finally:
        context.close()

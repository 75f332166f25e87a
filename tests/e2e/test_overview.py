"""The Overview in a real browser, and the report opened from disk with no network and no console error."""

from __future__ import annotations

import time
from pathlib import Path

from playwright.sync_api import Page, expect

from analytics.overview import write_report
from analytics.workspace import open_workspace
from tests.support.browser import screenshot, wait_idle


def test_overview_is_the_landing_page(app_server, page: Page, demo_copy: Path, artifacts: Path) -> None:
    server = app_server(demo_copy)
    t0 = time.monotonic()
    page.goto(server.url)
    wait_idle(page, timeout_ms=120_000)
    page.get_by_text("Stage reached: Validate.").first.wait_for()
    first = time.monotonic() - t0
    screenshot(page, artifacts, "overview")
    body = page.inner_text("body")
    assert "The AI variant raised 7-day purchase conversion" in body
    assert "From MVP to scale" in body
    # The cards link to their pages with the experiment in the URL.
    link = page.locator('a[href*="experiments?experiment=ai_recs"]').first
    expect(link).to_have_count(1)
    t1 = time.monotonic()
    page.reload()
    wait_idle(page, timeout_ms=60_000)
    page.get_by_text("Stage reached: Validate.").first.wait_for()
    print(f"overview: first render {first:.1f} s, cached render {time.monotonic() - t1:.1f} s")
    link.click()
    wait_idle(page, timeout_ms=120_000)
    assert "experiment=ai_recs" in page.url
    screenshot(page, artifacts, "experiments-from-overview")


def test_report_opens_offline_and_prints(
    page: Page, demo_path: Path, tmp_path: Path, artifacts: Path
) -> None:
    ws = open_workspace(demo_path, read_only=True)
    try:
        out = write_report(ws, "ai_recs", tmp_path / "report.html")
    finally:
        ws.close()
    page.goto(out.as_uri())
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
    screenshot(page, artifacts, "report")
    assert page.console_errors == []  # type: ignore[attr-defined]
    assert "From MVP to scale" in page.inner_text("body")
    for fmt in ("A4", "Letter"):
        pdf = artifacts / f"report-{fmt}.pdf"
        page.pdf(path=str(pdf), format=fmt, print_background=True)
        assert pdf.stat().st_size > 20_000

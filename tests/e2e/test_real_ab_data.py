"""In a real browser: a per-user outcome file with no experiment column is uploaded on the Data page, named,
loaded and read on the Experiments page; then the quick comparison is filled by hand."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from playwright.sync_api import Page, expect

from analytics.workspace import open_workspace
from tests.support import ab_shapes as shapes
from tests.support.browser import screenshot, wait_idle


def test_outcome_file_named_on_the_data_page_then_read(
    app_server, page: Page, tmp_path: Path, artifacts: Path
) -> None:
    db = tmp_path / "empty.duckdb"
    open_workspace(db).close()
    src = shapes.cookie_cats(tmp_path / "cookie_cats.csv")  # the real size: 90,189 players
    df = pd.read_csv(src)
    server = app_server(db)

    page.goto(f"{server.url}/data?kind=outcomes")
    wait_idle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(src))
    page.get_by_text("Ready to load 90,189 rows").wait_for(timeout=120_000)
    wait_idle(page)
    name = page.get_by_role("textbox", name="Experiment name")
    expect(name).to_have_value("cookie_cats")
    assert page.get_by_text("--map").count() == 0
    name.fill("gate_move")
    name.press("Enter")
    wait_idle(page)
    page.get_by_text("Ready to load 90,189 rows").wait_for(timeout=120_000)
    page.get_by_text("Ready to load 90,189 rows").scroll_into_view_if_needed()
    screenshot(page, artifacts, "1-outcomes-mapped-and-named")
    page.get_by_role("button", name="Load", exact=True).click()
    page.get_by_text("Loaded 90,189 rows of cookie_cats.csv into outcomes (new).").wait_for(timeout=120_000)
    wait_idle(page)
    screenshot(page, artifacts, "2-loaded")

    page.goto(f"{server.url}/experiments?experiment=gate_move")
    wait_idle(page, timeout_ms=120_000)
    control = df[df.version == "gate_30"].retention_7.mean() * 100
    verdict = page.get_by_text(f"{control:.1f}%", exact=False).first
    verdict.wait_for(timeout=120_000)
    expect(page.get_by_text("retention_7", exact=False).first).to_be_visible()
    # which arm is the control and why, in the page's own words (no command-line flag), and no traceback
    expect(
        page.get_by_text("Control: gate_30 (no arm is named like a control", exact=False).first
    ).to_be_visible()
    expect(page.get_by_text("choose the right one in Control arm below", exact=False).first).to_be_visible()
    assert page.get_by_text("Traceback", exact=False).count() == 0
    assert page.get_by_text("--control", exact=False).count() == 0
    screenshot(page, artifacts, "3-experiment-verdict")

    quick = page.get_by_text("Quick comparison", exact=False).first
    quick.scroll_into_view_if_needed()
    page.get_by_label("Arm 1 name").fill("Original")
    page.get_by_label("Arm 1 users").fill("10000")
    page.get_by_label("Arm 1 conversions").fill("1000")
    page.get_by_label("Arm 2 name").fill("New checkout")
    page.get_by_label("Arm 2 users").fill("10150")
    page.get_by_label("Arm 2 conversions").fill("1130")
    page.get_by_role("button", name="Compare", exact=True).click()
    wait_idle(page)
    page.get_by_text("from 10.0% to 11.1%", exact=False).first.wait_for(timeout=60_000)
    page.get_by_text("from 10.0% to 11.1%", exact=False).first.scroll_into_view_if_needed()
    screenshot(page, artifacts, "4-quick-comparison")
    page.locator('[data-testid="stPlotlyChart"]').last.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    screenshot(page, artifacts, "5-quick-comparison-chart")

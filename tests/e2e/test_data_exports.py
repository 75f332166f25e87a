"""In a real browser: upload a PostHog CSV export, accept the suggested "PostHog", load, read the verdict."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from analytics.workspace import open_workspace
from tests.support import exports as X
from tests.support.browser import screenshot, wait_idle
from tests.support.export_files import write_export


def test_posthog_export_upload_to_verdict(app_server, page: Page, tmp_path: Path, artifacts: Path) -> None:
    rows = X.simulate("posthog", users=3000)
    (csv,) = write_export("posthog", rows, tmp_path / "export", "csv")
    db = tmp_path / "empty.duckdb"
    open_workspace(db).close()
    server = app_server(db)

    page.goto(f"{server.url}/data")
    wait_idle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(csv))
    page.get_by_text(f"Ready to load {len(rows):,} events", exact=False).wait_for(timeout=180_000)
    wait_idle(page)
    # the source is suggested from the columns, and accepted as it is
    assert page.get_by_role("combobox", name="This file comes from…").input_value() == "PostHog"
    expect(
        page.get_by_text("Suggested from the file's columns: a PostHog export has", exact=False)
    ).to_be_visible()
    expect(page.get_by_text("answered false", exact=False).first).to_be_visible()
    screenshot(page, artifacts, "1-suggested")
    page.get_by_text(f"Ready to load {len(rows):,} events", exact=False).scroll_into_view_if_needed()
    screenshot(page, artifacts, "2-checked")

    page.get_by_role("button", name="Load", exact=True).click()
    page.get_by_text("assignments from the PostHog export", exact=False).wait_for(timeout=180_000)
    wait_idle(page)
    expect(
        page.get_by_text(f"This workspace holds 2 tables: {len(rows):,} events", exact=False)
    ).to_be_visible()
    page.get_by_role("heading", name="Data", exact=True).first.scroll_into_view_if_needed()
    screenshot(page, artifacts, "3-loaded")

    want = X.expected("posthog", rows)
    control, treatment = (f"{want[a]['conversion']:.1%}" for a in ("control", "treatment"))
    page.goto(f"{server.url}/experiments?experiment={X.MAIN}&metrics=conversion:Purchase:7d,mean:Purchase:7d")
    verdict = page.get_by_text(f"7-day Purchase conversion from {control} to {treatment}", exact=False).first
    verdict.wait_for(timeout=180_000)
    wait_idle(page)
    revenue = f"7-day Purchase value per user from ${want['control']['revenue']:.2f} to ${want['treatment']['revenue']:.2f}"
    expect(page.get_by_text(revenue, exact=False).first).to_be_visible()
    screenshot(page, artifacts, "4-verdict")

"""The Feedback page in a real browser: a reviewer tags items and the tag mix and headline change."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from analytics import feedback as fb
from tests.support.browser import pick_option, screenshot, wait_idle
from tests.support.feedback_data import make


def test_reviewer_tags_items_and_charts_change(
    app_server, page: Page, tmp_path: Path, artifacts: Path
) -> None:
    db = tmp_path / "e2e-feedback.duckdb"
    ws = make(db, 300, seed=12)
    n_reject = fb.count(ws, fb.FeedbackFilter(signals=("reject",)))
    ws.close()
    server = app_server(db)
    page.goto(f"{server.url}/feedback?fb_signal=reject")  # a fresh server's first request, straight to a page
    wait_idle(page)
    expect(page.get_by_text(f"reviewers have tagged 0 of {n_reject:,} items")).to_be_visible()

    # Who is reviewing: the name box (sidebar in the app), typed once per session.
    name = page.get_by_label("Your name (recorded with your changes)")
    name.fill("Ada")
    name.press("Enter")
    wait_idle(page)

    page.get_by_role("tab", name="Tag mix & agreement").click()
    wait_idle(page)
    expect(page.get_by_text("No tagged items yet")).to_be_visible()
    screenshot(page, artifacts, "1-tag-mix-before")

    page.get_by_role("tab", name="Review queue").click()
    page.get_by_text("Bulk action on every item matching the filters").click()
    pick_option(page, "Add tags", "irrelevant")
    page.keyboard.press("Escape")
    wait_idle(page)
    expect(
        page.get_by_text(f"This changes your tags on {n_reject:,} of the {n_reject:,} selected items")
    ).to_be_visible()
    page.get_by_text(f"Yes, change {n_reject:,} items").click()
    wait_idle(page)
    page.get_by_role("button", name="Apply to the selection").click()
    wait_idle(page)
    expect(page.get_by_text(f"Changed tags on {n_reject:,} item(s).")).to_be_visible()
    expect(page.get_by_text(f"reviewers have tagged {n_reject:,} of {n_reject:,} items")).to_be_visible()
    screenshot(page, artifacts, "2-queue-after-bulk")

    page.get_by_role("tab", name="Tag mix & agreement").click()
    wait_idle(page)
    expect(page.get_by_text("No tagged items yet")).to_have_count(0)
    expect(page.locator(".js-plotly-plot .legendtext", has_text="irrelevant").first).to_be_visible()
    screenshot(page, artifacts, "3-tag-mix-after")

    assert not [e for e in page.console_errors if "Failed to load resource" not in e]

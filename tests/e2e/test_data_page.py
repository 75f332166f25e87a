"""In a real browser: upload a CSV with non-canonical column names to an empty workspace, map it, load it."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from analytics.workspace import open_workspace
from tests.support.browser import screenshot, wait_idle

CSV = (
    "customer_id|event_time|event_name|revenue|plan\n"
    "c1|2026-09-01 10:00:00|view||free\n"
    "c2|2026-09-01 11:00:00|purchase|19.99|pro\n"
    "c2|2026-09-03 08:30:00|share||pro\n"
    "c3|2026-09-04 09:15:00|purchase|5.00|free\n"
)


def test_upload_map_and_load(app_server, page: Page, tmp_path: Path, artifacts: Path) -> None:
    db = tmp_path / "empty.duckdb"
    open_workspace(db).close()
    src = tmp_path / "shop_export.csv"
    src.write_text(CSV)
    server = app_server(db)

    page.goto(f"{server.url}/data")
    wait_idle(page)
    expect(page.get_by_text("This workspace holds no data yet")).to_be_visible()
    expect(page.get_by_role("button", name="Build the demo workspace")).to_be_visible()
    screenshot(page, artifacts, "1-empty")

    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(src))
    page.get_by_text("Ready to load 4 rows").wait_for(timeout=60_000)
    wait_idle(page)
    # the automatic mapping shows the file's own names in the canonical selectboxes
    expected = {"user_id (required)": "customer_id", "timestamp (required)": "event_time",
                "event (required)": "event_name", "value (optional)": "revenue"}  # fmt: skip
    for label, src_col in expected.items():
        assert page.get_by_label(label, exact=True).input_value() == src_col
    expect(page.get_by_text("pipe-separated utf-8 text", exact=False)).to_be_visible()
    screenshot(page, artifacts, "2-mapped")

    page.get_by_role("button", name="Load", exact=True).click()
    page.get_by_text("Loaded 4 rows of shop_export.csv into events (new).").wait_for(timeout=60_000)
    wait_idle(page)
    expect(
        page.get_by_text("This workspace holds 1 table: 4 events from 3 users", exact=False)
    ).to_be_visible()
    page.get_by_role("heading", name="Data", exact=True).first.scroll_into_view_if_needed()
    screenshot(page, artifacts, "3-loaded")

    server.stop()  # the server holds the workspace's file lock
    ws = open_workspace(db, read_only=True)
    try:
        assert ws.query("SELECT count(*), sum(value), count(DISTINCT user_id) FROM events") == [(4, 24.99, 3)]
        assert ws.query("SELECT file_name, rows, mode FROM lb_loads") == [("shop_export.csv", 4, "new")]
    finally:
        ws.close()

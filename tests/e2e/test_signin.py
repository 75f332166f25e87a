"""Real sign-in: Streamlit's OpenID Connect against a mock provider on loopback; roles decide what each user can do."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, expect

from analytics import feedback as fb
from analytics.workspace import Actor, RoleRule, set_rules
from tests.support.browser import pick_option, screenshot, wait_idle
from tests.support.feedback_data import make
from tests.support.oidc import Session, sign_in
from tests.support.server import Provider, auth_secrets, free_port

VIEWER, EDITOR, STRANGER = "viewer@example.com", "editor@example.com", "stranger@elsewhere.org"


def test_sign_in_as_viewer_editor_and_stranger(
    app_server, browser: Browser, provider: Provider, tmp_path: Path, artifacts: Path
) -> None:
    db = tmp_path / "signin-workspace.duckdb"
    ws = make(db, 120, seed=5)
    n_reject = fb.count(ws, fb.FeedbackFilter(signals=("reject",)))
    set_rules(ws, Actor("setup", "admin"), [RoleRule(VIEWER, "viewer"), RoleRule(EDITOR, "editor")])
    audit_before = ws.scalar("SELECT count(*) FROM lb_audit")
    ws.close()
    port = free_port()
    secrets_file = auth_secrets(tmp_path / "auth" / "secrets.toml", port, provider)
    server = app_server(db, port=port, extra_args=["--secrets.files", str(secrets_file)])

    # -- before sign-in: nothing of the workspace ------------------------------------------------
    anon = Session(browser, provider)
    page = anon.page
    page.goto(server.url)
    wait_idle(page)
    expect(page.get_by_text("This Liftboard requires you to sign in.")).to_be_visible()
    text = page.locator("body").inner_text()
    for secret in ("signin-workspace", ".duckdb", "Overview", "Experiments", "Feedback", "Workspace"):
        assert secret not in text, f"{secret!r} is visible before sign-in"
    screenshot(page, artifacts, "1-before-sign-in")
    expect(page.locator('[data-testid="stSidebarNav"]')).to_have_count(0)
    page.goto(f"{server.url}/data")  # a deep link is gated too
    wait_idle(page)
    expect(page.get_by_text("This Liftboard requires you to sign in.")).to_be_visible()
    assert "signin-workspace" not in page.locator("body").inner_text()
    anon.close()

    # -- the viewer: reads everything, writes nothing ---------------------------------------------
    viewer = Session(browser, provider)
    page = viewer.page
    sign_in(viewer, server.url, provider, VIEWER)
    expect(page.get_by_text(f"Signed in as {VIEWER} (viewer).")).to_be_visible()
    expect(page.locator('[data-testid="stSidebarNav"]').get_by_text("Feedback")).to_be_visible()
    page.goto(f"{server.url}/data")
    wait_idle(page)
    # a viewer is offered no upload at all (nothing of a file is read for a role that may not load it)
    expect(page.locator('[data-testid="stFileUploaderDropzoneInput"]')).to_have_count(0)
    expect(page.get_by_role("button", name="Load", exact=True)).to_have_count(0)
    expect(
        page.get_by_text("Your role (viewer) cannot load data; ask an admin for the editor role.")
    ).to_be_visible()
    page.get_by_text("Delete a dataset").click()
    wait_idle(page)
    expect(page.get_by_role("button", name="Delete", exact=True)).to_be_disabled()
    expect(
        page.get_by_text("Your role (viewer) cannot delete datasets; ask an admin for the admin role.")
    ).to_be_visible()
    screenshot(page, artifacts, "2-viewer-data")
    page.goto(f"{server.url}/feedback?fb_signal=reject")
    wait_idle(page)
    expect(
        page.get_by_text("Your role (viewer) cannot tag feedback; ask an admin for the editor role.")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Save changes")).to_be_disabled()
    screenshot(page, artifacts, "3-viewer-feedback")
    viewer.close()

    # -- the editor: tags ---------------------------------------------------------------------------
    editor = Session(browser, provider)
    page = editor.page
    sign_in(editor, server.url, provider, EDITOR)
    expect(page.get_by_text(f"Signed in as {EDITOR} (editor).")).to_be_visible()
    page.goto(f"{server.url}/feedback?fb_signal=reject")
    wait_idle(page)
    expect(page.get_by_text(f"reviewers have tagged 0 of {n_reject:,} items")).to_be_visible()
    page.get_by_role("tab", name="Review queue").click()
    page.get_by_text("Bulk action on every item matching the filters").click()
    wait_idle(page)
    pick_option(page, "Add tags", "irrelevant")
    page.keyboard.press("Escape")
    wait_idle(page)
    page.get_by_text(f"Yes, change {n_reject:,} items").click()
    wait_idle(page)
    page.get_by_role("button", name="Apply to the selection").click()
    wait_idle(page)
    expect(page.get_by_text(f"Changed tags on {n_reject:,} item(s).")).to_be_visible()
    screenshot(page, artifacts, "4-editor-tagged")
    page.get_by_role("tab", name="Taxonomy").click()
    wait_idle(page)
    expect(page.get_by_text("Only admins edit the taxonomy.")).to_be_visible()
    editor.close()

    # -- a stranger: signed in, but no role -------------------------------------------------------
    stranger = Session(browser, provider)
    page = stranger.page
    sign_in(stranger, server.url, provider, STRANGER)
    expect(page.get_by_text(f"{STRANGER} has no access to this workspace")).to_be_visible()
    text = page.locator("body").inner_text()
    for secret in ("signin-workspace", ".duckdb", "Overview", "Experiments", "Workspace"):
        assert secret not in text, f"{secret!r} is visible to a user without a role"
    screenshot(page, artifacts, "5-stranger")
    stranger.close()

    server.stop()
    from analytics.workspace import open_workspace

    ws = open_workspace(db, read_only=True)
    try:
        # only the editor wrote: one audit row per tagged item, under their email; no load happened
        rows = ws.query(
            "SELECT actor, action, count(*) FROM lb_audit WHERE audit_id > ? GROUP BY ALL", [audit_before]
        )
        assert rows == [(EDITOR, "review.tag", n_reject)]
        assert ws.scalar("SELECT count(*) FROM lb_loads") == 0
    finally:
        ws.close()

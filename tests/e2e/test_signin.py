"""Real sign-in: Streamlit's OpenID Connect against a mock provider on loopback; roles decide what each user can do."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from playwright.sync_api import Browser, BrowserContext, Page, expect

from analytics import feedback as fb
from analytics.workspace import Actor, RoleRule, set_rules
from tests.support.browser import pick_option, screenshot, wait_idle
from tests.support.feedback_data import make
from tests.support.server import LOCAL_HOSTS, Provider, auth_secrets, free_port

VIEWER, EDITOR, STRANGER = "viewer@example.com", "editor@example.com", "stranger@elsewhere.org"
EVENTS = "user_id,timestamp,event\nu1,2026-09-01 10:00:00,view\n"


class Session:
    """One browser context (its own cookies): the app's requests must stay on localhost.

    The provider's own form links a stylesheet on a CDN; that request is blocked and, being the provider's
    (referer on the provider's port), it is the one outside request allowed. Anything else fails the test.
    """

    def __init__(self, browser: Browser, provider: Provider) -> None:
        self.context: BrowserContext = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.outside: list[str] = []
        self.context.route(
            lambda url: (urlparse(url).hostname or "") not in LOCAL_HOSTS and url.startswith("http"),
            lambda route: route.abort(),
        )

        def on_request(req) -> None:  # Playwright's Request
            host = urlparse(req.url).hostname or ""
            if not req.url.startswith("http") or host in LOCAL_HOSTS:
                return
            if (req.headers.get("referer") or "").startswith(provider.url):
                return  # the mock provider's CDN stylesheet, blocked above
            self.outside.append(req.url)

        self.context.on("request", on_request)
        self.page: Page = self.context.new_page()

    def close(self) -> None:
        self.context.close()
        assert not self.outside, f"the app requested hosts other than localhost: {self.outside[:5]}"


def _sign_in(s: Session, app_url: str, provider: Provider, email: str) -> None:
    page = s.page
    page.goto(app_url)
    wait_idle(page)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{provider.url}/oauth2/authorize**", timeout=30_000)
    page.locator('input[name="sub"]').fill(email)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{app_url}/**", timeout=30_000)
    wait_idle(page)


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
    upload = tmp_path / "more_events.csv"
    upload.write_text(EVENTS)

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
    _sign_in(viewer, server.url, provider, VIEWER)
    expect(page.get_by_text(f"Signed in as {VIEWER} (viewer).")).to_be_visible()
    expect(page.locator('[data-testid="stSidebarNav"]').get_by_text("Feedback")).to_be_visible()
    page.goto(f"{server.url}/data")
    wait_idle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(upload))
    page.get_by_text("Ready to load 1 rows").or_(page.get_by_text("Ready to load 1 row")).first.wait_for(
        timeout=60_000
    )
    wait_idle(page)
    expect(page.get_by_role("button", name="Load", exact=True)).to_be_disabled()
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
    _sign_in(editor, server.url, provider, EDITOR)
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
    _sign_in(stranger, server.url, provider, STRANGER)
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

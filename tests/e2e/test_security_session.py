"""Issue 14, low findings on the server: sign-out ends the session for good, the sign-in cookie is short-lived,
and with sign-in configured the server's metrics and media (downloads) need a signed-in cookie.

A real server (server.py, as `make run` starts it) with the mock OpenID provider, Chromium, and plain HTTP
requests made with and without the browser's cookies.
"""

from __future__ import annotations

import time
from pathlib import Path

from playwright.sync_api import Browser, expect

from analytics.workspace import Actor, RoleRule, set_rules
from tests.support.browser import screenshot, wait_idle
from tests.support.feedback_data import make
from tests.support.oidc import Session, secrets_with, sign_in
from tests.support.server import Provider, free_port

VIEWER = "viewer@example.com"
SESSION_HOURS = 8  # the README's figure, and the default


def _server(app_server, tmp_path: Path, provider: Provider, liftboard: tuple[str, ...] = ()):
    db = tmp_path / "session.duckdb"
    ws = make(db, 60, seed=6)
    set_rules(ws, Actor("setup", "admin"), [RoleRule(VIEWER, "viewer")])
    ws.close()
    port = free_port()
    secrets_file, _ = secrets_with(tmp_path / ".streamlit" / "secrets.toml", port, provider, liftboard)
    return app_server(db, port=port, extra_args=["--secrets.files", str(secrets_file)])


def test_sign_out_ends_the_session_and_the_cookie_is_short_lived(
    app_server, browser: Browser, provider: Provider, tmp_path: Path, artifacts: Path
) -> None:
    server = _server(app_server, tmp_path, provider)
    s = Session(browser, provider)
    sign_in(s, server.url, provider, VIEWER)
    page = s.page
    expect(page.get_by_text(f"Signed in as {VIEWER} (viewer).")).to_be_visible()
    cookies = [c for c in s.context.cookies() if c["name"].startswith("_streamlit_user")]
    assert cookies, "no sign-in cookie"
    for c in cookies:  # the browser keeps it for hours, not the 30 days Streamlit sets
        assert 0 < c["expires"] - time.time() <= SESSION_HOURS * 3600 + 60, (
            c["name"],
            c["expires"] - time.time(),
        )

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{provider.url}/oauth2/end_session**", timeout=30_000)  # the provider's sign-out too
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(f"{server.url}/**", timeout=30_000)
    wait_idle(page)
    expect(page.get_by_text("This Liftboard requires you to sign in.")).to_be_visible()

    # someone who copied the cookie before the sign-out replays it: it no longer signs anyone in
    thief = Session(browser, provider)
    thief.context.add_cookies(cookies)
    thief.page.goto(server.url)
    wait_idle(thief.page)
    screenshot(thief.page, artifacts, "replayed-cookie")
    expect(thief.page.get_by_text("This Liftboard requires you to sign in.")).to_be_visible()
    assert "(viewer)" not in thief.page.locator("body").inner_text()
    thief.close()
    s.close()


def test_an_old_cookie_signs_nobody_in(
    app_server, browser: Browser, provider: Provider, tmp_path: Path, artifacts: Path
) -> None:
    """[liftboard] session_hours bounds a cookie's age on the server too, whatever the browser keeps."""
    server = _server(app_server, tmp_path, provider, liftboard=("session_hours = 0.002",))  # 7.2 seconds
    s = Session(browser, provider)
    sign_in(s, server.url, provider, VIEWER)
    expect(s.page.get_by_text(f"Signed in as {VIEWER} (viewer).")).to_be_visible()
    cookies = [c for c in s.context.cookies() if c["name"].startswith("_streamlit_user")]
    time.sleep(10)
    late = Session(browser, provider)
    late.context.add_cookies([{**c, "expires": time.time() + 3600} for c in cookies])
    late.page.goto(server.url)
    wait_idle(late.page)
    screenshot(late.page, artifacts, "old-cookie")
    expect(late.page.get_by_text("This Liftboard requires you to sign in.")).to_be_visible()
    late.close()
    s.close()


def test_metrics_and_media_need_sign_in(
    app_server, browser: Browser, provider: Provider, tmp_path: Path, artifacts: Path
) -> None:
    server = _server(app_server, tmp_path, provider)
    s = Session(browser, provider)
    sign_in(s, server.url, provider, VIEWER)
    page = s.page
    page.goto(f"{server.url}/data")
    wait_idle(page)
    with page.expect_download(timeout=60_000) as dl:
        page.get_by_role("button", name="Download CSV").first.click()
    media = dl.value.url
    assert "/media/" in media, media
    signed = s.context.request
    assert signed.get(media).ok
    assert signed.get(f"{server.url}/_stcore/metrics").ok

    stranger = browser.new_context()
    try:
        for url in (
            media,
            f"{server.url}/_stcore/metrics",
            f"{server.url}/_stcore/metrics?families=cache_memory_bytes",
        ):
            resp = stranger.request.get(url)
            assert resp.status in (401, 403), (url, resp.status, resp.text()[:200])
        assert stranger.request.get(
            f"{server.url}/_stcore/health"
        ).ok  # what a load balancer polls stays open
    finally:
        stranger.close()
    s.close()

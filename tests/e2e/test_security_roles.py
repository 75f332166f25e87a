"""Issue 14, findings 3 and 7: roles only for verified emails (or a bound provider subject); a refused workspace is let go.

Real sign-in through the mock OpenID provider, whose claims each test sets (email, email_verified), a real
server, Chromium, and the command line run against a workspace the app was asked to open.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from playwright.sync_api import Browser, expect

from analytics.workspace import Actor, RoleRule, open_workspace, set_rules
from tests.support.browser import screenshot, wait_idle
from tests.support.feedback_data import make
from tests.support.oidc import Session, secrets_with, sign_in
from tests.support.server import ROOT, Provider, free_port

ADMIN, VIEWER = "admin@example.com", "viewer@example.com"


def _start(app_server, db: Path, tmp_path: Path, provider: Provider):
    port = free_port()
    secrets_file, _ = secrets_with(tmp_path / ".streamlit" / "secrets.toml", port, provider)
    return app_server(db, port=port, extra_args=["--secrets.files", str(secrets_file)])


def _roles_workspace(tmp_path: Path, rules: list[RoleRule]) -> Path:
    db = tmp_path / "roles.duckdb"
    ws = make(db, 60, seed=3)
    set_rules(ws, Actor("setup", "admin"), rules)
    ws.close()
    return db


def test_roles_need_a_verified_email(
    app_server, browser: Browser, provider: Provider, tmp_path: Path, artifacts: Path
) -> None:
    db = _roles_workspace(tmp_path, [RoleRule(ADMIN, "admin"), RoleRule("@example.com", "viewer")])
    server = _start(app_server, db, tmp_path, provider)

    # an account at the provider whose email is not verified, however it is spelled, gets nothing
    for i, (sub, email, verified) in enumerate(
        [
            ("mallory", "Admin@Example.com", False),
            ("mallory-2", ADMIN, None),
            ("mallory-3", "x@example.com", False),
        ]
    ):
        s = Session(browser, provider)
        sign_in(s, server.url, provider, sub, email=email, verified=verified)
        page = s.page
        text = page.locator("body").inner_text()
        screenshot(page, artifacts, f"unverified-{i}")
        assert "(admin)" not in text and "(viewer)" not in text and "Administration" not in text, (
            email,
            text,
        )
        expect(page.get_by_text("has no access to this workspace")).to_be_visible()
        expect(page.get_by_text("verified", exact=False).first).to_be_visible()
        for secret in ("roles.duckdb", "Overview", "Experiments", "Workspace"):
            assert secret not in text, f"{secret!r} is visible to an unverified account"
        s.close()

    # the same email, verified by the provider: the admin role
    admin = Session(browser, provider)
    sign_in(admin, server.url, provider, "ada", email="Admin@Example.com", verified=True)
    expect(admin.page.get_by_text(f"Signed in as {ADMIN} (admin).")).to_be_visible()
    admin.close()


def test_a_provider_subject_bound_to_a_role_needs_no_verified_email(
    app_server, browser: Browser, provider: Provider, tmp_path: Path, artifacts: Path
) -> None:
    db = _roles_workspace(tmp_path, [RoleRule(ADMIN, "admin"), RoleRule("sub:svc-7", "editor")])
    server = _start(app_server, db, tmp_path, provider)
    bot = Session(browser, provider)
    sign_in(bot, server.url, provider, "svc-7", email="bot@elsewhere.org", verified=False)
    expect(bot.page.get_by_text("(editor).")).to_be_visible()
    screenshot(bot.page, artifacts, "bound-subject")
    bot.close()


def test_a_workspace_without_a_role_is_not_left_open(
    app_server, browser: Browser, provider: Provider, tmp_path: Path, artifacts: Path
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    main, other = folder / "main.duckdb", folder / "other.duckdb"
    for path, rules in ((main, [RoleRule(VIEWER, "viewer")]), (other, [RoleRule(ADMIN, "admin")])):
        ws = make(path, 60, seed=4)
        set_rules(ws, Actor("setup", "admin"), rules)
        ws.close()
    server = _start(app_server, main, tmp_path, provider)
    events = tmp_path / "events.csv"
    events.write_text("user_id,timestamp,event\nu1,2026-09-01 10:00:00,view\n")

    s = Session(browser, provider)
    sign_in(s, server.url, provider, VIEWER)
    page = s.page
    expect(page.get_by_text(f"Signed in as {VIEWER} (viewer).")).to_be_visible()
    page.get_by_role(
        "combobox", name="Workspace"
    ).click()  # the sidebar's picker offers the other file of the folder
    page.get_by_role("option", name=str(other)).click()
    wait_idle(page)
    expect(page.get_by_text(f"{VIEWER} has no access to this workspace")).to_be_visible()
    screenshot(page, artifacts, "1-no-access")

    # the app holds no lock on it: the command line writes to it while the server runs
    done = subprocess.run(
        [sys.executable, "-m", "analytics", "load", str(events), "--kind", "events", "--db", str(other)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    check = open_workspace(other, read_only=True)
    try:
        assert check.scalar("SELECT count(*) FROM events") == 1
    finally:
        check.close()

    # and the viewer finds their way back to the workspace they may read
    page.get_by_role("button", name="Back to main.duckdb").click()
    wait_idle(page)
    expect(page.get_by_text(f"Signed in as {VIEWER} (viewer).")).to_be_visible()
    screenshot(page, artifacts, "2-back")
    s.close()

"""Issue 14, findings 1 and 2: no signed-in role reads a server file outside the import folders, so none can forge a role.

Real sign-in (the mock OpenID provider), a real server and Chromium. The secrets file sits in a `.streamlit`
folder as it does on a real install; each test tries the routes an attacker tried: the "Path on the server" box
with the secrets file, /etc/passwd, a symlink and a `..` path out of an import folder, and a `.streamlit` folder
inside one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from analytics.workspace import Actor, RoleRule, set_rules
from tests.support.browser import screenshot, wait_idle
from tests.support.feedback_data import make
from tests.support.oidc import Session, secrets_with, sign_in
from tests.support.server import Provider, free_port

VIEWER, EDITOR, ADMIN = "viewer@example.com", "editor@example.com", "admin@example.com"
PATH_BOX = "Path on the server"
PASSWD_LINE = "root:x:0:0"


def _workspace(tmp_path: Path) -> Path:
    db = tmp_path / "data" / "security.duckdb"
    db.parent.mkdir()
    ws = make(db, 120, seed=5)
    rules = [RoleRule(VIEWER, "viewer"), RoleRule(EDITOR, "editor"), RoleRule(ADMIN, "admin")]
    set_rules(ws, Actor("setup", "admin"), rules)
    ws.close()
    return db


def _server(app_server, tmp_path: Path, provider: Provider, liftboard: tuple[str, ...] = ()):
    """A server whose secrets live in <tmp>/.streamlit/secrets.toml; returns it and the cookie secret."""
    port = free_port()
    secrets_file, cookie_secret = secrets_with(
        tmp_path / ".streamlit" / "secrets.toml", port, provider, liftboard=liftboard
    )
    server = app_server(_workspace(tmp_path), port=port, extra_args=["--secrets.files", str(secrets_file)])
    return server, secrets_file, cookie_secret


def _data_page(page: Page, url: str) -> None:
    page.goto(f"{url}/data")
    wait_idle(page)


def _try_server_path(page: Page, path: str) -> str:
    """Type a path into the 'Path on the server' box if the page offers one; the page's text afterwards."""
    option = page.get_by_role("radio", name=PATH_BOX)
    if option.count():
        option.first.check(force=True)
        wait_idle(page)
        box = page.get_by_role("textbox", name=PATH_BOX)
        box.fill(path)
        box.press("Enter")
        wait_idle(page)
        # the outcome of the path: an error, or the preview's caption ("NAME: 0.0 MB, read as …")
        outcome = page.locator('[data-testid="stAlertContentError"]').or_(page.get_by_text(", read as "))
        try:
            outcome.first.wait_for(timeout=15_000)
        except PlaywrightTimeout:
            pass  # neither: the page refused to look at the path at all
        wait_idle(page)
    return page.locator("body").inner_text() + "\n" + _table_text(page)


def _table_text(page: Page) -> str:
    """The text of every data table on the page (drawn on a canvas; read from its accessible copy)."""
    return "\n".join(page.locator('[data-testid="stDataFrame"]').all_text_contents())


def test_without_import_folders_no_role_reads_a_server_file(
    app_server, browser: Browser, provider: Provider, tmp_path: Path, artifacts: Path
) -> None:
    server, secrets_file, cookie_secret = _server(app_server, tmp_path, provider)
    for who in (VIEWER, EDITOR, ADMIN):
        s = Session(browser, provider)
        sign_in(s, server.url, provider, who)
        page = s.page
        _data_page(page, server.url)
        for target in (str(secrets_file), ".streamlit/secrets.toml", "/etc/passwd"):
            text = _try_server_path(page, target)
            assert cookie_secret not in text, f"{who} read the cookie secret through {target}"
            assert "client_secret" not in text, f"{who} read the secrets file through {target}"
            assert PASSWD_LINE not in text, f"{who} read /etc/passwd"
        screenshot(page, artifacts, f"no-import-folders-{who.split('@')[0]}")
        # none configured: the box is not offered at all, to any role
        expect(page.get_by_role("radio", name=PATH_BOX)).to_have_count(0)
        s.close()


def test_import_folders_confine_server_paths_and_viewers_get_none(
    app_server, browser: Browser, provider: Provider, tmp_path: Path, artifacts: Path
) -> None:
    imports = tmp_path / "imports"
    (imports / "sub").mkdir(parents=True)
    (imports / "events.csv").write_text("user_id,timestamp,event\nu1,2026-09-01 10:00:00,view\n")
    server, secrets_file, cookie_secret = _server(
        app_server, tmp_path, provider, liftboard=(f"import_dirs = [{json.dumps(str(imports))}]",)
    )
    (imports / "link.csv").symlink_to(secrets_file)  # a symlink inside the folder to the secrets
    (imports / ".streamlit").mkdir()
    (imports / ".streamlit" / "secrets.toml").write_text(secrets_file.read_text())
    attempts = {
        "the secrets file": str(secrets_file),
        "a symlink to it": str(imports / "link.csv"),
        "a .. path": str(imports / "sub" / ".." / ".." / ".streamlit" / "secrets.toml"),
        "a .streamlit folder inside": str(imports / ".streamlit" / "secrets.toml"),
        "/etc/passwd": "/etc/passwd",
        "a symlink to a folder": "/proc/self/root/etc/passwd",
    }

    # -- a viewer may not load: no box, no preview, no validation, whatever the path
    viewer = Session(browser, provider)
    sign_in(viewer, server.url, provider, VIEWER)
    page = viewer.page
    _data_page(page, server.url)
    for what, target in attempts.items():
        text = _try_server_path(page, target)
        assert cookie_secret not in text and PASSWD_LINE not in text, f"the viewer read {what}"
    text = _try_server_path(page, str(imports / "events.csv"))
    assert "Ready to load" not in text, "a viewer's file was validated"
    expect(page.get_by_role("radio", name=PATH_BOX)).to_have_count(0)
    expect(
        page.get_by_text("Your role (viewer) cannot load data; ask an admin for the editor role.")
    ).to_be_visible()
    screenshot(page, artifacts, "1-viewer")
    viewer.close()

    # -- an editor reads files under the import folder, and nothing else, each refusal in one sentence
    editor = Session(browser, provider)
    sign_in(editor, server.url, provider, EDITOR)
    page = editor.page
    _data_page(page, server.url)
    expect(page.get_by_role("radio", name=PATH_BOX)).to_have_count(1)
    for what, target in attempts.items():
        text = _try_server_path(page, target)
        assert cookie_secret not in text and "client_secret" not in text, f"the editor read {what}"
        assert PASSWD_LINE not in text, f"the editor read /etc/passwd through {what}"
        alert = page.locator('[data-testid="stAlertContentError"]')
        expect(alert.first).to_be_visible()
        message = alert.first.inner_text()
        assert "import folder" in message and "\n" not in message.strip(), (what, message)
        expect(page.locator('[data-testid="stDataFrame"]').filter(has_text="cookie_secret")).to_have_count(0)
    screenshot(page, artifacts, "2-editor-refused")
    _try_server_path(page, str(imports / "events.csv"))
    page.get_by_text("Ready to load 1 row").first.wait_for(timeout=60_000)
    screenshot(page, artifacts, "3-editor-inside")
    editor.close()


def _leaked_secrets(text: str) -> set[str]:
    return set(re.findall(r'cookie_secret\s*=\s*"?([0-9a-f]{32,})', text))


def test_a_viewer_cannot_obtain_the_cookie_secret_to_become_admin(
    app_server, browser: Browser, provider: Provider, tmp_path: Path, artifacts: Path
) -> None:
    """The whole attack of finding 2: read the cookie secret as a viewer, re-sign the identity cookie as admin."""
    from streamlit.web.server.starlette.starlette_app_utils import create_signed_value, decode_signed_value

    imports = tmp_path / "imports"
    imports.mkdir()
    server, secrets_file, _ = _server(
        app_server, tmp_path, provider, liftboard=(f"import_dirs = [{json.dumps(str(imports))}]",)
    )
    (imports / "secrets.csv").symlink_to(secrets_file)
    viewer = Session(browser, provider)
    sign_in(viewer, server.url, provider, VIEWER)
    page = viewer.page
    expect(page.get_by_text(f"Signed in as {VIEWER} (viewer).")).to_be_visible()
    _data_page(page, server.url)
    seen = ""
    for i, target in enumerate((str(secrets_file), ".streamlit/secrets.toml", str(imports / "secrets.csv"))):
        seen += _try_server_path(page, target)
        screenshot(page, artifacts, f"attempt-{i}")
    found = _leaked_secrets(seen)
    cookies = {c["name"]: c for c in viewer.context.cookies()}
    mine = cookies["_streamlit_user"]
    for secret in found:  # what an attacker does with a leaked secret
        payload = decode_signed_value(secret, "_streamlit_user", mine["value"])
        assert payload is not None
        claims = json.loads(payload) | {"email": ADMIN, "sub": ADMIN}
        forged = create_signed_value(secret, "_streamlit_user", json.dumps(claims)).decode()
        viewer.context.add_cookies([{**mine, "value": forged}])
    page.goto(server.url)
    wait_idle(page)
    text = page.locator("body").inner_text()
    screenshot(page, artifacts, "after-forging")
    assert "(admin)" not in text and "Administration" not in text, "the viewer became admin"
    assert not found, "the viewer read the cookie secret"
    expect(page.get_by_text(f"Signed in as {VIEWER} (viewer).")).to_be_visible()
    viewer.close()

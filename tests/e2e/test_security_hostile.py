"""Issue 14, checked again as a hostile viewer on a fresh server with sign-in: what the browser does not offer.

A real server (server.py) with the mock OpenID provider, Chromium for signing in, and hand-made clients: a
websocket speaking Streamlit's protocol (BackMsg/ForwardMsg protobufs on /_stcore/stream) and plain HTTP PUTs
to Streamlit's upload route, with and without the browser's cookies. A viewer is offered no uploader, so the
server takes no file into a viewer's session either; a client with no cookie gets the sign-in screen and
nothing of the workspace; the shared glue in pages/_*.py is never a page.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import APIRequestContext, Browser, expect
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import ClientConnection, connect

from analytics.workspace import Actor, RoleRule, set_rules
from tests.support.browser import screenshot, wait_idle
from tests.support.feedback_data import make
from tests.support.oidc import Session, secrets_with, sign_in
from tests.support.server import Provider, free_port

VIEWER, EDITOR = "viewer@example.com", "editor@example.com"
DB_NAME = "hostile-check.duckdb"
TITLES = ["Overview", "Data", "Experiments", "Cost", "Drift", "Feedback"]
GLUE = (
    "_ui",
    "ui",
    "_guard",
    "guard",
    "_files",
    "_exports",
    "_quick",
    "quick",
    "_warmup",
    "_experiments_data",
)


def _server(app_server, tmp_path: Path, provider: Provider):
    db = tmp_path / DB_NAME
    ws = make(db, 60, seed=8)
    set_rules(ws, Actor("setup", "admin"), [RoleRule(VIEWER, "viewer"), RoleRule(EDITOR, "editor")])
    ws.close()
    port = free_port()
    secrets_file, _ = secrets_with(tmp_path / ".streamlit" / "secrets.toml", port, provider)
    return app_server(db, port=port, extra_args=["--secrets.files", str(secrets_file)])


@contextmanager
def _script_session(
    url: str, cookie: str | None, page: str, xsrf: str = ""
) -> Iterator[tuple[ClientConnection, str, str]]:
    """A websocket session that ran ``page`` once: (connection, session id, every message it got as text).

    As the browser does, the XSRF token rides in the subprotocol list: Streamlit reads the signed-in identity
    only from a connection that has it and the Origin the identity was signed in from.
    """
    with connect(
        url.replace("http", "ws", 1) + "/_stcore/stream",
        subprotocols=["streamlit", xsrf] if xsrf else ["streamlit"],  # type: ignore[list-item]
        additional_headers={"Origin": url, **({"Cookie": cookie} if cookie else {})},
        max_size=None,
    ) as ws:
        run = BackMsg()
        run.rerun_script.CopyFrom(ClientState(query_string="", page_script_hash="", page_name=page))
        ws.send(run.SerializeToString())
        session_id, seen = "", []
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(ws.recv(timeout=120))
            seen.append(str(msg))
            if msg.WhichOneof("type") == "new_session":
                session_id = msg.new_session.initialize.session_id
            if msg.WhichOneof("type") == "script_finished":
                break
        assert session_id, "the server never opened a session"
        yield ws, session_id, "\n".join(seen)


def _cookie_header(s: Session) -> tuple[str, str]:
    """The browser's cookies as a Cookie header, and its XSRF token (Streamlit's PUTs must echo it)."""
    cookies = s.context.cookies()
    xsrf = next((c["value"] for c in cookies if c["name"] == "_streamlit_xsrf"), "")
    return "; ".join(f"{c['name']}={c['value']}" for c in cookies), xsrf


def _put(request: APIRequestContext, url: str, session_id: str, xsrf: str, size: int) -> int:
    """PUT a file of ``size`` bytes into a session, as the uploader widget does; the HTTP status."""
    resp = request.put(
        f"{url}/_stcore/upload_file/{session_id}/hostile-file",
        multipart={"file": {"name": "big.csv", "mimeType": "text/csv", "buffer": b"a" * size}},
        headers={"X-Xsrftoken": xsrf} if xsrf else {},
        timeout=120_000,
    )
    return resp.status


def test_only_a_session_showing_the_uploader_takes_files(
    app_server, browser: Browser, provider: Provider, tmp_path: Path
) -> None:
    server = _server(app_server, tmp_path, provider)
    viewer = Session(browser, provider)
    sign_in(viewer, server.url, provider, VIEWER)
    cookie, xsrf = _cookie_header(viewer)
    # a viewer's session on the Data page, as a hand-made client: Streamlit would keep any file PUT into it
    # (up to the 2 GB upload limit, as many as sent) in memory until the session ends
    with _script_session(server.url, cookie, "data", xsrf) as (_, sid, text):
        assert "cannot load data" in text, text[-2000:]
        status = _put(viewer.context.request, server.url, sid, xsrf, 20 * 2**20)
        assert status == 403, f"a viewer's session took a file (HTTP {status})"
    viewer.close()

    editor = Session(browser, provider)
    sign_in(editor, server.url, provider, EDITOR)
    cookie, xsrf = _cookie_header(editor)
    with _script_session(server.url, cookie, "overview", xsrf) as (_, sid, _text):
        status = _put(editor.context.request, server.url, sid, xsrf, 1024)
        assert status == 403, f"a session showing no uploader took a file (HTTP {status})"
    with _script_session(server.url, cookie, "data", xsrf) as (_, sid, _text):
        status = _put(editor.context.request, server.url, sid, xsrf, 1024)
        assert 200 <= status < 300, f"the editor's upload was refused (HTTP {status})"
    editor.close()


def test_a_client_with_no_cookie_gets_the_sign_in_screen_only(
    app_server, browser: Browser, provider: Provider, tmp_path: Path
) -> None:
    server = _server(app_server, tmp_path, provider)
    for page in ("", "data", "experiments", "feedback", "_ui", "ui"):
        with _script_session(server.url, None, page) as (_, sid, text):
            assert "requires you to sign in" in text, (page, text[-2000:])
            for leak in (DB_NAME, "predictions", "feedback_id", "Signed in as"):
                assert leak not in text, (page, leak)
            status = _put(browser.new_context().request, server.url, sid, "", 1024)
            assert status == 403, (page, status)


def test_the_shared_glue_is_never_a_page(
    app_server, browser: Browser, provider: Provider, tmp_path: Path, artifacts: Path
) -> None:
    server = _server(app_server, tmp_path, provider)
    s = Session(browser, provider)
    sign_in(s, server.url, provider, VIEWER)
    page = s.page
    for name in GLUE:
        page.goto(f"{server.url}/{name}")
        wait_idle(page)
        # app.py ran (its gate and sidebar), not the module on its own
        expect(page.get_by_text(f"Signed in as {VIEWER} (viewer).")).to_be_visible()
        nav = page.locator('[data-testid="stSidebarNav"] a')
        entries = [nav.nth(k).inner_text().split("\n")[-1].strip() for k in range(nav.count())]
        assert entries == TITLES, (name, entries)
        assert "Traceback" not in page.locator("body").inner_text(), name
    screenshot(page, artifacts, "glue-url")
    s.close()

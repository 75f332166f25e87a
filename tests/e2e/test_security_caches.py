"""Issue 14, finding 6: no client empties everyone's caches, and the Overview's cost is bounded by one page.

A real server with sign-in (the mock OpenID provider), a signed-in viewer whose Overview fills the caches, and
hand-made websocket clients speaking Streamlit's protocol (BackMsg protobufs on /_stcore/stream): one with no
cookie, one with the viewer's cookies. What the caches hold is read from the server's own metrics
(`cache_memory_bytes`). Then a workspace of 3,002 experiments: the Overview's first page renders, and only it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, expect
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect

from analytics.ingest import build_demo
from analytics.workspace import Actor, RoleRule, open_workspace, set_rules
from tests.support.browser import screenshot, wait_idle
from tests.support.oidc import Session, secrets_with, sign_in
from tests.support.server import Provider, free_port

VIEWER, ADMIN = "viewer@example.com", "admin@example.com"
EXTRA_EXPERIMENTS = 3_000  # beside the demo's two


def _caches(context: BrowserContext, url: str) -> dict[str, int]:
    """cache name -> bytes, from the server's metrics (read with this browser's cookies)."""
    deadline = time.monotonic() + 30
    while True:
        resp = context.request.get(f"{url}/_stcore/metrics?families=cache_memory_bytes")
        assert resp.ok, resp.status
        out = {}
        for line in resp.text().splitlines():
            if line.startswith("cache_memory_bytes{"):
                labels, _, value = line.rpartition(" ")
                name = labels.split('cache="', 1)[1].split('"', 1)[0] if 'cache="' in labels else labels
                out[name or labels] = int(float(value))
        if out or time.monotonic() > deadline:
            return out
        time.sleep(1)  # the server keeps this family for a second or two


def _send_clear_cache(url: str, cookie: str | None) -> list[str]:
    """Open a session on the websocket as a browser would, run the app once, then ask to clear the caches."""
    headers = {"Origin": url, **({"Cookie": cookie} if cookie else {})}
    # as the browser does: the XSRF token in the subprotocols (Streamlit reads the identity only with it)
    xsrf = next(
        (c.split("=", 1)[1] for c in (cookie or "").split("; ") if c.startswith("_streamlit_xsrf=")), ""
    )
    seen: list[str] = []
    with connect(
        url.replace("http", "ws", 1) + "/_stcore/stream",
        subprotocols=["streamlit", xsrf] if xsrf else ["streamlit"],  # type: ignore[list-item]
        additional_headers=headers,
        max_size=None,
    ) as ws:
        run = BackMsg()
        run.rerun_script.CopyFrom(ClientState(query_string="", page_script_hash=""))
        ws.send(run.SerializeToString())
        clear = BackMsg()
        clear.clear_cache = True
        ws.send(clear.SerializeToString())
        try:
            while True:
                msg = ForwardMsg()
                msg.ParseFromString(ws.recv(timeout=10))
                seen.append(msg.WhichOneof("type") or "")
        except TimeoutError:
            pass
    return seen


def test_no_client_but_an_admin_clears_the_caches(
    app_server, browser: Browser, provider: Provider, tmp_path: Path, artifacts: Path
) -> None:
    db = tmp_path / "caches.duckdb"
    build_demo(db, users=3000, seed=7)
    ws = open_workspace(db)
    set_rules(ws, Actor("setup", "admin"), [RoleRule(VIEWER, "viewer"), RoleRule(ADMIN, "admin")])
    ws.close()
    port = free_port()
    secrets_file, _ = secrets_with(tmp_path / ".streamlit" / "secrets.toml", port, provider)
    server = app_server(db, port=port, extra_args=["--secrets.files", str(secrets_file)])

    viewer = Session(browser, provider)
    sign_in(viewer, server.url, provider, VIEWER)
    wait_idle(viewer.page, timeout_ms=120_000)
    full = _caches(viewer.context, server.url)
    assert any(name.endswith("_analysis") for name in full), full
    assert any(name.endswith("_open") for name in full), full

    cookie = "; ".join(f"{c['name']}={c['value']}" for c in viewer.context.cookies())
    for who, sent_cookie in (("a client with no cookie", None), ("a signed-in viewer", cookie)):
        seen = _send_clear_cache(server.url, sent_cookie)
        assert seen, f"the server never answered {who}"
        after = _caches(viewer.context, server.url)
        assert set(after) == set(full), f"{who} emptied the caches: {sorted(full)} -> {sorted(after)}"
    viewer.page.reload()
    wait_idle(viewer.page, timeout_ms=120_000)
    expect(viewer.page.get_by_text(f"Signed in as {VIEWER} (viewer).")).to_be_visible()
    viewer.close()

    # an admin clears them from the app, where the role is known
    admin = Session(browser, provider)
    sign_in(admin, server.url, provider, ADMIN)
    admin.page.goto(f"{server.url}/data")
    wait_idle(admin.page)
    admin.page.get_by_role("button", name="Clear cached results").click()
    wait_idle(admin.page)
    expect(admin.page.get_by_text("Cached results cleared")).to_be_visible()
    screenshot(admin.page, artifacts, "admin-cleared")
    admin.close()


def _many_experiments(path: Path) -> None:
    """The demo and 3,000 more experiments (two arms of 20 users each), each with a primary metric."""
    build_demo(path, users=3000, seed=7)
    ws = open_workspace(path)
    with ws.transaction() as cur:
        cur.execute(
            f"""
            INSERT INTO assignments
            SELECT 'u' || (1 + (e * 40 + k) % 3000), printf('exp_%04d', e),
                   CASE WHEN k % 2 = 0 THEN 'control' ELSE 'ai' END, TIMESTAMP '2026-09-08 00:00:00'
            FROM range({EXTRA_EXPERIMENTS}) a(e), range(40) b(k)
            """
        )
        cur.execute(
            f"""
            INSERT INTO lb_settings
            SELECT printf('experiment:exp_%04d', e),
                   '{{"control": "control", "primary": "conversion:purchase:7d"}}'
            FROM range({EXTRA_EXPERIMENTS}) a(e)
            """
        )
    assert len(ws.query("SELECT DISTINCT experiment FROM assignments")) == EXTRA_EXPERIMENTS + 2
    ws.close()


def test_the_overview_of_3002_experiments_renders_its_first_page(
    app_server, browser: Browser, provider: Provider, tmp_path: Path, artifacts: Path
) -> None:
    db = tmp_path / "many.duckdb"
    _many_experiments(db)
    ws = open_workspace(db)
    set_rules(ws, Actor("setup", "admin"), [RoleRule(VIEWER, "viewer")])
    ws.close()
    port = free_port()
    secrets_file, _ = secrets_with(tmp_path / ".streamlit" / "secrets.toml", port, provider)
    server = app_server(db, port=port, extra_args=["--secrets.files", str(secrets_file)])

    s = Session(browser, provider)
    started = time.monotonic()
    sign_in(s, server.url, provider, VIEWER, timeout_ms=180_000)  # lands on the Overview
    page = s.page
    wait_idle(page, timeout_ms=180_000)
    sign_in_s = time.monotonic() - started  # sign-in, then the Overview's first page
    expect(page.get_by_text("1–10 of 3,002 experiments")).to_be_visible()
    shown = page.get_by_role("button", name="Report").count()
    assert 1 <= shown <= 20, shown
    screenshot(page, artifacts, "1-first-page")
    started = time.monotonic()
    page.goto(f"{server.url}/overview?page=2")  # a page not seen yet: its ten experiments are computed now
    wait_idle(page, timeout_ms=180_000)
    page_2_s = time.monotonic() - started
    expect(page.get_by_text("11–20 of 3,002 experiments")).to_be_visible()
    started = time.monotonic()
    page.goto(f"{server.url}/overview?page=300")
    wait_idle(page, timeout_ms=180_000)
    page_300_s = time.monotonic() - started
    expect(page.get_by_text("exp_2990")).to_be_visible()
    screenshot(page, artifacts, "2-page-300")
    (artifacts / "timings.json").write_text(
        json.dumps(
            {
                "sign_in_and_first_page_s": round(sign_in_s, 1),
                "page_2_s": round(page_2_s, 1),
                "page_300_s": round(page_300_s, 1),
            }
        )  # fmt: skip
    )
    s.close()

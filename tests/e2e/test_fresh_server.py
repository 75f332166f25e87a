"""A fresh server's first requests, in any order: none runs a page without app.py's sign-in gate and sidebar.

Streamlit serves a folder named pages/ as a legacy multipage app until a session has called st.navigation; a
request for /drift that arrived first used to run pages/drift.py alone: no sidebar, no workspace picker and,
with sign-in configured, the Drift page with its data to nobody in particular. Ten browser contexts here ask
for five pages while the server is still starting, both through server.py (what `make run` starts) and on
app.py itself (a user who runs `streamlit run app.py`), with and without sign-in.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import TimeoutError as PlaywrightTimeout
from playwright.async_api import async_playwright

from tests.support.browser import IDLE
from tests.support.server import CHROMIUM, Provider, auth_secrets, free_port

PATHS = ("/", "/drift", "/data", "/feedback", "/experiments", "/overview", "/cost", "/drift", "/data", "/")
TITLES = ["Overview", "Data", "Experiments", "Cost", "Drift", "Feedback"]
HEADING = {"": "Overview", "overview": "Overview", "drift": "Drift", "data": "Data", "feedback": "Feedback"}
HEADING |= {"experiments": "Experiments", "cost": "Cost"}
SIGN_IN = "This Liftboard requires you to sign in."


@dataclass
class Seen:
    path: str
    text: str  # the whole page's visible text
    nav: list[str]  # the sidebar navigation's entries
    headings: list[str]
    tables: int  # data grids drawn
    charts: int  # plotly charts drawn


async def _visit(browser, base: str, path: str, shot: Path, expect_text: str) -> Seen:
    """Open base+path in a new context; wait until the script is idle and ``expect_text`` is drawn (or not)."""
    ctx = await browser.new_context(viewport={"width": 1300, "height": 900})
    page = await ctx.new_page()
    try:
        await page.goto(base + path, wait_until="commit", timeout=240_000)
        await page.wait_for_selector(IDLE, timeout=240_000)
        try:  # widgets are drawn by lazily loaded code: slow with ten browsers on two busy cores
            await page.get_by_text(expect_text, exact=True).first.wait_for(timeout=60_000)
        except PlaywrightTimeout:
            pass  # the assertions below say what was drawn instead
        await page.wait_for_timeout(1500)  # a late rerun would show here
        await page.wait_for_selector(IDLE, timeout=240_000)
        await page.screenshot(path=str(shot), full_page=True)
        nav = page.locator('[data-testid="stSidebarNav"] a')
        return Seen(
            path=path,
            text=await page.locator("body").inner_text(),
            nav=[(await nav.nth(k).inner_text()).split("\n")[-1].strip() for k in range(await nav.count())],
            headings=[h.strip() for h in await page.locator("h1").all_inner_texts()],
            tables=await page.locator('[data-testid="stDataFrame"]').count(),
            charts=await page.locator('[data-testid="stPlotlyChart"]').count(),
        )
    finally:
        await ctx.close()


def _first_requests(base: str, artifacts: Path, expect_text: str) -> list[Seen]:
    """All PATHS requested at once, from ten browser contexts (own cookies each), as soon as the port is open."""

    async def run() -> list[Seen]:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
                + ["--disable-background-networking", "--disable-component-update", "--disable-sync"],
            )
            try:
                return await asyncio.gather(
                    *(
                        _visit(browser, base, p, artifacts / f"{k}-{p.strip('/') or 'root'}.png", expect_text)
                        for k, p in enumerate(PATHS)
                    )
                )
            finally:
                await browser.close()

    box: dict[str, object] = {}

    def target() -> None:  # its own thread and loop: Playwright's sync API may be running in this one
        try:
            box["seen"] = asyncio.run(run())
        except BaseException as exc:  # re-raised in the test's thread
            box["exc"] = exc

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if "exc" in box:
        raise box["exc"]  # type: ignore[misc]
    return box["seen"]  # type: ignore[return-value]


@pytest.mark.parametrize("entry", ["server.py", "app.py"])
def test_first_requests_with_sign_in_see_only_the_sign_in_screen(
    entry: str, app_server, provider: Provider, demo_copy: Path, tmp_path: Path, artifacts: Path
) -> None:
    port = free_port()
    secrets_file = auth_secrets(tmp_path / "auth" / "secrets.toml", port, provider)
    server = app_server(
        demo_copy, port=port, entry=entry, wait=False, extra_args=["--secrets.files", str(secrets_file)]
    )
    seen = _first_requests(server.url, artifacts, SIGN_IN)
    assert len(seen) == len(PATHS)
    for s in seen:
        assert SIGN_IN in s.text, (s.path, s.text[:300])
        assert "Page not found" not in s.text, s.path  # a shared link to a page leads to the sign-in screen
        assert s.nav == [], (s.path, s.nav)
        assert s.tables == 0 and s.charts == 0, s.path
        for leak in (
            "Workspace",
            "demo-copy",
            ".duckdb",
            "ai_recs",
            "Drift",
            "Feedback",
            "Experiments",
            "Cost",
        ):
            assert leak not in s.text, (s.path, leak)


@pytest.mark.parametrize("entry", ["server.py", "app.py"])
def test_first_requests_without_sign_in_get_the_app_with_its_sidebar(
    entry: str, app_server, demo_copy: Path, artifacts: Path
) -> None:
    server = app_server(demo_copy, entry=entry, wait=False)
    seen = _first_requests(server.url, artifacts, "Workspace")
    for s in seen:
        assert s.nav == TITLES, (s.path, s.nav)  # the app's pages only: no 'app', no '_ui'
        assert "Workspace" in s.text, s.path  # the sidebar's workspace picker
        assert s.headings[:1] == [HEADING[s.path.strip("/")]], (s.path, s.headings)
        assert "Page not found" not in s.text, s.path

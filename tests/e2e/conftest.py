"""Browser tests: a real `streamlit run` on a loopback port, driven by Debian's Chromium through Playwright."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.server import ARTIFACTS, CHROMIUM, LOCAL_HOSTS, AppServer, Provider


def _artifact_dir(request: pytest.FixtureRequest) -> Path:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    path = ARTIFACTS / name
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture()
def artifacts(request: pytest.FixtureRequest) -> Path:
    """The folder this test's screenshots and logs go to: test-artifacts/<test name>/."""
    return _artifact_dir(request)


@pytest.fixture()
def app_server(artifacts: Path) -> Iterator[Callable[..., AppServer]]:
    """Start servers on workspace files (keywords as for AppServer); each is stopped when the test ends."""
    started: list[AppServer] = []

    def start(db_path: Path, **kw: Any) -> AppServer:
        server = AppServer(db_path, artifacts, **kw)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
            ],
        )  # fmt: skip
        yield b
        b.close()


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page that records every request and console error; any request off localhost fails the test."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    outside: list[str] = []
    console_errors: list[str] = []

    def on_request(req) -> None:  # Playwright's Request
        host = urlparse(req.url).hostname or ""
        if req.url.startswith(("data:", "blob:", "about:", "file:")):
            return
        if host not in LOCAL_HOSTS:
            outside.append(req.url)

    pg.on("request", on_request)
    pg.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
    pg.console_errors = console_errors  # type: ignore[attr-defined]
    yield pg
    context.close()
    assert not outside, f"the page requested hosts other than localhost: {outside[:5]}"


@pytest.fixture()
def provider(artifacts: Path) -> Iterator[Provider]:
    p = Provider(artifacts / "provider.log")
    yield p
    p.stop()

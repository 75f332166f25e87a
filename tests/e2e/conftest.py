"""Browser tests: a real `streamlit run` on a loopback port, driven by Debian's Chromium through Playwright."""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.support import stop_process

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("LIFTBOARD_CHROMIUM", "/usr/bin/chromium")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """One `streamlit run server.py` process (as `make run` starts it) on a workspace file.

    ``entry="app.py"`` starts Streamlit on the entry script itself, as a user who skips `make run` would; with
    ``wait=False`` the constructor returns as soon as the port accepts connections, before the warm-up ends.
    """

    def __init__(
        self,
        db_path: Path,
        log_dir: Path,
        *,
        port: int | None = None,
        extra_args: Sequence[str] = (),
        env: dict[str, str] | None = None,
        entry: str = "server.py",
        wait: bool = True,
    ) -> None:
        self.port = port or _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "LIFTBOARD_DB": str(db_path), "PYTHONUNBUFFERED": "1", **(env or {})}
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"server-{self.port}.log"
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [
                sys.executable, "-m", "streamlit", "run", entry,
                "--server.port", str(self.port), "--server.address", "127.0.0.1",
                "--server.headless", "true", "--browser.gatherUsageStats", "false",
                "--server.fileWatcherType", "none", *extra_args,
            ],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        # The server answers once its warm-up has run (tens of seconds when the machine is busy).
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited early; see {self.log_path}")
            try:
                if not wait:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                    return
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=30) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1 if not wait else 0.3)
        raise RuntimeError(f"streamlit did not become healthy in 180 s; see {self.log_path}")

    def stop(self) -> None:
        stop_process(self.proc, self._log)


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


class Provider:
    """`python -m oidc_provider_mock` on a free loopback port: any client id, any subject typed on its form."""

    def __init__(self, log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "oidc_provider_mock", "--port", str(self.port), "--host", "127.0.0.1"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/.well-known/openid-configuration", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the mock OpenID provider did not start; see {log}")

    def stop(self) -> None:
        stop_process(self.proc, self._log)


@pytest.fixture()
def provider(artifacts: Path) -> Iterator[Provider]:
    p = Provider(artifacts / "provider.log")
    yield p
    p.stop()


def auth_secrets(path: Path, app_port: int, provider: Provider) -> Path:
    """A secrets.toml whose [auth] section signs in against the mock provider."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{app_port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        'client_id = "liftboard-test"\n'
        f'client_secret = "{secrets.token_hex(16)}"\n'
        f'server_metadata_url = "{provider.url}/.well-known/openid-configuration"\n'
    )
    return path

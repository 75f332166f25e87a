"""A real app server on a loopback port (`streamlit run`), Chromium's path, and the mock OpenID provider."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from tests.support.browser import stop_process

ROOT = Path(__file__).resolve().parents[2]

ARTIFACTS = ROOT / "test-artifacts"

CHROMIUM = os.environ.get("LIFTBOARD_CHROMIUM", "/usr/bin/chromium")

LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


def free_port() -> int:
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
        self.port = port or free_port()
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

    def wait_warmed(self, timeout: float = 300) -> None:
        """Wait until server.py's background warm-up of the other pages has finished (its log says so)."""
        deadline = time.monotonic() + timeout
        while "Warmed the other pages" not in self.log_path.read_text():
            if time.monotonic() > deadline:
                raise AssertionError(f"the warm-up did not finish; see {self.log_path}")
            time.sleep(0.5)

    def stop(self) -> None:
        stop_process(self.proc, self._log)


class Provider:
    """`python -m oidc_provider_mock` on a free loopback port: any client id, any subject typed on its form."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
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

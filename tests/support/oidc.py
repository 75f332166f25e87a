"""Signing in from browser tests: a browser session that stays on localhost, the provider's claims, sign-in itself."""

from __future__ import annotations

import json
import tomllib
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote, urlparse

from playwright.sync_api import Browser, BrowserContext, Page

from tests.support.browser import wait_idle
from tests.support.server import LOCAL_HOSTS, Provider, auth_secrets


def set_claims(provider: Provider, sub: str, claims: dict[str, object]) -> None:
    """What the mock provider says about a subject in its ID token and userinfo (email, email_verified, …)."""
    req = urllib.request.Request(
        f"{provider.url}/users/{quote(sub, safe='')}",
        data=json.dumps(claims).encode(),
        method="PUT",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 204, r.status


def secrets_with(
    path: Path, app_port: int, provider: Provider, liftboard: Sequence[str] = ()
) -> tuple[Path, str]:
    """auth_secrets() plus a [liftboard] section of these lines; returns the file and its cookie secret."""
    auth_secrets(path, app_port, provider)
    if liftboard:
        with path.open("a") as fh:
            fh.write("\n[liftboard]\n" + "".join(f"{line}\n" for line in liftboard))
    return path, tomllib.loads(path.read_text())["auth"]["cookie_secret"]


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

        def on_request(req) -> None:  # noqa: ANN001 — Playwright's Request
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


def sign_in(
    s: Session,
    app_url: str,
    provider: Provider,
    sub: str,
    *,
    email: str | None = None,
    verified: bool | None = True,
    timeout_ms: int = 60_000,
) -> None:
    """Sign in as the provider's subject `sub`, whose claims are its email (default: sub) and email_verified.

    ``verified=None`` leaves email_verified out of the claims, as a provider that never checks emails does.
    """
    claims: dict[str, object] = {"email": email if email is not None else sub}
    if verified is not None:
        claims["email_verified"] = verified
    set_claims(provider, sub, claims)
    page = s.page
    page.goto(app_url)
    wait_idle(page)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{provider.url}/oauth2/authorize**", timeout=30_000)
    page.locator('input[name="sub"]').fill(sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{app_url}/**", timeout=30_000)
    wait_idle(page, timeout_ms=timeout_ms)

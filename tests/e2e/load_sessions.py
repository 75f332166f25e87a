"""Many browser sessions on one server at once (Playwright async, one Chromium, a context per session).

Shared by the concurrency browser test and its benchmark: page views across the app, an Experiments toggle,
and reviewers bulk-tagging disjoint selections on the Feedback page at the same time.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from playwright.async_api import Page, async_playwright, expect
from playwright.async_api import TimeoutError as PlaywrightTimeout

from tests.support.browser import IDLE

RUNNING = '[data-testid="stApp"][data-test-script-state="running"]'

LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
#: Pages a viewer moves between with the sidebar (as people do: the app is loaded once per session).
VIEWS = ("Overview", "Experiments", "Cost", "Drift")
#: Disjoint feedback selections of the demo (signal × model version): taggers never touch the same item.
SELECTIONS = tuple(
    (sig, model)
    for model in ("recs-v1", "small-v1", "large-v1")
    for sig in ("reject", "correct", "rating", "accept")
)


@dataclass
class LoadResult:
    renders: list[float] = field(default_factory=list)  # seconds from navigation to the script finished
    by_view: dict[str, list[float]] = field(default_factory=dict)  # the same, per page (path without query)
    errors: list[str] = field(default_factory=list)  # tracebacks or red error boxes shown, failed steps
    outside: list[str] = field(default_factory=list)  # requests that left localhost
    tagged: dict[tuple[str, str, str], int] = field(
        default_factory=dict
    )  # (reviewer, signal, model) -> items
    seconds: float = 0.0

    def p(self, q: float, *, first_loads: bool | None = None) -> float:
        """The q-th percentile of render times: all, only first loads (True) or only in-app renders (False)."""
        vals = self.renders
        if first_loads is not None:
            vals = [x for k, v in self.by_view.items() if (k == "first load") == first_loads for x in v]
        return percentile(vals, q)


def script_times(run_log: Path) -> dict[str, list[float]]:
    """The server's own script time per rerun, by page, from the file $LIFTBOARD_RUN_LOG named (pages/_ui.py)."""
    out: dict[str, list[float]] = {}
    if run_log.exists():
        for line in run_log.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            out.setdefault(row["page"], []).append(float(row["seconds"]))
    return out


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (inclusive method), NaN for no values."""
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def _idle(page: Page, timeout_ms: int) -> None:
    await page.wait_for_selector(IDLE, timeout=timeout_ms)
    await page.wait_for_timeout(300)
    await page.wait_for_selector(IDLE, timeout=timeout_ms)


async def _shown_errors(page: Page) -> list[str]:
    out = []
    loc = page.locator('[data-testid="stException"]')
    for k in range(await loc.count()):
        out.append((await loc.nth(k).inner_text())[:300])
    return out


def _record(res: LoadResult, label: str, took: float) -> None:
    res.renders.append(took)
    res.by_view.setdefault(label, []).append(took)


async def _view(page: Page, url: str, res: LoadResult, timeout_ms: int, *, label: str = "") -> None:
    """A full page load (the browser fetches the app and opens a new session)."""
    t0 = time.monotonic()
    await page.goto(url, wait_until="commit", timeout=timeout_ms)
    await _idle(page, timeout_ms)
    _record(res, label or urlparse(url).path.strip("/"), time.monotonic() - t0 - 0.3)  # less _idle's pause
    res.errors.extend(f"{url}: {e}" for e in await _shown_errors(page))


async def _nav(page: Page, title: str, res: LoadResult, timeout_ms: int) -> None:
    """Move to another page with the sidebar: one script run of that page in the same session."""
    t0 = time.monotonic()
    await page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()
    await page.get_by_role("heading", name=title, exact=True).first.wait_for(timeout=timeout_ms)
    await _idle(page, timeout_ms)
    _record(res, title, time.monotonic() - t0 - 0.3)
    res.errors.extend(f"{title}: {e}" for e in await _shown_errors(page))


async def _toggle(page: Page, label: str, res: LoadResult, timeout_ms: int) -> None:
    """Flip a toggle by its role and name (a text match can be a hidden copy inside a collapsed expander)."""
    switch = page.get_by_role("switch", name=label, exact=True)
    was_on = await switch.is_checked()
    t0 = time.monotonic()
    await switch.locator(
        "xpath=ancestor::label[1]"
    ).click()  # the input itself is visually hidden under its label
    await expect(switch).to_be_checked(checked=not was_on, timeout=timeout_ms)
    try:  # the rerun the flip causes; a very quick one may come and go before this looks
        await page.wait_for_selector(RUNNING, timeout=10_000)
    except PlaywrightTimeout:
        pass
    await _idle(page, timeout_ms)
    _record(res, f"toggle {label}", time.monotonic() - t0 - 0.3)
    res.errors.extend(f"toggle {label}: {e}" for e in await _shown_errors(page))


async def _tag(
    page: Page, base: str, who: str, sel: tuple[str, str], res: LoadResult, timeout_ms: int
) -> None:
    """Bulk-add 'helpful' to one selection on the Feedback page; each step waits for what it should cause.

    (Under load a rerun can start well after a click, so "the script is idle" alone is not proof of progress.)
    """
    sig, model = sel
    await _view(page, f"{base}/feedback?fb_signal={sig}&fb_model={model}", res, timeout_ms)
    name = page.get_by_label("Your name (recorded with every tag you add)")
    await name.fill(who)
    await name.press("Enter")
    await expect(page.get_by_text("Type your name to start tagging")).to_have_count(0, timeout=timeout_ms)
    await _idle(page, timeout_ms)
    await page.get_by_role("tab", name="Review queue").click()
    await page.get_by_text("Bulk action on every item matching the filters").click()
    preview = page.get_by_text("This changes your tags on ")
    for _ in range(5):  # a late rerun may close the dropdown: open it again
        await page.get_by_label("Add tags").click()
        try:
            await page.get_by_role("option", name="helpful", exact=True).click(timeout=15_000)
        except PlaywrightTimeout:
            continue
        await page.keyboard.press("Escape")
        try:
            await preview.wait_for(timeout=timeout_ms)
            break
        except PlaywrightTimeout:
            continue
    await _idle(page, timeout_ms)
    await page.get_by_text("Yes, change ").click()
    apply = page.get_by_role("button", name="Apply to the selection")
    await expect(apply).to_be_enabled(timeout=timeout_ms)
    await apply.click()
    done = page.get_by_text("Changed tags on ")
    await done.wait_for(timeout=timeout_ms)
    text = await done.inner_text()
    res.tagged[(who, sig, model)] = int(text.split("Changed tags on ")[1].split(" ")[0].replace(",", ""))
    await _idle(page, timeout_ms)
    res.errors.extend(f"tag {sel}: {e}" for e in await _shown_errors(page))


async def _session(
    i: int,
    browser,
    base: str,
    deadline: float,
    taggers: int,
    res: LoadResult,
    timeout_ms: int,
    stagger: float,
    shots: Path | None,
):
    ctx = await browser.new_context(viewport={"width": 1100, "height": 800}, reduced_motion="reduce")

    def on_request(req) -> None:
        if req.url.startswith("http") and (urlparse(req.url).hostname or "") not in LOCAL_HOSTS:
            res.outside.append(req.url)

    ctx.on("request", on_request)
    page = await ctx.new_page()
    page.set_default_timeout(timeout_ms)
    await asyncio.sleep(i * stagger)  # sessions arrive over the first seconds, as people do
    k = 0
    try:
        while k == 0 or time.monotonic() < deadline:  # every session loads the app at least once
            step = f"session {i} step {k}"
            try:
                if i < taggers and i + taggers * k < len(SELECTIONS):
                    await _tag(page, base, f"tagger{i}", SELECTIONS[i + taggers * k], res, timeout_ms)
                elif k == 0 or i < taggers:
                    await _view(page, f"{base}/overview", res, timeout_ms, label="first load")
                else:
                    view = VIEWS[(i + k) % len(VIEWS)]
                    await _nav(page, view, res, timeout_ms)
                    if view == "Experiments":
                        await _toggle(page, "Bayesian view", res, timeout_ms)
            except Exception as exc:  # a timeout or a missing control is a failure of the run, not a crash
                res.errors.append(f"{step}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
                if shots is not None:  # what the session saw when the step failed
                    await page.screenshot(path=str(shots / f"failed-session{i}-step{k}.png"), full_page=True)
            k += 1
    finally:
        await ctx.close()


async def _run(
    base: str,
    chromium: str,
    sessions: int,
    seconds: float,
    taggers: int,
    timeout_ms: int,
    stagger: float,
    shots: Path | None,
) -> LoadResult:
    res = LoadResult()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=chromium,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )  # fmt: skip
        t0 = time.monotonic()
        deadline = t0 + seconds
        await asyncio.gather(
            *(
                _session(i, browser, base, deadline, taggers, res, timeout_ms, stagger, shots)
                for i in range(sessions)
            )
        )
        res.seconds = time.monotonic() - t0
        await browser.close()
    return res


def run_sessions(
    base: str,
    *,
    chromium: str,
    sessions: int = 20,
    seconds: float = 60.0,
    taggers: int = 4,
    timeout_ms: int = 120_000,
    stagger: float = 0.5,
    shots: Path | None = None,
) -> LoadResult:
    """Drive ``sessions`` browser sessions against the app at ``base`` until ``seconds`` have passed.

    Runs in its own thread with its own event loop, so it works beside Playwright's sync API in the same process.
    Session i starts ``i * stagger`` seconds in; each finishes the step it is in when time is up. A step that
    fails leaves a screenshot in ``shots`` when given.
    """
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["res"] = asyncio.run(
                _run(base, chromium, sessions, seconds, taggers, timeout_ms, stagger, shots)
            )
        except BaseException as exc:  # re-raised in the caller's thread
            box["exc"] = exc

    t = threading.Thread(target=target, name="load-sessions")
    t.start()
    t.join()
    if "exc" in box:
        raise box["exc"]  # type: ignore[misc]
    return box["res"]  # type: ignore[return-value]

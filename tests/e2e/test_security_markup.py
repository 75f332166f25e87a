"""Issue 14, finding 5: names in the data are text, never markup — no page and no report fetches another host.

A demo workspace whose experiment, variant, event, model version, reviewer, tag, feature column and category
names and experiment description are markdown images, `<span style="background:url(…)">`, `<img>` tags and
backtick breakouts (protocol-relative URLs, so the metric language's `:` plays no part). Signed in as admin
through the mock OpenID provider, Chromium visits every page and the offline HTML report; any request to a
host other than localhost fails the test, and the names must be shown as the literal text they are.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import Browser, Page

from analytics.ingest import build_demo, load
from analytics.workspace import Actor, RoleRule, open_workspace, quote_ident, set_rules
from tests.support.browser import screenshot, wait_idle
from tests.support.oidc import Session, secrets_with, sign_in
from tests.support.server import Provider, free_port

ADMIN = "admin@example.com"
EXP = "![e](//evil.example/e.png) <img src=//evil.example/e2.png>"
VARIANT = '<span style="background:url(//evil.example/v.png)">ai</span>'
EVENT = "purchase` ![p](//evil.example/p.png) `"
MODEL = "recs`![m](//evil.example/m.png)` <img src=//evil.example/m2.png>"
REVIEWER = "![r](//evil.example/r.png)"
TAG = "<img src=//evil.example/t.png>"
DESCRIPTION = '![d](//evil.example/d.png) <span style="background:url(//evil.example/d2.png)">x</span>'
COLUMN = "cat![c](//evil.example/c.png)"
CATEGORY = "<img src=//evil.example/cv.png>"
# A per-user outcomes experiment (issue 15): its name, arms and outcome column come from the file.
OUT_EXP = "[x](//evil.example/x.png) outcomes"
OUT_COLUMN = "paid<img src=//evil.example/o.png>"
OUT_CONTROL = "baseline ![b](//evil.example/b.png)"
OUT_VARIANT = '<span style="background:url(//evil.example/ov.png)">new</span>'
QUICK_ARM = "![q](//evil.example/q.png) arm"
QUICK_METRIC = "<img src=//evil.example/qm.png> signups"


def _hostile_workspace(path: Path) -> None:
    """The demo, renamed in place: every name a user's data can carry is hostile."""
    build_demo(path, users=3000, seed=7)
    ws = open_workspace(path)
    cfg = ws.get_setting("experiment:ai_recs")
    cfg["description"] = DESCRIPTION
    cfg["primary"] = f"conversion:{EVENT}:7d"
    cfg["secondary"] = ["retention:7d", f"mean:{EVENT}:7d"]
    cfg["split"] = {VARIANT: 0.5, "control": 0.5}
    with ws.transaction() as cur:
        cur.execute(
            "UPDATE assignments SET variant = ? WHERE experiment = 'ai_recs' AND variant = 'ai'", [VARIANT]
        )
        cur.execute("UPDATE assignments SET experiment = ? WHERE experiment = 'ai_recs'", [EXP])
        cur.execute("UPDATE events SET event = ? WHERE event = 'purchase'", [EVENT])
        cur.execute("UPDATE predictions SET model_version = ? WHERE model_version = 'recs-v1'", [MODEL])
        first = cur.execute("SELECT min(category) FROM predictions").fetchone()[0]
        cur.execute("UPDATE predictions SET category = ? WHERE category = ?", [CATEGORY, first])
        cur.execute(f"ALTER TABLE predictions RENAME COLUMN category TO {quote_ident(COLUMN)}")
        cur.execute("UPDATE lb_reviews SET reviewer = ? WHERE reviewer = 'alice'", [REVIEWER])
        cur.execute("UPDATE lb_tags SET name = ? WHERE name = 'helpful'", [TAG])
        cur.execute("DELETE FROM lb_settings WHERE key = 'experiment:ai_recs'")
        ws.set_setting(f"experiment:{EXP}", cfg, cur=cur)
    set_rules(ws, Actor("setup", "admin"), [RoleRule(ADMIN, "admin")])
    rows = [f"user_id,variant,{_csv_cell(OUT_COLUMN)}"] + [
        f"o{i},{_csv_cell(OUT_CONTROL if i % 2 else OUT_VARIANT)},{int(i % 7 == 0 if i % 2 else i % 5 == 0)}"
        for i in range(600)
    ]  # fmt: skip
    outcomes = path.with_name("outcomes.csv")
    outcomes.write_text("\n".join(rows) + "\n")
    load(ws, outcomes, "outcomes", experiment=OUT_EXP, actor=Actor("setup", "admin"))
    ws.close()


def _csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _visit(page: Page, url: str, artifacts: Path, name: str) -> str:
    page.goto(url)
    wait_idle(page, timeout_ms=120_000)
    page.wait_for_timeout(1_500)  # images and chart styles fetch after the script has finished
    screenshot(page, artifacts, name)
    return page.locator("body").inner_text()


def test_hostile_names_render_as_text_everywhere(
    app_server, browser: Browser, provider: Provider, tmp_path: Path, artifacts: Path
) -> None:
    db = tmp_path / "hostile.duckdb"
    _hostile_workspace(db)
    port = free_port()
    secrets_file, _ = secrets_with(tmp_path / ".streamlit" / "secrets.toml", port, provider)
    server = app_server(db, port=port, extra_args=["--secrets.files", str(secrets_file)])
    s = Session(browser, provider)
    sign_in(s, server.url, provider, ADMIN)
    page = s.page
    exp = quote(EXP, safe="")

    unshown: list[str] = []  # names a page should show as literal text and does not

    def shows(text: str, where: str, *names: str) -> None:
        unshown.extend(f"{where}: {n}" for n in names if n not in text)

    shows(_visit(page, f"{server.url}/overview", artifacts, "1-overview"), "Overview", EXP, DESCRIPTION)
    shows(_visit(page, f"{server.url}/data", artifacts, "2-data"), "Data", EXP)
    text = _visit(page, f"{server.url}/experiments?experiment={exp}", artifacts, "3-experiments")
    shows(text, "Experiments", VARIANT)
    _visit(page, f"{server.url}/experiments?experiment={exp}&segment=platform", artifacts, "3b-segments")
    # the outcomes experiment: its outcome, arms and control line; then the quick comparison typed by hand
    text = _visit(
        page, f"{server.url}/experiments?experiment={quote(OUT_EXP, safe='')}", artifacts, "3c-outcomes"
    )
    shows(text, "Experiments (outcomes)", OUT_EXP, OUT_COLUMN, OUT_CONTROL, OUT_VARIANT)
    page.get_by_text("Quick comparison", exact=False).first.scroll_into_view_if_needed()
    page.get_by_label("Metric name").fill(QUICK_METRIC)
    page.get_by_label("Arm 1 name").fill("control")
    page.get_by_label("Arm 1 users").fill("10000")
    page.get_by_label("Arm 1 conversions").fill("1000")
    page.get_by_label("Arm 2 name").fill(QUICK_ARM)
    page.get_by_label("Arm 2 users").fill("10150")
    page.get_by_label("Arm 2 conversions").fill("1130")
    page.get_by_role("button", name="Compare", exact=True).click()
    wait_idle(page)
    page.get_by_text("from 10.0% to 11.1%", exact=False).first.wait_for(timeout=60_000)
    page.get_by_text("from 10.0% to 11.1%", exact=False).first.scroll_into_view_if_needed()
    page.wait_for_timeout(1_500)
    screenshot(page, artifacts, "3d-quick-comparison")
    shows(page.locator("body").inner_text(), "Quick comparison", QUICK_ARM, QUICK_METRIC)
    shows(_visit(page, f"{server.url}/cost?experiment={exp}", artifacts, "4-cost"), "Cost", MODEL)
    _visit(page, f"{server.url}/drift?feature={quote(COLUMN, safe='')}", artifacts, "5-drift")
    _visit(page, f"{server.url}/feedback", artifacts, "6-feedback")
    for tab in ("Review queue", "Taxonomy"):
        page.get_by_role("tab", name=tab).click()
        wait_idle(page)
        page.wait_for_timeout(1_000)
        screenshot(page, artifacts, f"6-feedback-{tab.split()[0].lower()}")

    # the founder's report: a self-contained file opened from disk
    page.goto(f"{server.url}/overview")
    wait_idle(page, timeout_ms=120_000)
    with page.expect_download(timeout=120_000) as dl:
        page.get_by_role("button", name="Report").first.click()
    report = tmp_path / "report.html"
    dl.value.save_as(report)
    html = report.read_text()
    assert "evil.example" in html  # the names are in it, as text
    page.goto(report.as_uri())
    page.wait_for_timeout(2_000)
    screenshot(page, artifacts, "7-report")
    shows(page.locator("body").inner_text(), "report", EXP)
    s.close()  # fails on any request that left localhost
    assert not unshown, f"names not shown as the text they are: {unshown}"

"""The Bayesian view of a cost metric and a non-inferiority guardrail in a real browser, with screenshots."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.support.browser import screenshot, wait_idle


def test_cost_bayesian_view_and_guardrail(app_server, page: Page, demo_copy: Path, artifacts: Path) -> None:
    server = app_server(demo_copy)
    url = (
        f"{server.url}/experiments?experiment=model_size&metrics=cost:7d,conversion:purchase:7d"
        "&control=small&bayesian=1"
    )
    page.goto(url)
    # A cost is lower-is-better: the large model's higher cost is a near-certain loss, not a "100% win".
    mirrored = "Chance that large is better than small (lower is better): 0.0%"
    page.get_by_text(mirrored).first.wait_for(timeout=120_000)
    wait_idle(page)
    expect(
        page.get_by_text("Chance that control is better than small (lower is better): 100.0%")
    ).to_have_count(1)
    page.get_by_text("credible interval of the lift").nth(3).wait_for()  # four at least
    screenshot(page, artifacts, "1-cost-bayesian-view")

    # Declare the guardrail "must not get worse than 5%" and a prior; the verdict gets a pass/fail line.
    page.get_by_text(
        "Statistics settings: significance, post-stratification, priors, guardrail margins"
    ).click()
    margin = page.get_by_label("Margin of cost:7d (%)")
    margin.fill("5")
    margin.press("Enter")
    wait_idle(page)
    page.get_by_text(
        "❌ Guardrail not passed: large may make 7-day AI cost per user more than 5% higher"
    ).wait_for()
    assert page.get_by_text(
        "✅ Guardrail passed: control keeps 7-day AI cost per user no worse than +5.0%"
    ).count()
    prior = page.get_by_label("Prior sd of conversion:purchase:7d (%)")
    prior.fill("10")
    prior.press("Enter")
    wait_idle(page)
    page.get_by_text("(prior ±10% on the lift)").first.wait_for()
    assert "margins=cost%3A7d%3D0.05" in page.url and "priors=conversion%3Apurchase%3A7d%3D0.1" in page.url
    screenshot(page, artifacts, "2-guardrail-and-prior")

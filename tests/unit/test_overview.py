"""The Overview's evidence and cards on the demo and on workspaces crafted to miss a part."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics import overview
from analytics.ingest import build_demo
from analytics.overview import Thresholds
from analytics.workspace import Actor, Workspace, open_workspace


@pytest.fixture(scope="module")
def demo_overview(demo_ws: Workspace) -> overview.Overview:
    return overview.build(demo_ws)


def test_demo_overview_cards_and_validate(demo_overview: overview.Overview) -> None:
    assert not demo_overview.empty
    by_name = {e.experiment: e for e in demo_overview.experiments}
    assert set(by_name) == {"ai_recs", "model_size"}
    ai = by_name["ai_recs"]
    assert [c.title for c in ai.cards] == [
        "Does it work?",
        "What does it cost?",
        "Is it stable?",
        "What do users say?",
    ]
    works = ai.cards[0]
    assert works.status == "good" and works.reading.startswith(
        "The AI variant raised 7-day purchase conversion"
    )
    assert works.query == {"experiment": "ai_recs"}
    # The demo's AI arm lifts conversion significantly with a balanced split: Validate is reached.
    assert ai.ladder.stages[0].passed, [r.detail for r in ai.ladder.stages[0].rules]
    # The model_size experiment's large model is not (yet) significantly better.
    assert not by_name["model_size"].ladder.stages[0].passed


def test_demo_evidence_numbers(demo_overview: overview.Overview) -> None:
    ev = demo_overview.experiments[0].evidence
    assert ev.srm_ok is True
    assert 0 < ev.mde_rel < 0.15
    assert ev.tagged_items == 550  # the demo seeds 550 reviewed items
    assert ev.latency_p95_ms is not None and 500 < ev.latency_p95_ms < 3000
    assert ev.scaling_exponent is not None and 0.5 < ev.scaling_exponent < 1.5
    assert ev.audit_rows >= 1 and ev.datasets == 5 and ev.datasets_without_source == ()
    assert ev.harmed_segments == ()


def test_empty_workspace_says_how_to_start(tmp_ws: Workspace) -> None:
    ov = overview.build(tmp_ws)
    assert ov.empty and ov.experiments == ()


def test_experiments_without_predictions_say_what_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    build_demo(path, users=3_000, seed=2)
    ws = open_workspace(path)
    try:
        ws.con.execute("DROP TABLE predictions; DROP TABLE feedback")
        ov = overview.build(ws, only="ai_recs")
        (exp,) = ov.experiments
        cards = {c.title: c for c in exp.cards}
        assert "What does it cost?" not in cards  # no cost guardrail without predictions
        assert cards["Is it stable?"].status == "missing"
        assert "No predictions log" in cards["Is it stable?"].reading
        assert cards["What do users say?"].reading == "No feedback log is loaded yet."
        optimise = exp.ladder.stages[2]
        assert not optimise.passed and "No predictions log" in optimise.rules[0].detail
        # A dataset loaded outside Liftboard (no lb_loads row) fails the provenance rule.
        ws.con.execute("DELETE FROM lb_loads WHERE kind = 'users'")
        govern = overview.build(ws, only="ai_recs").experiments[0].ladder.stages[3]
        assert "users" in govern.rules[2].detail and not govern.rules[2].passed
    finally:
        ws.close()


def test_no_primary_metric_is_a_clear_card(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    build_demo(path, users=3_000, seed=2)
    ws = open_workspace(path)
    try:
        cfg = ws.get_setting("experiment:ai_recs")
        cfg.pop("primary")
        ws.set_setting("experiment:ai_recs", cfg)
        (exp,) = overview.build(ws, only="ai_recs").experiments
        assert exp.cards[0].status == "missing" and "No primary metric" in exp.cards[0].reading
        assert "No primary metric" in exp.ladder.stages[0].rules[0].detail
    finally:
        ws.close()


def test_thresholds_saved_and_audited(tmp_ws: Workspace) -> None:
    th = Thresholds(latency_p95_target_ms=700.0)
    overview.save_thresholds(tmp_ws, th, Actor("ada", "editor"))
    assert overview.thresholds(tmp_ws).latency_p95_target_ms == 700.0
    assert tmp_ws.scalar("SELECT actor FROM lb_audit WHERE action = 'settings.stages'") == "ada"

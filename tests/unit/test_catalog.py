"""Catalog: per-table rows, spans and users; experiments with exposed users per variant; load history."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from analytics import ingest, workspace
from analytics.ingest import TRUTH
from analytics.workspace import Actor, Workspace, inventory


def test_empty_workspace(tmp_ws: Workspace) -> None:
    cat = workspace.catalog(tmp_ws)
    assert cat.empty and cat.experiments == ()
    assert list(cat.tables_frame().columns) == [
        "table",
        "rows",
        "users",
        "users counted",
        "from",
        "to",
        "columns",
    ]
    assert workspace.load_history(tmp_ws).empty


def test_summaries_count_exactly(tmp_ws: Workspace, tmp_path: Path) -> None:
    assign = tmp_path / "a.csv"
    assign.write_text(
        "user_id,experiment,variant,timestamp\n"
        "a,e1,control,2026-09-08 10:00\nb,e1,ai,2026-09-09 10:00\nc,e1,ai,2026-09-10 10:00\n"
        "d,e1,control,2026-09-11\nd,e1,ai,2026-09-12\na,e2,small,2026-09-13\n"
    )
    ingest.load(tmp_ws, assign, "assignments", actor=Actor("tester", "editor"))
    events = tmp_path / "e.csv"
    events.write_text(
        "user_id,timestamp,event\na,2026-09-01,view\na,2026-09-02,view\nb,2026-10-05 23:00,view\n"
    )
    ingest.load(tmp_ws, events, "events", actor=Actor("tester", "editor"))
    cat = workspace.catalog(tmp_ws)
    ev = next(t for t in cat.tables if t.kind == "events")
    assert (ev.rows, ev.users, ev.first, ev.last) == (3, 2, datetime(2026, 9, 1), datetime(2026, 10, 5, 23))
    e1, e2 = cat.experiments
    assert e1.name == "e1" and e1.users == 3 and e1.multi_variant_users == 1
    assert {v.name: v.users for v in e1.variants} == {"ai": 2, "control": 1}
    assert (e1.first_exposure, e1.last_exposure) == (datetime(2026, 9, 8, 10), datetime(2026, 9, 11))
    assert (e2.users, e2.variants[0].name) == (1, "small")
    hist = workspace.load_history(tmp_ws)
    assert list(hist["file_name"]) == ["e.csv", "a.csv"] and list(hist["rows"]) == [3, 6]
    assert cat.experiments_frame()["users"].sum() == 4
    doc = cat.to_dict()
    assert doc["experiments"][0]["variants"] == [{"name": "ai", "users": 2}, {"name": "control", "users": 1}]


def test_demo_catalog_matches_the_truth(demo_ws: Workspace) -> None:
    cat = workspace.catalog(demo_ws)
    assert [t.kind for t in cat.tables] == ["events", "assignments", "predictions", "feedback", "users"]
    users = next(t for t in cat.tables if t.kind == "users")
    assert users.rows == 50_000 and users.users is not None
    exps = {e.name: e for e in cat.experiments}
    assert set(exps) == {"ai_recs", "model_size"}
    for name, split in TRUTH.split.items():
        e = exps[name]
        assert {v.name for v in e.variants} == set(split)
        assert e.multi_variant_users == TRUTH.double_exposed_per_experiment
        for v in e.variants:
            assert abs(v.users / e.users - split[v.name]) < 0.02


def test_user_counts_are_exact_on_the_demo_and_flagged_when_estimated(
    demo_ws: Workspace, monkeypatch
) -> None:
    events = workspace.table_summary(demo_ws, "events")
    assert events.rows > 1_000_000 and events.users_exact
    assert events.users == demo_ws.scalar("SELECT count(DISTINCT user_id) FROM events")
    monkeypatch.setattr(inventory, "EXACT_USERS_MAX_ROWS", 10)
    # ~3,100 of the demo's users fall in the sampled bucket: too few to estimate, so still exact.
    assert workspace.table_summary(demo_ws, "events") == events
    monkeypatch.setattr(inventory, "MIN_SAMPLED_USERS", 1_000)
    estimate = workspace.table_summary(demo_ws, "events")
    # The estimate is a multiple of the buckets, within 4 standard errors (sqrt(15/N) = 1.7% at 50k users).
    assert not estimate.users_exact and estimate.users % workspace.USER_BUCKETS == 0
    assert abs(estimate.users / events.users - 1) < 4 * (15 / events.users) ** 0.5

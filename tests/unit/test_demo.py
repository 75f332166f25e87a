"""The demo workspace is deterministic and carries the ground truth the other tests rely on."""

from __future__ import annotations

from pathlib import Path

import pytest
from scipy import stats

from analytics.errors import LiftboardError
from analytics.ingest import TRUTH, build_demo
from analytics.workspace import Workspace, open_workspace


def test_tables_and_sizes(demo_ws: Workspace) -> None:
    assert demo_ws.data_tables() == ["events", "assignments", "predictions", "feedback", "users"]
    assert demo_ws.scalar("SELECT count(*) FROM users") == 50_000
    assert 800_000 < demo_ws.scalar("SELECT count(*) FROM events") < 1_500_000
    lo, hi = demo_ws.query("SELECT min(timestamp), max(timestamp) FROM events")[0]
    assert lo >= TRUTH.start and hi < TRUTH.end


def test_exposure_split_matches_design(demo_ws: Workspace) -> None:
    rows = demo_ws.query(
        """SELECT experiment, variant, count(*) FROM (
               SELECT user_id, experiment, any_value(variant) AS variant FROM assignments
               GROUP BY user_id, experiment HAVING count(DISTINCT variant) = 1)
           GROUP BY ALL ORDER BY ALL"""
    )
    by_exp: dict[str, dict[str, int]] = {}
    for exp, var, n in rows:
        by_exp.setdefault(exp, {})[var] = n
    for exp, counts in by_exp.items():
        names = sorted(counts)
        expected = [TRUTH.split[exp][v] * sum(counts.values()) for v in names]
        p = stats.chisquare([counts[v] for v in names], expected).pvalue
        assert p > 0.001, (exp, counts)


def test_double_exposed_users_are_planted(demo_ws: Workspace) -> None:
    n = demo_ws.scalar(
        """SELECT count(*) FROM (SELECT user_id, experiment FROM assignments
           GROUP BY ALL HAVING count(DISTINCT variant) > 1)"""
    )
    assert n == 2 * TRUTH.double_exposed_per_experiment


def test_drift_date_shifts_category_mix_and_score(demo_ws: Workspace) -> None:
    rows = demo_ws.query(
        """SELECT timestamp >= ? AS after, avg((category = 'electronics')::INT), avg(score)
           FROM predictions GROUP BY ALL ORDER BY after""",
        [TRUTH.drift_date],
    )
    (_, elec_before, score_before), (_, elec_after, score_after) = rows
    assert elec_before == pytest.approx(0.20, abs=0.01)
    assert elec_after == pytest.approx(0.45, abs=0.01)
    assert score_before == pytest.approx(5 / 8, abs=0.01) and score_after == pytest.approx(0.5, abs=0.01)
    first = demo_ws.scalar("SELECT min(timestamp) FROM predictions")
    assert first.date().isoformat() == "2026-09-08"


def test_costs_follow_the_price_table(demo_ws: Workspace) -> None:
    worst = demo_ws.scalar(
        """SELECT max(abs(p.cost_usd - ((p.tokens_in - p.tokens_cached) * l.input_per_1k
                 + p.tokens_cached * l.cached_per_1k + p.tokens_out * l.output_per_1k) / 1000))
           FROM predictions p JOIN lb_prices l USING (model_version)"""
    )
    assert worst < 1e-12
    per_model = dict(demo_ws.query("SELECT model_version, avg(cost_usd) FROM predictions GROUP BY 1"))
    assert per_model["large-v1"] > 5 * per_model["small-v1"]


def test_acceptance_falls_after_drift(demo_ws: Workspace) -> None:
    before, after = (
        r[1]
        for r in demo_ws.query(
            """SELECT timestamp >= ?, avg((signal = 'accept')::INT) FROM feedback GROUP BY 1 ORDER BY 1""",
            [TRUTH.drift_date],
        )
    )
    assert before - after == pytest.approx(TRUTH.accept_drop_after_drift, abs=0.03)


def test_seeded_state(demo_ws: Workspace) -> None:
    assert demo_ws.get_setting("experiment:ai_recs")["primary"] == "conversion:purchase:7d"
    assert demo_ws.scalar("SELECT count(*) FROM lb_tags") == 5
    overlap = demo_ws.scalar(
        "SELECT count(*) FROM (SELECT feedback_id FROM lb_reviews GROUP BY 1 HAVING count(*) = 2)"
    )
    assert overlap == 150
    assert demo_ws.scalar("SELECT count(*) FROM lb_loads WHERE source LIKE 'analytics.demo%'") == 5


def test_deterministic_for_a_seed(tmp_path: Path) -> None:
    def fingerprint(path: Path) -> tuple:
        ws = open_workspace(path, read_only=True)
        try:
            return (
                ws.query("SELECT count(*), sum(hash(user_id, timestamp, event, value)) FROM events")[0]
                + ws.query("SELECT sum(hash(prediction_id, cost_usd, score)) FROM predictions")[0]
            )
        finally:
            ws.close()

    build_demo(tmp_path / "a.duckdb", users=2_000, seed=3)
    build_demo(tmp_path / "b.duckdb", users=2_000, seed=3)
    build_demo(tmp_path / "c.duckdb", users=2_000, seed=4)
    assert fingerprint(tmp_path / "a.duckdb") == fingerprint(tmp_path / "b.duckdb")
    assert fingerprint(tmp_path / "a.duckdb") != fingerprint(tmp_path / "c.duckdb")


def test_refuses_to_overwrite_and_tiny_sizes(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    build_demo(path, users=1_000, seed=1)
    with pytest.raises(LiftboardError, match="already exists"):
        build_demo(path, users=1_000, seed=1)
    with pytest.raises(LiftboardError, match="at least 1,000 users"):
        build_demo(tmp_path / "x.duckdb", users=10)
    assert not (tmp_path / "x.duckdb").exists()

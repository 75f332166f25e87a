"""Twenty browser sessions on one server at once: page views, a toggle and tagging; no error, no lost tag."""

from __future__ import annotations

from pathlib import Path

from analytics.ingest import build_demo
from analytics.workspace import open_workspace
from tests.e2e.load_sessions import percentile, run_sessions, script_times
from tests.support.server import CHROMIUM

SESSIONS, TAGGERS, SECONDS = 20, 4, 45


def test_twenty_sessions_at_once(app_server, tmp_path: Path, artifacts: Path) -> None:
    db = tmp_path / "load.duckdb"
    build_demo(db, users=5000, seed=3)
    ws = open_workspace(db)
    expected = {
        (sig, model): n
        for sig, model, n in ws.query(
            # the page's bulk action applies to the queue's default view: items nobody has tagged yet
            "SELECT f.signal, p.model_version, count(*) FROM feedback f "
            "JOIN predictions p USING (prediction_id) WHERE NOT EXISTS (SELECT 1 FROM lb_reviews r "
            "WHERE r.feedback_id = f.feedback_id AND len(r.tag_ids) > 0) GROUP BY ALL"
        )
    }
    audit_before = ws.scalar("SELECT max(audit_id) FROM lb_audit")
    ws.close()
    run_log = artifacts / "script-times.jsonl"
    run_log.unlink(missing_ok=True)
    # A fresh server: the sessions' first requests race each other too. It logs its own script time per rerun,
    # so the summary can tell the server's share of a render from the twenty browsers' on the same two cores.
    server = app_server(db, env={"LIFTBOARD_RUN_LOG": str(run_log)})

    res = run_sessions(
        server.url,
        chromium=CHROMIUM,
        sessions=SESSIONS,
        seconds=SECONDS,
        taggers=TAGGERS,
        stagger=1.0,
        shots=artifacts,
        timeout_ms=300_000,  # generous: on two cores the 20 browsers themselves, not the server, are the bottleneck
    )
    per_view = {k: f"{max(v):.1f}" for k, v in res.by_view.items()}
    runs = script_times(run_log)
    all_runs = [x for v in runs.values() for x in v]
    script_p95 = {k: f"p95 {percentile(v, 95):.2f}" for k, v in runs.items()}
    summary = (
        f"{SESSIONS} sessions, {res.seconds:.0f} s: {len(res.renders)} renders; in-app page renders "
        f"p50 {res.p(50, first_loads=False):.2f} s, p95 {res.p(95, first_loads=False):.2f} s; first loads "
        f"p50 {res.p(50, first_loads=True):.2f} s, p95 {res.p(95, first_loads=True):.2f} s; "
        f"slowest per page {per_view}; "
        f"{sum(res.tagged.values())} items tagged in {len(res.tagged)} bulk actions; server script time per "
        f"rerun p50 {percentile(all_runs, 50):.2f} s, p95 {percentile(all_runs, 95):.2f} s ({len(all_runs)} reruns), "
        f"per page {script_p95}"
    )
    print(summary)
    (artifacts / "summary.txt").write_text(summary + "\n" + "\n".join(res.errors) + "\n")
    assert not res.errors, res.errors[:5]
    assert not res.outside, res.outside[:5]
    assert all_runs, "the server logged no rerun"
    assert len(res.by_view.get("first load", [])) >= SESSIONS - TAGGERS  # every viewer got the app
    assert {who for who, _, _ in res.tagged} == {f"tagger{i}" for i in range(TAGGERS)}

    server.stop()
    ws = open_workspace(db, read_only=True)
    try:
        # No lost tag: every item a reviewer was told was tagged carries their 'helpful' tag, with one audit row.
        for (who, sig, model), n in res.tagged.items():
            assert n == expected[(sig, model)]
            got = ws.scalar(
                "SELECT count(*) FROM lb_reviews r JOIN feedback f USING (feedback_id) "
                "JOIN predictions p USING (prediction_id) JOIN lb_tags t ON list_contains(r.tag_ids, t.tag_id) "
                "WHERE r.reviewer = ? AND f.signal = ? AND p.model_version = ? AND t.name = 'helpful'",
                [who, sig, model],
            )
            assert got == n, (who, sig, model)
        audit = ws.scalar(
            "SELECT count(*) FROM lb_audit WHERE audit_id > ? AND action = 'review.tag'", [audit_before]
        )
        assert audit == sum(res.tagged.values())
    finally:
        ws.close()

"""No user input reaches SQL as text: every statement the engine runs is read back from DuckDB's query log.

Hostile names (a segment column, a feature column) must appear only as quoted identifiers; hostile values (an
experiment name, an event name, a filter value) must never appear in any statement: they travel as parameters.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analytics import cost, drift, experiments, feedback, overview
from analytics.errors import LiftboardError
from analytics.ingest import build_demo
from analytics.workspace import Workspace, open_workspace, quote_ident

EVIL_NAME = 'seg"; DROP TABLE events; --'
EVIL_FEATURE = "feat'); DROP TABLE predictions; --"
EVIL_VALUE = "x'); DROP TABLE events; --"
EVIL_EXPERIMENT = "exp'; DELETE FROM assignments; --"


@pytest.fixture(scope="module")
def hostile_ws(tmp_path_factory: pytest.TempPathFactory):
    path: Path = tmp_path_factory.mktemp("hostile") / "w.duckdb"
    build_demo(path, users=3_000, seed=11)
    ws = open_workspace(path)
    con = ws.con
    con.execute(f"ALTER TABLE users ADD COLUMN {quote_ident(EVIL_NAME)} VARCHAR")
    con.execute(
        f"UPDATE users SET {quote_ident(EVIL_NAME)} = CASE WHEN plan = 'pro' THEN ? ELSE 'b' END",
        [EVIL_VALUE],
    )
    con.execute(f"ALTER TABLE predictions ADD COLUMN {quote_ident(EVIL_FEATURE)} DOUBLE")
    con.execute(f"UPDATE predictions SET {quote_ident(EVIL_FEATURE)} = score * 2")
    con.execute("UPDATE events SET event = ? WHERE event = 'share'", [EVIL_VALUE])
    con.execute("UPDATE assignments SET experiment = ? WHERE experiment = 'ai_recs'", [EVIL_EXPERIMENT])
    ws.set_setting(f"experiment:{EVIL_EXPERIMENT}", ws.get_setting("experiment:ai_recs"))
    con.execute("CALL enable_logging('QueryLog')")
    yield ws
    ws.close()


def _logged(ws: Workspace) -> list[str]:
    return [r[0] for r in ws.query("SELECT message FROM duckdb_logs WHERE type = 'QueryLog'")]


def _without_quoted_names(sql: str) -> str:
    for name in (EVIL_NAME, EVIL_FEATURE):
        sql = sql.replace(quote_ident(name), '"_"')
    return sql


def test_every_engine_statement_keeps_hostile_input_out(hostile_ws: Workspace) -> None:
    ws = hostile_ws
    ws.con.execute("CALL truncate_duckdb_logs()")
    metric = f"count:{EVIL_VALUE}:7d"
    res = experiments.analyze(ws, EVIL_EXPERIMENT, ["conversion:purchase:7d", metric], segment=EVIL_NAME)
    assert res.segments and {s.value for s in res.segments} == {EVIL_VALUE, "b"}
    experiments.analyze(ws, EVIL_EXPERIMENT, [metric], cuped=True, winsorize=0.99)
    cost.load_costs(ws)
    report = drift.compute_drift(ws, drift.DriftSettings())
    assert EVIL_FEATURE in {f.name for f in report.features}
    flt = feedback.FeedbackFilter(experiment=EVIL_EXPERIMENT, signals=(EVIL_VALUE,), variants=(EVIL_VALUE,))
    feedback.queue(ws, flt)
    feedback.rates(ws, feedback.FeedbackFilter(experiment=EVIL_EXPERIMENT), period="week")
    overview.build(ws, only=EVIL_EXPERIMENT)
    for bad in ("nope:x", f"conversion:{EVIL_VALUE}x", f"ratio:{EVIL_VALUE}x/purchase:1d"):
        with pytest.raises(LiftboardError):
            experiments.analyze(ws, EVIL_EXPERIMENT, [bad])
    statements = _logged(ws)
    assert len(statements) > 20
    for sql in statements:
        assert EVIL_VALUE not in sql, f"a value reached SQL as text: {sql[:300]}"
        assert EVIL_EXPERIMENT not in sql and "DELETE FROM assignments" not in sql, sql[:300]
        # Once the properly quoted identifiers are taken out, no trace of the hostile names is left.
        rest = _without_quoted_names(sql)
        assert "DROP TABLE" not in rest, f"an identifier reached SQL unquoted: {sql[:300]}"
    # And nothing was dropped.
    assert ws.scalar("SELECT count(*) FROM events") > 0
    assert ws.scalar("SELECT count(*) FROM assignments WHERE experiment = ?", [EVIL_EXPERIMENT]) > 0


def test_quoted_identifier_pattern() -> None:
    assert quote_ident(EVIL_NAME) == '"seg""; DROP TABLE events; --"'
    assert re.fullmatch(r'"([^"]|"")*"', quote_ident(EVIL_FEATURE))

"""A feedback file whose prediction ids match nothing: counted, refused unless confirmed; some unmatched warn."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from analytics import ingest
from analytics.errors import LiftboardError
from analytics.ingest.unmatched import _share
from analytics.workspace import Actor, Workspace, open_workspace, unmatched_predictions
from tests.support.files import snapshot, write

ROOT = Path(__file__).resolve().parents[2]
WHO = Actor("tester", "editor")
PREDICTIONS = (
    "prediction_id,user_id,timestamp,model_version\n"
    "p-1,u1,2026-09-01 10:00:00,m1\n"
    "p-2,u2,2026-09-01 11:00:00,m1\n"
    "p-3,u3,2026-09-02 09:00:00,m2\n"
)
MATCHED = "prediction_id,signal\np-1,accept\np-2,reject\n"
UNMATCHED = "prediction_id,signal\np-9,accept\np-10,reject\np-11,accept\np-9,correct\n"


@pytest.fixture()
def with_predictions(tmp_ws: Workspace, tmp_path: Path) -> Workspace:
    """Three predictions and two feedback rows that match them."""
    ingest.load(tmp_ws, write(tmp_path, "preds.csv", PREDICTIONS), "predictions", actor=WHO)
    ingest.load(tmp_ws, write(tmp_path, "matched.csv", MATCHED), "feedback", actor=WHO)
    return tmp_ws


def test_all_unmatched_is_refused_by_default(with_predictions: Workspace, tmp_path: Path) -> None:
    ws = with_predictions
    path = write(tmp_path, "other.csv", UNMATCHED)
    report = ingest.validate(ws, path, "feedback", actor=WHO)
    assert not report.ok and report.all_unmatched
    assert (report.rows_with_prediction_id, report.unmatched_prediction_ids) == (4, 4)
    (issue,) = report.errors
    assert (issue.code, issue.count, issue.skippable) == ("unmatched_predictions", 4, False)
    assert issue.examples == ("p-9", "p-10", "p-11")  # distinct ids, the most frequent first
    assert issue.message.startswith(
        "4 of 4 feedback rows of other.csv (100%) name a prediction_id that is not in the predictions "
        "table (e.g. 'p-9', 'p-10', 'p-11'); check that the file belongs to this workspace's inference log"
    )
    before = snapshot(ws)
    assert before == {"predictions": 3, "feedback": 2, "lb_loads": 2}
    with pytest.raises(LiftboardError) as err:
        ingest.load(ws, path, "feedback", actor=WHO)
    assert str(err.value) == issue.message and "\n" not in str(err.value)
    assert "--allow-unmatched" in str(err.value)
    assert snapshot(ws) == before
    assert ws.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'lb_stage%'") == 0


def test_all_unmatched_loads_when_confirmed(with_predictions: Workspace, tmp_path: Path) -> None:
    ws = with_predictions
    res = ingest.load(
        ws, write(tmp_path, "other.csv", UNMATCHED), "feedback", allow_unmatched=True, actor=WHO
    )
    assert res.report.ok and res.record["rows"] == 4 and res.report.mode == "append"
    (issue,) = res.report.warnings
    assert (issue.code, issue.count) == ("unmatched_predictions", 4)
    assert "they will be loaded as confirmed" in issue.message
    assert snapshot(ws) == {"predictions": 3, "feedback": 6, "lb_loads": 3}
    # the Feedback page's count of loaded rows agrees with the loader's (same condition)
    assert unmatched_predictions(ws) == (4, 6)


def test_some_unmatched_is_a_warning_with_counts(with_predictions: Workspace, tmp_path: Path) -> None:
    ws = with_predictions
    text = "prediction_id,user_id,timestamp,signal\np-1,u1,,accept\np-3,u3,,reject\np-7,u7,,accept\n,u8,2026-09-03,reject\n"
    report = ingest.validate(ws, write(tmp_path, "some.csv", text), "feedback", actor=WHO)
    assert report.ok and not report.all_unmatched
    assert (report.rows, report.rows_with_prediction_id, report.unmatched_prediction_ids) == (4, 3, 1)
    (issue,) = report.warnings
    assert (issue.code, issue.count, issue.examples) == ("unmatched_predictions", 1, ("p-7",))
    assert issue.message == (
        "1 of 3 feedback rows of some.csv (33%) name a prediction_id that is not in the predictions table "
        "(e.g. 'p-7'); they will be loaded, without a model version or score until their predictions are loaded."
    )
    res = ingest.load(ws, write(tmp_path, "some.csv", text), "feedback", actor=WHO)
    assert res.record["rows"] == 4
    assert unmatched_predictions(ws) == (1, 5)


def test_rows_that_will_be_skipped_are_not_counted(with_predictions: Workspace, tmp_path: Path) -> None:
    text = "prediction_id,timestamp,signal\np-1,2026-09-01,accept\np-9,next week,reject\n"
    path = write(tmp_path, "skip.csv", text)
    refused = ingest.validate(with_predictions, path, "feedback", actor=WHO)
    assert [i.code for i in refused.errors] == ["bad_timestamp"]
    assert refused.unmatched_prediction_ids == 1 and [i.code for i in refused.warnings] == [
        "unmatched_predictions"
    ]
    skipping = ingest.validate(with_predictions, path, "feedback", actor=WHO, skip_bad_rows=True)
    assert skipping.ok and skipping.rows_to_load == 1
    assert (skipping.rows_with_prediction_id, skipping.unmatched_prediction_ids) == (1, 0)
    assert "unmatched_predictions" not in [i.code for i in skipping.issues]


def test_no_predictions_table_is_a_warning(tmp_ws: Workspace, tmp_path: Path) -> None:
    report = ingest.validate(tmp_ws, write(tmp_path, "fb.csv", UNMATCHED), "feedback", actor=WHO)
    assert report.ok and not report.all_unmatched
    assert (report.rows_with_prediction_id, report.unmatched_prediction_ids) == (4, None)
    (issue,) = report.warnings
    assert (issue.level, issue.code, issue.count) == ("warning", "no_predictions", 4)
    assert issue.message == (
        "The workspace has no predictions table yet, so the 4 feedback rows of fb.csv that name a prediction_id "
        "cannot be joined to their model version and score until the inference log is loaded."
    )
    res = ingest.load(tmp_ws, write(tmp_path, "fb.csv", UNMATCHED), "feedback", actor=WHO)
    assert res.record["rows"] == 4


def test_feedback_linked_by_user_and_time_is_not_checked(with_predictions: Workspace, tmp_path: Path) -> None:
    text = "user_id,timestamp,signal\nu1,2026-09-01 10:00:00,accept\nu9,2026-09-01 10:00:00,reject\n"
    report = ingest.validate(with_predictions, write(tmp_path, "ut.csv", text), "feedback", actor=WHO)
    assert report.ok and not report.issues
    assert (report.rows_with_prediction_id, report.unmatched_prediction_ids) == (0, None)


def test_share_never_rounds_to_none_or_all() -> None:
    assert [_share(1, 200), _share(1, 3), _share(199, 200), _share(5, 5)] == ["<1%", "33%", ">99%", "100%"]


# -- the CLI --------------------------------------------------------------------------------------------
def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analytics", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_cli_refuses_then_loads_with_allow_unmatched(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    ws = open_workspace(db)
    ingest.load(ws, write(tmp_path, "preds.csv", PREDICTIONS), "predictions", actor=WHO)
    ws.close()
    path = str(write(tmp_path, "other.csv", UNMATCHED))

    refused = _cli("load", path, "--kind", "feedback", "--db", str(db))
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1
    assert refused.stderr.startswith("error: 4 of 4 feedback rows of other.csv (100%)")
    assert "--allow-unmatched" in refused.stderr

    dry = _cli("load", path, "--kind", "feedback", "--db", str(db), "--dry-run", "--json")
    assert dry.returncode == 2, dry.stderr  # not loadable as it is: the dry run says so with its exit code
    assert json.loads(dry.stdout)["error"].startswith("4 of 4 feedback rows of other.csv (100%)")
    report = json.loads(dry.stdout)["report"]
    assert not report["ok"] and report["all_unmatched"]
    assert (report["rows_with_prediction_id"], report["unmatched_prediction_ids"]) == (4, 4)

    loaded = _cli("load", path, "--kind", "feedback", "--db", str(db), "--allow-unmatched", "--json")
    assert loaded.returncode == 0, loaded.stderr
    doc = json.loads(loaded.stdout)
    assert doc["record"]["rows"] == 4 and doc["report"]["ok"]
    assert (doc["report"]["rows_with_prediction_id"], doc["report"]["unmatched_prediction_ids"]) == (4, 4)
    assert [i["code"] for i in doc["report"]["issues"]] == ["unmatched_predictions"]

    ws = open_workspace(db, read_only=True)
    assert snapshot(ws) == {"predictions": 3, "feedback": 4, "lb_loads": 2}
    ws.close()

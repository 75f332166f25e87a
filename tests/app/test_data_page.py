"""The Data page driven with AppTest: summary, upload with mapping, validation, load, history, delete."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics import ingest
from analytics.workspace import Actor, open_workspace
from tests.support.apptest import page_test

CSV = (
    "distinct_id;occurred_at;action;amount;device\n"
    "u1;2026-09-01 10:00:00;view;;ios\n"
    "u2;2026-09-01 11:00:00;purchase;12.5;web\n"
    "u2;2026-09-02 12:00:00;purchase;7.5;web\n"
)


def _page(db: Path, monkeypatch: pytest.MonkeyPatch, **query: str) -> AppTest:
    monkeypatch.setenv("LIFTBOARD_DB", str(db))
    at = page_test("data", timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def _df(at: AppTest, column: str):
    """The first table shown that has this column (AppTest does not expose dataframe keys)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _counts(db: Path) -> tuple[int, int]:
    ws = open_workspace(db)  # same configuration as the page's connection in this process
    try:
        events = ws.scalar("SELECT count(*) FROM events") if ws.has_table("events") else 0
        return events, ws.scalar("SELECT count(*) FROM lb_loads")
    finally:
        ws.close()


def test_empty_workspace_offers_the_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(tmp_path / "empty.duckdb", monkeypatch)
    assert not at.exception and not at.error
    assert "holds no data yet" in at.info[0].value
    assert at.button(key="build-demo").label == "Build the demo workspace"
    assert at.main.caption[-1].value == "Nothing loaded yet."


def test_demo_summary(demo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(demo_copy, monkeypatch)
    assert not at.exception and not at.error
    summary = at.markdown[0].value
    assert "This workspace holds 5 tables" in summary and "**ai_recs** (ai, control)" in summary
    tables = _df(at, "table")
    assert list(tables["table"]) == ["events", "assignments", "predictions", "feedback", "users"]
    assert int(tables.loc[tables["table"] == "users", "rows"].iloc[0]) == 50_000
    exps = _df(at, "variant")
    assert set(exps["variant"]) == {"control", "ai", "small", "large"}


def test_upload_map_validate_and_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "w.duckdb"
    at = _page(db, monkeypatch, kind="events")
    at.file_uploader(key="data-upload-0").upload("shop.csv", CSV.encode(), "text/csv").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert list(_df(at, "distinct_id").columns) == [
        "distinct_id", "occurred_at", "action", "amount", "device",
    ]  # fmt: skip
    # automatic mapping of the usual spellings
    assert at.selectbox(key="map-events-shop.csv-user_id").value == "distinct_id"
    assert at.selectbox(key="map-events-shop.csv-timestamp").value == "occurred_at"
    assert at.selectbox(key="map-events-shop.csv-event").value == "action"
    assert at.selectbox(key="map-events-shop.csv-value").value == "amount"
    assert any("Ready to load 3 rows" in m.value and "from 2 users" in m.value for m in at.markdown)
    assert _counts(db) == (0, 0)  # the report is computed before anything is written

    # un-mapping a required column refuses with one sentence; the Load button stays disabled
    at.selectbox(key="map-events-shop.csv-event").set_value("— none —").run()
    assert any("no column mapped to event" in e.value for e in at.error)
    at.selectbox(key="map-events-shop.csv-event").set_value("action").run()

    at.button(key="data-load").click().run()
    assert not at.exception and not at.error
    assert "Loaded 3 rows of shop.csv into events (new)" in at.success[0].value
    assert _counts(db) == (3, 1)
    history = _df(at, "content_hash")
    assert list(history["file_name"]) == ["shop.csv"] and list(history["rows"]) == [3]
    assert at.query_params["kind"] == ["events"] or at.query_params["kind"] == "events"

    # the uploader is emptied after a load; uploading the same file again warns that every row is loaded
    assert not at.file_uploader(key="data-upload-1").value
    at.file_uploader(key="data-upload-1").upload("shop.csv", CSV.encode(), "text/csv").run()
    assert any("already loaded" in w.value and "(every row)" in w.value for w in at.warning)
    at.radio(key="data-mode").set_value("Replace it").run()
    assert not any("already loaded" in w.value for w in at.warning)


def test_bad_rows_are_reported_and_can_be_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "w.duckdb"
    at = _page(db, monkeypatch)
    bad = CSV + "u3;next tuesday;view;;ios\n"
    at.file_uploader(key="data-upload-0").upload("bad.csv", bad.encode(), "text/csv").run()
    assert any("1 timestamps in 'occurred_at' that do not parse" in e.value for e in at.error)
    assert at.button(key="data-load").disabled
    at.checkbox(key="data-skip").check().run()
    assert any("1 bad rows of bad.csv will be skipped" in w.value for w in at.warning)
    at.button(key="data-load").click().run()
    assert _counts(db) == (3, 1)


def test_server_path_errors_and_delete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "w.duckdb"
    imports = tmp_path / "imports"
    imports.mkdir()
    src = imports / "events.csv"
    src.write_text(CSV)
    at = _page(db, monkeypatch)
    assert not at.radio  # no import folder configured: no server paths at all, uploads only
    monkeypatch.setenv("LIFTBOARD_IMPORT_DIRS", str(imports))
    at.run()
    at.radio(key="data-source").set_value("Path on the server").run()
    at.text_input(key="data-path").input(str(imports / "missing.csv")).run()
    assert at.error[0].value.startswith("There is no file ") and "in the import folders" in at.error[0].value
    at.text_input(key="data-path").input(str(tmp_path / "w.duckdb")).run()
    assert "is outside the import folders" in at.error[0].value
    at.text_input(key="data-path").input("events.csv").run()  # relative to the import folder
    at.button(key="data-load").click().run()
    assert _counts(db) == (3, 1)
    at.checkbox(key="data-delete-sure").check().run()
    at.button(key="data-delete").click().run()
    assert "Deleted the events table (3 rows)" in at.success[0].value
    assert _counts(db) == (0, 2)


def test_unmatched_feedback_loads_only_when_confirmed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "w.duckdb"
    ws = open_workspace(db)
    preds = tmp_path / "preds.csv"
    preds.write_text(
        "prediction_id,user_id,timestamp\np-1,u1,2026-09-01 10:00:00\np-2,u2,2026-09-01 11:00:00\n"
    )
    ingest.load(ws, preds, "predictions", actor=Actor("tester", "editor"))
    ws.close()

    def counts() -> tuple[int, int]:
        ws = open_workspace(db)
        try:
            feedback = ws.scalar("SELECT count(*) FROM feedback") if ws.has_table("feedback") else 0
            return feedback, ws.scalar("SELECT count(*) FROM lb_loads")
        finally:
            ws.close()

    at = _page(db, monkeypatch, kind="feedback")
    other = "prediction_id,signal\np-9,accept\np-10,reject\np-11,accept\n"
    at.file_uploader(key="data-upload-0").upload("other.csv", other.encode(), "text/csv").run()
    assert not at.exception
    assert any("cannot be loaded as it is" in m.value for m in at.markdown)
    assert len(at.error) == 1
    assert at.error[0].value.startswith("3 of 3 feedback rows of other.csv (100%) name a prediction_id")
    assert at.button(key="data-load").disabled
    confirm = at.checkbox(key="data-allow-unmatched-other.csv")
    assert confirm.label == "Load anyway: I understand none of these 3 feedback rows match a prediction"
    assert counts() == (0, 1)

    confirm.check().run()
    assert not at.error
    assert any("Ready to load 3 rows" in m.value for m in at.markdown)
    assert any("3 of 3 feedback rows" in w.value and "loaded as confirmed" in w.value for w in at.warning)
    assert not at.button(key="data-load").disabled
    at.button(key="data-load").click().run()
    assert not at.exception and not at.error
    assert "Loaded 3 rows of other.csv into feedback (new)" in at.success[0].value
    assert counts() == (3, 2)

    # some ids unmatched: a warning with counts, no confirmation asked, the Load button enabled
    some = "prediction_id,signal\np-1,accept\np-2,reject\np-7,accept\n"
    at.file_uploader(key="data-upload-1").upload("some.csv", some.encode(), "text/csv").run()
    assert not at.error
    assert any(w.value.startswith("1 of 3 feedback rows of some.csv (33%)") for w in at.warning)
    assert not any(c.key.startswith("data-allow-unmatched") for c in at.checkbox)
    assert not at.button(key="data-load").disabled

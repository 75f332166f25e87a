"""The Data page with tool exports (AppTest): the source is suggested, checked, loaded as events + assignments."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics.workspace import money_marks, open_workspace
from tests.support import exports as X
from tests.support.apptest import page_test
from tests.support.export_files import write_export


def _page(db: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("LIFTBOARD_DB", str(db))
    return page_test("data", timeout=180).run()


def _tables(db: Path) -> dict[str, int]:
    ws = open_workspace(db)
    try:
        return {t: ws.scalar(f'SELECT count(*) FROM "{t}"') for t in ws.data_tables()}  # noqa: S608
    finally:
        ws.close()


def test_posthog_export_is_suggested_checked_and_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = X.simulate("posthog", users=400, seed=2)
    (path,) = write_export("posthog", rows, tmp_path / "export", "csv")
    db = tmp_path / "w.duckdb"
    at = _page(db, monkeypatch)
    at.file_uploader(key="data-upload-0").upload(path.name, path.read_bytes(), "text/csv").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    origin = at.selectbox(key=f"data-origin-0-{path.name}")
    assert origin.value == "PostHog"  # suggested from the columns
    assert any("a PostHog export has uuid, event, properties" in c.value for c in at.caption)
    events = len(rows)  # every row, the flag-off calls included, is a PostHog event
    assert any(f"Ready to load {events:,} events" in m.value for m in at.markdown), [
        m.value for m in at.markdown
    ]
    experiments = next(d.value for d in at.dataframe if "experiment" in d.value.columns)
    assert set(experiments["experiment"]) == {X.MAIN, X.SECOND}
    main = experiments.set_index("experiment").loc[X.MAIN]
    assert main["users in two arms (left out)"] == X.multi_variant_users("posthog", rows)
    assert any("answered false" in w.value for w in at.warning)  # PostHog's flag-off calls are no exposure
    assert "Event values come from properties.revenue and are shown as money (dollars)." in [
        c.value for c in at.caption
    ]
    assert _tables(db) == {}  # nothing written before the click

    # keeping one experiment re-checks with only its exposures
    at.selectbox(key="data-export-keep-posthog").set_value(X.MAIN).run()
    kept = next(d.value for d in at.dataframe if "experiment" in d.value.columns)
    assert list(kept["experiment"]) == [X.MAIN]

    at.button(key="data-export-load").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "from the PostHog export" in at.success[0].value
    counts = _tables(db)
    assert counts["events"] == events
    ws = open_workspace(db)
    try:
        assert ws.query("SELECT DISTINCT experiment FROM assignments") == [(X.MAIN,)]
        assert ws.query("SELECT kind, file_name, source FROM lb_loads ORDER BY load_id")[:1] == [
            ("events", path.name, "PostHog export: upload")
        ]
        assert ws.query("SELECT kind FROM lb_loads ORDER BY load_id") == [("events",), ("assignments",)]
        assert money_marks(ws) == {"events.value": True}  # PostHog's revenue property is money
    finally:
        ws.close()
    assert not at.file_uploader(key="data-upload-1").value  # emptied after the load


def test_a_file_declared_as_another_tool_is_refused_in_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (path,) = write_export("mixpanel", X.simulate("mixpanel", users=50), tmp_path / "export", "json")
    db = tmp_path / "w.duckdb"
    at = _page(db, monkeypatch)
    at.file_uploader(key="data-upload-0").upload(path.name, path.read_bytes(), "application/json").run()
    assert at.selectbox(key=f"data-origin-0-{path.name}").value == "Mixpanel"
    at.selectbox(key=f"data-origin-0-{path.name}").set_value("Amplitude").run()
    assert not at.exception
    (err,) = [e.value for e in at.error]
    assert err.startswith(
        f"{path.name} is not an Amplitude export: an Amplitude export has user_id, device_id"
    )
    assert "looks like a Mixpanel export" in err
    assert _tables(db) == {}


def test_several_own_tables_at_once_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(tmp_path / "w.duckdb", monkeypatch)
    at.file_uploader(key="data-upload-0").upload(
        "a.csv", b"user_id,timestamp,event\nu,2026-01-01,v\n", "text/csv"
    )
    at.file_uploader(key="data-upload-0").upload(
        "b.csv", b"user_id,timestamp,event\nu,2026-01-02,v\n", "text/csv"
    )
    at.run()
    assert at.selectbox(key="data-origin-0-a.csv").value == "My own table (I map the columns)"
    assert any("several files load at once only as one tool's export" in e.value for e in at.error)


def test_a_folder_on_the_server_is_one_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = X.simulate("segment", users=300, seed=4)
    folder = tmp_path / "segment-tables"
    paths = write_export("segment", rows, folder, "csv")  # experiment_viewed, order_completed, ..., tracks
    db = tmp_path / "w.duckdb"
    monkeypatch.setenv("LIFTBOARD_IMPORT_DIRS", str(tmp_path))  # server paths: only inside import folders
    at = _page(db, monkeypatch)
    at.radio(key="data-source").set_value("Path on the server").run()
    at.text_input(key="data-path").input(str(folder)).run()
    first = sorted(p.name for p in paths)[0]
    assert at.selectbox(key=f"data-origin-0-{first}").value == "Segment"
    assert not at.error, [e.value for e in at.error]
    events = int((rows["kind"] != "flag_off").sum())  # tracks repeats the event tables: each event once
    assert any(f"Ready to load {events:,} events" in m.value for m in at.markdown), [
        m.value for m in at.markdown
    ]
    assert any("repeat a row of another file" in w.value for w in at.warning)
    # the revenue is in EUR: said, and plain numbers unless the user marks it as money (never converted)
    assert any("Event values come from revenue in EUR (currency)" in w.value for w in at.warning)
    assert at.checkbox(key="data-export-money-segment").value is False
    at.checkbox(key="data-export-money-segment").check().run()
    at.button(key="data-export-load").click().run()
    assert not at.exception and not at.error
    assert _tables(db)["events"] == events
    ws = open_workspace(db)
    try:
        assert money_marks(ws) == {"events.value": True}
    finally:
        ws.close()

"""Ingest: odd but valid files load exactly; bad input is one sentence and leaves the workspace as it was."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import duckdb
import numpy as np
import pytest

from analytics import ingest
from analytics.errors import LiftboardError
from analytics.ingest import sniff, validation_report
from analytics.workspace import Actor, Workspace, open_workspace
from tests.support.files import snapshot, write

ROOT = Path(__file__).resolve().parents[2]
EVENTS_CSV = (
    "userId,event_time,event_name,revenue,plan\n"
    "u1,2026-09-01 10:00:00,view,,free\n"
    "u2,2026-09-01 11:00:00,purchase,12.5,pro\n"
    "u3,2026-09-02 09:30:00,share,,free\n"
)


@pytest.fixture()
def loaded_ws(tmp_ws: Workspace, tmp_path: Path) -> Workspace:
    ingest.load(tmp_ws, write(tmp_path, "seed.csv", EVENTS_CSV), "events", actor=Actor("tester", "editor"))
    return tmp_ws


# -- mapping --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "header", "expected"),
    [
        (
            "events",
            ["userId", "event_time", "event_name"],
            {"user_id": "userId", "timestamp": "event_time", "event": "event_name"},
        ),
        (
            "events",
            ["distinct_id", "ts", "action", "amount"],
            {"user_id": "distinct_id", "timestamp": "ts", "event": "action", "value": "amount"},
        ),
        (
            "events",
            ["UID", "Created-At", "Name"],
            {"user_id": "UID", "timestamp": "Created-At", "event": "Name"},
        ),
        (
            "assignments",
            ["customer_id", "experiment_id", "bucket", "occurred_at"],
            {
                "user_id": "customer_id",
                "experiment": "experiment_id",
                "variant": "bucket",
                "timestamp": "occurred_at",
            },
        ),
        (
            "assignments",
            ["user", "test", "arm", "time"],
            {"user_id": "user", "experiment": "test", "variant": "arm", "timestamp": "time"},
        ),
        (
            "assignments",
            ["user_id", "experiment", "group", "exposed_at"],
            {"variant": "group", "timestamp": "exposed_at"},
        ),
        (
            "predictions",
            ["request_id", "user_id", "ts", "model", "prediction", "input_tokens", "completion_tokens"],
            {
                "prediction_id": "request_id",
                "model_version": "model",
                "score": "prediction",
                "tokens_in": "input_tokens",
                "tokens_out": "completion_tokens",
            },
        ),
        (
            "feedback",
            ["prediction_id", "feedback", "stars"],
            {"signal": "feedback", "rating": "stars", "feedback_id": None},
        ),
        (
            "outcomes",
            ["Player ID", "Test Group", "exp", "rounds"],
            {"user_id": "Player ID", "variant": "Test Group", "experiment": "exp"},
        ),
    ],
)
def test_guess_mapping_recognises_usual_spellings(kind: str, header: list[str], expected: dict) -> None:
    mapping = ingest.guess_mapping(kind, header)
    for canon, src in expected.items():
        assert mapping[canon] == src


def test_exact_canonical_name_wins_over_a_synonym() -> None:
    mapping = ingest.guess_mapping(
        "predictions", ["prediction_id", "user_id", "timestamp", "prediction", "score"]
    )
    assert mapping["score"] == "score"
    assert mapping["prediction_id"] == "prediction_id"


def test_user_mapping_overrides_the_guess_and_extras_are_kept(tmp_ws: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path, "e.csv", "user,other_user,ts,event\na,b,2026-09-01,view\nc,d,2026-09-02,view\n")
    res = ingest.load(
        tmp_ws, path, "events", mapping={"user_id": "other_user"}, actor=Actor("tester", "editor")
    )
    assert res.record["mapping"]["user_id"] == "other_user"
    rows = tmp_ws.query('SELECT user_id, "user" FROM events ORDER BY user_id')
    assert rows == [("b", "a"), ("d", "c")]


# -- odd but valid files ----------------------------------------------------------------------------
@pytest.mark.parametrize("delim", [",", ";", "\t", "|"])
def test_delimiters_are_detected(tmp_ws: Workspace, tmp_path: Path, delim: str) -> None:
    text = EVENTS_CSV.replace(",", delim)
    path = write(tmp_path, "e.txt", text)
    assert sniff(path).delimiter == delim
    res = ingest.load(tmp_ws, path, "events", actor=Actor("tester", "editor"))
    assert res.report.rows == 3
    assert tmp_ws.query("SELECT sum(value), count(DISTINCT user_id) FROM events") == [(12.5, 3)]


def test_bom_latin1_utf16_and_override(tmp_ws: Workspace, tmp_path: Path) -> None:
    text = "user_id;timestamp;event;city\nu1;2026-09-01;view;Zürich\nu2;2026-09-01;view;São Paulo\n"
    bom = write(tmp_path, "bom.csv", "\ufeff" + text)
    latin = write(tmp_path, "latin.csv", text, "latin-1")
    utf16 = write(tmp_path, "u16.csv", text, "utf-16")
    assert sniff(bom).encoding == "utf-8" and sniff(bom).header[0] == "user_id"
    assert sniff(latin).encoding == "latin-1"
    assert sniff(utf16).encoding == "utf-16"
    for i, path in enumerate([bom, latin, utf16]):
        ingest.load(tmp_ws, path, "events", replace=i > 0, actor=Actor("tester", "editor"))
        assert tmp_ws.query("SELECT city FROM events ORDER BY user_id") == [("Zürich",), ("São Paulo",)]
    # The override: reading Latin-1 bytes as Latin-1 on request gives the same text.
    ingest.load(tmp_ws, latin, "events", replace=True, encoding="latin-1", actor=Actor("tester", "editor"))
    assert tmp_ws.scalar("SELECT city FROM events WHERE user_id = 'u1'") == "Zürich"


def test_latin1_byte_beyond_the_sniffed_sample_is_detected(tmp_ws: Workspace, tmp_path: Path) -> None:
    lines = ["user_id,timestamp,event,note"] + [f"u{i},2026-09-01 10:00:00,view,plain" for i in range(12_000)]
    lines.append("u_last,2026-09-01 10:00:00,view,caf\xe9")
    path = tmp_path / "late.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    assert path.stat().st_size > 256 * 1024
    res = ingest.load(tmp_ws, path, "events", actor=Actor("tester", "editor"))
    assert res.report.file_format["encoding"] == "latin-1"
    assert tmp_ws.scalar("SELECT note FROM events WHERE user_id = 'u_last'") == "café"


def test_gzip_both_by_extension_and_by_content(tmp_ws: Workspace, tmp_path: Path) -> None:
    gz = tmp_path / "e.csv.gz"
    gz.write_bytes(gzip.compress(EVENTS_CSV.encode()))
    disguised = tmp_path / "e_gz.csv"
    disguised.write_bytes(gzip.compress(EVENTS_CSV.encode()))
    assert sniff(gz).compression == "gzip"
    ingest.load(tmp_ws, gz, "events", actor=Actor("tester", "editor"))
    ingest.load(tmp_ws, disguised, "events", actor=Actor("tester", "editor"))
    assert tmp_ws.scalar("SELECT count(*) FROM events") == 6


def test_quotes_newlines_sql_and_formulas_are_stored_as_text(tmp_ws: Workspace, tmp_path: Path) -> None:
    text = (
        "user_id,timestamp,event,comment\n"
        '"u,1",2026-09-01 10:00:00,"x\'); DROP TABLE events; --","line one\nline two, with comma"\n'
        'u2,2026-09-01 11:00:00,view,"=HYPERLINK(""http://evil"",""click"")"\n'
    )
    ingest.load(tmp_ws, write(tmp_path, "q.csv", text), "events", actor=Actor("tester", "editor"))
    rows = tmp_ws.query("SELECT user_id, event, comment FROM events ORDER BY user_id")
    assert rows == [
        ("u,1", "x'); DROP TABLE events; --", "line one\nline two, with comma"),
        ("u2", "view", '=HYPERLINK("http://evil","click")'),
    ]
    assert tmp_ws.has_table("events")


def test_parquet_with_typed_columns(tmp_ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT 'u' || i AS distinct_id, TIMESTAMP '2026-09-01' + INTERVAL (i) HOUR AS event_time,
            'view' AS event_name, i * 1.5 AS value, i AS depth FROM range(100) t(i)) TO '{path}' (FORMAT parquet)"""
    )
    con.close()
    res = ingest.load(tmp_ws, path, "events", actor=Actor("tester", "editor"))
    assert res.report.rows == 100
    assert tmp_ws.query("SELECT count(*), sum(value), max(timestamp), sum(depth) FROM events")[0][:2] == (
        100,
        7425.0,
    )
    assert tmp_ws.columns("events")["depth"] == "BIGINT"


def test_timestamps_iso_offsets_and_epochs_become_utc(tmp_ws: Workspace, tmp_path: Path) -> None:
    text = (
        "user_id,timestamp,event\n"
        "a,2026-09-01T10:00:00Z,view\nb,2026-09-01 12:00:00+02:00,view\nc,2026-09-01 05:00:00-0500,view\n"
        "d,1788256800,view\ne,1788256800000,view\nf,2026-09-01,view\n"
    )
    ingest.load(tmp_ws, write(tmp_path, "t.csv", text), "events", actor=Actor("tester", "editor"))
    got = dict(tmp_ws.query("SELECT user_id, strftime(timestamp, '%Y-%m-%d %H:%M') FROM events"))
    assert got == {
        "a": "2026-09-01 10:00", "b": "2026-09-01 10:00", "c": "2026-09-01 10:00",
        "d": "2026-09-01 10:00", "e": "2026-09-01 10:00", "f": "2026-09-01 00:00",
    }  # fmt: skip


def test_typed_read_applies_offsets_and_the_text_read_takes_over_on_a_bad_value(
    tmp_ws: Workspace, tmp_path: Path
) -> None:
    # Without epochs the CSV reader types the timestamps itself: a UTC offset must be applied, not dropped.
    rows = [f"u{i},2026-09-01 {10 + i % 3}:00:00+0{i % 3}:00,purchase,{i}.5\n" for i in range(3000)]
    text = "user_id,timestamp,event,value\n" + "".join(rows)
    ingest.load(tmp_ws, write(tmp_path, "offsets.csv", text), "events", actor=Actor("tester", "editor"))
    assert tmp_ws.query("SELECT DISTINCT strftime(timestamp, '%H:%M') FROM events") == [("10:00",)]
    assert tmp_ws.scalar("SELECT sum(value) FROM events") == pytest.approx(sum(i + 0.5 for i in range(3000)))
    # One bad timestamp and one bad number far down the file: the typed read fails, the text read counts
    # them, skips them on request, and progress never goes back.
    bad = [*rows[:2500], "x,not a date,purchase,1\n", "y,2026-09-01 10:00:00,purchase,1O\n", *rows[2500:]]
    path = write(tmp_path, "bad.csv", "user_id,timestamp,event,value\n" + "".join(bad))
    with pytest.raises(LiftboardError, match="1 timestamps in 'timestamp' that do not parse"):
        ingest.load(tmp_ws, path, "events", replace=True, actor=Actor("tester", "editor"))
    seen: list[float] = []
    res = ingest.load(
        tmp_ws,
        path,
        "events",
        replace=True,
        skip_bad_rows=True,
        progress=lambda f, _s: seen.append(f),
        actor=Actor("tester", "editor"),
    )
    assert res.report.skipped_rows == 2 and tmp_ws.scalar("SELECT count(*) FROM events") == 3000
    assert seen == sorted(seen) and seen[-1] == 1.0


def test_extra_columns_get_types_and_leading_zero_ids_stay_text(tmp_ws: Workspace, tmp_path: Path) -> None:
    text = "user_id,country,signup_date,age,score_x,zip\n1,FR,2026-08-01,31,0.5,01234\n2,DE,2026-08-02,45,1,99999\n"
    res = ingest.load(tmp_ws, write(tmp_path, "users.csv", text), "users", actor=Actor("tester", "editor"))
    cols = tmp_ws.columns("users")
    assert (cols["signup_date"], cols["age"], cols["score_x"], cols["zip"], cols["country"]) == (
        "DATE", "BIGINT", "DOUBLE", "VARCHAR", "VARCHAR",
    )  # fmt: skip
    assert res.report.extras["age"] == "BIGINT"
    assert tmp_ws.query("SELECT zip, age FROM users ORDER BY user_id") == [("01234", 31), ("99999", 45)]


# -- load modes, records, history -----------------------------------------------------------------------
def test_load_records_hash_mode_and_audit(tmp_ws: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path, "e.csv", EVENTS_CSV)
    res = ingest.load(tmp_ws, path, "events", actor=Actor("ana", "editor"))
    assert res.record["content_hash"] == hashlib.sha256(path.read_bytes()).hexdigest()
    row = tmp_ws.query("SELECT kind, file_name, rows, mode, loaded_by, mapping FROM lb_loads")[0]
    assert row[:5] == ("events", "e.csv", 3, "new", "ana")
    assert json.loads(row[5])["user_id"] == "userId"
    audit = tmp_ws.query("SELECT actor, action, target FROM lb_audit")
    assert audit == [("ana", "load:new", "events")]
    ingest.load(tmp_ws, path, "events", replace=True, actor=Actor("tester", "editor"))
    assert tmp_ws.scalar("SELECT count(*) FROM events") == 3
    assert [r[0] for r in tmp_ws.query("SELECT mode FROM lb_loads ORDER BY load_id")] == ["new", "replace"]


def test_append_evolves_the_schema(loaded_ws: Workspace, tmp_path: Path) -> None:
    text = "userId,event_time,event_name,device\nu9,2026-09-03 10:00:00,view,ios\n"
    res = ingest.load(loaded_ws, write(tmp_path, "more.csv", text), "events", actor=Actor("tester", "editor"))
    assert res.report.mode == "append"
    assert loaded_ws.scalar("SELECT count(*) FROM events") == 4
    assert loaded_ws.query("SELECT user_id, device, plan FROM events WHERE device IS NOT NULL") == [
        ("u9", "ios", None)
    ]


def test_all_duplicates_and_unknown_events_are_warnings(loaded_ws: Workspace, tmp_path: Path) -> None:
    report = ingest.validate(
        loaded_ws, write(tmp_path, "again.csv", EVENTS_CSV), "events", actor=Actor("tester", "editor")
    )
    assert report.ok and report.duplicates_of_loaded == 3
    assert "every row" in report.warnings[0].message
    text = "userId,event_time,event_name\nu1,2026-09-05,view\nu1,2026-09-05,view\nu2,2026-09-05,refund\n"
    report = ingest.validate(
        loaded_ws, write(tmp_path, "new.csv", text), "events", actor=Actor("tester", "editor")
    )
    codes = {i.code: i.count for i in report.warnings}
    assert codes == {"duplicates_in_file": 1, "unknown_events": 1}
    assert report.issues[-1].examples == ("refund",)


def test_multi_variant_users_and_events_outside_the_period(tmp_ws: Workspace, tmp_path: Path) -> None:
    text = (
        "user_id,experiment,bucket,timestamp\n"
        "a,exp,control,2026-09-08\nb,exp,ai,2026-09-09\na,exp,ai,2026-09-10\nc,exp,ai,2026-09-10\n"
    )
    res = ingest.load(tmp_ws, write(tmp_path, "as.csv", text), "assignments", actor=Actor("tester", "editor"))
    assert {i.code: i.count for i in res.report.warnings} == {"multi_variant_users": 1}
    ev = "user_id,timestamp,event\na,2026-09-01,view\na,2026-09-12,view\nb,2026-09-17 00:00:00,view\nb,2026-09-30,view\n"
    report = ingest.validate(tmp_ws, write(tmp_path, "ev.csv", ev), "events", actor=Actor("tester", "editor"))
    # period: first exposure 09-08 to last exposure 09-10 + 7 days (09-17, exclusive)
    assert {i.code: i.count for i in report.warnings} == {"outside_experiment_period": 3}


def test_validate_writes_nothing(loaded_ws: Workspace, tmp_path: Path) -> None:
    before = snapshot(loaded_ws)
    tables = loaded_ws.query("SELECT table_name FROM information_schema.tables ORDER BY 1")
    report = ingest.validate(
        loaded_ws, write(tmp_path, "u.csv", "user_id\na\nb\n"), "users", actor=Actor("tester", "editor")
    )
    assert report.ok and report.rows == 2 and report.users == 2
    assert snapshot(loaded_ws) == before
    assert loaded_ws.query("SELECT table_name FROM information_schema.tables ORDER BY 1") == tables


def test_feedback_ids_are_generated_deterministically(tmp_path: Path) -> None:
    text = "prediction_id,signal,comment\np1,accept,\np2,reject,meh\np3,correct,x\n"
    path = write(tmp_path, "fb.csv", text)
    ids = []
    for i in range(2):
        ws = open_workspace(tmp_path / f"w{i}.duckdb")
        res = ingest.load(ws, path, "feedback", actor=Actor("tester", "editor"))
        ids.append(ws.query("SELECT prediction_id, feedback_id FROM feedback ORDER BY prediction_id"))
        assert all(fid.startswith(f"{res.load_id}-") for _, fid in ids[-1])
        ws.close()
    assert ids[0] == ids[1]
    assert len({fid for _, fid in ids[0]}) == 3


def test_delete_dataset_is_audited(loaded_ws: Workspace) -> None:
    assert ingest.delete_dataset(loaded_ws, "events", actor=Actor("bob", "admin")) == 3
    assert not loaded_ws.has_table("events")
    assert loaded_ws.query("SELECT mode, rows FROM lb_loads ORDER BY load_id DESC LIMIT 1") == [("delete", 3)]
    assert loaded_ws.query("SELECT actor, action FROM lb_audit ORDER BY audit_id DESC LIMIT 1") == [
        ("bob", "delete")
    ]
    with pytest.raises(LiftboardError, match="no events table"):
        ingest.delete_dataset(loaded_ws, "events", actor=Actor("tester", "admin"))


def test_progress_is_reported_in_order(tmp_ws: Workspace, tmp_path: Path) -> None:
    seen: list[tuple[float, str]] = []
    ingest.load(
        tmp_ws,
        write(tmp_path, "e.csv", EVENTS_CSV),
        "events",
        progress=lambda f, s: seen.append((f, s)),
        actor=Actor("tester", "editor"),
    )
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert seen[-1][1] == "Loaded"


def test_spool_copies_in_chunks(tmp_path: Path) -> None:
    import io

    data = os.urandom(3 * 2**20)
    out = ingest.spool(io.BytesIO(data), "../../evil name.csv", tmp_path / "spool")
    assert out.parent == tmp_path / "spool" and out.name == "evil_name.csv"
    assert out.read_bytes() == data


def test_approximate_counts_above_the_exact_limit(tmp_ws: Workspace) -> None:
    cur = tmp_ws.cursor()
    cur.execute(
        "CREATE TABLE st AS SELECT 'u' || (i % 5000) AS user_id, TIMESTAMP '2026-09-01' AS timestamp, "
        "'view' AS event, CAST(NULL AS DOUBLE) AS value FROM range(20000) t(i)"
    )
    from analytics.ingest import Column

    cols = [
        Column("user_id", "VARCHAR", True),
        Column("timestamp", "TIMESTAMP", True),
        Column("event", "VARCHAR", True),
        Column("value", "DOUBLE"),
    ]
    kwargs = dict(
        kind="events",
        mode="new",
        tables=frozenset(),
        columns=cols,
        mapping={},
        file_name="f",
        skip_bad_rows=False,
        file_format={},
    )
    exact, _ = validation_report(cur, "st", **kwargs)
    approx, _ = validation_report(cur, "st", exact_limit=1000, **kwargs)
    assert exact.users == 5000 and not exact.approximate
    assert approx.approximate and abs(approx.users - 5000) < 250
    # every row repeats 3 times: the screen sees it and the exact count follows
    assert exact.duplicates_in_file == approx.duplicates_in_file == 15000
    cur.close()


def test_large_files_estimate_users_from_a_hash_bucket_and_catch_repeats(
    tmp_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import analytics.ingest.checks as validate
    from analytics.ingest import Column

    cur = tmp_ws.cursor()
    # 40,000 users, 200,000 distinct rows; then 350 of those rows repeated once (about 22 in the bucket).
    cur.execute(
        "CREATE TABLE st AS SELECT 'u' || (i % 40000) AS user_id, TIMESTAMP '2026-09-01' + to_seconds(i) "
        "AS timestamp, 'view' AS event FROM range(200000) t(i)"
    )
    cur.execute(
        "CREATE TABLE st2 AS SELECT * FROM st UNION ALL SELECT * FROM st WHERE epoch(timestamp)::BIGINT % 571 = 3"
    )
    repeats = int(cur.execute("SELECT count(*) - 200000 FROM st2").fetchone()[0])
    cols = [
        Column("user_id", "VARCHAR", True),
        Column("timestamp", "TIMESTAMP", True),
        Column("event", "VARCHAR", True),
    ]
    kwargs = dict(kind="events", mode="new", tables=frozenset(), columns=cols, mapping={}, file_name="f",
                  skip_bad_rows=False, file_format={}, exact_limit=1000)  # fmt: skip
    monkeypatch.setattr(validate, "MIN_SAMPLED_USERS", 500)  # ~2,500 users fall in the bucket
    clean, _ = validation_report(cur, "st", **kwargs)
    assert clean.approximate and clean.users % validate.USER_BUCKETS == 0
    assert abs(clean.users / 40000 - 1) < 4 * (15 / 40000) ** 0.5  # within 4 standard errors
    assert clean.duplicates_in_file == 0
    dup, _ = validation_report(cur, "st2", **kwargs)
    assert repeats == 350 and dup.duplicates_in_file == repeats  # seen in the bucket, then counted exactly
    monkeypatch.setattr(validate, "MIN_SAMPLED_USERS", 5000)  # too thin a sample: users counted exactly
    thin, _ = validation_report(cur, "st", **kwargs)
    assert thin.users == 40000
    cur.close()


# -- bad input: one sentence, nothing changed ---------------------------------------------------------
def _refused(ws: Workspace, path: Path | str, kind: str = "events", match: str = "", **kw) -> str:
    before = snapshot(ws)
    with pytest.raises(LiftboardError) as err:
        ingest.load(ws, path, kind, **kw, actor=Actor("tester", "editor"))
    msg = str(err.value)
    assert "\n" not in msg and "Traceback" not in msg
    assert match.lower() in msg.lower(), msg
    assert snapshot(ws) == before
    tables = [r[0] for r in ws.query("SELECT table_name FROM information_schema.tables")]
    assert not any(t.startswith("lb_stage") for t in tables)
    return msg


def test_empty_file(loaded_ws: Workspace, tmp_path: Path) -> None:
    _refused(loaded_ws, write(tmp_path, "empty.csv", ""), match="empty.csv is empty")
    _refused(loaded_ws, write(tmp_path, "blank.csv", "\n\n  \n"), match="empty")


def test_header_without_rows(loaded_ws: Workspace, tmp_path: Path) -> None:
    _refused(loaded_ws, write(tmp_path, "h.csv", "user_id,timestamp,event\n"), match="header but no rows")


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("random.csv", bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8)), "binary"),
        ("image.csv", b"\x89PNG\r\n\x1a\n" + bytes(200), "PNG image"),
        ("gif.csv", b"GIF89a" + bytes(100), "GIF image"),
    ],
)
def test_non_csv_renamed_csv(
    loaded_ws: Workspace, tmp_path: Path, name: str, content: bytes, match: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    msg = _refused(loaded_ws, path, match=match)
    assert name in msg


def test_zip_renamed_csv(loaded_ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "archive.csv"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("e.csv", EVENTS_CSV)
    _refused(loaded_ws, path, match="zip archive")


def test_duplicate_and_blank_column_names(loaded_ws: Workspace, tmp_path: Path) -> None:
    _refused(
        loaded_ws,
        write(tmp_path, "d.csv", "user_id,timestamp,event,User_ID\na,2026-09-01,v,b\n"),
        match="two columns named",
    )
    _refused(
        loaded_ws,
        write(tmp_path, "b.csv", "user_id,,event,timestamp\na,x,v,2026-09-01\n"),
        match="blank column name",
    )


def test_required_column_missing_or_unmapped(loaded_ws: Workspace, tmp_path: Path) -> None:
    msg = _refused(
        loaded_ws, write(tmp_path, "m.csv", "user_id,event\na,view\n"), match="no column mapped to timestamp"
    )
    assert "--map timestamp=" in msg
    path = write(tmp_path, "ok.csv", EVENTS_CSV)
    _refused(loaded_ws, path, mapping={"event": None}, match="no column mapped to event")
    _refused(loaded_ws, path, mapping={"event": "nope"}, match="no column 'nope'")
    _refused(loaded_ws, path, mapping={"colour": "plan"}, match="not a column of events")


def test_unparseable_timestamps_all_and_some(loaded_ws: Workspace, tmp_path: Path) -> None:
    all_bad = "user_id,timestamp,event\na,yesterday,view\nb,31/31/2026,view\n"
    msg = _refused(loaded_ws, write(tmp_path, "all.csv", all_bad), match="2 timestamps")
    assert "'yesterday'" in msg
    some = "user_id,timestamp,event\na,2026-09-01,view\nb,not a date,view\nc,2026-09-02,view\n"
    path = write(tmp_path, "some.csv", some)
    _refused(loaded_ws, path, match="1 timestamps in 'timestamp' that do not parse")
    report = ingest.validate(loaded_ws, path, "events", actor=Actor("tester", "editor"))
    assert not report.ok and report.errors[0].examples == ("not a date",)
    res = ingest.load(loaded_ws, path, "events", skip_bad_rows=True, actor=Actor("tester", "editor"))
    assert res.report.skipped_rows == 1 and res.record["rows"] == 2
    assert loaded_ws.scalar("SELECT count(*) FROM events WHERE user_id IN ('a', 'b', 'c')") == 2
    # skipping cannot turn an all-bad file into an empty load
    _refused(loaded_ws, write(tmp_path, "all2.csv", all_bad), skip_bad_rows=True, match="do not parse")


def test_text_in_numeric_and_thousands_separators(loaded_ws: Workspace, tmp_path: Path) -> None:
    text = "user_id,timestamp,event,value\na,2026-09-01,purchase,twelve\nb,2026-09-01,purchase,3\n"
    _refused(loaded_ws, write(tmp_path, "t.csv", text), match="not numbers (e.g. 'twelve')")
    text = 'user_id,timestamp,event,value\na,2026-09-01,purchase,"1,234"\nb,2026-09-01,purchase,"12,500.5"\n'
    _refused(loaded_ws, write(tmp_path, "k.csv", text), match="thousands separators")


def test_blank_or_null_ids(loaded_ws: Workspace, tmp_path: Path) -> None:
    text = 'user_id,timestamp,event\n,2026-09-01,view\n"  ",2026-09-01,view\nc,2026-09-01,view\n'
    _refused(loaded_ws, write(tmp_path, "ids.csv", text), match="2 rows with a blank or null user_id")
    # Unicode spaces only (no-break, ideographic) are blank too; a leading one before text is not.
    text = "user_id,timestamp,event\n\u00a0,2026-09-01,view\n\u3000\u00a0,2026-09-01,view\n\u00a0c,2026-09-01,view\n"
    _refused(loaded_ws, write(tmp_path, "nbsp.csv", text), match="2 rows with a blank or null user_id")


def test_numbers_padded_with_spaces_of_any_kind_read_as_numbers(tmp_ws: Workspace, tmp_path: Path) -> None:
    text = 'user_id,timestamp,event,value\na,2026-09-01,purchase, 1.5\nb,2026-09-01,purchase,"\t2 "\nc,2026-09-01,purchase,\u00a03\n'
    ingest.load(tmp_ws, write(tmp_path, "pad.csv", text), "events", actor=Actor("tester", "editor"))
    assert tmp_ws.query("SELECT value FROM events ORDER BY user_id") == [(1.5,), (2.0,), (3.0,)]


def test_paths_that_are_missing_or_a_directory(loaded_ws: Workspace, tmp_path: Path) -> None:
    _refused(loaded_ws, tmp_path / "nope.csv", match="does not exist")
    _refused(loaded_ws, tmp_path, match="is a directory")


def test_size_limit_and_gzip_expansion_guard(loaded_ws: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path, "big.csv", EVENTS_CSV * 10)
    _refused(loaded_ws, path, max_bytes=100, match="above the 0 MB limit")
    bomb = tmp_path / "bomb.csv.gz"
    bomb.write_bytes(gzip.compress(b"user_id,timestamp,event\n" + b"a,2026-09-01,view\n" * 200_000))
    assert bomb.stat().st_size < 100_000
    _refused(loaded_ws, bomb, max_bytes=1_000_000, match="expands to more than")


def test_ragged_line_names_the_line(loaded_ws: Workspace, tmp_path: Path) -> None:
    text = "user_id,timestamp,event\na,2026-09-01,view\nb,2026-09-01,view,extra,fields\n"
    _refused(loaded_ws, write(tmp_path, "r.csv", text), match="r.csv cannot be read")


def test_kill_mid_load_leaves_the_old_data(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    ws = open_workspace(db)
    ingest.load(ws, write(tmp_path, "seed.csv", EVENTS_CSV), "events", actor=Actor("tester", "editor"))
    big = tmp_path / "big.csv"
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT 'u' || (i % 50000) AS user_id, TIMESTAMP '2026-09-01' + INTERVAL (i % 86400) SECOND AS ts,
            'view' AS event FROM range(4000000) t(i)) TO '{big}' (HEADER)"""
    )
    con.close()
    ws.close()
    script = (
        "import sys; from analytics.workspace import open_workspace; from analytics import ingest\n"
        "from analytics.workspace import local_actor\n"
        "ws = open_workspace(sys.argv[1])\n"
        "def say(f, s):\n"
        "    if s == 'Reading the file': print('reading', flush=True)\n"
        "ingest.load(ws, sys.argv[2], 'events', replace=True, progress=say, actor=local_actor('kill-test'))\n"
        "print('done', flush=True)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(db), str(big)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "reading"
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    ws = open_workspace(db)
    assert ws.scalar("SELECT count(*) FROM events") == 3
    assert ws.query("SELECT mode FROM lb_loads") == [("new",)]
    assert ws.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'lb_stage%'") == 0
    ws.close()


# -- the CLI ---------------------------------------------------------------------------------------------
def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analytics", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_cli_load_json_and_errors(tmp_path: Path) -> None:
    db = str(tmp_path / "w.duckdb")
    path = write(tmp_path, "e.csv", "distinct_id;when;what\nu1;2026-09-01;view\nu2;2026-09-02;view\n")
    out = _cli("load", str(path), "--kind", "events", "--map", "event=what", "--db", db, "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["report"]["rows"] == 2 and doc["report"]["mapping"]["event"] == "what"
    assert (
        doc["record"]["rows"] == 2
        and doc["record"]["content_hash"] == hashlib.sha256(path.read_bytes()).hexdigest()
    )
    bad = _cli("load", str(tmp_path / "missing.csv"), "--kind", "events", "--db", db)
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and bad.stderr.startswith("error: The file")
    tables = _cli("tables", "--db", db, "--json")
    assert json.loads(tables.stdout)["tables"][0]["rows"] == 2


def test_big_endian_utf16_is_transcoded(tmp_ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "be.csv"
    path.write_bytes(b"\xfe\xff" + "user_id\ttimestamp\tevent\nü1\t2026-09-01\tvü\n".encode("utf-16-be"))
    assert sniff(path).encoding == "utf-16-be"
    assert list(ingest.preview(path, "events", actor=Actor("tester", "editor")).rows["event"]) == ["vü"]
    res = ingest.load(tmp_ws, path, "events", actor=Actor("tester", "editor"))
    assert res.report.file_format["encoding"] == "utf-16-be"
    assert tmp_ws.query("SELECT user_id, event FROM events") == [("ü1", "vü")]


def test_extra_type_from_a_sample_is_verified_on_every_row(tmp_ws: Workspace, tmp_path: Path) -> None:
    from analytics.ingest import TYPE_SAMPLE

    lines = ["user_id,depth,ratio"] + [f"u{i},{i % 7},{i / 4}" for i in range(TYPE_SAMPLE + 10)]
    lines.append("u_last,deep,0.5")  # text after the sampled rows: depth must stay text
    path = tmp_path / "users.csv"
    path.write_text("\n".join(lines) + "\n")
    res = ingest.load(tmp_ws, path, "users", actor=Actor("tester", "editor"))
    assert res.report.extras == {"depth": "VARCHAR", "ratio": "DOUBLE"}
    assert tmp_ws.query("SELECT depth, ratio FROM users WHERE user_id IN ('u5', 'u_last') ORDER BY 1") == [
        ("5", 1.25),
        ("deep", 0.5),
    ]


def test_a_text_column_of_timestamps_is_a_timestamp_not_a_date(tmp_ws: Workspace, tmp_path: Path) -> None:
    """DuckDB reads '2026-09-01 10:00:00' as the DATE 2026-09-01: a property of such values must keep its time."""
    text = "user_id,timestamp,event,seen_at,day\nu1,2026-09-01,view,2026-09-01 10:00:00,2026-09-01\n"
    ingest.load(tmp_ws, write(tmp_path, "t.csv", text), "events", actor=Actor("tester", "editor"))
    cols = tmp_ws.columns("events")
    assert cols["seen_at"] == "TIMESTAMP" and cols["day"] == "DATE"
    assert str(tmp_ws.scalar("SELECT seen_at FROM events")) == "2026-09-01 10:00:00"

"""Tool exports (PostHog, Amplitude, Mixpanel, Segment, GA4): one command turns each into events + assignments.

Each export is written in the tool's documented shape by tests/support/exports.py; the numbers `analyze` gives
are checked against the same numbers computed from the generated rows with pandas, to 1e-9.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from analytics.errors import LiftboardError
from analytics.experiments import analyze
from analytics.ingest.sources import load_export, suggest, validate_export
from analytics.workspace import Actor, Workspace, open_workspace
from tests.support import exports as X
from tests.support.export_files import write_export
from tests.support.files import snapshot, write

ROOT = Path(__file__).resolve().parents[2]
EDITOR = Actor("tester", "editor")
METRICS = ("conversion:{buy}:7d", "mean:{buy}:7d")
#: One flavour per tool goes through the real CLI; the others through the engine's load function.
CLI_FLAVOURS = [
    ("posthog", "csv"),
    ("amplitude", "jsonl.gz"),
    ("mixpanel", "json"),
    ("segment", "csv"),
    ("ga4", "parquet"),
]
ENGINE_FLAVOURS = [("posthog", "jsonl"), ("posthog", "parquet"), ("amplitude", "zip"), ("mixpanel", "ndjson"),
                   ("segment", "parquet"), ("ga4", "jsonl.gz")]  # fmt: skip


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analytics", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def _check(tool: str, rows, doc: dict) -> None:
    """analyze's per-arm users, conversion and revenue per user equal the pandas numbers to 1e-9."""
    want = X.expected(tool, rows)
    conv, rev = doc["metrics"]
    assert {v["name"] for v in conv["variants"]} == set(want)
    for m, key in ((conv, "conversion"), (rev, "revenue")):
        for v in m["variants"]:
            assert v["users"] == want[v["name"]]["users"], (m["spec"], v)
            assert v["mean"] == pytest.approx(want[v["name"]][key], abs=1e-9, rel=0), (m["spec"], v)
    assert doc["multi_variant_users"] == X.multi_variant_users(tool, rows)


@pytest.mark.parametrize(("tool", "fmt"), CLI_FLAVOURS)
def test_cli_loads_each_tool_and_analyze_matches_pandas(tool: str, fmt: str, tmp_path: Path) -> None:
    rows = X.simulate(tool)
    paths = write_export(tool, rows, tmp_path / "export", fmt)
    db = str(tmp_path / "ws.duckdb")
    proc = _cli("load", *map(str, paths), "--from", tool, "--db", db, "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["source"] == tool
    assert {e["name"] for e in doc["experiments"]} == {X.MAIN, X.SECOND}
    buy = X.NAMES[tool]["purchase"]
    metrics = [a for m in METRICS for a in ("--metric", m.format(buy=buy))]
    proc = _cli("analyze", "--experiment", X.MAIN, *metrics, "--db", db, "--json")
    assert proc.returncode == 0, proc.stderr
    _check(tool, rows, json.loads(proc.stdout))


@pytest.mark.parametrize(("tool", "fmt"), ENGINE_FLAVOURS)
def test_every_export_flavour_loads_exactly(tool: str, fmt: str, tmp_ws: Workspace, tmp_path: Path) -> None:
    rows = X.simulate(tool, users=1500, seed=5)
    paths = write_export(tool, rows, tmp_path / "export", fmt)
    load_export(tmp_ws, paths, tool, actor=EDITOR)
    buy = X.NAMES[tool]["purchase"]
    result = analyze(tmp_ws, X.MAIN, [m.format(buy=buy) for m in METRICS])
    _check(tool, rows, result.to_dict())


def test_raw_properties_stay_out_and_flattened_ones_are_typed(tmp_ws: Workspace, tmp_path: Path) -> None:
    rows = X.simulate("amplitude", users=800, seed=3)
    load_export(tmp_ws, write_export("amplitude", rows, tmp_path, "jsonl.gz"), "amplitude", actor=EDITOR)
    cols = tmp_ws.columns("events")
    for raw in ("event_properties", "user_properties", "data", "groups", "group_properties"):
        assert raw not in cols  # containers are flattened, never stored whole
    assert cols["user_id"] == "VARCHAR" and cols["timestamp"] == "TIMESTAMP" and cols["value"] == "DOUBLE"
    assert cols["plan"] == "VARCHAR" and cols["page"] == "VARCHAR" and cols["country"] == "VARCHAR"
    assert (
        cols["event_id"] == "BIGINT" and cols["server_upload_time"] == "TIMESTAMP"
    )  # not a DATE: no time lost
    # revenue and $revenue (numbers and numeric strings) became the value; they are not kept twice
    assert "revenue" not in cols and "$revenue" not in cols
    log = X.truth("amplitude", rows)
    want = log.loc[log["kind"] == "purchase", "value"].sum()
    assert tmp_ws.scalar("SELECT sum(value) FROM events WHERE event = 'Purchase'") == pytest.approx(
        want, abs=1e-6
    )
    # a flattened property is a segment
    result = analyze(tmp_ws, X.MAIN, ["conversion:Purchase:7d"], segment="plan")
    assert {s.value for s in result.segments} == set(X.PLANS)


def test_assignments_are_first_exposures_per_user_and_variant(tmp_ws: Workspace, tmp_path: Path) -> None:
    rows = X.simulate("posthog", users=800, seed=4)
    out = load_export(tmp_ws, write_export("posthog", rows, tmp_path, "csv"), "posthog", actor=EDITOR)
    log = X.truth("posthog", rows)
    exp = log[log["kind"] == "exposure"]
    first = exp.groupby(["uid", "experiment", "variant"])["ts"].min().reset_index()
    got = tmp_ws.query_df("SELECT user_id, experiment, variant, timestamp FROM assignments")
    assert len(got) == len(first)  # repeated exposures collapse; PostHog's `false` responses are no exposure
    merged = first.merge(
        got, left_on=["uid", "experiment", "variant"], right_on=["user_id", "experiment", "variant"]
    )
    assert len(merged) == len(first) and (merged["ts"] == merged["timestamp"]).all()
    main = next(e for e in out.experiments if e.name == X.MAIN)
    assert main.multi_variant_users == X.multi_variant_users("posthog", rows)
    assert out.report.flag_off_exposures == int((log["kind"] == "flag_off").sum())


def test_experiment_flag_keeps_one_experiment(tmp_ws: Workspace, tmp_path: Path) -> None:
    rows = X.simulate("mixpanel", users=600, seed=6)
    paths = write_export("mixpanel", rows, tmp_path, "json")
    with pytest.raises(LiftboardError, match=r"no experiment 'nope'.*ai-recs, checkout-copy"):
        load_export(tmp_ws, paths, "mixpanel", experiment="nope", actor=EDITOR)
    assert not tmp_ws.data_tables()
    load_export(tmp_ws, paths, "mixpanel", experiment=X.SECOND, actor=EDITOR)
    assert tmp_ws.query("SELECT DISTINCT experiment FROM assignments") == [(X.SECOND,)]
    assert tmp_ws.scalar("SELECT count(*) FROM events") == int((rows["kind"] != "flag_off").sum())


@pytest.mark.parametrize(
    ("made_by", "claimed", "fmt"),
    [("amplitude", "posthog", "jsonl.gz"), ("posthog", "mixpanel", "csv"), ("mixpanel", "ga4", "json"),
     ("ga4", "segment", "parquet"), ("segment", "amplitude", "parquet")],
)  # fmt: skip
def test_a_file_from_another_tool_is_refused_in_one_sentence(
    made_by: str, claimed: str, fmt: str, tmp_path: Path
) -> None:
    paths = write_export(made_by, X.simulate(made_by, users=100), tmp_path / "export", fmt)
    db = tmp_path / "ws.duckdb"
    open_workspace(db).close()
    proc = _cli("load", str(paths[0]), "--from", claimed, "--db", str(db))
    assert proc.returncode == 2
    err = proc.stderr.strip()
    assert "\n" not in err and "Traceback" not in err
    assert paths[0].name in err and X.LABELS[claimed] in err, err
    ws = open_workspace(db, read_only=True)
    try:
        assert not ws.data_tables() and ws.scalar("SELECT count(*) FROM lb_loads") == 0
    finally:
        ws.close()


def test_several_files_are_one_load_with_each_file_hash(tmp_ws: Workspace, tmp_path: Path) -> None:
    rows = X.simulate("segment", users=500, seed=8)
    paths = write_export("segment", rows, tmp_path, "csv")
    out = load_export(tmp_ws, paths, "segment", actor=EDITOR)
    recs = tmp_ws.query(
        "SELECT kind, file_name, content_hash, rows FROM lb_loads WHERE kind = 'events' ORDER BY file_name"
    )
    assert [(r[1], r[2]) for r in recs] == [
        (p.name, hashlib.sha256(p.read_bytes()).hexdigest()) for p in sorted(paths)
    ]
    assert sum(r[3] for r in recs) == tmp_ws.scalar("SELECT count(*) FROM events")
    # tracks repeats every track call of the event tables under the same id: each event once
    assert tmp_ws.scalar("SELECT count(*) FROM events") == int((rows["kind"] != "flag_off").sum())
    assert tmp_ws.scalar("SELECT count(*) FROM lb_loads WHERE kind = 'assignments'") == 1
    assert {r["load_id"] for r in out.records} == {r[0] for r in tmp_ws.query("SELECT load_id FROM lb_loads")}


def test_one_bad_file_writes_nothing(tmp_ws: Workspace, tmp_path: Path) -> None:
    paths = write_export("segment", X.simulate("segment", users=200), tmp_path, "csv")
    stranger = write(tmp_path, "notes.csv", "a,b\n1,2\n")
    before = snapshot(tmp_ws)
    with pytest.raises(LiftboardError, match="notes.csv"):
        load_export(tmp_ws, [*paths, stranger], "segment", actor=EDITOR)
    assert snapshot(tmp_ws) == before


def test_bad_rows_are_counted_shown_and_skippable(tmp_ws: Workspace, tmp_path: Path) -> None:
    good = {"event": "Purchase", "properties": {"time": 1772000000, "distinct_id": "u1", "revenue": 5}}
    lines = [
        json.dumps(good | {"properties": good["properties"] | {"distinct_id": f"u{i}"}}) for i in range(20)
    ]
    lines[3] = json.dumps({"event": "Purchase", "properties": {"time": "yesterday", "distinct_id": "u3"}})
    lines[4] = json.dumps({"event": "Purchase", "properties": {"time": 1772000000, "distinct_id": ""}})
    lines[5] = json.dumps(
        {"event": "Purchase", "properties": {"time": 1772000000, "distinct_id": "u5", "revenue": "ten"}}
    )
    path = write(tmp_path, "mp.json", "\n".join(lines) + "\n")
    report = validate_export(tmp_ws, [path], "mixpanel", actor=EDITOR)
    codes = {i.code: i for i in report.events.errors}
    assert codes["bad_timestamp"].count == 1 and "'yesterday'" in codes["bad_timestamp"].message
    assert codes["blank_required"].count == 1
    assert codes["text_in_numeric"].count == 1 and "'ten'" in codes["text_in_numeric"].message
    with pytest.raises(LiftboardError, match="mp.json"):
        load_export(tmp_ws, [path], "mixpanel", actor=EDITOR)
    assert not tmp_ws.data_tables()
    load_export(tmp_ws, [path], "mixpanel", skip_bad_rows=True, actor=EDITOR)
    assert tmp_ws.scalar("SELECT count(*) FROM events") == 17


def test_a_line_that_is_not_json_is_counted(tmp_ws: Workspace, tmp_path: Path) -> None:
    ok = json.dumps({"event": "view", "properties": {"time": 1772000000, "distinct_id": "u1"}})
    path = tmp_path / "cut.json.gz"
    path.write_bytes(gzip.compress(f'{ok}\n{ok}\n{{"event": "view", "prop\n{ok}\n'.encode()))
    with pytest.raises(
        LiftboardError,
        match=r"cut.json.gz has 1 lines or property cells that are not valid JSON \(e.g. '\{\"event\": \"view\", \"prop'\)",
    ):
        load_export(tmp_ws, [path], "mixpanel", actor=EDITOR)
    out = load_export(tmp_ws, [path], "mixpanel", skip_bad_rows=True, actor=EDITOR)
    assert tmp_ws.scalar("SELECT count(*) FROM events") == 3
    assert out.report.events.skipped_rows == 1


def test_timestamps_are_utc_whatever_the_spelling(tmp_ws: Workspace, tmp_path: Path) -> None:
    props = json.dumps({"$browser": "Chrome"})
    csv = (
        "uuid,event,properties,timestamp,distinct_id,person_id\n"
        f'1,view,"{props.replace(chr(34), chr(34) * 2)}",2026-03-02T10:00:00.5Z,a,\n'
        f'2,view,"{props.replace(chr(34), chr(34) * 2)}",2026-03-02T12:00:00+02:00,b,\n'
        f'3,view,"{props.replace(chr(34), chr(34) * 2)}",2026-03-02 10:00:00,c,\n'
    )
    load_export(tmp_ws, [write(tmp_path, "ph.csv", csv)], "posthog", actor=EDITOR)
    got = dict(tmp_ws.query("SELECT user_id, strftime(timestamp, '%Y-%m-%d %H:%M:%S.%f') FROM events"))
    assert got == {
        "a": "2026-03-02 10:00:00.500000",
        "b": "2026-03-02 10:00:00.000000",
        "c": "2026-03-02 10:00:00.000000",
    }


@pytest.mark.parametrize(("tool", "fmt"), CLI_FLAVOURS + ENGINE_FLAVOURS)
def test_the_source_is_suggested_from_the_columns(tool: str, fmt: str, tmp_path: Path) -> None:
    paths = write_export(tool, X.simulate(tool, users=50), tmp_path, fmt)
    assert suggest(paths[0]) == tool


def test_a_plain_file_suggests_no_source(tmp_path: Path) -> None:
    assert suggest(write(tmp_path, "e.csv", "user_id,timestamp,event\nu1,2026-01-01,view\n")) is None


def test_a_second_export_appends(tmp_ws: Workspace, tmp_path: Path) -> None:
    rows = X.simulate("amplitude", users=600, seed=9)
    mid = rows["ts"].min() + (rows["ts"].max() - rows["ts"].min()) / 2
    day1, day2 = rows[rows["ts"] < mid], rows[rows["ts"] >= mid]
    load_export(
        tmp_ws, write_export("amplitude", day1, tmp_path / "d1", "jsonl.gz"), "amplitude", actor=EDITOR
    )
    load_export(
        tmp_ws, write_export("amplitude", day2, tmp_path / "d2", "jsonl.gz"), "amplitude", actor=EDITOR
    )
    result = analyze(tmp_ws, X.MAIN, ["conversion:Purchase:7d", "mean:Purchase:7d"])
    _check("amplitude", rows, result.to_dict())


def test_json_or_nested_parquet_loaded_as_a_table_points_to_from(tmp_path: Path) -> None:
    db = str(tmp_path / "ws.duckdb")
    (mixpanel,) = write_export("mixpanel", X.simulate("mixpanel", users=30), tmp_path / "mp", "json")
    proc = _cli("load", str(mixpanel), "--kind", "events", "--db", db)
    assert proc.returncode == 2 and "is JSON, not a table" in proc.stderr and "--from" in proc.stderr
    ga4 = write_export("ga4", X.simulate("ga4", users=30), tmp_path / "ga4", "parquet")
    proc = _cli("load", str(ga4[0]), "--kind", "events", "--db", db)
    assert proc.returncode == 2 and "--from ga4" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_segment_experiment_kept_by_its_id_is_shown_by_its_name(tmp_ws: Workspace, tmp_path: Path) -> None:
    rows = X.simulate("segment", users=400, seed=12)
    paths = write_export("segment", rows, tmp_path, "parquet")
    out = load_export(tmp_ws, paths, "segment", experiment="exp_41", actor=EDITOR)  # Segment's experiment_id
    assert [e.name for e in out.experiments] == [X.MAIN]  # experiment_name, shown for the id
    assert {v for v, _ in out.experiments[0].variants} == {"control", "treatment"}  # variation_name, not 0/1
    assert tmp_ws.query("SELECT DISTINCT experiment FROM assignments") == [(X.MAIN,)]


def test_dry_run_prints_the_report_and_writes_nothing(tmp_path: Path) -> None:
    paths = write_export("amplitude", X.simulate("amplitude", users=200), tmp_path / "export", "zip")
    db = tmp_path / "ws.duckdb"
    proc = _cli("load", str(paths[0]), "--from", "amplitude", "--dry-run", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    assert "amplitude-export.zip: " in proc.stdout and "Amplitude export: " in proc.stdout
    assert "experiment ai-recs: control" in proc.stdout and "Valid: nothing written (dry run)." in proc.stdout
    assert not db.exists()  # not even a new workspace file
    open_workspace(db).close()
    proc = _cli("load", str(paths[0]), "--from", "amplitude", "--dry-run", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    ws = open_workspace(db, read_only=True)
    try:
        assert not ws.data_tables() and ws.scalar("SELECT count(*) FROM lb_loads") == 0
    finally:
        ws.close()
    proc = _cli("load", str(paths[0]), "--from", "amplitude", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    assert re.search(
        r"Loaded [\d,]+ events and [\d,]+ assignments from 1 file \(load \d+-\d+\)\.", proc.stdout
    ), proc.stdout


def _amplitude_lines(
    path: Path, n: int, *, start: int = 0, text_after: int | None = None, more: dict[int, dict] | None = None
) -> Path:
    """n Amplitude events; from line text_after on, session_id is text (beyond DuckDB's detection sample);
    more: line -> extra event properties of that line."""
    with gzip.open(path, "wt") as fh:
        for i in range(start, start + n):
            session: int | str = 1_700_000_000_000 + i
            if text_after is not None and i - start >= text_after:
                session = f"sess-{i}"
            exposure = i % 2 == 0
            fh.write(json.dumps({
                "amplitude_id": 10**12 + i, "user_id": f"u{i // 2}", "session_id": session,
                "event_time": f"2026-03-01 00:{(i // 60) % 60:02d}:{i % 60:02d}.000000",
                "server_upload_time": f"2026-03-02 10:00:{i % 60:02d}.250000",
                "event_type": "$exposure" if exposure else "Purchase",
                "event_properties": ({"flag_key": "exp", "variant": "ab"[i // 2 % 2]} if exposure else {"revenue": 2.5})
                | (more or {}).get(i - start, {}),
            }) + "\n")  # fmt: skip
    return path


def test_top_level_numbers_and_times_are_typed_exactly_and_late_text_keeps_them_text(
    tmp_ws: Workspace, tmp_path: Path
) -> None:
    """The reader keeps typed copies of columns DuckDB detects as numbers or times; writing swaps them in only when
    validation (over every row) found that type, so text after the detection sample is kept, value for value."""
    n = 21_000  # more lines than DuckDB's detection sample (20,480)
    load_export(tmp_ws, [_amplitude_lines(tmp_path / "a.jsonl.gz", n, text_after=20_900)], "amplitude",
                actor=EDITOR)  # fmt: skip
    cols = tmp_ws.columns("events")
    assert not [c for c in cols if c.startswith("__lb")]
    assert cols["amplitude_id"] == "BIGINT" and cols["server_upload_time"] == "TIMESTAMP"
    assert cols["session_id"] == "VARCHAR"  # 100 late text values: the column stays text
    assert tmp_ws.scalar("SELECT sum(amplitude_id - 1000000000000) FROM events") == n * (n - 1) // 2
    assert tmp_ws.scalar("SELECT count(*) FROM events WHERE session_id LIKE 'sess-%'") == 100
    assert tmp_ws.scalar("SELECT count(*) FROM events WHERE session_id = '1700000000000'") == 1
    assert (
        tmp_ws.scalar(
            "SELECT count(*) FROM events WHERE server_upload_time - date_trunc('second', server_upload_time) "
            "= INTERVAL 250 MILLISECOND"
        )
        == n
    )
    # A second export appends: its typed copies go into the typed columns, its text into the text column.
    load_export(tmp_ws, [_amplitude_lines(tmp_path / "b.jsonl.gz", 500, start=n)], "amplitude", actor=EDITOR)
    assert tmp_ws.scalar("SELECT sum(amplitude_id - 1000000000000) FROM events") == (n + 500) * (n + 499) // 2
    assert (
        tmp_ws.scalar(f"SELECT count(*) FROM events WHERE session_id = '{1_700_000_000_000 + n + 499}'") == 1
    )
    assert not [c for c in tmp_ws.columns("events") if c.startswith("__lb")]


def test_property_keys_first_seen_after_the_sample_or_in_another_file_are_all_kept(
    tmp_ws: Workspace, tmp_path: Path
) -> None:
    """The read extracts the keys of the first lines of every file; keys that appear later (in that file or only
    in another file's later lines) are found over every row and filled all the same."""
    n = 21_000
    a = _amplitude_lines(
        tmp_path / "a.jsonl.gz", n, more={1: {"shared": "a1"}, 20_901: {"late": "x", "shared": "a2"}}
    )
    b = _amplitude_lines(tmp_path / "b.jsonl.gz", n, start=n, more={20_903: {"shared": "b-late"}})
    load_export(tmp_ws, [a, b], "amplitude", actor=EDITOR)
    got = dict(tmp_ws.query("SELECT shared, count(*) FROM events WHERE shared IS NOT NULL GROUP BY 1"))
    assert got == {"a1": 1, "a2": 1, "b-late": 1}
    assert tmp_ws.scalar("SELECT count(*) FROM events WHERE late = 'x'") == 1
    assert (
        tmp_ws.scalar("SELECT count(*) FROM events WHERE variant IS NOT NULL") == n
    )  # every exposure's variant
    assert not [c for c in tmp_ws.columns("events") if c.startswith("__lb")]


def test_an_export_with_more_property_keys_than_a_table_holds_keeps_the_first_and_says_so(
    tmp_ws: Workspace, tmp_path: Path
) -> None:
    """1,200 distinct keys in the first lines: the read extracts no more than a table holds, the load keeps the
    experiment's fields and the first keys in order, fills each kept one, and warns how many were not kept."""
    keys = {i: {f"k{i:05d}": f"v{i}"} for i in range(1, 2401, 2)}  # on purchases (odd lines): 1,200 keys
    path = _amplitude_lines(tmp_path / "wide.jsonl.gz", 2_400, more=keys)
    result = load_export(tmp_ws, [path], "amplitude", actor=EDITOR)
    cols = tmp_ws.columns("events")
    kept = sorted(c for c in cols if c.startswith("k0"))
    assert len(cols) <= 1000 and 0 < len(kept) < 1200
    assert kept == [f"k{i:05d}" for i in range(1, 2 * len(kept), 2)]  # the first keys, in order
    assert tmp_ws.scalar(f"SELECT count(*) FROM events WHERE {kept[-1]} = 'v{2 * len(kept) - 1}'") == 1
    (note,) = [n for n in result.report.notes if n.code == "too_many_properties"]
    assert note.count == 1200 - len(kept)
    assert "variant" in cols and "flag_key" in cols  # the experiment's own fields are never the ones left out
    assert tmp_ws.scalar("SELECT count(*) FROM assignments") == 1200  # every exposed user, in its arm
    assert not [c for c in cols if c.startswith("__lb")]

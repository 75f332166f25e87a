"""Hostile input through the real ingest and engine: each loads correctly or gets one clear sentence, never a crash."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analytics import experiments, ingest
from analytics.errors import LiftboardError
from analytics.ingest import build_demo
from analytics.workspace import Actor, Workspace, open_workspace

WHO = Actor("hostile-test", "editor")
HEAD = "user_id,timestamp,event"


def snapshot(ws: Workspace) -> dict[str, tuple[int, int]]:
    names = [
        r[0] for r in ws.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")
    ]
    return {n: tuple(ws.query(f'SELECT count(*), coalesce(sum(hash(t)), 0) FROM "{n}" t')[0]) for n in names}


def refused(ws: Workspace, path: Path, kind: str = "events", **kw: object) -> str:
    """Load a file that must be refused: one LiftboardError sentence, the workspace exactly as it was."""
    before = snapshot(ws)
    with pytest.raises(LiftboardError) as err:
        ingest.load(ws, path, kind, actor=WHO, **kw)
    msg = str(err.value)
    assert "\n" not in msg and "Traceback" not in msg and len(msg) < 600
    assert snapshot(ws) == before
    return msg


def test_a_one_megabyte_cell_loads_whole(tmp_ws: Workspace, tmp_path: Path) -> None:
    big = "x" * 2**20
    path = tmp_path / "big_cell.csv"
    path.write_text(f"{HEAD},note\nu1,2026-09-01 10:00:00,view,{big}\nu2,2026-09-01 11:00:00,view,short\n")
    res = ingest.load(tmp_ws, path, "events", actor=WHO)
    assert res.record["rows"] == 2
    assert tmp_ws.query("SELECT length(note) FROM events ORDER BY user_id") == [(2**20,), (5,)]


def test_a_five_megabyte_line_loads_through_the_text_read(tmp_ws: Workspace, tmp_path: Path) -> None:
    # Over the typed first read's 2 MB line limit: the text read (16 MB lines) takes over and loads it.
    big = "y" * (5 * 2**20)
    path = tmp_path / "long_line.csv"
    path.write_text(
        f"{HEAD},note\nu1,2026-09-01 10:00:00+02:00,view,{big}\nu2,2026-09-01 11:00:00,view,short\n"
    )
    res = ingest.load(tmp_ws, path, "events", actor=WHO)
    assert res.record["rows"] == 2
    got = tmp_ws.query("SELECT length(note), strftime(timestamp, '%H:%M') FROM events ORDER BY user_id")
    assert got == [(5 * 2**20, "08:00"), (5, "11:00")]


def test_control_characters_and_rtl_marks_in_names_and_values(tmp_ws: Workspace, tmp_path: Path) -> None:
    rlo, rlm, bel = "\u202e", "\u200f", "\x07"
    path = tmp_path / "ctrl.csv"
    path.write_text(
        f"{HEAD},no{rlo}te{bel},{rlm}city\n"
        f"u{rlo}1,2026-09-01 10:00:00,vi{bel}ew,a{rlm}b\x01c,\u05ea\u05dc {rlm}\n"
        + "".join(f"u{i},2026-09-01 11:00:00,view,plain,x\n" for i in range(2, 300)),
        encoding="utf-8",
    )
    res = ingest.load(tmp_ws, path, "events", actor=WHO)
    assert res.record["rows"] == 299
    cols = list(tmp_ws.columns("events"))
    assert cols[-2:] == [f"no{rlo}te{bel}", f"{rlm}city"]  # kept verbatim, always quoted in SQL
    rows = tmp_ws.query(f'SELECT user_id, event, "no{rlo}te{bel}" FROM events ORDER BY timestamp')
    assert rows[0] == (f"u{rlo}1", f"vi{bel}ew", f"a{rlm}b\x01c")
    # the engine reads them back through its own schema checks
    assert tmp_ws.column("events", f"no{rlo}te{bel}") == f'"no{rlo}te{bel}"'


def test_ten_thousand_columns(tmp_ws: Workspace, tmp_path: Path) -> None:
    extra = [f"c{i}" for i in range(10_000)]
    path = tmp_path / "wide.csv"
    row = ",".join(str(i % 7) for i in range(10_000))
    path.write_text(
        f"{HEAD},{','.join(extra)}\nu1,2026-09-01 10:00:00,view,{row}\nu2,2026-09-02 10:00:00,view,{row}\n"
    )
    msg = refused(tmp_ws, path)
    assert msg == (
        "wide.csv has 10,003 columns, more than the 1,000 Liftboard loads; keep the columns you need "
        "(ids, time, event and the properties you analyse) and load it again."
    )


def _bomb(path: Path, expanded_mb: int, *, lie: bool = False) -> float:
    """A gzip CSV expanding over 1000× (each row carries a megabyte of one letter); optionally a lying trailer."""
    line = b"u1,2026-09-01 10:00:00,view," + b"A" * (2**20 - 29) + b"\n"
    with gzip.open(path, "wb", compresslevel=9) as fh:
        fh.write(HEAD.encode() + b",note\n")
        for _ in range(expanded_mb):
            fh.write(line)
    if lie:  # the trailer's ISIZE (size mod 2**32) claims a tiny file
        data = bytearray(path.read_bytes())
        data[-4:] = struct.pack("<I", 1000)
        path.write_bytes(bytes(data))
    return expanded_mb * 2**20 / path.stat().st_size


def test_gzip_bomb_is_refused_past_the_limit(tmp_ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "bomb.csv.gz"
    ratio = _bomb(path, 64)
    assert ratio > 1000
    msg = refused(tmp_ws, path, max_bytes=8 * 2**20)
    assert msg == (
        "bomb.csv.gz expands to more than the 8 MB limit when decompressed; split the file or raise "
        "LIFTBOARD_MAX_LOAD_MB."
    )


def test_gzip_bomb_with_a_lying_size_trailer_is_refused(tmp_ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "liar.csv.gz"
    assert _bomb(path, 64, lie=True) > 1000
    msg = refused(tmp_ws, path, max_bytes=8 * 2**20)
    assert "8 MB limit" in msg


def test_parquet_with_nested_types(tmp_ws: Workspace, tmp_path: Path) -> None:
    table = pa.table(
        {
            "user_id": ["u1", "u2"],
            "timestamp": pa.array([1788256800000000, 1788260400000000], pa.timestamp("us")),
            "event": ["view", "purchase"],
            "props": pa.array([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]),
            "items": pa.array([[1, 2], [3]]),
        }
    )
    path = tmp_path / "nested.parquet"
    pq.write_table(table, path)
    msg = refused(tmp_ws, path)
    assert msg == (
        "nested.parquet has nested columns, props (struct), items (list); Liftboard loads flat columns: "
        "flatten them (e.g. props.a into props_a) or drop them, and load the file again."
    )
    assert not tmp_ws.has_table("events")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    path = tmp_path_factory.mktemp("hostile-demo") / "d.duckdb"
    build_demo(path, users=2000, seed=5)
    ws = open_workspace(path, read_only=True)
    yield ws
    ws.close()


EVIL = [
    "conversion:purchase'; DROP TABLE events; --",
    'mean:purchase":7d',
    "ratio:purchase/view); DELETE FROM users; --",
    "count:share:7d; SELECT 1",
    "retention:1d OR 1=1",
    "conversion:" + "x" * 100_000,
    "conversion:\u202epurchase\x00",
    "feedback:accept:7d UNION SELECT * FROM lb_audit",
]


@pytest.mark.parametrize("spec", EVIL, ids=[f"spec{i}" for i in range(len(EVIL))])
def test_metric_specs_carrying_sql_get_one_sentence(demo: Workspace, spec: str) -> None:
    before = snapshot(demo)
    with pytest.raises(LiftboardError) as err:
        experiments.analyze(demo, "ai_recs", [spec])
    msg = str(err.value)
    assert "\n" not in msg and len(msg) < 800
    assert snapshot(demo) == before


@pytest.mark.parametrize(
    "segment",
    ['country"; DROP TABLE users; --', "country) OR (1=1", "\u202ecountry", "x" * 10_000, "country\x00"],
    ids=["quote", "paren", "rtl", "long", "nul"],
)
def test_segment_names_carrying_sql_get_one_sentence(demo: Workspace, segment: str) -> None:
    with pytest.raises(LiftboardError) as err:
        experiments.analyze(demo, "ai_recs", ["conversion:purchase:7d"], segment=segment)
    assert "\n" not in str(err.value)
    assert demo.scalar("SELECT count(*) FROM users") == 2000


def test_an_event_name_with_sql_is_a_value_not_code(demo: Workspace) -> None:
    """A spec whose event does not exist is refused, or measured as zero: never run as SQL."""
    try:
        res = experiments.analyze(demo, "ai_recs", ["conversion:view' OR '1'='1"])
    except LiftboardError as exc:
        assert "\n" not in str(exc)
    else:
        assert all(v.mean == 0 for v in res.metrics[0].variants)

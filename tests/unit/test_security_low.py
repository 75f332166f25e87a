"""Issue 14, low findings: paths read literally, an absurd window is one sentence, exports neutralise every
formula a spreadsheet would run, and an event whose name holds ':' can be analysed (quoted in the spec).

Through the real command line (a subprocess), real workspace files and the real CSV bytes a user downloads.
"""

from __future__ import annotations

import csv
import hashlib
import io
import subprocess
import sys
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from analytics import experiments, ingest
from analytics.errors import LiftboardError
from analytics.experiments import parse_metric
from analytics.workspace import (
    FORMULA_LOOKALIKES,
    FORMULA_START,
    LEADING,
    Actor,
    Workspace,
    neutral_sql,
    neutralise,
    open_workspace,
    safe_csv_bytes,
)

ROOT = Path(__file__).resolve().parents[2]
WHO = Actor("low-test", "editor")
HEAD = "user_id,timestamp,event\n"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "analytics", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


# -- paths are read literally ----------------------------------------------------------------------------
def test_load_reads_a_path_with_glob_characters_literally(tmp_path: Path) -> None:
    (tmp_path / "a1.csv").write_text(HEAD + "one,2026-09-01 10:00:00,view\n")
    (tmp_path / "a2.csv").write_text(HEAD + "two,2026-09-01 10:00:00,view\n")
    literal = tmp_path / "a[12].csv"
    literal.write_text(
        HEAD + "lit1,2026-09-01 10:00:00,view\nlit2,2026-09-01 11:00:00,buy\nlit3,2026-09-01 12:00:00,x\n"
    )
    db = tmp_path / "ws.duckdb"
    done = _cli("load", str(literal), "--kind", "events", "--db", str(db), "--json")
    assert done.returncode == 0, done.stderr
    ws = open_workspace(db, read_only=True)
    try:
        assert sorted(r[0] for r in ws.query("SELECT user_id FROM events")) == ["lit1", "lit2", "lit3"]
        name, digest = ws.query("SELECT file_name, content_hash FROM lb_loads")[0]
    finally:
        ws.close()
    assert name == "a[12].csv"
    assert digest == hashlib.sha256(literal.read_bytes()).hexdigest()


def test_preview_and_parquet_read_a_path_with_glob_characters_literally(tmp_path: Path) -> None:
    for name, users in (("p1.parquet", ["one"]), ("p2.parquet", ["two"]), ("p[12]*?.parquet", ["lit"])):
        pd.DataFrame({"user_id": users, "timestamp": ["2026-09-01 10:00:00"], "event": ["view"]}).to_parquet(
            tmp_path / name
        )
    (tmp_path / "c1.csv").write_text(HEAD + "one,2026-09-01 10:00:00,view\n")
    (tmp_path / "c*.csv").write_text(HEAD + "star,2026-09-01 10:00:00,view\n")
    assert list(ingest.preview(tmp_path / "c*.csv", "events", actor=WHO).rows["user_id"]) == ["star"]
    ws = open_workspace(tmp_path / "ws.duckdb")
    try:
        ingest.load(ws, tmp_path / "p[12]*?.parquet", "events", actor=WHO)
        assert ws.query("SELECT user_id FROM events") == [("lit",)]
    finally:
        ws.close()


# -- an absurd window is one sentence ------------------------------------------------------------------------
def test_an_absurd_window_is_one_sentence_in_the_engine() -> None:
    with pytest.raises(LiftboardError) as err:
        parse_metric("conversion:purchase:300000000d")
    assert str(err.value) == (
        "The window '300000000d' is longer than ten years (3650d); write a window of at most 3650d."
    )


def test_an_absurd_window_is_one_sentence_in_the_cli(demo_copy: Path) -> None:
    done = _cli(
        "analyze",
        "--experiment",
        "ai_recs",
        "--metric",
        "conversion:purchase:300000000d",
        "--db",
        str(demo_copy),
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "error: The window '300000000d' is longer than ten years (3650d); write a window of at most 3650d."
    ]


# -- exports neutralise formulas however they are dressed -----------------------------------------------------
HOSTILE_CELLS = [
    '=HYPERLINK("http://x.example","click")',
    ' =HYPERLINK("http://x.example","click")',  # leading space
    "\u3000=1+1",  # ideographic space
    "\u00a0@SUM(A1:A2)",  # no-break space
    "\uff1d1+1",  # full-width equals sign, which NFKC turns into '='
    "\uff0b1+1",  # full-width plus
    ";=1+1",  # a cell that a ';'-separated reading splits before '='
    "|=cmd|' /C calc'!A0",
    "\t=1+1",
    "\r\n-2+3",
    "+1",
]


def test_csv_exports_neutralise_formulas_after_whitespace_and_normalisation() -> None:
    df = pd.DataFrame({"comment": HOSTILE_CELLS, "n": range(len(HOSTILE_CELLS))})
    text = safe_csv_bytes(df).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))[1:]
    assert [r[1] for r in rows] == [str(i) for i in range(len(HOSTILE_CELLS))]  # numbers stay numbers
    for row, original in zip(rows, HOSTILE_CELLS, strict=True):
        assert row[0] == "'" + original, (original, row[0])
    # whichever separator a spreadsheet reads the file with (quotes respected), no field it sees is a formula
    for delimiter in (",", ";", "|", "\t"):
        for record in csv.reader(io.StringIO(text), delimiter=delimiter):
            for field in record:
                seen = unicodedata.normalize("NFKC", field).strip()
                assert not seen.startswith(("=", "+", "@", "-")), (delimiter, field)


def test_the_sql_rule_is_the_python_rule(tmp_ws: Workspace) -> None:
    """Large exports neutralise in DuckDB SQL: the same cells, the same result."""
    cells = [*HOSTILE_CELLS, "ok", "a = b", "3 - 1", "email@example.com", "-", "", "   ", ";", "x;=1"]
    sql = f"SELECT {neutral_sql('x')} FROM (SELECT ? AS x)"  # noqa: S608
    for cell in cells:
        assert tmp_ws.scalar(sql, [cell]) == neutralise(cell), cell


def test_every_character_that_normalises_into_a_formula_start_is_listed() -> None:
    starts = {
        chr(cp)
        for cp in range(0x110000)
        if unicodedata.normalize("NFKC", chr(cp))[:1] in FORMULA_START and chr(cp) not in FORMULA_START
    }
    assert starts == set(FORMULA_LOOKALIKES)
    assert {chr(cp) for cp in range(0x110000) if chr(cp).isspace()} <= set(LEADING)


def test_ordinary_text_is_left_alone() -> None:
    df = pd.DataFrame({"comment": ["ok", "a = b", "3 - 1", "email@example.com", "-", ""]})
    rows = list(csv.reader(io.StringIO(safe_csv_bytes(df).decode("utf-8-sig"))))[1:]
    assert [r[0] for r in rows] == ["ok", "a = b", "3 - 1", "email@example.com", "'-", ""]


# -- an event whose name holds ':' ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "kind", "event", "denominator", "window", "canonical"),
    [
        (
            'conversion:"checkout:done":7d',
            "conversion",
            "checkout:done",
            None,
            7 * 86_400,
            'conversion:"checkout:done":7d',
        ),
        (
            'conversion:"checkout:done"',
            "conversion",
            "checkout:done",
            None,
            7 * 86_400,
            'conversion:"checkout:done":7d',
        ),
        (
            'mean:"a ""quoted"" one":3d',
            "mean",
            'a "quoted" one',
            None,
            72 * 3_600,
            'mean:"a ""quoted"" one":3d',
        ),
        ('ratio:"page:view"/"a/b":2d', "ratio", "page:view", "a/b", 2 * 86_400, 'ratio:"page:view"/"a/b":2d'),
        ("conversion:purchase:7d", "conversion", "purchase", None, 7 * 86_400, "conversion:purchase:7d"),
    ],
)
def test_quoted_names_parse_and_round_trip(
    text: str, kind: str, event: str, denominator: str | None, window: int, canonical: str
) -> None:
    spec = parse_metric(text)
    assert (spec.kind, spec.event, spec.denominator, spec.window) == (kind, event, denominator, window)
    assert spec.text == canonical
    assert parse_metric(spec.text) == spec


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'conversion:"checkout:done',
            'The metric \'conversion:"checkout:done\' opens a quote it never closes; write the name as "checkout:done".',
        ),
        (
            'conversion:"a"b:7d',
            "The metric 'conversion:\"a\"b:7d' has text right after a quoted name; put ':' after the closing quote.",
        ),
    ],
)
def test_broken_quotes_are_one_sentence(text: str, message: str) -> None:
    with pytest.raises(LiftboardError) as err:
        parse_metric(text)
    assert str(err.value) == message


def test_an_event_whose_name_holds_a_colon_is_analysed(demo_copy: Path) -> None:
    ws = open_workspace(demo_copy)
    try:
        plain = experiments.analyze(ws, "ai_recs", ["conversion:purchase:7d"])
        with ws.transaction() as cur:
            cur.execute("UPDATE events SET event = 'checkout:done' WHERE event = 'purchase'")
        quoted = experiments.analyze(ws, "ai_recs", ['conversion:"checkout:done":7d'])
    finally:
        ws.close()
    a, b = plain.metrics[0], quoted.metrics[0]
    assert [(v.name, v.users, v.mean) for v in a.variants] == [(v.name, v.users, v.mean) for v in b.variants]
    assert a.comparisons[0].p_value == b.comparisons[0].p_value
    assert b.spec.text == 'conversion:"checkout:done":7d'

"""An export's event values are money when they are the tool's revenue property, in dollars (issues 15 and 16).

The value a tool export fills (PostHog/Mixpanel/Amplitude revenue, Segment's revenue column, GA4's value param)
is marked as money in the load's own transaction, so `mean:` verdicts show dollars; a currency other than USD,
or several, is said in the report and keeps the numbers plain (Liftboard never converts amounts).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analytics.errors import LiftboardError
from analytics.experiments import analyze
from analytics.experiments.verdict import metric_sentences
from analytics.ingest.sources import load_export, validate_export
from analytics.workspace import Actor, Workspace, is_money, money_marks, open_workspace
from tests.support import exports as X
from tests.support.export_files import write_export
from tests.support.files import snapshot, write

ROOT = Path(__file__).resolve().parents[2]
EDITOR = Actor("tester", "editor")
#: One flavour per tool; the generators write Segment's and GA4's purchases in EUR, the others name none.
SHAPES = {
    "posthog": ("csv", "properties.revenue", True),
    "amplitude": ("zip", "event_properties.revenue or event_properties.$revenue", True),
    "mixpanel": ("json", "properties.revenue or properties.$amount", True),
    "segment": ("csv", "revenue", False),
    "ga4": ("parquet", "event_params.value", False),
}


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analytics", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def _revenue_sentence(ws: Workspace, tool: str) -> str:
    result = analyze(ws, X.MAIN, [f"mean:{X.NAMES[tool]['purchase']}:7d"])
    return metric_sentences(result.metrics[0])[0]


@pytest.mark.parametrize("tool", list(SHAPES))
def test_each_tools_revenue_is_money_unless_its_currency_is_not_dollars(
    tool: str, tmp_ws: Workspace, tmp_path: Path
) -> None:
    fmt, where, money = SHAPES[tool]
    rows = X.simulate(tool, users=400, seed=21)
    out = load_export(tmp_ws, write_export(tool, rows, tmp_path, fmt), tool, actor=EDITOR)
    values = out.report.values
    assert values is not None and values.money is money
    assert money_marks(tmp_ws) == {"events.value": money}  # recorded by the load itself
    assert is_money(tmp_ws, "events", "value") is money
    log = X.truth(tool, rows)
    priced = int(log["value"].notna().sum())
    sentence = _revenue_sentence(tmp_ws, tool)
    want = X.expected(tool, rows)
    if money:
        assert values.note == f"Event values come from {where} and are shown as money (dollars)."
        assert not values.warning and dict(values.currencies) == {"": priced}
        for arm in ("control", "treatment"):
            assert f"${want[arm]['revenue']:.2f}" in sentence, sentence
    else:  # the generators write EUR: said in the report, shown as plain numbers
        assert dict(values.currencies) == {"EUR": priced}
        assert values.note.startswith(f"Event values come from {where} in EUR (")
        assert "does not convert amounts, so they are shown as plain numbers" in values.note
        assert any(i.code == "currency_not_converted" and i.count == priced for i in out.report.warnings)
        assert "$" not in sentence
        for arm in ("control", "treatment"):
            assert f"{want[arm]['revenue']:.3g}" in sentence, sentence


def _posthog_with_currency(tmp_path: Path, codes: list[str | None]) -> tuple[Path, dict[str, int]]:
    """A PostHog CSV export whose purchases carry `currency` in turn from codes; the events per code."""
    rows = X.simulate("posthog", users=300, seed=22)
    (path,) = write_export("posthog", rows, tmp_path / "export", "csv")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    counts: dict[str, int] = {}
    props = []
    for cell in frame["properties"]:
        p = json.loads(cell)
        if "revenue" in p:
            code = codes[sum(counts.values()) % len(codes)]
            if code is not None:
                p["currency"] = code
            counts[code or ""] = counts.get(code or "", 0) + 1
        props.append(json.dumps(p))
    frame["properties"] = props
    frame.to_csv(path, index=False)
    return path, counts


def test_dollars_named_as_usd_are_money(tmp_ws: Workspace, tmp_path: Path) -> None:
    path, counts = _posthog_with_currency(tmp_path, ["USD", "usd", None])
    out = load_export(tmp_ws, [path], "posthog", actor=EDITOR)
    assert out.report.values is not None and out.report.values.money and not out.report.values.warning
    assert dict(out.report.values.currencies) == {"USD": counts["USD"] + counts["usd"], "": counts[""]}
    assert is_money(tmp_ws, "events", "value")


def test_several_currencies_are_counted_and_not_shown_as_dollars(tmp_ws: Workspace, tmp_path: Path) -> None:
    path, counts = _posthog_with_currency(tmp_path, ["USD", "EUR", "EUR", None])
    report = validate_export(tmp_ws, [path], "posthog", actor=EDITOR)
    v = report.values
    assert v is not None and not v.money and v.warning
    usd, eur, blank = counts["USD"], counts["EUR"], counts[""]
    assert eur > usd
    assert (
        f"in 2 currencies (EUR on {eur:,} events, USD on {usd:,} events, none named on {blank:,})" in v.note
    )
    assert "convert them to one before loading" in v.note
    assert money_marks(tmp_ws) == {}  # a check records nothing
    load_export(tmp_ws, [path], "posthog", actor=EDITOR)
    assert money_marks(tmp_ws) == {"events.value": False}


def test_money_chosen_by_hand_wins_on_the_cli(tmp_path: Path) -> None:
    # Segment's EUR revenue marked as money by hand: shown in dollars, and the report says it is not converted.
    seg = write_export("segment", X.simulate("segment", users=200, seed=23), tmp_path / "seg", "csv")
    db = tmp_path / "seg.duckdb"
    proc = _cli("load", *map(str, seg), "--from", "segment", "--money", "revenue", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    assert "warning: Event values come from revenue in EUR (currency); they are shown with a dollar sign" in (
        proc.stdout
    )
    ws = open_workspace(db, read_only=True)
    try:
        assert money_marks(ws) == {"events.value": True}
    finally:
        ws.close()
    # PostHog's revenue left out of --money: plain numbers.
    ph = write_export("posthog", X.simulate("posthog", users=200, seed=24), tmp_path / "ph", "csv")
    db = tmp_path / "ph.duckdb"
    proc = _cli("load", str(ph[0]), "--from", "posthog", "--money", "price", "--db", str(db), "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["values"]["money"] is False
    assert doc["values"]["note"] == (
        "Event values come from properties.revenue and are shown as plain numbers, not money, as chosen at load."
    )
    # and by default the CLI says where the values come from
    proc = _cli("load", str(ph[0]), "--from", "posthog", "--dry-run", "--db", str(tmp_path / "dry.duckdb"))
    assert proc.returncode == 0, proc.stderr
    assert "note: Event values come from properties.revenue and are shown as money (dollars)." in proc.stdout


def test_a_refused_load_records_no_mark(tmp_ws: Workspace, tmp_path: Path) -> None:
    paths = write_export("posthog", X.simulate("posthog", users=200, seed=25), tmp_path, "csv")
    stranger = write(tmp_path, "notes.csv", "a,b\n1,2\n")
    before = snapshot(tmp_ws)
    with pytest.raises(LiftboardError, match="notes.csv"):
        load_export(tmp_ws, [*paths, stranger], "posthog", actor=EDITOR)
    assert snapshot(tmp_ws) == before and money_marks(tmp_ws) == {}


def test_an_export_without_values_marks_nothing(tmp_ws: Workspace, tmp_path: Path) -> None:
    lines = [
        {"event": "Page View", "properties": {"time": 1772000000 + i, "distinct_id": f"u{i}"}}
        for i in range(5)
    ]
    path = write(tmp_path, "mp.json", "\n".join(json.dumps(x) for x in lines) + "\n")
    out = load_export(tmp_ws, [path], "mixpanel", actor=EDITOR)
    assert out.report.values is None and money_marks(tmp_ws) == {}


@pytest.mark.parametrize("json_flag", [False, True])
def test_dry_run_of_an_unloadable_export_exits_2_and_creates_no_workspace(
    json_flag: bool, tmp_path: Path
) -> None:
    bad_time = {"event": "Purchase", "properties": {"time": "yesterday", "distinct_id": "u1", "revenue": 5}}
    good = {"event": "Purchase", "properties": {"time": 1772000000, "distinct_id": "u2", "revenue": 5}}
    path = write(tmp_path, "mp.json", f"{json.dumps(good)}\n{json.dumps(bad_time)}\n")
    stranger = write(tmp_path, "notes.csv", "a,b\n1,2\n")
    for f, why in ((path, "'yesterday'"), (stranger, "notes.csv")):
        db = tmp_path / "never.duckdb"
        proc = _cli("load", str(f), "--from", "mixpanel", "--dry-run", "--db", str(db),
                    *(["--json"] if json_flag else []))  # fmt: skip
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert not db.exists()
        assert "Traceback" not in proc.stderr
        if json_flag:
            assert why in json.loads(proc.stdout)["error"]
        else:
            assert why in proc.stderr and proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1

"""The feedback commands: JSON documents with the engine's numbers, one-line errors, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from analytics.cli import main
from tests.support.feedback_data import make


@pytest.fixture()
def db(tmp_path: Path) -> str:
    make(tmp_path / "cli.duckdb", 800, seed=6).close()
    return str(tmp_path / "cli.duckdb")


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_feedback_summary_json(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, "feedback", "--db", db, "--by", "model_version")
    assert doc["total"] == 800 and doc["experiment"] == "exp"
    assert sum(doc["by_signal"].values()) == 800
    acc = [r for r in doc["rates"] if r["signal"] == "accept"]
    assert [r["group"] for r in acc] == ["v1", "v2"] and all(r["n"] == 400 for r in acc)
    assert doc["acceptance"]["rate"] == pytest.approx(doc["by_signal"]["accept"] / 800)
    assert doc["progress"] == {"tagged": 0, "total": 800}


def test_tag_bulk_tag_taxonomy_and_export(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _json(capsys, "tag", "f1", "f2", "--tags", "wrong", "unsafe", "--reviewer", "ann", "--db", db) == {
        "changed": 2, "unchanged": 0,
    }  # fmt: skip
    pre = _json(
        capsys, "bulk-tag", "--db", db, "--signal", "reject", "--add", "irrelevant", "--reviewer", "ann"
    )
    assert pre["applied"] is False and pre["would_change"] == pre["selected"] > 0
    done = _json(
        capsys,
        "bulk-tag",
        "--db",
        db,
        "--signal",
        "reject",
        "--add",
        "irrelevant",
        "--reviewer",
        "ann",
        "--yes",
    )
    assert done["changed"] == pre["selected"]
    q = _json(capsys, "queue", "--db", db, "--status", "untagged", "--limit", "5")
    assert q["total"] == 800 - pre["selected"] - len({"f1", "f2"} - set()) + _rejects_among(db, ["f1", "f2"])
    listed = _json(capsys, "tags", "add", "off topic", "--actor", "ann", "--db", db)["tags"]
    assert "off topic" in [t["name"] for t in listed]
    out = tmp_path / "tagged.csv"
    doc = _json(capsys, "export-feedback", "--db", db, "--out", str(out))
    assert doc["rows"] == len(pd.read_csv(out)) == pre["selected"] + 2 - _rejects_among(db, ["f1", "f2"])


def _rejects_among(db: str, ids: list[str]) -> int:
    from analytics.workspace import open_workspace

    ws = open_workspace(db, read_only=True)
    try:
        return int(
            ws.scalar("SELECT count(*) FROM feedback WHERE signal = 'reject' AND feedback_id IN (?, ?)", ids)
        )
    finally:
        ws.close()


def test_bad_input_is_one_line_and_exit_2(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tag", "f1", "--tags", "bogus", "--reviewer", "ann", "--db", db]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: There is no tag 'bogus'") and err.count("\n") == 1
    assert main(["tag", "f1", "--tags", "wrong", "--reviewer", "ann", "--version", "3", "--db", db]) == 2
    assert "since you loaded it" in capsys.readouterr().err
    assert (
        main(["bulk-tag", "--db", db, "--signal", "nope", "--add", "wrong", "--reviewer", "ann", "--yes"])
        == 2
    )
    assert "empty" in capsys.readouterr().err
    assert main(["feedback", "--db", db, "--experiment", "nope"]) == 2
    assert "no experiment 'nope'" in capsys.readouterr().err

"""README's "Your data" commands run as written on the example files of data/examples/, against an empty workspace."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats as sps

from analytics.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _commands() -> list[list[str]]:
    """The `python -m analytics …` lines of the README's sections on per-user outcomes, totals and assignments."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Your data") : text.index("### An analytics tool's export")]
    lines = [ln for block in re.findall(r"```bash\n(.*?)```", section, re.S) for ln in block.splitlines()]
    return [shlex.split(ln)[3:] for ln in lines if ln.startswith("python -m analytics ")]


def test_the_readme_commands_load_and_analyse_every_example(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(ROOT)  # the commands name data/examples/… from the repository's root
    commands = _commands()
    assert len(commands) >= 7 and {c[0] for c in commands} == {"load", "analyze"}
    examples = {p.name for p in (ROOT / "data" / "examples").glob("*.csv")}
    named = {Path(a).name for c in commands for a in c if a.startswith("data/examples/")}
    assert named == examples  # every example is used, and only examples
    db = tmp_path / "ws.duckdb"
    docs = []
    for args in commands:
        code = main([*args, "--db", str(db), "--json"])
        out = capsys.readouterr().out
        assert code == 0, (args, out)
        docs.append(json.loads(out))
    # the per-user example, checked against scipy on its rows
    onboarding = next(
        d for d, c in zip(docs, commands, strict=True) if c[0] == "analyze" and "onboarding" in c
    )
    df = pd.read_csv(ROOT / "data/examples/per_user_outcomes.csv")
    revenue = next(m for m in onboarding["metrics"] if m["spec"] == "outcome:revenue")
    assert revenue["aggregate"] == "mean" and onboarding["control"] == "control"
    ref = sps.ttest_ind(
        df[df.variant == "new_onboarding"].revenue, df[df.variant == "control"].revenue, equal_var=False
    )
    assert revenue["comparisons"][0]["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
    checkout = next(d for d, c in zip(docs, commands, strict=True) if c[0] == "analyze" and "checkout" in c)
    assert checkout["control"] == "Original" and checkout["control_reason"] == "named"

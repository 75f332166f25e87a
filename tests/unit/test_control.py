"""The control arm has one rule (experiments.default_control), and every caller says which arm and why."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics import overview
from analytics.cli import main
from analytics.cost import fetch_arms, unit_economics
from analytics.experiments import ControlReason, analyze, choose_control, default_control
from analytics.workspace import Workspace, open_workspace

NAMED, GUESSED = ControlReason.NAMED, ControlReason.GUESSED


@pytest.mark.parametrize(
    ("arms", "arm", "reason"),
    [
        (("AI recs", "Control"), "Control", NAMED),  # Segment's and Statsig's spelling
        (("ai", "control"), "control", NAMED),
        (("B", "A"), "A", NAMED),
        (("1", "0"), "0", NAMED),
        (("treatment", "Baseline"), "Baseline", NAMED),
        (("on", "off"), "off", NAMED),
        (("new", "original"), "original", NAMED),
        (("variant", "default"), "default", NAMED),
        (("baseline", "control"), "control", NAMED),  # the earlier name in CONTROL_NAMES wins
        (("small", "large"), "large", GUESSED),  # no control-like name: the first by name, and said so
    ],
)
def test_the_control_is_recognised_by_name(arms: tuple[str, ...], arm: str, reason: ControlReason) -> None:
    choice = choose_control(arms)
    assert (choice.arm, choice.reason) == (arm, reason)


def test_a_choice_beats_the_saved_setting_which_beats_the_name() -> None:
    assert choose_control(("ai", "control", "x"), saved="x").reason == ControlReason.SAVED
    assert choose_control(("ai", "control", "x"), saved="x", given="ai").arm == "ai"
    # A saved control that is not an arm (renamed in a later file) is ignored, not an error.
    assert choose_control(("ai", "control"), saved="gone").arm == "control"
    assert "a guess" in choose_control(("small", "large")).sentence()
    # each surface says how to choose it there (the page never tells a UI user to pass a flag)
    assert choose_control(("small", "large")).sentence("pass --control ARM to choose it") == (
        "Control: large (no arm is named like a control, so the first arm by name is used: a guess; "
        "pass --control ARM to choose it)."
    )
    assert choose_control(("AI recs", "Control")).sentence("pass --control ARM") == (
        "Control: Control (recognised by its name)."
    )


def _segment_style(ws: Workspace, n: int = 400) -> None:
    """An experiment exported as Segment names it: arms `Control` and `AI recs`."""
    rng = np.random.default_rng(3)
    t0 = datetime(2026, 9, 15)
    variant = np.where(np.arange(n) % 2 == 0, "AI recs", "Control")
    asg = pd.DataFrame({"user_id": [f"u{i}" for i in range(n)], "experiment": "e", "variant": variant,
                        "timestamp": t0})  # fmt: skip
    buyers = [i for i in range(n) if rng.random() < (0.3 if variant[i] == "AI recs" else 0.2)]
    ev = pd.DataFrame(
        [(f"u{i}", t0 + timedelta(hours=5), "purchase") for i in buyers]
        + [("u0", t0 + timedelta(days=20), "x")],
        columns=["user_id", "timestamp", "event"],
    )
    with ws.transaction() as cur:
        for name, df in {"assignments": asg, "events": ev}.items():
            cur.register("df", df)
            cur.execute(f"CREATE TABLE {name} AS SELECT * FROM df")
            cur.unregister("df")


def test_segment_style_arms_pick_control_and_say_why(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "seg.duckdb"
    ws = open_workspace(path)
    _segment_style(ws)
    r = analyze(ws, "e", ["conversion:purchase:7d"])
    assert (r.control, r.control_reason) == ("Control", NAMED)
    assert r.metrics[0].comparisons[0].variant == "AI recs"
    assert default_control(ws, "e", r.variants).arm == "Control"
    ws.close()
    assert (
        main(["analyze", "--db", str(path), "--experiment", "e", "--metric", "conversion:purchase:7d"]) == 0
    )
    assert "control arm: Control (recognised by its name)" in capsys.readouterr().out
    assert main(["analyze", "--db", str(path), "--experiment", "e", "--metric", "conversion:purchase:7d",
                 "--json"]) == 0  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    assert (doc["control"], doc["control_reason"]) == ("Control", "named")


def test_overview_roi_and_cost_use_the_analysis_control(
    demo_copy: Path, capsys: pytest.CaptureFixture
) -> None:
    """Former disagreement: with no saved control, the Overview's ROI took `ai` (the first arm) as the control
    while its analysis took `control`; the Cost CLI sorted, the Cost page did not."""
    ws = open_workspace(demo_copy)
    cfg = ws.get_setting("experiment:ai_recs")
    del cfg["control"]
    ws.set_setting("experiment:ai_recs", cfg)
    (exp,) = overview.build(ws, only="ai_recs").experiments
    assert exp.result.control == "control" and exp.result.control_reason == NAMED
    expected = unit_economics(fetch_arms(ws, "ai_recs"), experiment="ai_recs", control="control")
    assert "roi" not in exp.evidence.notes
    assert exp.evidence.roi == pytest.approx(max(v.roi.value for v in expected.variants if v.roi))
    ws.close()
    assert main(["cost", "--db", str(demo_copy), "--experiment", "ai_recs", "--json"]) == 0
    ue = json.loads(capsys.readouterr().out)["unit_economics"]
    assert (ue["control"], ue["control_reason"]) == ("control", "named")

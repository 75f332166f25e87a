"""Cohen's κ between two reviewers, per tag and pooled, against hand computations."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from analytics import feedback as fb
from analytics.feedback import Table2x2
from analytics.workspace import Actor, Workspace
from tests.support.feedback_data import make


@pytest.fixture()
def ws(tmp_path: Path) -> Workspace:
    w = make(tmp_path / "kappa.duckdb", 100, seed=2)
    yield w
    w.close()


def test_cohen_kappa_by_hand() -> None:
    # 10 items: both 4, only A 1, only B 2, neither 3.
    # p_o = 7/10; A says yes 5/10, B 6/10; p_e = .5*.6 + .5*.4 = .5; κ = (.7 − .5)/(1 − .5) = 0.4.
    po, pe, k, (lo, hi) = fb.cohen_kappa(Table2x2(4, 1, 2, 3))
    assert (po, pe) == pytest.approx((0.7, 0.5)) and k == pytest.approx(0.4)
    se = math.sqrt(0.7 * 0.3 / (10 * 0.25))
    assert (lo, hi) == pytest.approx((0.4 - 1.959964 * se, 0.4 + 1.959964 * se), abs=1e-6)
    assert fb.cohen_kappa(Table2x2(5, 0, 0, 5))[2] == pytest.approx(1.0)
    assert math.isnan(fb.cohen_kappa(Table2x2(0, 0, 0, 7))[2])  # both constant: undefined
    assert fb.describe(0.4) == "fair" and fb.describe(0.9) == "almost perfect"


def test_kappa_matches_confusion_matrix_formula_on_random_tables() -> None:
    # κ from the general k×k formula (here 2×2) computed independently with numpy.
    rng = np.random.default_rng(4)
    for _ in range(50):
        yy, yn, ny, nn = (int(x) for x in rng.integers(0, 30, 4))
        if yy + yn + ny + nn == 0:
            continue
        m = np.array([[yy, yn], [ny, nn]], dtype=float)
        n = m.sum()
        po = np.trace(m) / n
        pe = float((m.sum(axis=1) * m.sum(axis=0)).sum() / n**2)
        want = (po - pe) / (1 - pe) if pe < 1 else math.nan
        got = fb.cohen_kappa(Table2x2(yy, yn, ny, nn))[2]
        assert (math.isnan(want) and math.isnan(got)) or got == pytest.approx(want)


def test_kappas_from_workspace_reviews(ws: Workspace) -> None:
    # Ten items reviewed by both alice and bob, tagged so that 'wrong' forms the table (4, 1, 2, 3)
    # and 'helpful' is always on for both where it appears.
    plan = [
        (["wrong"], ["wrong"]), (["wrong"], ["wrong"]), (["wrong"], ["wrong"]), (["wrong"], ["wrong"]),
        (["wrong"], []), ([], ["wrong"]), ([], ["wrong"]), ([], []), ([], []), ([], []),
    ]  # fmt: skip
    for i, (a, b) in enumerate(plan):
        fid = f"f{i}"
        fb.tag_item(
            ws, fid, a + (["helpful"] if i == 0 else []), Actor("alice", "editor"), fb.item_version(ws, fid)
        )
        fb.tag_item(
            ws, fid, b + (["helpful"] if i == 0 else []), Actor("bob", "editor"), fb.item_version(ws, fid)
        )
    # carol shares no item with anyone: no pair
    fb.tag_item(ws, "f50", ["wrong"], Actor("carol", "editor"), 0)
    got = {(k.reviewer_a, k.reviewer_b, k.tag): k for k in fb.kappas(ws)}
    assert set(got) == {
        ("alice", "bob", "wrong"),
        ("alice", "bob", "helpful"),
        ("alice", "bob", "(all tags)"),
    }
    w = got[("alice", "bob", "wrong")]
    assert w.table == Table2x2(4, 1, 2, 3) and w.kappa == pytest.approx(0.4)
    h = got[("alice", "bob", "helpful")]
    assert h.table == Table2x2(1, 0, 0, 9) and h.kappa == pytest.approx(1.0)
    pooled = got[("alice", "bob", "(all tags)")]
    # Pooled table (5, 1, 2, 12): p_o = 17/20, p_a = 6/20, p_b = 7/20, p_e = .105 + .455 = .56.
    assert pooled.table == Table2x2(5, 1, 2, 12)
    assert pooled.kappa == pytest.approx((0.85 - 0.56) / (1 - 0.56))
    # A filter narrows the items: only f0..f4.
    sub = fb.kappas(ws, fb.FeedbackFilter(feedback_ids=tuple(f"f{i}" for i in range(5))))
    assert {k.tag: k.table for k in sub}["wrong"] == Table2x2(4, 1, 0, 0)


def test_demo_reviewers_agree_substantially(demo_ws: Workspace) -> None:
    # The demo's alice and bob share 150 items and pick the signal's tag 85% of the time each.
    ks = {k.tag: k for k in fb.kappas(demo_ws) if k.reviewer_a == "alice" and k.reviewer_b == "bob"}
    pooled = ks["(all tags)"]
    assert pooled.table.n == 150 * len([k for k in ks if k != "(all tags)"])
    assert 0.4 < pooled.kappa < 0.9

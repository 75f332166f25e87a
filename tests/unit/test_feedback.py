"""Feedback joined to predictions and variants: selection, queue, progress, rates, exports."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from analytics import feedback as fb
from analytics.errors import LiftboardError
from analytics.workspace import Actor, Workspace, unmatched_predictions
from tests.support.feedback_data import make

N = 2000


@pytest.fixture()
def ws(tmp_path: Path) -> Workspace:
    w = make(tmp_path / "fb.duckdb", N, seed=3)
    yield w
    w.close()


def _truth(ws: Workspace) -> pd.DataFrame:
    # The same join done the slow, obvious way in pandas on this small workspace.
    f = ws.query_df("SELECT * FROM feedback")
    p = ws.query_df("SELECT prediction_id, model_version, score FROM predictions")
    a = ws.query_df("SELECT user_id, variant FROM assignments WHERE experiment = 'exp'")
    return f.merge(p, on="prediction_id", how="left").merge(a, on="user_id", how="left")


def test_selection_filters_match_pandas(ws: Workspace) -> None:
    t = _truth(ws)
    flt = fb.FeedbackFilter(
        experiment="exp", signals=("accept", "reject"), variants=("ai",), model_versions=("v2",),
        start=dt.date(2026, 9, 20), end=dt.date(2026, 9, 30), score_min=0.2, score_max=0.7,
    )  # fmt: skip
    want = t[
        t.signal.isin(["accept", "reject"]) & (t.variant == "ai") & (t.model_version == "v2")
        & (t.timestamp >= "2026-09-20") & (t.timestamp < "2026-10-01") & (t.score >= 0.2) & (t.score <= 0.7)
    ]  # fmt: skip
    assert len(want) > 20
    assert fb.count(ws, flt) == len(want)
    page = fb.queue(ws, flt, limit=1000)
    assert page.total == len(want)
    assert sorted(page.rows.feedback_id) == sorted(want.feedback_id)


def test_queue_paging_is_disjoint_and_complete(ws: Workspace) -> None:
    flt = fb.FeedbackFilter(experiment="exp", signals=("reject",))
    total = fb.count(ws, flt)
    seen: list[str] = []
    for off in range(0, total, 37):
        seen += list(fb.queue(ws, flt, limit=37, offset=off).rows.feedback_id)
    assert len(seen) == total == len(set(seen))


def test_item_never_queued_twice_despite_duplicates(ws: Workspace) -> None:
    # A feedback id repeated in an upload, a repeated prediction id, and a user exposed to two variants.
    with ws.transaction() as cur:
        cur.execute("INSERT INTO feedback SELECT * FROM feedback WHERE feedback_id = 'f1'")
        cur.execute("INSERT INTO predictions SELECT * FROM predictions WHERE prediction_id = 'p2'")
        cur.execute("INSERT INTO assignments VALUES ('u3', 'exp', 'control', TIMESTAMP '2026-09-02')")
    page = fb.queue(ws, fb.FeedbackFilter(experiment="exp"), limit=1000)
    ids = list(page.rows.feedback_id)
    assert len(ids) == len(set(ids)) == 1000
    assert fb.count(ws, fb.FeedbackFilter(experiment="exp")) == N
    row = page.rows.set_index("feedback_id").loc["f3"]
    assert row.variant is None or pd.isna(row.variant)  # u3 saw both variants: no variant


def test_untagged_queue_by_anyone_and_by_reviewer(ws: Workspace) -> None:
    fb.tag_item(ws, "f0", ["wrong"], Actor("alice", "editor"), 0)
    fb.tag_item(ws, "f1", ["helpful"], Actor("bob", "editor"), 0)
    fb.tag_item(ws, "f2", [], Actor("bob", "editor"), 0)  # a review with no tags leaves the item untagged
    anyone = fb.FeedbackFilter(status="untagged")
    assert fb.count(ws, anyone) == N - 2
    # Whose tags fill the table (viewer) never changes which items are listed.
    listed = fb.queue(ws, anyone, limit=1000, viewer="alice")
    assert listed.total == N - 2 and not {"f0", "f1"} & set(listed.rows.feedback_id)
    mine = fb.FeedbackFilter(status="untagged", reviewer="alice")
    assert fb.count(ws, mine) == N - 1
    assert "f1" in set(fb.queue(ws, mine, limit=10).rows.feedback_id)
    assert fb.progress(ws, fb.FeedbackFilter()) == fb.Progress(tagged=2, total=N)
    assert fb.progress(ws, fb.FeedbackFilter(reviewer="bob")).tagged == 1
    # The queue's size per status is what progress already counted (the page asks once for both).
    for who in (None, "alice", "bob"):
        prog = fb.progress(ws, fb.FeedbackFilter(reviewer=who))
        for status in fb.STATUSES:
            assert prog.matching(status) == fb.count(ws, fb.FeedbackFilter(status=status, reviewer=who))
    page = fb.queue(ws, fb.FeedbackFilter(reviewer="alice"), limit=2).rows.set_index("feedback_id")
    assert page.loc["f0", "tags"] == ["wrong"] and page.loc["f0", "version"] == 1
    assert page.loc["f1", "tags"] == [] and page.loc["f1", "others"] == "bob: helpful"


def test_bad_filters_and_pages(ws: Workspace) -> None:
    with pytest.raises(LiftboardError, match="status"):
        fb.count(ws, fb.FeedbackFilter(status="maybe"))
    with pytest.raises(LiftboardError, match="page"):
        fb.queue(ws, fb.FeedbackFilter(), limit=0)
    with pytest.raises(LiftboardError, match="no feedback item"):
        fb.item_context(ws, "nope")


def test_item_context_has_input_output_and_correction(ws: Workspace) -> None:
    fid = ws.scalar("SELECT feedback_id FROM feedback WHERE signal = 'correct' ORDER BY feedback_id LIMIT 1")
    ctx = fb.item_context(ws, fid, "exp")
    i = int(fid[1:])
    assert ctx["input_text"] == f"question {i}" and ctx["output_text"] == f"answer {i}"
    assert ctx["corrected_output"] == f"+fixed {i}" and ctx["model_version"] in ("v1", "v2")


def test_unmatched_prediction_ids_are_counted(ws: Workspace) -> None:
    with ws.transaction() as cur:
        cur.execute(
            "UPDATE feedback SET prediction_id = 'ghost' || feedback_id WHERE feedback_id IN ('f1', 'f2')"
        )
    assert unmatched_predictions(ws) == (2, N)


def test_wilson_matches_statsmodels() -> None:
    for k, n in [(0, 10), (3, 10), (10, 10), (412, 1000), (5, 7)]:
        lo, hi = fb.wilson(k, n)
        slo, shi = proportion_confint(k, n, alpha=0.05, method="wilson")
        assert lo == pytest.approx(slo, abs=1e-12) and hi == pytest.approx(shi, abs=1e-12)
    assert all(math.isnan(x) for x in fb.wilson(0, 0))


def test_wilson_coverage_by_simulation() -> None:
    rng = np.random.default_rng(11)
    p, n, reps = 0.3, 80, 4000
    ks = rng.binomial(n, p, reps)
    covered = sum(lo <= p <= hi for lo, hi in (fb.wilson(int(k), n) for k in ks))
    assert 0.93 <= covered / reps <= 0.97


def test_rates_by_model_version_match_truth(ws: Workspace) -> None:
    t = _truth(ws)
    df = fb.rates(ws, fb.FeedbackFilter(experiment="exp"), by="model_version", period=None).frame()
    for mv in ("v1", "v2"):
        sub = t[t.model_version == mv]
        row = df[(df.group == mv) & (df.signal == "accept")].iloc[0]
        assert (row.k, row.n) == ((sub.signal == "accept").sum(), len(sub))
    v1 = df[(df.group == "v1") & (df.signal == "accept")].iloc[0]
    v2 = df[(df.group == "v2") & (df.signal == "accept")].iloc[0]
    # Generated with acceptance 0.6 (v1) and 0.4 (v2): the intervals cover the truth and do not overlap.
    assert v1.lo < 0.6 < v1.hi and v2.lo < 0.4 < v2.hi and v2.hi < v1.lo


def test_rates_per_day_sum_to_total(ws: Workspace) -> None:
    df = fb.rates(ws, fb.FeedbackFilter(experiment="exp"), by="variant", period="day").frame()
    acc = df[df.signal == "accept"]
    assert acc.n.sum() == N
    assert acc.period.nunique() == 35 and set(acc.group) == {"ai", "control"}
    with pytest.raises(LiftboardError, match="split"):
        fb.rates(ws, fb.FeedbackFilter(), by="country")


def test_summary_and_headline(ws: Workspace) -> None:
    s = fb.summary(ws, fb.FeedbackFilter())
    t = _truth(ws)
    assert s.total == N and s.by_signal["accept"] == (t.signal == "accept").sum()
    assert s.acceptance.rate == pytest.approx((t.signal == "accept").mean())
    assert "of 2,000 AI outputs" in fb.summary_sentence(s)
    # Users' signals are counted apart from reviewers' progress, and a tag moves only the progress.
    flt = fb.FeedbackFilter(signals=("accept", "reject"))
    counts = fb.signal_counts(ws, flt)
    fb.tag_item(ws, "f0", ["wrong"], Actor("alice", "editor"), 0)
    assert fb.signal_counts(ws, flt) == counts
    assert fb.summary(ws, flt) == fb.Summary.of(counts, fb.progress(ws, flt))
    first = ws.scalar("SELECT signal FROM feedback WHERE feedback_id = 'f0'")
    assert fb.summary(ws, flt).progress.tagged == int(first in ("accept", "reject"))


def test_a_runs_workspace_checks_the_item_table_once(ws: Workspace) -> None:
    run = ws.for_run()
    assert fb.ensure_items(run) and fb.count(run, fb.FeedbackFilter()) == N
    with ws.transaction() as cur:  # a load elsewhere, in the middle of this run
        cur.execute(
            "INSERT INTO feedback SELECT * REPLACE ('x' || feedback_id AS feedback_id) FROM feedback LIMIT 5"
        )
    assert fb.count(run, fb.FeedbackFilter()) == N  # this run keeps the item table it checked
    assert fb.count(ws.for_run(), fb.FeedbackFilter()) == N + 5  # the next run sees the new rows
    assert fb.count(ws, fb.FeedbackFilter()) == N + 5  # so does the shared workspace, which remembers nothing
    with ws.transaction() as cur:
        cur.execute("DELETE FROM feedback WHERE feedback_id LIKE 'x%'")
    assert fb.refresh_items(run) and fb.count(run, fb.FeedbackFilter()) == N  # a refresh rebuilds in the run


def test_tag_mix_counts_items_once(ws: Workspace) -> None:
    fb.tag_item(ws, "f0", ["wrong", "unsafe"], Actor("alice", "editor"), 0)
    fb.tag_item(ws, "f0", ["wrong"], Actor("bob", "editor"), 1)
    fb.tag_item(ws, "f1", ["helpful"], Actor("bob", "editor"), 0)
    mix = fb.tag_mix(ws, fb.FeedbackFilter(), period="week").rows
    got = {r.tag: (r.items, r.tagged) for r in mix.itertuples()}
    assert got == {"wrong": (1, 2), "unsafe": (1, 2), "helpful": (1, 2)}
    assert mix.share.tolist() == [0.5, 0.5, 0.5]


def test_export_csv_and_parquet_neutralise_formulas(ws: Workspace, tmp_path: Path) -> None:
    fb.bulk_tag(
        ws,
        fb.FeedbackFilter(feedback_ids=("f0", "f1", "f7")),
        Actor("=cmd|' /C calc'!A0", "editor"),
        add=["wrong"],
    )
    fb.add_tag(ws, "@risk", Actor("alice", "admin"))
    fb.tag_item(ws, "f7", ["@risk"], Actor("alice", "editor"), 1)
    n_csv = fb.export_tagged(ws, fb.FeedbackFilter(), tmp_path / "out.csv")
    n_pq = fb.export_tagged(ws, fb.FeedbackFilter(), tmp_path / "out.parquet")
    assert n_csv == n_pq == 4
    for df in (pd.read_csv(tmp_path / "out.csv"), pd.read_parquet(tmp_path / "out.parquet")):
        assert len(df) == 4
        assert df.loc[df.feedback_id == "f7", "comment"].iloc[0] == '\'=HYPERLINK("x")'  # 7 % 7 == 0
        assert (df.loc[df.reviewer != "alice", "reviewer"] == "'=cmd|' /C calc'!A0").all()
        assert df.loc[df.reviewer == "alice", "tags"].iloc[0] == "'@risk"
        text = df.select_dtypes(include=["object", "str"]).astype(str)
        assert not text.apply(lambda c: c.str.match(r"^[=+\-@]")).any().any()
    frame = fb.export_frame(ws, fb.FeedbackFilter())
    assert len(frame) == 4 and frame.comment.str.startswith("'=").any()
    with pytest.raises(LiftboardError, match=r"\.csv or \.parquet"):
        fb.export_tagged(ws, fb.FeedbackFilter(), tmp_path / "out.xlsx")


def test_demo_acceptance_falls_after_drift(demo_ws: Workspace) -> None:
    from analytics.ingest import TRUTH

    before = fb.summary(demo_ws, fb.FeedbackFilter(end=TRUTH.drift_date.date() - dt.timedelta(days=1)))
    after = fb.summary(demo_ws, fb.FeedbackFilter(start=TRUTH.drift_date.date()))
    assert before.total > 1000 and after.total > 1000
    assert after.acceptance.hi < before.acceptance.lo
    assert fb.progress(demo_ws, fb.FeedbackFilter()).tagged == 550

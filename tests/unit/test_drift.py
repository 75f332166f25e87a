"""The drift engine on generated logs with a shift of known size from a known date, and on the demo."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from analytics.cli import main as cli
from analytics.drift import DriftSettings, compute_drift, parse_chunk, parse_reference
from analytics.drift import stats as ds
from analytics.errors import LiftboardError
from analytics.workspace import Workspace, open_workspace
from tests.support.drift_data import START, make_log, write


@pytest.fixture(scope="module")
def shifted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, pd.DataFrame]:
    ws = open_workspace(tmp_path_factory.mktemp("drift") / "shift.duckdb")
    df = make_log()
    write(ws, df)
    yield ws, df
    ws.close()


def test_shifted_feature_alerts_from_its_date_and_stable_ones_stay_quiet(shifted) -> None:
    ws, _ = shifted
    report = compute_drift(ws)
    assert report.reference_start == START and report.reference_end == START + timedelta(days=7)
    assert report.reference_n == 7 * 800
    x = report.feature("x")
    alerting = [c.key for c in x.chunks if c.alert]
    assert alerting == [f"2026-09-{d:02d}" for d in range(15, 29)]
    assert all(c.psi > 0.3 for c in x.chunks if c.key >= "2026-09-15")
    assert all(c.psi < 0.1 for c in x.chunks if c.key < "2026-09-15")
    for name in ("score", "latency_ms", "depth", "category"):
        assert not [c.key for c in report.feature(name).chunks if c.alert], name
    assert {a.feature for a in report.alerts} == {"x"}
    assert [f.name for f in report.drifting_now()] == ["x"]
    skipped = dict(report.skipped)
    assert skipped["prediction_id"] == "identifier" and skipped["user_id"] == "identifier"
    assert skipped["input_text"].startswith("free text")
    assert [f.kind for f in report.features] == ["numeric", "numeric", "numeric", "numeric", "categorical"]


def test_chunk_numbers_match_scipy_and_hand_computation(shifted) -> None:
    ws, df = shifted
    report = compute_drift(ws)
    ref = df[df.timestamp < START + timedelta(days=7)]
    cur = df[(df.timestamp >= datetime(2026, 9, 20)) & (df.timestamp < datetime(2026, 9, 21))]
    for name in ("x", "latency_ms", "score"):
        f = report.feature(name)
        c = f.chunk("2026-09-20")
        edges = np.array(f.edges)
        # PSI bins: the user's 10 quantile bins plus the two open end bins, recounted here from raw rows.
        assert len(f.bin_labels) == 12 and len(edges) == 11
        recount = np.bincount(np.searchsorted(edges, cur[name], side="left"), minlength=12)
        assert tuple(recount) == c.counts
        ref_recount = np.bincount(np.searchsorted(edges, ref[name], side="left"), minlength=12)
        assert tuple(ref_recount) == f.ref_counts
        assert ref_recount[0] == 0 and ref_recount[-1] == 0  # nothing outside the reference's own range
        assert all(abs(k - len(ref) / 10) <= 2 for k in ref_recount[1:-1])  # deciles
        r = np.maximum(ref_recount / ref_recount.sum(), 1e-4)
        q = np.maximum(recount / recount.sum(), 1e-4)
        assert c.psi == pytest.approx(float(np.sum((q - r) * np.log(q / r))), rel=1e-9)
        ks = stats.ks_2samp(ref[name], cur[name], method="asymp")
        assert c.ks == pytest.approx(ks.statistic, abs=0.012)
        w = stats.wasserstein_distance(ref[name], cur[name]) / ref[name].std(ddof=1)
        assert c.wasserstein == pytest.approx(w, abs=0.01)
    cat = report.feature("category")
    c = cat.chunk("2026-09-20")
    want_ref = ref.category.value_counts().reindex(cat.bin_labels).to_numpy()
    want_cur = cur.category.value_counts().reindex(cat.bin_labels).to_numpy()
    assert cat.ref_counts == tuple(want_ref) and c.counts == tuple(want_cur)
    assert c.js == pytest.approx(jensenshannon(want_ref / want_ref.sum(), want_cur / want_cur.sum(), base=2))
    assert c.chi2_p == pytest.approx(
        stats.chi2_contingency(np.vstack([want_ref, want_cur]), correction=False).pvalue
    )


def test_learned_threshold_is_mean_plus_three_sigma_of_reference_chunks(shifted) -> None:
    ws, _ = shifted
    report = compute_drift(ws, DriftSettings(threshold=0.02))
    x = report.feature("x")
    ref_scores = [c.psi for c in x.chunks if c.period == "reference"]
    assert len(ref_scores) == 7
    expected = max(np.mean(ref_scores) + 3 * np.std(ref_scores, ddof=1), 0.01)
    assert x.learned_threshold == pytest.approx(expected)
    assert x.fixed_threshold == 0.02
    off = compute_drift(ws, DriftSettings(learned=False)).feature("x")
    assert off.learned_threshold is None and not any(c.alert_learned for c in off.chunks)


def test_false_alert_rate_over_many_stable_chunks(tmp_path: Path) -> None:
    """No shift at all: per feature-chunk false alerts stay under 2% at the default settings, even for small chunks."""
    alerts = total = 0
    for seed, per_day in [(11, 120), (12, 300), (13, 1500)]:
        ws = open_workspace(tmp_path / f"null{seed}.duckdb")
        write(ws, make_log(days=60, per_day=per_day, seed=seed, shift=0.0))
        report = compute_drift(ws)
        for f in report.features:
            for c in f.analysis():
                total += 1
                alerts += c.alert
        ws.close()
    assert total == 3 * 53 * 5
    assert alerts / total < 0.02


def test_small_chunks_need_significance_but_large_shifts_still_alert(tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "small.duckdb")
    write(ws, make_log(days=21, per_day=120, seed=5, shift=1.0))
    report = compute_drift(ws)
    x = report.feature("x")
    assert all(c.alert for c in x.analysis() if c.key >= "2026-09-15")
    noisy = [c for f in report.features if f.name != "x" for c in f.analysis() if c.psi >= 0.2]
    assert all(not c.alert_fixed and c.p_value >= 0.01 for c in noisy)


def test_bins_setting_takes_effect_and_repeated_values_collapse(shifted) -> None:
    ws, _ = shifted
    report = compute_drift(ws, DriftSettings(bins=5))
    assert len(report.feature("x").bin_labels) == 5 + 2
    depth = report.feature("depth")  # integers 1..4: ten quantile edges collapse to at most four bins
    assert len(depth.bin_labels) - 2 <= 4
    assert any("bins requested" in n and "merged" in n for n in depth.notes)


def test_values_outside_the_reference_range_land_in_open_end_bins(tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "open.duckdb")
    df = make_log(days=10, per_day=400, seed=2, shift=0.0)
    df.loc[df.timestamp >= datetime(2026, 9, 9), "score"] += 2.0  # beyond the reference maximum (< 1)
    write(ws, df)
    f = compute_drift(ws).feature("score")
    c = f.chunk("2026-09-09")
    assert c.counts[-1] == 400 and sum(c.counts[:-1]) == 0
    assert f.bin_labels[-1].startswith("> ") and f.bin_labels[0].startswith("< ")
    assert math.isfinite(c.psi) and c.psi > 5 and c.alert_fixed


def test_missing_rate_is_a_signal_of_its_own(tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "missing.duckdb")
    df = make_log(days=14, per_day=500, seed=3, shift=0.0)
    late = df.index[(df.timestamp >= datetime(2026, 9, 11)).to_numpy()]
    df.loc[late[::4], "latency_ms"] = np.nan  # 25% missing from 2026-09-11
    write(ws, df)
    f = compute_drift(ws).feature("latency_ms")
    assert f.ref_missing_rate == 0
    assert [c.key for c in f.chunks if c.alert_missing] == [f"2026-09-{d:02d}" for d in range(11, 15)]
    assert f.chunk("2026-09-12").missing_rate == pytest.approx(0.25, abs=0.002)
    assert not any(c.alert_fixed for c in f.chunks)  # the values that remain have not moved


def test_constant_and_all_null_features_give_defined_results(tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "const.duckdb")
    df = make_log(days=10, per_day=200, seed=4, shift=0.0)
    df["version"] = "v1"
    df["flat"] = 3.0
    df["empty"] = np.nan
    df["empty_text"] = pd.Series([None] * len(df), dtype="string")
    write(ws, df)
    report = compute_drift(ws)
    for name in ("version", "flat", "empty", "empty_text"):
        f = report.feature(name)
        assert all(c.psi == 0.0 and not c.alert for c in f.chunks), name
        assert f.notes, name
    assert "Constant in the reference" in report.feature("flat").notes[0]
    assert "Constant in the reference" in report.feature("version").notes[0]
    assert "All values are null" in report.feature("empty").notes[0]
    assert "All values are null" in report.feature("empty_text").notes[0]
    doc = report.to_dict()
    json.dumps(doc, allow_nan=False)  # no NaN anywhere


def test_new_category_gets_its_own_bin(tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "newcat.duckdb")
    df = make_log(days=10, per_day=400, seed=6, shift=0.0)
    late = (df.timestamp >= datetime(2026, 9, 9)).to_numpy()
    df.loc[late, "category"] = np.where(np.arange(late.sum()) % 2 == 0, "toys", df.loc[late, "category"])
    write(ws, df)
    f = compute_drift(ws).feature("category")
    assert f.bin_labels[-1] == "toys" and f.ref_counts[-1] == 0
    c = f.chunk("2026-09-09")
    assert c.counts[-1] == 200 and c.alert_fixed and c.js > 0.3
    assert any("not in the reference" in n for n in f.notes)


def test_weekly_and_row_count_chunks(shifted) -> None:
    ws, _ = shifted
    weekly = compute_drift(ws, DriftSettings(chunk="week"))
    assert [c.key for c in weekly.chunks] == [
        "2026-08-31",
        "2026-09-07",
        "2026-09-14",
        "2026-09-21",
        "2026-09-28",
    ]
    # The week of Monday 08-31 holds 09-01 .. 09-06, all inside the reference; the next one straddles its end.
    assert [c.period for c in weekly.chunks] == ["reference"] + ["analysis"] * 4
    assert weekly.feature("x").learned_threshold is None  # one reference chunk: nothing to learn from
    assert [c.key for c in weekly.feature("x").chunks if c.alert] == [
        "2026-09-14",
        "2026-09-21",
        "2026-09-28",
    ]
    rows = compute_drift(ws, DriftSettings(chunk=4000))
    assert [c.n for c in rows.chunks] == [4000] * 5 + [2400]
    assert rows.chunks[0].period == "reference" and rows.chunks[1].period == "analysis"
    assert [c.key for c in rows.feature("x").chunks if c.alert] == ["#4", "#5", "#6"]


def test_feedback_acceptance_is_tracked_as_an_outcome(tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "fb.duckdb")
    df = make_log(days=14, per_day=500, seed=8, shift=0.0)
    write(ws, df)
    rng = np.random.default_rng(8)
    late = (df.timestamp >= datetime(2026, 9, 11)).to_numpy()
    accept = rng.random(len(df)) < np.where(late, 0.3, 0.8)
    fb = pd.DataFrame(
        {
            "feedback_id": [f"f{i}" for i in range(len(df))],
            "prediction_id": df.prediction_id,
            "signal": np.where(accept, "accept", "reject"),
        }
    )
    write(ws, fb, "feedback")
    f = compute_drift(ws).feature("feedback acceptance")
    assert f.kind == "outcome" and set(f.bin_labels) == {"accepted", "not accepted"}
    assert [c.key for c in f.chunks if c.alert] == [f"2026-09-{d:02d}" for d in range(11, 15)]


def test_bad_input_gives_one_clear_sentence(tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "bad.duckdb")
    with pytest.raises(LiftboardError, match="no predictions table"):
        compute_drift(ws)
    empty = make_log(days=2, per_day=10).assign(timestamp=pd.NaT)
    write(ws, empty)
    with pytest.raises(LiftboardError, match="no rows with a timestamp"):
        compute_drift(ws)
    write(ws, make_log(days=10, per_day=50))
    with pytest.raises(
        LiftboardError, match="reference window 2025-01-01 00:00 .. 2025-01-08 00:00 holds no"
    ):
        compute_drift(ws, DriftSettings(reference=parse_reference("2025-01-01..2025-01-07")))
    with pytest.raises(LiftboardError, match="only one week chunk"):
        write(ws, make_log(days=3, per_day=50))  # 2026-09-01 .. 09-03: one week
        compute_drift(ws, DriftSettings(chunk="week"))
    with pytest.raises(LiftboardError, match="Every prediction falls inside the reference window"):
        compute_drift(ws)  # three days, all inside the default seven-day reference
    write(ws, make_log(days=10, per_day=600))
    with pytest.raises(LiftboardError, match="into 600 chunks; choose larger chunks .* or 12 rows"):
        compute_drift(ws, DriftSettings(chunk=10))
    with pytest.raises(LiftboardError, match="bin count"):
        compute_drift(ws, DriftSettings(bins=1))
    with pytest.raises(LiftboardError, match="no column 'nope'"):
        compute_drift(ws, DriftSettings(features=("nope",)))
    with pytest.raises(LiftboardError, match="not START..END"):
        parse_reference("2026-09-01")
    with pytest.raises(LiftboardError, match="ends before it starts"):
        parse_reference("2026-09-07..2026-09-01")
    with pytest.raises(LiftboardError, match="not day, week or a number"):
        parse_chunk("month")
    ws.close()


def test_parse_reference_and_chunk() -> None:
    assert parse_reference("2026-09-01..2026-09-07") == (datetime(2026, 9, 1), datetime(2026, 9, 8))
    assert parse_reference("2026-09-01T06:00..2026-09-02T06:00") == (
        datetime(2026, 9, 1, 6),
        datetime(2026, 9, 2, 6),
    )
    assert parse_reference("") is None
    assert parse_chunk("Week") == "week" and parse_chunk("5000") == 5000


def test_cli_json_and_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = open_workspace(tmp_path / "cli.duckdb")
    write(ws, make_log())
    ws.close()
    path = str(tmp_path / "cli.duckdb")
    assert cli(["drift", "--db", path, "--json", "--reference", "2026-09-01..2026-09-07", "--bins", "8"]) == 0
    doc = json.loads(capsys.readouterr().out)
    x = next(f for f in doc["features"] if f["name"] == "x")
    assert x["kind"] == "numeric"
    first = x["chunks"][0]
    assert {"start", "end", "n", "psi", "alert"} <= set(first)
    assert [c["start"][:10] for c in x["chunks"] if c["alert"]][0] == "2026-09-15"
    assert {a["feature"] for a in doc["alerts"]} == {"x"}
    assert doc["settings"]["bins"] == 8
    assert cli(["drift", "--db", path, "--chunk", "week", "--threshold", "0.25"]) == 0
    text = capsys.readouterr().out
    assert "x" in text and "drift" in text.lower()
    assert cli(["drift", "--db", path, "--chunk", "month"]) == 2
    assert "not day, week or a number" in capsys.readouterr().err


def test_demo_drift_date_is_found(demo_ws: Workspace) -> None:
    report = compute_drift(demo_ws)
    assert report.reference_start == datetime(2026, 9, 8)
    drifted = {"score", "category", "query_length"}
    for name in drifted:
        first = [c.key for c in report.feature(name).chunks if c.alert]
        assert first and first[0] == "2026-09-22", name
        assert all(c.alert for c in report.feature(name).analysis() if c.key >= "2026-09-22"), name
    assert drifted <= {f.name for f in report.drifting_now()}
    for name in ("latency_ms", "tokens_out", "session_depth", "model_version"):
        assert not any(c.alert for c in report.feature(name).chunks), name
    assert {n for n, _ in report.skipped} >= {"input_text", "output_text", "prediction_id", "user_id"}
    assert (
        ds.psi(report.feature("score").ref_counts, report.feature("score").chunk("2026-09-25").counts) > 0.4
    )


def test_discrete_values_and_sampled_quantiles_keep_counts_exact(
    shifted,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import analytics.drift.sql as drift_sql

    ws, df = shifted
    exact = compute_drift(ws)
    monkeypatch.setattr(drift_sql, "QUANTILE_ROWS", 1_000)  # about a sixth of the 5,600 reference rows
    sampled = compute_drift(ws)
    ref = df[df.timestamp < START + timedelta(days=7)]
    cur = df[(df.timestamp >= datetime(2026, 9, 20)) & (df.timestamp < datetime(2026, 9, 21))]
    for report in (exact, sampled):
        depth = report.feature("depth")  # four integer values: counted value by value, binned in Python
        recount = np.bincount(
            np.searchsorted(depth.edges, cur.depth, side="left"), minlength=len(depth.edges) + 1
        )
        assert tuple(recount) == depth.chunk("2026-09-20").counts
        x = report.feature("x")
        recount = np.bincount(np.searchsorted(x.edges, ref.x, side="left"), minlength=len(x.edges) + 1)
        assert tuple(recount) == x.ref_counts
    # Edges from the sample are close to the exact quantiles: each bin still holds about a tenth.
    shares = np.array(sampled.feature("x").ref_counts[1:-1]) / len(ref)
    assert np.all(np.abs(shares - 0.1) < 0.02)
    assert sampled.feature("x").edges != exact.feature("x").edges
    assert [c.key for c in sampled.feature("x").chunks if c.alert][0] == "2026-09-15"


def test_drifting_since_is_the_engine_s_for_page_and_cli(shifted, capsys: pytest.CaptureFixture[str]) -> None:
    """Former disagreement: the page said "drifting since" (start of the current run of alerts) and the CLI
    "first alert" (the first alert ever, even one the feature recovered from); both now read the engine's."""
    from dataclasses import replace

    from analytics.cli.drift import summary_text

    ws, _ = shifted
    report = compute_drift(ws, DriftSettings(bins=8))
    x = report.feature("x")
    assert x.drifting_since is not None and x.drifting_since.key == "2026-09-15"
    # A run broken by a quiet chunk restarts: alert, quiet, alert, alert -> since the third chunk.
    flags = [True, False, True, True]
    chunks = list(x.analysis()[: len(flags)])
    fake = replace(
        x,
        chunks=tuple(
            replace(c, alert_fixed=a, alert_learned=False) for c, a in zip(chunks, flags, strict=True)
        ),
    )
    assert fake.drifting_since == fake.chunks[2] and [c for c in fake.chunks if c.alert][0] == fake.chunks[0]
    quiet = replace(x, chunks=tuple(replace(c, alert_fixed=False, alert_learned=False) for c in chunks))
    assert quiet.drifting_since is None
    line = next(ln for ln in summary_text(report).splitlines() if ln.startswith("x "))
    assert line.endswith("2026-09-15") and "drifting since" in summary_text(report)
    assert (
        report.to_dict()["features"][[f.name for f in report.features].index("x")]["drifting_since"]
        == "2026-09-15"
    )

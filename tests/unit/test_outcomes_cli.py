"""Real-shaped A/B files through the command line, exactly as issue 15's contract writes it.

Each file is loaded as it comes (no pandas step), analysed with ``outcome:COLUMN``, and every number is checked
against scipy/statsmodels computed on the same rows (to 1e-9): Welch's t for means, the two-proportion Wald
statistic for proportions (whose p-value, with GrowthBook's per-arm variance p(1−p), is Welch's t test on the
0/1 values with that variance), χ² for the split, Holm and Benjamini–Hochberg from statsmodels.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from analytics.cli import main
from tests.support import ab_shapes as shapes
from tests.support.ab_checks import (
    TOL,
    analyze,
    check_proportion,
    check_welch,
    cli,
    cli_json,
    close,
    load,
    metric,
)

# -- one row per player, no timestamp, no experiment column: Cookie Cats (90,189 rows) ---------------------


@pytest.fixture(scope="module")
def cookie(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    path = shapes.cookie_cats(tmp_path_factory.mktemp("cookie") / "cookie_cats.csv")
    return path, pd.read_csv(path)


@pytest.fixture(scope="module")
def cookie_db(cookie, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("cookie-db") / "ws.duckdb"
    assert (
        main(["load", str(cookie[0]), "--kind", "outcomes", "--experiment", "cookie_cats", "--db", str(db)])
        == 0
    )
    return db


def test_cookie_cats_loads_as_it_comes(cookie, tmp_path: Path, capsys) -> None:
    path, df = cookie
    doc = load(capsys, tmp_path / "ws.duckdb", path, "outcomes", "--experiment", "cookie_cats")
    report = doc["report"]
    assert report["ok"] and report["rows"] == shapes.COOKIE_ROWS == 90_189
    assert report["users"] == 90_189
    assert report["mapping"]["user_id"] == "userid" and report["mapping"]["variant"] == "version"
    assert report["mapping"]["experiment"] is None and report["mapping"]["timestamp"] is None
    # True/False text becomes a boolean outcome, game rounds a number
    assert report["extras"] == {
        "sum_gamerounds": "BIGINT",
        "retention_1": "BOOLEAN",
        "retention_7": "BOOLEAN",
    }
    listed = cli_json(capsys, "experiments", "--db", tmp_path / "ws.duckdb")["experiments"]
    assert [(e["name"], e["variants"], e["users"]) for e in listed] == [
        ("cookie_cats", ["gate_30", "gate_40"], 90_189)
    ]


def test_cookie_cats_retention_and_rounds_equal_scipy(cookie, cookie_db: Path, capsys) -> None:
    _, df = cookie
    doc = analyze(capsys, cookie_db, "cookie_cats", "--control", "gate_30", "--metric", "outcome:retention_1",
                  "--metric", "outcome:retention_7", "--metric", "outcome:sum_gamerounds")  # fmt: skip
    assert doc["control"] == "gate_30"
    c, t = df[df.version == "gate_30"], df[df.version == "gate_40"]
    close(doc["srm"]["p_value"], sps.chisquare([len(c), len(t)]).pvalue)
    assert doc["srm"]["ok"]  # 44,700 against 45,489: p = 0.0086, not a mismatch at 0.001
    for col in ("retention_1", "retention_7"):
        m = metric(doc, f"outcome:{col}")
        assert m["aggregate"] == "proportion"
        assert [(v["name"], v["users"]) for v in m["variants"]] == [("gate_30", 44_700), ("gate_40", 45_489)]
        check_proportion(m["comparisons"][0], c[col].to_numpy(float), t[col].to_numpy(float))
        assert m["incomplete_users"] == 0
    # the published day-7 retention: 19.0% against 18.2%, a real drop (p ≈ 0.0016)
    r7 = metric(doc, "outcome:retention_7")
    close(r7["variants"][0]["mean"], 8_502 / 44_700)
    assert r7["comparisons"][0]["significant"] and r7["comparisons"][0]["p_value"] < 0.01
    rounds = metric(doc, "outcome:sum_gamerounds")
    assert rounds["aggregate"] == "mean"
    check_welch(rounds["comparisons"][0], c.sum_gamerounds.to_numpy(float), t.sum_gamerounds.to_numpy(float))


def test_cookie_cats_text_verdict_names_the_control_and_counts_rounds_without_dollars(
    cookie_db, capsys
) -> None:
    code, out, err = cli(capsys, "analyze", "--experiment", "cookie_cats", "--db", cookie_db,
                         "--metric", "outcome:sum_gamerounds", "--metric", "outcome:retention_7")  # fmt: skip
    assert code == 0, err
    assert "$" not in out  # game rounds are plain numbers, not money
    assert "control arm: gate_30 (no arm is named like a control" in out
    assert "day-7" in out or "retention_7" in out


def test_cookie_cats_sequential_bayesian_and_power(cookie_db, capsys) -> None:
    fixed = analyze(capsys, cookie_db, "cookie_cats", "--metric", "outcome:retention_7")
    seq = analyze(capsys, cookie_db, "cookie_cats", "--metric", "outcome:retention_7", "--sequential")
    f, s = (
        metric(fixed, "outcome:retention_7")["comparisons"][0],
        metric(seq, "outcome:retention_7")["comparisons"][0],
    )
    assert s["method"] == "sequential" and s["p_value"] >= f["p_value"]
    assert s["abs_ci"][1] - s["abs_ci"][0] > f["abs_ci"][1] - f["abs_ci"][0]
    assert 0.0 < f["chance_to_win"] < 0.01  # gate_40 retains fewer players


def test_segments_on_a_text_column_are_bh_adjusted(tmp_path: Path, capsys) -> None:
    path = shapes.marketing_ab(tmp_path / "marketing_AB.csv", rows=30_000)
    db = tmp_path / "ws.duckdb"
    load(capsys, db, path, "outcomes", "--experiment", "ads")
    doc = analyze(
        capsys, db, "ads", "--control", "psa", "--metric", "outcome:converted", "--segment", "most ads day"
    )
    df = pd.read_csv(path, index_col=0)
    raw, got = [], []
    for seg in doc["segments"]:
        rows = df[df["most ads day"] == seg["value"]]
        c = rows[rows["test group"] == "psa"].converted.to_numpy(float)
        t = rows[rows["test group"] == "ad"].converted.to_numpy(float)
        comp = seg["metrics"][0]["comparisons"][0]
        check_proportion(comp, c, t)
        raw.append(comp["p_value"])
        got.append(comp["p_value_adjusted"])
    assert sorted(s["value"] for s in doc["segments"]) == sorted(shapes.DAYS)
    np.testing.assert_allclose(got, multipletests(raw, method="fdr_bh")[1], rtol=TOL)


# -- a leading unnamed pandas index column, ad/psa, True/False: the marketing test ---------------------------


def test_marketing_index_column_is_dropped_with_a_note(tmp_path: Path, capsys) -> None:
    path = shapes.marketing_ab(tmp_path / "marketing_AB.csv", rows=5_000)
    db = tmp_path / "ws.duckdb"
    doc = load(capsys, db, path, "outcomes", "--experiment", "ads")
    report = doc["report"]
    assert report["ok"] and report["rows"] == 5_000
    notes = [i for i in report["issues"] if i["code"] == "unnamed_index"]
    assert len(notes) == 1 and notes[0]["level"] == "warning"
    assert "row numbers" in notes[0]["message"]
    assert "" not in report["extras"] and report["mapping"]["user_id"] == "user id"
    assert report["mapping"]["variant"] == "test group"
    assert report["extras"]["converted"] == "BOOLEAN" and report["extras"]["most ads day"] == "VARCHAR"
    out = analyze(
        capsys,
        db,
        "ads",
        "--control",
        "psa",
        "--metric",
        "outcome:converted",
        "--metric",
        "outcome:total ads",
    )
    df = pd.read_csv(path, index_col=0)
    c, t = df[df["test group"] == "psa"], df[df["test group"] == "ad"]
    check_proportion(
        metric(out, "outcome:converted")["comparisons"][0],
        c.converted.to_numpy(float),
        t.converted.to_numpy(float),
    )
    check_welch(
        metric(out, "outcome:total ads")["comparisons"][0],
        c["total ads"].to_numpy(float),
        t["total ads"].to_numpy(float),
    )
    # 96% / 4% is not an equal split: SRM flags it until the planned split is set, and the CLI says so first
    assert not out["srm"]["ok"]


# -- visits with timestamps, 0/1, users in both groups: the Udacity landing-page test ------------------------


def test_ab_data_with_timestamps_and_users_in_both_groups(tmp_path: Path, capsys) -> None:
    path = shapes.ab_data(tmp_path / "ab_data.csv", users=20_000)
    db = tmp_path / "ws.duckdb"
    report = load(capsys, db, path, "outcomes", "--experiment", "landing_page")["report"]
    assert report["mapping"]["timestamp"] == "timestamp" and report["mapping"]["variant"] == "group"
    assert report["extras"] == {"landing_page": "VARCHAR", "converted": "BIGINT"}
    assert any(i["code"] == "multi_variant_users" for i in report["issues"])
    doc = analyze(capsys, db, "landing_page", "--metric", "outcome:converted")
    df = pd.read_csv(path)
    groups = df.groupby("user_id")["group"].nunique()
    both = set(groups[groups > 1].index)
    assert doc["multi_variant_users"] == len(both) > 0
    # each remaining user once: converted if any of their visits converted
    per_user = (
        df[~df.user_id.isin(both)].groupby("user_id").agg(group=("group", "first"), y=("converted", "max"))
    )
    c = per_user[per_user.group == "control"].y.to_numpy(float)
    t = per_user[per_user.group == "treatment"].y.to_numpy(float)
    m = metric(doc, "outcome:converted")
    assert m["aggregate"] == "proportion"
    check_proportion(m["comparisons"][0], c, t)
    assert doc["control"] == "control"
    # the exposure timestamps make the data end the last exposure (no events table needed)
    assert doc["data_end"].startswith("2017-01-24")


# -- yes/no text and a numeric outcome, 100 users: E-news Express ---------------------------------------------


def test_enews_yes_no_and_minutes(tmp_path: Path, capsys) -> None:
    path = shapes.enews(tmp_path / "abtest.csv")
    db = tmp_path / "ws.duckdb"
    report = load(capsys, db, path, "outcomes", "--experiment", "enews")["report"]
    assert report["extras"]["converted"] == "BOOLEAN"
    assert report["extras"]["time_spent_on_the_page"] == "DOUBLE"
    doc = analyze(
        capsys, db, "enews", "--metric", "outcome:converted", "--metric", "outcome:time_spent_on_the_page"
    )
    df = pd.read_csv(path)
    c, t = df[df.group == "control"], df[df.group == "treatment"]
    check_proportion(
        metric(doc, "outcome:converted")["comparisons"][0],
        (c.converted == "yes").to_numpy(float),
        (t.converted == "yes").to_numpy(float),
    )
    check_welch(
        metric(doc, "outcome:time_spent_on_the_page")["comparisons"][0],
        c.time_spent_on_the_page.to_numpy(float),
        t.time_spent_on_the_page.to_numpy(float),
    )


# -- per-arm totals -------------------------------------------------------------------------------------------


def test_totals_with_counts_equal_the_per_user_rows(cookie_db: Path, tmp_path: Path, capsys) -> None:
    path = shapes.totals_counts(tmp_path / "from_the_tool.csv")
    db = tmp_path / "ws.duckdb"
    report = load(capsys, db, path, "totals", "--experiment", "cookie_totals")["report"]
    assert report["ok"] and report["rows"] == 2
    assert report["mapping"]["variant"] == "Variation" and report["mapping"]["users"] == "Visitors"
    totals = analyze(capsys, db, "cookie_totals", "--control", "gate_30", "--metric", "outcome:Conversions")
    rows = analyze(
        capsys, cookie_db, "cookie_cats", "--control", "gate_30", "--metric", "outcome:retention_7"
    )
    a, b = totals["metrics"][0], rows["metrics"][0]
    assert a["aggregate"] == "proportion" == b["aggregate"]
    for key in ("abs_lift", "abs_ci", "rel_lift", "rel_ci", "p_value", "p_value_adjusted", "se", "df"):
        np.testing.assert_allclose(a["comparisons"][0][key], b["comparisons"][0][key], rtol=TOL)
    assert a["comparisons"][0]["significant"] == b["comparisons"][0]["significant"]
    close(totals["srm"]["p_value"], rows["srm"]["p_value"])
    assert [v["users"] for v in a["variants"]] == [44_700, 45_489]
    # the report's header says what the numbers are: per-arm totals, or per-user rows without times
    from analytics.overview import build_report
    from analytics.workspace import open_workspace

    for path_, name, shape in ((db, "cookie_totals", "per-arm totals"),
                               (cookie_db, "cookie_cats", "per-user outcomes, without times")):  # fmt: skip
        ws = open_workspace(path_, read_only=True)
        try:
            assert f" · {shape} ·\nworkspace " in build_report(ws, name).html
        finally:
            ws.close()


def test_totals_with_mean_and_sd_three_arms_holm(tmp_path: Path, capsys) -> None:
    path = shapes.totals_means(tmp_path / "revenue.csv")
    db = tmp_path / "ws.duckdb"
    load(capsys, db, path, "totals", "--experiment", "models")
    doc = analyze(capsys, db, "models", "--metric", "outcome:revenue")
    assert doc["control"] == "control"
    m = metric(doc, "outcome:revenue")
    assert m["aggregate"] == "mean"
    arms = {a.name: a for a in shapes.REVENUE_TOTALS}
    ctrl = arms["control"]
    raw = []
    for comp in m["comparisons"]:
        v = arms[comp["variant"]]
        ref = sps.ttest_ind_from_stats(v.mean, v.sd, v.users, ctrl.mean, ctrl.sd, ctrl.users, equal_var=False)
        close(comp["p_value"], ref.pvalue)
        close(comp["abs_lift"], v.mean - ctrl.mean)
        raw.append(comp["p_value"])
    reject, adjusted, *_ = multipletests(raw, method="holm")
    np.testing.assert_allclose([c["p_value_adjusted"] for c in m["comparisons"]], adjusted, rtol=TOL)
    # revenue is money: the text verdict shows dollars
    code, out, _ = cli(capsys, "analyze", "--experiment", "models", "--db", db, "--metric", "outcome:revenue")
    assert code == 0 and "$3.41" in out


def test_totals_say_what_needs_per_user_rows(tmp_path: Path, capsys) -> None:
    path = shapes.totals_counts(tmp_path / "from_the_tool.csv")
    db = tmp_path / "ws.duckdb"
    load(capsys, db, path, "totals", "--experiment", "t")
    for flag in (["--segment", "country"], ["--cuped"], ["--cuped-covariate", "pre"]):
        code, out, err = cli(
            capsys, "analyze", "--experiment", "t", "--db", db, "--metric", "outcome:Conversions", *flag
        )
        assert code == 2 and out == ""
        assert "per-user rows" in err and err.count("\n") == 1, err


# -- one experiment without an experiment column; errors ------------------------------------------------------


def test_assignments_without_an_experiment_column(tmp_path: Path, capsys) -> None:
    path = shapes.assignments_no_experiment(tmp_path / "exposures.csv")
    db = tmp_path / "ws.duckdb"
    report = load(capsys, db, path, "assignments", "--experiment", "recs_test")["report"]
    assert report["ok"] and report["mapping"]["variant"] == "variation"
    listed = cli_json(capsys, "experiments", "--db", db)["experiments"]
    assert [(e["name"], sorted(e["variants"]), e["users"]) for e in listed] == [
        ("recs_test", ["AI recs", "Control"], 2_000)
    ]


def test_no_experiment_column_and_no_name_is_one_clear_sentence(tmp_path: Path, capsys) -> None:
    path = shapes.assignments_no_experiment(tmp_path / "exposures.csv")
    code, out, err = cli(capsys, "load", path, "--kind", "assignments", "--db", tmp_path / "ws.duckdb")
    assert code == 2 and "--experiment" in err and "--map" not in err


def test_dry_run_of_a_file_that_cannot_load_exits_2_and_writes_nothing(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("userid,score\n1,2\n")  # no variant column
    db = tmp_path / "never.duckdb"
    code, out, err = cli(
        capsys, "load", bad, "--kind", "outcomes", "--experiment", "x", "--dry-run", "--db", db
    )
    assert code == 2 and not db.exists()
    blank = tmp_path / "blank_ids.csv"
    blank.write_text("user_id,variant,y\n,control,1\nu2,ai,0\n")
    code, out, err = cli(
        capsys, "load", blank, "--kind", "outcomes", "--experiment", "x", "--dry-run", "--db", db
    )
    assert code == 2 and not db.exists()


def test_json_errors_are_a_json_document_on_stdout(tmp_path: Path, capsys) -> None:
    db = tmp_path / "ws.duckdb"
    load(capsys, db, shapes.totals_counts(tmp_path / "t.csv"), "totals", "--experiment", "cookie_totals")
    code, out, err = cli(capsys, "analyze", "--experiment", "nope", "--db", db, "--json")
    assert code == 2 and err == ""
    doc = json.loads(out)
    assert list(doc) == ["error"] and "'nope'" in doc["error"] and "cookie_totals" in doc["error"]
    code, out, _ = cli(capsys, "load", tmp_path / "missing.csv", "--kind", "outcomes", "--db", db, "--json")
    assert code == 2 and "does not exist" in json.loads(out)["error"]
    # a dry run of a file that cannot load: the error and the report, on stdout, exit 2
    bad = tmp_path / "bad.csv"
    bad.write_text("user_id,variant,note\nu1,a,hello\nu2,b,bye\n")
    code, out, _ = cli(
        capsys, "load", bad, "--kind", "outcomes", "--experiment", "x", "--dry-run", "--db", db, "--json"
    )
    doc = json.loads(out)
    assert code == 2 and "no outcome column" in doc["error"] and doc["report"]["ok"] is False

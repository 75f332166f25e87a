"""Users left out loudly, the date the data are complete through, CUPED on a named column, money units."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from tests.support import ab_shapes as shapes
from tests.support.ab_checks import TOL, analyze, check_proportion, check_welch, cli, load, metric


@pytest.fixture()
def recent(tmp_path: Path, capsys) -> Path:
    """An event-log experiment whose data end soon after the last exposures."""
    asg, ev = shapes.event_log_with_recent_exposures(tmp_path)
    db = tmp_path / "ws.duckdb"
    load(capsys, db, asg, "assignments")
    load(capsys, db, ev, "events")
    return db


def test_more_than_a_tenth_left_out_is_the_first_sentence(recent: Path, capsys) -> None:
    doc = analyze(capsys, recent, "signup_page", "--metric", "conversion:signup:7d")
    m = metric(doc, "conversion:signup:7d")
    left = m["incomplete_users"]
    exposed = sum(doc["srm"]["observed"].values())
    assert left / exposed > 0.10
    code, out, _ = cli(
        capsys, "analyze", "--experiment", "signup_page", "--db", recent, "--metric", "conversion:signup:7d"
    )
    assert code == 0
    lines = [ln.strip() for ln in out.splitlines() if ln.strip()]
    first = lines[lines.index("conversion:signup:7d (other)") + 1]
    # loud: the count, the share and the fix, before the verdict, not in brackets at the end
    assert f"{left:,} of {exposed:,}" in first and f"{left / exposed:.0%}" in first
    assert "--data-through" in first and "shorter window" in first
    assert not first.startswith("(")


def test_data_through_counts_every_window_as_elapsed(recent: Path, capsys) -> None:
    doc = analyze(
        capsys, recent, "signup_page", "--metric", "conversion:signup:7d", "--data-through", "2026-10-31"
    )
    m = metric(doc, "conversion:signup:7d")
    assert m["incomplete_users"] == 0
    assert doc["data_end"] == "2026-11-01T00:00:00"  # complete through the 31st: the data end at its midnight
    assert sum(v["users"] for v in m["variants"]) == sum(doc["srm"]["observed"].values())
    code, _, err = cli(capsys, "analyze", "--experiment", "signup_page", "--db", recent, "--metric",
                       "conversion:signup:7d", "--data-through", "31/10/2026")  # fmt: skip
    assert code == 2 and "YYYY-MM-DD" in err


def test_a_mean_of_an_event_without_values_is_an_error(recent: Path, tmp_path: Path, capsys) -> None:
    more = tmp_path / "purchases.csv"
    more.write_text("user_id,timestamp,event,value\np1,2026-10-02 10:00:00,purchase,12.5\n")
    load(capsys, recent, more, "events")
    code, out, err = cli(
        capsys, "analyze", "--experiment", "signup_page", "--db", recent, "--metric", "mean:signup:7d"
    )
    assert code == 2 and "signup" in err and "value" in err
    assert "$0.00" not in out + err


# -- a warehouse table: three arms, 0/1 and TRUE/FALSE, money, a pre-period column ----------------------------


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("warehouse")
    path = shapes.warehouse_outcomes(folder / "experiment_users.csv")
    db = folder / "ws.duckdb"
    from analytics.cli import main

    assert main(["load", str(path), "--kind", "outcomes", "--experiment", "pricing", "--db", str(db)]) == 0
    return db, pd.read_csv(path)


def test_three_arms_holm_on_0_1_and_true_false(warehouse, capsys) -> None:
    db, df = warehouse
    doc = analyze(capsys, db, "pricing", "--metric", "outcome:retained_1d", "--metric", "outcome:retained_7d")
    assert doc["control"] == "control"
    for col in ("retained_1d", "retained_7d"):
        m = metric(doc, f"outcome:{col}")
        assert m["aggregate"] == "proportion"
        y = df[col].astype(str).str.upper().isin(["1", "TRUE"]).astype(int)  # 0/1 and TRUE/FALSE
        raw = []
        for comp in m["comparisons"]:
            check_proportion(
                comp,
                y[df.variant == "control"].to_numpy(float),
                y[df.variant == comp["variant"]].to_numpy(float),
            )
            raw.append(comp["p_value"])
        np.testing.assert_allclose(
            [c["p_value_adjusted"] for c in m["comparisons"]], multipletests(raw, method="holm")[1], rtol=TOL
        )


def test_cuped_on_a_named_pre_period_column(warehouse, capsys) -> None:
    db, df = warehouse
    plain = analyze(capsys, db, "pricing", "--metric", "outcome:revenue")
    doc = analyze(capsys, db, "pricing", "--metric", "outcome:revenue", "--cuped-covariate", "pre_revenue")
    m = metric(doc, "outcome:revenue")
    # GrowthBook's regression adjustment: per comparison, θ = Cov(y, x)/Var(x) over both arms' users together;
    # y' = y − θx, then Welch on the adjusted values (scipy)
    y, x = df.revenue.to_numpy(float), df.pre_revenue.to_numpy(float)
    ctrl = df.variant.to_numpy() == "control"
    for comp in m["comparisons"]:
        pair = ctrl | (df.variant.to_numpy() == comp["variant"])
        theta = np.cov(y[pair], x[pair])[0, 1] / np.var(x[pair], ddof=1)
        assert comp["theta"] == pytest.approx(theta, rel=TOL)
        adj = y - theta * x
        ref = sps.ttest_ind(adj[df.variant == comp["variant"]], adj[ctrl], equal_var=False)
        assert comp["p_value"] == pytest.approx(ref.pvalue, rel=TOL)
        assert comp["cuped"]
        before = next(
            c for c in metric(plain, "outcome:revenue")["comparisons"] if c["variant"] == comp["variant"]
        )
        assert comp["abs_ci"][1] - comp["abs_ci"][0] < before["abs_ci"][1] - before["abs_ci"][0]
    assert 0.0 < m["variance_reduction"] < 1.0


def test_segments_by_country_and_money_units(warehouse, capsys) -> None:
    db, df = warehouse
    doc = analyze(capsys, db, "pricing", "--metric", "outcome:rounds", "--segment", "country")
    assert sorted(s["value"] for s in doc["segments"]) == ["BR", "DE", "FR", "US"]
    for s in doc["segments"]:
        rows = df[df.country == s["value"]]
        for comp in s["metrics"][0]["comparisons"]:
            c = rows[rows.variant == "control"].rounds.to_numpy(float)
            check_welch(comp, c, rows[rows.variant == comp["variant"]].rounds.to_numpy(float))
    code, out, _ = cli(
        capsys,
        "analyze",
        "--experiment",
        "pricing",
        "--db",
        db,
        "--metric",
        "outcome:rounds",
        "--metric",
        "outcome:revenue",
    )
    assert code == 0
    rounds_part, revenue_part = out.split("outcome:revenue")[0], out.split("outcome:revenue")[1]
    assert "$" not in rounds_part.split("outcome:rounds")[1]  # a count of rounds is not money
    assert "$" in revenue_part  # revenue is

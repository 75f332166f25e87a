"""Cost aggregates, what-if, budget and unit economics on real DuckDB files with generated logs."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from analytics.cost import (
    Price,
    WhatIf,
    apply_whatif,
    budget_status,
    fetch_arms,
    get_budget,
    load_costs,
    per_user_by_model,
    set_budget,
    set_prices,
    summarize,
    top_users,
    unit_costs,
    unit_economics,
    with_weeks,
)
from analytics.errors import LiftboardError
from analytics.workspace import Actor, Workspace


def _table(ws: Workspace, name: str, df: pd.DataFrame) -> None:
    with ws.transaction() as cur:
        cur.register("src", df)
        cur.execute(f"CREATE TABLE {name} AS SELECT * FROM src")
        cur.unregister("src")


def _log(ws: Workspace, users_per_day: list[int], cost_per_day: list[float], *, model: str = "m1") -> None:
    """Day d has users_per_day[d] users with one prediction each, sharing that day's cost equally."""
    rows = []
    for d, (n, c) in enumerate(zip(users_per_day, cost_per_day, strict=True)):
        for u in range(n):
            rows.append(
                (
                    f"{d}-{u}",
                    f"u{u}",
                    dt.datetime(2026, 9, 1) + dt.timedelta(days=d, hours=12),
                    model,
                    c / n,
                    100 + u,
                    10,
                    0,
                    100.0 + u,
                )
            )
    df = pd.DataFrame(
        rows,
        columns=[
            "prediction_id",
            "user_id",
            "timestamp",
            "model_version",
            "cost_usd",
            "tokens_in",
            "tokens_out",
            "tokens_cached",
            "latency_ms",
        ],
    )
    _table(ws, "predictions", df)


def _two_models(ws: Workspace) -> None:
    """Two days, models 'a' (priced) and 'b' (priced), tokens only (costs from the price table)."""
    rows = [
        ("1", "u1", "2026-09-01 09:00", "a", 1000, 100, 200, 10.0),
        ("2", "u1", "2026-09-01 10:00", "a", 1000, 100, 200, 20.0),
        ("3", "u2", "2026-09-01 11:00", "b", 2000, 300, 0, 30.0),
        ("4", "u3", "2026-09-02 11:00", "a", 500, 50, 0, 40.0),
        ("5", "u2", "2026-09-02 12:00", "b", 1000, 100, 500, 50.0),
    ]
    df = pd.DataFrame(
        rows,
        columns=[
            "prediction_id",
            "user_id",
            "timestamp",
            "model_version",
            "tokens_in",
            "tokens_out",
            "tokens_cached",
            "latency_ms",
        ],
    )
    df["timestamp"] = pd.to_datetime(df["timestamp"])
    _table(ws, "predictions", df)
    set_prices(ws, [Price("a", 1.0, 2.0, 0.5), Price("b", 10.0, 20.0, 1.0)], actor=Actor("tester", "editor"))


def _cost(p: Price, tin: float, tout: float, tc: float, in_x: float = 1.0, out_x: float = 1.0) -> float:
    return (
        (tin - tc) * p.input_per_1k * in_x + tc * p.cached_per_1k * in_x + tout * p.output_per_1k * out_x
    ) / 1000


A, B = Price("a", 1.0, 2.0, 0.5), Price("b", 10.0, 20.0, 1.0)


def test_aggregates_per_day_model_and_latency(tmp_ws: Workspace) -> None:
    _two_models(tmp_ws)
    data = load_costs(tmp_ws)
    day1 = 2 * _cost(A, 1000, 100, 200) + _cost(B, 2000, 300, 0)
    day2 = _cost(A, 500, 50, 0) + _cost(B, 1000, 100, 500)
    assert list(data.by_day["cost"]) == pytest.approx([day1, day2])
    assert list(data.by_day["users"]) == [2, 2]
    assert list(data.by_day["predictions"]) == [3, 2]
    assert data.by_day["lat_p50"].iloc[0] == pytest.approx(20.0)
    assert data.totals["lat_p95"] == pytest.approx(np.quantile([10, 20, 30, 40, 50], 0.95))
    assert data.totals["lat_p99"] == pytest.approx(np.quantile([10, 20, 30, 40, 50], 0.99))
    assert int(data.totals["users"]) == 3
    head = unit_costs(data)
    assert head.cost_per_prediction == pytest.approx((day1 + day2) / 5)
    assert head.cost_per_active_user == pytest.approx((day1 + day2) / 4)  # four user-days
    assert head.predictions_per_active_user == pytest.approx(5 / 4)
    assert head.monthly_run_rate == pytest.approx((day1 + day2) / 2 * 365.25 / 12)
    per = per_user_by_model(data).set_index(["day", "model_version"])
    assert per.loc[(dt.date(2026, 9, 1), "a"), "cost_per_user"] == pytest.approx(2 * _cost(A, 1000, 100, 200))


def test_event_active_users_and_cost_per_conversion(tmp_ws: Workspace) -> None:
    _two_models(tmp_ws)
    events = pd.DataFrame(
        {
            "user_id": ["u1", "u2", "u9", "u1", "u3"],
            "timestamp": pd.to_datetime(
                [
                    "2026-09-01 08:00",
                    "2026-09-01 09:00",
                    "2026-09-01 10:00",
                    "2026-09-02 08:00",
                    "2026-08-30 08:00",
                ]
            ),
            "event": ["view", "purchase", "purchase", "purchase", "purchase"],
            "value": [0.0, 10.0, 20.0, 5.0, 1.0],
        }
    )
    _table(tmp_ws, "events", events)
    data = load_costs(tmp_ws)
    assert list(data.by_day["event_users"]) == [3, 1]
    assert list(data.by_day["conversions"]) == [2, 1]  # the purchase before the log is out of range
    head = unit_costs(data)
    assert head.cost_per_conversion == pytest.approx(float(data.by_day["cost"].sum()) / 3)
    assert head.cost_per_event_active_user == pytest.approx(float(data.by_day["cost"].sum()) / 4)


def test_predictions_without_cost_or_tokens(tmp_ws: Workspace) -> None:
    _table(
        tmp_ws,
        "predictions",
        pd.DataFrame({"prediction_id": ["1"], "user_id": ["u"], "timestamp": [pd.Timestamp("2026-09-01")]}),
    )
    with pytest.raises(LiftboardError, match="neither a cost_usd column nor tokens_in and tokens_out"):
        load_costs(tmp_ws)


def test_no_predictions_table(tmp_ws: Workspace) -> None:
    with pytest.raises(LiftboardError, match="no predictions table"):
        load_costs(tmp_ws)


def test_negative_costs_are_refused(tmp_ws: Workspace) -> None:
    _log(tmp_ws, [3, 3], [1.0, -0.3])
    with pytest.raises(LiftboardError, match="3 predictions have a negative cost"):
        load_costs(tmp_ws)


def test_a_single_day_gives_numbers_and_cannot_fit_yet(tmp_ws: Workspace) -> None:
    _log(tmp_ws, [40], [2.0])
    s = summarize(load_costs(tmp_ws))
    assert s.unit_costs.cost_per_active_user == pytest.approx(0.05)
    assert not s.fit_users.ok and "has 1" in s.fit_users.reason
    assert s.projection == ()


def test_one_model_version_and_a_day_without_users(tmp_ws: Workspace) -> None:
    rng = np.random.default_rng(1)
    users = [int(x) for x in rng.integers(20, 200, 12)]
    users[4] = 0  # a day with no prediction at all
    cost = [0.01 * u**0.8 if u else 0.0 for u in users]
    _log(tmp_ws, users, cost)
    data = load_costs(tmp_ws)
    assert len(data.by_day) == 12 and data.by_day["users"].iloc[4] == 0
    assert list(data.by_model["model_version"]) == ["m1"]
    s = summarize(data)
    assert s.fit_users.ok and s.fit_users.n_points == 11 and s.fit_users.excluded == 1
    assert s.fit_users.exponent == pytest.approx(0.8, abs=1e-9)  # noiseless: exact
    assert any("left out of the cost curve" in n for n in s.notes)


def test_weekly_fit_counts_weekly_users_once_and_uses_whole_weeks_only(tmp_ws: Workspace) -> None:
    # 2026-09-01 is a Tuesday: 6 days of a partial week, 11 whole weeks, then 2 days of a partial week.
    # Every day of week w has the same U_w users (the same ids), so a week has U_w distinct users while the
    # sum of its daily active users is 7·U_w; weekly cost = 7·0.01·U_w^0.9, an exact power law in U_w.
    rng = np.random.default_rng(5)
    weekly = [int(x) for x in rng.integers(30, 400, 13)]
    days = [weekly[0]] * 6 + [u for u in weekly[1:12] for _ in range(7)] + [weekly[12]] * 2
    _log(tmp_ws, days, [0.01 * u**0.9 for u in days])
    daily = load_costs(tmp_ws)
    assert daily.by_week.empty  # weekly users cost a scan of their own, made only when asked for
    with pytest.raises(LiftboardError, match="with_weeks"):
        summarize(daily, period="week")
    data = with_weeks(tmp_ws, daily)
    assert list(data.by_week["days"]) == [6, *[7] * 11, 2]
    assert list(data.by_week["users"]) == [weekly[0], *weekly[1:12], weekly[12]]  # distinct, not summed
    assert data.by_week["cost"].sum() == pytest.approx(data.by_day["cost"].sum())
    s = summarize(data, period="week")
    assert s.period == "week" and len(s.points) == 11 and s.fit_users.n_points == 11
    assert s.fit_users.exponent == pytest.approx(0.9, abs=1e-9)  # noiseless: exact
    last_week = weekly[11]
    assert [p.x for p in s.projection] == pytest.approx([2 * last_week, 10 * last_week, 100 * last_week])
    assert s.projection[0].median == pytest.approx(7 * 0.01 * (2 * last_week) ** 0.9, rel=1e-9)
    assert any("2 partial week(s)" in n for n in s.notes)
    # A what-if applies to weekly cost too: half the predictions per user, half the cost.
    half = summarize(data, WhatIf(predictions_x=0.5), period="week")
    assert half.points["cost"].sum() == pytest.approx(0.5 * s.points["cost"].sum())


def test_cli_cost_per_week(tmp_ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    from analytics.cli import main

    days = [u for u in (40, 60, 90, 130, 200, 260, 330, 420, 500) for _ in range(7)]
    _log(tmp_ws, days[1:], [0.02 * u for u in days[1:]])  # from Wednesday: 8 whole weeks
    path = tmp_ws.path
    tmp_ws.close()
    assert main(["cost", "--db", str(path), "--period", "week", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["period"] == "week" and doc["scaling"]["period"] == "week"
    assert doc["scaling"]["points"] == 8 and doc["scaling"]["exponent"] == pytest.approx(1.0, abs=1e-9)
    assert doc["projection"][0]["users"] == pytest.approx(2 * 500)


def test_weekly_fit_with_too_few_weeks_says_what_it_needs(tmp_ws: Workspace) -> None:
    _log(tmp_ws, [100 + d for d in range(20)], [1.0 + d for d in range(20)])
    s = summarize(with_weeks(tmp_ws, load_costs(tmp_ws)), period="week")
    assert not s.fit_users.ok and not s.projection
    assert "at least 7 weeks" in s.fit_users.reading and "more week(s)" in s.fit_users.reading
    with pytest.raises(LiftboardError, match="per day or per week"):
        summarize(load_costs(tmp_ws), period="month")


@pytest.mark.parametrize("b", [0.7, 1.0, 1.3])
def test_exponent_recovered_through_sql(tmp_ws: Workspace, b: float) -> None:
    rng = np.random.default_rng(int(b * 10))
    users = [int(x) for x in np.round(np.exp(rng.uniform(np.log(20), np.log(600), 20)))]
    cost = [0.002 * u**b * float(np.exp(rng.normal(0, 0.1))) for u in users]
    _log(tmp_ws, users, cost)
    s = summarize(load_costs(tmp_ws))
    lo, hi = s.fit_users.exponent_ci
    assert lo < b < hi
    assert [p.multiple for p in s.projection] == [2.0, 10.0, 100.0]
    assert s.projection[1].x == pytest.approx(10 * np.mean(users[-7:]))
    assert all(p.low < p.median < p.high for p in s.projection)


def test_whatif_identity_prices_and_predictions(tmp_ws: Workspace) -> None:
    _two_models(tmp_ws)
    data = load_costs(tmp_ws)
    same, mult = apply_whatif(data, WhatIf())
    assert same is data.by_day and mult == {"a": 1.0, "b": 1.0}
    doubled, mult = apply_whatif(data, WhatIf(input_x=2.0, output_x=2.0))
    assert list(doubled["cost"]) == pytest.approx(list(2 * data.by_day["cost"]))
    assert mult == pytest.approx({"a": 2.0, "b": 2.0})
    out_only, _ = apply_whatif(data, WhatIf(output_x=3.0))
    day2 = _cost(A, 500, 50, 0, out_x=3) + _cost(B, 1000, 100, 500, out_x=3)
    assert out_only["cost"].iloc[1] == pytest.approx(day2)
    tripled, _ = apply_whatif(data, WhatIf(predictions_x=3.0))
    assert list(tripled["cost"]) == pytest.approx(list(3 * data.by_day["cost"]))
    assert list(tripled["predictions"]) == [9, 6] and list(tripled["users"]) == [2, 2]


def test_whatif_cache_rate_is_hand_computed(tmp_ws: Workspace) -> None:
    _two_models(tmp_ws)
    data = load_costs(tmp_ws)
    out, _ = apply_whatif(data, WhatIf(cache_hit_rate=0.5))
    day1 = _cost(A, 2000, 200, 1000) + _cost(B, 2000, 300, 1000)
    day2 = _cost(A, 500, 50, 250) + _cost(B, 1000, 100, 500)
    assert list(out["cost"]) == pytest.approx([day1, day2])


def test_whatif_routing_is_hand_computed(tmp_ws: Workspace) -> None:
    _two_models(tmp_ws)
    data = load_costs(tmp_ws)
    out, mult = apply_whatif(data, WhatIf(route_to="a", route_share=0.5))
    cpp_a = (2 * _cost(A, 1000, 100, 200) + _cost(A, 500, 50, 0)) / 3
    day1 = 2 * _cost(A, 1000, 100, 200) + 0.5 * _cost(B, 2000, 300, 0) + 0.5 * cpp_a
    day2 = _cost(A, 500, 50, 0) + 0.5 * _cost(B, 1000, 100, 500) + 0.5 * cpp_a
    assert list(out["cost"]) == pytest.approx([day1, day2])
    assert list(out["predictions"]) == pytest.approx([3, 2])
    b_cost = _cost(B, 2000, 300, 0) + _cost(B, 1000, 100, 500)
    assert mult["a"] == pytest.approx(1.0)
    assert mult["b"] == pytest.approx((0.5 * b_cost + 2 * 0.5 * cpp_a) / b_cost)
    # The multipliers account for every dollar of the scenario.
    assert sum(float(r.cost) * mult[r.model_version] for r in data.by_model.itertuples()) == pytest.approx(
        float(out["cost"].sum())
    )


@pytest.mark.parametrize(
    ("whatif", "message"),
    [
        (WhatIf(input_x=-1), "input price multiplier"),
        (WhatIf(cache_hit_rate=1.5), "cache hit rate"),
        (WhatIf(route_to="zzz", route_share=0.2), "no model version 'zzz'"),
        (WhatIf(route_to="a", route_share=2), "routed share"),
    ],
)
def test_whatif_bad_knobs(tmp_ws: Workspace, whatif: WhatIf, message: str) -> None:
    _two_models(tmp_ws)
    with pytest.raises(LiftboardError, match=message):
        apply_whatif(load_costs(tmp_ws), whatif)


def _days(costs: list[float], start: dt.date) -> pd.DataFrame:
    return pd.DataFrame({"day": [start + dt.timedelta(days=i) for i in range(len(costs))], "cost": costs})


def test_budget_crossing_dates() -> None:
    # 10 days of September at $10/day: $100 spent, 20 days left at $10 → $300 projected.
    by_day = _days([10.0] * 10, dt.date(2026, 9, 1))
    b = budget_status(by_day, 150.0)
    assert b.month == "2026-09" and b.spent_to_date == 100.0 and b.projected_month == pytest.approx(300.0)
    assert b.crosses_on == dt.date(2026, 9, 15)  # 100 + 5 × 10 = 150
    assert "crosses" in b.sentence and "2026-09-15" in b.sentence
    assert budget_status(by_day, 80.0).crosses_on == dt.date(2026, 9, 8)  # already crossed
    # $305/month: September stays under (300); October has 31 days, $305 is reached on its 31st.
    assert budget_status(by_day, 305.0).crosses_on == dt.date(2026, 10, 31)
    assert budget_status(by_day, 400.0).crosses_on is None  # the budget resets every month
    assert budget_status(by_day, 1_000.0).crosses_on is None
    with pytest.raises(LiftboardError, match="positive amount"):
        budget_status(by_day, 0.0)


def test_budget_setting_round_trip_with_audit(tmp_ws: Workspace) -> None:
    assert get_budget(tmp_ws) is None
    set_budget(tmp_ws, 500.0, actor=Actor("carol", "editor"))
    assert get_budget(tmp_ws) == 500.0
    set_budget(tmp_ws, None, actor=Actor("tester", "editor"))
    assert get_budget(tmp_ws) is None
    assert tmp_ws.scalar("SELECT count(*) FROM lb_audit WHERE action = 'set_budget'") == 2
    with pytest.raises(LiftboardError):
        set_budget(tmp_ws, -3.0, actor=Actor("tester", "editor"))


def test_top_users_share(tmp_ws: Workspace) -> None:
    _two_models(tmp_ws)
    top = top_users(tmp_ws, limit=2)
    total = float(load_costs(tmp_ws).totals["cost"])
    u2 = _cost(B, 2000, 300, 0) + _cost(B, 1000, 100, 500)
    assert list(top["user_id"]) == ["u2", "u1"]
    assert top["cost"].iloc[0] == pytest.approx(u2)
    assert top["share"].iloc[0] == pytest.approx(u2 / total)


def _experiment(ws: Workspace, seed: int = 0, n: int = 2000) -> tuple[np.ndarray, ...]:
    """Two arms; revenue from purchases within 7 days, cost only in the 'ai' arm, known per-user values."""
    rng = np.random.default_rng(seed)
    variant = np.where(np.arange(n) % 2 == 0, "control", "ai")
    t0 = pd.Timestamp("2026-09-05") + pd.to_timedelta(rng.integers(0, 86_400 * 5, n), unit="s")
    buy = rng.random(n) < np.where(variant == "ai", 0.20, 0.10)
    value = np.round(rng.lognormal(3.5, 0.5, n), 2) * buy
    preds = np.where(variant == "ai", rng.poisson(4, n), 0)
    uid = np.array([f"u{i}" for i in range(n)])
    _table(
        ws,
        "assignments",
        pd.DataFrame({"user_id": uid, "experiment": "exp", "variant": variant, "timestamp": t0}),
    )
    ev = pd.DataFrame(
        {
            "user_id": uid[buy],
            "timestamp": t0[buy] + pd.Timedelta(days=2),
            "event": "purchase",
            "value": value[buy],
        }
    )
    late = pd.DataFrame(
        {
            "user_id": ["u0", "u0"],
            "timestamp": [t0[0] + pd.Timedelta(days=8), pd.Timestamp("2026-10-01")],
            "event": ["purchase", "view"],
            "value": [999.0, 0.0],
        }
    )
    _table(ws, "events", pd.concat([ev, late], ignore_index=True))
    rows = []
    cost = np.zeros(n)
    for i in np.nonzero(preds)[0]:
        for k in range(preds[i]):
            c = round(float(rng.uniform(0.001, 0.01)), 6)
            cost[i] += c
            rows.append((f"{i}-{k}", uid[i], t0[i] + pd.Timedelta(hours=k + 1), "recs", c, 500, 100, 0))
    rows.append(("late", "u1", t0[1] + pd.Timedelta(days=9), "recs", 5.0, 500, 100, 0))  # outside the window
    _table(
        ws,
        "predictions",
        pd.DataFrame(
            rows,
            columns=[
                "prediction_id",
                "user_id",
                "timestamp",
                "model_version",
                "cost_usd",
                "tokens_in",
                "tokens_out",
                "tokens_cached",
            ],
        ),
    )
    return variant, value, cost, preds


def test_unit_economics_matches_statsmodels(tmp_ws: Workspace) -> None:
    variant, value, cost, preds = _experiment(tmp_ws)
    arms = fetch_arms(tmp_ws, "exp")
    assert {a.variant: a.n for a in arms} == {"ai": 1000, "control": 1000}
    ue = unit_economics(arms, experiment="exp", control="control")
    (v,) = ue.variants
    t, c = variant == "ai", variant == "control"
    ref_r = CompareMeans(DescrStatsW(value[t]), DescrStatsW(value[c]))
    ref_c = CompareMeans(DescrStatsW(cost[t]), DescrStatsW(cost[c]))
    assert v.incremental_revenue.value == pytest.approx(value[t].mean() - value[c].mean())
    assert v.incremental_revenue.ci == pytest.approx(ref_r.tconfint_diff(usevar="unequal"), rel=1e-6)
    assert v.incremental_cost.value == pytest.approx(cost[t].mean())
    assert v.incremental_cost.ci == pytest.approx(ref_c.tconfint_diff(usevar="unequal"), rel=1e-6)
    net = value - cost
    ref_n = CompareMeans(DescrStatsW(net[t]), DescrStatsW(net[c]))
    assert v.net.ci == pytest.approx(ref_n.tconfint_diff(usevar="unequal"), rel=1e-6)
    dr, dc = v.incremental_revenue.value, v.incremental_cost.value
    assert v.roi.value == pytest.approx((dr - dc) / dc)
    assert v.incremental_tokens == pytest.approx(600 * preds[t].mean())
    assert v.break_even_price_per_1k == pytest.approx(1000 * dr / (600 * preds[t].mean()))
    assert v.break_even_multiple == pytest.approx(dr / dc)
    # What-if: the model costs 10× → cost scales, revenue does not.
    ue10 = unit_economics(arms, experiment="exp", control="control", multipliers={"recs": 10.0})
    assert ue10.variants[0].incremental_cost.value == pytest.approx(10 * dc)
    assert ue10.variants[0].incremental_revenue == v.incremental_revenue


def test_unit_economics_bad_input(tmp_ws: Workspace) -> None:
    _experiment(tmp_ws, n=40)
    with pytest.raises(LiftboardError, match="no experiment 'nope'"):
        fetch_arms(tmp_ws, "nope")
    arms = fetch_arms(tmp_ws, "exp")
    with pytest.raises(LiftboardError, match="no variant 'base'"):
        unit_economics(arms, experiment="exp", control="base")


def test_demo_unit_economics_and_scaling(demo_ws: Workspace) -> None:
    from analytics.ingest import TRUTH

    ue = unit_economics(fetch_arms(demo_ws, "ai_recs"), experiment="ai_recs", control="control")
    (v,) = ue.variants
    truth = (TRUTH.conversion_7d["ai_recs"]["ai"] - TRUTH.conversion_7d["ai_recs"]["control"]) * 40.0
    lo, hi = v.incremental_revenue.ci
    assert lo < truth < hi
    assert v.incremental_cost.value > 0 and v.incremental_cost.ci[0] > 0
    s = summarize(load_costs(demo_ws))
    assert s.fit_users.ok and 0.8 < s.fit_users.exponent < 1.3
    assert s.unit_costs.cost_per_prediction == pytest.approx(
        float(demo_ws.scalar("SELECT avg(cost_usd) FROM predictions")), rel=1e-9
    )
    # Weekly event-active users are distinct in the week: between the busiest day and the sum of days.
    data = with_weeks(demo_ws, load_costs(demo_ws))
    weeks = data.by_week[data.by_week["days"] == 7]
    for _, wk in weeks.iterrows():
        days = data.by_day[[wk["week"] <= d < wk["week"] + dt.timedelta(days=7) for d in data.by_day["day"]]]
        assert days["event_users"].max() <= wk["event_users"] < days["event_users"].sum()
        assert wk["conversions"] == days["conversions"].sum()
    exact = demo_ws.scalar(
        "SELECT count(DISTINCT user_id) FROM events WHERE timestamp >= ? AND timestamp < ?",
        [weeks["week"].iloc[0], weeks["week"].iloc[0] + dt.timedelta(days=7)],
    )
    assert weeks["event_users"].iloc[0] == exact


def test_cli_cost_json_and_errors(demo_path, tmp_path, capsys) -> None:
    import json

    from analytics.cli import main

    assert main(["cost", "--db", str(demo_path), "--json", "--experiment", "ai_recs", "--budget", "500"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["scaling"]["ok"] and doc["scaling"]["points"] == 28
    lo, hi = doc["scaling"]["exponent_ci"]
    assert lo < doc["scaling"]["exponent"] < hi
    assert [p["multiple"] for p in doc["projection"]] == [2.0, 10.0, 100.0]
    assert all(p["low"] < p["cost"] < p["high"] for p in doc["projection"])
    assert doc["projection"][1]["users"] == pytest.approx(10 * doc["mean_daily_active_users"])
    assert doc["cost_per_prediction"] > 0 and doc["cost_per_active_user"] > doc["cost_per_prediction"]
    assert doc["unit_economics"]["control"] == "control"
    assert doc["unit_economics"]["variants"][0]["incremental_cost"] > 0
    assert doc["budget"]["monthly_budget"] == 500.0 and doc["budget"]["crosses_on"]
    assert len(doc["top_users"]) == 10
    # What-if from the command line: doubled prices double the cost.
    assert (
        main(["cost", "--db", str(demo_path), "--json", "--input-price-x", "2", "--output-price-x", "2"]) == 0
    )
    doubled = json.loads(capsys.readouterr().out)
    assert doubled["total_cost"] == pytest.approx(2 * doc["total_cost"])
    # Bad input: one line on stderr, exit 2.
    assert main(["cost", "--db", str(demo_path), "--experiment", "nope"]) == 2
    assert "no experiment 'nope'" in capsys.readouterr().err
    assert main(["cost", "--db", str(tmp_path / "missing.duckdb")]) == 2
    assert "There is no workspace" in capsys.readouterr().err


def test_approximate_mode_for_large_logs_is_close_to_exact(tmp_ws: Workspace) -> None:
    rng = np.random.default_rng(9)
    users = [int(x) for x in rng.integers(300, 900, 10)]
    _log(tmp_ws, users, [0.01 * u for u in users])
    exact = load_costs(tmp_ws, exact=True)
    approx = load_costs(tmp_ws, exact=False)
    assert list(approx.by_day["cost"]) == pytest.approx(list(exact.by_day["cost"]))
    assert list(approx.by_day["users"]) == pytest.approx(list(exact.by_day["users"]), rel=0.05)
    assert approx.totals["lat_p50"] == pytest.approx(exact.totals["lat_p50"], rel=0.05)
    assert any("HyperLogLog" in n for n in approx.notes) and not exact.notes


def test_large_logs_take_latency_percentiles_from_a_systematic_sample(
    tmp_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import analytics.cost.aggregates as cost_module

    _log(tmp_ws, [600] * 10, [6.0] * 10)  # latency 100..699 ms every day: p50 399.5, p95 669.05
    monkeypatch.setattr(cost_module, "LATENCY_SAMPLE_ROWS", 600)  # 6,000 rows → every 10th row
    exact = load_costs(tmp_ws, exact=True)
    approx = load_costs(tmp_ws, exact=False, start=dt.date(2026, 9, 3))
    assert exact.totals["lat_p50"] == pytest.approx(399.5) and exact.totals["lat_p95"] == pytest.approx(
        669.05
    )
    # Every 10th of 600 evenly spread latencies per day: the sample's percentiles sit within a few ms.
    assert approx.totals["lat_p50"] == pytest.approx(399.5, abs=10)
    assert approx.totals["lat_p95"] == pytest.approx(669.05, abs=10)
    assert approx.by_day["lat_p50"].notna().all() and len(approx.by_day) == 8  # the window applies too
    assert approx.totals["predictions"] == 8 * 600  # counts and costs are never sampled
    assert any("every 10th prediction" in n for n in approx.notes)


@pytest.mark.parametrize("experiment", ["ai_recs", "model_size"])
def test_unit_economics_agrees_with_the_experiments_engine(demo_ws: Workspace, experiment: str) -> None:
    from analytics.experiments import analyze

    result = analyze(demo_ws, experiment, ["mean:purchase:7d", "cost:7d"], control="control")
    revenue, spend = result.metrics
    ue = unit_economics(fetch_arms(demo_ws, experiment), experiment=experiment, control="control")
    assert {a.variant: a.n for a in ue.arms} == {a.name: a.users for a in revenue.variants}
    for v in ue.variants:
        r, c = revenue.comparison(v.variant), spend.comparison(v.variant)
        assert v.incremental_revenue.value == pytest.approx(r.abs_lift, rel=1e-9)
        assert v.incremental_revenue.ci == pytest.approx(r.abs_ci, rel=1e-9)
        assert v.incremental_cost.value == pytest.approx(c.abs_lift, rel=1e-9)
        assert v.incremental_cost.ci == pytest.approx(c.abs_ci, rel=1e-9)


def test_one_month_length_for_every_monthly_figure(demo_ws: Workspace) -> None:
    """Former disagreement: a month was 30.4 days on the Cost page and 30.0 in the Overview (whose projected
    monthly cost at 10× users feeds the Scale stage); now both are monthly_cost(), 365.25 / 12 days."""
    from analytics import overview
    from analytics.cost import DAYS_PER_MONTH, monthly_cost

    assert DAYS_PER_MONTH == pytest.approx(30.4375)
    assert monthly_cost(7.0, "week") == pytest.approx(DAYS_PER_MONTH)
    summary = summarize(load_costs(demo_ws), budget=get_budget(demo_ws))
    p10 = summary.projected(10.0)
    assert summary.projected_monthly(10.0) == pytest.approx(p10.cost * 365.25 / 12)
    (exp,) = overview.build(demo_ws, only="ai_recs").experiments
    assert exp.evidence.projected_monthly_cost_10x == pytest.approx(summary.projected_monthly(10.0))
    assert summary.unit_costs.monthly_run_rate == pytest.approx(
        summary.unit_costs.daily_cost_recent * 365.25 / 12
    )


def test_measured_cache_rate_is_the_engine_s(demo_ws: Workspace) -> None:
    """Formerly computed by the Cost page; the share of input tokens served from cache."""
    data = load_costs(demo_ws)
    expected = demo_ws.scalar("SELECT sum(tokens_cached) / sum(tokens_in) FROM predictions")
    assert data.cache_rate == pytest.approx(expected) and 0.1 < data.cache_rate < 0.5

"""The price table: saved atomically with an audit row, validated, and used to cost token-only logs."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analytics.cost import Price, get_prices, load_costs, set_prices, token_cost
from analytics.errors import LiftboardError
from analytics.workspace import Actor, Workspace


def _predictions(ws: Workspace, rows: list[tuple]) -> None:
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
        ],
    )
    df["timestamp"] = pd.to_datetime(df["timestamp"])
    df["cost_usd"] = df["cost_usd"].astype("float64")
    with ws.transaction() as cur:
        cur.register("src", df)
        cur.execute("CREATE TABLE predictions AS SELECT * FROM src")
        cur.unregister("src")


def test_token_cost_formula() -> None:
    p = Price("m", input_per_1k=0.5, output_per_1k=1.5, cached_per_1k=0.25)
    # (1000 − 400)·0.5/1000 + 400·0.25/1000 + 200·1.5/1000 = 0.3 + 0.1 + 0.3
    assert token_cost(p, 1000, 200, 400) == pytest.approx(0.7, abs=1e-12)


def test_set_and_get_prices_with_audit(tmp_ws: Workspace) -> None:
    set_prices(tmp_ws, [Price("b", 1.0, 2.0, 0.5), Price(" a ", 0.1, 0.2)], actor=Actor("alice", "editor"))
    assert get_prices(tmp_ws) == [Price("a", 0.1, 0.2, 0.0), Price("b", 1.0, 2.0, 0.5)]
    set_prices(tmp_ws, [Price("a", 0.3, 0.4, 0.0)], actor=Actor("bob", "editor"))
    assert get_prices(tmp_ws) == [Price("a", 0.3, 0.4, 0.0)]
    audit = tmp_ws.query("SELECT actor, action, before, after FROM lb_audit ORDER BY audit_id")
    assert [(a, b) for a, b, _, _ in audit] == [("alice", "set_prices"), ("bob", "set_prices")]
    before = json.loads(audit[1][2])
    assert {p["model_version"] for p in before} == {"a", "b"}
    assert json.loads(audit[1][3]) == [
        {"model_version": "a", "input_per_1k": 0.3, "output_per_1k": 0.4, "cached_per_1k": 0.0}
    ]


@pytest.mark.parametrize(
    ("prices", "message"),
    [
        ([Price("", 1, 1)], "no model version"),
        ([Price("a", -1, 1)], "input price"),
        ([Price("a", 1, float("nan"))], "output price"),
        ([Price("a", 1, 1), Price("a", 2, 2)], "priced twice"),
    ],
)
def test_bad_prices_change_nothing(tmp_ws: Workspace, prices: list[Price], message: str) -> None:
    set_prices(tmp_ws, [Price("keep", 1.0, 1.0)], actor=Actor("tester", "editor"))
    with pytest.raises(LiftboardError, match=message):
        set_prices(tmp_ws, prices, actor=Actor("tester", "editor"))
    assert get_prices(tmp_ws) == [Price("keep", 1.0, 1.0, 0.0)]


def test_price_table_costing_equals_hand_computation(tmp_ws: Workspace) -> None:
    _predictions(
        tmp_ws,
        [
            ("1", "u1", "2026-09-01 10:00", "big", None, 1000, 200, 400),
            ("2", "u1", "2026-09-01 11:00", "big", 0.05, 1000, 200, 400),  # a logged cost wins
            ("3", "u2", "2026-09-01 12:00", "tiny", None, 3000, 500, 0),
            ("4", "u2", "2026-09-02 12:00", "tiny", None, 100, 10, 100),
        ],
    )
    set_prices(
        tmp_ws,
        [Price("big", 0.5, 1.5, 0.25), Price("tiny", 0.01, 0.02, 0.0)],
        actor=Actor("tester", "editor"),
    )
    data = load_costs(tmp_ws)
    big = 0.7 + 0.05
    tiny_day1 = (3000 * 0.01 + 500 * 0.02) / 1000  # 0.04
    tiny_day2 = (0 * 0.01 + 100 * 0.0 + 10 * 0.02) / 1000  # 0.0002
    by = data.by_day_model.set_index(["model_version"]).groupby(level=0)["cost"].sum()
    assert by["big"] == pytest.approx(big, abs=1e-12)
    assert by["tiny"] == pytest.approx(tiny_day1 + tiny_day2, abs=1e-12)
    assert data.totals["cost"] == pytest.approx(big + tiny_day1 + tiny_day2, abs=1e-12)
    assert list(data.by_day["cost"]) == pytest.approx([big + tiny_day1, tiny_day2], abs=1e-12)
    assert data.notes == ()


def test_tokens_without_a_price_are_counted_and_named(tmp_ws: Workspace) -> None:
    _predictions(
        tmp_ws,
        [
            ("1", "u1", "2026-09-01 10:00", "priced", None, 1000, 0, 0),
            ("2", "u2", "2026-09-01 10:00", "mystery", None, 1000, 0, 0),
        ],
    )
    set_prices(tmp_ws, [Price("priced", 1.0, 0.0)], actor=Actor("tester", "editor"))
    data = load_costs(tmp_ws)
    assert data.totals["cost"] == pytest.approx(1.0)
    assert int(data.totals["uncosted"]) == 1
    assert "mystery" in data.notes[0] and "add a price" in data.notes[0]


def test_tokens_and_no_prices_at_all_is_a_clear_error(tmp_ws: Workspace) -> None:
    _predictions(tmp_ws, [("1", "u1", "2026-09-01 10:00", "m", None, 1000, 10, 0)])
    with pytest.raises(LiftboardError, match="No prediction has a cost.*price table"):
        load_costs(tmp_ws)


def test_prices_offered_from_genai_prices_for_known_models() -> None:
    """A model_version genai-prices knows gets its input/output/cached prices per 1k tokens, dated; an unknown one
    none; nothing is saved until the user saves it."""
    import datetime as dt

    from genai_prices import Usage, calc_price

    from analytics.cost import suggested_prices

    day = dt.date(2026, 11, 1)
    offers = {o.price.model_version: o for o in suggested_prices(["gpt-4o-2024-08-06", "recs-v1"], on=day)}
    assert set(offers) == {"gpt-4o-2024-08-06"}
    o = offers["gpt-4o-2024-08-06"]
    mp = calc_price(Usage(input_tokens=1), model_ref="gpt-4o-2024-08-06").model_price
    assert o.price.input_per_1k == pytest.approx(float(mp.input_mtok) / 1000)
    assert o.price.output_per_1k == pytest.approx(float(mp.output_mtok) / 1000)
    assert o.price.cached_per_1k == pytest.approx(float(mp.cache_read_mtok) / 1000)
    assert (o.provider, o.valid_on) == ("openai", day) and o.source.startswith("genai-prices ")

"""The Cost page driven with AppTest on the demo workspace and on a broken inference log."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics.workspace import open_workspace
from tests.support.apptest import page_test


def _page(db: Path, monkeypatch: pytest.MonkeyPatch, **query: str) -> AppTest:
    monkeypatch.setenv("LIFTBOARD_DB", str(db))
    at = page_test("cost", timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def _metric(at: AppTest, label: str) -> float:
    value = next(m.value for m in at.metric if m.label == label)
    if value.endswith("¢"):
        return float(value[:-1]) / 100
    return float(value.replace("$", "").replace(",", ""))


def test_cost_page_renders_verdict_cards_and_charts(demo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(demo_copy, monkeypatch)
    assert not at.exception and not at.error
    assert at.title[0].value == "Cost"
    text = " ".join(m.value for m in at.markdown)
    assert "cost grows" in text and "At 10× today's" in text
    assert [m.label for m in at.metric] == [
        "Cost per active user (per day)",
        "Cost per prediction",
        "Monthly run-rate",
        "Scaling exponent b",
    ]
    ws = open_workspace(demo_copy)  # same configuration as the page's connection
    per_pred = float(ws.scalar("SELECT avg(cost_usd) FROM predictions"))
    ws.close()
    assert _metric(at, "Cost per prediction") == pytest.approx(per_pred, rel=5e-3)
    assert 0.9 < _metric(at, "Scaling exponent b") < 1.3
    # Unit economics for the first experiment, with a sentence per variant.
    assert at.selectbox(key="cost_experiment").value == "ai_recs"
    assert any(m.value.startswith("ai: \\$") for m in at.markdown)
    assert at.query_params["experiment"] == ["ai_recs"] or at.query_params["experiment"] == "ai_recs"


def test_whatif_slider_recomputes_and_goes_in_the_url(
    demo_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _page(demo_copy, monkeypatch)
    before = _metric(at, "Cost per prediction")
    at.slider(key="cost_in_x").set_value(2.0)
    at.slider(key="cost_out_x").set_value(2.0)
    at.run()
    assert not at.exception
    assert _metric(at, "Cost per prediction") == pytest.approx(2 * before, rel=1e-2)
    assert any("What-if scenario applied" in i.value for i in at.info)
    assert "in_x" in at.query_params


def test_link_state_and_budget(demo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(demo_copy, monkeypatch, experiment="model_size", in_x="0.5")
    assert not at.exception
    assert at.selectbox(key="cost_experiment").value == "model_size"
    assert at.slider(key="cost_in_x").value == 0.5
    assert any(m.value.startswith("large: \\$") for m in at.markdown)
    at.number_input(key="cost_budget").set_value(300.0).run()
    assert any("monthly budget" in m.value for m in at.markdown)
    at.toggle(key="cost_show_top").set_value(True).run()
    top = next(d.value for d in at.dataframe if "share" in d.value.columns)
    assert len(top) == 20 and top["share"].is_monotonic_decreasing and 0 < top["share"].sum() < 1
    # Saving needs a name (local mode): without one, a clear error and nothing saved.
    at.button(key="cost_save_budget").click().run()
    assert any("Type your name" in e.value for e in at.error)
    at.session_state["actor_name"] = "Ada"
    at.button(key="cost_save_budget").click().run()
    assert any("Budget saved" in s.value for s in at.success)
    ws = open_workspace(demo_copy)  # same configuration as the page's connection
    assert ws.get_setting("cost:budget_usd") == 300.0
    ws.close()


def test_a_log_without_cost_or_tokens_is_one_red_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "bad.duckdb"
    ws = open_workspace(db)
    df = pd.DataFrame({"prediction_id": ["1"], "user_id": ["u"], "timestamp": [pd.Timestamp("2026-09-01")]})
    with ws.transaction() as cur:
        cur.register("src", df)
        cur.execute("CREATE TABLE predictions AS SELECT * FROM src")
    ws.close()
    at = _page(db, monkeypatch)
    assert not at.exception
    assert "neither a cost_usd column nor tokens_in" in at.error[0].value


def _weekly_log(path: Path) -> None:
    """13 calendar weeks from Monday 2026-08-31; every day of week w has the same 50·(w+1) users."""
    ws = open_workspace(path)
    with ws.transaction() as cur:
        cur.execute(
            """
            CREATE TABLE predictions AS
            SELECT 'p' || d || '-' || u AS prediction_id, 'u' || u AS user_id,
              TIMESTAMP '2026-08-31 12:00' + to_days(d::INT) AS timestamp, 'm1' AS model_version,
              0.002 * pow(50 * (d // 7 + 1), 0.2) AS cost_usd, 120.0 AS latency_ms
            FROM range(91) t(d), range(650) s(u) WHERE u < 50 * (d // 7 + 1)
            """
        )
    ws.close()


def test_weekly_fit_from_the_url_and_the_control(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "weekly.duckdb"
    _weekly_log(db)
    at = _page(db, monkeypatch, period="week")
    assert not at.exception and not at.error
    assert at.segmented_control(key="cost_period").value == "Weeks"
    # Weekly cost = 7·50(w+1)·0.002·(50(w+1))^0.2: an exact power law with b = 1.2 in weekly users.
    assert _metric(at, "Scaling exponent b") == pytest.approx(1.2, abs=0.01)
    text = " ".join(m.value for m in at.markdown)
    assert "weekly active users" in text and "a week" in text
    at.segmented_control(key="cost_period").set_value("Days").run()
    assert not at.exception
    assert "period" not in at.query_params
    assert "daily active users" in " ".join(m.value for m in at.markdown)


def test_weekly_fit_on_the_demo_says_how_many_weeks_it_needs(
    demo_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _page(demo_copy, monkeypatch)
    at.segmented_control(key="cost_period").set_value("Weeks").run()
    assert not at.exception and not at.error
    assert any("at least 7 weeks" in w.value for w in at.warning)
    assert at.query_params["period"] in (["week"], "week")

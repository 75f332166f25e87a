"""The Experiments page driven with AppTest: verdict first, toggles, URL state, SRM warning."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics.workspace import open_workspace
from tests.support.apptest import page_test


def _page(db: Path, monkeypatch: pytest.MonkeyPatch, **query: str) -> AppTest:
    monkeypatch.setenv("LIFTBOARD_DB", str(db))
    at = page_test("experiments", timeout=180)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def _qp(at: AppTest, key: str) -> str | None:
    v = at.query_params.get(key)
    return v[0] if isinstance(v, list) else v


def _verdicts(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if " · The " in m.value]


def test_opens_on_the_verdict(demo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(demo_copy, monkeypatch)
    assert not at.exception and not at.error
    assert at.selectbox(key="exp_name").value == "ai_recs"
    v = _verdicts(at)
    assert v[0] == (
        "**Primary** · The AI variant raised 7-day purchase conversion from 9.6% to 10.5% (+1.0 pp, +10.0%, "
        "95% CI +2.2% to +17.7%). This is unlikely to be chance (p = 0.012)."
    )  # the relative lift's interval and its own p-value (the absolute difference's is 0.009, in the table)
    assert any(s.startswith("**Guardrail** · The AI variant raised 7-day AI cost per user") for s in v)
    assert len(v) == 5
    results = at.dataframe[0].value
    assert list(results["metric"])[0] == "conversion:purchase:7d"
    assert results["users_baseline"].iloc[0] + results["users_variant"].iloc[0] == 27457
    assert "Mode: fixed-horizon · α = 0.05" in [c.value for c in at.caption]
    # the control and where the data end, in the page's words (no command-line flag on a page)
    control = next(c.value for c in at.caption if c.value.startswith("Control: "))
    assert control.startswith("Control: control (saved in the experiment's settings). The data end at ")
    assert control.endswith("(the last event); set Data complete through below if they are complete later.")
    assert _qp(at, "experiment") == "ai_recs"
    assert len(at.get("download_button")) >= 4


def test_toggles_change_the_numbers_and_the_url(demo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(demo_copy, monkeypatch)
    plain = at.dataframe[0].value.set_index("metric")
    at.toggle(key="exp_cuped").set_value(True).run()
    at.toggle(key="exp_seq").set_value(True).run()
    assert not at.exception
    assert _qp(at, "cuped") == "1" and _qp(at, "sequential") == "1"
    assert "Mode: sequential (safe to peek) · α = 0.05 · CUPED on" in [c.value for c in at.caption]
    assert any("CUPED reduced the variance of day-7 retention by 2.3%" in c.value for c in at.caption)
    seq = at.dataframe[0].value.set_index("metric")

    # Sequential intervals are wider than fixed-horizon ones, whatever CUPED takes off.
    def width(t: pd.DataFrame) -> float:
        row = t.loc["conversion:purchase:7d"]
        return float(row["abs_ci_high"] - row["abs_ci_low"])

    assert width(seq) > 1.3 * width(plain)
    at.toggle(key="exp_bayes").set_value(True).run()
    assert any(
        c.value.startswith("Bayesian view: Chance that AI is better than control: 9") for c in at.caption
    )
    assert {"chance_to_win", "risk", "credible_low", "credible_high"} <= set(at.dataframe[0].value.columns)


def test_url_reproduces_the_view(demo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(demo_copy, monkeypatch, experiment="model_size", metrics="conversion:purchase:7d,count:share:7d",
               control="small", alpha="0.1", winsorize="99", segment="platform")  # fmt: skip
    assert not at.exception and not at.error
    assert at.selectbox(key="exp_name").value == "model_size"
    assert at.selectbox(key="exp_control").value == "small"
    assert at.selectbox(key="exp_alpha").value == 0.1
    assert at.selectbox(key="exp_win").value == "99"
    assert at.multiselect(key="exp_metrics").value == ["conversion:purchase:7d", "count:share:7d"]
    v = _verdicts(at)
    assert len(v) == 4 and "The control variant" in v[0] and "90% CI" in v[0]
    assert any("Benjamini–Hochberg" in w.value for w in at.warning)
    seg = at.dataframe[2].value
    assert set(seg["segment"]) >= {"android", "ios", "web"} and "p_value_bh" in seg.columns
    # The BH mark follows the adjusted p-value of the lift drawn on the segment chart (the relative one).
    assert (seg["significant_bh"] == (seg["rel_p_value_bh"] < 0.1)).all()
    assert _qp(at, "segment") == "platform" and _qp(at, "control") == "small"


def test_bad_spec_in_the_url_is_one_red_sentence(demo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(demo_copy, monkeypatch, metrics="conversion:purchse:7d")
    assert not at.exception
    assert [e.value for e in at.error] == ["There is no event 'purchse' in the data; did you mean purchase?"]


def test_srm_warning_above_everything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    n_c, n_t = 1000, 1200
    t0 = datetime(2026, 9, 10)
    asg = pd.DataFrame({"user_id": [f"u{i}" for i in range(n_c + n_t)], "experiment": "skewed",
                        "variant": ["control"] * n_c + ["ai"] * n_t, "timestamp": t0})  # fmt: skip
    ev = pd.DataFrame({"user_id": rng.choice(asg.user_id, 5000),
                       "timestamp": [t0 + timedelta(hours=float(h)) for h in rng.uniform(0, 400, 5000)],
                       "event": rng.choice(["view", "purchase"], 5000, p=[0.9, 0.1]), "value": 1.0})  # fmt: skip
    ws = open_workspace(tmp_path / "skewed.duckdb")
    with ws.transaction() as cur:
        for table, df in {"assignments": asg, "events": ev}.items():
            cur.register("df", df)
            cur.execute(f"CREATE TABLE {table} AS SELECT * FROM df")
            cur.unregister("df")
    ws.close()
    at = _page(tmp_path / "skewed.duckdb", monkeypatch)
    assert not at.exception
    assert at.error[0].value.startswith(
        "Sample ratio mismatch: the users are not split between arms as planned"
    )
    assert "(control 1,000, ai 1,200; expected 50% / 50%; p < 0.001)" in at.error[0].value


def test_a_cost_metric_bayesian_view_is_mirrored(demo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cost is lower-is-better: the large model's higher cost is a loss in the Bayesian view, on the page
    and in the table (it used to print "Chance that large beats control: 100.0%")."""
    at = _page(demo_copy, monkeypatch, experiment="model_size", metrics="cost:7d,quantile:latency_ms:p90",
               control="small", bayesian="1")  # fmt: skip
    assert not at.exception and not at.error
    bayes = [c.value for c in at.caption if c.value.startswith("Bayesian view:")]
    assert any(b.startswith("Bayesian view: Chance that large is better than small (lower is better): 0.0%")
               for b in bayes)  # fmt: skip
    assert any(b.startswith("Bayesian view: Chance that control is better than small (lower is better): 100.0%")
               for b in bayes)  # fmt: skip
    table = at.dataframe[0].value.set_index(["metric", "variant"])
    assert table.loc[("cost:7d", "large"), "chance_to_win"] < 0.001
    assert bool(table.loc[("cost:7d", "large"), "lower_is_better"])
    # The p90 latency has no values in the control arm (no AI there): compared against small, said so.
    v = _verdicts(at)
    assert any("raised 7-day p90 latency_ms" in s for s in v)
    assert any("does not apply to control" in m.value for m in at.markdown)
    at.selectbox(key="exp_curve_metric").set_value("quantile:latency_ms:p90:7d").run()
    assert any("has no cumulative curve" in i.value for i in at.info) and not at.exception


def test_statistics_settings_reach_the_verdict_the_url_and_the_saved_settings(
    demo_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _page(demo_copy, monkeypatch, metrics="conversion:purchase:7d,retention:7d")
    at.radio(key="exp_estimand").set_value("absolute").run()
    at.selectbox(key="exp_strat").set_value("plan").run()
    at.number_input(key="exp_margin:retention:7d").set_value(10.0).run()
    at.number_input(key="exp_prior:conversion:purchase:7d").set_value(20.0).run()
    assert not at.exception and not at.error
    assert _qp(at, "estimand") == "absolute" and _qp(at, "stratify") == "plan"
    assert _qp(at, "margins") == "retention:7d=0.1" and _qp(at, "priors") == "conversion:purchase:7d=0.2"
    caption = next(c.value for c in at.caption if c.value.startswith("Mode:"))
    assert "post-stratified by plan" in caption and "significance on the absolute lift" in caption
    v = _verdicts(at)
    assert any(m.value.startswith("**Secondary** · ✅ Guardrail passed: AI keeps day-7 retention no worse than "
                                  "−10.0%") for m in at.markdown)  # fmt: skip
    assert "95% CI +0.2 to +1.7 pp)" in v[0]  # the absolute interval, now the one marked
    table = at.dataframe[0].value
    assert set(table["significance_on"]) == {"absolute"} and "guardrail_passed" in table.columns
    # A link reproduces the settings.
    again = _page(demo_copy, monkeypatch, metrics="conversion:purchase:7d,retention:7d", estimand="absolute",
                  stratify="plan", margins="retention:7d=0.1", priors="conversion:purchase:7d=0.2")  # fmt: skip
    assert again.number_input(key="exp_prior:conversion:purchase:7d").value == 20.0
    assert again.selectbox(key="exp_strat").value == "plan" and _verdicts(again) == v
    # Saving needs a name (local mode: the person at the machine is an admin once named).
    save = at.button(key="exp_save_stats")
    assert save.disabled
    at.text_input(key="actor_name").input("Ada").run()
    at.button(key="exp_save_stats").click().run()
    assert any("Saved" in s.value for s in at.success)
    # The experiment now opens with them, without anything in the URL (read through the page's own
    # connection: the test process holds the workspace open).
    saved = _page(demo_copy, monkeypatch, metrics="conversion:purchase:7d,retention:7d")
    assert saved.number_input(key="exp_prior:conversion:purchase:7d").value == 20.0
    assert saved.number_input(key="exp_margin:retention:7d").value == 10.0
    assert saved.selectbox(key="exp_strat").value == "plan"
    assert any("post-stratified by plan" in c.value for c in saved.caption)

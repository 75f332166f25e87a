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
        "95% CI +0.2 to +1.7 pp). This is unlikely to be chance (p = 0.009)."
    )
    assert any(s.startswith("**Guardrail** · The AI variant raised 7-day AI cost per user") for s in v)
    assert len(v) == 5
    results = at.dataframe[0].value
    assert list(results["metric"])[0] == "conversion:purchase:7d"
    assert results["users_baseline"].iloc[0] + results["users_variant"].iloc[0] == 27457
    assert "Mode: fixed-horizon · α = 0.05" in [c.value for c in at.caption]
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
    assert any("CUPED reduced the variance of day-7 retention by 2.4%" in c.value for c in at.caption)
    seq = at.dataframe[0].value.set_index("metric")

    # Sequential intervals are wider than fixed-horizon ones, whatever CUPED takes off.
    def width(t: pd.DataFrame) -> float:
        row = t.loc["conversion:purchase:7d"]
        return float(row["abs_ci_high"] - row["abs_ci_low"])

    assert width(seq) > 1.3 * width(plain)
    at.toggle(key="exp_bayes").set_value(True).run()
    assert any(c.value.startswith("Bayesian view: Chance that AI beats control: 9") for c in at.caption)
    assert "chance_to_beat" in at.dataframe[0].value.columns


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

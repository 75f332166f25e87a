"""AppTest: a per-user outcome file with no experiment column, named on the Data page and read on Experiments;
the quick comparison filled by hand."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats as sps
from streamlit.testing.v1 import AppTest

from analytics.workspace import open_workspace
from tests.support import ab_shapes as shapes
from tests.support.apptest import page_test


def _page(name: str, db: Path, monkeypatch: pytest.MonkeyPatch, **query: str) -> AppTest:
    monkeypatch.setenv("LIFTBOARD_DB", str(db))
    at = page_test(name, timeout=180)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def _verdicts(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if " · The " in m.value]


def test_outcome_file_without_experiment_column_named_on_the_data_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "w.duckdb"
    open_workspace(db).close()
    src = shapes.cookie_cats(tmp_path / "cookie_cats.csv", scale=0.1)
    df = pd.read_csv(src)
    at = _page("data", db, monkeypatch, kind="outcomes")
    at.file_uploader(key="data-upload-0").upload("cookie_cats.csv", src.read_bytes(), "text/csv").run()
    assert not at.exception, at.exception
    # no experiment column: the page asks for the experiment's name (and never tells a UI user to pass --map)
    box = at.text_input(key="data-experiment-name")
    assert box.value == "cookie_cats"  # proposed from the file name, editable
    assert not any("--map" in e.value for e in at.error)
    box.input("gate_move").run()
    assert not at.error, [e.value for e in at.error]
    assert any(f"Ready to load {len(df):,} rows" in m.value for m in at.markdown)
    assert at.selectbox(key="map-outcomes-cookie_cats.csv-user_id").value == "userid"
    assert at.selectbox(key="map-outcomes-cookie_cats.csv-variant").value == "version"
    at.button(key="data-load").click().run()
    assert not at.exception and not at.error
    assert f"Loaded {len(df):,} rows of cookie_cats.csv into outcomes (new)" in at.success[0].value

    ex = _page("experiments", db, monkeypatch, experiment="gate_move")
    assert not ex.exception and not ex.error, [e.value for e in ex.error]
    assert ex.selectbox(key="exp_name").value == "gate_move"
    verdicts = _verdicts(ex)
    assert verdicts, [m.value for m in ex.markdown]
    c, t = df[df.version == "gate_30"], df[df.version == "gate_40"]
    r7 = f"{c.retention_7.mean() * 100:.1f}%"
    assert any("retention_7" in v and r7 in v for v in verdicts), verdicts
    # game rounds are plain numbers, never dollars
    rounds = next(v for v in verdicts if "sum_gamerounds" in v)
    assert "$" not in rounds
    p = sps.ttest_ind(t.sum_gamerounds, c.sum_gamerounds, equal_var=False).pvalue
    results = next(d.value for d in ex.dataframe if "p_value" in d.value.columns)
    row = results[results.metric == "outcome:sum_gamerounds"].iloc[0]
    assert row.p_value == pytest.approx(p, rel=1e-9)  # the results table: Welch on the same rows
    # the control and why it was chosen
    assert any("gate_30" in cap.value and "control" in cap.value.lower() for cap in ex.caption)
    assert any(
        "Control: gate_30 (no arm is named like a control, so the first arm by name is used: a guess; choose "
        "the right one in Control arm below)" in cap.value
        for cap in ex.caption
    ), [cap.value for cap in ex.caption]
    assert not any("--" in cap.value for cap in ex.caption)  # no command-line flags on the page
    # no timestamps: the cumulative curves say what they need instead of failing
    assert any("exposure time" in i.value for i in ex.info)


def test_quick_comparison_by_hand(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "empty.duckdb"
    open_workspace(db).close()
    at = _page("experiments", db, monkeypatch)
    assert not at.exception
    at.text_input(key="quick-name-0").input("Original").run()
    at.number_input(key="quick-users-0").set_value(10_000).run()
    at.number_input(key="quick-conv-0").set_value(1_000).run()
    at.text_input(key="quick-name-1").input("New checkout").run()
    at.number_input(key="quick-users-1").set_value(10_150).run()
    at.number_input(key="quick-conv-1").set_value(1_130).run()
    at.button(key="quick-compare").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    sentence = next(m.value for m in at.markdown if "New checkout" in m.value or "NEW CHECKOUT" in m.value)
    ref = sps.ttest_ind_from_stats(
        1130 / 10150, ((1130 / 10150) * (1 - 1130 / 10150)) ** 0.5, 10150,
        0.1, (0.1 * 0.9) ** 0.5, 10000, equal_var=False,
    )  # fmt: skip
    assert "from 10.0% to 11.1%" in sentence or "11.1% against 10.0%" in sentence
    assert (f"p = {ref.pvalue:.3f}" in sentence) or (f"p = {ref.pvalue:.2f}" in sentence)
    assert any("SRM" in m.value or "split" in m.value for m in [*at.markdown, *at.caption])
    assert len(at.get("plotly_chart")) >= 1
    assert "Control: Original (recognised by its name)." in [c.value for c in at.caption]
    # typed in the other order, the control is still the one named like a control (no flipped sign)
    at.number_input(key="quick-users-0").set_value(10_150).run()
    at.number_input(key="quick-conv-0").set_value(1_130).run()
    at.text_input(key="quick-name-0").input("AI recs").run()
    at.text_input(key="quick-name-1").input("Control").run()
    at.number_input(key="quick-users-1").set_value(10_000).run()
    at.number_input(key="quick-conv-1").set_value(1_000).run()
    at.button(key="quick-compare").click().run()
    sentence = next(m.value for m in at.markdown if m.value.startswith("**Quick comparison**"))
    assert "The AI recs variant raised conversion from 10.0% to 11.1%" in sentence, sentence
    assert "Control: Control (recognised by its name)." in [c.value for c in at.caption]

    # means: users, mean and sd per arm; an unbalanced split is flagged loudly
    at.radio(key="quick-kind").set_value("Mean and standard deviation").run()
    at.number_input(key="quick-users-0").set_value(5_000).run()
    at.number_input(key="quick-mean-0").set_value(3.41).run()
    at.number_input(key="quick-sd-0").set_value(11.8).run()
    at.number_input(key="quick-users-1").set_value(6_000).run()
    at.number_input(key="quick-mean-1").set_value(3.95).run()
    at.number_input(key="quick-sd-1").set_value(12.6).run()
    at.button(key="quick-compare").click().run()
    assert not at.exception
    assert any("Sample ratio mismatch" in e.value for e in at.error)


def test_totals_and_the_data_through_date(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from analytics.ingest import load
    from analytics.workspace import Actor

    db = tmp_path / "w.duckdb"
    ws = open_workspace(db)
    load(
        ws,
        shapes.totals_means(tmp_path / "rev.csv"),
        "totals",
        experiment="models",
        actor=Actor("t", "admin"),
    )
    asg, ev = shapes.event_log_with_recent_exposures(tmp_path)
    load(ws, asg, "assignments", actor=Actor("t", "admin"))
    load(ws, ev, "events", actor=Actor("t", "admin"))
    ws.close()
    at = _page("experiments", db, monkeypatch, experiment="models")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.toggle(key="exp_cuped").disabled and at.selectbox(key="exp_seg").disabled
    assert any("Per-arm totals" in c.value for c in at.caption)
    assert any("needs per-user rows" in i.value for i in at.info)  # the curves say what they need
    assert any("$3.41" in v for v in _verdicts(at))  # revenue is money

    at = _page("experiments", db, monkeypatch, experiment="signup_page", metrics="conversion:signup:7d")
    assert any("exposed users" in w.value and "are left out" in w.value for w in at.warning)  # loud, first
    at.date_input(key="exp_through").set_value(date(2026, 10, 31)).run()
    assert not any("are left out" in w.value for w in at.warning)
    assert any("Data complete through 2026-10-31" in c.value for c in at.caption)
    assert at.query_params["through"] in ("2026-10-31", ["2026-10-31"])
    at.text_input(key="actor_name").input("Ada").run()  # local mode: saving needs a name (the audit trail)
    at.button(key="exp_save_through").click().run()
    assert any("Saved for this experiment" in m.value for m in at.success)
    ws = open_workspace(db)  # same configuration as the page's connection in this process
    try:
        from analytics.experiments import experiment_config

        assert experiment_config(ws, "signup_page").data_through == date(2026, 10, 31)
    finally:
        ws.close()


def test_an_unrecognised_user_column_is_chosen_in_its_box(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "w.duckdb"
    open_workspace(db).close()
    src = tmp_path / "trial.csv"
    src.write_text("who,variant,converted\na,control,1\nb,treatment,0\nc,treatment,1\n")
    at = _page("data", db, monkeypatch, kind="outcomes")
    at.file_uploader(key="data-upload-0").upload(src.name, src.read_bytes(), "text/csv").run()
    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert error.startswith(
        "trial.csv has no column mapped to user_id, which an outcomes file needs; choose its"
    )
    assert "the user_id box under Column mapping on the Data page" in error  # the page's words first
    at.selectbox(key="map-outcomes-trial.csv-user_id").set_value("who").run()
    assert not at.error, [e.value for e in at.error]
    assert any("Ready to load 3 rows" in m.value for m in at.markdown), [m.value for m in at.markdown]

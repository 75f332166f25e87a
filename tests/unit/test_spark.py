"""The engines on Spark (pyspark local mode) over Parquet files agree with the embedded DuckDB engine."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest

from analytics import cost, drift, experiments
from analytics.drift import classify_columns, fetch_counts, fetch_reference_stats
from analytics.errors import LiftboardError
from analytics.experiments import parse_metrics
from analytics.workspace import CANONICAL, Workspace, list_experiments, open_workspace
from analytics.workspace.spark import (
    SparkSettings,
    SparkWorkspace,
    named_markers,
    open_spark_workspace,
    settings_from,
    stop_sessions,
    to_spark,
)
from tests.support.spark import ALL_KINDS, KINDS, REL, assert_same

pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")


@pytest.fixture(scope="module")
def spark(lake: Path) -> Iterator[SparkWorkspace]:
    settings = SparkSettings(tables={k: str(lake / f"{k}.parquet") for k in KINDS})
    ws = open_spark_workspace(lake / "local.duckdb", settings)
    yield ws
    ws.close()
    stop_sessions()  # the rest of the suite should not share two cores with an idle Spark


# -- the transpiler, without Spark --------------------------------------------------------------------


def test_markers_skip_quoted_question_marks() -> None:
    text, n = named_markers("SELECT '?' AS \"a?\", x FROM t WHERE y = ? AND z = 'it''s ?' AND w IN (?, ?)")
    assert n == 3
    assert text == "SELECT '?' AS \"a?\", x FROM t WHERE y = $p0 AND z = 'it''s ?' AND w IN ($p1, $p2)"


def test_transpiled_fragments() -> None:
    q = to_spark(
        "WITH c AS (SELECT * FROM events) SELECT quantile_cont(value, ?), histogram(value, ?::DOUBLE[]), "
        "list(DISTINCT event ORDER BY event) FROM c WHERE rowid % ? = 0",
        [0.5, [1.0, 2.0], 1],
    )
    assert q.tables == frozenset({"events"})
    assert "percentile(value, :p0)" in q.sql.lower()
    assert "array_sort(collect_set(event))" in q.sql.lower()
    assert "rowid" not in q.sql.lower()
    assert q.args == {"p0": 0.5, "p1_0": 1.0, "p1_1": 2.0}
    with pytest.raises(LiftboardError, match="2 parameter markers but 1"):
        to_spark("SELECT ? + ?", [1])


def test_settings_from_secrets() -> None:
    s = settings_from({"connect_url": "sc://spark.example:15002", "tables": {"events": "lake.events"}})
    assert s == SparkSettings(
        tables={"events": "lake.events"}, connect_url="sc://spark.example:15002", local=False
    )
    assert settings_from(None) is None
    assert settings_from({"local": True, "tables": {"events": "/x/events"}}).local  # type: ignore[union-attr]
    with pytest.raises(LiftboardError, match="sc://"):
        SparkSettings(tables={"events": "e"}, connect_url="http://host:15002")
    with pytest.raises(LiftboardError, match="not a table kind"):
        SparkSettings(tables={"clicks": "c"})
    with pytest.raises(LiftboardError, match="no tables"):
        settings_from({"local": True})


# -- the engines on Spark -----------------------------------------------------------------------------


def test_schema_from_spark_catalog(spark: SparkWorkspace, duck: Workspace) -> None:
    for kind in KINDS:
        assert spark.has_table(kind)
        assert spark.columns(kind) == duck.columns(kind), kind
    assert spark.data_tables() == [k for k in CANONICAL if k in KINDS]
    assert spark.has_table("lb_prices")  # Liftboard's own tables answer from the local file
    assert spark.get_setting("experiment:ai_recs") == duck.get_setting("experiment:ai_recs")


def test_analyze_every_metric_kind_matches(spark: SparkWorkspace, duck: Workspace) -> None:
    specs = parse_metrics(duck, ALL_KINDS)
    end = experiments.data_end(duck)
    assert experiments.data_end(spark) == end
    ours = experiments.run_moments(spark, "ai_recs", specs, end)
    theirs = experiments.run_moments(duck, "ai_recs", specs, end)
    for seg in theirs:  # sufficient statistics: counts identical, sums to the last bits
        for arm, (exposed, moments) in theirs[seg].items():
            assert ours[seg][arm][0] == exposed
            assert [m.n for m in ours[seg][arm][1]] == [m.n for m in moments]
    assert_same(ours, theirs)
    a = experiments.analyze(spark, "ai_recs", ALL_KINDS, sequential=True)
    b = experiments.analyze(duck, "ai_recs", ALL_KINDS, sequential=True)
    assert_same(a.to_dict(), b.to_dict())
    assert a.exposed == b.exposed and sum(b.exposed.values()) > 1000
    assert a.multi_variant_users == b.multi_variant_users > 0


def test_feedback_cuped_segments_winsorize_match(spark: SparkWorkspace, duck: Workspace) -> None:
    metrics = ["feedback:accept:7d", "conversion:purchase:7d", "mean:purchase:7d"]
    kw = {"cuped": True, "segment": "platform", "winsorize": 0.99}
    a = experiments.analyze(spark, "model_size", metrics, **kw)
    b = experiments.analyze(duck, "model_size", metrics, **kw)
    assert_same(a.to_dict(), b.to_dict())
    assert len(b.segments) >= 2
    assert b.metric("conversion:purchase:7d").variance_reduction is not None
    assert a.srm.p_value == pytest.approx(b.srm.p_value, rel=REL)
    assert [e.name for e in list_experiments(spark)] == ["ai_recs", "model_size"]
    assert list_experiments(spark) == list_experiments(duck)


def test_quantile_and_post_stratified_metrics_match(spark: SparkWorkspace, duck: Workspace) -> None:
    """Quantile metrics (percentile over a list of levels, a list indexed in SQL) and post-stratification give
    the same result on Spark as on DuckDB."""
    metrics = ["quantile:latency_ms:p90", "quantile:purchase:p50", "conversion:purchase:7d"]
    kw = {"control": "small", "stratify": "plan", "cuped": True, "margins": {"quantile:latency_ms:p90": 0.1}}
    a = experiments.analyze(spark, "model_size", metrics, **kw)
    b = experiments.analyze(duck, "model_size", metrics, **kw)
    assert_same(a.to_dict(), b.to_dict())
    assert b.metric("quantile:latency_ms:p90:7d").comparisons[0].kind == "quantile"
    assert b.metric("conversion:purchase:7d").stratified_by == "plan"


def test_cost_aggregates_match(spark: SparkWorkspace, duck: Workspace) -> None:
    a = cost.load_costs(spark, exact=True)
    b = cost.load_costs(duck, exact=True)
    assert_same(a, b)
    assert int(b.totals["predictions"]) > 1000
    assert_same(cost.top_users(spark, limit=5), cost.top_users(duck, limit=5))


def test_drift_histograms_and_scores_match(spark: SparkWorkspace, duck: Workspace) -> None:
    a = drift.compute_drift(spark)
    b = drift.compute_drift(duck)
    # Free-text columns are skipped on an approximate distinct count (HyperLogLog): the engines' estimates
    # differ by a few percent in the note's wording, never in which columns are skipped and why.
    assert [(n, r.split(":")[0]) for n, r in a.skipped] == [(n, r.split(":")[0]) for n, r in b.skipped]
    assert_same(dataclasses.replace(a, skipped=b.skipped), b)
    names = {f.name for f in b.features}
    assert {"score", "query_length", "category"} <= names
    assert max(c.psi for f in b.features if f.name == "category" for c in f.chunks) > 0.05


def test_sampled_reference_quantiles_match(
    spark: SparkWorkspace, duck: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import analytics.drift.sql as drift_sql

    # A reference larger than the quantile sample: both engines keep the rows whose md5(prediction_id) is
    # below the same limit, so the bin edges and every score stay equal (a stored-row sample would not).
    monkeypatch.setattr(drift_sql, "QUANTILE_ROWS", 300)
    a, b = drift.compute_drift(spark), drift.compute_drift(duck)
    assert_same(dataclasses.replace(a, skipped=b.skipped), b)
    monkeypatch.undo()
    exact = drift.compute_drift(duck)
    sampled_edges = {f.name: f.edges for f in b.features if f.edges}
    assert sampled_edges and any(exact.feature(n).edges != e for n, e in sampled_edges.items())


def test_drift_sql_fragments_match(spark: SparkWorkspace, duck: Workspace) -> None:
    ref = (datetime(2026, 9, 8), datetime(2026, 9, 15))
    plan = classify_columns(duck, None, ref)
    ours = classify_columns(spark, None, ref)
    assert dataclasses.replace(ours, skipped=plan.skipped) == plan  # the skip notes hold HLL estimates
    probs = [0.1, 0.25, 0.5, 0.9, 0.99]
    rs_a, rs_b = fetch_reference_stats(spark, plan, ref, probs), fetch_reference_stats(duck, plan, ref, probs)
    assert_same(rs_a, rs_b)
    edges = {
        n: np.unique(np.asarray(s.quantiles[:4], dtype=float)) for n, s in rs_b.numeric.items() if s.quantiles
    }
    ca, cb = fetch_counts(spark, plan, ref, "day", edges), fetch_counts(duck, plan, ref, "day", edges)
    # DuckDB leaves an empty top bin out of the map; Spark keeps it at 0: the same histogram.
    for c in (ca, cb):
        for hists in c.hists.values():
            for key, h in hists.items():
                hists[key] = {k: v for k, v in h.items() if v}
    assert_same(ca, cb)
    assert sum(sum(h.values()) for h in cb.hists["score"].values()) > 1000


def test_histogram_quantile_and_list_fragments(spark: SparkWorkspace, duck: Workspace) -> None:
    sql = (
        "SELECT histogram(value, ?::DOUBLE[]), quantile_disc(value, ?::DOUBLE[]), quantile_cont(value, ?), "
        "list(DISTINCT event ORDER BY event), count(*) FROM events WHERE timestamp >= ?"
    )
    params = [[5.0, 20.0, 50.0], [0.1, 0.5, 0.77, 1.0], 0.3, datetime(2026, 9, 20)]
    (ha, *ra), (hb, *rb) = spark.query(sql, params)[0], duck.query(sql, params)[0]
    assert {k: v for k, v in ha.items() if v} == {k: v for k, v in hb.items() if v}
    assert_same(ra, rb)
    assert rb[2] == ["add_to_cart", "purchase", "session_start", "share", "view"]


def test_systematic_sample_on_spark(spark: SparkWorkspace) -> None:
    n = spark.scalar("SELECT count(*) FROM predictions")
    k = spark.scalar("SELECT count(*) FROM predictions WHERE rowid % ? = 0", [4])
    assert abs(k - n / 4) < 0.05 * n
    assert spark.scalar("SELECT count(*) FROM predictions WHERE rowid % ? = 0", [4]) == k  # deterministic


def test_spark_error_is_one_sentence(spark: SparkWorkspace) -> None:
    with pytest.raises(LiftboardError) as err:
        spark.query("SELECT no_such_column FROM events")
    msg = str(err.value)
    assert msg.startswith("Spark could not compute ")
    assert "no_such_column" in msg and "\n" not in msg and "org.apache" not in msg and len(msg) < 400
    with pytest.raises(LiftboardError, match=r"^Spark could not compute the top cost users: .*limit"):
        cost.top_users(spark, limit=-1)


def _spark_flags(lake: Path) -> list[str]:
    flags = ["--spark-local"]
    for kind in KINDS:
        flags += ["--spark-table", f"{kind}={lake / kind}.parquet"]
    return flags


def test_cli_analyze_and_drift_on_spark(
    lake: Path, spark: SparkWorkspace, capsys: pytest.CaptureFixture
) -> None:
    import json

    from analytics.cli import main

    def run(argv: list[str]) -> dict[str, Any]:
        assert main(argv) == 0
        return json.loads(capsys.readouterr().out)

    analyze = ["analyze", "--experiment", "ai_recs", "--metric", "conversion:purchase:7d", "--json"]
    ours = run([*analyze, "--db", str(lake / "local.duckdb"), *_spark_flags(lake)])
    theirs = run([*analyze, "--db", str(lake / "demo.duckdb")])
    assert_same(ours, theirs)
    assert ours["metrics"][0]["variants"][0]["users"] > 500
    drift_args = ["drift", "--feature", "score", "--feature", "category", "--json"]
    assert_same(
        run([*drift_args, "--db", str(lake / "local.duckdb"), *_spark_flags(lake)]),
        run([*drift_args, "--db", str(lake / "demo.duckdb")]),
    )
    assert (
        main(
            ["analyze", "--experiment", "ai_recs", "--spark-table", "events", "--db", str(lake / "x.duckdb")]
        )
        == 2
    )
    assert "--spark-table 'events' must be KIND=PATH" in capsys.readouterr().err


def test_unit_economics_and_curves_match(spark: SparkWorkspace, duck: Workspace) -> None:
    from analytics import cost, experiments

    assert_same(cost.fetch_arms(spark, "ai_recs"), cost.fetch_arms(duck, "ai_recs"))
    a = experiments.cumulative_lift(spark, "ai_recs", "conversion:purchase:7d")
    assert_same(a, experiments.cumulative_lift(duck, "ai_recs", "conversion:purchase:7d"))


def test_interval_epoch_and_list_length_fragments(spark: SparkWorkspace, duck: Workspace) -> None:
    sql = (
        "SELECT count(*) FILTER (WHERE timestamp < CAST($t AS TIMESTAMP) + to_days($d)), "
        "count(*) FILTER (WHERE timestamp < CAST($t AS TIMESTAMP) + to_hours(5)), "
        "sum(epoch(timestamp) - epoch(CAST($t AS TIMESTAMP))) FROM events"
    )
    params = {"t": datetime(2026, 9, 10, 0, 0, 0, 250_000), "d": 3}
    assert_same(spark.query(sql, params), duck.query(sql, params))
    reviews = "SELECT count(*), sum(len(tag_ids)) FROM lb_reviews r JOIN feedback f USING (feedback_id)"
    ((n, tags),) = duck.query(reviews)
    assert n > 0 and spark.query(reviews) == [(n, tags)]


def test_open_configured_from_a_secrets_section(lake: Path, spark: SparkWorkspace, tmp_path: Path) -> None:
    from analytics.workspace.spark import open_configured

    plain = open_configured(tmp_path / "plain.duckdb", None)
    assert type(plain) is Workspace and plain.data_tables() == []
    plain.close()
    section = {"local": True, "tables": {"events": str(lake / "events.parquet")}}
    ws = open_configured(tmp_path / "app.duckdb", section)
    assert isinstance(ws, SparkWorkspace) and ws.data_tables() == ["events"]
    summary = ws.source_summary()
    n, first, last = spark.query("SELECT count(*), min(timestamp), max(timestamp) FROM events")[0]
    assert summary == [
        {"table": "events", "source": section["tables"]["events"], "rows": n, "first": first, "last": last}
    ]
    ws.close()


def _page_on_the_lake(lake: Path, monkeypatch: pytest.MonkeyPatch, page: str) -> Any:
    """A page run by AppTest with ``[spark]`` in its secrets, over its own copy of the local state."""
    from tests.support.apptest import page_test

    copy = lake / f"{page}-page-local.duckdb"
    copy.write_bytes((lake / "local.duckdb").read_bytes())
    monkeypatch.setenv("LIFTBOARD_DB", str(copy))
    at = page_test(page, timeout=300)
    at.secrets["spark"] = {"local": True, "tables": {k: str(lake / f"{k}.parquet") for k in KINDS}}
    at.run()
    assert not at.exception and not at.error
    return at


def test_data_page_shows_the_spark_source(lake: Path, spark: SparkWorkspace, monkeypatch) -> None:
    """With [spark] in the secrets, the app's workspace reads the lake: the Data page lists its tables."""
    at = _page_on_the_lake(lake, monkeypatch, "data")
    assert at.main.subheader[0].value == "Source: Spark"
    source = at.dataframe[0].value
    assert list(source["table"]) == list(KINDS)
    duck = open_workspace(lake / "demo.duckdb", read_only=True)
    try:
        assert list(source["rows"]) == [duck.scalar(f"SELECT count(*) FROM {k}") for k in KINDS]
    finally:
        duck.close()


# -- feedback review on a Spark source: the item table is built on Spark, tags stay local -----------------


@pytest.fixture(scope="module")
def review_pair(lake: Path, spark: SparkWorkspace) -> Iterator[tuple[SparkWorkspace, Workspace]]:
    """Writable copies of the local state (over the lake) and of the embedded demo, to tag the same items."""
    (lake / "fb-local.duckdb").write_bytes((lake / "local.duckdb").read_bytes())
    (lake / "fb-demo.duckdb").write_bytes((lake / "demo.duckdb").read_bytes())
    settings = SparkSettings(tables={k: str(lake / f"{k}.parquet") for k in KINDS})
    ours = open_spark_workspace(lake / "fb-local.duckdb", settings, read_only=False)
    theirs = open_workspace(lake / "fb-demo.duckdb")
    yield ours, theirs
    ours.close()
    theirs.close()


def test_feedback_review_on_spark_matches(review_pair: tuple[SparkWorkspace, Workspace]) -> None:
    from analytics import feedback as fb
    from analytics.workspace import local_actor

    ours, theirs = review_pair
    assert fb.ensure_items(ours) and fb.ensure_items(theirs)
    # The joined items were computed on Spark and now live in the local file, with the item's context.
    local_cols = ours.con.execute(f"SELECT * FROM {fb.ITEMS} LIMIT 0").fetchdf().columns
    assert {"feedback_id", "variants", "comment", "corrected_output", "input_text", "output_text"} <= set(
        local_cols
    )
    flt = fb.FeedbackFilter(experiment="ai_recs")
    queued = dataclasses.replace(flt, status="untagged")
    first = fb.queue(theirs, queued, limit=20, viewer="carol")
    assert first.total > 500
    assert_same(fb.queue(ours, queued, limit=20, viewer="carol"), first)
    item = str(first.rows.feedback_id[0])
    carol = local_actor("carol")
    for ws in (ours, theirs):
        assert fb.tag_item(ws, item, ["wrong"], carol, expected_version=0).changed == 1
        assert fb.bulk_tag(
            ws, dataclasses.replace(flt, signals=("reject",)), carol, add=["irrelevant"]
        ).changed
    after = fb.queue(theirs, queued, limit=20, viewer="carol")
    assert after.total < first.total - 1
    assert_same(fb.queue(ours, queued, limit=20, viewer="carol"), after)
    tagged = dataclasses.replace(flt, status="tagged", reviewer="carol")
    assert_same(
        fb.queue(ours, tagged, limit=50, viewer="carol"), fb.queue(theirs, tagged, limit=50, viewer="carol")
    )
    assert_same(fb.summary(ours, flt), fb.summary(theirs, flt))
    for by, period in (("variant", "day"), ("model_version", None), ("none", "week")):
        assert_same(fb.rates(ours, flt, by=by, period=period), fb.rates(theirs, flt, by=by, period=period))
    assert_same(fb.tag_mix(ours, flt), fb.tag_mix(theirs, flt))
    kappas = fb.kappas(theirs, flt)
    assert kappas and any(k.tag == "(all tags)" for k in kappas)
    assert_same(fb.kappas(ours, flt), kappas)
    assert_same(fb.item_context(ours, item, "ai_recs"), fb.item_context(theirs, item, "ai_recs"))
    exported = fb.export_frame(theirs, flt).drop(columns="updated_at")  # when each engine's tag was saved
    assert_same(fb.export_frame(ours, flt).drop(columns="updated_at"), exported)
    assert "carol" in set(exported.reviewer) and exported.input_text.notna().all()
    assert_same(fb.options(ours, "ai_recs"), fb.options(theirs, "ai_recs"))
    assert fb.date_range(ours) == fb.date_range(theirs)
    # The tags are in the local workspace, keyed by the lake's feedback ids, and audited there.
    audit = "SELECT target, action, after FROM lb_audit WHERE actor = 'carol' ORDER BY target, audit_id"
    assert ours.query(audit) == theirs.query(audit) and (item, fb.TAG_ACTION) in {
        r[:2] for r in ours.query(audit)
    }


def test_feedback_queue_needs_a_writable_local_workspace(spark: SparkWorkspace) -> None:
    from analytics import feedback as fb

    # The items are copied into the local file; read-only (the CLI's analyze) there is nowhere to keep them.
    with pytest.raises(LiftboardError, match="open it writable"):
        fb.summary(spark, fb.FeedbackFilter())


def test_feedback_items_follow_the_source(lake: Path, duck: Workspace, spark: SparkWorkspace) -> None:
    from analytics import feedback as fb
    from analytics.workspace.spark import register_sources

    folder = lake / "feedback-folder"
    folder.mkdir()
    src = lake / "feedback.parquet"
    con = duckdb.connect()
    newest = f"SELECT feedback_id FROM '{src}' ORDER BY timestamp DESC, feedback_id LIMIT 5"
    con.execute(
        f"COPY (SELECT * FROM '{src}' WHERE feedback_id NOT IN ({newest})) TO '{folder}/part-0.parquet'"
    )
    tables = {**{k: str(lake / f"{k}.parquet") for k in KINDS}, "feedback": str(folder)}
    ws = open_spark_workspace(lake / "fb-refresh.duckdb", SparkSettings(tables=tables), read_only=False)
    flt = fb.FeedbackFilter()
    try:
        total = duck.scalar("SELECT count(DISTINCT feedback_id) FROM feedback")
        assert fb.summary(ws, flt).total == total - 5
        token = ws.state_token()
        con.execute(
            f"COPY (SELECT * FROM '{src}' WHERE feedback_id IN ({newest})) TO '{folder}/part-1.parquet'"
        )
        assert fb.summary(ws, flt).total == total - 5  # a check holds for check_seconds
        ws.check_seconds = 0
        assert fb.summary(ws, flt).total == total  # new files in the folder are noticed
        assert ws.state_token() != token  # so the pages' caches move on
        ws.check_seconds = 60
        ws.con.execute(f"DELETE FROM {fb.ITEMS} WHERE signal = 'accept'")
        assert fb.refresh_items(ws)  # an explicit refresh rebuilds, changed or not
        assert fb.summary(ws, flt).total == total
    finally:
        ws.close()
        con.close()
        register_sources(spark.spark, {"feedback": str(src)})  # the session's view, as the other tests expect


def test_feedback_page_on_the_spark_source(
    lake: Path, duck: Workspace, spark: SparkWorkspace, monkeypatch
) -> None:
    """With [spark] in the secrets the Feedback page reviews the lake's feedback; its numbers are DuckDB's."""
    from analytics import feedback as fb

    at = _page_on_the_lake(lake, monkeypatch, "feedback")
    want = fb.summary_sentence(fb.summary(duck, fb.FeedbackFilter(experiment="ai_recs")))
    assert want in [m.value.strip("*") for m in at.markdown]
    at.button(key="fb_refresh").click().run()
    assert not at.exception and not at.error
    assert want in [m.value.strip("*") for m in at.markdown]

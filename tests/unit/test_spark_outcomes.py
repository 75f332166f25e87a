"""Per-user outcome tables and per-arm totals on Spark (pyspark local mode, Parquet) equal the embedded engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from analytics.experiments import analyze
from analytics.ingest import load
from analytics.workspace import Actor, list_experiments, open_workspace
from analytics.workspace.spark import SparkSettings, SparkWorkspace, open_spark_workspace, stop_sessions
from tests.support import ab_shapes as shapes
from tests.support.spark import assert_same

pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")
WHO = Actor("tester", "editor")
TABLES = ("outcomes", "totals")


@pytest.fixture(scope="module")
def ab_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with three outcome experiments and two totals experiments; the tables also as Parquet."""
    root = tmp_path_factory.mktemp("ab-lake")
    ws = open_workspace(root / "duck.duckdb")
    load(
        ws,
        shapes.warehouse_outcomes(root / "users.csv", users=3_000),
        "outcomes",
        experiment="pricing",
        actor=WHO,
    )
    load(
        ws,
        shapes.marketing_ab(root / "marketing_AB.csv", rows=4_000),
        "outcomes",
        experiment="ads",
        actor=WHO,
    )
    load(ws, shapes.ab_data(root / "ab_data.csv", users=4_000), "outcomes", experiment="landing", actor=WHO)
    load(ws, shapes.totals_counts(root / "t1.csv"), "totals", experiment="gates", actor=WHO)
    load(ws, shapes.totals_means(root / "t2.csv"), "totals", experiment="models", actor=WHO)
    ws.close()
    con = duckdb.connect(str(root / "duck.duckdb"), read_only=True)
    for kind in TABLES:
        con.execute(f"COPY {kind} TO '{root / kind}.parquet' (FORMAT parquet)")
    con.close()
    (root / "local.duckdb").write_bytes((root / "duck.duckdb").read_bytes())
    con = duckdb.connect(str(root / "local.duckdb"))
    for kind in TABLES:  # the data live only in the lake
        con.execute(f"DROP TABLE {kind}")
    con.close()
    return root


@pytest.fixture(scope="module")
def engines(ab_lake: Path) -> Iterator[tuple[object, SparkWorkspace]]:
    duck = open_workspace(ab_lake / "duck.duckdb", read_only=True)
    spark = open_spark_workspace(
        ab_lake / "local.duckdb", SparkSettings(tables={k: str(ab_lake / f"{k}.parquet") for k in TABLES})
    )
    yield duck, spark
    spark.close()
    duck.close()
    stop_sessions()


CASES = [
    ("pricing", ["outcome:retained_1d", "outcome:retained_7d", "outcome:revenue", "outcome:rounds"], {}),
    ("pricing", ["outcome:revenue"], {"cuped_covariate": "pre_revenue", "sequential": True}),
    ("pricing", ["outcome:rounds"], {"segment": "country"}),
    ("ads", ["outcome:converted", "outcome:total ads"], {"control": "psa", "segment": "most ads day"}),
    ("landing", ["outcome:converted"], {}),
    ("gates", ["outcome:Conversions"], {"control": "gate_30"}),
    ("models", ["outcome:revenue"], {"sequential": True}),
]


@pytest.mark.parametrize(("experiment", "metrics", "options"), CASES)
def test_analyze_on_spark_equals_duckdb(engines, experiment: str, metrics: list[str], options: dict) -> None:
    duck, spark = engines
    a = analyze(duck, experiment, metrics, **options)
    b = analyze(spark, experiment, metrics, **options)
    assert_same(a, b)
    assert a.metrics[0].comparisons and a.source == b.source


def test_experiments_listed_alike(engines) -> None:
    duck, spark = engines
    listed = list_experiments(duck)
    assert [(e.name, e.source) for e in listed] == [
        ("ads", "outcomes"), ("gates", "totals"), ("landing", "outcomes"), ("models", "totals"),
        ("pricing", "outcomes"),
    ]  # fmt: skip
    assert_same(listed, list_experiments(spark))

"""A workspace whose data tables live in Spark (Parquet paths or tables) and whose own state stays in DuckDB.

``SparkWorkspace`` is a ``Workspace``: the engines call ``query``/``query_df``/``scalar``/``columns`` on it as
on the embedded one, with the same DuckDB SQL. A statement that reads a data table (events, assignments,
predictions, feedback, users) is transpiled (``analytics.workspace.spark.sql``) and runs on Spark, which returns only
the statement's small aggregate; any Liftboard table it joins (e.g. ``lb_prices``) is first registered in
Spark as a temporary view of the local table. Every other statement (settings, prices, audit, tags) and every
write runs on the local DuckDB workspace, as before. The one result that is not an aggregate is the feedback
review queue's item table (one row per feedback item), which ``fetch_arrow`` brings back as Arrow batches to be
kept locally (see ``analytics.feedback._copy_remote_items``).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import pandas as pd

from analytics.errors import LiftboardError
from analytics.workspace.schema import CANONICAL
from analytics.workspace.spark.sql import SparkQuery, to_spark
from analytics.workspace.store import Workspace, open_workspace

if TYPE_CHECKING:
    import pyarrow as pa
from analytics.workspace.spark.session import SparkSettings, first_line, settings_from, spark_session

T = TypeVar("T")

#: Spark type names → the DuckDB names the engines test for (``VARCHAR``, ``DOUBLE``, ``TIMESTAMP``…).
_TYPES = {
    "string": "VARCHAR",
    "double": "DOUBLE",
    "float": "FLOAT",
    "bigint": "BIGINT",
    "int": "INTEGER",
    "smallint": "SMALLINT",
    "tinyint": "TINYINT",
    "boolean": "BOOLEAN",
    "timestamp_ntz": "TIMESTAMP",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "date": "DATE",
}

#: Local DuckDB type names → Spark DDL, for Liftboard tables registered as Spark views.
_DDL = {"VARCHAR": "STRING", "TIMESTAMP": "TIMESTAMP_NTZ", "BIGINT[]": "ARRAY<BIGINT>"}


@dataclass(eq=False)
class SparkWorkspace(Workspace):
    """A Workspace whose data tables are Spark views; Liftboard's own tables stay in the local DuckDB file."""

    spark: Any = None
    sources: dict[str, str] = field(default_factory=dict)
    describe: str = "Spark"
    #: How long a check that the data tables are unchanged holds (``data_version``); ``refresh_source`` ends it.
    check_seconds: float = 60.0
    _schemas: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)
    _versions: dict[tuple[str, ...], tuple[float, str]] = field(default_factory=dict, repr=False)
    remote_data: ClassVar[bool] = True

    # -- the schema, from Spark's catalog ---------------------------------------------------------------
    def has_table(self, table: str) -> bool:
        if table in CANONICAL:
            return table in self.sources
        return super().has_table(table)

    def columns(self, table: str) -> dict[str, str]:
        if table not in CANONICAL:
            return super().columns(table)
        if table not in self.sources:
            return {}
        if table not in self._schemas:
            fields = self.spark.table(table).schema.fields
            self._schemas[table] = {
                f.name: _TYPES.get(f.dataType.simpleString(), f.dataType.simpleString().upper())
                for f in fields
            }
        return dict(self._schemas[table])

    # -- running SQL where the data is --------------------------------------------------------------------
    def query(
        self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None, *, purpose: str | None = None
    ) -> list[tuple]:
        planned = self._plan(sql, params)
        if planned is None:
            return super().query(sql, params)
        return [tuple(_py(v) for v in row) for row in self._collect(planned, purpose)[1]]

    def query_df(
        self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None, *, purpose: str | None = None
    ) -> pd.DataFrame:
        planned = self._plan(sql, params)
        if planned is None:
            return super().query_df(sql, params)
        names, rows = self._collect(planned, purpose)
        return pd.DataFrame.from_records([tuple(_py(v) for v in r) for r in rows], columns=names)

    def fetch_arrow(
        self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None, *, purpose: str | None = None
    ) -> pa.Table:
        """A data table query's whole result as Arrow: Spark sends Arrow record batches, no Python rows."""
        planned = self._plan(sql, params)
        if planned is None:
            return super().fetch_arrow(sql, params)

        def run() -> pa.Table:
            self._register_locals(planned)
            return self.spark.sql(planned.sql, args=planned.args).toArrow()

        return self._run(purpose, run)

    def _plan(self, sql: str, params: Sequence[Any] | dict[str, Any] | None) -> SparkQuery | None:
        """The Spark form of a statement that reads a data table; None for one that stays local."""
        names = "|".join(re.escape(kind) for kind in self.sources)
        if not names or not re.search(rf"\b({names})\b", sql, re.IGNORECASE):
            # Cheap test first: most local statements name no data table at all (``feedback_id`` and
            # ``lb_feedback_items`` are not the feedback table).
            return None
        planned = to_spark(sql, params, list_columns=self._list_columns())
        if not planned.tables & set(self.sources):
            return None
        return planned

    def _list_columns(self) -> set[str]:
        """Columns that hold lists, in the data tables and in Liftboard's own (``lb_reviews.tag_ids``)."""
        if "__lists__" not in self._schemas:
            names = {"tag_ids"}
            for kind in self.sources:
                names |= {
                    c for c, t in self.columns(kind).items() if t.startswith("ARRAY") or t.endswith("[]")
                }
            self._schemas["__lists__"] = dict.fromkeys(names, "")
        return set(self._schemas["__lists__"])

    def _collect(self, planned: SparkQuery, purpose: str | None) -> tuple[list[str], list[Any]]:
        def run() -> tuple[list[str], list[Any]]:
            self._register_locals(planned)
            frame = self.spark.sql(planned.sql, args=planned.args)
            return list(frame.columns), frame.collect()

        return self._run(purpose, run)

    @staticmethod
    def _run(purpose: str | None, action: Callable[[], T]) -> T:
        """Run a Spark action; any engine error becomes one sentence naming what was being computed (the
        ``purpose`` its caller passed with the SQL)."""
        try:
            return action()
        except LiftboardError:
            raise
        except Exception as exc:  # Py4J, Spark Connect/gRPC errors: never a JVM trace
            what = purpose or "a query on the data tables"
            raise LiftboardError(f"Spark could not compute {what}: {first_line(exc)}") from None

    def _register_locals(self, planned: SparkQuery) -> None:
        for name in sorted(t for t in planned.tables if t.startswith("lb_")):
            self._register_local(name)

    def _register_local(self, table: str) -> None:
        """Make a small Liftboard table (e.g. the price table) visible to Spark as a temporary view."""
        cols = super().columns(table)
        if not cols:
            raise LiftboardError(f"The local workspace has no {table} table.")
        ddl = ", ".join(f"`{c}` {_DDL.get(t, t)}" for c, t in cols.items())
        rows = super().query(f"SELECT * FROM {table}")  # a Liftboard table name, not user text
        self.spark.createDataFrame(rows, schema=ddl).createOrReplaceTempView(table)

    # -- noticing that the source changed ------------------------------------------------------------------
    def data_version(self, tables: Sequence[str]) -> str:
        """A token that changes when any of these Spark tables changes: its files, row count or columns.

        A Spark view keeps the file list it was created with, so the tables are opened afresh first (new
        files in a folder, a new table version). That costs a file listing and one count query, so a check
        holds for ``check_seconds``; ``refresh_source`` ends it at once.
        """
        kinds = tuple(t for t in tables if t in self.sources)
        now = time.monotonic()
        seen = self._versions.get(kinds)
        if seen is not None and now - seen[0] < self.check_seconds:
            return seen[1]
        self._reopen(kinds)

        def measure() -> tuple[dict[str, list[str]], list[int]]:
            files = {k: sorted(self.spark.table(k).inputFiles()) for k in kinds}
            counts = ", ".join(f"(SELECT count(*) FROM `{k}`)" for k in kinds)  # kinds are ours
            return files, list(self.spark.sql(f"SELECT {counts}").collect()[0]) if kinds else []

        files, counts = self._run("whether the data tables changed", measure)
        shape = {k: self.columns(k) for k in kinds}
        digest = hashlib.sha256(json.dumps([kinds, files, counts, shape]).encode()).hexdigest()[:16]
        version = f"spark:{digest}"
        self._versions[kinds] = (now, version)
        return version

    def refresh_source(self) -> None:
        """Open every data table afresh now, and forget earlier checks (the pages' Refresh button)."""
        self._reopen(tuple(self.sources))
        self._versions.clear()

    def _reopen(self, kinds: Sequence[str]) -> None:
        register_sources(self.spark, {k: self.sources[k] for k in kinds}, refresh=True)
        for k in (*kinds, "__lists__"):
            self._schemas.pop(k, None)

    def state_token(self, *, reviews: bool = True) -> str:
        # The pages' cache key also moves when a check saw the source change (no Spark query here).
        return ":".join(
            [super().state_token(reviews=reviews), *sorted(v for _, v in self._versions.values())]
        )

    # -- what the Data page shows -------------------------------------------------------------------------
    def source_summary(self) -> list[dict[str, Any]]:
        """Per data table: where it is, its rows and its time range (one aggregate query per table)."""
        out = []
        for kind in (k for k in CANONICAL if k in self.sources):
            cols = self.columns(kind)
            ts = "`timestamp`" if "timestamp" in cols else "NULL"
            row = self.spark.sql(f"SELECT count(*), min({ts}), max({ts}) FROM `{kind}`").collect()[0]
            out.append(
                {
                    "table": kind,
                    "source": self.sources[kind],
                    "rows": int(row[0]),
                    "first": row[1],
                    "last": row[2],
                }
            )
        return out


def _py(value: Any) -> Any:
    """Spark Rows and maps as the plain values DuckDB returns (tuples, dicts, lists)."""
    if isinstance(value, dict):
        return {k: _py(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_py(v) for v in value]
    return value


def register_sources(spark: Any, tables: Mapping[str, str], *, refresh: bool = False) -> None:
    """Each data table as a temporary view named after its kind: Parquet paths read, catalog tables aliased.

    With ``refresh`` a catalog table's cached metadata and file list are dropped first, so that its newest
    data is seen (a Parquet path is listed afresh by the new read anyway).
    """
    for kind, source in tables.items():
        try:
            if _is_path(source):
                frame = spark.read.parquet(source)
            else:
                if refresh:
                    spark.catalog.refreshTable(source)
                frame = spark.table(source)
            frame.createOrReplaceTempView(kind)
        except Exception as exc:
            raise LiftboardError(
                f"Spark could not open the {kind} table at {source}: {first_line(exc)}"
            ) from None


def _is_path(source: str) -> bool:
    return "/" in source or "\\" in source or source.endswith(".parquet") or "://" in source


def open_spark_workspace(
    db: str | Path, settings: SparkSettings, *, read_only: bool = True
) -> SparkWorkspace:
    """The local workspace file (settings, prices, tags, audit) joined to the Spark tables of ``settings``.

    A local file that does not exist yet is created (empty Liftboard tables): the data needs none.
    """
    local = open_workspace(db, read_only=read_only and Path(db).exists())
    spark = spark_session(settings)
    register_sources(spark, settings.tables)
    where = settings.connect_url or "Spark local mode"
    return SparkWorkspace(
        path=local.path,
        con=local.con,
        read_only=local.read_only,
        spark=spark,
        sources=dict(settings.tables),
        describe=where,
    )


def open_configured(db: str | Path, spark_section: Mapping[str, Any] | None) -> Workspace:
    """The app's workspace: on Spark when ``secrets.toml`` has a ``[spark]`` section, else the DuckDB file."""
    settings = settings_from(spark_section)
    if settings is None:
        return open_workspace(db)
    return open_spark_workspace(db, settings, read_only=False)

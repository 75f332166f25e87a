"""A workspace whose data tables live in Spark (Parquet paths or tables) and whose own state stays in DuckDB.

``SparkWorkspace`` is a ``Workspace``: the engines call ``query``/``query_df``/``scalar``/``columns`` on it as
on the embedded one, with the same DuckDB SQL. A statement that reads a data table (events, assignments,
predictions, feedback, users) is transpiled (``analytics.spark_sql``) and runs on Spark, which returns only
the statement's small aggregate; any Liftboard table it joins (e.g. ``lb_prices``) is first registered in
Spark as a temporary view of the local table. Every other statement (settings, prices, audit, tags) and every
write runs on the local DuckDB workspace, as before. The one result that is not an aggregate is the feedback
review queue's item table (one row per feedback item), which ``fetch_arrow`` brings back as Arrow batches to be
kept locally (see ``analytics.feedback._copy_remote_items``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import re
import socket
import sys
import tempfile
import threading
import time
import urllib.parse
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import pandas as pd

from analytics.errors import LiftboardError
from analytics.spark_sql import SparkQuery, to_spark
from analytics.store import CANONICAL, Workspace, open_workspace

if TYPE_CHECKING:
    import pyarrow as pa

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
#: SQL settings every Liftboard session needs, in local mode and on a Spark Connect server alike: naive timestamps
#: as in the embedded engine (DuckDB's TIMESTAMP is Spark's TIMESTAMP_NTZ, also when Parquet is read), UTC, and a
#: duplicated map key keeping its last value. On Connect they are set per session, leaving the server's alone.
_SQL_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
    "spark.sql.mapKeyDedupPolicy": "LAST_WIN",
}
#: Spark Connect's port when a URL names none.
CONNECT_PORT = 15002
#: What each engine function's query is for, in words for an error sentence.
_PURPOSES = {
    "run_moments": "the per-variant metric sums",
    "resolve_arms": "the list of an experiment's arms",
    "list_experiments": "the list of experiments",
    "data_end": "where the data ends",
    "parse_metrics": "the event and signal names",
    "_multi_variant_users": "the count of users exposed to several variants",
    "load_costs": "the cost aggregates",
    "_add_events": "the daily active users and conversions",
    "top_users": "the top cost users",
    "log_range": "the time range of the predictions log",
    "classify_columns": "the feature column profile",
    "fetch_reference_stats": "the reference window's statistics",
    "fetch_counts": "the drift histograms",
    "_fetch_values": "the drift value counts",
    "_fetch_categories": "the drift category counts",
    "_fetch_outcome": "the drift outcome counts",
    "_copy_remote_items": "the feedback items joined to their predictions and variants",
    "options": "the feedback filter options",
    "experiments": "the list of experiments",
    "unmatched_predictions": "the count of feedback rows that match no prediction",
    "date_range": "the feedback log's date range",
}


@dataclass(frozen=True)
class SparkSettings:
    """Where Spark is (a Spark Connect URL, or local mode) and where each data table is.

    ``tables`` maps a kind (events, assignments, predictions, feedback, users) to a Parquet path (a file, a
    folder or a glob) or to a table name in Spark's catalog.
    """

    tables: Mapping[str, str]
    connect_url: str | None = None
    local: bool = True

    def __post_init__(self) -> None:
        unknown = sorted(set(self.tables) - set(CANONICAL))
        if unknown:
            raise LiftboardError(
                f"Spark tables must be one of {', '.join(CANONICAL)}; {', '.join(unknown)} is not a table kind."
            )
        if self.connect_url and not self.connect_url.startswith("sc://"):
            raise LiftboardError(
                f"The Spark Connect URL {self.connect_url!r} must start with sc://, like sc://host:15002."
            )


def settings_from(section: Mapping[str, Any] | None) -> SparkSettings | None:
    """Settings from a ``[spark]`` section of ``.streamlit/secrets.toml`` (None when Spark is not configured)."""
    if not section:
        return None
    tables = {str(k): str(v) for k, v in dict(section.get("tables") or {}).items()}
    url = section.get("connect_url")
    if not tables:
        raise LiftboardError(
            'The [spark] settings name no tables; add tables = {events = "path/or/table", ...}.'
        )
    return SparkSettings(tables=tables, connect_url=str(url) if url else None, local=not url)


_SESSIONS: dict[str, Any] = {}
_SESSION_LOCK = threading.Lock()


def spark_session(settings: SparkSettings) -> Any:
    """The process's Spark session for these settings, started once (local mode needs no network)."""
    key = settings.connect_url or "local"
    with _SESSION_LOCK:
        if key in _SESSIONS:
            return _SESSIONS[key]
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise LiftboardError(
                "pyspark is not installed; install requirements.txt to use a Spark source."
            ) from None
        if settings.connect_url:
            _check_reachable(settings.connect_url)
        try:
            with warnings.catch_warnings():  # pyspark warns about pandas 3; we never hand it a DataFrame
                warnings.simplefilter("ignore", FutureWarning)
                if settings.connect_url:
                    session = SparkSession.builder.remote(settings.connect_url).getOrCreate()
                    for key, value in _SQL_CONF.items():
                        session.conf.set(key, value)
                else:
                    session = _local_session(SparkSession)
        except Exception as exc:  # noqa: BLE001  (any start-up failure becomes one sentence)
            where = settings.connect_url or "local mode"
            raise LiftboardError(f"Spark ({where}) could not start: {_first_line(exc)}") from None
        for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
            # pyspark logs every failed query with its JVM trace; ours becomes one LiftboardError sentence.
            logging.getLogger(name).disabled = True
        _SESSIONS[key] = session
        return session


def _check_reachable(url: str) -> None:
    """Fail at once, in one sentence, when nothing answers at a Connect URL.

    The Connect client connects lazily and then retries an unreachable server for ten minutes or more (its
    policy, made for server restarts), which a user who mistyped the host would take for a hang.
    """
    parsed = urllib.parse.urlparse(url)
    try:
        host, port = parsed.hostname or "localhost", parsed.port or CONNECT_PORT
    except ValueError:
        raise LiftboardError(
            f"The Spark Connect URL {url!r} has no valid port; use sc://host:15002."
        ) from None
    try:
        with socket.create_connection((host, port), timeout=5):
            pass
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise LiftboardError(
            f"Spark Connect at {host}:{port} is not reachable ({why}); check the URL and that the server runs."
        ) from None


def stop_sessions() -> None:
    """Stop every Spark session this process started (its JVM stops working; a later query starts anew)."""
    with _SESSION_LOCK:
        for session in _SESSIONS.values():
            session.stop()
        _SESSIONS.clear()


def _local_session(builder_cls: Any) -> Any:
    # The driver's Python must be ours; the JVM binds loopback only and writes nothing in the work tree.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    scratch = Path(tempfile.gettempdir()) / "liftboard-spark"
    scratch.mkdir(parents=True, exist_ok=True)
    # Spark's own start-up chatter (native-library and config warnings) stays out of the user's terminal.
    log_conf = scratch / "log4j2.properties"
    log_conf.write_text(
        "rootLogger.level = off\nrootLogger.appenderRef.stderr.ref = console\n"
        "appender.console.type = Console\nappender.console.name = console\n"
        "appender.console.target = SYSTEM_ERR\nappender.console.layout.type = PatternLayout\n"
        "appender.console.layout.pattern = %m%n\n"
    )
    os.environ.setdefault(  # the local driver JVM starts with this log configuration
        "PYSPARK_SUBMIT_ARGS",
        f"--driver-java-options -Dlog4j2.configurationFile=file:{log_conf} pyspark-shell",
    )
    session = (
        builder_cls.builder.master("local[2]")
        .appName("liftboard")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")  # one per local core; a cluster sets its own
        .config("spark.default.parallelism", "2")
        .config("spark.driver.memory", "1g")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
        .config("spark.sql.adaptive.enabled", "true")
        .config(map=_SQL_CONF)
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("OFF")  # errors come back as LiftboardError sentences, not log lines
    return session


def _first_line(exc: BaseException) -> str:
    """The engine's own message, one line, without the JVM stack trace or Spark's doc links."""
    text = getattr(exc, "getMessage", None)
    msg = text() if callable(text) else str(exc)
    line = next((ln.strip() for ln in str(msg).splitlines() if ln.strip()), type(exc).__name__)
    line = line.split(" Please, refer to ")[0].split(" SQLSTATE:")[0].strip()
    return line if line.endswith(".") else line + "."


def _purpose() -> str:
    """What the engine function that called us was computing (for the error sentence)."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_name
        if frame.f_globals.get("__name__") != __name__:
            return _PURPOSES.get(name, f"the {name.strip('_').replace('_', ' ')} query")
        frame = frame.f_back  # type: ignore[assignment]
    return "a query"


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
    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> list[tuple]:
        planned = self._plan(sql, params)
        if planned is None:
            return super().query(sql, params)
        return [tuple(_py(v) for v in row) for row in self._collect(planned)[1]]

    def query_df(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> pd.DataFrame:
        planned = self._plan(sql, params)
        if planned is None:
            return super().query_df(sql, params)
        names, rows = self._collect(planned)
        return pd.DataFrame.from_records([tuple(_py(v) for v in r) for r in rows], columns=names)

    def fetch_arrow(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> pa.Table:
        """A data table query's whole result as Arrow: Spark sends Arrow record batches, no Python rows."""
        planned = self._plan(sql, params)
        if planned is None:
            return super().fetch_arrow(sql, params)

        def run() -> pa.Table:
            self._register_locals(planned)
            return self.spark.sql(planned.sql, args=planned.args).toArrow()

        return self._run(_purpose(), run)

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

    def _collect(self, planned: SparkQuery) -> tuple[list[str], list[Any]]:
        def run() -> tuple[list[str], list[Any]]:
            self._register_locals(planned)
            frame = self.spark.sql(planned.sql, args=planned.args)
            return list(frame.columns), frame.collect()

        return self._run(_purpose(), run)

    @staticmethod
    def _run(purpose: str, action: Callable[[], T]) -> T:
        """Run a Spark action; any engine error becomes one sentence naming what was being computed."""
        try:
            return action()
        except LiftboardError:
            raise
        except Exception as exc:  # noqa: BLE001  (Py4J, Spark Connect/gRPC errors: never a JVM trace)
            raise LiftboardError(f"Spark could not compute {purpose}: {_first_line(exc)}") from None

    def _register_locals(self, planned: SparkQuery) -> None:
        for name in sorted(t for t in planned.tables if t.startswith("lb_")):
            self._register_local(name)

    def _register_local(self, table: str) -> None:
        """Make a small Liftboard table (e.g. the price table) visible to Spark as a temporary view."""
        cols = super().columns(table)
        if not cols:
            raise LiftboardError(f"The local workspace has no {table} table.")
        ddl = ", ".join(f"`{c}` {_DDL.get(t, t)}" for c, t in cols.items())
        rows = super().query(f"SELECT * FROM {table}")  # noqa: S608  (a Liftboard table name, not user text)
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
            counts = ", ".join(f"(SELECT count(*) FROM `{k}`)" for k in kinds)  # noqa: S608 - kinds are ours
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

    def state_token(self) -> str:
        # The pages' cache key also moves when a check saw the source change (no Spark query here).
        return ":".join([super().state_token(), *sorted(v for _, v in self._versions.values())])

    # -- what the Data page shows -------------------------------------------------------------------------
    def source_summary(self) -> list[dict[str, Any]]:
        """Per data table: where it is, its rows and its time range (one aggregate query per table)."""
        out = []
        for kind in (k for k in CANONICAL if k in self.sources):
            cols = self.columns(kind)
            ts = "`timestamp`" if "timestamp" in cols else "NULL"
            row = self.spark.sql(f"SELECT count(*), min({ts}), max({ts}) FROM `{kind}`").collect()[0]  # noqa: S608
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
        except Exception as exc:  # noqa: BLE001
            raise LiftboardError(
                f"Spark could not open the {kind} table at {source}: {_first_line(exc)}"
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


# -- the command line: one helper for analyze, cost and drift -----------------------------------------------


def add_spark_flags(parser: argparse.ArgumentParser) -> None:
    """``--spark-local``, ``--spark-connect URL`` and ``--spark-table KIND=PATH`` on a command."""
    g = parser.add_argument_group("Spark source (data tables in a lake; --db keeps settings and prices)")
    g.add_argument("--spark-local", action="store_true", help="run the queries on Spark in local mode")
    g.add_argument(
        "--spark-connect", metavar="URL", help="run the queries on a Spark Connect server, sc://host:15002"
    )
    g.add_argument(
        "--spark-table",
        action="append",
        default=[],
        metavar="KIND=PATH",
        help="a data table as a Parquet path or Spark table name, e.g. events=s3a://lake/events (repeatable)",
    )


def settings_from_args(args: argparse.Namespace) -> SparkSettings | None:
    """Spark settings from the flags; None when no Spark flag is given (the embedded tables are used)."""
    pairs = getattr(args, "spark_table", None) or []
    url = getattr(args, "spark_connect", None)
    if not pairs and not url and not getattr(args, "spark_local", False):
        return None
    tables = {}
    for pair in pairs:
        kind, sep, source = pair.partition("=")
        if not sep or not kind.strip() or not source.strip():
            raise LiftboardError(
                f"--spark-table {pair!r} must be KIND=PATH, e.g. events=/lake/events.parquet."
            )
        tables[kind.strip()] = source.strip()
    if not tables:
        raise LiftboardError(
            "A Spark source needs its tables; add --spark-table events=PATH (and the others)."
        )
    return SparkSettings(tables=tables, connect_url=url, local=not url)


def workspace_from_args(args: argparse.Namespace) -> Workspace:
    """The workspace a read-only command runs on: Spark when Spark flags are given, else the --db file."""
    settings = settings_from_args(args)
    if settings is None:
        return open_workspace(args.db, create=False, read_only=True)
    return open_spark_workspace(args.db, settings)


def open_configured(db: str | Path, spark_section: Mapping[str, Any] | None) -> Workspace:
    """The app's workspace: on Spark when ``secrets.toml`` has a ``[spark]`` section, else the DuckDB file."""
    settings = settings_from(spark_section)
    if settings is None:
        return open_workspace(db)
    return open_spark_workspace(db, settings, read_only=False)

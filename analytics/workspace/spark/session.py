"""Spark sessions: where Spark is (a Spark Connect URL, or local mode), started once per process and reused."""

from __future__ import annotations

import logging
import os
import socket
import sys
import tempfile
import threading
import urllib.parse
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analytics.errors import LiftboardError
from analytics.workspace.schema import CANONICAL

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
        except Exception as exc:  # any start-up failure becomes one sentence
            where = settings.connect_url or "local mode"
            raise LiftboardError(f"Spark ({where}) could not start: {first_line(exc)}") from None
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


def first_line(exc: BaseException) -> str:
    """The engine's own message, one line, without the JVM stack trace or Spark's doc links."""
    text = getattr(exc, "getMessage", None)
    msg = text() if callable(text) else str(exc)
    line = next((ln.strip() for ln in str(msg).splitlines() if ln.strip()), type(exc).__name__)
    line = line.split(" Please, refer to ")[0].split(" SQLSTATE:")[0].strip()
    return line if line.endswith(".") else line + "."

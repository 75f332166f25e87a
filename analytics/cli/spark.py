"""The Spark flags every data command takes (`--spark`, `--spark-table KIND=PATH`), and the workspace they open."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from analytics.errors import LiftboardError

if TYPE_CHECKING:  # the engine loads when a command runs, so --help and argument errors stay quick
    from analytics.workspace import Workspace
    from analytics.workspace.spark import SparkSettings


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
    from analytics.workspace.spark import SparkSettings

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
        from analytics.workspace import open_workspace

        return open_workspace(args.db, create=False, read_only=True)
    from analytics.workspace.spark import open_spark_workspace  # pyspark and sqlglot load only for Spark

    return open_spark_workspace(args.db, settings)

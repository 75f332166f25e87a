"""Spark as a data source: sessions, DuckDB SQL transpiled to Spark SQL, and the Spark-backed workspace."""

import lazy_loader

# Names load on first use (PEP 562): `python -m analytics --help` stays fast, and a caller pays only for
# the modules it uses. Every public name of the package is listed here.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submodules=["session", "source", "sql"],
    submod_attrs={
        "session": [
            "CONNECT_PORT",
            "SparkSettings",
            "first_line",
            "settings_from",
            "spark_session",
            "stop_sessions",
        ],
        "source": ["SparkWorkspace", "open_configured", "open_spark_workspace", "register_sources"],
        "sql": ["SparkQuery", "named_markers", "parse_duckdb", "tables_read", "to_spark"],
    },
)

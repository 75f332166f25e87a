"""The workspace: one DuckDB file holding the canonical tables and Liftboard's own state."""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import duckdb

from analytics.errors import LiftboardError
from analytics.workspace.schema import CANONICAL, DEFAULT_DB, KINDS, REVIEW_ACTIONS

if TYPE_CHECKING:  # pandas loads with the first DataFrame (duckdb's .df()), not with every command
    import pandas as pd
    import pyarrow as pa

#: Liftboard's own tables. Each migration runs once, in order, inside one transaction.
MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE IF NOT EXISTS lb_meta (key VARCHAR PRIMARY KEY, value VARCHAR);
        CREATE SEQUENCE IF NOT EXISTS lb_load_seq;
        CREATE TABLE IF NOT EXISTS lb_loads (
            load_id BIGINT PRIMARY KEY, kind VARCHAR NOT NULL, file_name VARCHAR,
            content_hash VARCHAR, rows BIGINT, mode VARCHAR, loaded_at TIMESTAMP,
            loaded_by VARCHAR, source VARCHAR, mapping VARCHAR);
        CREATE SEQUENCE IF NOT EXISTS lb_audit_seq;
        CREATE TABLE IF NOT EXISTS lb_audit (
            audit_id BIGINT PRIMARY KEY, at_time TIMESTAMP NOT NULL, actor VARCHAR NOT NULL,
            action VARCHAR NOT NULL, target VARCHAR, before VARCHAR, after VARCHAR);
        CREATE TABLE IF NOT EXISTS lb_settings (key VARCHAR PRIMARY KEY, value VARCHAR);
        CREATE TABLE IF NOT EXISTS lb_prices (
            model_version VARCHAR PRIMARY KEY, input_per_1k DOUBLE NOT NULL,
            output_per_1k DOUBLE NOT NULL, cached_per_1k DOUBLE NOT NULL DEFAULT 0);
        CREATE SEQUENCE IF NOT EXISTS lb_tag_seq;
        CREATE TABLE IF NOT EXISTS lb_tags (
            tag_id BIGINT PRIMARY KEY, name VARCHAR NOT NULL, description VARCHAR,
            retired BOOLEAN NOT NULL DEFAULT false, created_at TIMESTAMP);
        CREATE TABLE IF NOT EXISTS lb_reviews (
            feedback_id VARCHAR NOT NULL, reviewer VARCHAR NOT NULL,
            tag_ids BIGINT[] NOT NULL, version BIGINT NOT NULL, updated_at TIMESTAMP);
        """,
    ),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]

T = TypeVar("T")

_IDENT_OK = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def quote_ident(name: str) -> str:
    """Quote an identifier for SQL: double quotes, inner quotes doubled.

    Only use it on names already checked against the schema (``Workspace.column``).
    """
    if "\x00" in name:
        raise LiftboardError("A column name contains a NUL character; rename the column.")
    return '"' + name.replace('"', '""') + '"'


@dataclass
class Workspace:
    """An open workspace: one DuckDB connection per process, a cursor per query or thread."""

    path: Path
    con: duckdb.DuckDBPyConnection
    read_only: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    #: Answers remembered for one pass over the workspace (``for_run``); None: nothing is remembered.
    _memo: dict[Hashable, Any] | None = field(default=None, repr=False, compare=False)
    #: True when the data tables live elsewhere (a Spark source) and only Liftboard's own tables are local.
    remote_data: ClassVar[bool] = False

    # -- one pass (a page run) -------------------------------------------------------
    def for_run(self) -> Workspace:
        """This workspace (same connection) remembering ``once`` answers for as long as the copy lives.

        A page run reads one state of the data: asking again within it whether a derived table is current (a
        ``data_version``, a dozen catalogue queries) would repeat the first answer. Take one per run, not longer.
        """
        return dataclasses.replace(self, _memo={})

    def once(self, key: Hashable, compute: Callable[[], T], *, fresh: bool = False) -> T:
        """``compute()``, remembered under ``key`` by a ``for_run`` copy; always computed by the shared workspace.

        ``fresh`` computes again and remembers the new answer (after the caller changed what it depends on).
        """
        if self._memo is None:
            return compute()
        if fresh or key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    # -- running SQL -----------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor on the shared connection, safe to use from one thread."""
        with self._lock:
            return self.con.cursor()

    def query(
        self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None, *, purpose: str | None = None
    ) -> list[tuple]:
        """Run a read query and return its (small) result as tuples.

        ``purpose`` says in words what the query computes (e.g. "the cost aggregates"); a remote engine puts it
        in the one sentence it raises when the query fails. The embedded engine does not need it.
        """
        cur = self.cursor()
        try:
            return cur.execute(sql, params).fetchall()
        finally:
            cur.close()

    def query_df(
        self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None, *, purpose: str | None = None
    ) -> pd.DataFrame:
        """Run a query whose result is an aggregate (small) and return it as a DataFrame."""
        cur = self.cursor()
        try:
            return cur.execute(sql, params).df()
        finally:
            cur.close()

    def fetch_arrow(
        self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None, *, purpose: str | None = None
    ) -> pa.Table:
        """Run a query whose result is too big for Python rows (one row per item) and return it as Arrow."""
        cur = self.cursor()
        try:
            return cur.sql(sql, params=params).to_arrow_table()
        finally:
            cur.close()

    def scalar(
        self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None, *, purpose: str | None = None
    ) -> Any:
        rows = self.query(sql, params, purpose=purpose)
        return rows[0][0] if rows else None

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor inside BEGIN … COMMIT; any exception rolls everything back."""
        if self.read_only:
            raise LiftboardError(f"The workspace {self.path} is open read-only; nothing can be written.")
        cur = self.cursor()
        cur.execute("BEGIN TRANSACTION")
        try:
            yield cur
        except BaseException:
            cur.execute("ROLLBACK")
            cur.close()
            raise
        cur.execute("COMMIT")
        cur.close()

    # -- the schema ------------------------------------------------------------------
    def has_table(self, table: str) -> bool:
        return bool(
            self.scalar(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema = 'main' AND table_name = ?",
                [table],
            )
        )

    def columns(self, table: str) -> dict[str, str]:
        """Column names and DuckDB types of a table, in order; empty if it does not exist."""
        rows = self.query(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
            [table],
        )
        return {name: dtype for name, dtype in rows}

    def data_tables(self) -> list[str]:
        """The canonical data tables this workspace holds, in DESIGN.md order."""
        return [kind for kind in KINDS if self.has_table(kind)]

    def table(self, table: str) -> str:
        """The quoted name of a canonical table that exists, or a LiftboardError."""
        if table not in CANONICAL or not self.has_table(table):
            raise LiftboardError(
                f"The workspace has no {table} table; load a {table} file on the Data page "
                "or with `python -m analytics load`."
            )
        return quote_ident(table)

    def column(self, table: str, column: str) -> str:
        """The quoted name of a column checked to exist in the table (user input never reaches SQL raw)."""
        cols = self.columns(table)
        if column not in cols:
            known = ", ".join(list(cols)[:20])
            raise LiftboardError(f"The {table} table has no column {column!r}; its columns are: {known}.")
        return quote_ident(column)

    # -- Liftboard's own state -------------------------------------------------------
    def get_setting(self, key: str, default: Any = None) -> Any:
        value = self.scalar("SELECT value FROM lb_settings WHERE key = ?", [key])
        return default if value is None else json.loads(value)

    def set_setting(self, key: str, value: Any, cur: duckdb.DuckDBPyConnection | None = None) -> None:
        sql = "INSERT OR REPLACE INTO lb_settings VALUES (?, ?)"
        params = [key, json.dumps(value, sort_keys=True)]
        if cur is not None:
            cur.execute(sql, params)
        else:
            with self.transaction() as tx:
                tx.execute(sql, params)

    def audit(
        self,
        cur: duckdb.DuckDBPyConnection,
        actor: str,
        action: str,
        target: str,
        before: Any = None,
        after: Any = None,
    ) -> None:
        """Write one audit row inside the caller's transaction (who, when, what, before, after)."""
        cur.execute(
            "INSERT INTO lb_audit VALUES (nextval('lb_audit_seq'), now()::TIMESTAMP, ?, ?, ?, ?, ?)",
            [
                actor,
                action,
                target,
                None if before is None else json.dumps(before, default=str, sort_keys=True),
                None if after is None else json.dumps(after, default=str, sort_keys=True),
            ],
        )

    def data_version(self, tables: Sequence[str]) -> str:
        """A token that changes when any of these data tables changes (a cache key for tables built on them).

        Data enters through loads (recorded in lb_loads) and the row counts move with any append or delete.
        Two queries: the tables' column counts from the catalogue, then the last load and every row count.
        """
        shape = dict(
            self.query(
                "SELECT table_name, count(*) FROM information_schema.columns WHERE table_schema = 'main' "
                "AND table_name IN (SELECT unnest(?::VARCHAR[])) GROUP BY table_name",
                [list(tables)],
            )
        )
        present = [t for t in tables if t in shape]
        counts = "".join(
            f", (SELECT count(*) FROM {quote_ident(t)})" for t in present
        )  # names from the catalogue
        load, *rows = self.query(f"SELECT (SELECT max(load_id) FROM lb_loads){counts}")[0]
        return "|".join([str(load), *(f"{t}:{n}:{shape[t]}" for t, n in zip(present, rows, strict=True))])

    def refresh_source(self) -> None:
        """Re-read the data tables' source (a no-op here: the embedded tables are always current)."""

    def state_token(self, *, reviews: bool = True) -> str:
        """Changes whenever data is loaded or deleted or any audited change is made: a cache key for pages.

        With ``reviews=False`` reviewers' tags and reviews do not move it: the analyses that never read them
        (experiments, cost, drift) keep their cached results while reviewers work.
        """
        skip = "" if reviews else " WHERE NOT (" + " OR ".join(["action LIKE ?"] * len(REVIEW_ACTIONS)) + ")"
        loads, audits = self.query(
            f"SELECT (SELECT max(load_id) FROM lb_loads), (SELECT max(audit_id) FROM lb_audit{skip})",
            [] if reviews else list(REVIEW_ACTIONS),
        )[0]
        return f"{self.path}:{loads}:{audits}"

    def close(self) -> None:
        self.con.close()


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE IF NOT EXISTS lb_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    row = con.execute("SELECT value FROM lb_meta WHERE key = 'schema_version'").fetchone()
    current = int(row[0]) if row else 0
    if current > SCHEMA_VERSION:
        raise LiftboardError(
            f"This workspace has schema version {current}, newer than this Liftboard "
            f"({SCHEMA_VERSION}); upgrade Liftboard to open it."
        )
    for version, sql in MIGRATIONS:
        if version <= current:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute("INSERT OR REPLACE INTO lb_meta VALUES ('schema_version', ?)", [str(version)])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    con.execute("INSERT OR REPLACE INTO lb_meta VALUES ('engine_version', ?)", [duckdb.__version__])


def open_workspace(
    path: str | Path = DEFAULT_DB,
    *,
    create: bool = True,
    read_only: bool = False,
    migrate: bool = True,
    memory_limit: str | None = None,
) -> Workspace:
    """Open (and migrate) a workspace file; every failure is a one-sentence LiftboardError.

    Args:
        migrate: bring Liftboard's own tables up to date (a write); off for a look that must write nothing.
        memory_limit: DuckDB's memory limit for this file's database (e.g. ``1GB``); beyond it DuckDB spills
            to disk or refuses the query, instead of taking the machine's memory (its default is 80% of it).
    """
    path = Path(path)
    if path.is_dir():
        raise LiftboardError(f"The workspace path {path} is a directory; give a .duckdb file path.")
    if not path.exists():
        if not create or read_only:
            raise LiftboardError(
                f"There is no workspace at {path}; build the demo with `python -m analytics demo` "
                "or load a file first."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        msg = str(exc)
        if "lock" in msg.lower():
            raise LiftboardError(
                f"The workspace {path} is in use by another process (is the app running?); "
                "stop it or pass --db with another file."
            ) from None
        raise LiftboardError(f"The workspace {path} cannot be opened: {msg.splitlines()[0]}") from None
    except (duckdb.SerializationException, duckdb.InternalException, duckdb.Error) as exc:
        msg = str(exc).splitlines()[0]
        if "version" in msg.lower() or "storage" in msg.lower():
            raise LiftboardError(
                f"The workspace {path} was written by another DuckDB version than this one "
                f"({duckdb.__version__}); open it with the DuckDB version that wrote it, or rebuild it."
            ) from None
        raise LiftboardError(f"The workspace {path} is not a DuckDB workspace ({msg}).") from None
    if memory_limit is not None:
        con.execute(f"SET memory_limit = '{check_memory_limit(memory_limit)}'")
    if migrate and not read_only:
        _migrate(con)
    return Workspace(path=path, con=con, read_only=read_only)


_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)


def check_memory_limit(text: str) -> str:
    """A memory size such as ``512MB`` or ``2GB``, normalised; anything else is one sentence."""
    m = _MEMORY.match(str(text))
    if not m or float(m.group(1)) <= 0:
        raise LiftboardError(f"The memory limit {text!r} is not a size; write it like 512MB or 2GB.")
    return f"{m.group(1)}{m.group(2).upper().replace('I', 'i')}"


def engine_version(ws: Workspace) -> str | None:
    """The DuckDB version that last wrote this workspace."""
    return ws.scalar("SELECT value FROM lb_meta WHERE key = 'engine_version'")

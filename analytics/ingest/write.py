"""Writing staged rows into the canonical tables, and dropping a table, in the caller's transaction."""

from __future__ import annotations

import getpass
import threading
from collections.abc import Callable, Mapping
from typing import Any

import duckdb

from analytics.ingest.report import Column, ValidationReport
from analytics.workspace import Actor, Workspace, quote_ident, require

Progress = Callable[[float, str], None]


def run_with_progress(
    cur: duckdb.DuckDBPyConnection,
    sql: str,
    params: dict[str, Any] | None,
    progress: Progress | None,
    lo: float,
    hi: float,
    label: str,
) -> None:
    """Execute one statement; while it runs, report DuckDB's own progress between lo and hi."""
    if progress is None:
        cur.execute(sql, params)
        return
    box: dict[str, BaseException] = {}

    def work() -> None:
        try:
            cur.execute(sql, params)
        except BaseException as exc:  # handed to the caller's thread
            box["exc"] = exc

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    progress(lo, label)
    while worker.is_alive():
        worker.join(0.25)
        pct = cur.query_progress()
        if pct is not None and pct >= 0:
            progress(lo + (hi - lo) * min(pct, 100.0) / 100.0, label)
    if "exc" in box:
        raise box["exc"]
    progress(hi, label)


def retyped(ref: str, dtype: str) -> str:
    """A text column's values as dtype, blanks as NULL: how an extra column takes the type validation found."""
    return f"TRY_CAST(NULLIF(trim({ref}), '') AS {dtype})"


def typed_copy(name: str) -> str:
    """The stage column holding a text column's values already retyped by the reader (see finish_load)."""
    return f"__lb_t_{name}"


def finish_load(
    cur: duckdb.DuckDBPyConnection,
    kind: str,
    stage: str,
    mode: str,
    columns: list[Column],
    report: ValidationReport,
    typed: Mapping[str, str] | None = None,
) -> None:
    """Turn the staged rows into the canonical table: rename it (new/replace) or append to it.

    typed: text column -> the type of its `typed_copy` in the stage (the values as `retyped` gives them). When
    validation found that type, the copy replaces the column: a column swap instead of a pass over every row.
    """
    q = quote_ident
    target = q(kind)
    typed = dict(typed or {})
    for col in columns:
        if col.flag:
            cur.execute(f"ALTER TABLE {stage} DROP COLUMN {q(col.flag)}")
    if mode in ("new", "replace"):
        for name, dtype in report.extras.items():
            col = next(c for c in columns if c.name == name)
            if dtype == col.dtype:
                continue
            if typed.get(name) == dtype:
                del typed[name]
                cur.execute(f"ALTER TABLE {stage} DROP COLUMN {q(name)}")
                cur.execute(f"ALTER TABLE {stage} RENAME COLUMN {q(typed_copy(name))} TO {q(name)}")
            else:
                cur.execute(
                    f"ALTER TABLE {stage} ALTER COLUMN {q(name)} TYPE {dtype} USING {retyped(q(name), dtype)}"
                )
        for name in typed:  # copies of a type validation did not find
            cur.execute(f"ALTER TABLE {stage} DROP COLUMN {q(typed_copy(name))}")
        if mode == "replace":
            cur.execute(f"DROP TABLE {target}")
        cur.execute(f"ALTER TABLE {stage} RENAME TO {target}")
        return
    existing = {k.lower(): (k, v) for k, v in table_columns(cur, kind).items()}
    names, exprs = [], []
    for col in columns:
        dtype = report.extras.get(col.name, col.dtype) if col.extra else col.dtype
        if col.name.lower() not in existing:
            # Schema evolution: a new property (or an optional column earlier files lacked).
            cur.execute(f"ALTER TABLE {target} ADD COLUMN {q(col.name)} {dtype}")
            existing[col.name.lower()] = (col.name, dtype)
        tname, ttype = existing[col.name.lower()]
        ref = q(col.name)
        if typed.get(col.name) == ttype:
            ref = q(typed_copy(col.name))
        elif col.dtype == "VARCHAR" and ttype != "VARCHAR":
            ref = retyped(ref, ttype)
        elif ttype != col.dtype:
            ref = f"TRY_CAST({ref} AS {ttype})"
        names.append(q(tname))
        exprs.append(ref)
    cur.execute(f"INSERT INTO {target} ({', '.join(names)}) SELECT {', '.join(exprs)} FROM {stage}")
    cur.execute(f"DROP TABLE {stage}")


def table_columns(cur: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """A table's columns and DuckDB types, in order, read in the caller's transaction."""
    rows = cur.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def whoami() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def delete_dataset(ws: Workspace, kind: str, *, actor: Actor | None) -> int:
    """Drop a canonical table (admins only; recorded in lb_loads and the audit trail); returns the rows removed."""
    who = require(actor, "delete").name
    table = ws.table(kind)  # a LiftboardError when it does not exist
    with ws.transaction() as cur:
        rows = int(cur.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        cur.execute(f"DROP TABLE {table}")
        cur.execute(
            "INSERT INTO lb_loads VALUES (nextval('lb_load_seq'), ?, NULL, NULL, ?, 'delete', "
            "now()::TIMESTAMP, ?, NULL, NULL)",
            [kind, rows, who],
        )
        ws.audit(cur, who, "delete", kind, {"rows": rows}, None)
    return rows

"""Reading a data file into a typed stage table: the read_csv/read_parquet call and the per-column casts."""

from __future__ import annotations

import re
from typing import Any

import duckdb

from analytics.errors import LiftboardError
from analytics.ingest.detect import FileInfo
from analytics.ingest.mapping import canonical_columns, extra_names
from analytics.ingest.paths import literal
from analytics.ingest.report import Column
from analytics.workspace import CANONICAL, quote_ident

_READ_OPTS = (
    "header = true, auto_detect = false, delim = $delim, quote = '\"', escape = '\"', encoding = $enc, "
    "compression = $comp, columns = $cols"
)
#: Lines up to 16 MB (long prompts or outputs in one cell) for the text read. The typed first read keeps
#: DuckDB's 2 MB: its buffers scale with this limit, and 16 MB made a 20M-row read 10% slower; a longer
#: line fails the typed read, and the text read takes over.
_LONG_LINES = ", max_line_size = 16777216"


#: Canonical types the CSV reader parses itself, as it reads (about as fast as a bare CREATE TABLE AS).
#: A TIMESTAMP is read as TIMESTAMPTZ: with the session in UTC a naive value stays as written and a UTC
#: offset is applied, where the reader's TIMESTAMP would silently drop the offset.
READER_TYPES = {"TIMESTAMP": "TIMESTAMPTZ", "DOUBLE": "DOUBLE", "BIGINT": "BIGINT"}


def reader_types(kind: str, info: FileInfo, mapping: dict[str, str | None]) -> dict[str, str]:
    """CSV source columns the reader can type directly: each mapped to one TIMESTAMP/DOUBLE/BIGINT column.

    The first attempt of a load reads these typed; if any value does not parse (a malformed timestamp, an
    epoch, text in a number column, a thousands separator), the reader raises and the load reads every
    column as text instead (``typed_expr``), where each bad value is counted, shown and optionally skipped.
    """
    if info.format != "csv":
        return {}
    wanted: dict[str, set[str]] = {}
    for canon, dtype in canonical_columns(kind).items():
        src = mapping.get(canon)
        if src is not None:
            wanted.setdefault(src, set()).add(dtype)
    out = {}
    for src, dtypes in wanted.items():
        (dtype,) = dtypes if len(dtypes) == 1 else (None,)
        if dtype in READER_TYPES:
            out[src] = READER_TYPES[dtype]
    return out


def source_sql(info: FileInfo, typed: dict[str, str] | None = None) -> tuple[str, dict[str, Any]]:
    """The table function that reads the file, with its parameters (no user text in the SQL)."""
    if info.format == "parquet":
        return "read_parquet($path)", {"path": literal(info.path)}
    typed = typed or {}
    cols = {f"c{i}": typed.get(h, "VARCHAR") for i, h in enumerate(info.header)}
    params = {
        "path": literal(info.path),
        "delim": info.delimiter,
        "enc": info.encoding,
        "comp": info.compression,
        "cols": cols,
    }
    return f"read_csv($path, {_READ_OPTS}{'' if typed else _LONG_LINES})", params


def raw_refs(
    info: FileInfo, cur: duckdb.DuckDBPyConnection, typed: dict[str, str] | None = None
) -> dict[str, tuple[str, str]]:
    """Source column -> (SQL reference, source type)."""
    if info.format == "parquet":
        rows = cur.execute("DESCRIBE SELECT * FROM read_parquet(?)", [literal(info.path)]).fetchall()
        return {r[0]: (quote_ident(r[0]), str(r[1])) for r in rows}
    typed = typed or {}
    return {h: (f"c{i}", typed.get(h, "VARCHAR")) for i, h in enumerate(info.header)}


def _ts_from_text(t: str) -> str:
    # DuckDB's TIMESTAMP cast drops a UTC offset (Z, +02:00, -0500) and the TIMESTAMPTZ cast is twice as
    # slow, so the latter runs only on values with a sign or a Z after the date (plain substring tests:
    # a regular expression here costs more than the cast). With the session in UTC it is exact for all.
    # Then epoch seconds or milliseconds.
    after = f"substr({t}, 11)"
    return (
        f"COALESCE(CASE WHEN contains({after}, '+') OR contains({after}, '-') OR contains({after}, 'Z') "
        f"OR contains({after}, 'z') "
        f"THEN timezone('UTC', TRY_CAST({t} AS TIMESTAMPTZ)) ELSE TRY_CAST({t} AS TIMESTAMP) END, CASE "
        f"WHEN regexp_full_match({t}, '\\s*[0-9]{{9,10}}(\\.[0-9]*)?\\s*') "
        f"THEN make_timestamp(CAST(CAST(trim({t}) AS DOUBLE) * 1000000 AS BIGINT)) "
        f"WHEN regexp_full_match({t}, '\\s*[0-9]{{13}}\\s*') "
        f"THEN make_timestamp(CAST(trim({t}) AS BIGINT) * 1000) END)"
    )


def typed_expr(ref: str, src_type: str, dtype: str) -> tuple[str, str | None]:
    """(expression giving dtype, text expression whose non-blank values must parse, or None)."""
    st = src_type.upper()
    text = ref if st == "VARCHAR" else f"CAST({ref} AS VARCHAR)"
    if dtype == "VARCHAR":
        return text, None
    if dtype == "TIMESTAMP":
        if st.startswith("TIMESTAMP WITH") or st == "TIMESTAMPTZ":
            # The instant's UTC microseconds as a naive timestamp: what timezone('UTC', …) gives, without
            # a time-zone library call per row.
            return f"make_timestamp(epoch_us({ref}))", None
        if st.startswith("TIMESTAMP") or st == "DATE":
            return f"CAST({ref} AS TIMESTAMP)", None
        return _ts_from_text(text), text
    numeric = st in {
        "DOUBLE",
        "FLOAT",
        "BIGINT",
        "INTEGER",
        "SMALLINT",
        "TINYINT",
        "HUGEINT",
        "UBIGINT",
        "UINTEGER",
        "USMALLINT",
        "UTINYINT",
    } or st.startswith("DECIMAL")
    if numeric:
        return f"CAST({ref} AS {dtype})", None
    # DuckDB's number casts skip ASCII whitespace themselves, so trim() (which also strips Unicode spaces
    # such as a no-break space) runs only on the values the plain cast could not read.
    as_double = f"COALESCE(TRY_CAST({text} AS DOUBLE), TRY_CAST(trim({text}) AS DOUBLE))"
    return (as_double if dtype == "DOUBLE" else f"TRY_CAST(round({as_double}) AS {dtype})"), text


def stage_sql(
    kind: str,
    info: FileInfo,
    mapping: dict[str, str | None],
    refs: dict[str, tuple[str, str]],
    stage: str,
    typed: dict[str, str] | None = None,
    *,
    experiment: str | None = None,
) -> tuple[str, list[Column]]:
    """The CREATE TABLE of the stage and its columns. ``experiment`` fills an unmapped experiment column (bound
    as ``$experiment``); the rows of other experiments, when the file has the column, are removed later."""
    q = quote_ident
    inner: list[str] = []
    outer: list[str] = []
    columns: list[Column] = []
    required = CANONICAL[kind]["required"]
    for canon, dtype in canonical_columns(kind).items():
        src = mapping.get(canon)
        if src is None:
            if kind == "feedback" and canon == "feedback_id":
                order = ", ".join(r for r, _ in refs.values())
                expr = f"($load_id || '-' || row_number() OVER (ORDER BY {order}))"
            elif canon == "experiment" and experiment is not None:
                expr = "CAST($experiment AS VARCHAR)"
            else:
                expr = f"CAST(NULL AS {dtype})"
            inner.append(f"{expr} AS {q(canon)}")
            outer.append(q(canon))
            columns.append(Column(canon, dtype, required=canon in required))
            continue
        ref, st = refs[src]
        expr, text = typed_expr(ref, st, dtype)
        inner.append(f"{expr} AS {q(canon)}")
        outer.append(q(canon))
        flag = None
        if text is not None:
            flag = f"__lb_bad_{canon}"
            inner.append(f"{text} AS {q('__lb_raw_' + canon)}")
            raw = q("__lb_raw_" + canon)
            outer.append(
                f"CASE WHEN {q(canon)} IS NULL AND NULLIF(trim({raw}), '') IS NOT NULL THEN {raw} END AS {q(flag)}"
            )
        columns.append(Column(canon, dtype, required=canon in required, flag=flag, source_type=st))
    for src, name in extra_names(kind, info, mapping).items():
        ref, st = refs[src]
        inner.append(f"{ref} AS {q(name)}")
        outer.append(q(name))
        columns.append(Column(name, st, source_type=st, extra=True))
    source, _ = source_sql(info, typed)
    sql = (
        f"CREATE TABLE {stage} AS SELECT {', '.join(outer)} "  # names quoted, values bound
        f"FROM (SELECT {', '.join(inner)} FROM {source})"
    )
    return sql, columns


def read_error(info: FileInfo, exc: duckdb.Error) -> LiftboardError:
    msg = str(exc)
    line = re.search(r"[Ll]ine:?\s*(\d+)", msg)
    where = f" near line {line.group(1)}" if line else ""
    if "unicode" in msg.lower() or "utf" in msg.lower():
        return LiftboardError(
            f"{info.name} is not valid {info.encoding} text{where}; pass the right encoding "
            "(utf-8, latin-1 or utf-16)."
        )
    delim = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(info.delimiter, info.delimiter)
    return LiftboardError(
        f"{info.name} cannot be read as a {delim}-separated file with {len(info.header)} columns{where} "
        f"({msg.splitlines()[0][:160]}); fix that line or choose another delimiter."
    )

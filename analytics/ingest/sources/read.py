"""How each export file is read into the events stage: canonical columns typed, top-level columns kept as
properties, property containers kept as JSON text (flattened next, from the stage: see flatten)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import duckdb

from analytics.ingest.checks import EXTRA_TYPES, short
from analytics.ingest.mapping import MAX_COLUMNS
from analytics.ingest.paths import literal
from analytics.ingest.sources.files import JSON_SAMPLE, MAX_OBJECT, ExportFile
from analytics.ingest.sources.jsonkeys import json_type, object_keys
from analytics.ingest.sources.spec import Field, Source
from analytics.ingest.staging import source_sql, typed_expr
from analytics.ingest.write import retyped, typed_copy
from analytics.workspace import quote_ident

q = quote_ident
#: GA4's key/value arrays as read from JSON (BigQuery writes INT64 values as JSON strings, hence VARCHAR).
KV_JSON_TYPE = (
    'STRUCT("key" VARCHAR, "value" STRUCT(string_value VARCHAR, int_value VARCHAR, float_value DOUBLE, '
    "double_value DOUBLE))[]"
)
#: Stage columns of our own, dropped before the rows become the events table.
BAD_JSON, FILE, DUP = "__lb_bad_json", "__lb_file", "__lb_dup"
#: Names the canonical events columns take; a property of the same name is stored as `<name>_src`.
RESERVED = ("user_id", "timestamp", "event", "value")
#: scalar: a top-level column; object: a JSON object (JSON lines) or a JSON string cell (CSV, Parquet), held
#: as JSON text; kv: GA4's key/value list; struct: a Parquet struct.
Kind = Literal["scalar", "object", "kv", "struct"]


def _nested(dtype: str) -> bool:
    t = dtype.upper()
    return t == "JSON" or t.startswith(("STRUCT(", "MAP(", "UNION(")) or t.endswith("]")


@dataclass(frozen=True)
class ReadColumn:
    """A column of a file as read: its own name, how it holds properties, its type as read."""

    name: str
    kind: Kind
    dtype: str


def read_columns(f: ExportFile, source: Source) -> tuple[list[ReadColumn], list[str]]:
    """The columns read from a file, and the nested ones left out (objects and lists that are not property
    containers: Amplitude's `data`, GA4's `items`)."""
    keep: list[ReadColumn] = []
    left: list[str] = []
    for col, dtype in f.columns.items():
        c = source.container(col)
        t = dtype.upper()
        if c is None:
            if _nested(t):
                left.append(col)
            else:
                keep.append(ReadColumn(col, "scalar", "VARCHAR" if f.format in ("json", "csv") else dtype))
        elif c.kind == "kv" and (f.format == "json" or t.endswith("[]")):
            keep.append(ReadColumn(col, "kv", KV_JSON_TYPE if f.format == "json" else dtype))
        elif f.format == "json" or t in ("VARCHAR", "JSON"):
            keep.append(ReadColumn(col, "object", "JSON"))
        elif t.startswith("STRUCT("):
            keep.append(ReadColumn(col, "struct", dtype))
        else:
            left.append(col)
    return keep, left


def scalar_names(files: list[ExportFile], source: Source) -> dict[str, str]:
    """Top-level column -> the property it is stored as (every column the convention does not map)."""
    mapped = {f[0] for f in source.fields if len(f) == 1 and f not in (source.experiment, source.variant)}
    mapped -= {f[0] for f in (source.experiment_label, source.variant_label) if f is not None}
    taken = {r.lower() for r in RESERVED}
    out: dict[str, str] = {}
    for f in files:
        for c in read_columns(f, source)[0]:
            if c.kind != "scalar" or c.name in mapped or c.name in out:
                continue
            name = c.name
            while name.lower() in taken or name.lower().startswith("__lb_") or not name.strip():
                name = f"{name}_src"
            taken.add(name.lower())
            out[c.name] = name
    return out


def typed_scalars(files: list[ExportFile], source: Source, names: dict[str, str]) -> dict[str, str]:
    """Stored top-level column -> the type DuckDB detected for it in every JSON file that has it, when validation
    could give an extra that type: the read keeps a typed copy beside the text (both cores, in the same pass),
    so writing swaps columns instead of retyping every row. Validation still decides from the text."""
    found: dict[str, str | None] = {}
    for f in files:
        for c in read_columns(f, source)[0]:
            if c.kind != "scalar" or c.name not in names:
                continue
            t = f.columns[c.name].upper() if f.format == "json" else None
            t = t if t in EXTRA_TYPES else None
            stored = names[c.name]
            found[stored] = t if found.get(stored, t) == t else None
    return {k: t for k, t in found.items() if t is not None}


def keyed(f: ExportFile, source: Source) -> list[str]:
    """The file's containers of free-form keys (PostHog's properties, Amplitude's event_properties): JSON
    objects whose keys become properties under their own names."""
    return [c.name for c in read_columns(f, source)[0]
            if c.kind == "object" and source.container(c.name).free_keys]  # type: ignore[union-attr]  # fmt: skip


@dataclass(frozen=True)
class SampleKeys:
    """The container keys the read extracts as text (see sample_keys), and the ones it also keeps typed."""

    columns: dict[Field, str]  # (container, key) -> its stage column
    typed: dict[str, str]  # stage column -> the type of its typed copy (see write.typed_copy)


def sample_keys(cur: duckdb.DuckDBPyConnection, files: list[ExportFile], source: Source) -> SampleKeys:
    """The keys of the first lines of each JSON file: the read extracts them with the keys it parses anyway, so
    flattening renames a column instead of updating every row (keys first seen later are still found by
    discovery over every row, and filled by its UPDATE). A key whose sampled values are all JSON integers,
    numbers or booleans also gets a typed copy, swapped in if validation finds that type over every row."""
    found: dict[Field, str | None] = {}
    for i, f in enumerate(files):
        if f.format != "json":
            continue
        for col in keyed(f, source):
            base, params = reader(f, {col: "JSON"}, f"s{i}")
            for k, n, _, texts, bools, ints, fractions, long in object_keys(
                cur, f"SELECT {q(col)} FROM {base} LIMIT {JSON_SAMPLE}", params
            ):
                if k is None:
                    continue
                t = json_type(n, texts, bools, ints, fractions, long)
                t = None if t == "VARCHAR" else t
                fld = (col, str(k))
                found[fld] = t if found.get(fld, t) == t else None
    # No more than a table may hold (plan keeps that many in the same order; any further kept key is updated).
    columns = {fld: f"__lb_k{i}" for i, fld in enumerate(sorted(found)[:MAX_COLUMNS])}
    return SampleKeys(columns, {c: t for fld, c in columns.items() if (t := found[fld]) is not None})


def reader(f: ExportFile, declared: dict[str, str], prefix: str) -> tuple[str, dict[str, Any]]:
    """The table function (or subquery) reading the file under its own column names.

    `declared`: for JSON lines, the columns read and their types (nothing else is materialised).
    """
    paths = [literal(p) for p in f.parts]
    if f.format == "json":
        # A line that is not JSON becomes a row of NULLs (ignore_errors), counted as such (see file_select).
        sql = (
            f"read_json(${prefix}_paths, format = ${prefix}_fmt, compression = ${prefix}_comp, "
            f"columns = ${prefix}_cols, maximum_object_size = {MAX_OBJECT}, ignore_errors = true)"
        )
        return sql, {f"{prefix}_paths": paths, f"{prefix}_fmt": f.json_format, f"{prefix}_comp": f.compression,
                     f"{prefix}_cols": declared}  # fmt: skip
    if f.format == "parquet":
        return f"read_parquet(${prefix}_paths, union_by_name = true)", {f"{prefix}_paths": paths}
    assert f.csv is not None
    sql, p = source_sql(f.csv)
    sql = re.sub(r"\$(\w+)", lambda m: f"${prefix}_{m.group(1)}", sql)  # our own SQL: names per file
    named = ", ".join(f"c{i} AS {q(h)}" for i, h in enumerate(f.csv.header))
    return f"(SELECT {named} FROM {sql})", {f"{prefix}_{k}": v for k, v in p.items()}


def held(column: str) -> str:
    """The stage column holding a container until it is flattened."""
    return f"__lb_c_{column}"


def kv_text(v: str) -> str:
    """A GA4 value struct as text: whichever of its fields is set."""
    return (f"coalesce({v}.string_value, CAST({v}.int_value AS VARCHAR), CAST({v}.double_value AS VARCHAR), "
            f"CAST({v}.float_value AS VARCHAR))")  # fmt: skip


def json_path(key: tuple[str, ...]) -> str:
    """A JSONPath naming the keys literally (a key may hold `$`, dots, quotes or spaces)."""
    return "$." + ".".join('"' + k.replace("\\", "\\\\").replace('"', '\\"') + '"' for k in key)


@dataclass
class _Refs:
    """A field's SQL (text) in one file's SELECT; container keys come from one extraction per container."""

    cols: dict[str, ReadColumn]
    paths: dict[str, list[tuple[str, ...]]]  # object container -> the keys read from it (mapped fields)
    prefix: str
    params: dict[str, Any]

    def get(self, fld: Field) -> tuple[str, str] | None:
        """(SQL, type) of a field in this file: a top-level column as read, a container's key as text."""
        col = self.cols.get(fld[0])
        if col is None or (len(fld) == 1) != (col.kind == "scalar"):
            return None
        if len(fld) == 1:
            return q(col.name), col.dtype
        if col.kind == "object":
            return f"{q('__lb_m_' + col.name)}[{self.paths[col.name].index(fld[1:]) + 1}]", "VARCHAR"
        if col.kind == "kv":
            name = f"{self.prefix}_k{len(self.params)}"
            self.params[name] = fld[1]
            v = f"{q(col.name)}[list_position(list_transform({q(col.name)}, lambda x: x.key), ${name})].value"
            return kv_text(v), "VARCHAR"
        return f"CAST({'.'.join(q(p) for p in fld)} AS VARCHAR)", "VARCHAR"


def _time(r: _Refs, source: Source) -> tuple[str, str | None]:
    """The event time as a naive UTC TIMESTAMP, and the text whose non-blank values must parse (or None)."""
    ref = r.get(source.time)
    if ref is None:
        return "CAST(NULL AS TIMESTAMP)", None
    expr, src_type = ref[0], ref[1].upper()
    if source.time_unit == "micros":  # GA4: microseconds since the epoch, an INT64 (text in JSON exports)
        if "INT" in src_type:
            return f"make_timestamp(CAST({expr} AS BIGINT))", None
        text = expr if src_type == "VARCHAR" else f"CAST({expr} AS VARCHAR)"
        return f"make_timestamp(TRY_CAST(trim({text}) AS BIGINT))", text
    return typed_expr(expr, src_type, "TIMESTAMP")


def _text(ref: tuple[str, str] | None) -> str | None:
    if ref is None:
        return None
    return ref[0] if ref[1].upper() == "VARCHAR" else f"CAST({ref[0]} AS VARCHAR)"


def file_select(i: int, f: ExportFile, source: Source, names: dict[str, str], *, dedupe: bool,
                limit: int | None = None, typed: dict[str, str] | None = None, pre: SampleKeys | None = None
                ) -> tuple[str, dict[str, Any]]:  # fmt: skip
    """One file's rows in the stage's columns: canonical (typed, with the raw text of values that must parse),
    the top-level columns as properties (and `typed` ones' typed copies), the containers as they are, the `pre`
    keys as text (see sample_keys), and our bookkeeping columns."""
    prefix = f"f{i}"
    cols, _ = read_columns(f, source)
    base, params = reader(f, {c.name: c.dtype for c in cols}, prefix)
    objects = [c.name for c in cols if c.kind == "object"]
    if f.format == "json":  # ignore_errors leaves a line that is not JSON as a row of NULLs
        bad = "(" + " AND ".join(f"{q(c.name)} IS NULL" for c in cols) + ")"
    else:  # JSON string cells (PostHog's properties): checked as JSON once, here
        bad = (
            " OR ".join(f"({q('__lb_text_' + c)} IS NOT NULL AND {q(c)} IS NULL)" for c in objects) or "false"
        )
        if objects:
            parsed = ", ".join(f"TRY_CAST({q(c)} AS JSON) AS {q(c)}" for c in objects)
            kept = ", ".join(f"{q(c)} AS {q('__lb_text_' + c)}" for c in objects)
            base = f"(SELECT * REPLACE ({parsed}), {kept} FROM {base})"
    # The mapped keys of each container (Mixpanel's time and distinct_id, the value), in one parse per row.
    paths: dict[str, list[tuple[str, ...]]] = {c: [] for c in objects}
    for fld in (
        *source.user,
        source.time,
        source.event,
        *source.value,
        *(() if source.row_id is None else (source.row_id,)),
    ):
        if len(fld) > 1 and fld[0] in paths and fld[1:] not in paths[fld[0]]:
            paths[fld[0]].append(fld[1:])
    pre_typed = pre.typed if pre is not None else {}
    pre_cols = {
        fld: name for fld, name in (pre.columns if pre is not None else {}).items() if fld[0] in paths
    }
    for fld in pre_cols:
        if fld[1:] not in paths[fld[0]]:
            paths[fld[0]].append(fld[1:])
    extract = []
    for c, ks in paths.items():
        if ks:
            name = f"{prefix}_p_{len(params)}"
            params[name] = [json_path(k) for k in ks]
            extract.append(f"json_extract_string({q(c)}, ${name}::VARCHAR[]) AS {q('__lb_m_' + c)}")
    if extract:
        base = f"(SELECT *, {', '.join(extract)} FROM {base})"
    r = _Refs({c.name: c for c in cols}, paths, prefix, params)
    users = [f"NULLIF({t}, '')" for t in (_text(r.get(fl)) for fl in source.user) if t is not None]
    user = "NULL" if not users else users[0] if len(users) == 1 else f"coalesce({', '.join(users)})"
    time, raw_time = _time(r, source)
    ev = _text(r.get(source.event))
    values = [typed_expr(v[0], v[1], "DOUBLE") for v in (r.get(fl) for fl in source.value) if v is not None]
    raw_value = [t for _, t in values if t is not None]
    sel = [
        f"{user} AS user_id",
        f"{time} AS timestamp",
        f"{raw_time or 'CAST(NULL AS VARCHAR)'} AS __lb_raw_timestamp",
        f"{ev or 'CAST(NULL AS VARCHAR)'} AS event",
        f"{'coalesce(' + ', '.join(e for e, _ in values) + ')' if values else 'CAST(NULL AS DOUBLE)'} AS value",
        f"{'coalesce(' + ', '.join(raw_value) + ')' if raw_value else 'CAST(NULL AS VARCHAR)'} AS __lb_raw_value",
    ]
    sel += [f"{q(c.name)} AS {q(names[c.name])}" for c in cols if c.kind == "scalar" and c.name in names]
    typed = typed or {}
    # short(): a long cell is no number or date (so the copy is dropped) and is not copied by trim() per batch.
    sel += [f"{retyped(short(q(c.name)), typed[names[c.name]])} AS {q(typed_copy(names[c.name]))}"
            for c in cols if c.kind == "scalar" and names.get(c.name) in typed]  # fmt: skip
    sel += [f"{q(c.name)} AS {q(held(c.name))}" for c in cols if c.kind != "scalar"]
    for fld, name in pre_cols.items():
        text = f"{q('__lb_m_' + fld[0])}[{paths[fld[0]].index(fld[1:]) + 1}]"
        sel.append(f"{text} AS {q(name)}")
        if name in pre_typed:
            sel.append(f"{retyped(short(text), pre_typed[name])} AS {q(typed_copy(name))}")
    sel += [f"{bad} AS {q(BAD_JSON)}", f"{i} AS {q(FILE)}"]
    if dedupe and source.row_id is not None:
        sel.append(f"{_text(r.get(source.row_id)) or 'NULL'} AS __lb_rid, {len(f.columns)} AS __lb_rank")
    cut = f" LIMIT {int(limit)}" if limit is not None else ""
    return f"SELECT {', '.join(sel)} FROM {base}{cut}", r.params  # names quoted, values bound


def stage_sql(files: list[ExportFile], source: Source, names: dict[str, str], stage: str,
              typed: dict[str, str], pre: SampleKeys
              ) -> tuple[str, dict[str, Any], list[tuple[str, str | None]]]:  # fmt: skip
    """CREATE TABLE stage AS every file's rows (one read of each); the canonical columns and their flags.

    typed: top-level columns to keep a typed copy of (see typed_scalars); pre: container keys read as text
    (see sample_keys), from every file holding the container (a file whose sample lacked a key still has it)."""
    dedupe = len(files) > 1 and source.row_id is not None
    parts, params = [], {}
    for i, f in enumerate(files):
        sql, p = file_select(i, f, source, names, dedupe=dedupe, typed=typed, pre=pre)
        parts.append(sql)
        params |= p
    outer = ["user_id"]
    flags: list[tuple[str, str | None]] = [("user_id", None)]
    for canon in ("timestamp", "event", "value"):
        outer.append(q(canon))
        flag = None
        if canon != "event":
            flag, raw = f"__lb_bad_{canon}", q(f"__lb_raw_{canon}")
            outer.append(f"CASE WHEN {q(canon)} IS NULL AND NULLIF(trim({raw}), '') IS NOT NULL THEN {raw} END "
                         f"AS {q(flag)}")  # fmt: skip
        flags.append((canon, flag))
    done = ["user_id", "timestamp", "event", "value", "__lb_raw_timestamp", "__lb_raw_value"]
    outer.append(f"* EXCLUDE ({', '.join(done + (['__lb_rid', '__lb_rank'] if dedupe else []))})")
    if dedupe:
        # `tracks` repeats each event table's rows under the same id: the widest file's copy is kept.
        outer.append(f"(__lb_rid IS NOT NULL AND row_number() OVER (PARTITION BY __lb_rid ORDER BY __lb_rank "
                     f"DESC, {q(FILE)}) > 1) AS {q(DUP)}")  # fmt: skip
    union = "\nUNION ALL BY NAME\n".join(parts)
    return f"CREATE TABLE {stage} AS SELECT {', '.join(outer)} FROM ({union})", params, flags


def bad_json_examples_sql(f: ExportFile, source: Source, prefix: str) -> tuple[str, dict[str, Any]] | None:
    """A query for the beginnings of a few lines (JSON) or property cells that are not JSON objects."""
    if f.format == "json":
        sql = (
            f"SELECT line FROM read_csv(${prefix}_paths, header = false, columns = {{'line': 'VARCHAR'}}, "
            f"delim = chr(1), quote = '', escape = '', auto_detect = false, compression = ${prefix}_comp, "
            "max_line_size = 16777216) WHERE trim(line) <> '' AND NOT json_valid(line) LIMIT 3"
        )
        return sql, {f"{prefix}_paths": [literal(p) for p in f.parts], f"{prefix}_comp": f.compression}
    objects = [c.name for c in read_columns(f, source)[0] if c.kind == "object"]
    if not objects:
        return None
    base, params = reader(f, {}, prefix)
    cond = " OR ".join(f"({q(c)} IS NOT NULL AND TRY_CAST({q(c)} AS JSON) IS NULL)" for c in objects)
    return (
        f"SELECT concat_ws(' | ', {', '.join(q(c) for c in objects)}) FROM {base} WHERE {cond} LIMIT 3",
        params,
    )

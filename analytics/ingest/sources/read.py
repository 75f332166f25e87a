"""How each export file is read: its columns, a scan of its property keys, and its rows in the stage's shape."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from analytics.ingest.sources.files import MAX_OBJECT, ExportFile
from analytics.ingest.sources.spec import Field, Source
from analytics.ingest.staging import source_sql, typed_expr
from analytics.workspace import quote_ident

q = quote_ident
#: A JSON object read as key -> the value's JSON text: how the key scan sees a property container.
MAP_TYPE = "MAP(VARCHAR, JSON)"
#: GA4's key/value arrays as read from JSON (BigQuery writes INT64 values as JSON strings, hence VARCHAR).
KV_JSON_TYPE = (
    'STRUCT("key" VARCHAR, "value" STRUCT(string_value VARCHAR, int_value VARCHAR, float_value DOUBLE, '
    "double_value DOUBLE))[]"
)
#: Stage columns of our own, dropped before the rows become the events table.
BAD_JSON, FILE, DUP = "__lb_bad_json", "__lb_file", "__lb_dup"
#: Names the canonical events columns take; a property of the same name is stored as `<name>_src`.
RESERVED = ("user_id", "timestamp", "event", "value")
#: scalar: a top-level column; object: a JSON object (JSON lines) or a JSON string cell (CSV, Parquet);
#: kv: GA4's key/value list; struct: a Parquet struct.
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
            keep.append(ReadColumn(col, "object", "VARCHAR" if f.format != "json" else MAP_TYPE))
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


def reader(f: ExportFile, declared: dict[str, str], prefix: str) -> tuple[str, dict[str, Any]]:
    """The table function (or subquery) reading the file under its own column names.

    `declared`: for JSON lines, the columns read and their types (nothing else is materialised).
    """
    paths = [str(p) for p in f.parts]
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


def as_map(col: str) -> str:
    """A JSON string cell as a map (NULL when it is not a JSON object)."""
    return f"TRY_CAST(TRY_CAST({q(col)} AS JSON) AS {MAP_TYPE})"


def key_scan_sql(f: ExportFile, source: Source, prefix: str) -> tuple[str, dict[str, Any]] | None:
    """One scan of the file's object containers: per container and key, how many values of each JSON kind.

    Only the containers are materialised (as maps of each value's JSON text), and a value's kind is read
    from its first character (`{`/`[` nested, `"` text, `t`/`f` boolean, else a number, with `.`/`e` a
    fraction): the counts make each property's type exact over every row at a fraction of a read's cost.
    Columns: container index, key, values, nested, text, booleans, integers, fractions, long integers.
    """
    cols = [c for c in read_columns(f, source)[0] if c.kind == "object"]
    if not cols:
        return None
    base, params = reader(f, {c.name: MAP_TYPE for c in cols}, prefix)
    maps = [q(c.name) if f.format == "json" else as_map(c.name) for c in cols]

    def concat(parts: list[str]) -> str:
        return parts[0] if len(parts) == 1 else f"list_concat({', '.join(parts)})"

    which = concat([f"list_transform(map_keys({m}), lambda k: {i})" for i, m in enumerate(maps)])
    keys, values = concat([f"map_keys({m})" for m in maps]), concat([f"map_values({m})" for m in maps])
    number = "v[1] NOT IN ('{', '[', '\"', 't', 'f')"
    fraction = "(contains(v, '.') OR contains(v, 'e') OR contains(v, 'E'))"
    sql = (
        "SELECT c, k, count(v), count(v) FILTER (v[1] IN ('{', '[')), count(v) FILTER (v[1] = '\"'), "
        f"count(v) FILTER (v[1] IN ('t', 'f')), count(v) FILTER ({number} AND NOT {fraction}), "
        f"count(v) FILTER ({number} AND {fraction}), count(v) FILTER ({number} AND length(v) > 18) "
        f"FROM (SELECT unnest({which}) AS c, unnest({keys}) AS k, CAST(unnest({values}) AS VARCHAR) AS v FROM {base}) "
        "GROUP BY c, k ORDER BY c, k"
    )
    return sql, params


@dataclass(frozen=True)
class Shape:
    """How a container is read for the stage, and the keys taken from it with their types."""

    kind: Literal["struct", "map", "kv", "native"]
    keys: dict[tuple[str, ...], str]  # path below the container -> type

    def declared(self) -> str:
        """The container's DuckDB type as read: a STRUCT of exactly the keys used (JSON lines and cells)."""
        if self.kind == "map":
            return MAP_TYPE
        if not self.keys:
            return "JSON"  # nothing taken from it: read as text, only to tell a line that is not JSON
        tree: dict[str, Any] = {}
        for path, dtype in self.keys.items():
            node = tree
            for k in path[:-1]:
                node = node.setdefault(k, {})
            node[path[-1]] = dtype

        def render(node: dict[str, Any]) -> str:
            return (
                "STRUCT("
                + ", ".join(f"{q(k)} {render(v) if isinstance(v, dict) else v}" for k, v in node.items())
                + ")"
            )

        return render(tree)


def kv_text(v: str) -> str:
    """A GA4 value struct as text: whichever of its fields is set."""
    return (f"coalesce({v}.string_value, CAST({v}.int_value AS VARCHAR), CAST({v}.double_value AS VARCHAR), "
            f"CAST({v}.float_value AS VARCHAR))")  # fmt: skip


@dataclass
class _Refs:
    """A field's SQL in one file's SELECT (values bound as named parameters)."""

    cols: dict[str, ReadColumn]
    shapes: dict[str, Shape]
    prefix: str
    params: dict[str, Any]

    def get(self, fld: Field, dtype: str = "VARCHAR") -> tuple[str, str] | None:
        """(SQL, type) of a field in this file: a top-level column as read, a container's key as `dtype`."""
        col = self.cols.get(fld[0])
        if col is None or (len(fld) == 1) != (col.kind == "scalar"):
            return None
        if len(fld) == 1:
            return q(col.name), col.dtype
        shape = self.shapes.get(col.name)
        key = fld[1:]
        if shape is None or key not in shape.keys:
            return None
        have = shape.keys[key]
        if shape.kind in ("struct", "native"):
            expr = ".".join([q(col.name), *(q(k) for k in key)])
        elif shape.kind == "map":  # keys that differ only in case (a STRUCT cannot hold both)
            name = f"{self.prefix}_k{len(self.params)}"
            self.params[name] = key[0]
            expr, have = f"{q(col.name)}[${name}]->>'$'", "VARCHAR"
        else:
            name = f"{self.prefix}_k{len(self.params)}"
            self.params[name] = key[0]
            expr, have = (
                kv_text(f"{q(col.name)}[list_position({q('__lb_k_' + col.name)}, ${name})].value"),
                "VARCHAR",
            )
        # Strict: the key scan saw every value of the property have this type.
        return (expr, have) if have == dtype else (f"CAST({expr} AS {dtype})", dtype)


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


def sub_key_sql(f: ExportFile, col: str, key: str, prefix: str) -> tuple[str, dict[str, Any]]:
    """The keys inside an object-valued property (GA4's device.web_info as JSON: browser, hostname)."""
    base, params = reader(f, {col: MAP_TYPE}, prefix)
    m = q(col) if f.format == "json" else as_map(col)
    params[f"{prefix}_key"] = key
    return f"SELECT DISTINCT unnest(json_keys({m}[${prefix}_key])) AS k FROM {base} ORDER BY k", params


def file_select(i: int, f: ExportFile, source: Source, names: dict[str, str], shapes: dict[str, Shape],
                props: list[tuple[str, Field, str]], *, dedupe: bool, limit: int | None = None
                ) -> tuple[str, dict[str, Any]]:  # fmt: skip
    """One file's rows in the stage's columns: canonical (typed, with the raw text of values that must parse),
    the properties (top-level columns and container keys), and our bookkeeping columns.

    `props`: (stored name, field, type) of the container properties; `shapes`: how each container is read.
    """
    prefix = f"f{i}"
    cols, _ = read_columns(f, source)
    declared = {c.name: (shapes[c.name].declared() if c.kind == "object" and c.name in shapes else c.dtype)
                for c in cols}  # fmt: skip
    base, params = reader(f, declared, prefix)
    objects = [c.name for c in cols if c.kind == "object" and c.name in shapes]
    if f.format == "json":
        bad = "(" + " AND ".join(f"{q(c.name)} IS NULL" for c in cols) + ")"
    else:  # JSON string cells (PostHog's properties), parsed once into the declared type
        bad = (
            " OR ".join(f"({q('__lb_text_' + c)} IS NOT NULL AND {q(c)} IS NULL)" for c in objects) or "false"
        )
        if objects:
            parsed = ", ".join(
                f"TRY_CAST(TRY_CAST({q(c)} AS JSON) AS {declared[c]}) AS {q(c)}" for c in objects
            )
            kept = ", ".join(f"{q(c)} AS {q('__lb_text_' + c)}" for c in objects)
            base = f"(SELECT * REPLACE ({parsed}), {kept} FROM {base})"
    kvs = [c.name for c in cols if c.kind == "kv"]
    if kvs:
        keys = ", ".join(f"list_transform({q(c)}, lambda x: x.key) AS {q('__lb_k_' + c)}" for c in kvs)
        base = f"(SELECT *, {keys} FROM {base})"
    r = _Refs({c.name: c for c in cols}, shapes, prefix, params)
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
    for name, fld, dtype in props:
        ref = r.get(fld, dtype)
        sel.append(f"{ref[0] if ref else f'CAST(NULL AS {dtype})'} AS {q(name)}")
    sel += [f"{bad} AS {q(BAD_JSON)}", f"{i} AS {q(FILE)}"]
    if dedupe and source.row_id is not None:
        sel.append(f"{_text(r.get(source.row_id)) or 'NULL'} AS __lb_rid, {len(f.columns)} AS __lb_rank")
    cut = f" LIMIT {int(limit)}" if limit is not None else ""
    return f"SELECT {', '.join(sel)} FROM {base}{cut}", r.params  # names quoted, values bound


def stage_sql(files: list[ExportFile], source: Source, names: dict[str, str], shapes: dict[str, Shape],
              props: list[tuple[str, Field, str]], stage: str) -> tuple[str, dict[str, Any], list[tuple[str, str | None]]]:  # fmt: skip
    """CREATE TABLE stage AS every file's rows (one read of each); the canonical columns and their flags."""
    dedupe = len(files) > 1 and source.row_id is not None
    parts, params = [], {}
    for i, f in enumerate(files):
        sql, p = file_select(i, f, source, names, shapes, props, dedupe=dedupe)
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
        return sql, {f"{prefix}_paths": [str(p) for p in f.parts], f"{prefix}_comp": f.compression}
    objects = [c.name for c in read_columns(f, source)[0] if c.kind == "object"]
    if not objects:
        return None
    base, params = reader(f, {}, prefix)
    cond = " OR ".join(f"({q(c)} IS NOT NULL AND {as_map(c)} IS NULL)" for c in objects)
    return (
        f"SELECT concat_ws(' | ', {', '.join(q(c) for c in objects)}) FROM {base} WHERE {cond} LIMIT 3",
        params,
    )

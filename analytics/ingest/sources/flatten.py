"""Which properties an export's containers hold, their exact types (one key scan), and the column each becomes."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from analytics.ingest.mapping import MAX_COLUMNS
from analytics.ingest.sources.files import ExportFile
from analytics.ingest.sources.read import Kind, Shape, key_scan_sql, read_columns, reader, sub_key_sql
from analytics.ingest.sources.spec import Field, Source
from analytics.workspace import quote_ident

q = quote_ident
#: Per container: key path below it -> stored type.
KeyTypes = dict[tuple[str, ...], str]


@dataclass(frozen=True)
class Prop:
    """One property taken from a container: its column name, where it is read from, and its type."""

    name: str
    field: Field
    dtype: str = "VARCHAR"


@dataclass(frozen=True)
class Found:
    """The containers of an export (how each is held), their keys with types, and what was left out."""

    kinds: dict[str, Kind]
    keys: dict[str, KeyTypes]
    left_out: tuple[str, ...]  # nested columns and properties, e.g. "items", "properties.$set"


@dataclass(frozen=True)
class Plan:
    """The container properties stored, in order, how each container is read, and what was not kept."""

    props: tuple[Prop, ...]
    shapes: dict[str, Shape]
    left_out: tuple[str, ...]
    over_limit: int


def _json_type(n: int, texts: int, bools: int, ints: int, fractions: int, long: int) -> str:
    """A JSON property's stored type: its values' own JSON type when they all share it, else text (an integer
    of more than 18 digits keeps the property as text: exact)."""
    if long or not n or texts:
        return "VARCHAR"
    if ints == n:
        return "BIGINT"
    if ints + fractions == n:
        return "DOUBLE"
    return "BOOLEAN" if bools == n else "VARCHAR"


def discover(cur: duckdb.DuckDBPyConnection, files: list[ExportFile], source: Source) -> Found:
    """Every key of every container over all rows of all files, with its exact type.

    JSON objects: one scan per file that materialises only the containers (as maps of each value's JSON
    text) and counts each key's JSON types. GA4's key/value lists: a scan of the keys and which value field
    is set. Parquet structs: their leaves, from the schema (no scan).
    """
    kinds: dict[str, Kind] = {}
    stats: dict[tuple[str, str], list[int]] = {}
    kv: dict[tuple[str, str], list[int]] = {}
    keys: dict[str, KeyTypes] = {}
    left: list[str] = []
    for i, f in enumerate(files):
        cols, nested = read_columns(f, source)
        left += nested
        kinds |= {c.name: c.kind for c in cols if c.kind != "scalar"}
        objects = [c.name for c in cols if c.kind == "object"]
        query = key_scan_sql(f, source, f"s{i}")
        if query is not None:
            for c, k, *counts in cur.execute(*query).fetchall():
                if k is not None:
                    acc = stats.setdefault((objects[c], k), [0] * 7)
                    acc[:] = [a + b for a, b in zip(acc, counts, strict=True)]
        for c in (c.name for c in cols if c.kind == "kv"):
            base, params = reader(f, {c: next(x.dtype for x in cols if x.name == c)}, f"v{i}")
            rows = cur.execute(
                "SELECT x.key, count(x.value.string_value), count(x.value.int_value), "
                f"count(x.value.double_value) + count(x.value.float_value) FROM (SELECT unnest({q(c)}) AS x "
                f"FROM {base}) GROUP BY x.key",
                params,
            ).fetchall()
            for k, *counts in rows:
                if k is not None:
                    acc = kv.setdefault((c, k), [0, 0, 0])
                    acc[:] = [a + b for a, b in zip(acc, counts, strict=True)]
        for c in (c for c in cols if c.kind == "struct"):
            base, params = reader(f, {}, f"t{i}")
            keys.setdefault(c.name, {}).update(_struct_leaves(cur, base, params, (c.name,)))
    for (c, k), (n, objs, texts, bools, ints, fractions, long) in sorted(stats.items()):
        if objs and objs == n:  # only objects or lists: a nested property
            if source.container(c).naming == "column":  # type: ignore[union-attr]
                for i, f in enumerate(files):  # one level down (GA4's device.web_info as JSON)
                    for (sub,) in cur.execute(*sub_key_sql(f, c, k, f"u{i}")).fetchall():
                        if sub is not None:
                            keys.setdefault(c, {})[(k, sub)] = "VARCHAR"
            else:
                left.append(f"{c}.{k}")
            continue
        keys.setdefault(c, {})[(k,)] = _json_type(n, texts, bools, ints, fractions, long)
    for (c, k), (strings, ints, doubles) in sorted(kv.items()):
        # GA4 sets one value field per param: a param always in int_value stays BIGINT, and so on.
        keys.setdefault(c, {})[(k,)] = (
            "VARCHAR" if strings or not (ints or doubles) else "DOUBLE" if doubles else "BIGINT"
        )
    return Found(kinds, keys, tuple(dict.fromkeys(left)))


def _struct_leaves(
    cur: duckdb.DuckDBPyConnection, base: str, params: dict, path: tuple[str, ...]
) -> KeyTypes:
    """Scalar leaves of a struct column with their types (from DESCRIBE: no scan)."""
    ref = ".".join(q(p) for p in path)
    out: KeyTypes = {}
    for name, dtype, *_ in cur.execute(f"DESCRIBE SELECT unnest({ref}) FROM {base}", params).fetchall():
        t = str(dtype).upper()
        if t.startswith("STRUCT("):
            out |= _struct_leaves(cur, base, params, (*path, str(name)))
        elif not (t.endswith("]") or t.startswith(("MAP(", "UNION("))):
            out[(*path[1:], str(name))] = str(dtype)
    return out


def plan(found: Found, source: Source, taken: set[str]) -> Plan:
    """Name every container key once (after the top-level columns, whose names are `taken`), and say how
    each container is read.

    A property keeps its own name; a user property (Amplitude's, GA4's user_properties) too unless another
    property has it, then `user_<name>`; a struct leaf is `<column>_<leaf>` (GA4's device_category); a name
    already taken, or a canonical one, gets `_src`. Fields the convention maps (user, time, value) are read
    but not stored again.
    """
    mapped = {f for f in source.fields if len(f) > 1 and f not in (source.experiment, source.variant)}
    taken = {t.lower() for t in taken}
    props: list[Prop] = []
    for cont in source.containers:
        for key, dtype in sorted(found.keys.get(cont.column, {}).items()):
            field = (cont.column, *key)
            if field in mapped:
                continue
            name = "_".join(field if cont.naming == "column" else key)
            if cont.naming == "user" and name.lower() in taken:
                name = f"user_{name}"
            while name.lower() in taken or name.lower().startswith("__lb_") or not name.strip():
                name = f"{name}_src"
            taken.add(name.lower())
            props.append(Prop(name, field, dtype))
    over = max(0, len(taken) - MAX_COLUMNS)
    props = props[: len(props) - over] if over else props
    return Plan(tuple(props), _shapes(found, props, mapped), found.left_out, over)


def _shapes(found: Found, props: list[Prop], mapped: set[Field]) -> dict[str, Shape]:
    """Per container, how the stage reads it: object containers as a STRUCT of exactly the keys used (read
    straight into typed fields), or a map when two keys differ only in case (a STRUCT cannot hold both)."""
    used: dict[str, dict[tuple[str, ...], str]] = {}
    for p in props:
        used.setdefault(p.field[0], {})[p.field[1:]] = found.keys[p.field[0]][p.field[1:]]
    for f in mapped:
        if f[1:] in found.keys.get(f[0], {}):
            used.setdefault(f[0], {})[f[1:]] = "VARCHAR"  # user, time and value are parsed from their text
    shapes: dict[str, Shape] = {}
    for col, kind in found.kinds.items():
        keys = used.get(col, {})
        if kind == "kv":
            shapes[col] = Shape("kv", keys)
        elif kind == "struct":
            shapes[col] = Shape("native", keys)
        else:
            top = [k[0].lower() for k in keys if len(k) == 1] + sorted(
                {k[0].lower() for k in keys if len(k) > 1}
            )
            clash = len(top) != len(set(top))
            shapes[col] = (
                Shape("map", {k: t for k, t in keys.items() if len(k) == 1})
                if clash
                else Shape("struct", keys)
            )
    return shapes

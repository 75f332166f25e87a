"""Property containers flattened into event columns, from the stage: every key and its exact type, then one UPDATE."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from analytics.ingest.mapping import MAX_COLUMNS
from analytics.ingest.sources.jsonkeys import json_type, object_keys
from analytics.ingest.sources.read import Kind, held, json_path, kv_text
from analytics.ingest.sources.spec import Field, Source
from analytics.ingest.write import typed_copy
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
    left_out: tuple[str, ...]  # nested properties, e.g. "properties.$set"


@dataclass(frozen=True)
class Plan:
    """The container properties stored, in order, and what was not kept."""

    props: tuple[Prop, ...]
    left_out: tuple[str, ...]
    over_limit: int


def discover(cur: duckdb.DuckDBPyConnection, stage: str, kinds: dict[str, Kind], source: Source) -> Found:
    """Every key of every container over all staged rows, with its exact type (one scan per container).

    JSON objects: the keys and the JSON kind of each value; GA4's key/value lists: the keys and which value
    field is set; Parquet structs: their leaves, from the schema (no scan).
    """
    keys: dict[str, KeyTypes] = {c: {} for c in kinds}
    for col, kind in kinds.items():
        ref = q(held(col))
        if kind == "object" and source.container(col).free_keys:  # type: ignore[union-attr]
            # Keys only (one parse per row): values are read as text, typed by the validation's own checks,
            # and a property holding only objects or lists is dropped after the UPDATE (see nested_columns).
            rows = cur.execute(
                f"SELECT DISTINCT unnest(json_keys({ref})) AS k FROM {stage} ORDER BY k"
            ).fetchall()
            keys[col] = {(k,): "VARCHAR" for (k,) in rows if k is not None}
        elif kind == "object":  # a struct-like object (GA4's device as JSON): exact kinds, one level down
            for k, n, objs, texts, bools, ints, fractions, long in object_keys(
                cur, f"SELECT {ref} FROM {stage}"
            ):
                if k is None:
                    continue
                if objs and objs == n:
                    sub = cur.execute(
                        f"SELECT DISTINCT unnest(json_keys(json_extract({ref}, ?))) AS k FROM {stage} ORDER BY k",
                        [json_path((k,))],
                    ).fetchall()
                    keys[col] |= {(k, s): "VARCHAR" for (s,) in sub if s is not None}
                    continue
                keys[col][(k,)] = json_type(n, texts, bools, ints, fractions, long)
        elif kind == "kv":
            rows = cur.execute(
                "SELECT x.key, count(x.value.string_value), count(x.value.int_value), "
                f"count(x.value.double_value) + count(x.value.float_value) FROM (SELECT unnest({ref}) AS x "
                f"FROM {stage}) GROUP BY x.key ORDER BY x.key"
            ).fetchall()
            for k, strings, ints, doubles in rows:
                if k is not None:  # GA4 sets one value field per param: all int_value stays BIGINT, and so on
                    keys[col][(k,)] = (
                        "VARCHAR" if strings or not (ints or doubles) else "DOUBLE" if doubles else "BIGINT"
                    )
        else:
            keys[col] = _struct_leaves(cur, stage, (held(col),))
    return Found(kinds, keys, ())


def _struct_leaves(cur: duckdb.DuckDBPyConnection, stage: str, path: tuple[str, ...]) -> KeyTypes:
    """Scalar leaves of a struct column with their types (from DESCRIBE: no scan)."""
    ref = ".".join(q(p) for p in path)
    out: KeyTypes = {}
    for name, dtype, *_ in cur.execute(f"DESCRIBE SELECT unnest({ref}) FROM {stage}").fetchall():
        t = str(dtype).upper()
        if t.startswith("STRUCT("):
            out |= _struct_leaves(cur, stage, (*path, str(name)))
        elif not (t.endswith("]") or t.startswith(("MAP(", "UNION("))):
            out[(*path[1:], str(name))] = str(dtype)
    return out


def plan(found: Found, source: Source, taken: set[str], left_out: list[str]) -> Plan:
    """Name every container key once (after the top-level columns, whose names are `taken`).

    A property keeps its own name; a user property (Amplitude's, GA4's user_properties) too unless another
    property has it, then `user_<name>`; a struct leaf is `<column>_<leaf>` (GA4's device_category); a name
    already taken, or a canonical one, gets `_src`. Fields the convention maps (user, time, value) are read
    into the canonical columns and not stored again.
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
    if over:  # the last keys go; never the experiment's own fields, which the assignments are built from
        needed = {
            f for f in (source.experiment, source.variant, source.experiment_label, source.variant_label) if f
        }
        drop = {p.name for p in [p for p in props if p.field not in needed][-over:]}
        props = [p for p in props if p.name not in drop]
    return Plan(tuple(props), tuple(dict.fromkeys([*left_out, *found.left_out])), over)


def flatten_sql(
    stage: str,
    the_plan: Plan,
    kinds: dict[str, Kind],
    pre: dict[Field, str] | None = None,
    pre_typed: dict[str, str] | None = None,
) -> tuple[list[str], str | None, dict[str, Any], dict[str, str]]:
    """ALTER TABLE … per property (a RENAME of the column the read already filled, else an ADD COLUMN), the one
    UPDATE that fills the added ones from the containers, then the DROP of read columns no property kept.

    pre: (container, key) -> the stage column the read extracted it into as text (see read.sample_keys);
    pre_typed: such a column -> the type of its typed copy, which follows the column's name (the typed copies
    returned, property -> type, for finish_load to swap in when validation finds that type).
    A JSON container is parsed once per row for all its keys (one list of paths); strict casts, since
    discovery saw every value of a property have its type.
    """
    pre, pre_typed = dict(pre or {}), pre_typed or {}
    adds: list[str] = []
    rest: list[Prop] = []
    typed: dict[str, str] = {}
    for p in the_plan.props:
        if p.field in pre and p.dtype == "VARCHAR":  # the same json_extract_string, done during the read
            col = pre.pop(p.field)
            adds.append(f"ALTER TABLE {stage} RENAME COLUMN {q(col)} TO {q(p.name)}")
            if col in pre_typed:
                adds.append(
                    f"ALTER TABLE {stage} RENAME COLUMN {q(typed_copy(col))} TO {q(typed_copy(p.name))}"
                )
                typed[p.name] = pre_typed[col]
        else:
            adds.append(f"ALTER TABLE {stage} ADD COLUMN {q(p.name)} {p.dtype}")
            rest.append(p)
    for col in pre.values():  # mapped, or over the limit
        adds.append(f"ALTER TABLE {stage} DROP COLUMN {q(col)}")
        if col in pre_typed:
            adds.append(f"ALTER TABLE {stage} DROP COLUMN {q(typed_copy(col))}")
    params: dict[str, Any] = {}
    lists: dict[str, list[str]] = {}
    sets: list[str] = []
    for p in rest:
        col, key = p.field[0], p.field[1:]
        ref = q(held(col))
        if kinds[col] == "object":
            paths = lists.setdefault(col, [])
            paths.append(json_path(key))
            n = list(lists).index(col)
            params[f"l_{n}"] = paths  # the same list for every key of the container: parsed once per row
            expr = f"json_extract_string({ref}, $l_{n}::VARCHAR[])[{len(paths)}]"
        elif kinds[col] == "kv":
            params[f"k_{len(params)}"] = key[0]
            expr = kv_text(
                f"{ref}[list_position(list_transform({ref}, lambda x: x.key), $k_{len(params) - 1})].value"
            )
        else:
            expr = ".".join([ref, *(q(k) for k in key)])
        sets.append(
            f"{q(p.name)} = {expr if p.dtype == 'VARCHAR' and kinds[col] != 'struct' else f'CAST({expr} AS {p.dtype})'}"
        )
    update = f"UPDATE {stage} SET {', '.join(sets)}" if sets else None  # names quoted, values bound
    return adds, update, params, typed


def nested_columns(
    cur: duckdb.DuckDBPyConnection, stage: str, the_plan: Plan, kinds: dict[str, Kind]
) -> Plan:
    """Drop the properties whose every value is a JSON object or list (PostHog's $set, Amplitude's groups):
    nested values are no segment and no number; they are listed as left out instead."""
    text = [p for p in the_plan.props if kinds.get(p.field[0]) == "object" and p.dtype == "VARCHAR"]
    if not text:
        return the_plan
    exprs = [f"count({q(p.name)}), count({q(p.name)}) FILTER ({q(p.name)}[1] IN ('{{', '['))" for p in text]
    row = cur.execute(f"SELECT {', '.join(exprs)} FROM {stage}").fetchall()[0]
    nested = {p.name for i, p in enumerate(text) if row[2 * i] and row[2 * i] == row[2 * i + 1]}
    for name in nested:
        cur.execute(f"ALTER TABLE {stage} DROP COLUMN {q(name)}")
    left = [".".join(p.field) for p in the_plan.props if p.name in nested]
    props = tuple(p for p in the_plan.props if p.name not in nested)
    return Plan(props, tuple(dict.fromkeys([*the_plan.left_out, *left])), the_plan.over_limit)

"""The keys of JSON objects and the one JSON type each key's values share: how discovery (over every staged row)
and the read (over each file's first lines) type a property."""

from __future__ import annotations

from typing import Any

import duckdb

#: A JSON object as key -> the value's JSON text: how a value's JSON kind is read.
MAP_TYPE = "MAP(VARCHAR, JSON)"


def object_keys(cur: duckdb.DuckDBPyConnection, objects: str, params: dict[str, Any] | None = None
                ) -> list[tuple[Any, ...]]:  # fmt: skip
    """Per key of the JSON objects `objects` selects (one column): values, nested, text, booleans, integers,
    fractions, long integers (see json_type).

    Each object is parsed once into a map of each value's JSON text; a value's kind is read from its first
    character (`{`/`[` nested, `"` text, `t`/`f` boolean, else a number, with `.`/`e` a fraction).
    """
    number = "v[1] NOT IN ('{', '[', '\"', 't', 'f')"
    fraction = "(contains(v, '.') OR contains(v, 'e') OR contains(v, 'E'))"
    return cur.execute(
        "SELECT k, count(v), count(v) FILTER (v[1] IN ('{', '[')), count(v) FILTER (v[1] = '\"'), "
        f"count(v) FILTER (v[1] IN ('t', 'f')), count(v) FILTER ({number} AND NOT {fraction}), "
        f"count(v) FILTER ({number} AND {fraction}), count(v) FILTER ({number} AND length(v) > 18) "
        f"FROM (SELECT unnest(map_keys(m)) AS k, CAST(unnest(map_values(m)) AS VARCHAR) AS v FROM "
        f"(SELECT TRY_CAST(o AS {MAP_TYPE}) AS m FROM ({objects}) AS t(o))) GROUP BY k ORDER BY k",
        params,
    ).fetchall()


def json_type(n: int, texts: int, bools: int, ints: int, fractions: int, long: int) -> str:
    """A JSON property's stored type: its values' own JSON type when they all share it, else text (an integer
    of more than 18 digits keeps the property as text: exact)."""
    if long or not n or texts:
        return "VARCHAR"
    if ints == n:
        return "BIGINT"
    if ints + fractions == n:
        return "DOUBLE"
    return "BOOLEAN" if bools == n else "VARCHAR"

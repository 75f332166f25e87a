"""DuckDB SQL → Spark SQL: sqlglot's transpiler plus the few per-dialect fragments it cannot translate.

The engines build DuckDB SQL with ``?`` parameters. Here the ``?`` markers become named markers
(``$p0``, ``$p1``… in DuckDB syntax, ``:p0``… in Spark's) so a fragment that needs more parameters (a histogram's bin edges) can add its own
without breaking the order of the others; Spark 3.4+ binds named markers from ``spark.sql(text, args=dict)``.

Fragments (each tested against DuckDB in tests/unit/test_spark.py):

- ``to_days(n)``, ``to_hours(n)``, ``to_seconds(n)`` → ``make_dt_interval(…)``; ``epoch(ts)`` →
  ``unix_micros(ts) / 1e6`` (fractional seconds kept, as in DuckDB; the session time zone is UTC).
- ``quantile_cont(x, q)`` → ``percentile(x, q)`` (exact, linear interpolation; q a number or a list).
- ``quantile_disc(x, [q…])`` → ``array(percentile_disc(qᵢ) WITHIN GROUP (ORDER BY x), …)``: both take the
  smallest value whose cumulative share is ≥ q.
- ``histogram(x, edges)`` → ``map_from_arrays(edges ++ [inf], [count_if(eᵢ₋₁ < x ≤ eᵢ)…])``: DuckDB's bins
  are right-closed, keyed by their upper edge, with an ``inf`` bin above the last edge.
- ``len(list_column)`` → ``size(list_column)`` (the caller names the list columns from the schema).
- ``list(DISTINCT x ORDER BY x)`` → ``array_sort(collect_set(x))``.
- ``rowid % k = 0`` (DuckDB's systematic sample) → ``pmod(xxhash64(…row…), k) = 0`` for k > 1, a
  deterministic sample of the same size (not the same rows: Spark has no stable row order), and TRUE for
  k = 1, where DuckDB keeps every row too.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp

from analytics.errors import LiftboardError


@dataclass(frozen=True)
class SparkQuery:
    """Spark SQL text, its named parameters, and the tables it reads (lower case, CTE names excluded)."""

    sql: str
    args: dict[str, Any]
    tables: frozenset[str]


def named_markers(sql: str) -> tuple[str, int]:
    """Replace each ``?`` outside string literals and quoted names by ``$p<i>``; return the text and count."""
    out: list[str] = []
    quote: str | None = None
    n = 0
    for ch in sql:
        if quote:
            if ch == quote:
                quote = None  # a doubled quote closes and reopens: the state ends up right either way
        elif ch in ("'", '"'):
            quote = ch
        elif ch == "?":
            out.append(f"$p{n}")
            n += 1
            continue
        out.append(ch)
    return "".join(out), n


def tables_read(tree: exp.Expression) -> frozenset[str]:
    """Names of the tables a statement reads, without its CTE names."""
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    return frozenset(t.name.lower() for t in tree.find_all(exp.Table) if t.name.lower() not in ctes)


def parse_duckdb(sql: str) -> tuple[exp.Expression, int]:
    """The statement's syntax tree with its ``?`` markers named, and how many there were."""
    text, n = named_markers(sql)
    return _parse(text), n


def _parse(text: str) -> exp.Expression:
    try:
        return sqlglot.parse_one(text, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise LiftboardError(
            f"A query could not be translated for Spark ({str(exc).splitlines()[0]})."
        ) from None


def to_spark(
    sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None, *, list_columns: Collection[str] = ()
) -> SparkQuery:
    """Translate one DuckDB statement with ``?`` parameters into Spark SQL with named parameters.

    ``list_columns`` names the columns that hold lists (e.g. ``tag_ids``): DuckDB's ``len()`` of a list is
    Spark's ``size()``, and only the schema can tell a list from a string.
    """
    if isinstance(params, Mapping):  # DuckDB's $name markers are Spark's :name markers, by the same names
        tree, args = _parse(sql), dict(params)
    else:
        tree, n = parse_duckdb(sql)
        values = list(params or [])
        if len(values) != n:
            raise LiftboardError(f"A query has {n} parameter markers but {len(values)} values were given.")
        args = {f"p{i}": v for i, v in enumerate(values)}
    lists = {c.lower() for c in list_columns}
    tree = tree.transform(lambda node: _fragment(node, args, lists))
    tables = tables_read(tree)
    text = tree.sql(dialect="spark")
    # Only the parameters the statement still uses (a fragment may have inlined some into new ones).
    used = {p.name for p in tree.find_all(exp.Placeholder)}
    return SparkQuery(text, {k: _arg(v) for k, v in args.items() if k in used}, tables)


def _arg(value: Any) -> Any:
    # Spark binds Python lists as arrays and tuples as structs: a list is what every engine means.
    if isinstance(value, tuple):
        return list(value)
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


#: DuckDB's to_hours(n), to_minutes(n), to_seconds(n) as make_dt_interval(days, hours, mins, secs).
_INTERVAL_ARGS = {"to_hours": 1, "to_minutes": 2, "to_seconds": 3}


def _spark(text: str) -> exp.Expression:
    return sqlglot.parse_one(text, read="spark")


def _param_value(node: exp.Expression, args: dict[str, Any]) -> tuple[str, Any] | None:
    """The name and value of a (possibly cast) placeholder, else None."""
    inner = node.this if isinstance(node, exp.Cast) else node
    if isinstance(inner, exp.Placeholder) and inner.name in args:
        return inner.name, args[inner.name]
    return None


def _fragment(node: exp.Expression, args: dict[str, Any], lists: set[str]) -> exp.Expression:
    if isinstance(node, exp.Length) and isinstance(node.this, exp.Column) and node.this.name.lower() in lists:
        return exp.Anonymous(this="size", expressions=[node.this])
    if isinstance(node, exp.ToDays):
        return exp.Anonymous(this="make_dt_interval", expressions=[node.this])
    if isinstance(node, exp.Anonymous) and node.name.lower() in _INTERVAL_ARGS and len(node.expressions) == 1:
        zeros = [exp.Literal.number(0)] * _INTERVAL_ARGS[node.name.lower()]
        return exp.Anonymous(this="make_dt_interval", expressions=[*zeros, node.expressions[0]])
    if isinstance(node, exp.TimeToUnix):
        # DuckDB's epoch() keeps the fraction of a second; Spark's unix_timestamp() drops it.
        ts = node.this.sql(dialect="spark")
        return _spark(f"unix_micros(CAST({ts} AS TIMESTAMP_LTZ)) / 1000000.0")
    if isinstance(node, exp.PercentileCont):
        return exp.Anonymous(this="percentile", expressions=[node.this, node.expression])
    if isinstance(node, exp.PercentileDisc):
        return _quantile_disc(node, args)
    if isinstance(node, exp.Anonymous) and node.name.lower() == "histogram" and len(node.expressions) == 2:
        return _histogram(node, args)
    if isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Order):
        inner = node.this.this
        if isinstance(inner, exp.Distinct) and len(inner.expressions) == 1:
            value = inner.expressions[0].sql(dialect="spark")
            return _spark(f"array_sort(collect_set({value}))")
    if isinstance(node, exp.Mod) and isinstance(node.this, exp.Column) and node.this.name.lower() == "rowid":
        found = _param_value(node.expression, args)
        step = int(found[1]) if found else None
        if step == 1:
            return _spark("0")  # rowid % 1 = 0 keeps every row
        if found:
            # Every column of the row feeds the hash: a deterministic sample of about 1/step of the rows.
            return _spark(f"pmod(xxhash64(*), :{found[0]})")
    return node


def _quantile_disc(node: exp.PercentileDisc, args: dict[str, Any]) -> exp.Expression:
    value = node.this.sql(dialect="spark")
    found = _param_value(node.expression, args)
    probs: Any = found[1] if found else None
    if found is None:
        literal = node.expression
        if isinstance(literal, exp.Literal):
            probs = float(literal.this)
        else:
            raise LiftboardError("A quantile_disc() query has no fixed probabilities; Spark cannot run it.")
    many = isinstance(probs, (list, tuple)) or hasattr(probs, "tolist")
    plist = list(probs) if many else [probs]
    names = []
    for k, q in enumerate(plist):
        name = f"{found[0] if found else 'qd'}_{k}"
        args[name] = float(q)
        names.append(f"percentile_disc(:{name}) WITHIN GROUP (ORDER BY {value})")
    return _spark(f"array({', '.join(names)})" if many else names[0])


def _histogram(node: exp.Anonymous, args: dict[str, Any]) -> exp.Expression:
    value_node, edges_node = node.expressions
    found = _param_value(edges_node, args)
    if found is None:
        raise LiftboardError("A histogram() query has no bin edges as a parameter; Spark cannot run it.")
    base, edges = found[0], [float(e) for e in found[1]]
    x = value_node.sql(dialect="spark")
    keys, counts = [], []
    for k, edge in enumerate(edges):
        name = f"{base}_{k}"
        args[name] = edge
        keys.append(f"CAST(:{name} AS DOUBLE)")
        low = f"{x} > :{base}_{k - 1} AND " if k else ""
        counts.append(f"count_if({low}{x} <= :{name})")
    keys.append("CAST('Infinity' AS DOUBLE)")
    last = f":{base}_{len(edges) - 1}" if edges else "CAST('-Infinity' AS DOUBLE)"
    counts.append(f"count_if({x} > {last})")
    # No value at all (every row NULL): DuckDB gives NULL, and so does this.
    text = (
        f"CASE WHEN count({x}) = 0 THEN NULL ELSE "
        f"map_from_arrays(array({', '.join(keys)}), array({', '.join(counts)})) END"
    )
    return _spark(text)

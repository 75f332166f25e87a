"""Assignments from a tool's exposure events: first exposure per user, experiment and variant, in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from analytics.errors import LiftboardError
from analytics.ingest.sources.spec import Field, Source
from analytics.workspace import quote_ident

q = quote_ident
EID = "__lb_eid"  # the experiment's own id, kept in the stage while --experiment filters (then dropped)


@dataclass(frozen=True)
class ExperimentFound:
    """One experiment of an export: its arms and users, and those seen in more than one arm."""

    name: str
    variants: tuple[tuple[str, int], ...]  # (variant, users who saw it)
    users: int
    multi_variant_users: int
    first: datetime | None
    last: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "variants": [{"name": v, "users": n} for v, n in self.variants],
                "users": self.users, "multi_variant_users": self.multi_variant_users,
                "first": self.first, "last": self.last}  # fmt: skip


@dataclass(frozen=True)
class ExposureCounts:
    """The exposure events of an export: all, those naming no experiment or variant, those not exposed."""

    exposures: int
    incomplete: int
    not_exposed: int


def _columns(
    source: Source, stored: dict[Field, str]
) -> tuple[str | None, str | None, str | None, str | None]:
    """The stored columns of the experiment, the variant and their names (None where the export has none)."""
    fields = (source.experiment, source.variant, source.experiment_label, source.variant_label)
    return tuple(stored.get(f) if f is not None else None for f in fields)  # type: ignore[return-value]


def _text(name: str) -> str:
    return f"CAST({q(name)} AS VARCHAR)"


def count_exposures(cur: duckdb.DuckDBPyConnection, stage: str, source: Source, stored: dict[Field, str]
                    ) -> ExposureCounts:  # fmt: skip
    exp, var, _, _ = _columns(source, stored)
    if exp is None or var is None:
        n = int(
            cur.execute(f"SELECT count(*) FROM {stage} WHERE event = ?", [source.exposure]).fetchall()[0][0]
        )
        return ExposureCounts(n, n, 0)
    row = cur.execute(
        f"SELECT count(*), count(*) FILTER ({q(exp)} IS NULL OR {q(var)} IS NULL), "
        f"count(*) FILTER (list_contains(CAST(? AS VARCHAR[]), lower({_text(var)}))) FROM {stage} WHERE event = ?",
        [list(source.not_exposed), source.exposure],
    ).fetchall()[0]
    return ExposureCounts(int(row[0]), int(row[1]), int(row[2] or 0))


def build_assignments(
    cur: duckdb.DuckDBPyConnection,
    stage: str,
    target: str,
    source: Source,
    stored: dict[Field, str],
    *,
    skip: str | None,
    keep: str | None,
) -> bool:
    """CREATE TABLE target (user_id, experiment, variant, timestamp) from the stage's exposure events.

    One row per user, experiment and variant, at its first exposure: a user seen in two variants keeps two
    rows, which the analysis counts and leaves out. Experiments and variants are shown by their names where
    the export has them (Segment), when a name belongs to one id only. `skip` leaves out the rows a skipped
    load drops; `keep` (--experiment) keeps one experiment, by id or name. False when nothing names one.
    """
    exp, var, elabel, vlabel = _columns(source, stored)
    if exp is None or var is None:
        return False
    labels = (
        f", {_text(elabel) if elabel else 'NULL'} AS elabel, {_text(vlabel) if vlabel else 'NULL'} AS vlabel"
    )
    where = (
        f"event = $exposure AND {q(exp)} IS NOT NULL AND {q(var)} IS NOT NULL AND user_id IS NOT NULL "
        f"AND timestamp IS NOT NULL AND NOT list_contains(CAST($off AS VARCHAR[]), lower({_text(var)}))"
    )
    if skip:
        where += f" AND NOT coalesce({skip}, false)"
    sql = (
        f"CREATE TABLE {target} AS WITH x AS (SELECT user_id, {_text(exp)} AS eid, {_text(var)} AS vid{labels}, "
        f"timestamp FROM {stage} WHERE {where}),\n"
        "en AS (SELECT eid, name FROM (SELECT eid, mode(elabel) AS name FROM x WHERE elabel IS NOT NULL "
        "GROUP BY eid) QUALIFY count(*) OVER (PARTITION BY name) = 1),\n"
        "vn AS (SELECT eid, vid, name FROM (SELECT eid, vid, mode(vlabel) AS name FROM x WHERE vlabel IS NOT NULL "
        "GROUP BY eid, vid) QUALIFY count(*) OVER (PARTITION BY eid, name) = 1)\n"
        "SELECT x.user_id, coalesce(en.name, x.eid) AS experiment, coalesce(vn.name, x.vid) AS variant, "
        f"min(x.timestamp) AS timestamp, x.eid AS {q(EID)} "
        "FROM x LEFT JOIN en USING (eid) LEFT JOIN vn USING (eid, vid) GROUP BY ALL"
    )
    cur.execute(sql, {"exposure": source.exposure, "off": list(source.not_exposed)})
    if keep is not None:
        names = [r[0] for r in cur.execute(f"SELECT DISTINCT experiment FROM {target} ORDER BY 1").fetchall()]
        hit = cur.execute(
            f"SELECT count(*) FROM {target} WHERE experiment = ? OR {q(EID)} = ?",
            [keep, keep],
        ).fetchall()[0][0]
        if not hit:
            listed = ", ".join(names[:20]) or "none"
            raise LiftboardError(
                f"The export has no experiment {keep!r} among its {source.exposure} events; "
                f"its experiments are: {listed}."
            )
        cur.execute(f"DELETE FROM {target} WHERE NOT (experiment = ? OR {q(EID)} = ?)", [keep, keep])
    cur.execute(f"ALTER TABLE {target} DROP COLUMN {q(EID)}")
    return True


def experiments_found(cur: duckdb.DuckDBPyConnection, target: str) -> tuple[ExperimentFound, ...]:
    """Per experiment of the assignments stage: arms, users, users in two arms, first and last exposure."""
    arms = cur.execute(
        f"SELECT experiment, variant, count(DISTINCT user_id) FROM {target} GROUP BY ALL ORDER BY 1, 2"
    ).fetchall()
    rows = cur.execute(
        "SELECT experiment, count(*), count(*) FILTER (arms > 1), min(first), max(last) FROM ("
        "SELECT experiment, user_id, count(DISTINCT variant) AS arms, min(timestamp) AS first, "
        f"max(timestamp) AS last FROM {target} GROUP BY ALL) GROUP BY experiment ORDER BY experiment"
    ).fetchall()
    return tuple(
        ExperimentFound(
            name, tuple((v, int(n)) for e, v, n in arms if e == name), int(users), int(multi), first, last
        )
        for name, users, multi, first, last in rows
    )

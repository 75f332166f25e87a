"""What the columns of an outcomes or totals table are: outcomes, segment attributes, or per-arm counts and means.

The one home of these naming rules: the loader checks a file with them and the experiments engine reads the
tables with them. An outcomes table holds one row per user; every boolean or numeric column besides the
canonical ones is an outcome (0/1 and booleans are proportions, other numbers means) and every text column is
a segment attribute. A totals table holds one row per arm: ``users`` and, per outcome, a count column (a
proportion: count ÷ users) or a pair ``NAME_mean`` and ``NAME_sd`` (a mean with its standard deviation).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from analytics.errors import LiftboardError
from analytics.workspace.schema import CANONICAL

NUMERIC = frozenset(
    {"BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT",
     "DOUBLE", "FLOAT", "REAL"}
)  # fmt: skip
_MEAN = re.compile(r"^(?P<name>.+?)[ _.-]*(mean|avg|average)$", re.IGNORECASE)
_SD = re.compile(r"^(?P<name>.+?)[ _.-]*(sd|std|stdev|stddev|std_dev)$", re.IGNORECASE)


def is_numeric(dtype: str) -> bool:
    return dtype.upper() in NUMERIC or dtype.upper().startswith("DECIMAL")


def is_boolean(dtype: str) -> bool:
    return dtype.upper() == "BOOLEAN"


@dataclass(frozen=True)
class OutcomeColumns:
    """The outcome columns (boolean or numeric) and segment attributes (text) of an outcomes table."""

    outcomes: tuple[str, ...]
    booleans: tuple[str, ...]  # the outcomes stored as booleans (always proportions)
    segments: tuple[str, ...]


def outcome_columns(columns: Mapping[str, str]) -> OutcomeColumns:
    """Split an outcomes table's columns (name → type) into outcomes and segment attributes."""
    canon = set(CANONICAL["outcomes"]["required"]) | set(CANONICAL["outcomes"]["optional"])
    outcomes, booleans, segments = [], [], []
    for name, dtype in columns.items():
        if name in canon:
            continue
        if is_boolean(dtype):
            outcomes.append(name)
            booleans.append(name)
        elif is_numeric(dtype):
            outcomes.append(name)
        elif dtype.upper() == "VARCHAR":
            segments.append(name)
    return OutcomeColumns(tuple(outcomes), tuple(booleans), tuple(segments))


@dataclass(frozen=True)
class TotalsColumns:
    """A totals table's outcomes: count columns (proportions) and (mean, sd) column pairs, by outcome name."""

    counts: dict[str, str]  # outcome name → its count column
    means: dict[str, tuple[str, str]]  # outcome name → (mean column, sd column)
    unpaired: tuple[str, ...]  # a mean without its sd, or an sd without its mean
    ignored: tuple[str, ...]  # text columns (e.g. a rate typed as "4.5%"): not read

    @property
    def names(self) -> tuple[str, ...]:
        return (*self.counts, *self.means)


def totals_columns(columns: Mapping[str, str]) -> TotalsColumns:
    """Read a totals table's columns (name → type): ``NAME_mean``/``NAME_sd`` pairs, other numbers counts."""
    canon = set(CANONICAL["totals"]["required"]) | set(CANONICAL["totals"]["optional"])
    extra = {n: t for n, t in columns.items() if n not in canon}
    mean_of = {m.group("name"): n for n, t in extra.items() if is_numeric(t) and (m := _MEAN.match(n))}
    sd_of = {m.group("name"): n for n, t in extra.items() if is_numeric(t) and (m := _SD.match(n))}
    means = {name: (col, sd_of[name]) for name, col in mean_of.items() if name in sd_of}
    paired = {c for pair in means.values() for c in pair}
    unpaired = tuple(c for c in (*mean_of.values(), *sd_of.values()) if c not in paired)
    counts = {n: n for n, t in extra.items() if is_numeric(t) and n not in paired and n not in unpaired}
    ignored = tuple(n for n, t in extra.items() if not is_numeric(t))
    return TotalsColumns(counts, means, unpaired, ignored)


@dataclass(frozen=True)
class ArmTotals:
    """One arm: its users and, per outcome, a count (a proportion) or a mean with its standard deviation."""

    name: str
    users: int
    counts: Mapping[str, float] = field(default_factory=dict)
    means: Mapping[str, tuple[float, float]] = field(default_factory=dict)


def check_arms(arms: Sequence[ArmTotals], source: str) -> None:
    """One sentence for the first impossible number: users, counts above users, negative sds, repeated arms."""
    if len(arms) < 2:
        raise LiftboardError(f"{source} has {len(arms)} arm; a comparison needs at least two.")
    seen: set[str] = set()
    for a in arms:
        if not a.name.strip():
            raise LiftboardError(f"{source} has an arm without a name; name every arm.")
        if a.name in seen:
            raise LiftboardError(f"{source} lists the arm {a.name!r} twice; give each arm one row.")
        seen.add(a.name)
        if a.users < 2:
            raise LiftboardError(
                f"Arm {a.name!r} of {source} has {a.users} users; each arm needs at least 2."
            )
        for outcome, c in a.counts.items():
            if not (math.isfinite(c) and 0 <= c <= a.users and float(c).is_integer()):
                raise LiftboardError(
                    f"Arm {a.name!r} of {source} has {c:,g} {outcome} out of {a.users:,} users; a count must "
                    "be a whole number between 0 and the arm's users."
                )
        for outcome, (mean, sd) in a.means.items():
            if not (math.isfinite(mean) and math.isfinite(sd) and sd >= 0):
                raise LiftboardError(
                    f"Arm {a.name!r} of {source} has mean {mean:g} and standard deviation {sd:g} for "
                    f"{outcome}; give a number and a standard deviation of 0 or more."
                )

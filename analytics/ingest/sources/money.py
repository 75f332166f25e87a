"""Whether an export's event values are money: a tool's revenue property is, unless its currency says otherwise.

Liftboard shows money in dollars and never converts amounts, so values in another currency, or in several, are
plain numbers unless the user marks them as money; either way the load report says so in one sentence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import duckdb

from analytics.ingest.report import Issue
from analytics.ingest.sources.issues import dotted
from analytics.ingest.sources.spec import Field, Source
from analytics.workspace import load_marks, quote_ident

q = quote_ident
DOLLAR = "USD"


@dataclass(frozen=True)
class ValueUnit:
    """What an export's load says and records about ``events.value``."""

    money: bool  # the events.value mark the load records
    note: str  # one sentence for the report: where the values come from and how they are shown
    currencies: tuple[tuple[str, int], ...]  # currency code -> events with a value ("" when none is named)
    warning: bool  # True when the amounts are not in dollars or in several currencies (not converted)

    @property
    def issue(self) -> Issue | None:
        """The note as a warning of the report, when a number could otherwise be read in the wrong unit."""
        if not self.warning:
            return None
        foreign = sum(n for c, n in self.currencies if c and c != DOLLAR)
        return Issue("warning", "currency_not_converted", self.note, foreign)

    def to_dict(self) -> dict[str, Any]:
        return {"money": self.money, "note": self.note, "warning": self.warning,
                "currencies": dict(self.currencies)}  # fmt: skip


def _names(source: Source) -> set[str]:
    """What a user may call the value in ``--money``: value, the property (revenue) or its dotted path."""
    return {"value", *(f[-1] for f in source.value), *(dotted(f) for f in source.value)}


def value_unit(cur: duckdb.DuckDBPyConnection, stage: str, source: Source, stored: dict[Field, str],
               money: Iterable[str] | None) -> ValueUnit | None:  # fmt: skip
    """How the staged export's values are shown; None when no event has a value (nothing to say or mark).

    ``money``: the columns marked as money by hand (``--money``, the Data page); None keeps the default: a
    tool's revenue property is money when its events name no currency or only USD.
    """
    cols = [q(stored[f]) for f in source.currency if f in stored]
    code = f"NULLIF(upper(trim(CAST(coalesce({', '.join(cols)}) AS VARCHAR))), '')" if cols else "NULL"
    rows = cur.execute(
        f"SELECT coalesce({code}, ''), count(*) FROM {stage} WHERE value IS NOT NULL GROUP BY 1 "
        "ORDER BY 2 DESC, 1"  # stage and columns are our own quoted names
    ).fetchall()
    if not rows:
        return None
    currencies = tuple((str(c), int(n)) for c, n in rows)
    named = [c for c, _ in currencies if c]
    foreign = [c for c in named if c != DOLLAR]
    chosen = None if money is None else tuple("value" if c in _names(source) else c for c in money)
    is_money = load_marks("events", {"value": "value"}, (), chosen, revenue=not foreign)["value"]
    where = " or ".join(dotted(f) for f in source.value)
    field = " or ".join(dotted(f) for f in source.currency)
    if not foreign:
        shown = "as money (dollars)" if is_money else "as plain numbers, not money, as chosen at load"
        return ValueUnit(
            is_money, f"Event values come from {where} and are shown {shown}.", currencies, False
        )
    if len(named) == 1:
        what = f"in {named[0]} ({field})"
    else:
        counts = ", ".join(f"{c} on {n:,} events" for c, n in currencies if c)
        blank = sum(n for c, n in currencies if not c)
        what = f"in {len(named)} currencies ({counts}{f', none named on {blank:,}' if blank else ''})"
    if is_money:
        shown = "they are shown with a dollar sign, as chosen at load, but amounts are not converted"
    else:
        shown = "Liftboard shows money in dollars and does not convert amounts, so they are shown as plain numbers"
    fix = (" A per-user sum adds different currencies as they are: convert them to one before loading."
           if len(named) > 1 else "")  # fmt: skip
    return ValueUnit(is_money, f"Event values come from {where} {what}; {shown}.{fix}", currencies, True)

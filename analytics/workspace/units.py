"""Which numbers are money: a mean is shown in dollars only when its column holds money, never by default.

One rule for the whole app (verdicts, report, tables). A column is money when it is marked so (on the Data
page, with ``load --money COLUMN``, or by the demo), else when its name says so (revenue, price, amount_usd,
cost …). ``events.value`` is the exception to naming: it is called ``value`` in every workspace, so it is money
only when the load that filled it mapped it from a money-named column (``revenue``), read it from an analytics
tool's revenue property (an export loaded with ``--from``), or marked it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import duckdb

from analytics.workspace.store import Workspace

#: lb_settings key holding the marks: {"outcomes.revenue": true, "events.value": false, …}.
MONEY_SETTING = "units:money"
#: Words that make a column money when they are one of the words of its name (revenue_usd, OrderValueEUR…).
MONEY_WORDS = frozenset(
    {
        "revenue", "revenues", "sales", "spend", "spending", "amount", "price", "prices", "cost", "costs",
        "gmv", "arpu", "arppu", "ltv", "usd", "eur", "gbp", "dollar", "dollars", "euro", "euros", "payment",
        "payments", "income", "profit", "fee", "fees", "spent", "money", "cash", "billing", "invoice", "mrr",
        "arr", "aov",
    }
)  # fmt: skip
#: ``value`` is money beside one of these words (order_value, purchase value, lifetime value).
VALUE_WORDS = frozenset(
    {"order", "purchase", "cart", "basket", "transaction", "deal", "lifetime", "customer"}
)
#: Words that keep a name from being money although a money word is in it (time spent, pages per purchase).
NOT_MONEY_WORDS = frozenset(
    {"time", "minutes", "seconds", "hours", "days", "count", "number", "rounds", "clicks", "views", "rate",
     "share", "items", "sessions", "pages"}
)  # fmt: skip


def words(name: str) -> list[str]:
    """The words of a column name: ``orderValueUSD`` → order, value, usd; ``total ads`` → total, ads."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", name))
    return [w for w in re.split(r"[^0-9a-z]+", spaced.lower()) if w]


def money_by_name(name: str) -> bool:
    """True when a column's name says it holds money (``revenue``, ``price_usd``), not ``time_spent``."""
    ws = set(words(name))
    if ws & NOT_MONEY_WORDS:
        return False
    return bool(ws & MONEY_WORDS) or ("value" in ws and bool(ws & VALUE_WORDS))


def money_marks(ws: Workspace) -> dict[str, bool]:
    """The explicit marks: ``table.column`` → money or not."""
    raw = ws.get_setting(MONEY_SETTING) or {}
    return {str(k): bool(v) for k, v in raw.items()}


def is_money(ws: Workspace, table: str, column: str) -> bool:
    """Whether a column's numbers are money: its mark, else its name (``events.value`` needs a mark)."""
    mark = money_marks(ws).get(f"{table}.{column}")
    if mark is not None:
        return mark
    return False if (table, column) == ("events", "value") else money_by_name(column)


def record_marks(
    ws: Workspace, cur: duckdb.DuckDBPyConnection, table: str, columns: Mapping[str, bool]
) -> dict[str, bool]:
    """Save marks for columns of a table inside the caller's transaction; returns all marks."""
    merged = money_marks(ws) | {f"{table}.{c}": bool(v) for c, v in columns.items()}
    ws.set_setting(MONEY_SETTING, merged, cur=cur)
    return merged


def load_marks(
    kind: str,
    mapping: Mapping[str, str | None],
    extras: Iterable[str],
    money: Iterable[str] | None,
    *,
    revenue: bool = False,
) -> dict[str, bool]:
    """The marks a load records. ``money=None`` (nothing chosen by hand): an event log's value is money when
    its source column is money-named (``revenue`` mapped to value) or is a tool's revenue property
    (``revenue=True``: an export's value), other columns keep the rule by name. A tuple: exactly these
    columns are money and the file's other numbers are not."""
    chosen = None if money is None else set(money)
    out: dict[str, bool] = {}
    if kind == "events" and mapping.get("value"):
        src = str(mapping["value"])
        by_default = revenue or money_by_name(src)
        out["value"] = by_default if chosen is None else bool({"value", src} & chosen)
    if chosen is not None and kind != "events":
        for col in extras:
            out[col] = col in chosen
    return out

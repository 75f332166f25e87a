"""The editable price table (per model version, USD per 1k tokens) and the cost it implies."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from analytics.errors import LiftboardError
from analytics.workspace import Actor, Workspace, require


@dataclass(frozen=True)
class Price:
    """Prices of one model version in USD per 1,000 tokens."""

    model_version: str
    input_per_1k: float
    output_per_1k: float
    cached_per_1k: float = 0.0


@dataclass(frozen=True)
class SuggestedPrice:
    """A price offered from the genai-prices table for a model version it recognises (saved only if the user
    saves it): which model it matched, the provider, and the day the price is valid for."""

    price: Price
    matched_model: str
    provider: str
    valid_on: dt.date
    source: str  # e.g. "genai-prices 0.2.3"


def suggested_prices(model_versions: Sequence[str], *, on: dt.date | None = None) -> list[SuggestedPrice]:
    """Prices per 1k tokens (input, output, cached input) from genai-prices for the model versions whose name
    it knows (``gpt-4o-2024-08-06``, ``claude-3-5-sonnet``…); unknown names are left out. Works offline: the
    package ships its price table, and nothing here asks it to update."""
    from importlib.metadata import version

    from genai_prices import Usage, calc_price

    day = on or dt.datetime.now(dt.UTC).date()
    when = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    out = []
    for mv in model_versions:
        try:
            calc = calc_price(Usage(input_tokens=1_000_000), model_ref=str(mv), genai_request_timestamp=when)
        except LookupError:
            continue
        mp = calc.model_price
        per_1k = [float(x or 0) / 1000.0 for x in (mp.input_mtok, mp.output_mtok, mp.cache_read_mtok)]
        if not all(isinstance(x, float) and math.isfinite(x) for x in per_1k):
            continue  # tiered prices (by context length) have no single number to offer
        out.append(
            SuggestedPrice(
                Price(str(mv), *per_1k),
                str(calc.model.id),
                str(calc.provider.id),
                day,
                f"genai-prices {version('genai-prices')}",
            )
        )
    return out


def token_cost(price: Price, tokens_in: float, tokens_out: float, tokens_cached: float = 0.0) -> float:
    """The cost in USD of one call (or of token sums) under a price.

    ``tokens_in`` counts every input token, cached ones included, so the uncached input is
    ``tokens_in − tokens_cached``:

        cost = (tokens_in − tokens_cached)·input/1000 + tokens_cached·cached/1000 + tokens_out·output/1000
    """
    return (
        (tokens_in - tokens_cached) * price.input_per_1k
        + tokens_cached * price.cached_per_1k
        + tokens_out * price.output_per_1k
    ) / 1000.0


def get_prices(ws: Workspace) -> list[Price]:
    """The price table, ordered by model version."""
    rows = ws.query(
        "SELECT model_version, input_per_1k, output_per_1k, cached_per_1k FROM lb_prices ORDER BY model_version",
        purpose="the get prices query",
    )
    return [Price(str(m), float(i), float(o), float(c)) for m, i, o, c in rows]


def _check(price: Price) -> None:
    name = price.model_version.strip() if isinstance(price.model_version, str) else ""
    if not name:
        raise LiftboardError("A price row has no model version; give each row the model_version it prices.")
    for label, value in (
        ("input", price.input_per_1k),
        ("output", price.output_per_1k),
        ("cached", price.cached_per_1k),
    ):
        if value is None or not math.isfinite(float(value)) or float(value) < 0:
            raise LiftboardError(
                f"The {label} price of {name!r} is {value!r}; prices are USD per 1k tokens, zero or more."
            )


def set_prices(ws: Workspace, prices: list[Price], *, actor: Actor | None) -> list[Price]:
    """Replace the whole price table in one transaction and record before/after in the audit trail.

    The actor's role must allow editing prices (editor or admin).

    Raises:
        LiftboardError: a row without a model version, a negative or missing price, or a model
            version listed twice.
    """
    who = require(actor, "edit_prices").name
    seen: set[str] = set()
    clean: list[Price] = []
    for p in prices:
        _check(p)
        name = p.model_version.strip()
        if name in seen:
            raise LiftboardError(
                f"The model version {name!r} is priced twice; keep one row per model version."
            )
        seen.add(name)
        clean.append(
            Price(name, float(p.input_per_1k), float(p.output_per_1k), float(p.cached_per_1k or 0.0))
        )
    before = [p.__dict__ for p in get_prices(ws)]
    with ws.transaction() as cur:
        cur.execute("DELETE FROM lb_prices")
        for p in clean:
            cur.execute(
                "INSERT INTO lb_prices VALUES (?, ?, ?, ?)",
                [p.model_version, p.input_per_1k, p.output_per_1k, p.cached_per_1k],
            )
        ws.audit(cur, who, "set_prices", "lb_prices", before, [p.__dict__ for p in clean])
    return get_prices(ws)

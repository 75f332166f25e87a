"""Cost aggregates from the inference log: per prediction, per active user, per day and per model version.

Definitions used everywhere (page, CLI, report):

- **cost of a prediction**: its ``cost_usd`` when logged; otherwise, when it has tokens and its model
  version has a row in the price table, ``(tokens_in − tokens_cached)·input/1000 + tokens_cached·cached/1000
  + tokens_out·output/1000`` (prices in USD per 1k tokens, ``tokens_in`` counting cached input tokens too).
- **active user (of a day)**: a user with at least one prediction that day. When an events table exists,
  *event-active* users (≥1 event that day) are reported beside them.
- **cost per active user**: total cost ÷ the sum of daily active users, i.e. the cost of one user-day.
- **monthly run-rate**: mean daily cost over the last 7 days of data × DAYS_PER_MONTH (30.44).

One SQL pass returns the per (day, model version) sums; everything else is arithmetic on that small table,
so the what-if (``analytics.cost.whatif``) never reruns SQL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from analytics.cost.prices import Price, get_prices
from analytics.errors import LiftboardError
from analytics.workspace import Workspace

#: Days in an average month: the Gregorian year over twelve, 365.25 / 12 = 30.4375. One constant for every
#: monthly figure (the run rate, the projected monthly cost at 10× users, the Scale stage's budget check);
#: the Cost page said 30.4 and the Overview 30.0, so the same spend was two different months.
DAYS_PER_MONTH = 365.25 / 12
#: Days in each period a cost can be given per.
PERIOD_DAYS: dict[str, int] = {"day": 1, "week": 7}
RUN_RATE_DAYS = 7
ALL_MODELS = "(all)"


@dataclass(frozen=True)
class CostData:
    """Everything the Cost page draws, fetched once from SQL.

    Attributes:
        by_day_model: one row per (day, model_version): predictions, users, cost, tokens_in, tokens_out,
            tokens_cached, uncosted (predictions without a cost), lat_p50/lat_p95/lat_p99 (ms).
        by_day: the same columns per day over all model versions (users counted once a day), plus
            event_users and conversions when an events table exists.
        by_model: the same columns per model version over the whole period.
        totals: the same columns over the whole period (one row; users = distinct users).
        by_week: empty until ``with_weeks``: per calendar week (``week``: its Monday) predictions, cost and
            conversions (sums of its days), users distinct in the week, ``days`` (how many of its 7 days lie
            between the first and last day of data) and ``event_users`` (distinct in the week) when an events
            table exists. Only weeks with all 7 days are comparable: a partial week holds fewer days' cost.
        prices: the price table at the time of the query.
        notes: plain sentences about what was assumed or left out (e.g. predictions without a price).
    """

    by_day_model: pd.DataFrame
    by_day: pd.DataFrame
    by_model: pd.DataFrame
    totals: pd.Series
    prices: tuple[Price, ...]
    has_events: bool
    conversion_event: str
    notes: tuple[str, ...]
    by_week: pd.DataFrame = field(default_factory=pd.DataFrame)  # filled by with_weeks()
    window: tuple[dt.date | None, dt.date | None] = (None, None)  # the start/end it was loaded with
    exact: bool = True  # users and percentiles counted exactly (False: estimated, see load_costs)

    @property
    def first_day(self) -> dt.date | None:
        return None if self.by_day.empty else self.by_day["day"].min()

    @property
    def last_day(self) -> dt.date | None:
        return None if self.by_day.empty else self.by_day["day"].max()

    @property
    def cache_rate(self) -> float:
        """The measured cache hit rate: the share of input tokens served from cache (0 without tokens)."""
        tokens_in = float(self.totals.get("tokens_in", 0) or 0)
        return float(self.totals.get("tokens_cached", 0) or 0) / tokens_in if tokens_in else 0.0


@dataclass(frozen=True)
class UnitCosts:
    """The unit costs on the Cost cards: totals, per prediction, per active user and conversion, run rate."""

    total_cost: float
    predictions: int
    user_days: int
    distinct_users: int
    cost_per_prediction: float | None
    cost_per_active_user: float | None
    cost_per_event_active_user: float | None
    cost_per_conversion: float | None
    predictions_per_active_user: float | None
    daily_cost_recent: float | None
    monthly_run_rate: float | None
    mean_dau_recent: float | None


def cost_sql(ws: Workspace, *, sample: bool = False) -> tuple[str, list[str]]:
    """A SELECT over the predictions table with one costed row per prediction.

    Columns: ``day, ts, user_id, model_version, cost, tokens_in, tokens_out, tokens_cached, latency_ms,
    logged``. Missing optional columns become NULL (or ``'(all)'`` for the model version).

    Args:
        sample: keep only every k-th stored row (``rowid % ? = 0``; the caller passes k as the query's last
            parameter). A systematic sample of a time-ordered log spreads evenly over the days, and unlike
            a Bernoulli ``USING SAMPLE`` it costs no random draw per row and scans in parallel.

    Raises:
        LiftboardError: no predictions table, or neither cost_usd nor token columns to cost from.
    """
    table = ws.table("predictions")
    cols = ws.columns("predictions")
    has_cost = "cost_usd" in cols
    has_tokens = "tokens_in" in cols and "tokens_out" in cols
    if not has_cost and not has_tokens:
        raise LiftboardError(
            "The predictions table has neither a cost_usd column nor tokens_in and tokens_out; map a cost "
            "column to cost_usd, or token counts to tokens_in/tokens_out and set prices in the price table."
        )
    notes: list[str] = []
    mv = (
        f"CAST(p.{ws.column('predictions', 'model_version')} AS VARCHAR)" if "model_version" in cols else None
    )
    model = f"COALESCE({mv}, '(unknown)')" if mv else f"'{ALL_MODELS}'"
    if not mv:
        notes.append("The predictions have no model_version; all of them are counted as one model.")
    tin = f"CAST(p.{ws.column('predictions', 'tokens_in')} AS DOUBLE)" if has_tokens else "NULL::DOUBLE"
    tout = f"CAST(p.{ws.column('predictions', 'tokens_out')} AS DOUBLE)" if has_tokens else "NULL::DOUBLE"
    tc = (
        f"COALESCE(CAST(p.{ws.column('predictions', 'tokens_cached')} AS DOUBLE), 0)"
        if has_tokens and "tokens_cached" in cols
        else ("0::DOUBLE" if has_tokens else "NULL::DOUBLE")
    )
    logged = f"CAST(p.{ws.column('predictions', 'cost_usd')} AS DOUBLE)" if has_cost else "NULL::DOUBLE"
    priced = (
        f"(({tin} - {tc}) * pr.input_per_1k + {tc} * pr.cached_per_1k + COALESCE({tout}, 0) * pr.output_per_1k)"
        " / 1000.0"
    )
    lat = (
        f"CAST(p.{ws.column('predictions', 'latency_ms')} AS DOUBLE)"
        if "latency_ms" in cols
        else "NULL::DOUBLE"
    )
    join = f"LEFT JOIN lb_prices pr ON pr.model_version = {model}" if has_tokens else ""
    cost = f"COALESCE({logged}, {priced})" if has_tokens else logged
    ts = ws.column("predictions", "timestamp")
    uid = ws.column("predictions", "user_id")
    # Identifiers above are checked against the schema and quoted; no user value is interpolated.
    sql = (
        f"SELECT CAST(p.{ts} AS DATE) AS day, p.{ts} AS ts, CAST(p.{uid} AS VARCHAR) AS user_id, "
        f"{model} AS model_version, {cost} AS cost, {tin} AS tokens_in, {tout} AS tokens_out, "
        f"{tc} AS tokens_cached, {lat} AS latency_ms, {logged} AS logged "
        f"FROM {table} p {join} WHERE p.{ts} IS NOT NULL{' AND p.rowid % ? = 0' if sample else ''}"
    )
    return sql, notes


def _window(start: dt.date | None, end: dt.date | None) -> tuple[str, list[object]]:
    clauses, params = [], []
    if start is not None:
        clauses.append("day >= ?")
        params.append(start)
    if end is not None:
        clauses.append("day <= ?")
        params.append(end)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


#: Above this many predictions, distinct users use HyperLogLog and latency percentiles a random sample of
#: about a million rows: exact COUNT(DISTINCT) and percentiles per grouping set over tens of millions of
#: rows take tens of seconds on a small machine (tests/bench/bench_cost.py).
EXACT_LIMIT = 2_000_000

_SUMS = """
    count(*) AS predictions, {distinct} AS users,
    COALESCE(sum(cost), 0) AS cost, count(*) - count(cost) AS uncosted,
    count(*) FILTER (WHERE cost < 0) AS negative,
    COALESCE(sum(tokens_in), 0) AS tokens_in, COALESCE(sum(tokens_out), 0) AS tokens_out,
    COALESCE(sum(tokens_cached), 0) AS tokens_cached, count(tokens_in) AS with_tokens,
    {latency} AS lat_q
"""
_LATENCY = "quantile_cont(latency_ms, [0.5, 0.95, 0.99])"
_SETS = (
    "GROUP BY GROUPING SETS ((day, model_version), (day), (model_version), ()) ORDER BY day, model_version"
)


def _week_of(day: str) -> str:
    """The Monday of a date expression's calendar week (ISO weeks, as in date_trunc)."""
    return f"CAST(date_trunc('week', {day}) AS DATE)"


#: Rows kept (about) by the systematic sample that estimates latency percentiles on large logs.
LATENCY_SAMPLE_ROWS = 1_000_000


def load_costs(
    ws: Workspace,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    conversion_event: str = "purchase",
    exact: bool | None = None,
) -> CostData:
    """Fetch the cost aggregates in one pass over predictions (and one over events when present).

    Args:
        exact: exact distinct users and percentiles (``quantile_cont``); by default exact up to
            ``EXACT_LIMIT`` predictions, approximate above (HyperLogLog, a few percent off; percentiles of a
            systematic sample of about ``LATENCY_SAMPLE_ROWS`` rows).

    Raises:
        LiftboardError: no predictions (in the window), nothing to cost from, or negative costs.
    """
    base, notes = cost_sql(ws)
    where, params = _window(start, end)
    n_rows = int(ws.scalar(f"SELECT count(*) FROM {ws.table('predictions')}", purpose="the cost aggregates"))
    if exact is None:
        exact = n_rows <= EXACT_LIMIT
    sums = _SUMS.format(
        distinct="count(DISTINCT user_id)" if exact else "approx_count_distinct(user_id)",
        latency=_LATENCY if exact else "NULL::DOUBLE[] ",
    )
    head = "SELECT day, model_version, GROUPING(day) AS g_day, GROUPING(model_version) AS g_model"
    # Identifiers in `base` are schema-checked; dates are parameters.
    df = ws.query_df(
        f"WITH c AS ({base}) {head}, {sums} FROM c{where} {_SETS}", params, purpose="the cost aggregates"
    )
    if not exact:
        step = max(1, -(-n_rows // LATENCY_SAMPLE_ROWS))  # ceil: at most about LATENCY_SAMPLE_ROWS rows
        sampled, _ = cost_sql(ws, sample=True)
        lat = ws.query_df(
            f"WITH c AS ({sampled}) {head}, {_LATENCY} AS lat_q FROM c{where} {_SETS}",
            [step, *params],
            purpose="the cost aggregates",
        )
        keys = ["day", "model_version", "g_day", "g_model"]
        df = df.drop(columns=["lat_q"]).merge(lat, on=keys, how="left")
        notes.append(
            f"With {n_rows:,} predictions (over {EXACT_LIMIT:,}), active users are counted with HyperLogLog "
            f"(a few percent off) and latency percentiles come from every {step:,}th prediction "
            f"(about {n_rows // step:,}), to stay fast."
        )
    for i, q in enumerate(("p50", "p95", "p99")):
        df[f"lat_{q}"] = df["lat_q"].map(lambda v, i=i: _pick(v, i)).astype("float64")
    df = df.drop(columns=["lat_q"])
    total = df[(df.g_day == 1) & (df.g_model == 1)]
    if total.empty or int(total["predictions"].iloc[0]) == 0:
        raise LiftboardError(
            "There are no predictions to cost in this date range; load an inference log or widen the dates."
        )
    totals = total.iloc[0].drop(["day", "model_version", "g_day", "g_model"])
    if int(totals["negative"]) > 0:
        example = ws.scalar(
            f"WITH c AS ({base}) SELECT min(user_id) FROM c WHERE cost < 0", purpose="the cost aggregates"
        )
        raise LiftboardError(
            f"{int(totals['negative'])} predictions have a negative cost (e.g. for user {example}); "
            "costs must be zero or more: fix cost_usd in the file (or the prices) and load it again."
        )
    uncosted = int(totals["uncosted"])
    if uncosted == int(totals["predictions"]):
        raise LiftboardError(
            "No prediction has a cost: cost_usd is empty and no model version with tokens has a price; "
            "add prices per model version in the price table (Cost page or lb_prices)."
        )
    if uncosted:
        missing = df[(df.g_day == 1) & (df.g_model == 0) & (df.uncosted > 0)]["model_version"].tolist()
        notes.append(
            f"{uncosted:,} predictions have neither a logged cost nor a price for their model version "
            f"({', '.join(map(str, missing))}); they count as zero cost until you add a price."
        )
    drop = ["g_day", "g_model", "negative"]
    by_day_model = df[(df.g_day == 0) & (df.g_model == 0)].drop(columns=drop).reset_index(drop=True)
    by_day = (
        df[(df.g_day == 0) & (df.g_model == 1)].drop(columns=[*drop, "model_version"]).reset_index(drop=True)
    )
    by_model = df[(df.g_day == 1) & (df.g_model == 0)].drop(columns=[*drop, "day"]).reset_index(drop=True)
    for frame in (by_day_model, by_day):
        frame["day"] = pd.to_datetime(frame["day"]).dt.date
    by_day = _with_calendar(by_day)
    has_events = ws.has_table("events")
    if has_events:
        by_day = _add_events(ws, by_day, conversion_event)
    return CostData(
        by_day_model=by_day_model,
        by_day=by_day,
        by_model=by_model,
        totals=totals,
        prices=tuple(get_prices(ws)),
        has_events=has_events,
        conversion_event=conversion_event,
        notes=tuple(notes),
        window=(start, end),
        exact=exact,
    )


def _pick(v: object, i: int) -> float | None:
    # A list of three percentiles, or NULL (NA/None) when a group has no latency.
    return float(v[i]) if hasattr(v, "__getitem__") and not isinstance(v, str) else None


def _with_calendar(by_day: pd.DataFrame) -> pd.DataFrame:
    """Every calendar day between the first and last, days without predictions as zeros (not gaps)."""
    if by_day.empty:
        return by_day
    days = pd.date_range(by_day["day"].min(), by_day["day"].max(), freq="D").date
    full = pd.DataFrame({"day": days}).merge(by_day, on="day", how="left")
    counts = [c for c in full.columns if c not in ("day", "lat_p50", "lat_p95", "lat_p99")]
    full[counts] = full[counts].fillna(0)
    return full


def with_weeks(ws: Workspace, data: CostData) -> CostData:
    """``data`` with ``by_week`` filled in: users distinct per calendar week need their own scan.

    Asked for only when a weekly view is wanted, so the daily page pays nothing for it (a week grouping set
    in the main pass doubled its time on 20M predictions: tests/bench/bench_cost.py). Cost and predictions
    per week are sums of the days; users (and event-active users) are counted once a week.
    """
    if data.by_day.empty:
        return data
    base, _ = cost_sql(ws)
    start, end = data.window
    where, params = _window(start, end)
    # Weekly users are counted the way the days were: exactly, or estimated on a large log.
    distinct = "count(DISTINCT user_id)" if data.exact else "approx_count_distinct(user_id)"
    weeks = ws.query_df(
        f"WITH c AS ({base}) SELECT {_week_of('day')} AS week, {distinct} AS users FROM c{where} GROUP BY 1",
        params,
        purpose="the with weeks query",
    )
    weeks["week"] = pd.to_datetime(weeks["week"]).dt.date
    days = data.by_day.assign(week=[d - dt.timedelta(days=d.weekday()) for d in data.by_day["day"]])
    sums = [c for c in ("predictions", "cost", "conversions") if c in days.columns]
    per = days.groupby("week", as_index=False).agg(days=("day", "size"), **{c: (c, "sum") for c in sums})
    by_week = per.merge(weeks, on="week", how="left").fillna({"users": 0})
    if data.has_events:
        ts, uid = ws.column("events", "timestamp"), ws.column("events", "user_id")
        ev = ws.query_df(
            f"SELECT {_week_of(f'CAST({ts} AS DATE)')} AS week, "
            f"count(DISTINCT {uid}) AS event_users FROM {ws.table('events')} "
            f"WHERE {ts} >= ? AND {ts} < ? GROUP BY 1",
            [data.first_day, data.last_day + dt.timedelta(days=1)],
            purpose="the with weeks query",
        )
        ev["week"] = pd.to_datetime(ev["week"]).dt.date
        by_week = by_week.merge(ev, on="week", how="left").fillna({"event_users": 0})
    by_week = by_week.sort_values("week").reset_index(drop=True)
    return dataclasses.replace(data, by_week=by_week)


def _add_events(ws: Workspace, by_day: pd.DataFrame, conversion_event: str) -> pd.DataFrame:
    ts = ws.column("events", "timestamp")
    uid = ws.column("events", "user_id")
    ev = ws.column("events", "event")
    first, last = by_day["day"].min(), by_day["day"].max()
    rows = ws.query_df(
        f"SELECT CAST({ts} AS DATE) AS day, count(DISTINCT {uid}) AS event_users, "
        f"count(*) FILTER (WHERE {ev} = ?) AS conversions FROM {ws.table('events')} "
        f"WHERE {ts} >= ? AND {ts} < ? GROUP BY 1",
        [conversion_event, first, last + dt.timedelta(days=1)],
        purpose="the daily active users and conversions",
    )
    rows["day"] = pd.to_datetime(rows["day"]).dt.date
    out = by_day.merge(rows, on="day", how="left")
    out[["event_users", "conversions"]] = out[["event_users", "conversions"]].fillna(0)
    return out


def monthly_cost(cost: float, period: str = "day") -> float:
    """A cost per day (or per week) as the cost of an average month."""
    return cost * DAYS_PER_MONTH / PERIOD_DAYS[period]


def _ratio(num: float, den: float) -> float | None:
    return float(num) / float(den) if den else None


def unit_costs(data: CostData, by_day: pd.DataFrame | None = None) -> UnitCosts:
    """Cards from the per-day table (the measured one, or a what-if's with the same columns)."""
    days = data.by_day if by_day is None else by_day
    cost = float(days["cost"].sum())
    preds = float(days["predictions"].sum())
    user_days = int(days["users"].sum())
    recent = days.tail(RUN_RATE_DAYS)
    daily_recent = float(recent["cost"].mean()) if len(recent) else None
    event_days = float(days["event_users"].sum()) if "event_users" in days else 0.0
    conversions = float(days["conversions"].sum()) if "conversions" in days else 0.0
    return UnitCosts(
        total_cost=cost,
        predictions=int(round(preds)),
        user_days=user_days,
        distinct_users=int(data.totals["users"]),
        cost_per_prediction=_ratio(cost, preds),
        cost_per_active_user=_ratio(cost, user_days),
        cost_per_event_active_user=_ratio(cost, event_days),
        cost_per_conversion=_ratio(cost, conversions),
        predictions_per_active_user=_ratio(preds, user_days),
        daily_cost_recent=daily_recent,
        monthly_run_rate=None if daily_recent is None else monthly_cost(daily_recent),
        mean_dau_recent=float(recent["users"].mean()) if len(recent) else None,
    )


def per_user_by_model(data: CostData) -> pd.DataFrame:
    """Cost per active user per day, by model version (USD per user-day)."""
    df = data.by_day_model[["day", "model_version", "cost", "users", "predictions"]].copy()
    df["cost_per_user"] = df["cost"] / df["users"].where(df["users"] > 0)
    df["cost_per_prediction"] = df["cost"] / df["predictions"].where(df["predictions"] > 0)
    return df


def top_users(ws: Workspace, *, limit: int = 20) -> pd.DataFrame:
    """The users who cost the most, with their share of all spend and their multiple of the median user."""
    base, _ = cost_sql(ws)
    return ws.query_df(
        f"WITH c AS ({base}), u AS (SELECT user_id, sum(cost) AS cost, count(*) AS predictions "
        "FROM c GROUP BY user_id) "
        "SELECT user_id, cost, predictions, cost / NULLIF(sum(cost) OVER (), 0) AS share, "
        "cost / NULLIF(median(cost) OVER (), 0) AS x_median FROM u ORDER BY cost DESC, user_id LIMIT ?",
        [int(limit)],
        purpose="the top cost users",
    )

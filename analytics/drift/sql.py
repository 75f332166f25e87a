"""The SQL side of drift: which columns are features, reference quantiles, per-chunk histograms and counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from analytics.drift.model import Chunk
from analytics.errors import LiftboardError
from analytics.workspace import Workspace, quote_ident

OUTCOME_NAME = "feedback acceptance"
MAX_CATEGORIES = 50  # a text column with more distinct values is free text or an identifier: skipped
QUANTILE_ROWS = 250_000  # reference quantiles come from a systematic sample of about this many rows
#: A numeric column with at most this many distinct values is counted value by value (GROUP BY, cheaper
#: than a histogram aggregate) and binned afterwards; others go through histogram(x, boundaries).
MAX_DISCRETE = 2_000
_NUMERIC = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "FLOAT",
    "DOUBLE",
    "REAL",
    "DECIMAL",
)
_IDS = {"prediction_id", "user_id", "feedback_id", "session_id", "request_id"}


@dataclass(frozen=True)
class ColumnPlan:
    numeric: list[str]
    categorical: list[str]
    skipped: list[tuple[str, str]]
    outcome: bool
    discrete: frozenset[str] = frozenset()  # numeric columns with few distinct values


@dataclass(frozen=True)
class NumericStats:
    n: int  # rows in the reference window
    count: int  # non-null values
    std: float | None
    lo: float
    hi: float
    quantiles: list[float]


@dataclass(frozen=True)
class ReferenceStats:
    n: int
    numeric: dict[str, NumericStats]


@dataclass
class Counts:
    """Everything the histogram queries return, keyed by feature and chunk key."""

    chunks: list[Chunk]
    n_rows: dict[tuple[str, bool], int] = field(default_factory=dict)  # rows per (chunk, in reference)
    missing: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)
    hists: dict[str, dict[tuple[str, bool], dict[float, int]]] = field(default_factory=dict)
    edges: dict[str, np.ndarray] = field(default_factory=dict)
    ranges: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    categories: dict[str, tuple[dict[str, int], dict[str, dict[str, int]]]] = field(default_factory=dict)
    outcome_name: str | None = None

    def _vector(self, name: str, maps: list[dict[float, int]], size: int) -> np.ndarray:
        edges = self.edges[name]
        keys = np.fromiter((k for m in maps for k in (m or {})), dtype=float)
        weights = np.fromiter((n for m in maps for n in (m or {}).values()), dtype=float)
        # A histogram() key is its bin's upper boundary (inf for the last bin); a raw value of a discrete
        # feature falls in the first bin whose upper boundary is >= it: one lookup serves both.
        index = np.searchsorted(edges, keys, side="left")
        return np.bincount(index, weights=weights, minlength=size)[:size]

    def ref_hist(self, name: str, size: int) -> np.ndarray:
        return self._vector(name, [m for (_, is_ref), m in self.hists[name].items() if is_ref], size)

    def chunk_hist(self, name: str, key: str, size: int) -> np.ndarray:
        return self._vector(name, [m for (k, _), m in self.hists[name].items() if k == key], size)


def log_range(ws: Workspace) -> tuple[datetime, datetime, int]:
    """First and last timestamp of the predictions log, and its row count."""
    table = ws.table("predictions")
    ts = ws.column("predictions", "timestamp")
    lo, hi, n = ws.query(
        f"SELECT min({ts}), max({ts}), count(*) FROM {table} WHERE {ts} IS NOT NULL",
        purpose="the time range of the predictions log",
    )[0]
    if not n:
        raise LiftboardError(
            "The predictions table has no rows with a timestamp, so there is no time range to cut into "
            "chunks; load a predictions file whose timestamp column is filled."
        )
    return lo, hi, int(n)


def classify_columns(
    ws: Workspace, features: tuple[str, ...] | None = None, reference: tuple[datetime, datetime] | None = None
) -> ColumnPlan:
    """Numeric and categorical feature columns of the predictions table; the rest skipped with a reason."""
    table = ws.table("predictions")
    cols = ws.columns("predictions")
    wanted = list(cols)
    if features is not None:
        for name in features:
            if name != OUTCOME_NAME:
                ws.column("predictions", name)
        wanted = [c for c in cols if c in features]
    numeric, text, categorical, skipped = [], [], [], []
    for name in wanted:
        dtype = cols[name].upper()
        if name == "timestamp":
            continue
        if name in _IDS or name.endswith("_id"):
            skipped.append((name, "identifier"))
        elif dtype.startswith(_NUMERIC):
            numeric.append(name)
        elif dtype == "BOOLEAN":
            categorical.append(name)
        elif dtype == "VARCHAR":
            text.append(name)
        else:
            skipped.append((name, f"{dtype.lower()} column (neither numeric nor categorical)"))
    discrete: set[str] = set()
    if text or numeric:
        exprs = ", ".join(f"approx_count_distinct({quote_ident(c)})" for c in text + numeric)
        # In the reference window (features are what the reference knows), on a systematic sample: enough
        # to tell free text from categories and few values from many, without reading the whole log.
        n = ws.scalar(f"SELECT count(*) FROM {table}", purpose="the feature column profile")
        step = max(1, -(-int(n) // QUANTILE_ROWS))
        where, params = "rowid % ? = 0", [step]
        if reference is not None:
            where, params = f'"timestamp" >= ? AND "timestamp" < ? AND {where}', [*reference, step]
        sql = f"SELECT {exprs} FROM {table} WHERE {where}"  # names checked against the schema
        distinct = ws.query(sql, params, purpose="the feature column profile")[0]
        discrete = {c for c, k in zip(numeric, distinct[len(text) :], strict=True) if k and k <= MAX_DISCRETE}
        for name, k in zip(text, distinct[: len(text)], strict=True):
            if k is not None and k > MAX_CATEGORIES:
                skipped.append((name, f"free text or identifier: about {k:,} distinct values"))
            else:
                categorical.append(name)
    fb = ws.columns("feedback") if ws.has_table("feedback") else {}
    outcome = "prediction_id" in fb and "signal" in fb and "prediction_id" in cols
    outcome = outcome and (features is None or OUTCOME_NAME in features)
    return ColumnPlan(numeric, categorical, skipped, outcome, frozenset(discrete))


def _id_sample(step: int) -> str:
    """A condition keeping about 1/step of the predictions, the same ones on every engine.

    The first hex digits of md5(prediction_id) fall below 65536/step: DuckDB and Spark compute the same
    md5, so a lake's drift report uses the very rows (and bin edges) the embedded engine uses, where a
    stored-row sample (DuckDB's rowid) has no counterpart on Spark. The limit is computed here, not input.
    """
    return f"md5(CAST(prediction_id AS VARCHAR)) < '{max(1, 65536 // step):04x}'"


def fetch_reference_stats(
    ws: Workspace, plan: ColumnPlan, reference: tuple[datetime, datetime], probs: list[float]
) -> ReferenceStats:
    """Count, std, min and max per numeric feature over every reference row, and its quantiles.

    Quantiles are quantile_disc (values that occur), over every reference row up to ``QUANTILE_ROWS`` rows,
    else over a sample of about that size chosen by the prediction's id (``_id_sample``): bin edges then sit
    within ~0.1 percentage point of the exact quantiles, while every count computed with them stays exact.
    """
    table = ws.table("predictions")
    where = 'WHERE "timestamp" >= ? AND "timestamp" < ?'
    exprs = ["count(*)"]
    for name in plan.numeric:
        x = f"CAST({quote_ident(name)} AS DOUBLE)"
        exprs += [f"count({x})", f"stddev_samp({x})", f"min({x})", f"max({x})"]
    row = ws.query(
        f"SELECT {', '.join(exprs)} FROM {table} {where}",
        list(reference),
        purpose="the reference window's statistics",
    )[0]
    n = int(row[0])
    quantiles: list[Any] = [None] * len(plan.numeric)
    if plan.numeric and n:
        step = max(1, -(-n // QUANTILE_ROWS))
        qs = ", ".join(f"quantile_disc(CAST({quote_ident(c)} AS DOUBLE), ?::DOUBLE[])" for c in plan.numeric)
        sample = f"{where} AND {_id_sample(step)}" if step > 1 else where
        params = [*([probs] * len(plan.numeric)), *reference]
        quantiles = list(
            ws.query(
                f"SELECT {qs} FROM {table} {sample}", params, purpose="the reference window's statistics"
            )[0]
        )
    out = {}
    for i, name in enumerate(plan.numeric):
        count, std, lo, hi = row[1 + 4 * i : 5 + 4 * i]
        std = None if std is None or not np.isfinite(std) else float(std)
        q = quantiles[i]
        out[name] = NumericStats(n, int(count), std, lo, hi, list(q) if q else [])
    return ReferenceStats(n, out)


def _base(ws: Workspace, plan: ColumnPlan, chunk: str | int, with_pid: bool = False) -> tuple[str, list[Any]]:
    """The chunked view of the log; numeric features as DOUBLE n0…, categorical ones as VARCHAR c0…."""
    table = ws.table("predictions")
    if isinstance(chunk, int):
        key, params = (
            'CAST((row_number() OVER (ORDER BY "timestamp", prediction_id) - 1) // ? AS BIGINT)',
            [chunk],
        )
        if "prediction_id" not in ws.columns("predictions"):
            key = 'CAST((row_number() OVER (ORDER BY "timestamp") - 1) // ? AS BIGINT)'
    else:
        key, params = f"date_trunc('{chunk}', \"timestamp\")", []
    cols = [f"CAST({quote_ident(n)} AS DOUBLE) AS n{i}" for i, n in enumerate(plan.numeric)]
    cols += [f"CAST({quote_ident(n)} AS VARCHAR) AS c{i}" for i, n in enumerate(plan.categorical)]
    if with_pid:
        cols.append("prediction_id AS pid")
    sql = (
        f'SELECT {key} AS chunk, ("timestamp" >= ? AND "timestamp" < ?) AS is_ref, "timestamp" AS ts'
        f'{"".join(", " + c for c in cols)} FROM {table} WHERE "timestamp" IS NOT NULL'
    )
    return sql, params


def _key(chunk: str | int, value: Any) -> str:
    return value.strftime("%Y-%m-%d") if not isinstance(chunk, int) else f"#{int(value) + 1}"


def fetch_counts(
    ws: Workspace,
    plan: ColumnPlan,
    reference: tuple[datetime, datetime],
    chunk: str | int,
    edges: dict[str, np.ndarray],
) -> Counts:
    """Per (chunk, in-reference) counts: one scan for row counts and numeric histograms, one for categories."""
    base, key_params = _base(ws, plan, chunk)
    by_value = [n for n in plan.numeric if n in plan.discrete and n in edges]
    exprs, hist_params = ["chunk", "is_ref", "count(*)", "min(ts)", "max(ts)"], []
    for i, name in enumerate(plan.numeric):
        if name in by_value:  # counted, bounded and binned from its value counts instead
            exprs += ["NULL"] * 4
            continue
        exprs += [f"count(n{i})", f"min(n{i})", f"max(n{i})"]
        if name in edges:
            exprs.append(f"histogram(n{i}, ?::DOUBLE[])")
            hist_params.append(edges[name].tolist())
        else:
            exprs.append("NULL")
    exprs += [f"count(c{i})" for i in range(len(plan.categorical))]
    sql = f"WITH base AS ({base}) SELECT {', '.join(exprs)} FROM base GROUP BY chunk, is_ref ORDER BY chunk"
    rows = ws.query(sql, [*key_params, *reference, *hist_params], purpose="the drift histograms")

    by_chunk: dict[str, dict[str, Any]] = {}
    counts = Counts(chunks=[], edges=dict(edges))
    for name in plan.numeric + plan.categorical:
        counts.missing[name] = {}
    for name in plan.numeric:
        counts.hists[name], counts.ranges[name] = {}, {}
    for row in rows:
        k = _key(chunk, row[0])
        c = by_chunk.setdefault(k, {"raw": row[0], "n": 0, "ref": True, "lo": row[3], "hi": row[4]})
        c["n"] += row[2]
        c["ref"] = c["ref"] and bool(row[1])
        c["lo"], c["hi"] = min(c["lo"], row[3]), max(c["hi"], row[4])
        counts.n_rows[(k, bool(row[1]))] = int(row[2])
        for i, name in enumerate(plan.numeric):
            if name in by_value:
                continue
            cnt, lo, hi, hist = row[5 + 4 * i : 9 + 4 * i]
            _add(counts.missing[name], k, cnt, row[2])
            if row[1]:
                _add(counts.missing[name], "__reference__", cnt, row[2])
            counts.hists[name][(k, bool(row[1]))] = hist or {}
            if lo is not None:
                old = counts.ranges[name].get(k, (lo, hi))
                counts.ranges[name][k] = (min(old[0], lo), max(old[1], hi))
        off = 5 + 4 * len(plan.numeric)
        for j, name in enumerate(plan.categorical):
            _add(counts.missing[name], k, row[off + j], row[2])
            if row[1]:
                _add(counts.missing[name], "__reference__", row[off + j], row[2])
    for k, c in by_chunk.items():
        if isinstance(chunk, int):
            start, end = c["lo"], c["hi"]
        else:
            start = c["raw"]
            end = start + timedelta(days=7 if chunk == "week" else 1)
        counts.chunks.append(Chunk(k, start, end, int(c["n"]), "reference" if c["ref"] else "analysis"))

    if by_value:
        _fetch_values(ws, plan, reference, chunk, counts, by_value)
    if plan.categorical:
        _fetch_categories(ws, plan, reference, chunk, counts)
    if plan.outcome:
        _fetch_outcome(ws, plan, reference, chunk, counts)
    return counts


def _fetch_values(
    ws: Workspace, plan: ColumnPlan, reference, chunk, counts: Counts, names: list[str]
) -> None:
    """Counts per distinct value of low-cardinality numeric features; binned like histogram() in Python."""
    base, key_params = _base(ws, plan, chunk)
    parts = []
    for name in names:
        i = plan.numeric.index(name)
        parts.append(
            f"SELECT {i} AS f, chunk, is_ref, n{i} AS v, count(*) FROM base WHERE n{i} IS NOT NULL "
            "GROUP BY chunk, is_ref, v"
        )
    rows = ws.query(
        f"WITH base AS ({base}) " + " UNION ALL ".join(parts),
        [*key_params, *reference],
        purpose="the drift value counts",
    )
    keys: dict[Any, str] = {}
    for f, raw, is_ref, value, n in rows:
        k = keys.get(raw) or keys.setdefault(raw, _key(chunk, raw))
        hist = counts.hists[plan.numeric[f]].setdefault((k, bool(is_ref)), {})
        hist[value] = hist.get(value, 0) + int(n)
    for name in names:
        for (k, is_ref), n_all in counts.n_rows.items():
            hist = counts.hists[name].setdefault((k, is_ref), {})
            nonnull = sum(hist.values())
            _add(counts.missing[name], k, nonnull, n_all)
            if is_ref:
                _add(counts.missing[name], "__reference__", nonnull, n_all)
            if hist:
                lo, hi = min(hist), max(hist)
                old = counts.ranges[name].get(k, (lo, hi))
                counts.ranges[name][k] = (min(old[0], lo), max(old[1], hi))


def _add(d: dict[str, tuple[int, int]], key: str, nonnull: int, n: int) -> None:
    a, b = d.get(key, (0, 0))
    d[key] = (a + int(nonnull), b + int(n))


def _fetch_categories(ws: Workspace, plan: ColumnPlan, reference, chunk, counts: Counts) -> None:
    base, key_params = _base(ws, plan, chunk)
    names = [f"c{i}" for i in range(len(plan.categorical))]
    grouping = ", ".join(f"GROUPING({c})" for c in names)
    sets = ", ".join(f"(chunk, is_ref, {c})" for c in names)
    sql = (
        f"WITH base AS ({base}) SELECT chunk, is_ref, {grouping}, {', '.join(names)}, count(*) "
        f"FROM base GROUP BY GROUPING SETS ({sets})"
    )
    rows = ws.query(sql, [*key_params, *reference], purpose="the drift category counts")
    m = len(names)
    for name in plan.categorical:
        counts.categories[name] = ({}, {})
    for row in rows:
        k = _key(chunk, row[0])
        for j, name in enumerate(plan.categorical):
            if row[2 + j] == 0:  # this row belongs to the grouping set of feature j
                value, n = row[2 + m + j], int(row[-1])
                if value is not None:
                    _tally(counts.categories[name], k, bool(row[1]), value, n)


def _tally(
    store: tuple[dict[str, int], dict[str, dict[str, int]]], key: str, is_ref: bool, value: str, n: int
) -> None:
    ref, by_chunk = store
    if is_ref:
        ref[value] = ref.get(value, 0) + n
    ref.setdefault(value, 0)
    chunk = by_chunk.setdefault(key, {})
    chunk[value] = chunk.get(value, 0) + n


def _fetch_outcome(ws: Workspace, plan: ColumnPlan, reference, chunk, counts: Counts) -> None:
    """Acceptance of each prediction that got feedback (any accept signal), by the prediction's chunk."""
    empty = ColumnPlan([], [], [], True)
    base, key_params = _base(ws, empty, chunk, with_pid=True)
    sql = (
        f"WITH base AS ({base}), fb AS (SELECT prediction_id AS pid, "
        "max(CASE WHEN signal = 'accept' THEN 1 ELSE 0 END) AS acc FROM feedback "
        "WHERE prediction_id IS NOT NULL GROUP BY prediction_id) "
        "SELECT chunk, is_ref, acc, count(*) FROM base JOIN fb ON base.pid = fb.pid GROUP BY chunk, is_ref, acc"
    )
    rows = ws.query(sql, [*key_params, *reference], purpose="the drift outcome counts")
    if not rows:
        return
    store: tuple[dict[str, int], dict[str, dict[str, int]]] = ({}, {})
    for raw, is_ref, acc, n in rows:
        _tally(store, _key(chunk, raw), bool(is_ref), "accepted" if acc else "not accepted", int(n))
    counts.categories[OUTCOME_NAME] = store
    counts.outcome_name = OUTCOME_NAME
    counts.missing[OUTCOME_NAME] = {}

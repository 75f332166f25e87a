"""The seeded demo workspace: two experiments, an inference log with a drift, and feedback with known truth."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from analytics.access import Actor, local_actor, require
from analytics.errors import LiftboardError
from analytics.store import Workspace, open_workspace

START = datetime(2026, 9, 1)
DAYS = 35  # 2026-09-01 .. 2026-10-05
EXPOSURE_DAYS = (7, 27)  # exposures from 2026-09-08 to 2026-09-28, inclusive
DRIFT_DAY = 21  # 2026-09-22
EVENTS = ("session_start", "view", "add_to_cart", "purchase", "share")
CATEGORIES = ("books", "electronics", "fashion", "home", "toys")
DAY = 86_400


@dataclass(frozen=True)
class ModelTruth:
    """A model version's prices (USD per 1k tokens) and behaviour."""

    input_per_1k: float
    output_per_1k: float
    cached_per_1k: float
    latency_median_ms: float
    accept_boost: float


@dataclass(frozen=True)
class DemoTruth:
    """The parameters the demo was generated from: what a correct analysis must recover."""

    start: datetime = START
    end: datetime = START + timedelta(days=DAYS)
    drift_date: datetime = START + timedelta(days=DRIFT_DAY)
    # P(purchase within 7 days of exposure), by experiment and variant (population means).
    conversion_7d: dict[str, dict[str, float]] = field(
        default_factory=lambda: {
            "ai_recs": {"control": 0.100, "ai": 0.108},
            "model_size": {"control": 0.100, "small": 0.100, "large": 0.106},
        }
    )
    # P(any event on day 7 after exposure).
    retention_7d: dict[str, dict[str, float]] = field(
        default_factory=lambda: {
            "ai_recs": {"control": 0.300, "ai": 0.315},
            "model_size": {"control": 0.300, "small": 0.300, "large": 0.300},
        }
    )
    purchase_value_mean: float = 40.0  # USD, every arm: revenue per user = conversion × 40
    shares_7d_mean: float = 0.25  # count:share:7d — the true null, every arm
    split: dict[str, dict[str, float]] = field(
        default_factory=lambda: {
            "ai_recs": {"control": 0.5, "ai": 0.5},
            "model_size": {"control": 1 / 3, "small": 1 / 3, "large": 1 / 3},
        }
    )
    models: dict[str, ModelTruth] = field(
        default_factory=lambda: {
            "recs-v1": ModelTruth(0.0005, 0.0015, 0.00025, 400.0, 0.0),
            "small-v1": ModelTruth(0.00015, 0.0006, 0.000075, 250.0, -0.02),
            "large-v1": ModelTruth(0.003, 0.015, 0.0015, 900.0, 0.06),
        }
    )
    arm_model: dict[str, str] = field(
        default_factory=lambda: {"ai": "recs-v1", "small": "small-v1", "large": "large-v1"}
    )
    double_exposed_per_experiment: int = 20
    accept_rate_before_drift: float = 0.62
    accept_drop_after_drift: float = 0.10


TRUTH = DemoTruth()

EXPERIMENT_CONFIG = {
    "ai_recs": {
        "control": "control",
        "primary": "conversion:purchase:7d",
        "secondary": ["retention:7d", "mean:purchase:7d", "count:share:7d"],
        "guardrails": ["cost:7d"],
        "split": TRUTH.split["ai_recs"],
        "description": "AI recommendations on the home page vs the rule-based carousel.",
    },
    "model_size": {
        "control": "control",
        "primary": "conversion:purchase:7d",
        "secondary": ["retention:7d", "mean:purchase:7d"],
        "guardrails": ["cost:7d"],
        "split": TRUTH.split["model_size"],
        "description": "Which model powers the assistant: none, a small model or a large one.",
    },
}

Progress = Callable[[float, str], None]


def _noop(_: float, __: str) -> None:
    return None


def _ts(seconds: np.ndarray) -> pa.Array:
    """Seconds since START as an Arrow timestamp column (microseconds, naive UTC)."""
    micros = np.round(np.asarray(seconds, dtype=float) * 1_000_000).astype("int64") + _START_US
    return pa.array(micros, type=pa.timestamp("us"))


_START_US = int((START - datetime(1970, 1, 1)).total_seconds() * 1_000_000)


def _users(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    m = rng.uniform(0.3, 1.7, n)  # engagement multiplier, mean exactly 1
    group = rng.choice(3, n, p=[0.55, 0.40, 0.05])  # ai_recs, model_size, none
    ai_arm = rng.integers(0, 2, n)  # 0 control, 1 ai
    ms_arm = rng.integers(0, 3, n)  # 0 control, 1 small, 2 large
    day = rng.integers(EXPOSURE_DAYS[0], EXPOSURE_DAYS[1] + 1, n)
    exposed_at = day * DAY + rng.integers(7 * 3600, 23 * 3600, n).astype(float)
    return {"m": m, "group": group, "ai_arm": ai_arm, "ms_arm": ms_arm, "exposed_at": exposed_at}


def _arm_params(u: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-user conversion and retention probabilities and the AI model index (-1 for none)."""
    n = len(u["m"])
    conv = np.full(n, np.nan)
    ret = np.full(n, np.nan)
    model = np.full(n, -1)
    tr = TRUTH
    in_ai = u["group"] == 0
    in_ms = u["group"] == 1
    ai_names = ("control", "ai")
    ms_names = ("control", "small", "large")
    for k, name in enumerate(ai_names):
        sel = in_ai & (u["ai_arm"] == k)
        conv[sel] = tr.conversion_7d["ai_recs"][name]
        ret[sel] = tr.retention_7d["ai_recs"][name]
    for k, name in enumerate(ms_names):
        sel = in_ms & (u["ms_arm"] == k)
        conv[sel] = tr.conversion_7d["model_size"][name]
        ret[sel] = tr.retention_7d["model_size"][name]
    model[in_ai & (u["ai_arm"] == 1)] = 0
    model[in_ms & (u["ms_arm"] == 1)] = 1
    model[in_ms & (u["ms_arm"] == 2)] = 2
    return conv * u["m"], ret * u["m"], model


def _events(rng: np.random.Generator, u: dict[str, np.ndarray], conv: np.ndarray, ret: np.ndarray):
    """Event arrays (user index, seconds, event code, value) for one chunk of users."""
    n = len(u["m"])
    m = u["m"]
    active = rng.random((n, DAYS)) < (0.12 * m)[:, None]
    au, ad = np.nonzero(active)
    start = ad * DAY + rng.integers(6 * 3600, 22 * 3600, len(au))
    views = rng.poisson(2.0 * m[au]) + 1
    cols_u = [au, np.repeat(au, views)]
    cols_t = [start.astype(float), np.repeat(start, views) + rng.integers(5, 1800, views.sum())]
    cols_e = [np.zeros(len(au), np.int8), np.ones(views.sum(), np.int8)]
    for code, prob in ((2, 0.25 * np.ones(len(au))), (3, 0.03 * m[au]), (4, 0.05 * np.ones(len(au)))):
        hit = rng.random(len(au)) < prob
        cols_u.append(au[hit])
        cols_t.append(start[hit] + rng.integers(60, 3600, hit.sum()).astype(float))
        cols_e.append(np.full(hit.sum(), code, np.int8))
    uu = np.concatenate(cols_u)
    tt = np.concatenate(cols_t).astype(float)
    ee = np.concatenate(cols_e)

    # Exposed users: the experiment decides purchases and shares inside the 7-day window and activity on day 7.
    exposed = ~np.isnan(conv)
    a = u["exposed_at"][uu]
    in_window = exposed[uu] & (tt >= a) & (tt < a + 7 * DAY) & ((ee == 3) | (ee == 4))
    in_ret_day = exposed[uu] & (tt >= a + 7 * DAY) & (tt < a + 8 * DAY)
    keep = ~(in_window | in_ret_day)
    uu, tt, ee = uu[keep], tt[keep], ee[keep]

    ex = np.nonzero(exposed)[0]
    a = u["exposed_at"][ex]
    parts_u, parts_t, parts_e = (
        [uu, ex, ex],
        [tt, a, a + 30],
        [ee, np.zeros(len(ex), np.int8), np.ones(len(ex), np.int8)],
    )
    converted = rng.random(len(ex)) < conv[ex]
    cu = ex[converted]
    parts_u.append(cu)
    parts_t.append(a[converted] + rng.uniform(60, 7 * DAY - 60, len(cu)))
    parts_e.append(np.full(len(cu), 3, np.int8))
    shares = rng.poisson(TRUTH.shares_7d_mean * m[ex])
    su = np.repeat(ex, shares)
    parts_u.append(su)
    parts_t.append(np.repeat(a, shares) + rng.uniform(60, 7 * DAY - 60, len(su)))
    parts_e.append(np.full(len(su), 4, np.int8))
    retained = rng.random(len(ex)) < ret[ex]
    ru = ex[retained]
    parts_u.append(ru)
    parts_t.append(a[retained] + 7 * DAY + rng.uniform(60, DAY - 60, len(ru)))
    parts_e.append(np.zeros(len(ru), np.int8))

    uu = np.concatenate(parts_u)
    tt = np.concatenate(parts_t)
    ee = np.concatenate(parts_e)
    inside = tt < DAYS * DAY  # the log ends on 2026-10-05
    uu, tt, ee = uu[inside], tt[inside], ee[inside]
    # Purchase value: lognormal with mean exactly 40 USD (sigma 0.6).
    sigma = 0.6
    value = np.where(
        ee == 3,
        np.round(rng.lognormal(np.log(TRUTH.purchase_value_mean) - sigma**2 / 2, sigma, len(ee)), 2),
        np.nan,
    )
    return uu, tt, ee, value


def _predictions(rng: np.random.Generator, u: dict[str, np.ndarray], model: np.ndarray):
    """Prediction arrays for users in AI arms, from their exposure on active days."""
    m = u["m"]
    ai_users = np.nonzero(model >= 0)[0]
    if len(ai_users) == 0:
        return None
    active = rng.random((len(ai_users), DAYS)) < (0.25 * m[ai_users])[:, None]
    iu, d = np.nonzero(active)
    counts = rng.poisson(3.0, len(iu))
    pu = np.repeat(ai_users[iu], counts)
    pt = np.repeat(d * DAY, counts) + rng.uniform(6 * 3600, 23.5 * 3600, counts.sum())
    keep = pt >= u["exposed_at"][pu]
    pu, pt = pu[keep], pt[keep]
    k = len(pu)
    mv = model[pu]
    drifted = pt >= DRIFT_DAY * DAY
    base = np.array([0.25, 0.20, 0.20, 0.20, 0.15])
    after = np.array([0.15, 0.45, 0.15, 0.15, 0.10])
    cat = np.where(drifted, rng.choice(5, k, p=after), rng.choice(5, k, p=base)).astype(np.int8)
    qlen = np.where(drifted, rng.gamma(6.0, 2.5, k), rng.gamma(6.0, 2.0, k)).round().astype(np.int64) + 1
    depth = rng.geometric(1 / 3, k).astype(np.int64)
    score = np.where(drifted, rng.beta(4, 4, k), rng.beta(5, 3, k)).round(4)
    tokens_in = (400 + 25 * qlen + rng.integers(0, 200, k)).astype(np.int64)
    tokens_cached = (tokens_in * rng.choice([0.0, 0.5], k, p=[0.6, 0.4])).astype(np.int64)
    tokens_out = (60 + rng.poisson(90, k)).astype(np.int64)
    names = list(TRUTH.models)
    pin = np.array([TRUTH.models[x].input_per_1k for x in names])[mv]
    pout = np.array([TRUTH.models[x].output_per_1k for x in names])[mv]
    pcache = np.array([TRUTH.models[x].cached_per_1k for x in names])[mv]
    cost = ((tokens_in - tokens_cached) * pin + tokens_cached * pcache + tokens_out * pout) / 1000.0
    lat_med = np.array([TRUTH.models[x].latency_median_ms for x in names])[mv]
    latency = np.round(lat_med * rng.lognormal(0, 0.35, k), 1)
    order = np.argsort(pt, kind="stable")
    return {
        "uidx": pu[order],
        "t": pt[order],
        "model": mv[order],
        "category": cat[order],
        "query_length": qlen[order],
        "session_depth": depth[order],
        "score": score[order],
        "tokens_in": tokens_in[order],
        "tokens_out": tokens_out[order],
        "tokens_cached": tokens_cached[order],
        "cost": cost[order],
        "latency": latency[order],
    }


def _create_tables(cur) -> None:
    cur.execute(
        """
        CREATE TABLE users (user_id VARCHAR, country VARCHAR, platform VARCHAR, plan VARCHAR, signup_date DATE);
        CREATE TABLE events (user_id VARCHAR, "timestamp" TIMESTAMP, event VARCHAR, value DOUBLE);
        CREATE TABLE assignments (user_id VARCHAR, experiment VARCHAR, variant VARCHAR, "timestamp" TIMESTAMP);
        CREATE TABLE predictions (prediction_id VARCHAR, user_id VARCHAR, "timestamp" TIMESTAMP,
            model_version VARCHAR, score DOUBLE, latency_ms DOUBLE, cost_usd DOUBLE, tokens_in BIGINT,
            tokens_out BIGINT, tokens_cached BIGINT, category VARCHAR, query_length BIGINT,
            session_depth BIGINT, input_text VARCHAR, output_text VARCHAR);
        CREATE TABLE feedback (feedback_id VARCHAR, prediction_id VARCHAR, user_id VARCHAR, "timestamp" TIMESTAMP,
            signal VARCHAR, rating DOUBLE, comment VARCHAR, corrected_output VARCHAR);
        """
    )


_UID = "'u' || lpad(CAST(uidx AS VARCHAR), 7, '0')"


def populate_demo(
    ws: Workspace, *, actor: Actor | None, users: int = 50_000, seed: int = 7, progress: Progress = _noop
) -> DemoTruth:
    """Write the demo tables into an open workspace that has no data tables yet, in one transaction.

    Loading data needs the editor role; ``build_demo`` (a new file) acts as the file's local admin.
    """
    require(actor, "load")
    if users < 1000:
        raise LiftboardError(
            "The demo needs at least 1,000 users (--users 1000) to have every arm populated."
        )
    if ws.data_tables():
        raise LiftboardError(
            f"The workspace {ws.path} already holds data ({', '.join(ws.data_tables())}); "
            "build the demo into a new file with --db, or delete the datasets first."
        )
    rng = np.random.default_rng(seed)
    chunk = 200_000
    pred_offset = 0
    t0 = time.perf_counter()
    with ws.transaction() as cur:
        _create_tables(cur)
        for lo in range(0, users, chunk):
            hi = min(users, lo + chunk)
            progress(lo / users * 0.9, f"Generating users {lo:,}–{hi:,}")
            u = _users(rng, hi - lo)
            conv, ret, model = _arm_params(u)
            n = hi - lo
            uidx = np.arange(lo, hi) + 1
            users_tbl = pa.table(
                {
                    "uidx": uidx,
                    "country": rng.choice(
                        ["US", "GB", "DE", "FR", "IN", "BR", "JP", "CA"],
                        n,
                        p=[0.3, 0.12, 0.1, 0.1, 0.15, 0.1, 0.08, 0.05],
                    ),
                    "platform": rng.choice(["ios", "android", "web"], n, p=[0.35, 0.4, 0.25]),
                    "plan": rng.choice(["free", "pro"], n, p=[0.8, 0.2]),
                    "signup_offset": rng.integers(0, 365, n),
                }
            )
            cur.register("demo_users", users_tbl)
            cur.execute(
                f"INSERT INTO users SELECT {_UID}, country, platform, plan, "
                "DATE '2026-09-01' - CAST(signup_offset AS INTEGER) FROM demo_users"
            )
            cur.unregister("demo_users")

            # Assignments: first exposure, some later re-exposures (same arm) and a few users in two arms.
            grp = u["group"]
            exp_sel = grp < 2
            variant = np.where(
                grp == 0,
                np.array(["control", "ai"])[u["ai_arm"]],
                np.array(["control", "small", "large"])[u["ms_arm"]],
            )
            experiment = np.where(grp == 0, "ai_recs", "model_size")
            idx = np.nonzero(exp_sel)[0]
            rex = idx[rng.random(len(idx)) < 0.3]
            a_u = [idx, rex]
            a_t = [u["exposed_at"][idx], u["exposed_at"][rex] + rng.uniform(DAY, 5 * DAY, len(rex))]
            a_v = [variant[idx], variant[rex]]
            if lo == 0:
                for g, other in (
                    (0, {"control": "ai", "ai": "control"}),
                    (1, {"control": "large", "small": "control", "large": "small"}),
                ):
                    dbl = np.nonzero(grp == g)[0][: TRUTH.double_exposed_per_experiment]
                    a_u.append(dbl)
                    a_t.append(u["exposed_at"][dbl] + DAY / 2)
                    a_v.append(np.array([other[v] for v in variant[dbl]]))
            au = np.concatenate(a_u)
            at = np.concatenate(a_t)
            keep = at < DAYS * DAY
            assign_tbl = pa.table(
                {
                    "uidx": uidx[au[keep]],
                    "experiment": experiment[au[keep]],
                    "variant": np.concatenate(a_v)[keep],
                    "ts": _ts(at[keep]),
                }
            )
            cur.register("demo_assign", assign_tbl)
            cur.execute(f"INSERT INTO assignments SELECT {_UID}, experiment, variant, ts FROM demo_assign")
            cur.unregister("demo_assign")

            eu, et, ee, ev = _events(rng, u, conv, ret)
            order = np.argsort(et, kind="stable")
            events_tbl = pa.table(
                {
                    "uidx": uidx[eu[order]],
                    "ts": _ts(et[order]),
                    "code": ee[order].astype(np.int32),
                    "value": ev[order],
                }
            )
            cur.register("demo_events", events_tbl)
            names = ", ".join(f"'{e}'" for e in EVENTS)
            cur.execute(
                f"INSERT INTO events SELECT {_UID}, ts, ([{names}])[code + 1], "
                "CASE WHEN isnan(value) THEN NULL ELSE value END FROM demo_events"
            )
            cur.unregister("demo_events")

            p = _predictions(rng, u, model)
            if p is not None:
                k = len(p["t"])
                pred_tbl = pa.table(
                    {
                        "pidx": np.arange(pred_offset, pred_offset + k) + 1,
                        "uidx": uidx[p["uidx"]],
                        "ts": _ts(p["t"]),
                        "model": p["model"].astype(np.int32),
                        "score": p["score"],
                        "latency": p["latency"],
                        "cost": p["cost"],
                        "tokens_in": p["tokens_in"],
                        "tokens_out": p["tokens_out"],
                        "tokens_cached": p["tokens_cached"],
                        "category": p["category"].astype(np.int32),
                        "query_length": p["query_length"],
                        "session_depth": p["session_depth"],
                    }
                )
                cur.register("demo_pred", pred_tbl)
                models = ", ".join(f"'{x}'" for x in TRUTH.models)
                cats = ", ".join(f"'{c}'" for c in CATEGORIES)
                cur.execute(
                    f"""INSERT INTO predictions SELECT 'p' || lpad(CAST(pidx AS VARCHAR), 9, '0'), {_UID}, ts,
                        ([{models}])[model + 1], score, latency, cost, tokens_in, tokens_out, tokens_cached,
                        ([{cats}])[category + 1], query_length, session_depth,
                        ([{cats}])[category + 1] || ' ideas for a ' || CAST(query_length AS VARCHAR)
                            || '-word query #' || CAST(pidx % 997 AS VARCHAR),
                        'Recommended item #' || CAST((pidx * 7919) % 5000 AS VARCHAR)
                        FROM demo_pred"""
                )
                cur.unregister("demo_pred")
                _feedback(cur, rng, p, pred_offset)
                pred_offset += k
        progress(0.92, "Seeding prices, tags, reviews and experiment settings")
        _seed_state(ws, cur, rng, seed, users)
    progress(1.0, f"Demo workspace built in {time.perf_counter() - t0:.1f} s")
    return TRUTH


def _feedback(cur, rng: np.random.Generator, p: dict[str, np.ndarray], pred_offset: int) -> None:
    """About 10% of predictions get a user signal; acceptance falls after the drift date."""
    k = len(p["t"])
    sel = np.nonzero(rng.random(k) < 0.10)[0]
    n = len(sel)
    boost = np.array([TRUTH.models[x].accept_boost for x in TRUTH.models])[p["model"][sel]]
    drop = np.where(p["t"][sel] >= DRIFT_DAY * DAY, TRUTH.accept_drop_after_drift, 0.0)
    accept = TRUTH.accept_rate_before_drift + boost - drop
    r = rng.random(n)
    # Not accepted: reject 58%, correct 26%, rating 16% of the rest.
    rest = (r - accept) / (1 - accept)
    signal = np.where(r < accept, 0, np.where(rest < 0.58, 1, np.where(rest < 0.84, 2, 3)))
    rating = np.where(signal == 3, rng.integers(1, 6, n), 0)
    comments = np.array(
        ["", "not relevant to what I asked", "too slow", "great pick", "wrong size", '=HYPERLINK("http://x")']
    )
    comment_idx = np.where(
        signal == 1,
        rng.choice([1, 2, 4, 5], n, p=[0.5, 0.2, 0.28, 0.02]),
        np.where(signal == 0, rng.choice([0, 3], n), 0),
    )
    tbl = pa.table(
        {
            "pidx": sel + pred_offset + 1,
            "uidx": p["uidx"][sel] + 0,
            "ts": _ts(p["t"][sel] + rng.uniform(5, 600, n)),
            "signal": signal.astype(np.int32),
            "rating": rating.astype(np.float64),
            "comment": comments[comment_idx],
        }
    )
    cur.register("demo_fb", tbl)
    cur.execute(
        """INSERT INTO feedback SELECT 'f' || lpad(CAST(f.pidx AS VARCHAR), 9, '0'),
               'p' || lpad(CAST(f.pidx AS VARCHAR), 9, '0'), pr.user_id, f.ts,
               (['accept', 'reject', 'correct', 'rating'])[f.signal + 1],
               CASE WHEN f.signal = 3 THEN f.rating END, NULLIF(f.comment, ''),
               CASE WHEN f.signal = 2 THEN 'Corrected: item #' || CAST((f.pidx * 31) % 5000 AS VARCHAR) END
           FROM demo_fb f JOIN predictions pr ON pr.prediction_id = 'p' || lpad(CAST(f.pidx AS VARCHAR), 9, '0')"""
    )
    cur.unregister("demo_fb")


def _seed_state(ws: Workspace, cur, rng: np.random.Generator, seed: int, users: int) -> None:
    for name, mt in TRUTH.models.items():
        cur.execute(
            "INSERT OR REPLACE INTO lb_prices VALUES (?, ?, ?, ?)",
            [name, mt.input_per_1k, mt.output_per_1k, mt.cached_per_1k],
        )
    for name, cfg in EXPERIMENT_CONFIG.items():
        ws.set_setting(f"experiment:{name}", cfg, cur=cur)
    ws.set_setting("cost:budget_usd", 1500.0, cur=cur)
    tags = [
        ("helpful", "The output helped the user."),
        ("wrong", "The output was factually or functionally wrong."),
        ("irrelevant", "The output did not match the request."),
        ("unsafe", "The output should never have been shown."),
        ("too slow", "The answer came too late to be useful."),
    ]
    for name, desc in tags:
        cur.execute(
            "INSERT INTO lb_tags VALUES (nextval('lb_tag_seq'), ?, ?, false, TIMESTAMP '2026-09-01')",
            [name, desc],
        )
    tag_id = dict(cur.execute("SELECT name, tag_id FROM lb_tags").fetchall())
    # Reviews: alice and bob tag early feedback; 150 items overlap so their agreement (κ) can be measured.
    rows = cur.execute(
        "SELECT feedback_id, signal, timestamp FROM feedback ORDER BY feedback_id LIMIT 550"
    ).fetchall()
    by_signal = {"accept": "helpful", "reject": "irrelevant", "correct": "wrong", "rating": "helpful"}
    confusion = ["helpful", "wrong", "irrelevant", "too slow"]
    reviews = []
    for i, (fid, sig, ts) in enumerate(rows):
        reviewers = ["alice"] if i < 250 else (["alice", "bob"] if i < 400 else ["bob"])
        for who in reviewers:
            tag = by_signal[sig] if rng.random() < 0.85 else confusion[int(rng.integers(0, 4))]
            reviews.append((fid, who, [tag_id[tag]], 1, ts + timedelta(days=1)))
    cur.executemany("INSERT INTO lb_reviews VALUES (?, ?, ?, ?, ?)", reviews)
    for kind in ("users", "assignments", "events", "predictions", "feedback"):
        n = cur.execute(f"SELECT count(*) FROM {kind}").fetchone()[0]
        cur.execute(
            "INSERT INTO lb_loads VALUES (nextval('lb_load_seq'), ?, ?, NULL, ?, 'new', now()::TIMESTAMP, "
            "'demo', ?, NULL)",
            [kind, f"demo:{kind}", n, f"analytics.demo seed={seed} users={users}"],
        )
    ws.audit(cur, "demo", "demo.build", str(ws.path), None, {"seed": seed, "users": users})


def build_demo(
    path: str | Path,
    *,
    users: int = 50_000,
    seed: int = 7,
    overwrite: bool = False,
    progress: Progress = _noop,
) -> DemoTruth:
    """Build the demo into a new workspace file: written beside it, then renamed, so it is never half there."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise LiftboardError(
            f"The workspace {path} already exists; pass --force to rebuild it, or choose --db."
        )
    tmp = path.with_name(f".{path.name}.{os.getpid()}.building")
    for leftover in (tmp, Path(f"{tmp}.wal")):
        leftover.unlink(missing_ok=True)
    ws = open_workspace(tmp)
    try:
        truth = populate_demo(ws, actor=local_actor("demo"), users=users, seed=seed, progress=progress)
        ws.con.execute("CHECKPOINT")
    except BaseException:
        ws.close()
        for leftover in (tmp, Path(f"{tmp}.wal")):
            leftover.unlink(missing_ok=True)
        raise
    ws.close()
    Path(f"{path}.wal").unlink(missing_ok=True)
    os.replace(tmp, path)
    return truth

"""The demo's rows drawn with numpy from one seeded generator: users and their arms, events, predictions."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pyarrow as pa

from analytics.ingest.demo_truth import (
    DAY,
    DAYS,
    DRIFT_DAY,
    EXPOSURE_DAYS,
    START,
    TRUTH,
)


def arrow_timestamps(seconds: np.ndarray) -> pa.Array:
    """Seconds since START as an Arrow timestamp column (microseconds, naive UTC)."""
    micros = np.round(np.asarray(seconds, dtype=float) * 1_000_000).astype("int64") + _START_US
    return pa.array(micros, type=pa.timestamp("us"))


_START_US = int((START - datetime(1970, 1, 1)).total_seconds() * 1_000_000)


def draw_users(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    m = rng.uniform(0.3, 1.7, n)  # engagement multiplier, mean exactly 1
    group = rng.choice(3, n, p=[0.55, 0.40, 0.05])  # ai_recs, model_size, none
    ai_arm = rng.integers(0, 2, n)  # 0 control, 1 ai
    ms_arm = rng.integers(0, 3, n)  # 0 control, 1 small, 2 large
    day = rng.integers(EXPOSURE_DAYS[0], EXPOSURE_DAYS[1] + 1, n)
    exposed_at = day * DAY + rng.integers(7 * 3600, 23 * 3600, n).astype(float)
    return {"m": m, "group": group, "ai_arm": ai_arm, "ms_arm": ms_arm, "exposed_at": exposed_at}


def draw_arms(u: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def draw_events(rng: np.random.Generator, u: dict[str, np.ndarray], conv: np.ndarray, ret: np.ndarray):
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


def draw_predictions(rng: np.random.Generator, u: dict[str, np.ndarray], model: np.ndarray):
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

"""The seeded demo workspace: two experiments, an inference log with a drift, and feedback with known truth."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from analytics.errors import LiftboardError
from analytics.ingest.demo_rows import arrow_timestamps, draw_arms, draw_events, draw_predictions, draw_users
from analytics.ingest.demo_truth import (
    CATEGORIES,
    DAY,
    DAYS,
    DRIFT_DAY,
    EVENTS,
    EXPERIMENT_CONFIG,
    TRUTH,
    DemoTruth,
)
from analytics.ingest.write import Progress
from analytics.workspace import Actor, Workspace, local_actor, open_workspace, record_marks, require


def _noop(_: float, __: str) -> None:
    return None


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
            u = draw_users(rng, hi - lo)
            conv, ret, model = draw_arms(u)
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
                    "ts": arrow_timestamps(at[keep]),
                }
            )
            cur.register("demo_assign", assign_tbl)
            cur.execute(f"INSERT INTO assignments SELECT {_UID}, experiment, variant, ts FROM demo_assign")
            cur.unregister("demo_assign")

            eu, et, ee, ev = draw_events(rng, u, conv, ret)
            order = np.argsort(et, kind="stable")
            events_tbl = pa.table(
                {
                    "uidx": uidx[eu[order]],
                    "ts": arrow_timestamps(et[order]),
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

            p = draw_predictions(rng, u, model)
            if p is not None:
                k = len(p["t"])
                pred_tbl = pa.table(
                    {
                        "pidx": np.arange(pred_offset, pred_offset + k) + 1,
                        "uidx": uidx[p["uidx"]],
                        "ts": arrow_timestamps(p["t"]),
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
            "ts": arrow_timestamps(p["t"][sel] + rng.uniform(5, 600, n)),
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
    record_marks(ws, cur, "events", {"value": True})  # the demo's event values are purchase amounts in USD
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

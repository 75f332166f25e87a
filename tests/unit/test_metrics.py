"""The metric language and the one-pass SQL, checked against a plain pandas computation on small data."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from analytics.errors import LiftboardError
from analytics.experiments import (
    DAY,
    MetricSpec,
    data_end,
    moments_sql,
    parse_metric,
    parse_metrics,
    parse_window,
    resolve_segment,
    run_moments,
)
from analytics.workspace import Workspace

T0 = datetime(2026, 9, 1)


def make_small(ws: Workspace, *, seed: int = 3, users: int = 400) -> dict[str, pd.DataFrame]:
    """A small seeded workspace: two arms, some double-exposed users, events, predictions and feedback."""
    rng = np.random.default_rng(seed)
    uid = [f"u{i}" for i in range(users)]
    variant = rng.choice(["control", "treat"], users)
    exposure = [T0 + timedelta(days=3, seconds=int(s)) for s in rng.integers(0, 12 * DAY, users)]
    asg = pd.DataFrame({"user_id": uid, "experiment": "exp", "variant": variant, "timestamp": exposure})
    # A re-exposure of the same variant later (first exposure counts), and 5 users in both arms.
    again = asg.iloc[:10].assign(timestamp=lambda d: d.timestamp + timedelta(days=1))
    both = asg.iloc[10:15].assign(variant=lambda d: np.where(d.variant == "control", "treat", "control"))
    other = asg.iloc[:50].assign(experiment="other")
    asg = pd.concat([asg, again, both, other], ignore_index=True)
    n_ev = users * 12
    ev = pd.DataFrame(
        {
            "user_id": rng.choice(uid, n_ev),
            "timestamp": [T0 + timedelta(seconds=int(s)) for s in rng.integers(0, 24 * DAY, n_ev)],
            "event": rng.choice(["view", "purchase", "share", "session_start"], n_ev, p=[0.5, 0.1, 0.1, 0.3]),
        }
    )
    ev["value"] = np.where(ev.event == "purchase", rng.lognormal(3, 1, n_ev).round(2), np.nan)
    ev["device"] = rng.choice(["phone", "desktop"], n_ev)
    n_pr = users * 3
    pr = pd.DataFrame(
        {
            "prediction_id": [f"p{i}" for i in range(n_pr)],
            "user_id": rng.choice(uid, n_pr),
            "timestamp": [T0 + timedelta(seconds=int(s)) for s in rng.integers(0, 24 * DAY, n_pr)],
            "cost_usd": rng.uniform(0, 0.01, n_pr),
        }
    )
    fb = pd.DataFrame(
        {
            "feedback_id": [f"f{i}" for i in range(n_pr // 2)],
            "prediction_id": pr.prediction_id.iloc[: n_pr // 2],
            "signal": rng.choice(["accept", "reject", "correct"], n_pr // 2),
        }
    )
    us = pd.DataFrame({"user_id": uid, "country": rng.choice(["DE", "FR", "US"], users)})
    us.loc[:5, "country"] = None
    with ws.transaction() as cur:
        for name, df in {
            "assignments": asg,
            "events": ev,
            "predictions": pr,
            "feedback": fb,
            "users": us,
        }.items():
            cur.register("df", df)
            cur.execute(f"CREATE TABLE {name} AS SELECT * FROM df")
            cur.unregister("df")
    return {"assignments": asg, "events": ev, "predictions": pr, "feedback": fb, "users": us}


def expected_moments(frames: dict[str, pd.DataFrame], spec: MetricSpec, *, cuped: bool = False) -> dict:
    """Per variant (n, Σy, Σy², Σx, Σx², Σxy) by a straightforward per-user loop."""
    asg = frames["assignments"]
    asg = asg[asg.experiment == "exp"]
    g = asg.groupby("user_id").agg(a=("timestamp", "min"), v=("variant", "min"), k=("variant", "nunique"))
    g = g[g.k == 1]
    ev, pr, fb = frames["events"], frames["predictions"], frames["feedback"]
    end = ev.timestamp.max()
    fbu = fb.merge(pr[["prediction_id", "user_id", "timestamp"]], on="prediction_id")
    out: dict[str, list[float]] = {}
    s, t = timedelta(seconds=spec.start), timedelta(seconds=spec.end)
    pre = timedelta(days=14)
    for user, row in g.iterrows():
        if row.a + t > end:
            continue
        a = row.a
        if spec.kind in ("cost",):
            p = pr[pr.user_id == user]
            y = p[(p.timestamp >= a + s) & (p.timestamp < a + t)].cost_usd.sum()
            x = p[(p.timestamp >= a - pre) & (p.timestamp < a)].cost_usd.sum() if cuped else 0.0
        elif spec.kind == "feedback":
            f = fbu[(fbu.user_id == user) & (fbu.timestamp >= a + s) & (fbu.timestamp < a + t)]
            y, x = float((f.signal == spec.signal).sum()), float(len(f))
        else:
            e = ev[ev.user_id == user]
            w = e[(e.timestamp >= a + s) & (e.timestamp < a + t)]
            wp = e[(e.timestamp >= a - pre) & (e.timestamp < a)]
            if spec.kind == "retention":
                y, x = float(len(w) > 0), float(len(wp)) if cuped else 0.0
            elif spec.kind == "conversion":
                y = float((w.event == spec.event).any())
                x = float((wp.event == spec.event).any()) if cuped else 0.0
            elif spec.kind == "count":
                y = float((w.event == spec.event).sum())
                x = float((wp.event == spec.event).sum()) if cuped else 0.0
            elif spec.kind == "mean":
                y = float(w[w.event == spec.event].value.sum())
                x = float(wp[wp.event == spec.event].value.sum()) if cuped else 0.0
            else:  # ratio
                y, x = float((w.event == spec.event).sum()), float((w.event == spec.denominator).sum())
        m = out.setdefault(row.v, [0, 0.0, 0.0, 0.0, 0.0, 0.0])
        for i, v in enumerate((1, y, y * y, x, x * x, x * y)):
            m[i] += v
    return out


SPECS = [
    "conversion:purchase:3d",
    "retention:2d",
    "mean:purchase:72h",
    "count:share:1w",
    "ratio:purchase/view:5d",
    "cost:4d",
    "feedback:accept:6d",
]


@pytest.fixture()
def small(tmp_ws: Workspace) -> tuple[Workspace, dict[str, pd.DataFrame]]:
    return tmp_ws, make_small(tmp_ws)


@pytest.mark.parametrize("cuped", [False, True])
def test_sql_moments_match_pandas(small, cuped: bool) -> None:
    ws, frames = small
    specs = parse_metrics(ws, SPECS)
    rows = run_moments(ws, "exp", specs, data_end(ws), cuped=cuped)[("all", "all")]
    assert rows["control"][0] + rows["treat"][0] == 400 - 5  # five users saw both arms
    for i, spec in enumerate(specs):
        want = expected_moments(frames, spec, cuped=cuped and spec.aggregate != "ratio")
        for arm in ("control", "treat"):
            got = rows[arm][1][i]
            exp = want[arm]
            assert got.n == exp[0], spec.text
            np.testing.assert_allclose(
                [got.sum, got.sum_sq, got.sum_x, got.sum_x_sq, got.sum_xy], exp[1:], rtol=1e-9, atol=1e-9,
                err_msg=spec.text,
            )  # fmt: skip
        assert rows["control"][1][i].n > 20


def test_elapsed_windows_only(small) -> None:
    ws, frames = small
    spec = parse_metrics(ws, ["conversion:purchase:10d"])
    rows = run_moments(ws, "exp", spec, data_end(ws))[("all", "all")]
    end = frames["events"].timestamp.max()
    asg = frames["assignments"]
    first = asg[asg.experiment == "exp"].groupby("user_id").timestamp.min()
    both = {f"u{i}" for i in range(10, 15)}
    elapsed = sum(1 for u, a in first.items() if u not in both and a + timedelta(days=10) <= end)
    assert rows["control"][1][0].n + rows["treat"][1][0].n == elapsed
    assert 0 < elapsed < 395


def test_winsorize_caps_mean_at_pooled_quantile(small) -> None:
    ws, frames = small
    specs = parse_metrics(ws, ["mean:purchase:7d", "conversion:purchase:7d"])
    end = data_end(ws)
    raw = run_moments(ws, "exp", specs, end)[("all", "all")]
    capped = run_moments(ws, "exp", specs, end, winsorize=0.9)[("all", "all")]
    want = expected_moments(frames, specs[0])
    # Compute the cap the same way: pooled 90th percentile of the per-user values (linear interpolation).
    ys = []
    for arm in ("control", "treat"):
        ys += _per_user_values(frames, specs[0], arm)
    cap = float(np.quantile(ys, 0.9))
    for arm in ("control", "treat"):
        vals = np.minimum(_per_user_values(frames, specs[0], arm), cap)
        assert capped[arm][1][0].sum == pytest.approx(vals.sum(), rel=1e-9)
        assert capped[arm][1][0].sum_sq == pytest.approx((vals**2).sum(), rel=1e-9)
        assert raw[arm][1][0].sum == pytest.approx(want[arm][1], rel=1e-9)
        assert capped[arm][1][1] == raw[arm][1][1]  # proportions are never capped


def _per_user_values(frames, spec: MetricSpec, arm: str) -> list[float]:
    asg = frames["assignments"]
    asg = asg[asg.experiment == "exp"]
    g = asg.groupby("user_id").agg(a=("timestamp", "min"), v=("variant", "min"), k=("variant", "nunique"))
    g = g[(g.k == 1) & (g.v == arm)]
    ev = frames["events"]
    end = ev.timestamp.max()
    out = []
    for user, row in g.iterrows():
        if row.a + timedelta(seconds=spec.end) > end:
            continue
        e = ev[(ev.user_id == user) & (ev.event == spec.event)]
        out.append(
            float(e[(e.timestamp >= row.a) & (e.timestamp < row.a + timedelta(seconds=spec.end))].value.sum())
        )
    return out


def test_segments_users_column_and_event_property(small) -> None:
    ws, frames = small
    specs = parse_metrics(ws, ["count:view:3d"])
    end = data_end(ws)
    total = run_moments(ws, "exp", specs, end)[("all", "all")]
    by_country = run_moments(ws, "exp", specs, end, segment=resolve_segment(ws, "country"))
    assert set(by_country) == {(c, "all") for c in ("DE", "FR", "US", "(missing)")}
    for arm in ("control", "treat"):
        assert sum(rows[arm][1][0].n for rows in by_country.values()) == total[arm][1][0].n
        assert sum(rows[arm][1][0].sum for rows in by_country.values()) == total[arm][1][0].sum
    by_device = run_moments(ws, "exp", specs, end, segment=resolve_segment(ws, "device"))
    assert {seg for seg, _ in by_device} <= {"phone", "desktop", "(missing)"}
    assert sum(r[a][0] for r in by_device.values() for a in r) == 395
    with pytest.raises(LiftboardError, match="no segment column 'colour'"):
        resolve_segment(ws, "colour")


def test_sql_is_parameterised(small) -> None:
    ws, _ = small
    specs = [MetricSpec("conversion", event="x'; DROP TABLE events; --")]
    q = moments_sql(ws, "exp'--", specs, datetime(2026, 10, 1))
    assert "DROP TABLE" not in q.sql and "exp'--" not in q.sql
    assert "x'; DROP TABLE events; --" in q.params
    assert ws.query(q.sql, list(q.params)) == []  # nothing matches, nothing breaks


def test_parse_specs() -> None:
    assert parse_metric("conversion:purchase").window == 7 * DAY
    assert parse_metric("conversion:purchase:72h").window == 3 * DAY
    assert parse_metric("retention:7d") == MetricSpec("retention", window=7 * DAY)
    assert parse_metric("retention:7").start == 7 * DAY and parse_metric("retention:7").end == 8 * DAY
    r = parse_metric("ratio:purchase/view:2w")
    assert (r.event, r.denominator, r.window, r.aggregate) == ("purchase", "view", 14 * DAY, "ratio")
    assert parse_metric("cost").text == "cost:7d" and parse_metric("cost:3d").lower_is_better
    assert parse_metric("feedback:accept").signal == "accept"
    assert parse_metric(" mean:purchase:24h ").text == "mean:purchase:1d"
    assert parse_metric("conversion:purchase:7d").label == "7-day purchase conversion"
    assert parse_window("36h") == 36 * 3600


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("conv:purchase", "Unknown metric kind 'conv'.*did you mean conversion"),
        (
            "lift:purchase",
            "the kinds are: conversion, retention, mean, count, ratio, cost, feedback, quantile",
        ),
        ("conversion:purchase:7x", "The window '7x' is not a duration"),
        ("conversion:purchase:0d", "not a duration"),
        ("conversion", "needs an event"),
        ("ratio:purchase:7d", "needs NUM/DEN events"),
        ("retention", "needs a day"),
        ("conversion:purchase:7d:1", "too many ':' parts"),
    ],
)
def test_bad_specs(spec: str, message: str) -> None:
    with pytest.raises(LiftboardError, match=message):
        parse_metric(spec)


def test_unknown_names_suggest_close_ones(small) -> None:
    ws, _ = small
    with pytest.raises(LiftboardError, match="no event 'purchse' in the data; did you mean purchase"):
        parse_metrics(ws, ["conversion:purchse:7d"])
    with pytest.raises(LiftboardError, match="no event 'zzz'.*known ones are: purchase, session_start"):
        parse_metrics(ws, ["ratio:purchase/zzz"])
    with pytest.raises(LiftboardError, match="no feedback signal 'acept'.*did you mean accept"):
        parse_metrics(ws, ["feedback:acept"])
    assert [s.text for s in parse_metrics(ws, ["count:share", "count:share:7d"])] == ["count:share:7d"]

"""Seeded analytics-tool exports with a known lift, and the numbers `analyze` must give, from the rows themselves.

`simulate` draws one event log (users, their exposures, page views and purchases, with the mess real exports
have); `export_files.write_export` writes it in one tool's exact export shape; `truth` says which user id Liftboard must see
for each row under that tool's convention; `expected` computes per-arm users, conversion and revenue per user
from those rows with pandas (first exposure per user, users seen in two variants left out, a window that has
not elapsed by the end of the data left out), independently of Liftboard's SQL.

Where each shape comes from (read 2026-11-29):
- PostHog: the events table's columns uuid, event, properties ("stored as a String"), timestamp (ISO 8601),
  distinct_id, person_id (posthog.com/docs/data-warehouse/sources/posthog); the S3 batch export's events model
  writes properties as a JSON-encoded string in Parquet (posthog.com/docs/data-pipelines/batch-exports/s3);
  exposures are `$feature_flag_called` with `$feature_flag` and `$feature_flag_response` (posthog-js/node).
- Amplitude: the Export API returns a zip of gzipped JSON-lines files, one per hour, timestamped in UTC
  (amplitude.com/docs/apis/analytics/export); event fields as in Fivetran's Amplitude schema (user_id,
  device_id, event_type, event_time, event_properties, user_properties, uuid, $insert_id, ...); exposures are
  `$exposure` with `flag_key` and `variant` (amplitude.com/docs/feature-experiment/track-exposure).
- Mixpanel: the raw export API streams JSON lines {"event", "properties": {"time" (epoch seconds),
  "distinct_id", "$insert_id", ...}} (developer.mixpanel.com/reference/raw-event-export; the event schema gist
  jbwyme/f01f0a6f…); exposures are `$experiment_started` with "Experiment name" and "Variant name"
  (mixpanel/docs, tracking-methods/integrations/launchdarkly.md).
- Segment: warehouse tables `tracks` and one table per event, properties as snake_case columns, `timestamp`
  the skew-corrected time (segment.com/docs/connections/storage/warehouses/schema); Experiment Viewed carries
  experiment_id, experiment_name, variation_id, variation_name (the A/B testing spec).
- GA4: the BigQuery export's events_YYYYMMDD rows: event_date, event_timestamp (INT64 microseconds UTC),
  event_name, event_params ARRAY<STRUCT<key, value STRUCT<string_value, int_value, float_value,
  double_value>>>, user_id, user_pseudo_id, user_properties (support.google.com/analytics/answer/7029846);
  exposures `experiment_viewed` with params experiment_id and variation_id (docs.growthbook.io, GA4 guide).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

TOOLS = ("posthog", "amplitude", "mixpanel", "segment", "ga4")
START = datetime(2026, 3, 2)  # a Monday; every time is UTC
MAIN, SECOND = "ai-recs", "checkout-copy"
WINDOW = timedelta(days=7)
#: The finest time each tool writes, in microseconds (Mixpanel's export has whole seconds, Segment's ms).
RESOLUTION_US = {"posthog": 1, "amplitude": 1, "mixpanel": 1_000_000, "segment": 1_000, "ga4": 1}
#: Each tool's own event names for the three kinds of events the simulation draws.
NAMES: dict[str, dict[str, str]] = {
    "posthog": {"view": "$pageview", "purchase": "Purchase", "exposure": "$feature_flag_called"},
    "amplitude": {"view": "Page Viewed", "purchase": "Purchase", "exposure": "$exposure"},
    "mixpanel": {"view": "Page View", "purchase": "Purchase", "exposure": "$experiment_started"},
    "segment": {"view": "product_viewed", "purchase": "order_completed", "exposure": "experiment_viewed"},
    "ga4": {"view": "page_view", "purchase": "purchase", "exposure": "experiment_viewed"},
}
PLANS = ("free", "pro", "team")
LABELS = {
    "posthog": "PostHog",
    "amplitude": "Amplitude",
    "mixpanel": "Mixpanel",
    "segment": "Segment",
    "ga4": "GA4",
}


def simulate(tool: str, *, users: int = 3000, seed: int = 16) -> pd.DataFrame:
    """One event log: a row per event with the user's identities, the event kind and what it carries.

    Columns: user (index), user_id (None when never logged in), device (anonymous id), person (PostHog person
    uuid or None), ts (naive UTC), kind (view/purchase/exposure/flag_off), experiment, variant, value, plan.
    """
    rng = np.random.default_rng(seed)
    res = RESOLUTION_US[tool]
    rows: list[dict[str, Any]] = []

    def at(t: datetime) -> datetime:
        us = int((t - START) / timedelta(microseconds=1))
        return START + timedelta(microseconds=us - us % res)

    for u in range(users):
        logged_in = rng.random() < 0.8
        ident = {
            "user": u,
            "user_id": f"user-{u:05d}" if logged_in else None,
            "device": f"{int(rng.integers(0, 2**62)):016x}",
            "person": str(uuid.UUID(int=u + 10**12)) if rng.random() < 0.9 else None,
            "plan": PLANS[int(rng.integers(0, 3))],
        }

        def add(kind: str, t: datetime, ident: dict[str, Any] = ident, **kw: Any) -> None:
            rows.append({**ident, "ts": at(t), "kind": kind, "experiment": None, "variant": None,
                         "value": None} | kw)  # fmt: skip

        first = START + timedelta(seconds=float(rng.uniform(0, 14 * 86400)))
        exposed_at = at(first + timedelta(seconds=float(rng.uniform(60, 7200))))
        for _ in range(int(rng.poisson(2))):  # browsing before the exposure
            add("view", first + (exposed_at - first) * float(rng.random()))
        if rng.random() < 0.05:  # a purchase before exposure: never counted
            add("purchase", first, value=_price(rng, 1.0))
        if rng.random() >= 0.92:
            add("flag_off", exposed_at, experiment=MAIN)  # PostHog's `false` response: not in the experiment
            continue
        arm = "treatment" if rng.random() < 0.5 else "control"
        add("exposure", exposed_at, experiment=MAIN, variant=arm)
        for _ in range(int(rng.integers(0, 3))):  # the SDK fires again on later page loads
            add(
                "exposure",
                exposed_at + timedelta(hours=float(rng.uniform(1, 200))),
                experiment=MAIN,
                variant=arm,
            )
        if rng.random() < 0.015:  # seen in the other arm too: excluded and counted
            other = "control" if arm == "treatment" else "treatment"
            add(
                "exposure",
                exposed_at + timedelta(hours=float(rng.uniform(1, 48))),
                experiment=MAIN,
                variant=other,
            )
        if rng.random() < 0.5:
            second = "short" if rng.random() < 0.5 else "control"
            add("exposure", exposed_at + timedelta(minutes=5), experiment=SECOND, variant=second)
        lift = arm == "treatment"
        if rng.random() < (0.13 if lift else 0.10):
            for _ in range(1 + int(rng.random() < 0.3)):  # some purchases land after the 7-day window
                add("purchase", exposed_at + timedelta(days=float(rng.uniform(0, 10))),
                    value=_price(rng, 1.08 if lift else 1.0))  # fmt: skip
        for _ in range(int(rng.poisson(4))):
            add("view", exposed_at + timedelta(days=float(rng.uniform(0, 14))))
        if u == 1:  # at the very exposure instant: inside the window [exposure, exposure + 7d)
            add("purchase", exposed_at, value=10.0)
        if u == 2:  # exactly 7 days later: outside it
            add("purchase", exposed_at + WINDOW, value=10.0)
    df = pd.DataFrame(rows)
    return df.sort_values(["ts", "user"], kind="stable").reset_index(drop=True)


def _price(rng: np.random.Generator, scale: float) -> float:
    # Whole amounts now and then (GA4 writes those as int_value).
    raw = float(rng.uniform(5, 120)) * scale
    return float(round(raw)) if rng.random() < 0.15 else round(raw, 2)


# -- the ids a tool's convention gives, and the expected numbers -------------------------------------------


def truth(tool: str, rows: pd.DataFrame) -> pd.DataFrame:
    """The log as Liftboard must read it: uid by the tool's convention, the tool's event names."""
    out = rows.copy()
    if tool == "posthog":  # person_id if present, else distinct_id
        out["uid"] = out["person"].where(out["person"].notna(), distinct_ids(out))
    elif tool == "mixpanel":
        out["uid"] = _mixpanel_distinct(out)
    else:  # user_id, else the anonymous id (device_id, anonymous_id, user_pseudo_id)
        out["uid"] = out["user_id"].where(out["user_id"].notna(), out["device"])
    names = NAMES[tool] | {"flag_off": NAMES[tool]["exposure"]}
    out["event"] = out["kind"].map(names)
    return out


def distinct_ids(rows: pd.DataFrame) -> pd.Series:
    # PostHog: a person's events before exposure carry the anonymous distinct_id, after it the identified one
    # (only the person_id stitches them); a user without a person_id keeps one distinct_id throughout.
    first_exposure = rows[rows["kind"].isin(["exposure", "flag_off"])].groupby("user")["ts"].min()
    before = rows["ts"] < rows["user"].map(first_exposure)
    ident = rows["user_id"].where(rows["user_id"].notna(), rows["device"])
    stitched = rows["person"].notna() & before
    return ident.where(~stitched, rows["device"])


def _mixpanel_distinct(rows: pd.DataFrame) -> pd.Series:
    return rows["user_id"].where(rows["user_id"].notna(), "$device:" + rows["device"])


def expected(tool: str, rows: pd.DataFrame, experiment: str = MAIN) -> dict[str, dict[str, float]]:
    """Per arm: users whose 7-day window elapsed, their Purchase conversion and revenue per user."""
    log = truth(tool, rows)
    data_end = log["ts"].max()
    exp = log[(log["kind"] == "exposure") & (log["experiment"] == experiment)]
    per_user = exp.groupby("uid").agg(
        assigned=("ts", "min"), arms=("variant", "nunique"), arm=("variant", "first")
    )
    single = per_user[per_user["arms"] == 1]
    done = single[single["assigned"] + WINDOW <= data_end]
    buys = log[log["kind"] == "purchase"].merge(done, left_on="uid", right_index=True)
    inside = buys[(buys["ts"] >= buys["assigned"]) & (buys["ts"] < buys["assigned"] + WINDOW)]
    revenue = inside.groupby("uid")["value"].sum()
    done = done.assign(converted=done.index.isin(revenue.index).astype(float),
                       revenue=done.index.map(revenue).fillna(0.0).astype(float))  # fmt: skip
    out = {}
    for arm, g in done.groupby("arm"):
        out[str(arm)] = {"users": len(g), "conversion": g["converted"].mean(), "revenue": g["revenue"].mean()}
    return out


def multi_variant_users(tool: str, rows: pd.DataFrame, experiment: str = MAIN) -> int:
    log = truth(tool, rows)
    exp = log[(log["kind"] == "exposure") & (log["experiment"] == experiment)]
    return int((exp.groupby("uid")["variant"].nunique() > 1).sum())

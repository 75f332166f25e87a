"""Seeded generators of A/B files in the exact shapes of public datasets that nobody on this project wrote.

Each writes a CSV whose header, value spellings and (where it matters) size are those of the real file, so the
loader is tested on what analysts actually hold, not on Liftboard's own tables. No real data is copied: the
values are drawn from a seeded generator tuned to the published summaries.

- ``cookie_cats``: the mobile-game retention test (Tactile's Cookie Cats, 90,189 players), one row per player:
  ``userid,version,sum_gamerounds,retention_1,retention_7``; version ``gate_30``/``gate_40``; retention written
  by pandas as ``True``/``False``; no timestamp, no experiment column. The arms' sizes and retained counts are
  those published (44,700 and 45,489 players; 20,034/20,119 day-1 and 8,502/8,279 day-7 retained).
- ``ab_data``: the Udacity landing-page test, one row per visit: ``user_id,timestamp,group,landing_page,
  converted``; ``control``/``treatment``, ``old_page``/``new_page``, converted 0/1; some users have a second row
  with a mismatched page or the other group.
- ``marketing_ab``: the marketing test: ``,user id,test group,converted,total ads,most ads day,most ads hour`` —
  a leading unnamed column of pandas row numbers, ``ad``/``psa`` (96%/4%), converted ``True``/``False``.
- ``enews``: the E-news Express landing-page test (100 users): ``user_id,group,landing_page,
  time_spent_on_the_page,converted,language_preferred``; converted ``yes``/``no``.
- ``totals_counts`` / ``totals_means``: per-arm totals as copied from a tool's screen.
- ``assignments_no_experiment``: an exposure export of one experiment, without an experiment column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

#: Cookie Cats as published: players and retained players per arm.
COOKIE_ARMS = {"gate_30": 44_700, "gate_40": 45_489}
COOKIE_RET_1 = {"gate_30": 20_034, "gate_40": 20_119}
COOKIE_RET_7 = {"gate_30": 8_502, "gate_40": 8_279}
COOKIE_ROWS = sum(COOKIE_ARMS.values())  # 90,189


def _bool_text(values: np.ndarray) -> list[str]:
    """Booleans as pandas writes them to CSV."""
    return ["True" if v else "False" for v in values]


def cookie_cats(path: Path, *, seed: int = 2017, scale: float = 1.0) -> Path:
    """The Cookie Cats file (90,189 rows at scale 1); ``scale`` shrinks every count for quick tests."""
    rng = np.random.default_rng(seed)
    frames = []
    for arm, n_full in COOKIE_ARMS.items():
        n = max(4, round(n_full * scale))
        # Game rounds: many players stop at once (zeros), a long tail of heavy players (negative binomial).
        rounds = rng.negative_binomial(0.55, 0.55 / (0.55 + 51.0), size=n)
        rounds[rng.random(n) < 0.044] = 0
        # Retention follows engagement: the most engaged (rounds plus noise) are the retained ones, with the
        # published number of retained players per arm.
        score = np.log1p(rounds) + rng.normal(0.0, 1.2, size=n)
        order = np.argsort(-score, kind="stable")
        r1 = np.zeros(n, dtype=bool)
        r1[order[: round(COOKIE_RET_1[arm] * n / n_full)]] = True
        score7 = score + rng.normal(0.0, 0.8, size=n)
        r7 = np.zeros(n, dtype=bool)
        r7[np.argsort(-score7, kind="stable")[: round(COOKIE_RET_7[arm] * n / n_full)]] = True
        frames.append(pd.DataFrame({"version": arm, "sum_gamerounds": rounds, "r1": r1, "r7": r7}))
    df = pd.concat(frames, ignore_index=True)
    if scale == 1.0:
        df.loc[int(np.flatnonzero(df["version"] == "gate_30")[7]), "sum_gamerounds"] = (
            49_854  # the famous outlier
        )
    df = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    ids = np.sort(rng.choice(np.arange(116, 10_000_000), size=len(df), replace=False))
    out = pd.DataFrame(
        {
            "userid": ids,
            "version": df["version"],
            "sum_gamerounds": df["sum_gamerounds"],
            "retention_1": _bool_text(df["r1"].to_numpy()),
            "retention_7": _bool_text(df["r7"].to_numpy()),
        }
    )
    out.to_csv(path, index=False)
    return path


def ab_data(path: Path, *, users: int = 20_000, seed: int = 2018, mismatched: float = 0.0134) -> Path:
    """The Udacity landing-page file: one row per visit, a few users with a second, mismatched row."""
    rng = np.random.default_rng(seed)
    ids = rng.choice(np.arange(630_000, 946_000), size=users, replace=False)
    group = np.where(rng.random(users) < 0.5, "control", "treatment")
    page = np.where(group == "control", "old_page", "new_page")
    converted = (rng.random(users) < np.where(group == "control", 0.1204, 0.1188)).astype(int)
    start = datetime(2017, 1, 2, 13, 42, 5, 378582)
    span = (datetime(2017, 1, 24, 13, 41, 54, 460509) - start).total_seconds()
    seconds = rng.random(users) * span
    rows = pd.DataFrame(
        {"user_id": ids, "s": seconds, "group": group, "landing_page": page, "converted": converted}
    )
    # A second visit for ~1.3% of users: the other page in the same group, or (rarely) the other group.
    k = round(users * mismatched)
    again = rows.sample(n=k, random_state=seed).copy()
    flip_group = rng.random(k) < 0.25
    again["landing_page"] = np.where(again["landing_page"] == "old_page", "new_page", "old_page")
    again.loc[flip_group, "group"] = np.where(
        again.loc[flip_group, "group"] == "control", "treatment", "control"
    )
    again.loc[flip_group, "landing_page"] = np.where(
        again.loc[flip_group, "group"] == "control", "new_page", "old_page"
    )
    again["s"] = np.minimum(again["s"] + rng.random(k) * 86_400, span)
    again["converted"] = (rng.random(k) < 0.12).astype(int)
    rows = pd.concat([rows, again], ignore_index=True).sample(frac=1.0, random_state=seed + 1)
    rows["timestamp"] = [
        (start + timedelta(seconds=float(s))).strftime("%Y-%m-%d %H:%M:%S.%f") for s in rows["s"]
    ]
    rows[["user_id", "timestamp", "group", "landing_page", "converted"]].to_csv(path, index=False)
    return path


DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def marketing_ab(path: Path, *, rows: int = 20_000, seed: int = 2019) -> Path:
    """The marketing test: pandas' unnamed index column first, ad/psa arms (96%/4%), True/False conversions."""
    rng = np.random.default_rng(seed)
    group = np.where(rng.random(rows) < 0.96, "ad", "psa")
    total_ads = np.maximum(1, rng.negative_binomial(0.9, 0.9 / (0.9 + 24.8), size=rows))
    base = np.where(group == "ad", 0.0255, 0.0179)
    # More ads, more conversions (as in the real file), keeping each arm's average rate.
    lift = np.clip(total_ads / 24.8, 0.2, 6.0)
    converted = rng.random(rows) < base * lift / lift.mean()
    df = pd.DataFrame(
        {
            "user id": rng.choice(np.arange(900_000, 1_654_484), size=rows, replace=False),
            "test group": group,
            "converted": _bool_text(converted),
            "total ads": total_ads,
            "most ads day": rng.choice(DAYS, size=rows),
            "most ads hour": rng.integers(0, 24, size=rows),
        }
    )
    df.to_csv(path)  # index=True: the leading unnamed column of row numbers, as the real file has
    return path


def enews(path: Path, *, seed: int = 2020) -> Path:
    """E-news Express: 100 users, control/treatment, old/new page, minutes on the page, yes/no conversion."""
    rng = np.random.default_rng(seed)
    group = np.array(["control", "treatment"] * 50)
    rng.shuffle(group)
    minutes = np.where(group == "control", rng.normal(4.53, 2.58, 100), rng.normal(6.22, 1.82, 100))
    minutes = np.round(np.clip(minutes, 0.19, 10.71), 2)
    converted = np.zeros(100, dtype=bool)
    for g, yes in (("control", 21), ("treatment", 33)):
        idx = np.flatnonzero(group == g)
        converted[rng.choice(idx, size=yes, replace=False)] = True
    df = pd.DataFrame(
        {
            "user_id": np.arange(546_592, 546_492, -1),
            "group": group,
            "landing_page": np.where(group == "control", "old", "new"),
            "time_spent_on_the_page": minutes,
            "converted": np.where(converted, "yes", "no"),
            "language_preferred": rng.choice(["Spanish", "English", "French"], size=100),
        }
    )
    df.to_csv(path, index=False)
    return path


@dataclass(frozen=True)
class Arm:
    """One arm of a totals file: users and, per outcome, a count or a mean and sd."""

    name: str
    users: int
    conversions: int | None = None
    mean: float | None = None
    sd: float | None = None


#: What a PM copies from a tool's screen for Cookie Cats' day-7 retention (the published counts).
COOKIE_TOTALS = (
    Arm("gate_30", COOKIE_ARMS["gate_30"], COOKIE_RET_7["gate_30"]),
    Arm("gate_40", COOKIE_ARMS["gate_40"], COOKIE_RET_7["gate_40"]),
)
#: A revenue outcome per arm as users, mean and standard deviation (three arms).
REVENUE_TOTALS = (
    Arm("control", 5_120, mean=3.412, sd=11.80),
    Arm("small_model", 5_034, mean=3.505, sd=12.10),
    Arm("large_model", 5_087, mean=3.951, sd=12.64),
)


def totals_counts(path: Path, arms: tuple[Arm, ...] = COOKIE_TOTALS) -> Path:
    """``Variation,Visitors,Conversions``: the counts a testing tool shows per arm."""
    lines = ["Variation,Visitors,Conversions"] + [f"{a.name},{a.users},{a.conversions}" for a in arms]
    path.write_text("\n".join(lines) + "\n")
    return path


def totals_means(path: Path, arms: tuple[Arm, ...] = REVENUE_TOTALS) -> Path:
    """``variant,users,revenue_mean,revenue_sd``: a numeric outcome as users, mean and sd per arm."""
    lines = ["variant,users,revenue_mean,revenue_sd"] + [f"{a.name},{a.users},{a.mean},{a.sd}" for a in arms]
    path.write_text("\n".join(lines) + "\n")
    return path


def assignments_no_experiment(path: Path, *, users: int = 2_000, seed: int = 2021) -> Path:
    """An exposure export of one experiment: ``anonymous_id,variation,exposed_at`` and no experiment column."""
    rng = np.random.default_rng(seed)
    start = datetime(2026, 9, 1)
    df = pd.DataFrame(
        {
            "anonymous_id": [f"anon-{i:05d}" for i in range(users)],
            "variation": np.where(rng.random(users) < 0.5, "Control", "AI recs"),
            "exposed_at": [
                (start + timedelta(seconds=int(s))).strftime("%Y-%m-%dT%H:%M:%SZ")
                for s in rng.integers(0, 14 * 86_400, size=users)
            ],
        }
    )
    df.to_csv(path, index=False)
    return path


def warehouse_outcomes(
    path: Path,
    *,
    users: int = 6_000,
    seed: int = 2022,
    arms: tuple[str, ...] = ("control", "ai_small", "ai_large"),
) -> Path:
    """A warehouse query's per-user table: ``user_id,variant,retained_1d,retained_7d,revenue,rounds,pre_revenue,
    country`` — 0/1 and TRUE/FALSE flags, money, a count, the same money before exposure (a CUPED covariate)."""
    rng = np.random.default_rng(seed)
    variant = rng.choice(arms, size=users)
    effect = np.select(
        [variant == a for a in arms], [0.0, 0.03, 0.06][: len(arms)] + [0.0] * (len(arms) - 3), 0.0
    )
    taste = rng.gamma(1.2, 2.5, size=users)  # how much a user spends, before and after exposure
    pre = np.round(taste * rng.lognormal(0.0, 0.4, size=users), 2)
    revenue = np.round(taste * (1.0 + 2 * effect) * rng.lognormal(0.0, 0.4, size=users), 2)
    revenue[rng.random(users) < 0.55] = 0.0
    r1 = rng.random(users) < 0.40 + effect
    r7 = r1 & (rng.random(users) < 0.45 + effect)
    df = pd.DataFrame(
        {
            "user_id": [f"u{i:06d}" for i in range(users)],
            "variant": variant,
            "retained_1d": r1.astype(int),
            "retained_7d": np.where(r7, "TRUE", "FALSE"),
            "revenue": revenue,
            "rounds": rng.poisson(12 + 20 * effect, size=users),
            "pre_revenue": pre,
            "country": rng.choice(["DE", "FR", "US", "BR"], size=users, p=[0.2, 0.2, 0.4, 0.2]),
        }
    )
    df.to_csv(path, index=False)
    return path


def event_log_with_recent_exposures(folder: Path, *, users: int = 474, seed: int = 2023) -> tuple[Path, Path]:
    """An event-log experiment whose last exposures are recent: with the default 7-day window and the data
    ending at the last event, about 45% of the exposed users are left out (the real case: 214 of 474)."""
    rng = np.random.default_rng(seed)
    start = datetime(2026, 10, 1)
    exposed = [start + timedelta(seconds=int(s)) for s in rng.integers(0, 13 * 86_400, size=users)]
    variant = np.where(rng.random(users) < 0.5, "control", "treatment")
    asg = pd.DataFrame({"user_id": [f"p{i}" for i in range(users)], "experiment": "signup_page",
                        "variant": variant, "timestamp": exposed})  # fmt: skip
    rows = []
    for uid, at, v in zip(asg.user_id, exposed, variant, strict=True):
        rows.append((uid, at, "view"))
        if rng.random() < (0.07 if v == "control" else 0.09):
            rows.append((uid, at + timedelta(hours=float(rng.uniform(1, 40))), "signup"))
    events = pd.DataFrame(rows, columns=["user_id", "timestamp", "event"])
    events = events[events.timestamp < start + timedelta(days=13, hours=6)]
    a, e = folder / "assignments.csv", folder / "events.csv"
    asg.to_csv(a, index=False)
    events.to_csv(e, index=False)
    return a, e

"""Seeded feedback workspaces generated in SQL (shared by the feedback tests and benchmark)."""

from __future__ import annotations

from pathlib import Path

from analytics.workspace import Workspace, open_workspace

DEFAULT_TAGS = ("helpful", "wrong", "irrelevant", "unsafe", "too slow")


def _u(i: str, seed: int, salt: str) -> str:
    # A deterministic uniform number in [0, 1) per row, seed and purpose: portable SQL, no Python UDF.
    return f"((hash({i}, {seed}, '{salt}') % 1000000)::DOUBLE / 1000000)"


def build(ws: Workspace, n: int, *, seed: int = 1, users: int | None = None, tags: bool = True) -> None:
    """n feedback items on n predictions; users in experiment 'exp' (control/ai by parity).

    Item i: user u{i % users}; model v1 for the first half, v2 after; day 2026-09-01 + i*35//n;
    signal accept with p 0.6 (v1) / 0.4 (v2), else reject / correct / rating in equal thirds.
    """
    users = users or max(1, n // 4)
    u1, u2 = _u("i", seed, "sig"), _u("i", seed, "kind")
    with ws.transaction() as cur:
        cur.execute(
            f"""
            CREATE TABLE predictions AS
            SELECT 'p' || i AS prediction_id, 'u' || (i % {users}) AS user_id,
                   TIMESTAMP '2026-09-01' + to_seconds((i * 35 * 86400 // {n})::BIGINT) AS timestamp,
                   CASE WHEN i < {n} // 2 THEN 'v1' ELSE 'v2' END AS model_version,
                   {_u("i", seed, "score")} AS score,
                   'question ' || i AS input_text, 'answer ' || i AS output_text
            FROM range({n}) t(i)
            """
        )
        cur.execute(
            f"""
            CREATE TABLE feedback AS
            SELECT 'f' || i AS feedback_id, 'p' || i AS prediction_id, 'u' || (i % {users}) AS user_id,
                   TIMESTAMP '2026-09-01' + to_seconds((i * 35 * 86400 // {n})::BIGINT + 60) AS timestamp,
                   CASE WHEN {u1} < (CASE WHEN i < {n} // 2 THEN 0.6 ELSE 0.4 END) THEN 'accept'
                        WHEN {u2} < 1/3 THEN 'reject' WHEN {u2} < 2/3 THEN 'correct' ELSE 'rating' END AS signal,
                   CASE WHEN {u2} >= 2/3 THEN 1 + (i % 5) END::DOUBLE AS rating,
                   CASE WHEN i % 7 = 0 THEN '=HYPERLINK("x")' ELSE 'ok' END AS comment,
                   CASE WHEN {u2} BETWEEN 1/3 AND 2/3 THEN '+fixed ' || i END AS corrected_output
            FROM range({n}) t(i)
            """
        )
        cur.execute(
            f"""
            CREATE TABLE assignments AS
            SELECT 'u' || j AS user_id, 'exp' AS experiment, CASE WHEN j % 2 = 0 THEN 'control' ELSE 'ai' END
                   AS variant, TIMESTAMP '2026-09-01' AS timestamp
            FROM range({users}) t(j)
            """
        )
        if tags:
            for name in DEFAULT_TAGS:
                cur.execute(
                    "INSERT INTO lb_tags VALUES (nextval('lb_tag_seq'), ?, NULL, false, now()::TIMESTAMP)",
                    [name],
                )


def make(path: Path, n: int, *, seed: int = 1, users: int | None = None) -> Workspace:
    ws = open_workspace(path)
    build(ws, n, seed=seed, users=users)
    return ws

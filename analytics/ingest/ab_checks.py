"""Checks of A/B files beyond the generic ones: the experiment a file is named or narrowed to, per-user
outcome tables (at least one outcome; users with several rows) and per-arm totals (numbers that can be)."""

from __future__ import annotations

from collections import defaultdict

import duckdb

from analytics.errors import LiftboardError
from analytics.ingest.report import Issue, ValidationReport
from analytics.workspace import ArmTotals, check_arms, outcome_columns, quote_ident, totals_columns

#: A totals file holds one row per arm; more rows than this is a per-user file loaded as the wrong kind.
MAX_TOTALS_ROWS = 1_000


def keep_experiment(cur: duckdb.DuckDBPyConnection, stage: str, name: str, file_name: str) -> Issue | None:
    """With an experiment column and a name: leave out (delete from the stage) the rows of other experiments."""
    rows = cur.execute(
        f"SELECT experiment, count(*) FROM {stage} GROUP BY experiment ORDER BY count(*) DESC"
    ).fetchall()
    others = [(e, n) for e, n in rows if e != name]
    if not others:
        return None
    if len(others) == len(rows):
        listed = ", ".join(str(e) for e, _ in rows[:10])
        raise LiftboardError(
            f"{file_name} has no rows of the experiment {name!r}; its experiments are: {listed}."
        )
    cur.execute(f"DELETE FROM {stage} WHERE experiment IS DISTINCT FROM ?", [name])
    n = sum(c for _, c in others)
    names = ", ".join(str(e) for e, _ in others[:5]) + (" …" if len(others) > 5 else "")
    return Issue(
        "warning",
        "other_experiments",
        f"{n:,} rows of {file_name} belong to other experiments ({names}) and are left out: only {name!r} "
        "is loaded.",
        n,
    )


def ab_issues(cur: duckdb.DuckDBPyConnection, stage: str, report: ValidationReport) -> list[Issue]:
    """Findings of an outcomes or totals file (nothing for the other kinds)."""
    if not report.rows:
        return []
    if report.kind == "outcomes":
        return _outcome_issues(cur, stage, report)
    if report.kind == "totals":
        return _totals_issues(cur, stage, report)
    return []


def _outcome_issues(cur: duckdb.DuckDBPyConnection, stage: str, report: ValidationReport) -> list[Issue]:
    cols = outcome_columns(report.extras)
    issues: list[Issue] = []
    if not cols.outcomes:
        text = ", ".join(cols.segments[:8]) or "none"
        issues.append(
            Issue(
                "error",
                "no_outcomes",
                f"{report.file_name} has no outcome column: besides the user id and the variant, an outcomes file "
                "needs a column of yes/no, True/False, 0/1 or numbers (e.g. converted, revenue); its other "
                f"columns are text: {text}.",
            )
        )
    repeated = cur.execute(
        f"SELECT count(*) FROM (SELECT experiment, user_id FROM {stage} "
        "GROUP BY experiment, user_id HAVING count(*) > 1)"
    ).fetchone()[0]
    if repeated:
        issues.append(
            Issue(
                "warning",
                "repeated_users",
                f"{repeated:,} users have more than one row in {report.file_name}; each counts once: true when any "
                "of their rows is true (yes/no and 0/1 outcomes), the mean of their rows for numbers.",
                int(repeated),
            )
        )
    return issues


def _totals_issues(cur: duckdb.DuckDBPyConnection, stage: str, report: ValidationReport) -> list[Issue]:
    name = report.file_name
    if report.rows > MAX_TOTALS_ROWS:
        return [
            Issue(
                "error",
                "totals_too_long",
                f"{name} has {report.rows:,} rows, but a totals file has one row per arm; if it holds one row per "
                "user, load it as outcomes (--kind outcomes).",
            )
        ]
    cols = totals_columns(report.extras)
    issues: list[Issue] = []
    for col in cols.unpaired:
        issues.append(
            Issue(
                "error",
                "unpaired_mean",
                f"{name} has {col!r} without its pair: a mean outcome needs NAME_mean and NAME_sd (its standard "
                "deviation) side by side.",
            )
        )
    if cols.ignored:
        q = quote_ident(cols.ignored[0])
        example = cur.execute(f"SELECT {q} FROM {stage} WHERE {q} IS NOT NULL LIMIT 1").fetchone()
        shown = f" (e.g. {example[0]!r})" if example else ""
        issues.append(
            Issue(
                "warning",
                "text_in_totals",
                f"{', '.join(cols.ignored)} of {name} {'is' if len(cols.ignored) == 1 else 'are'} text{shown} and "
                "not read: the analysis uses counts and NAME_mean/NAME_sd columns.",
            )
        )
    if not cols.names:
        issues.append(
            Issue(
                "error",
                "no_outcomes",
                f"{name} has no outcome: after variant and users, give per arm a count (e.g. conversions) or a "
                "pair NAME_mean and NAME_sd (e.g. revenue_mean, revenue_sd).",
            )
        )
        return issues
    issues.extend(_totals_numbers(cur, stage, report, cols.counts, cols.means))
    return issues


def _totals_numbers(cur, stage, report, counts, means) -> list[Issue]:
    q = quote_ident
    picks = [f"TRY_CAST({q(c)} AS DOUBLE)" for c in counts.values()]
    for m, sd in means.values():
        picks += [f"TRY_CAST({q(m)} AS DOUBLE)", f"TRY_CAST({q(sd)} AS DOUBLE)"]
    rows = cur.execute(
        f"SELECT experiment, variant, users, {', '.join(picks)} FROM {stage} ORDER BY experiment, variant"
    ).fetchall()
    by_exp: dict[str, list[ArmTotals]] = defaultdict(list)
    for row in rows:
        exp, variant, users, *vals = row
        if any(v is None for v in vals):
            return [
                Issue(
                    "error",
                    "blank_total",
                    f"Arm {variant!r} of {report.file_name} has a blank count, mean or standard deviation; fill "
                    "in every outcome for every arm.",
                )
            ]
        k = len(counts)
        cts = dict(zip(counts, vals[:k], strict=True))
        mns = {o: (vals[k + 2 * i], vals[k + 2 * i + 1]) for i, o in enumerate(means)}
        by_exp[str(exp)].append(ArmTotals(str(variant), int(users), cts, mns))
    for exp, arms in by_exp.items():
        try:
            check_arms(arms, f"{report.file_name} (experiment {exp!r})")
        except LiftboardError as exc:
            return [Issue("error", "impossible_totals", str(exc))]
    return []

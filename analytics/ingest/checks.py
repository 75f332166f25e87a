"""The validation report of a file about to be loaded, computed in SQL on its staged rows."""

from __future__ import annotations

import duckdb

from analytics.ingest.report import Column, Issue, ValidationReport
from analytics.ingest.unmatched import count, fmt_examples, unmatched_predictions
from analytics.ingest.write import table_columns
from analytics.workspace import CANONICAL, MIN_SAMPLED_USERS, USER_BUCKETS, quote_ident

#: A number written with thousands separators (1,234 or 12,345.6): 1234 or 1.234? Refused as ambiguous.
THOUSANDS_RE = r"\s*[-+]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?\s*"

#: Events counted as "outside the experiment period" fall outside [first exposure, last exposure + this].
PERIOD_TAIL_DAYS = 7

#: Types tried, in order, for an extra CSV column (all its non-blank values must cast).
EXTRA_TYPES: tuple[str, ...] = ("BIGINT", "DOUBLE", "DATE", "TIMESTAMP", "BOOLEAN")

#: Above this many rows, exact distinct counts over every row would double the load time. Instead, the rows
#: of the users whose id hashes into 1 of USER_BUCKETS buckets are read once: their distinct users ×
#: USER_BUCKETS estimate the users (relative standard error sqrt((B-1)/N): 0.5% at 500k users, where
#: DuckDB's HyperLogLog was 6% off), and any repeated row among them (a repeat has the same user, so it is
#: in the same bucket) sends the load to the exact duplicate count. Each group of repeated rows is seen
#: with probability 1/USER_BUCKETS, so a file with 100 of them goes unnoticed with probability 0.2%.
EXACT_LIMIT = 5_000_000

#: Rows sampled to propose an extra column's type (then verified on every row).
TYPE_SAMPLE = 50_000

TYPED_MAX_CHARS = 64  # the longest text a number, date, timestamp or flag is written with
LEADING_ZERO_RE = r"\s*[-+]?0[0-9].*"


def validation_report(
    cur: duckdb.DuckDBPyConnection,
    stage: str,
    *,
    kind: str,
    mode: str,
    tables: frozenset[str],
    columns: list[Column],
    mapping: dict[str, str | None],
    file_name: str,
    skip_bad_rows: bool,
    file_format: dict[str, str],
    allow_unmatched: bool = False,
    exact_limit: int = EXACT_LIMIT,
) -> tuple[ValidationReport, str | None]:
    """Validate the staged rows; return the report and the SQL condition of rows to skip (or None).

    `stage` is a quoted stage-table name; every other name comes from CANONICAL or was quoted by the caller.
    `tables` are the canonical tables the workspace held before this load (``Workspace.data_tables``).
    `allow_unmatched` loads a feedback file none of whose prediction_ids is in the predictions table.
    """
    q = quote_ident
    target_exists = kind in tables
    by_name = {c.name: c for c in columns}
    ts = by_name.get("timestamp")
    has_user = "user_id" in by_name

    total = count(cur, f"SELECT count(*) FROM {stage}")
    approximate = total > exact_limit
    sel = ["count(*)"]
    sel.append("count(DISTINCT user_id)" if has_user and not approximate else "NULL")
    sel += ["min(timestamp)", "max(timestamp)"] if ts else ["NULL", "NULL"]
    data_cols = [q(c.name) for c in columns]
    row_hash = f"hash({', '.join(data_cols)})"
    blank_checks: list[tuple[Column, int]] = []
    bad_checks: list[tuple[Column, int]] = []
    extra_checks: list[tuple[Column, int, str]] = []
    blank_of: dict[str, str] = {}  # column -> SQL condition of its blank rows
    ends: dict[str, int] = {}  # text column -> index of its min() (max() follows)
    for col in columns:
        if col.required:
            ref = q(col.name)
            if col.dtype == "VARCHAR":
                # Counted as NULLs first; min() and max() in the same scan tell whether a value could be
                # empty or spaces only (see below), which is rare, so trim() on every row is not paid for.
                ends[col.name] = len(sel)
                sel += [f"min({ref})", f"max({ref})"]
                blank_of[col.name] = f"({ref} IS NULL)"
            else:
                blank_of[col.name] = f"({ref} IS NULL AND {q(col.flag) if col.flag else 'NULL'} IS NULL)"
            blank_checks.append((col, len(sel)))
            sel.append(f"count(*) FILTER ({blank_of[col.name]})")
        if col.flag:
            bad_checks.append((col, len(sel)))
            sel.append(f"count({q(col.flag)})")
            sel.append(f"count(*) FILTER (regexp_full_match({q(col.flag)}, '{THOUSANDS_RE}'))")
        if col.extra and col.source_type == "VARCHAR" and col.dtype == "VARCHAR":
            # A sample proposes a type; the full scan then verifies only that one (text needs no check).
            candidate = _candidate_type(cur, stage, col.name)
            if candidate is not None:
                extra_checks.append((col, len(sel), candidate))
                value = short(q(col.name))  # a long value fails the candidate without being copied
                sel.append(f"count(NULLIF(trim({value}), ''))")
                sel.append(f"count(*) FILTER (regexp_full_match({value}, '{LEADING_ZERO_RE}'))")
                sel.append(_parses(value, candidate))
    row = list(cur.execute(f"SELECT {', '.join(sel)} FROM {stage}").fetchone())  # names quoted
    rows, users, first, last = row[0], row[1], row[2], row[3]
    repeats_seen = True  # unless the sample below says otherwise, count duplicates exactly
    if approximate and rows:
        # The bucket is a constant of ours, inlined: a bound parameter here makes DuckDB 10x slower.
        bucket = f"hash(user_id) % {USER_BUCKETS} = 0" if has_user else f"{row_hash} % {USER_BUCKETS} = 0"
        n, distinct_rows, sampled_users = cur.execute(
            f"SELECT count(*), count(DISTINCT h), {'count(DISTINCT user_id)' if has_user else 'NULL'} "
            f"FROM (SELECT {row_hash} AS h{', user_id' if has_user else ''} FROM {stage} WHERE {bucket})"
        ).fetchone()
        repeats_seen = n > distinct_rows
        if has_user:
            if sampled_users >= MIN_SAMPLED_USERS:
                users = sampled_users * USER_BUCKETS
            else:
                users = count(cur, f"SELECT count(DISTINCT user_id) FROM {stage}")
    # A blank text value starts with an ASCII space (sorts below '!') or a Unicode space that trim() also
    # removes (sorts from chr(128)). Only a column whose smallest or largest value starts so can hold one;
    # for those, one more scan counts them exactly (the cheap comparisons spare trim() on most rows).
    suspects = [
        name
        for name, i in ends.items()
        if row[i] is not None and (row[i][:1] <= " " or row[i + 1][:1] >= "\x80")
    ]
    if suspects:
        for name in suspects:
            ref = q(name)
            blank_of[name] = f"({ref} IS NULL OR (({ref} < '!' OR {ref} >= chr(128)) AND trim({ref}) = ''))"
        counts = cur.execute(
            f"SELECT {', '.join(f'count(*) FILTER ({blank_of[n]})' for n in suspects)} FROM {stage}"
        ).fetchone()
        at = {col.name: i for col, i in blank_checks}
        for name, n in zip(suspects, counts, strict=True):
            row[at[name]] = n
    bad_conds = [blank_of[col.name] for col, _ in blank_checks]
    bad_conds += [f"{q(col.flag)} IS NOT NULL" for col, _ in bad_checks]
    issues: list[Issue] = []
    bad_cond = " OR ".join(bad_conds) if bad_conds else None
    skipped = 0
    row_errors = 0

    if rows == 0:
        issues.append(
            Issue(
                "error",
                "no_rows",
                f"{file_name} has a header but no rows; export the data again with its rows.",
            )
        )
    for col, i in blank_checks:
        n = row[i]
        if n:
            row_errors += n
            issues.append(
                Issue(
                    "error",
                    "blank_required",
                    f"{file_name} has {n:,} rows with a blank or null {col.name} (source column "
                    f"{mapping.get(col.name)!r}); fill them in, or skip those rows.",
                    n,
                    skippable=True,
                )
            )
    for col, i in bad_checks:
        n, thousands = row[i], row[i + 1]
        if not n:
            continue
        row_errors += n
        examples = [
            r[0]
            for r in cur.execute(
                f"SELECT DISTINCT {q(col.flag)} FROM {stage} WHERE {q(col.flag)} IS NOT NULL LIMIT 5"
            ).fetchall()
        ]
        src = mapping.get(col.name) or col.name
        if col.dtype == "TIMESTAMP":
            code, what = "bad_timestamp", f"timestamps in {src!r} that do not parse"
            fix = "use ISO 8601 (2026-09-01 13:45:00), or skip those rows"
        elif thousands == n:
            code, what = (
                "thousands_separator",
                f"numbers in {src!r} with thousands separators (e.g. 1,234) that cannot be read unambiguously",
            )
            fix = "export numbers without thousands separators, or skip those rows"
        else:
            code, what = "text_in_numeric", f"values in the numeric column {src!r} that are not numbers"
            fix = "fix or blank them, map another column, or skip those rows"
        issues.append(
            Issue(
                "error",
                code,
                f"{file_name} has {n:,} {what} (e.g. {', '.join(repr(e) for e in examples[:3])}); {fix}.",
                n,
                fmt_examples(examples),
                skippable=True,
            )
        )

    extras: dict[str, str] = {c.name: c.dtype for c in columns if c.extra}
    for col, i, candidate in extra_checks:
        nonblank, leading_zero, parsed = row[i], row[i + 1], row[i + 2]
        if nonblank and not leading_zero and parsed == nonblank:
            extras[col.name] = candidate  # else: ids like 00123 whose zeros matter, or mixed: text

    if bad_cond and row_errors:
        skipped = count(cur, f"SELECT count(*) FROM {stage} WHERE {bad_cond}")
        if skip_bad_rows and skipped < rows:
            issues = [
                Issue("warning", i.code, i.message, i.count, i.examples, True) if i.skippable else i
                for i in issues
            ]
            issues.append(
                Issue(
                    "warning",
                    "skipped_rows",
                    f"{skipped:,} bad rows of {file_name} will be skipped.",
                    skipped,
                )
            )
        else:
            skipped = 0

    dup_in_file = 0
    dup_loaded = 0
    if rows:
        if repeats_seen:
            dup_in_file = rows - count(cur, f"SELECT count(DISTINCT {row_hash}) FROM {stage}")
        if dup_in_file:
            issues.append(
                Issue(
                    "warning",
                    "duplicates_in_file",
                    f"{dup_in_file:,} rows of {file_name} repeat another row of the file.",
                    dup_in_file,
                )
            )
    target = q(kind)
    if rows and target_exists and mode == "append":
        existing = set(table_columns(cur, kind))
        common = [q(c.name) for c in columns if c.name in existing and not c.extra] or data_cols[:1]
        hashed = f"hash({', '.join(common)})"
        dup_loaded = count(
            cur,
            f"SELECT count(*) FROM {stage} WHERE {hashed} IN (SELECT {hashed} FROM {target})",
        )
        if dup_loaded:
            every = " (every row)" if dup_loaded == rows else ""
            issues.append(
                Issue(
                    "warning",
                    "duplicates_of_loaded",
                    f"{dup_loaded:,} rows of {file_name}{every} are already loaded in {kind}; appending duplicates them (use replace to start over).",
                    dup_loaded,
                )
            )
        if kind == "events":
            unknown = cur.execute(
                f"SELECT event, count(*) AS n FROM {stage} WHERE event NOT IN "
                f"(SELECT DISTINCT event FROM {target} WHERE event IS NOT NULL) GROUP BY event ORDER BY n DESC"
            ).fetchall()
            if unknown:
                n = sum(r[1] for r in unknown)
                names = [str(r[0]) for r in unknown[:10]]
                issues.append(
                    Issue(
                        "warning",
                        "unknown_events",
                        f"{n:,} rows of {file_name} carry {len(unknown)} event names never loaded before "
                        f"({', '.join(names[:5])}); check the event taxonomy.",
                        n,
                        tuple(names),
                    )
                )
    if rows and kind in ("assignments", "outcomes"):
        union = f"SELECT experiment, user_id, variant FROM {stage}"
        if target_exists and mode == "append":
            union += f" UNION ALL SELECT experiment, user_id, variant FROM {target}"
        multi = count(
            cur,
            f"SELECT count(*) FROM (SELECT experiment, user_id FROM ({union}) "
            "GROUP BY experiment, user_id HAVING count(DISTINCT variant) > 1)",
        )
        if multi:
            issues.append(
                Issue(
                    "warning",
                    "multi_variant_users",
                    f"{multi:,} users were exposed to more than one variant of an experiment; analyses exclude and count them.",
                    multi,
                )
            )
    if rows and kind == "events" and ts and "assignments" in tables:
        outside = count(
            cur,
            f"WITH p AS (SELECT min(timestamp) AS lo, max(timestamp) + INTERVAL {PERIOD_TAIL_DAYS} DAY AS hi "
            f"FROM assignments) SELECT count(*) FROM {stage}, p WHERE timestamp < p.lo OR timestamp >= p.hi",
        )
        if outside:
            issues.append(
                Issue(
                    "warning",
                    "outside_experiment_period",
                    f"{outside:,} events fall outside the experiments' period (first exposure to "
                    f"{PERIOD_TAIL_DAYS} days after the last); they count only as pre-exposure history.",
                    outside,
                )
            )
    if rows and dup_in_file == rows - 1 and rows > 1:
        pass  # every row identical: the duplicates warning already says so
    with_pid, unmatched = 0, None
    if rows and kind == "feedback":  # every canonical column is staged: an unmapped prediction_id is NULL
        # rows that will be skipped do not count
        keep = f"NOT ({bad_cond})" if skipped and bad_cond else "true"
        with_pid, unmatched, issue = unmatched_predictions(
            cur, stage, keep, file_name, has_predictions="predictions" in tables, allow=allow_unmatched
        )
        if issue is not None:
            issues.append(issue)

    report = ValidationReport(
        file_name=file_name,
        kind=kind,
        mode=mode,
        rows=int(rows),
        users=None if users is None else int(users),
        first=first,
        last=last,
        mapping=dict(mapping),
        extras=extras,
        issues=tuple(issues),
        skipped_rows=int(skipped),
        approximate=approximate,
        duplicates_in_file=int(dup_in_file),
        duplicates_of_loaded=int(dup_loaded),
        file_format=dict(file_format),
        rows_with_prediction_id=int(with_pid),
        unmatched_prediction_ids=unmatched,
    )
    return report, (bad_cond if skipped else None)


def _parses(ref: str, dtype: str) -> str:
    """SQL counting the values of a text column that read as dtype."""
    if dtype == "BIGINT":  # TRY_CAST('0.5' AS BIGINT) rounds: integers must look like integers
        return f"count(*) FILTER (regexp_full_match({ref}, '\\s*[-+]?[0-9]{{1,18}}\\s*'))"
    if dtype == "DATE":  # TRY_CAST('2026-03-01 10:00' AS DATE) drops the time: a date is a date alone
        return f"count(*) FILTER (length(trim({ref})) <= 10 AND TRY_CAST(NULLIF(trim({ref}), '') AS DATE) IS NOT NULL)"
    return f"count(TRY_CAST(NULLIF(trim({ref}), '') AS {dtype}))"


def short(ref: str) -> str:
    """The value if short enough to be a number, date or flag, else '?' (parsing as none): trim() or a regex
    copies each value of a 2,048-row batch, gigabytes on megabyte cells; a long value is text anyway."""
    return f"CASE WHEN strlen({ref}) > {TYPED_MAX_CHARS} THEN '?' ELSE {ref} END"  # a NULL stays NULL


def _candidate_type(cur: duckdb.DuckDBPyConnection, stage: str, name: str) -> str | None:
    """The first of EXTRA_TYPES that every non-blank value of a sample reads as; None for text."""
    ref = "v"
    checks = [
        f"count(NULLIF(trim({ref}), ''))",
        f"count(*) FILTER (regexp_full_match({ref}, '{LEADING_ZERO_RE}'))",
    ]
    checks += [_parses(ref, t) for t in EXTRA_TYPES]
    sample = f"SELECT {short(quote_ident(name))} AS v FROM {stage} LIMIT {TYPE_SAMPLE}"
    row = cur.execute(f"SELECT {', '.join(checks)} FROM ({sample})").fetchone()
    nonblank, leading_zero = row[0], row[1]
    if not nonblank or leading_zero:
        return None
    return next((t for t, n in zip(EXTRA_TYPES, row[2:], strict=True) if n == nonblank), None)


def required_columns(kind: str) -> dict[str, str]:
    return CANONICAL[kind]["required"]

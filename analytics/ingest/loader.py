"""Loading files into the workspace: column mapping, preview, validation and the transactional load."""

from __future__ import annotations

import dataclasses
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from analytics.errors import LiftboardError
from analytics.ingest.ab_checks import ab_issues, keep_experiment
from analytics.ingest.checks import validation_report
from analytics.ingest.detect import FileInfo, sniff, utf8_copy
from analytics.ingest.mapping import (
    EXPERIMENT_KINDS,
    check_header,
    check_kind,
    index_note,
    pandas_index,
    resolve_mapping,
)
from analytics.ingest.report import Issue, ValidationReport
from analytics.ingest.staging import raw_refs, read_error, reader_types, source_sql, stage_sql
from analytics.ingest.upload import FileHasher
from analytics.ingest.write import Progress, finish_load, run_with_progress, whoami
from analytics.workspace import Actor, Workspace, load_marks, quote_ident, record_marks, require


@dataclass(frozen=True)
class LoadResult:
    """A committed load: its record in lb_loads and the validation report it passed."""

    load_id: int
    report: ValidationReport
    record: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"load_id": self.load_id, "report": self.report.to_dict(), "record": self.record}


@dataclass(frozen=True)
class _Options:
    """How to read and load a file: the keyword arguments of ``validate`` and ``load``, passed as one."""

    mapping: dict[str, str | None] | None = None
    replace: bool = False
    skip_bad_rows: bool = False
    allow_unmatched: bool = False
    encoding: str | None = None
    delimiter: str | None = None
    name: str | None = None
    max_bytes: int | None = None
    experiment: str | None = None  # the experiment of a file without that column, or the one to keep
    money: tuple[str, ...] | None = None  # columns marked as money (None: nothing marked by hand)
    typed_read: bool = True  # first let the CSV reader type timestamps and numbers (see staging.reader_types)


def _process(
    ws: Workspace,
    path: str | Path,
    kind: str,
    opts: _Options,
    *,
    commit: bool,
    source_label: str | None = None,
    actor: Actor | None = None,
    progress: Progress | None = None,
) -> LoadResult | ValidationReport:
    check_kind(kind)
    if ws.read_only:
        raise LiftboardError(f"The workspace {ws.path} is open read-only; nothing can be loaded.")
    say = progress or (lambda _f, _s: None)
    say(0.0, "Inspecting the file")
    info = sniff(
        path, encoding=opts.encoding, delimiter=opts.delimiter, name=opts.name, max_bytes=opts.max_bytes
    )
    check_header(info)
    if opts.experiment is not None and kind not in EXPERIMENT_KINDS:
        raise LiftboardError(
            f"An experiment name is given for {kind}, which has no experiment; --experiment applies to "
            f"{', '.join(EXPERIMENT_KINDS)}."
        )
    resolved = resolve_mapping(kind, info, opts.mapping, experiment=opts.experiment)
    hasher = FileHasher(info.path)
    if commit:
        hasher.start()
    run: dict[str, Any] = {
        "commit": commit,
        "source_label": source_label,
        "actor": actor,
        "progress": progress,
    }
    if info.encoding == "utf-16-be":
        with tempfile.TemporaryDirectory(prefix="liftboard-") as tmp:
            say(0.01, "Converting the file to UTF-8")
            converted = dataclasses.replace(opts, encoding="utf-16-be")
            return _stage_and_commit(
                ws, utf8_copy(info, tmp), kind, resolved, hasher, converted, retry=None, **run
            )
    return _stage_and_commit(ws, info, kind, resolved, hasher, opts, retry=path, **run)


def _monotonic(progress: Progress | None) -> Progress | None:
    """A progress callback that never goes back (a second read of the file restarts DuckDB's progress)."""
    if progress is None:
        return None
    high = [0.0]

    def say(fraction: float, label: str) -> None:
        high[0] = max(high[0], fraction)
        progress(high[0], label)

    return say


def _stage_and_commit(
    ws: Workspace,
    info: FileInfo,
    kind: str,
    resolved: dict[str, str | None],
    hasher: FileHasher,
    opts: _Options,
    *,
    retry: str | Path | None,
    commit: bool,
    source_label: str | None,
    actor: Actor | None,
    progress: Progress | None,
) -> LoadResult | ValidationReport:
    """Stage, validate and (when commit) load in one transaction; retry: the path to read again as Latin-1."""
    say = progress or (lambda _f, _s: None)
    tables = frozenset(ws.data_tables())  # the canonical tables before this load
    cur = ws.cursor()
    cur.execute("SET TimeZone = 'UTC'")  # naive timestamps are UTC; offsets are converted to UTC
    cur.execute("BEGIN TRANSACTION")
    try:
        load_id = int(cur.execute("SELECT nextval('lb_load_seq')").fetchone()[0])
        stage = quote_ident(f"lb_stage_{load_id}")
        target_exists = kind in tables
        mode = "replace" if (opts.replace and target_exists) else ("append" if target_exists else "new")
        typed = reader_types(kind, info, resolved) if opts.typed_read else {}
        refs = raw_refs(info, cur, typed)
        named = opts.experiment.strip() if opts.experiment else None
        filling = named if resolved.get("experiment") is None else None
        sql, columns = stage_sql(kind, info, resolved, refs, stage, typed, experiment=filling)
        _, params = source_sql(info, typed)
        if "$load_id" in sql:
            params["load_id"] = str(load_id)
        if "$experiment" in sql:
            params["experiment"] = filling
        try:
            run_with_progress(cur, sql, params, progress, 0.02, 0.8, "Reading the file")
        except duckdb.Error as exc:
            if typed:
                # Some value would not parse as its type: read every column as text instead, where each
                # bad value is counted and shown (and can be skipped). Clean files never pay for this.
                cur.execute("ROLLBACK")
                cur.close()
                return _stage_and_commit(
                    ws,
                    info,
                    kind,
                    resolved,
                    hasher,
                    dataclasses.replace(opts, typed_read=False),
                    retry=retry,
                    commit=commit,
                    source_label=source_label,
                    actor=actor,
                    progress=_monotonic(progress),
                )
            if (
                retry is not None
                and info.encoding == "utf-8"
                and opts.encoding is None
                and "unicode" in str(exc).lower()
            ):
                # Invalid UTF-8 beyond the sniffed sample: the file is Latin-1 after all.
                cur.execute("ROLLBACK")
                cur.close()
                latin = dataclasses.replace(opts, encoding="latin-1", delimiter=info.delimiter)
                return _process(
                    ws,
                    retry,
                    kind,
                    latin,
                    commit=commit,
                    source_label=source_label,
                    actor=actor,
                    progress=progress,
                )
            raise read_error(info, exc) from None
        say(0.82, "Validating")
        notes = (
            [Issue("warning", "unnamed_index", index_note(info))] if pandas_index(info) is not None else []
        )
        if named and filling is None:
            kept = keep_experiment(cur, stage, named, info.name)
            notes += [kept] if kept else []
        fmt = {
            "format": info.format,
            "compression": info.compression,
            "encoding": "utf-16-be" if opts.encoding == "utf-16-be" else info.encoding,
            "delimiter": info.delimiter,
        }
        report, skip_cond = validation_report(
            cur,
            stage,
            kind=kind,
            mode=mode,
            tables=tables,
            columns=columns,
            mapping=resolved,
            file_name=info.name,
            skip_bad_rows=opts.skip_bad_rows,
            file_format=fmt,
            allow_unmatched=opts.allow_unmatched,
        )
        extra = notes + ab_issues(cur, stage, report)
        report = dataclasses.replace(report, issues=(*report.issues, *extra), experiment=named)
        if not commit:
            cur.execute("ROLLBACK")
            cur.close()
            say(1.0, "Validated")
            return report
        if not report.ok:
            first = report.errors[0].message
            more = len(report.errors) - 1
            raise LiftboardError(
                first + (f" ({more} more problem{'s' if more > 1 else ''} in the report.)" if more else "")
            )
        say(0.9, "Writing")
        if skip_cond:
            cur.execute(f"DELETE FROM {stage} WHERE {skip_cond}")  # built from quoted names
        finish_load(cur, kind, stage, mode, columns, report)
        marks = load_marks(kind, resolved, report.extras, opts.money)
        if marks:
            record_marks(ws, cur, kind, marks)
        hasher.join()
        record = {
            "load_id": load_id,
            "kind": kind,
            "file_name": info.name,
            "content_hash": hasher.digest,
            "rows": report.rows_to_load,
            "mode": mode,
            "loaded_by": actor.name if actor is not None else whoami(),
            "source": source_label or str(info.path),
            "mapping": resolved,
        }
        cur.execute(
            "INSERT INTO lb_loads VALUES (?, ?, ?, ?, ?, ?, now()::TIMESTAMP, ?, ?, ?)",
            [
                load_id,
                kind,
                info.name,
                hasher.digest,
                report.rows_to_load,
                mode,
                record["loaded_by"],
                record["source"],
                json.dumps(resolved, sort_keys=True),
            ],
        )
        ws.audit(
            cur,
            record["loaded_by"],
            f"load:{mode}",
            kind,
            None,
            {k: v for k, v in record.items() if k != "mapping"} | {"skipped_rows": report.skipped_rows},
        )
        record["loaded_at"] = cur.execute(
            "SELECT loaded_at FROM lb_loads WHERE load_id = ?", [load_id]
        ).fetchone()[0]
        cur.execute("COMMIT")
        cur.close()
    except BaseException as exc:
        try:
            cur.execute("ROLLBACK")
        except duckdb.Error:
            pass  # already rolled back
        if isinstance(exc, duckdb.OutOfMemoryException):
            limit = ws.scalar("SELECT current_setting('memory_limit')")
            cur.close()
            raise LiftboardError(
                f"Checking {info.name} needs more memory than this workspace may use ({limit}): its cells "
                "are very long or it is very large; shorten or drop its longest text columns, or split the file."
            ) from None
        cur.close()
        raise
    say(1.0, "Loaded")
    return LoadResult(load_id, report, record)


def validate(
    ws: Workspace,
    path: str | Path,
    kind: str,
    *,
    actor: Actor | None,
    mapping: dict[str, str | None] | None = None,
    replace: bool = False,
    skip_bad_rows: bool = False,
    allow_unmatched: bool = False,
    encoding: str | None = None,
    delimiter: str | None = None,
    name: str | None = None,
    progress: Progress | None = None,
    max_bytes: int | None = None,
    experiment: str | None = None,
    money: tuple[str, ...] | None = None,
) -> ValidationReport:
    """The validation report of a load, computed by staging the file in a transaction that is rolled back.

    Nothing is committed; errors are in the report (``report.ok`` is False) rather than raised, except
    problems that stop the file from being read at all (those raise LiftboardError). The arguments are
    those of ``load``; as there, the actor's role must allow loading, checked before the file is opened.
    """
    require(actor, "load")
    opts = _Options(
        mapping=mapping, replace=replace, skip_bad_rows=skip_bad_rows, allow_unmatched=allow_unmatched,
        encoding=encoding, delimiter=delimiter, name=name, max_bytes=max_bytes, experiment=experiment,
        money=money,
    )  # fmt: skip
    out = _process(ws, path, kind, opts, commit=False, progress=progress)
    assert isinstance(out, ValidationReport)
    return out


def load(
    ws: Workspace,
    path: str | Path,
    kind: str,
    *,
    mapping: dict[str, str | None] | None = None,
    replace: bool = False,
    skip_bad_rows: bool = False,
    allow_unmatched: bool = False,
    encoding: str | None = None,
    delimiter: str | None = None,
    name: str | None = None,
    source: str | None = None,
    actor: Actor | None,
    progress: Progress | None = None,
    max_bytes: int | None = None,
    experiment: str | None = None,
    money: tuple[str, ...] | None = None,
) -> LoadResult:
    """Validate and load a file in one transaction (new table, append, or replace).

    Any error (a LiftboardError naming the file, problem and fix) leaves the workspace exactly as it was;
    so does a process killed mid-load, since nothing is committed until the end.

    Args:
        mapping: canonical column -> source column overrides of the automatic mapping (None unmaps).
        replace: replace the kind's table instead of appending to it.
        skip_bad_rows: drop rows with unparseable timestamps/numbers or blank ids instead of refusing.
        allow_unmatched: load a feedback file even when none of its prediction_ids is in the predictions
            table (refused by default: it most likely belongs to another workspace).
        name: the file name to record (an upload's original name); source: where it came from.
        progress: called with (fraction 0..1, step label) from the calling thread.
        actor: who loads; their role must allow loading (editor or admin), checked before anything is read.
        experiment: the experiment of an assignments, outcomes or totals file without an experiment column
            (one file, one experiment); with the column, only that experiment's rows are loaded.
        money: the columns whose numbers are money (shown in dollars); None keeps the rule by name
            (workspace.units), a tuple marks these columns as money and the file's other numbers as not.
    """
    require(actor, "load")
    opts = _Options(
        mapping=mapping, replace=replace, skip_bad_rows=skip_bad_rows, allow_unmatched=allow_unmatched,
        encoding=encoding, delimiter=delimiter, name=name, max_bytes=max_bytes, experiment=experiment,
        money=money,
    )  # fmt: skip
    out = _process(ws, path, kind, opts, commit=True, source_label=source, actor=actor, progress=progress)
    assert isinstance(out, LoadResult)
    return out

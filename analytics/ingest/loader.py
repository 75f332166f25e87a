"""Loading files into the workspace: column mapping, preview, validation and the transactional load."""

from __future__ import annotations

import dataclasses
import getpass
import hashlib
import json
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import duckdb
import pandas as pd

from analytics.access import Actor, require
from analytics.errors import LiftboardError
from analytics.mapping import (  # re-exported: the page and the CLI use ingest as one entry point
    SYNONYMS,
    _check_kind,
    canonical_columns,
    check_header,
    guess_mapping,
    normalise,
    resolve_mapping,
)
from analytics.sniff import FileInfo, sniff, utf8_copy
from analytics.staging import _raw_refs, _read_error, _source, _stage_sql, reader_types
from analytics.store import Workspace, quote_ident
from analytics.validate import Column, ValidationReport, build_report

__all__ = [
    "SYNONYMS",
    "LoadResult",
    "Preview",
    "canonical_columns",
    "check_header",
    "delete_dataset",
    "guess_mapping",
    "load",
    "normalise",
    "preview",
    "resolve_mapping",
    "spool",
    "validate",
]

Progress = Callable[[float, str], None]


def _run(
    cur: duckdb.DuckDBPyConnection,
    sql: str,
    params: dict[str, Any] | None,
    progress: Progress | None,
    lo: float,
    hi: float,
    label: str,
) -> None:
    """Execute one statement; while it runs, report DuckDB's own progress between lo and hi."""
    if progress is None:
        cur.execute(sql, params)
        return
    box: dict[str, BaseException] = {}

    def work() -> None:
        try:
            cur.execute(sql, params)
        except BaseException as exc:  # handed to the caller's thread
            box["exc"] = exc

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    progress(lo, label)
    while worker.is_alive():
        worker.join(0.25)
        pct = cur.query_progress()
        if pct is not None and pct >= 0:
            progress(lo + (hi - lo) * min(pct, 100.0) / 100.0, label)
    if "exc" in box:
        raise box["exc"]
    progress(hi, label)


class _Hasher(threading.Thread):
    """sha256 of the file, computed beside the load (hashlib releases the GIL on large blocks)."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path, self.digest = path, ""

    def run(self) -> None:
        h = hashlib.sha256()
        with self.path.open("rb") as fh:
            while block := fh.read(8 * 2**20):
                h.update(block)
        self.digest = h.hexdigest()


@dataclass(frozen=True)
class Preview:
    """The first rows of a file as text, how it was read, and the automatic mapping."""

    info: FileInfo
    mapping: dict[str, str | None]
    rows: pd.DataFrame
    extras: tuple[str, ...]


@dataclass(frozen=True)
class LoadResult:
    """A committed load: its record in lb_loads and the validation report it passed."""

    load_id: int
    report: ValidationReport
    record: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"load_id": self.load_id, "report": self.report.to_dict(), "record": self.record}


def preview(
    path: str | Path,
    kind: str,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    name: str | None = None,
    limit: int = 20,
    max_bytes: int | None = None,
) -> Preview:
    """Read only the first rows (through DuckDB) and guess the mapping; nothing is written."""
    _check_kind(kind)
    info = sniff(path, encoding=encoding, delimiter=delimiter, name=name, max_bytes=max_bytes)
    check_header(info)
    with tempfile.TemporaryDirectory(prefix="liftboard-") as tmp:
        readable = utf8_copy(info, tmp) if info.encoding == "utf-16-be" else info  # rare: big-endian
        source, params = _source(readable)
        con = duckdb.connect()
        try:
            df = con.execute(f"SELECT * FROM {source} LIMIT {int(limit)}", params).df()  # noqa: S608
        except duckdb.Error as exc:
            raise _read_error(info, exc) from None
        finally:
            con.close()
    df.columns = list(info.header)
    mapping = guess_mapping(kind, info.header)
    mapped = {s for s in mapping.values() if s}
    return Preview(info, mapping, df, tuple(h for h in info.header if h not in mapped))


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
    _check_kind(kind)
    if ws.read_only:
        raise LiftboardError(f"The workspace {ws.path} is open read-only; nothing can be loaded.")
    say = progress or (lambda _f, _s: None)
    say(0.0, "Inspecting the file")
    info = sniff(
        path, encoding=opts.encoding, delimiter=opts.delimiter, name=opts.name, max_bytes=opts.max_bytes
    )
    check_header(info)
    resolved = resolve_mapping(kind, info, opts.mapping)
    hasher = _Hasher(info.path)
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
    hasher: _Hasher,
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
        refs = _raw_refs(info, cur, typed)
        sql, columns = _stage_sql(kind, info, resolved, refs, stage, typed)
        _, params = _source(info, typed)
        if "$load_id" in sql:
            params["load_id"] = str(load_id)
        try:
            _run(cur, sql, params, progress, 0.02, 0.8, "Reading the file")
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
            raise _read_error(info, exc) from None
        say(0.82, "Validating")
        fmt = {
            "format": info.format,
            "compression": info.compression,
            "encoding": "utf-16-be" if opts.encoding == "utf-16-be" else info.encoding,
            "delimiter": info.delimiter,
        }
        report, skip_cond = build_report(
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
            cur.execute(f"DELETE FROM {stage} WHERE {skip_cond}")  # noqa: S608 - built from quoted names
        _finish(cur, kind, stage, mode, columns, report)
        hasher.join()
        record = {
            "load_id": load_id,
            "kind": kind,
            "file_name": info.name,
            "content_hash": hasher.digest,
            "rows": report.rows_to_load,
            "mode": mode,
            "loaded_by": actor.name if actor is not None else _whoami(),
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
    except BaseException:
        try:
            cur.execute("ROLLBACK")
        except duckdb.Error:
            pass  # already rolled back
        cur.close()
        raise
    say(1.0, "Loaded")
    return LoadResult(load_id, report, record)


def _finish(
    cur: duckdb.DuckDBPyConnection,
    kind: str,
    stage: str,
    mode: str,
    columns: list[Column],
    report: ValidationReport,
) -> None:
    """Turn the staged rows into the canonical table: rename it (new/replace) or append to it."""
    q = quote_ident
    target = q(kind)
    for col in columns:
        if col.flag:
            cur.execute(f"ALTER TABLE {stage} DROP COLUMN {q(col.flag)}")
    if mode in ("new", "replace"):
        for name, dtype in report.extras.items():
            col = next(c for c in columns if c.name == name)
            if dtype != col.dtype:
                cur.execute(
                    f"ALTER TABLE {stage} ALTER COLUMN {q(name)} TYPE {dtype} "
                    f"USING TRY_CAST(NULLIF(trim({q(name)}), '') AS {dtype})"
                )
        if mode == "replace":
            cur.execute(f"DROP TABLE {target}")
        cur.execute(f"ALTER TABLE {stage} RENAME TO {target}")
        return
    existing = {k.lower(): (k, v) for k, v in _columns(cur, kind).items()}
    names, exprs = [], []
    for col in columns:
        dtype = report.extras.get(col.name, col.dtype) if col.extra else col.dtype
        if col.name.lower() not in existing:
            # Schema evolution: a new property (or an optional column earlier files lacked).
            cur.execute(f"ALTER TABLE {target} ADD COLUMN {q(col.name)} {dtype}")
            existing[col.name.lower()] = (col.name, dtype)
        tname, ttype = existing[col.name.lower()]
        ref = q(col.name)
        if col.dtype == "VARCHAR" and ttype != "VARCHAR":
            ref = f"TRY_CAST(NULLIF(trim({ref}), '') AS {ttype})"
        elif ttype != col.dtype:
            ref = f"TRY_CAST({ref} AS {ttype})"
        names.append(q(tname))
        exprs.append(ref)
    cur.execute(f"INSERT INTO {target} ({', '.join(names)}) SELECT {', '.join(exprs)} FROM {stage}")  # noqa: S608
    cur.execute(f"DROP TABLE {stage}")


def _columns(cur: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    rows = cur.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def _whoami() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def validate(
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
    progress: Progress | None = None,
    max_bytes: int | None = None,
) -> ValidationReport:
    """The validation report of a load, computed by staging the file in a transaction that is rolled back.

    Nothing is committed; errors are in the report (``report.ok`` is False) rather than raised, except
    problems that stop the file from being read at all (those raise LiftboardError). The arguments are
    those of ``load``.
    """
    opts = _Options(
        mapping=mapping, replace=replace, skip_bad_rows=skip_bad_rows, allow_unmatched=allow_unmatched,
        encoding=encoding, delimiter=delimiter, name=name, max_bytes=max_bytes,
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
    """
    require(actor, "load")
    opts = _Options(
        mapping=mapping, replace=replace, skip_bad_rows=skip_bad_rows, allow_unmatched=allow_unmatched,
        encoding=encoding, delimiter=delimiter, name=name, max_bytes=max_bytes,
    )  # fmt: skip
    out = _process(ws, path, kind, opts, commit=True, source_label=source, actor=actor, progress=progress)
    assert isinstance(out, LoadResult)
    return out


def delete_dataset(ws: Workspace, kind: str, *, actor: Actor | None) -> int:
    """Drop a canonical table (admins only; recorded in lb_loads and the audit trail); returns the rows removed."""
    who = require(actor, "delete").name
    table = ws.table(kind)  # a LiftboardError when it does not exist
    with ws.transaction() as cur:
        rows = int(cur.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608
        cur.execute(f"DROP TABLE {table}")
        cur.execute(
            "INSERT INTO lb_loads VALUES (nextval('lb_load_seq'), ?, NULL, NULL, ?, 'delete', "
            "now()::TIMESTAMP, ?, NULL, NULL)",
            [kind, rows, who],
        )
        ws.audit(cur, who, "delete", kind, {"rows": rows}, None)
    return rows


def spool(fileobj: BinaryIO, name: str, dest_dir: str | Path | None = None) -> Path:
    """Copy an uploaded file to disk in chunks (never whole in memory) and return its path."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).name) or "upload"
    directory = Path(dest_dir) if dest_dir else Path(tempfile.mkdtemp(prefix="liftboard-upload-"))
    directory.mkdir(parents=True, exist_ok=True)
    out = directory / safe
    if hasattr(fileobj, "seek"):
        fileobj.seek(0)
    with out.open("wb") as fh:
        shutil.copyfileobj(fileobj, fh, length=8 * 2**20)
    return out

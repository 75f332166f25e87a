"""Loading a tool's export: each file read once in SQL, checked, and written as events + assignments in one go."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from analytics.errors import LiftboardError
from analytics.ingest.checks import validation_report
from analytics.ingest.report import Column
from analytics.ingest.sources.exposures import build_assignments, count_exposures, experiments_found
from analytics.ingest.sources.files import ExportFile, cleanup, inspect
from analytics.ingest.sources.flatten import Plan, discover, flatten_sql, nested_columns, plan
from analytics.ingest.sources.issues import dotted, label, mapping, notes, require_fields, with_bad_json
from analytics.ingest.sources.money import value_unit
from analytics.ingest.sources.read import (
    BAD_JSON,
    DUP,
    FILE,
    RESERVED,
    Kind,
    SampleKeys,
    bad_json_examples_sql,
    held,
    read_columns,
    sample_keys,
    scalar_names,
    stage_sql,
    typed_scalars,
)
from analytics.ingest.sources.registry import check, get_source
from analytics.ingest.sources.report import ExportFileReport, ExportLoadResult, ExportReport
from analytics.ingest.sources.spec import Field, Source
from analytics.ingest.upload import FileHasher
from analytics.ingest.write import Progress, finish_load, run_with_progress, whoami
from analytics.workspace import Actor, Workspace, quote_ident, record_marks, require

q = quote_ident
_ASSIGNMENT_COLUMNS = [Column(n, t, required=True, source_type=t) for n, t in
                       (("user_id", "VARCHAR"), ("experiment", "VARCHAR"), ("variant", "VARCHAR"), ("timestamp", "TIMESTAMP"))]  # fmt: skip


@dataclass(frozen=True)
class _Options:
    """The keyword arguments of validate_export and load_export, passed as one."""

    experiment: str | None = None
    replace: bool = False
    skip_bad_rows: bool = False
    names: tuple[str | None, ...] = ()  # the file names to show (an upload's original names)
    max_bytes: int | None = None
    where: str | None = None  # where the files came from ("upload"), recorded; default: their paths
    money: tuple[str, ...] | None = None  # by hand (--money); None: the tool's revenue is money


@dataclass(frozen=True)
class _Staged:
    """The events stage once read: its columns for validation, the properties, what the read found."""

    columns: list[Column]
    stored: dict[Field, str]  # field -> the property column holding it
    plan: Plan
    repeated: int
    bad: int
    examples: list[str]
    typed: dict[str, str]  # stored column (top-level or property) -> the type of its typed copy in the stage


def _inspect_all(paths: Sequence[str | Path], source: Source, opts: _Options, tmp: Path) -> list[ExportFile]:
    if not paths:
        raise LiftboardError(f"Give at least one {source.label} export file to load.")
    files = []
    for i, path in enumerate(paths):
        part = tmp / f"file-{i}"
        part.mkdir()
        f = inspect(path, part, name=opts.names[i] if i < len(opts.names) else None, max_bytes=opts.max_bytes)
        check(f, source)
        files.append(f)
    return files


def _read(cur: duckdb.DuckDBPyConnection, files: list[ExportFile], source: Source, stage: str,
          progress: Progress | None) -> _Staged:  # fmt: skip
    """Read every file once into the stage, then flatten its containers' properties into typed columns."""
    names = label([f.name for f in files])
    scalars = scalar_names(files, source)
    typed = typed_scalars(files, source, scalars)
    try:
        pre = sample_keys(cur, files, source)
        sql, params, flags = stage_sql(files, source, scalars, stage, typed, pre)
        run_with_progress(cur, sql, params, progress, 0.03, 0.62, f"Reading {names}")
    except duckdb.Error as exc:
        raise LiftboardError(
            f"{names} cannot be read ({str(exc).splitlines()[0][:160]}); export it again."
        ) from None
    repeated = 0
    if len(files) > 1 and source.row_id is not None:
        repeated = int(cur.execute(f"SELECT count(*) FILTER ({q(DUP)}) FROM {stage}").fetchall()[0][0])
        cur.execute(f"DELETE FROM {stage} WHERE {q(DUP)}")
        cur.execute(f"ALTER TABLE {stage} DROP COLUMN {q(DUP)}")
    bad = int(cur.execute(f"SELECT count(*) FILTER ({q(BAD_JSON)}) FROM {stage}").fetchall()[0][0])
    examples: list[str] = []
    if bad:  # a line that is not JSON holds nothing else to check: it is counted once, as such
        for i, f in enumerate(files):
            query = bad_json_examples_sql(f, source, f"x{i}")
            examples += [str(r[0])[:60] for r in cur.execute(*query).fetchall()] if query else []
        cur.execute(f"DELETE FROM {stage} WHERE {q(BAD_JSON)}")
    the_plan, typed_props = _flatten(cur, files, source, stage, set(scalars.values()), names, pre, progress)
    types = dict(cur.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?",
                             [stage.strip('"')]).fetchall())  # fmt: skip
    columns = [Column(c, "VARCHAR" if c in ("user_id", "event") else types[c], required=c != "value", flag=flag,
                      source_type="VARCHAR" if flag else types[c]) for c, flag in flags]  # fmt: skip
    columns += [
        Column(n, types[n], source_type=types[n], extra=True) for n in dict.fromkeys(scalars.values())
    ]
    columns += [Column(p.name, p.dtype, source_type=p.dtype, extra=True) for p in the_plan.props]
    stored = {(c,): n for c, n in scalars.items()} | {p.field: p.name for p in the_plan.props}
    return _Staged(columns, stored, the_plan, repeated, bad, examples[:3], typed | typed_props)


def _flatten(cur: duckdb.DuckDBPyConnection, files: list[ExportFile], source: Source, stage: str,
             scalars: set[str], names: str, pre: SampleKeys, progress: Progress | None
             ) -> tuple[Plan, dict[str, str]]:  # fmt: skip
    """Find every container key over all staged rows, add a typed column per property, fill them in one UPDATE."""
    kinds: dict[str, Kind] = {}
    left: list[str] = []
    top: set[str] = set()
    for f in files:
        cols, nested = read_columns(f, source)
        kinds |= {c.name: c.kind for c in cols if c.kind != "scalar"}
        top |= {c.name for c in cols if c.kind == "scalar"}
        left += nested
    found = discover(cur, stage, kinds, source)
    require_fields(names, top, found, source)
    the_plan = plan(found, source, scalars | set(RESERVED), left)
    adds, update, params, typed = flatten_sql(stage, the_plan, kinds, pre.columns, pre.typed)
    for add in adds:
        cur.execute(add)
    if update:
        try:
            run_with_progress(cur, update, params, progress, 0.62, 0.76, "Flattening the properties")
        except duckdb.ConversionException as exc:  # discovery typed every value: a sign of a bug
            raise LiftboardError(f"{names} has a property value that does not fit the type of its other values "
                                 f"({str(exc).splitlines()[0][:160]}); fix the export.") from None  # fmt: skip
    for col in kinds:
        cur.execute(f"ALTER TABLE {stage} DROP COLUMN {q(held(col))}")
    return nested_columns(cur, stage, the_plan, kinds), typed


def _stage(ws: Workspace, cur: duckdb.DuckDBPyConnection, files: list[ExportFile], source: Source, opts: _Options,
           hashers: list[FileHasher], *, commit: bool, actor: Actor | None, progress: Progress | None
           ) -> ExportReport | ExportLoadResult:  # fmt: skip
    say = progress or (lambda _f, _s: None)
    tables = frozenset(ws.data_tables())
    names = label([f.name for f in files])
    cur.execute("SET TimeZone = 'UTC'")  # naive timestamps are UTC; offsets are converted to UTC
    cur.execute("BEGIN TRANSACTION")
    try:
        load_id = int(cur.execute("SELECT nextval('lb_load_seq')").fetchall()[0][0])
        stage, astage = q(f"lb_stage_{load_id}"), q(f"lb_stage_{load_id}_a")
        modes = {
            k: ("replace" if opts.replace else "append") if k in tables else "new"
            for k in ("events", "assignments")
        }
        st = _read(cur, files, source, stage, progress)
        unit = value_unit(cur, stage, source, st.stored, opts.money)
        say(0.78, "Validating")
        fmt = {"format": files[0].described, "files": str(len(files))}
        events, skip = validation_report(
            cur, stage, kind="events", mode=modes["events"], tables=tables, columns=st.columns,
            mapping=mapping(source), file_name=names, skip_bad_rows=opts.skip_bad_rows, file_format=fmt,
        )  # fmt: skip
        events = with_bad_json(events, st.bad, st.examples, names, opts.skip_bad_rows)
        say(0.86, "Finding the exposures")
        exposures = count_exposures(cur, stage, source, st.stored)
        built = build_assignments(cur, stage, astage, source, st.stored,
                                  skip=skip if opts.skip_bad_rows else None, keep=opts.experiment)  # fmt: skip
        if opts.experiment is not None and not built:
            raise LiftboardError(f"{names} has no {source.exposure} events naming an experiment, so "
                                 f"--experiment {opts.experiment} cannot be kept.")  # fmt: skip
        assignments, experiments = None, ()
        if built:
            assignments, _ = validation_report(
                cur, astage, kind="assignments", mode=modes["assignments"], tables=tables,
                columns=_ASSIGNMENT_COLUMNS, mapping={"experiment": dotted(source.experiment),
                "variant": dotted(source.variant)}, file_name=f"the {source.exposure} events of {names}",
                skip_bad_rows=False, file_format=fmt,
            )  # fmt: skip
            experiments = experiments_found(cur, astage)
        if commit and opts.skip_bad_rows and skip:
            cur.execute(f"DELETE FROM {stage} WHERE {skip}")  # built from quoted names
        per_file = dict(cur.execute(f"SELECT {q(FILE)}, count(*) FROM {stage} GROUP BY 1").fetchall())
        report = ExportReport(
            source.key, source.label, tuple(ExportFileReport(f.name, f.described, int(per_file.get(i, 0)))
                                            for i, f in enumerate(files)),
            events, assignments, experiments, exposures, tuple(c.name for c in st.columns if c.extra),
            notes(st.repeated, exposures, source, st.plan, names) + ((unit.issue,) if unit and unit.issue else ()),
            opts.experiment, unit,
        )  # fmt: skip
        if not commit:
            cur.execute("ROLLBACK")
            say(1.0, "Validated")
            return report
        if not report.ok:
            first, more = report.errors[0].message, len(report.errors) - 1
            raise LiftboardError(
                first + (f" ({more} more problem{'s' if more > 1 else ''} in the report.)" if more else "")
            )
        say(0.9, "Writing")
        for col in (BAD_JSON, FILE):
            cur.execute(f"ALTER TABLE {stage} DROP COLUMN {q(col)}")
        finish_load(cur, "events", stage, modes["events"], st.columns, events, st.typed)
        if assignments is not None and assignments.rows:
            finish_load(cur, "assignments", astage, modes["assignments"], _ASSIGNMENT_COLUMNS, assignments)
        elif built:
            cur.execute(f"DROP TABLE {astage}")
        if unit is not None:  # the tool's revenue property is money (units: one rule), in this transaction
            record_marks(ws, cur, "events", {"value": unit.money})
        records = _record(ws, cur, load_id, files, hashers, report, source, modes, actor, opts)
        cur.execute("COMMIT")
    except BaseException:
        try:
            cur.execute("ROLLBACK")
        except duckdb.Error:
            pass  # already rolled back
        raise
    say(1.0, "Loaded")
    return ExportLoadResult(report, records)


def _record(ws: Workspace, cur: duckdb.DuckDBPyConnection, load_id: int, files: list[ExportFile],
            hashers: list[FileHasher], report: ExportReport, source: Source, modes: dict[str, str],
            actor: Actor | None, opts: _Options) -> tuple[dict[str, Any], ...]:  # fmt: skip
    """One lb_loads row per file (its sha256 and rows) and one for the assignments its exposures gave."""
    who = actor.name if actor is not None else whoami()
    how = json.dumps(
        {"from": source.key, "experiment": opts.experiment, "fields": mapping(source)}, sort_keys=True
    )
    records = []
    for i, (f, hasher, rep) in enumerate(zip(files, hashers, report.files, strict=True)):
        hasher.join()
        lid = load_id if i == 0 else int(cur.execute("SELECT nextval('lb_load_seq')").fetchall()[0][0])
        records.append({"load_id": lid, "kind": "events", "file_name": f.name, "content_hash": hasher.digest,
                        "rows": rep.rows, "mode": modes["events"], "loaded_by": who,
                        "source": f"{source.label} export: {opts.where or f.path}"})  # fmt: skip
    if report.assignment_rows:
        lid = int(cur.execute("SELECT nextval('lb_load_seq')").fetchall()[0][0])
        records.append({"load_id": lid, "kind": "assignments", "file_name": label([f.name for f in files]),
                        "content_hash": None, "rows": report.assignment_rows, "mode": modes["assignments"],
                        "loaded_by": who, "source": f"{source.label} {source.exposure} events (first exposure "
                        "per user, experiment and variant)"})  # fmt: skip
    for r in records:
        cur.execute(
            "INSERT INTO lb_loads VALUES (?, ?, ?, ?, ?, ?, now()::TIMESTAMP, ?, ?, ?)",
            [
                r["load_id"],
                r["kind"],
                r["file_name"],
                r["content_hash"],
                r["rows"],
                r["mode"],
                who,
                r["source"],
                how,
            ],
        )
        ws.audit(cur, who, f"load:{r['mode']}", r["kind"], None, r | {"from": source.key})
    return tuple(records)


def _run(ws: Workspace, paths: Sequence[str | Path], key: str, opts: _Options, *, commit: bool,
         actor: Actor | None, progress: Progress | None) -> ExportReport | ExportLoadResult:  # fmt: skip
    source = get_source(key)
    if ws.read_only:
        raise LiftboardError(f"The workspace {ws.path} is open read-only; nothing can be loaded.")
    tmp = Path(tempfile.mkdtemp(prefix="liftboard-export-"))
    try:
        if progress:
            progress(0.0, "Inspecting the files")
        files = _inspect_all(paths, source, opts, tmp)
        hashers = [FileHasher(f.path) for f in files]
        for h in hashers if commit else ():
            h.start()
        cur = ws.cursor()
        try:
            return _stage(
                ws, cur, files, source, opts, hashers, commit=commit, actor=actor, progress=progress
            )
        finally:
            cur.close()
    finally:
        cleanup(tmp)


def validate_export(ws: Workspace, paths: Sequence[str | Path], source: str, *, actor: Actor | None,
                    experiment: str | None = None,
                    replace: bool = False, skip_bad_rows: bool = False, names: Sequence[str | None] = (),
                    max_bytes: int | None = None, money: Sequence[str] | None = None,
                    progress: Progress | None = None) -> ExportReport:  # fmt: skip
    """The report of loading these files as one `source` export, staged in a transaction rolled back.

    Problems with rows are in the report (``report.ok`` False); a file that cannot be read, or is not the
    tool's export, raises a LiftboardError naming it. As for ``load_export``, the actor's role must allow
    loading, checked before any file is opened.
    """
    require(actor, "load")
    opts = _Options(experiment, replace, skip_bad_rows, tuple(names), max_bytes,
                    money=None if money is None else tuple(money))  # fmt: skip
    out = _run(ws, paths, source, opts, commit=False, actor=actor, progress=progress)
    assert isinstance(out, ExportReport)
    return out


def load_export(ws: Workspace, paths: Sequence[str | Path], source: str, *, actor: Actor | None,
                experiment: str | None = None, replace: bool = False, skip_bad_rows: bool = False,
                names: Sequence[str | None] = (), max_bytes: int | None = None, where: str | None = None,
                money: Sequence[str] | None = None, progress: Progress | None = None) -> ExportLoadResult:  # fmt: skip
    """Load one tool's export (one or several files) as events plus assignments, in one transaction.

    Every file is read once by DuckDB after a scan of its property keys; JSON or nested properties become
    event columns (the containers themselves are not stored); exposure events become assignments by the
    tool's convention (first exposure per user, experiment and variant). Any error leaves the workspace as
    it was.

    Args:
        source: posthog, amplitude, mixpanel, segment or ga4 (`--from`).
        experiment: keep only this experiment's exposures (its id or name).
        replace: replace the events and assignments tables instead of appending.
        skip_bad_rows: drop rows with unparseable times or values, blank ids, or lines that are not JSON.
        names: the file names to show and record (uploads' original names); where: where they came from
            ("upload"), recorded instead of their paths.
        money: the columns marked as money by hand (``value`` or the tool's property, e.g. ``revenue``); None:
            the tool's revenue property is money unless its events name another currency, or several.
    """
    require(actor, "load")
    opts = _Options(experiment, replace, skip_bad_rows, tuple(names), max_bytes, where,
                    None if money is None else tuple(money))  # fmt: skip
    out = _run(ws, paths, source, opts, commit=True, actor=actor, progress=progress)
    assert isinstance(out, ExportLoadResult)
    return out

"""Data: what the workspace holds, loading a file (preview, mapping, validation), history and deletion."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from analytics import ingest
from analytics.errors import LiftboardError
from analytics.ingest import ValidationReport
from analytics.workspace import (
    CANONICAL,
    KINDS,
    Actor,
    Catalog,
    is_numeric,
    load_history,
    local_actor,
    money_by_name,
    require,
)
from analytics.workspace import catalog as read_catalog
from pages._admin import administration
from pages._exports import UPLOAD_TYPES, export_loader, origin_picker
from pages._files import done_with_uploads, server_files, spooled
from pages._guard import allow_uploads
from pages._ui import (
    actor,
    attempt,
    auth_configured,
    download_csv,
    import_folders,
    md,
    page,
    set_url_state,
    url_state,
    workspace,
)

page()  # first: nothing of this page renders outside app.py's sign-in gate and sidebar

NONE = "— none —"
UPLOAD, SERVER_PATH = "Upload", "Path on the server"
ENCODINGS = ["auto", "utf-8", "latin-1", "utf-16"]
DELIMITERS = {"auto": None, "comma ,": ",", "semicolon ;": ";", "tab": "\t", "pipe |": "|"}


def _who() -> Actor | None:
    """Who acts on this page: the signed-in user, or in local mode the named (else the logged-in) local admin."""
    who = actor()
    if who is None and not auth_configured():
        return local_actor(getpass.getuser())
    return who


def _role_note(who: Actor | None, action: str) -> None:
    """Say why a write control is disabled (the engine refuses the write anyway)."""
    if who is None or not who.can(action):
        try:
            require(who, action)
        except LiftboardError as exc:
            st.caption(md(exc))


@st.cache_data(show_spinner=False, max_entries=8)
def _catalog(version: str, path: str) -> Catalog:  # version: the data tables' (cache key)
    return read_catalog(workspace())


@st.cache_data(show_spinner=False, max_entries=8)
def _history(token: str, path: str):
    return load_history(workspace())


# The actor is part of each cache key: a result cached for an editor is never handed to another role.
@st.cache_data(show_spinner=False, max_entries=8)
def _preview(who: Actor | None, file: str, kind: str, encoding: str | None, delimiter: str | None,
             name: str) -> ingest.Preview:  # fmt: skip
    return ingest.preview(file, kind, actor=who, encoding=encoding, delimiter=delimiter, name=name)


@st.cache_data(show_spinner=False, max_entries=4)
def _validate(who: Actor | None, token: str, file: str, kind: str, mapping_json: str, replace: bool,
              skip: bool, allow_unmatched: bool, encoding: str | None, delimiter: str | None, name: str,
              experiment: str | None) -> ValidationReport:  # fmt: skip
    return ingest.validate(
        workspace(), file, kind, actor=who, mapping=json.loads(mapping_json), replace=replace,
        skip_bad_rows=skip, allow_unmatched=allow_unmatched, encoding=encoding, delimiter=delimiter, name=name,
        experiment=experiment,
    )  # fmt: skip


def _money_choice(
    kind: str, mapping: dict[str, str | None], report: ValidationReport
) -> tuple[str, ...] | None:
    """Which numbers of the file are money (shown in dollars): proposed by their names, the user decides."""
    if kind == "events" and mapping.get("value"):
        src = str(mapping["value"])
        money = st.checkbox(
            f"The values ({md(src)}) are money, shown in dollars",
            value=money_by_name(src),
            key=f"data-money-{src}",
        )
        return ("value",) if money else ()
    if kind not in ("outcomes", "totals"):
        return None
    numbers = [c for c, t in report.extras.items() if is_numeric(t)]
    if not numbers:
        return None
    return tuple(
        st.multiselect(
            "Columns that are money (shown in dollars)",
            numbers,
            default=[c for c in numbers if money_by_name(c)],
            key=f"data-money-{report.file_name}",
            help="Game rounds, clicks and minutes are plain numbers; revenue, price or cost are money.",
        )
    )


def _fmt_date(value: Any) -> str:
    return "—" if value is None else str(value)[:16]


ws = workspace()
token = ws.state_token()
who = _who()
can_load = who is not None and who.can("load")
can_delete = who is not None and who.can("delete")
st.title("Data")
st.caption(
    "What this workspace holds, and loading your own files: event logs, assignments, predictions, feedback, "
    "per-user outcome tables and per-arm totals."
)

flash = st.session_state.pop("data_flash", None)
if flash:
    st.success(md(flash))

# -- a Spark source: the data tables live in the lake; nothing is copied -----------------------------
if hasattr(ws, "source_summary"):  # a SparkWorkspace ([spark] in secrets.toml)
    st.subheader("Source: Spark")
    st.caption(
        f"The data tables are read where they live and only aggregates come back; Liftboard's own state "
        f"(tags, prices, settings, audit) stays in {md(ws.path)}."
    )
    with st.spinner("Counting rows on Spark…"):
        rows = attempt(ws.source_summary)
    if rows is not None:
        source = pd.DataFrame(rows)
        st.dataframe(source, hide_index=True, width="stretch")
        download_csv(source, "spark-source", key="dl-spark-source")

# -- what the workspace holds -------------------------------------------------------------------------
# Keyed on the data tables alone: a tag, a price or a setting (which move the state token) must not
# send the catalog back over 20M rows.
cat = _catalog(ws.data_version(ws.data_tables()), str(ws.path))
if cat.empty:
    st.info(
        "This workspace holds no data yet. Build the demo workspace to explore Liftboard with a known "
        "AI experiment, or load your own files below."
    )
    _role_note(who, "load")
    if st.button("Build the demo workspace", type="primary", key="build-demo", disabled=not can_load):
        from analytics.ingest import populate_demo

        bar = st.progress(0.0, text="Building the demo workspace…")
        done = attempt(
            populate_demo, ws, actor=who, progress=lambda f, s: bar.progress(min(max(f, 0.0), 1.0), text=s)
        )
        if done is not None:
            st.session_state["data_flash"] = "The demo workspace is built."
            st.rerun()
else:
    events = next((t for t in cat.tables if t.kind == "events"), None)
    sentence = f"This workspace holds {len(cat.tables)} table{'s' if len(cat.tables) > 1 else ''}"
    if events is not None:
        about = "" if events.users_exact else "about "
        sentence += (
            f": {events.rows:,} events from {about}{events.users or 0:,} users, "
            f"{_fmt_date(events.first)} to {_fmt_date(events.last)}"
        )
    if cat.experiments:
        sentence += "; experiments " + ", ".join(
            f"**{md(e.name)}** ({', '.join(md(v.name) for v in e.variants)})" for e in cat.experiments
        )
    st.markdown(sentence + ".")
    left, right = st.columns(2)
    with left:
        st.subheader("Tables")
        tables = cat.tables_frame()
        st.dataframe(tables, hide_index=True, key="tables-table")
        download_csv(tables, "tables", key="dl-tables")
    with right:
        st.subheader("Experiments")
        exps = cat.experiments_frame()
        if exps.empty:
            st.caption("No assignments loaded yet: load an assignments file to see experiments.")
        else:
            st.dataframe(exps, hide_index=True, key="experiments-table")
            download_csv(exps, "experiments", key="dl-experiments")
            multi = sum(e.multi_variant_users for e in cat.experiments)
            if multi:
                st.caption(f"{multi:,} users were exposed to two variants; analyses exclude and count them.")

# -- load a file: a tool's export, or one's own table mapped column by column ---------------------------------
# Only for a role that may load: nothing of a file is read, checked or shown to anyone else.
st.header("Load a file")
round_key = str(st.session_state.get("data_upload_round", 0))  # a new round empties the uploader after a load
files: list[tuple[Path, str]] = []
uploads: list[Any] = []
source, typed = UPLOAD, ""
if not can_load:
    allow_uploads(False)
    _role_note(who, "load")
else:
    folders = import_folders()  # none configured: uploads only
    if folders:
        source = st.radio("From", [UPLOAD, SERVER_PATH], horizontal=True, key="data-source")
    allow_uploads(
        source == UPLOAD
    )  # the server takes files only into a session showing a loader the uploader
    if source == UPLOAD:
        uploads = (
            st.file_uploader(
                "CSV, TSV, JSON lines or Parquet, gzipped or zipped (several files for one tool's export)",
                type=UPLOAD_TYPES,
                accept_multiple_files=True,
                key=f"data-upload-{round_key}",
            )
            or []
        )
        files = [(p, u.name) for u, p in zip(uploads, spooled(uploads), strict=True)]
    else:
        typed = st.text_input(
            SERVER_PATH, key="data-path", placeholder=f"{folders[0]}/events.csv.gz",
            help="For files above the upload limit: the server reads them in place, from these folders only: "
            + ", ".join(str(f) for f in folders) + ". A folder loads its files as one tool's export.",
        )  # fmt: skip
        if typed.strip():
            files = server_files(typed, folders)
tool = origin_picker(files, round_key) if files else None
if tool is not None:
    loaded = export_loader(ws, who, files, tool, token, "upload" if source == UPLOAD else typed, can_load)
    if loaded is not None:
        done_with_uploads(uploads)
        st.session_state["data_flash"] = (
            f"Loaded {loaded['events']:,} events and {loaded['assignments']:,} assignments from the "
            f"{loaded['label']} export."
        )
        st.rerun()
if files and tool is None and len(files) > 1:
    st.error(
        f"{len(files)} files: several files load at once only as one tool's export; choose the tool above, "
        "or load your own tables one at a time."
    )
file, name = files[0] if files and tool is None and len(files) == 1 else (None, "")
if file is not None:
    kind_default = url_state("kind", "events")
    kind = st.selectbox(
        "Kind of data",
        KINDS,
        index=KINDS.index(kind_default) if kind_default in KINDS else 0,
        key="data-kind",
        help="Which canonical table the file feeds (see the data model in the README).",
    )
    set_url_state(kind=kind)
    with st.expander("Reading options (detected automatically)"):
        enc_choice = st.selectbox("Encoding", ENCODINGS, key="data-encoding")
        delim_choice = st.selectbox("Delimiter", list(DELIMITERS), key="data-delimiter")
    encoding = None if enc_choice == "auto" else enc_choice
    delimiter = DELIMITERS[delim_choice]
    preview = attempt(_preview, who, str(file), kind, encoding, delimiter, name)
    if preview is not None:
        info = preview.info
        delim_name = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}[info.delimiter]
        how = (
            "Parquet"
            if info.format == "parquet"
            else f"{'gzipped ' if info.compression == 'gzip' else ''}{delim_name}-separated {info.encoding} text"
        )
        st.caption(f"{md(name)}: {info.size / 2**20:,.1f} MB, read as {how}. The first rows:")
        st.dataframe(preview.rows, hide_index=True, key="preview-table")

        st.subheader("Column mapping")
        st.caption(
            "Which column of your file holds each of Liftboard's columns. Unmapped columns are kept as properties."
        )
        options = [NONE, *info.header]
        required = CANONICAL[kind]["required"]
        mapping: dict[str, str | None] = {}
        canon_cols = list(ingest.canonical_columns(kind))
        grid = st.columns(min(4, len(canon_cols)))
        for i, canon in enumerate(canon_cols):
            guess = preview.mapping.get(canon)
            label = f"{canon} {'(required)' if canon in required else '(optional)'}"
            if kind == "feedback" and canon == "feedback_id":
                label = "feedback_id (generated if none)"
            with grid[i % len(grid)]:
                choice = st.selectbox(
                    label, options, index=options.index(guess) if guess in options else 0,
                    key=f"map-{kind}-{name}-{canon}",
                )  # fmt: skip
            mapping[canon] = None if choice == NONE else choice

        # A file of one experiment has no experiment column: its name is typed here (proposed from the file).
        experiment: str | None = None
        if kind in ingest.EXPERIMENT_KINDS and mapping.get("experiment") is None:
            if st.session_state.get("data-experiment-for") != name:
                st.session_state["data-experiment-name"] = ingest.experiment_name_from_file(name)
                st.session_state["data-experiment-for"] = name
            experiment = st.text_input(
                "Experiment name",
                key="data-experiment-name",
                max_chars=200,
                help="This file has no experiment column, so its rows are one experiment: name it.",
            ).strip()
            st.caption("The file has no experiment column: all its rows are one experiment, named above.")

        exists = ws.has_table(kind)
        if exists:
            mode = st.radio(
                f"The workspace already has a {kind} table",
                ["Append to it", "Replace it"],
                horizontal=True,
                key="data-mode",
            )
        else:
            mode = "New table"
            st.caption(f"The rows will form a new {kind} table.")
        replace = mode == "Replace it"
        skip = st.checkbox(
            "Skip bad rows (unparseable timestamps or numbers, blank ids) instead of refusing the file",
            key="data-skip",
        )

        # The confirmation box is drawn below the report that asks for it; its value from the last run
        # (kept under its key) decides whether this run validates with the confirmation given.
        allow_key = f"data-allow-unmatched-{name}"
        allow_unmatched = kind == "feedback" and bool(st.session_state.get(allow_key, False))

        st.subheader("Validation")
        report = None
        if experiment == "":
            st.info("Type the experiment's name above: the file has no experiment column.")
        else:
            with st.spinner("Checking every row of the file…"):
                report = attempt(
                    _validate, who, token, str(file), kind, json.dumps(mapping, sort_keys=True), replace, skip,
                    allow_unmatched, encoding, delimiter, name, experiment,
                )  # fmt: skip
        if report is not None:
            span = f", {_fmt_date(report.first)} to {_fmt_date(report.last)}" if report.first else ""
            users = f" from {report.users:,} users" if report.users is not None else ""
            approx = " (users estimated)" if report.approximate else ""
            if report.ok:
                st.markdown(
                    f"**Ready to load {report.rows_to_load:,} rows**{users}{span}{approx}"
                    f"{f', with {len(report.warnings)} warning(s)' if report.warnings else ''}."
                )
            else:
                st.markdown(f"**This file cannot be loaded as it is** ({len(report.errors)} problem(s)).")
            for issue in report.errors:
                st.error(md(issue.message))
            for issue in report.warnings:
                st.warning(md(issue.message))
            if report.all_unmatched:
                st.checkbox(
                    f"Load anyway: I understand none of these {report.rows_with_prediction_id:,} feedback rows "
                    "match a prediction",
                    key=allow_key,
                    help="They will be loaded without a model version or score; the Feedback page keeps "
                    "counting them as unmatched.",
                )
            with st.expander("Details: mapping, properties and how the file was read"):
                details: dict[str, Any] = {
                    "rows in file": report.rows,
                    "rows to load": report.rows_to_load,
                    "mapping": report.mapping,
                    "properties kept": report.extras,
                    "duplicates within the file": report.duplicates_in_file,
                    "rows already loaded": report.duplicates_of_loaded,
                }
                if kind == "feedback":
                    details["feedback rows with a prediction_id"] = report.rows_with_prediction_id
                    details["of which match no prediction"] = report.unmatched_prediction_ids
                st.json(details | {"file": report.file_format})
            money = _money_choice(kind, mapping, report)
            _role_note(who, "load")
            if st.button("Load", type="primary", disabled=not (report.ok and can_load), key="data-load"):
                bar = st.progress(0.0, text="Starting…")
                result = attempt(
                    lambda: ingest.load(
                        ws, file, kind, mapping=mapping, replace=replace, skip_bad_rows=skip,
                        allow_unmatched=allow_unmatched, encoding=encoding, delimiter=delimiter, name=name,
                        source="upload" if source == UPLOAD else str(file), actor=who, experiment=experiment,
                        money=money,
                        progress=lambda f, s: bar.progress(min(max(f, 0.0), 1.0), text=s),
                    )
                )  # fmt: skip
                if result is not None:
                    done_with_uploads(uploads)  # the loaded copies are not needed any more
                    st.session_state["data_flash"] = (
                        f"Loaded {result.record['rows']:,} rows of {name} into {kind} ({result.report.mode})."
                    )
                    st.rerun()

# -- history and deletion ---------------------------------------------------------------------------------
st.header("Load history")
history = _history(token, str(ws.path))
if history.empty:
    st.caption("Nothing loaded yet.")
else:
    st.dataframe(history, hide_index=True, key="history-table")
    download_csv(history, "load-history", key="dl-history")

if not cat.empty:
    with st.expander("Delete a dataset"):
        target = st.selectbox("Table", [t.kind for t in cat.tables], key="data-delete-kind")
        rows = next(t.rows for t in cat.tables if t.kind == target)
        sure = st.checkbox(f"Yes, delete the {target} table and its {rows:,} rows", key="data-delete-sure")
        _role_note(who, "delete")
        if st.button("Delete", disabled=not (sure and can_delete), key="data-delete"):
            removed = attempt(lambda: ingest.delete_dataset(ws, target, actor=who))
            if removed is not None:
                st.session_state["data_flash"] = f"Deleted the {target} table ({removed:,} rows)."
                st.session_state.pop("data-delete-sure", None)
                st.rerun()

# -- administration (admins only): the audit trail and the role table -------------------------------------
if who is not None and who.can("edit_roles"):
    administration(ws, who)

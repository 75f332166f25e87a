"""The Data page's part for analytics-tool exports: "This file comes from…" and the export's check and load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from analytics.ingest.sources import SOURCES, TOOLS, ExportReport, load_export, suggest, validate_export
from analytics.workspace import Actor, Workspace
from pages._ui import attempt, download_csv, md

OWN = "My own table (I map the columns)"
ALL = "All experiments"
#: What the uploader takes: tables, JSON lines (a tool's export), Parquet, gzipped or zipped.
UPLOAD_TYPES = ["csv", "tsv", "txt", "gz", "parquet", "json", "jsonl", "ndjson", "zip"]
_DATA_SUFFIXES = {f".{t}" for t in UPLOAD_TYPES}


def folder_files(path: Path) -> list[Path]:
    """A path on the server as files: the file, or a folder's data files (Segment tables, GA4 days)."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in _DATA_SUFFIXES)
    return [path]


@st.cache_data(show_spinner=False, max_entries=32)
def _suggest(path: str, name: str, size: int, mtime: float) -> str | None:  # size, mtime: cache keys
    return suggest(path, name=name)


@st.cache_data(show_spinner=False, max_entries=4)
def _validate(who: Actor | None, token: str, paths: tuple[str, ...], names: tuple[str, ...], tool: str,
              experiment: str | None, replace: bool, skip: bool) -> ExportReport:  # fmt: skip
    from pages._ui import workspace

    # The actor is part of the cache key: a report cached for an editor is never handed to another role.
    return validate_export(workspace(), list(paths), tool, actor=who, experiment=experiment, replace=replace,
                           skip_bad_rows=skip, names=names)  # fmt: skip


def origin_picker(files: list[tuple[Path, str]], round_key: str) -> str | None:
    """ "This file comes from…": a tool (suggested when the columns match one) or None for one's own table."""
    first, name = files[0]
    try:
        stat = first.stat()
        guess = _suggest(str(first), name, stat.st_size, stat.st_mtime)
    except OSError:
        guess = None
    labels = [OWN, *(SOURCES[t].label for t in TOOLS)]
    index = labels.index(SOURCES[guess].label) if guess else 0
    choice = st.selectbox(
        "This file comes from…", labels, index=index, key=f"data-origin-{round_key}-{name}",
        help="An analytics tool's export is read by the tool's own convention: its exposure events become "
        "the experiment's assignments. Choose your own table to map the columns yourself.",
    )  # fmt: skip
    if guess:
        src = SOURCES[guess]
        st.caption(f"Suggested from the file's columns: {src.a_label} export has {src.described}.")
    return next((t for t in TOOLS if SOURCES[t].label == choice), None)


def _experiments_frame(report: ExportReport) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "experiment": e.name,
                "arms": " · ".join(f"{v} {n:,}" for v, n in e.variants),
                "users": e.users,
                "users in two arms (left out)": e.multi_variant_users,
                "first exposure": e.first,
                "last exposure": e.last,
            }
            for e in report.experiments
        ]  # fmt: skip
    )


def _headline(report: ExportReport) -> str:
    ev = report.events
    users = f" from {'about ' if ev.approximate else ''}{ev.users:,} users" if ev.users is not None else ""
    span = f", {str(ev.first)[:16]} to {str(ev.last)[:16]}" if ev.first else ""
    exps = len(report.experiments)
    what = (
        f" and {report.assignment_rows:,} first exposures (assignments) to {exps} experiment{'s' if exps != 1 else ''}"
        if exps
        else ""
    )
    warn = f", with {len(report.warnings)} warning(s)" if report.warnings else ""
    if not report.ok:
        return f"**This {report.label} export cannot be loaded as it is** ({len(report.errors)} problem(s))."
    return f"**Ready to load {ev.rows_to_load:,} events**{users}{span}{what}{warn}."


def export_loader(ws: Workspace, who: Actor | None, files: list[tuple[Path, str]], tool: str, token: str,
                  where: str, can_load: bool) -> dict[str, Any] | None:  # fmt: skip
    """Check the export (every row, in a rolled-back transaction), show what it gives, load it on a click.

    Returns the load's result as a dict once loaded (the page then flashes and reruns), else None.
    """
    src = SOURCES[tool]
    st.caption(f"From {src.label}, take {src.export}. Several files are loaded together, as one export.")
    exists = ws.has_table("events")
    mode = "New tables"
    if exists:
        mode = st.radio("The workspace already has events", ["Append to them", "Replace them"],
                        horizontal=True, key="data-export-mode",
                        help="Replacing swaps both the events and the assignments tables for this export's.")  # fmt: skip
    replace = mode == "Replace them"
    skip = st.checkbox("Skip bad rows (unparseable times or values, blank ids, lines that are not JSON) instead "
                       "of refusing the export", key="data-export-skip")  # fmt: skip
    paths = tuple(str(p) for p, _ in files)
    names = tuple(n for _, n in files)
    st.subheader("Validation")
    with st.spinner(f"Reading every row of the {src.label} export…"):
        everything = attempt(_validate, who, token, paths, names, tool, None, replace, skip)
    if everything is None:
        return None
    found = [e.name for e in everything.experiments]
    keep = None
    if len(found) > 1:
        pick = st.selectbox("Experiments to load", [ALL, *found], key=f"data-export-keep-{tool}",
                            help="Keep the exposures of one experiment only (the events are loaded whole).")  # fmt: skip
        keep = None if pick == ALL else pick
    report = (
        everything
        if keep is None
        else attempt(_validate, who, token, paths, names, tool, keep, replace, skip)
    )
    if report is None:
        return None
    st.markdown(_headline(report))  # counts and dates only
    if report.experiments:
        frame = _experiments_frame(report)
        st.dataframe(frame, hide_index=True, key="export-experiments")
        download_csv(frame, "export-experiments", key="dl-export-experiments")
    for issue in report.errors:
        st.error(md(issue.message))
    for issue in report.warnings:
        st.warning(md(issue.message))
    money = None  # the default: the tool's revenue is money unless another currency is named
    if report.values is not None:
        if not report.values.warning:
            st.caption(md(report.values.note))
        shown = st.checkbox("The event values are money, shown in dollars", value=report.values.money,
                            key=f"data-export-money-{tool}")  # fmt: skip
        money = None if shown == report.values.money else ("value",) if shown else ()
    with st.expander("Details: files, properties and where each column comes from"):
        st.dataframe(pd.DataFrame([f.__dict__ for f in report.files]), hide_index=True, key="export-files")
        st.json({"columns from": report.events.mapping, "properties kept (event columns)": report.events.extras,
                 "exposure event": src.exposure, "experiment": ".".join(src.experiment),
                 "variant": ".".join(src.variant)})  # fmt: skip
    if not st.button("Load", type="primary", disabled=not (report.ok and can_load), key="data-export-load"):
        return None
    bar = st.progress(0.0, text="Starting…")
    result = attempt(load_export, ws, list(paths), tool, actor=who, experiment=keep, replace=replace,
                    skip_bad_rows=skip, names=names, where=where, money=money,
                    progress=lambda f, s: bar.progress(min(max(f, 0.0), 1.0), text=s))  # fmt: skip
    if result is None:
        return None
    rows = sum(r["rows"] for r in result.records if r["kind"] == "events")
    return {"events": rows, "assignments": result.report.assignment_rows, "label": src.label, "where": where}

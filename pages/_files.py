"""The Data page's files: uploads spooled to a per-session folder, and server paths inside the import folders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from analytics import ingest
from pages._exports import folder_files
from pages._ui import attempt


@st.cache_resource(show_spinner=False, scope="session", on_release=ingest.remove_spool)
def _spool_dir() -> str:
    """This session's folder for its uploads, deleted when the session ends (and after a load)."""
    return str(ingest.spool_dir())


def spooled(uploads: list[Any]) -> list[Path]:
    """The uploaded files on disk in this session's folder, each written once (in chunks, never whole in
    memory); files no longer in the uploader are removed."""
    spool = st.session_state.setdefault("data_spool", {})
    current = {u.file_id for u in uploads}
    for fid in [f for f in spool if f not in current]:
        ingest.remove_spool(Path(spool.pop(fid)).parent)
    for u in uploads:
        if u.file_id not in spool or not Path(spool[u.file_id]).is_file():  # a reconnect released the folder
            spool[u.file_id] = str(ingest.spool(u, u.name, Path(_spool_dir()) / u.file_id))
    return [Path(spool[u.file_id]) for u in uploads]


def done_with_uploads(uploads: list[Any]) -> None:
    """After a load: delete the spooled copies and Streamlit's in-memory ones (it keeps them for the session),
    and empty the uploader (a new key)."""
    st.session_state.pop("data_spool", None)
    ingest.remove_spool(_spool_dir())
    ctx = get_script_run_ctx()
    for u in uploads if ctx is not None else ():
        ctx.uploaded_file_mgr.remove_file(ctx.session_id, u.file_id)
    st.session_state["data_upload_round"] = st.session_state.get("data_upload_round", 0) + 1


def server_files(typed: str, folders: tuple[Path, ...]) -> list[tuple[Path, str]]:
    """A typed file or folder inside the import folders, as (file, name) pairs; each file checked again (a
    symlink inside a folder leads nowhere else either)."""
    found = attempt(ingest.server_path, typed, folders)
    if found is None:
        return []
    checked = (attempt(ingest.server_file, str(p), folders) for p in folder_files(found))
    return [(p, p.name) for p in checked if p is not None]

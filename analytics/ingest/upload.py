"""A file arriving: spooled to disk in chunks, hashed beside the load, previewed before it is mapped."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import duckdb

from analytics.ingest.detect import FileInfo, sniff, utf8_copy
from analytics.ingest.mapping import (
    check_header,
    check_kind,
    guess_mapping,
)
from analytics.ingest.staging import read_error, source_sql
from analytics.workspace import Actor, require

#: DuckDB's memory for reading a preview's first rows: a gzipped file with lines of up to 16 MB takes two 256 MB buffers.
PREVIEW_MEMORY = "1GB"
#: A preview shows this much of a cell (a megabyte-long cell would travel whole to the browser otherwise).
PREVIEW_CHARS = 500

if TYPE_CHECKING:  # the preview's rows come from duckdb's .df(); nothing here needs pandas itself
    import pandas as pd


class FileHasher(threading.Thread):
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


def preview(
    path: str | Path,
    kind: str,
    *,
    actor: Actor | None,
    encoding: str | None = None,
    delimiter: str | None = None,
    name: str | None = None,
    limit: int = 20,
    max_bytes: int | None = None,
) -> Preview:
    """Read only the first rows (through DuckDB) and guess the mapping; nothing is written.

    Only a role that may load sees a file's content: the role is checked before the file is opened.
    """
    require(actor, "load")
    check_kind(kind)
    info = sniff(path, encoding=encoding, delimiter=delimiter, name=name, max_bytes=max_bytes)
    check_header(info)
    with tempfile.TemporaryDirectory(prefix="liftboard-") as tmp:
        readable = utf8_copy(info, tmp) if info.encoding == "utf-16-be" else info  # rare: big-endian
        source, params = source_sql(readable)
        con = duckdb.connect(config={"memory_limit": PREVIEW_MEMORY, "threads": 1})
        try:
            df = con.execute(f"SELECT * FROM {source} LIMIT {int(limit)}", params).df()
        except duckdb.Error as exc:
            raise read_error(info, exc) from None
        finally:
            con.close()
    df.columns = list(info.header)
    df = df.map(lambda v: v[:PREVIEW_CHARS] + "…" if isinstance(v, str) and len(v) > PREVIEW_CHARS else v)
    mapping = guess_mapping(kind, info.header)
    mapped = {s for s in mapping.values() if s}
    return Preview(info, mapping, df, tuple(h for h in info.header if h not in mapped))


#: Spooled uploads live in <temp>/liftboard-upload-<pid>-<random>/: the owner's process id lets a starting
#: server tell its dead predecessors' leftovers from the uploads of another process still running.
SPOOL_PREFIX = "liftboard-upload-"
#: Leftovers named before process ids were part of the name are swept once they are this old (seconds).
LEGACY_SPOOL_AGE = 3_600


def spool_dir(parent: str | Path | None = None) -> Path:
    """A new private folder for one session's upload (mode 0700), named after this process."""
    return Path(tempfile.mkdtemp(prefix=f"{SPOOL_PREFIX}{os.getpid()}-", dir=parent))


def remove_spool(directory: str | Path) -> None:
    """Delete a spool folder and what it holds (nothing happens if it is gone already)."""
    shutil.rmtree(directory, ignore_errors=True)


def spool(fileobj: BinaryIO, name: str, dest_dir: str | Path | None = None) -> Path:
    """Copy an uploaded file to disk in chunks (never whole in memory) and return its path.

    ``dest_dir`` holds one upload: whatever an earlier upload left there is deleted first.
    """
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).name) or "upload"
    directory = Path(dest_dir) if dest_dir else spool_dir()
    if directory.exists():
        for old in directory.iterdir():
            old.unlink(missing_ok=True)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    out = directory / safe
    if hasattr(fileobj, "seek"):
        fileobj.seek(0)
    with out.open("wb") as fh:
        shutil.copyfileobj(fileobj, fh, length=8 * 2**20)
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def sweep_spools(parent: str | Path | None = None) -> list[Path]:
    """Delete the spooled uploads that no running process owns (a server killed mid-session leaves them).

    Called when a server starts. A folder named after a process that no longer exists goes; so does one named
    the old way (no process id) once it is an hour old. Returns what was deleted.
    """
    root = Path(parent or tempfile.gettempdir())
    gone = []
    for folder in root.glob(f"{SPOOL_PREFIX}*"):
        owner, sep, _ = folder.name[len(SPOOL_PREFIX) :].partition("-")
        if sep and owner.isdigit():
            stale = not _alive(int(owner))
        else:
            try:
                stale = time.time() - folder.stat().st_mtime > LEGACY_SPOOL_AGE
            except OSError:
                continue
        if stale and folder.is_dir():
            remove_spool(folder)
            gone.append(folder)
    return gone

"""A file arriving: spooled to disk in chunks, hashed beside the load, previewed before it is mapped."""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import threading
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
    encoding: str | None = None,
    delimiter: str | None = None,
    name: str | None = None,
    limit: int = 20,
    max_bytes: int | None = None,
) -> Preview:
    """Read only the first rows (through DuckDB) and guess the mapping; nothing is written."""
    check_kind(kind)
    info = sniff(path, encoding=encoding, delimiter=delimiter, name=name, max_bytes=max_bytes)
    check_header(info)
    with tempfile.TemporaryDirectory(prefix="liftboard-") as tmp:
        readable = utf8_copy(info, tmp) if info.encoding == "utf-16-be" else info  # rare: big-endian
        source, params = source_sql(readable)
        con = duckdb.connect()
        try:
            df = con.execute(f"SELECT * FROM {source} LIMIT {int(limit)}", params).df()
        except duckdb.Error as exc:
            raise read_error(info, exc) from None
        finally:
            con.close()
    df.columns = list(info.header)
    mapping = guess_mapping(kind, info.header)
    mapped = {s for s in mapping.values() if s}
    return Preview(info, mapping, df, tuple(h for h in info.header if h not in mapped))


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

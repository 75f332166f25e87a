"""An export file as it is: CSV, JSON lines (or a JSON array), Parquet, gzipped or zipped, and its columns."""

from __future__ import annotations

import gzip
import shutil
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from analytics.errors import LiftboardError
from analytics.ingest.detect import FileInfo, check_gzip, check_size, max_bytes_default, sniff
from analytics.ingest.paths import literal

Format = Literal["csv", "json", "parquet"]
#: Rows DuckDB reads to detect a JSON file's top-level columns (DuckDB's default: export schemas are fixed
#: per tool, so a column missing from the first rows is rare; property keys are found over every row).
JSON_SAMPLE = 20_480
#: The longest JSON record read (a long prompt or output in one property).
MAX_OBJECT = 16 * 2**20
_HEAD = 64 * 1024


@dataclass(frozen=True)
class ExportFile:
    """One file the user gave: what is read (the file, or the members of its zip) and how."""

    path: Path
    name: str
    parts: tuple[Path, ...]
    format: Format
    compression: str  # "none" or "gzip"
    json_format: str  # "newline_delimited" or "array" (JSON only)
    columns: dict[str, str]  # top-level column -> DuckDB type, as detected
    csv: FileInfo | None = None

    @property
    def described(self) -> str:
        """How the file was read, in words: 'gzipped JSON lines', 'Parquet', 'comma-separated text'."""
        gz = "gzipped " if self.compression == "gzip" else ""
        zipped = f" ({len(self.parts)} files of a zip)" if self.parts != (self.path,) else ""
        if self.format == "parquet":
            return "Parquet" + zipped
        if self.format == "json":
            what = "JSON lines" if self.json_format == "newline_delimited" else "a JSON array"
            return gz + what + zipped
        delim = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(self.csv.delimiter, "")  # type: ignore[union-attr]
        return f"{gz}{delim}-separated text{zipped}"


def _first_byte(head: bytes) -> bytes:
    return head.lstrip(b" \t\r\n\xef\xbb\xbf")[:1]


def _head(path: Path, gz: bool) -> bytes:
    try:
        if gz:
            with gzip.open(path, "rb") as fh:
                return fh.read(_HEAD)
        with path.open("rb") as fh:
            return fh.read(_HEAD)
    except (OSError, EOFError, zlib.error):
        raise LiftboardError(
            f"{path.name} looks gzipped but cannot be decompressed; check the file is a complete .gz export."
        ) from None


def _unzip(path: Path, name: str, tmp: Path, limit: int, members_max: int | None = None) -> tuple[Path, ...]:
    """The data members of a zip (an Amplitude export), copied out under our own names (never theirs);
    members_max: only the first few (enough to tell which tool wrote it)."""
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise LiftboardError(f"{name} is not a readable zip archive; download the export again.") from None
    out: list[Path] = []
    total = 0
    with zf:
        members = [m for m in zf.infolist() if not m.is_dir() and not Path(m.filename).name.startswith(".")]
        members = [m for m in members if "__MACOSX" not in m.filename]
        if not members:
            raise LiftboardError(f"{name} is an empty zip archive; download the export again.")
        for i, member in enumerate(sorted(members, key=lambda m: m.filename)[:members_max]):
            suffix = ".gz" if member.filename.endswith(".gz") else ""
            dest = tmp / f"part-{i:05d}{suffix}"
            with zf.open(member) as src, dest.open("wb") as dst:
                while block := src.read(8 * 2**20):
                    total += len(block)
                    if total > limit:  # declared sizes can lie: count what actually comes out
                        raise LiftboardError(
                            f"{name} expands to more than the {limit / 2**20:,.0f} MB limit when unzipped; "
                            "export a shorter period or raise LIFTBOARD_MAX_LOAD_MB."
                        )
                    dst.write(block)
            out.append(dest)
    return tuple(out)


def _describe(sql: str, params: dict[str, object], name: str, what: str) -> dict[str, str]:
    con = duckdb.connect()
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {sql}", params).fetchall()  # our own SQL
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0][:200]
        raise LiftboardError(f"{name} cannot be read as {what} ({first}); export it again.") from None
    finally:
        con.close()
    return {str(r[0]): str(r[1]) for r in rows}


def json_reader(parts: tuple[Path, ...], compression: str, json_format: str) -> tuple[str, dict[str, object]]:
    """read_json over the parts, without columns (detection); the caller adds columns for the real read."""
    sql = (
        "read_json($paths, format = $fmt, compression = $comp, maximum_object_size = $maxobj, "
        f"sample_size = {JSON_SAMPLE}"
    )
    return sql, {
        "paths": [literal(p) for p in parts],
        "fmt": json_format,
        "comp": compression,
        "maxobj": MAX_OBJECT,
    }


def inspect(
    path: str | Path, tmp: Path, *, name: str | None = None, max_bytes: int | None = None, peek: bool = False
) -> ExportFile:
    """Say how to read one export file (and unzip it into tmp); refuse what is not data, in one sentence.

    peek: only look (a zip's first member tells the columns; a suggestion needs no more).
    """
    path = Path(path)
    shown = name or path.name
    limit = max_bytes if max_bytes is not None else max_bytes_default()
    check_size(path, shown, limit)
    with path.open("rb") as fh:
        magic = fh.read(4)
    parts: tuple[Path, ...] = (path,)
    if magic == b"PK\x03\x04":
        parts = _unzip(path, shown, tmp, limit, 1 if peek else None)
        with parts[0].open("rb") as fh:
            magic = fh.read(4)
    if magic == b"PAR1":
        sql, params = "read_parquet($paths, union_by_name = true)", {"paths": [literal(p) for p in parts]}
        cols = _describe(sql, params, shown, "Parquet")
        return ExportFile(path, shown, parts, "parquet", "none", "", cols)
    gz = magic[:2] == b"\x1f\x8b"
    if gz:  # DuckDB decompresses as it reads: a gzip bomb is refused first (sniff does the same for CSV)
        for part in parts:
            check_gzip(part, shown, limit)
    first = _first_byte(_head(parts[0], gz))
    if first in (b"{", b"["):
        json_format = "newline_delimited" if first == b"{" else "array"
        comp = "gzip" if gz else "none"
        sql, params = json_reader(parts, comp, json_format)
        cols = _describe(sql + ", ignore_errors = true)", params, shown, "JSON")
        return ExportFile(path, shown, parts, "json", comp, json_format, cols)
    if len(parts) > 1:
        raise LiftboardError(
            f"{shown} is a zip of text files that are not JSON; unzip it and load the files."
        )
    info = sniff(parts[0], name=shown, max_bytes=limit)
    if info.format == "parquet":  # pragma: no cover - PAR1 is caught above
        raise LiftboardError(f"{shown} could not be read.")
    return ExportFile(
        path, shown, parts, "csv", info.compression, "", dict.fromkeys(info.header, "VARCHAR"), info
    )


def cleanup(tmp: Path) -> None:
    shutil.rmtree(tmp, ignore_errors=True)

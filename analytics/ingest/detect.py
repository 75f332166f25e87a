"""What a data file is: format, compression, encoding, delimiter and header, from its first bytes."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import itertools
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from analytics.errors import LiftboardError
from analytics.ingest.paths import literal

#: Default largest file (and largest gzip expansion) a load accepts, in MB; LIFTBOARD_MAX_LOAD_MB overrides.
DEFAULT_MAX_MB = 2048
ENCODINGS: tuple[str, ...] = ("utf-8", "latin-1", "utf-16")
DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")
_SAMPLE = 256 * 1024

# Magic numbers of files people rename to .csv by mistake.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a zip archive (or an Excel .xlsx workbook)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls workbook"),
    (b"SQLite format 3", "an SQLite database"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ", "an xz archive"),
)


@dataclass(frozen=True)
class FileInfo:
    """How to read a data file, as detected (or overridden by the user)."""

    path: Path
    name: str
    size: int
    format: str  # "csv" or "parquet"
    compression: str  # "none" or "gzip"
    encoding: str  # one of ENCODINGS (csv only)
    delimiter: str  # one of DELIMITERS (csv only)
    header: tuple[str, ...]  # source column names exactly as in the file


def max_bytes_default() -> int:
    return int(float(os.environ.get("LIFTBOARD_MAX_LOAD_MB", DEFAULT_MAX_MB)) * 1024 * 1024)


def _head(path: Path, compressed: bool) -> bytes:
    """The first bytes of the file's content (decompressed for gzip) without reading the whole file."""
    if not compressed:
        with path.open("rb") as fh:
            return fh.read(_SAMPLE)
    try:
        with gzip.open(path, "rb") as fh:
            return fh.read(_SAMPLE)
    except (OSError, EOFError, zlib.error):
        raise LiftboardError(
            f"{path.name} looks gzipped but cannot be decompressed; check the file is a complete .gz export."
        ) from None


def _gzip_size(path: Path) -> int:
    # The gzip trailer holds the uncompressed size modulo 2**32: a cheap first guard against gzip bombs.
    with path.open("rb") as fh:
        fh.seek(-4, os.SEEK_END)
        return struct.unpack("<I", fh.read(4))[0]


def check_size(path: Path, shown: str, limit: int) -> int:
    """The file's size, after refusing a missing path, a directory, an empty file or one above the limit."""
    if not path.exists():
        raise LiftboardError(f"The file {path} does not exist; check the path.")
    if path.is_dir():
        raise LiftboardError(f"{path} is a directory, not a file; give the path of a CSV or Parquet file.")
    size = path.stat().st_size
    if size == 0:
        raise LiftboardError(f"{shown} is empty (0 bytes); export the data again.")
    if size > limit:
        raise LiftboardError(
            f"{shown} is {size / 2**20:,.0f} MB, above the {limit / 2**20:,.0f} MB limit; "
            "split the file or raise LIFTBOARD_MAX_LOAD_MB."
        )
    return size


def check_gzip(path: Path, shown: str, limit: int) -> None:
    """Refuse a gzip file that expands beyond the limit (a gzip bomb costs at most the limit to find)."""
    if _gzip_expands_beyond(path, limit):
        raise LiftboardError(
            f"{shown} expands to more than the {limit / 2**20:,.0f} MB limit when decompressed; "
            "split the file or raise LIFTBOARD_MAX_LOAD_MB."
        )


def _gzip_expands_beyond(path: Path, limit: int) -> bool:
    """True when the gzip file decompresses to more than ``limit`` bytes.

    The trailer is checked first (free); it can lie (it is the size mod 2**32, and anyone can write it), so the
    stream is then counted, in chunks, never further than the limit: a bomb costs at most ``limit`` bytes of
    decompression and no memory.
    """
    if _gzip_size(path) > limit:
        return True
    seen = 0
    try:
        with gzip.open(path, "rb") as fh:
            while chunk := fh.read(8 * 2**20):
                seen += len(chunk)
                if seen > limit:
                    return True
    except (OSError, EOFError, zlib.error):
        raise LiftboardError(
            f"{path.name} looks gzipped but cannot be decompressed; check the file is a complete .gz export."
        ) from None
    return False


def detect_encoding(head: bytes) -> str:
    """utf-16 when a UTF-16 byte-order mark opens the file, latin-1 when the bytes are not UTF-8, else utf-8."""
    if head.startswith(b"\xfe\xff"):
        return "utf-16-be"  # DuckDB reads little-endian UTF-16 only: transcoded by utf8_copy()
    if head.startswith(b"\xff\xfe"):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=False)  # final=False: a character cut by the sample's end is fine
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8"


def utf8_copy(info: FileInfo, dest_dir: str | Path) -> FileInfo:
    """A UTF-8 copy of a file DuckDB cannot decode itself (big-endian UTF-16), transcoded in chunks."""
    out = Path(dest_dir) / (info.path.stem + ".utf8.csv")
    opener = gzip.open if info.compression == "gzip" else open
    with opener(info.path, "rb") as src, out.open("wb") as dst:
        decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")
        while block := src.read(8 * 2**20):
            dst.write(decoder.decode(block).encode("utf-8"))
        dst.write(decoder.decode(b"", final=True).encode("utf-8"))
    return FileInfo(out, info.name, info.size, "csv", "none", "utf-8", info.delimiter, info.header)


def _decode(head: bytes, encoding: str) -> str:
    if encoding.startswith("utf-16"):
        text = head.decode("utf-16", errors="ignore")
    else:
        text = head.decode("utf-8-sig" if encoding == "utf-8" else encoding, errors="ignore")
    return text.lstrip("\ufeff")


def _complete_lines(text: str) -> str:
    # Drop the last (possibly cut) line of the sample.
    cut = text.rfind("\n")
    return text if cut < 0 else text[: cut + 1]


def detect_delimiter(text: str) -> str:
    """The delimiter that splits the sample's records into the same number (>1) of fields most often."""
    sample = _complete_lines(text)
    best, best_score = ",", (-1.0, 0)
    for delim in DELIMITERS:
        try:
            rows = [len(r) for r in itertools.islice(csv.reader(io.StringIO(sample), delimiter=delim), 200)]
        except csv.Error:
            continue
        if not rows:
            continue
        width = rows[0]
        if width < 2:
            continue
        consistent = sum(1 for n in rows if n == width) / len(rows)
        score = (consistent, width)
        if score > best_score:
            best, best_score = delim, score
    return best


def _parquet_header(path: Path) -> tuple[str, ...]:
    import duckdb

    con = duckdb.connect()
    try:
        rows = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [literal(path)]).fetchall()
    except duckdb.Error as exc:
        raise LiftboardError(
            f"{path.name} starts like a Parquet file but cannot be read ({str(exc).splitlines()[0]}); "
            "export it again."
        ) from None
    finally:
        con.close()

    # Nested columns (struct, list, map) would reach segments and drift as values no chart or test can read.
    def _nesting(dtype: str) -> str | None:
        if dtype.endswith("]"):
            return "list"
        return next((k.lower() for k in ("STRUCT", "MAP", "UNION") if dtype.startswith(k)), None)

    nested = [f"{r[0]} ({_nesting(r[1])})" for r in rows if _nesting(r[1])]
    if nested:
        raise LiftboardError(
            f"{path.name} has nested columns, {', '.join(nested[:5])}; Liftboard loads flat columns: "
            "flatten them (e.g. props.a into props_a) or drop them, and load the file again"
            + (
                " (a GA4 BigQuery export loads as it is with --from ga4)."
                if "event_params" in {r[0] for r in rows}
                else "."
            )
        )
    return tuple(r[0] for r in rows)


def sniff(
    path: str | Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    max_bytes: int | None = None,
    name: str | None = None,
) -> FileInfo:
    """Inspect a file cheaply (first 256 KB) and say how to read it; refuse what is not tabular data.

    Args:
        encoding: override of the detected encoding (utf-8, latin-1, utf-16).
        delimiter: override of the detected delimiter (`,` `;` tab `|`; "tab" and "\\t" accepted).
        max_bytes: size limit of the file and of its gzip expansion (default 2048 MB).
        name: the file name to show the user (an uploaded file's original name).
    """
    path = Path(path)
    shown = name or path.name
    limit = max_bytes if max_bytes is not None else max_bytes_default()
    size = check_size(path, shown, limit)
    if encoding is not None and encoding.lower().replace("_", "-") not in ENCODINGS + ("latin1", "utf8"):
        raise LiftboardError(f"Unknown encoding {encoding!r}; use one of {', '.join(ENCODINGS)}.")
    if delimiter is not None:
        delimiter = {"tab": "\t", "\\t": "\t"}.get(delimiter, delimiter)
        if delimiter not in DELIMITERS:
            raise LiftboardError(f"Unknown delimiter {delimiter!r}; use one of , ; | or tab.")

    with path.open("rb") as fh:
        magic = fh.read(16)
    if magic.startswith(b"PAR1"):
        return FileInfo(path, shown, size, "parquet", "none", "utf-8", ",", _parquet_header(path))
    compression = "gzip" if magic.startswith(b"\x1f\x8b") else "none"
    if compression == "gzip":
        check_gzip(path, shown, limit)
    head = _head(path, compression == "gzip")
    for prefix, what in _MAGIC:
        if head.startswith(prefix):
            raise LiftboardError(
                f"{shown} is {what}, not a CSV file; export the data as CSV, TSV or Parquet."
            )
    if not head.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise LiftboardError(f"{shown} is empty (only blank space); export the data again.")

    enc = (encoding or detect_encoding(head)).lower().replace("_", "-")
    enc = {"latin1": "latin-1", "utf8": "utf-8"}.get(enc, enc)
    if enc == "utf-16" and head.startswith(b"\xfe\xff"):
        enc = "utf-16-be"
    if not enc.startswith("utf-16") and b"\x00" in head:
        raise LiftboardError(f"{shown} is binary data, not text; export the data as CSV, TSV or Parquet.")
    text = _decode(head, enc)
    controls = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\t\r\n")
    if controls > 0.01 * max(1, len(text[:65536])):
        raise LiftboardError(f"{shown} is binary data, not text; export the data as CSV, TSV or Parquet.")
    if text.lstrip()[:1] in ("{", "["):
        raise LiftboardError(
            f"{shown} is JSON, not a table: an analytics tool's export loads with --from posthog, amplitude, "
            "mixpanel, segment or ga4 (on the Data page: This file comes from…); other data, export it as CSV or "
            "Parquet."
        )
    delim = delimiter or detect_delimiter(text)
    try:
        header = next(csv.reader(io.StringIO(_complete_lines(text)), delimiter=delim), [])
    except csv.Error:
        header = []
    if not header:
        raise LiftboardError(f"{shown} has no header line; add a first line naming the columns.")
    return FileInfo(path, shown, size, "csv", compression, enc, delim, tuple(h.strip() for h in header))

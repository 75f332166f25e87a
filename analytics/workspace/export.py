"""Exports that are safe to open in a spreadsheet: no cell starts a formula, however it is dressed up."""

from __future__ import annotations

import csv
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

#: What starts a formula in a spreadsheet cell.
FORMULA_START = ("=", "+", "-", "@")
#: Characters that Unicode compatibility normalisation (NFKC, which spreadsheets and their import paths apply)
#: turns into a formula start: full-width ＝＋－＠, small ﹦﹢﹣﹫, super- and subscript ⁺⁼₊₌, ⩵⩶, ﬩.
#: tests/unit/test_security_low.py checks this list against unicodedata.
FORMULA_LOOKALIKES = (
    "\u207a\u207c\u208a\u208c\u2a75\u2a76\ufb29\ufe62\ufe63\ufe66\ufe6b\uff0b\uff0d\uff1d\uff20"
)
#: What a spreadsheet may skip before it reads a formula: whitespace (no-break and ideographic spaces
#: included), control characters, and the separators a reader may split a line on (; | , and their
#: full-width forms), so `;=cmd` read with ';' as the separator is a formula too.
LEADING = (
    "".join(chr(c) for c in range(0x20))
    + " \x7f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029"
    "\u202f\u205f\u3000;|,\uff1b\uff5c\uff0c\ufe54\ufe50"
)
_STARTS = "".join(FORMULA_START) + FORMULA_LOOKALIKES


def formula_like(text: str) -> bool:
    """Whether a spreadsheet could run this text as a formula."""
    if text[:1] in ("\t", "\r"):  # a cell opening with a tab or carriage return is prefixed as well
        return True
    rest = text.lstrip(LEADING)
    return rest != "" and rest[0] in _STARTS


def neutralise(value: object) -> object:
    """Prefix a text cell that a spreadsheet would run as a formula with a single quote."""
    if isinstance(value, str) and formula_like(value):
        return "'" + value
    return value


def neutral_sql(expr: str) -> str:
    """The same rule in DuckDB SQL, for exports too large to pass through pandas."""
    skip = "".join(f"\\x{{{ord(c):04x}}}" for c in LEADING)
    start = "".join(re.escape(c) if c.isascii() else f"\\x{{{ord(c):04x}}}" for c in _STARTS)
    pattern = f"^([\\t\\r]|[{skip}]*[{start}])"
    return f"CASE WHEN regexp_matches({expr}, '{pattern}') THEN '''' || {expr} ELSE {expr} END"


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of a small table with every text cell neutralised (numbers are left as numbers)."""
    import pandas as pd

    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    out.columns = [str(neutralise(str(c))) for c in out.columns]
    return out


def safe_csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a byte-order mark (so spreadsheets detect the encoding) and no live formulas.

    Every text cell is quoted, so a spreadsheet that splits lines on ';' or '|' keeps each cell whole.
    """
    return safe_frame(df).to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC).encode("utf-8-sig")

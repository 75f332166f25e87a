"""analytics.plain: the one JSON cleaner of results (it replaced four copies)."""

from __future__ import annotations

import json
import math
from datetime import date, datetime

import numpy as np

from analytics.plain import plain


def test_non_finite_floats_become_null_everywhere() -> None:
    doc = {"a": math.nan, "b": [1.0, math.inf, (-math.inf, 2)], "c": {3: np.float64("nan")}, "d": "nan"}
    assert plain(doc) == {"a": None, "b": [1.0, None, [None, 2]], "c": {"3": None}, "d": "nan"}
    json.dumps(plain(doc), allow_nan=False)


def test_numpy_scalars_dates_and_rounding() -> None:
    out = plain(
        {
            "n": np.int64(5),
            "x": np.float64(0.1234567891),
            "t": datetime(2026, 9, 1, 12),
            "d": date(2026, 9, 1),
        }
    )
    assert out == {"n": 5, "x": 0.1234567891, "t": "2026-09-01T12:00:00", "d": "2026-09-01"}
    assert type(out["n"]) is int
    assert plain(0.1234567891, digits=6) == 0.123457 and plain(True) is True and plain(None) is None

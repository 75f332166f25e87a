"""Results as plain JSON values: NaN and infinities become null, dates ISO text, numpy scalars Python numbers."""

from __future__ import annotations

import math
from datetime import date
from typing import Any


def plain(value: Any, *, digits: int | None = None) -> Any:
    """``value`` with every float finite or None (strict JSON), recursively through dicts, lists and tuples.

    ``digits`` rounds floats (drift scores and rates to 6 digits, so a JSON document stays readable).
    """
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()  # numpy scalars; checked by module so the CLI never imports numpy for this
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return value if digits is None else round(value, digits)
    if isinstance(value, dict):
        return {str(k): plain(v, digits=digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v, digits=digits) for v in value]
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    return value

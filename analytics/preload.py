"""The engine's heavy imports, loaded once at server start so that no visitor waits for them."""

from __future__ import annotations

import importlib

#: What the pages' first runs import (seconds on two cores): the data frames, the statistics, the charts, DuckDB.
HEAVY_MODULES = ("pandas", "numpy", "scipy.stats", "plotly.graph_objects", "duckdb")


def preload() -> None:
    """Import every heavy module of the engine (a no-op once imported)."""
    for name in HEAVY_MODULES:
        importlib.import_module(name)

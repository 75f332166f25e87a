"""A dry run's workspace: the real file when it exists, else an empty one in a scratch folder (nothing written)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from analytics.workspace import Workspace


@contextmanager
def workspace_for_dry_run(db: str) -> Iterator[Workspace]:
    """The workspace at ``db`` if it exists, else a scratch one deleted afterwards (a dry run writes no file)."""
    from analytics.workspace import open_workspace

    if Path(db).exists():
        ws = open_workspace(db)
        try:
            yield ws
        finally:
            ws.close()
        return
    with tempfile.TemporaryDirectory(prefix="liftboard-dry-run-") as tmp:
        ws = open_workspace(Path(tmp) / "scratch.duckdb")
        try:
            yield ws
        finally:
            ws.close()

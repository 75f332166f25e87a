"""The tools Liftboard reads exports of, and which one a file comes from (by its columns)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from analytics.errors import LiftboardError
from analytics.ingest.sources import amplitude, ga4, mixpanel, posthog, segment
from analytics.ingest.sources.spec import TOOLS, Source

if TYPE_CHECKING:
    from analytics.ingest.sources.files import ExportFile

SOURCES: dict[str, Source] = {
    s.key: s for s in (m.SOURCE for m in (posthog, amplitude, mixpanel, segment, ga4))
}
assert tuple(SOURCES) == TOOLS


def get_source(key: str) -> Source:
    """The tool of `--from KEY`, or a sentence listing the tools."""
    try:
        return SOURCES[key.strip().lower()]
    except KeyError:
        raise LiftboardError(f"Unknown source {key!r}; use one of {', '.join(TOOLS)}.") from None


def identify(f: ExportFile) -> Source | None:
    """The tool whose export's columns the file has (the most specific one when several match)."""
    cols = set(f.columns)
    hits = [s for s in SOURCES.values() if set(s.signature) <= cols]
    return max(hits, key=lambda s: len(s.signature), default=None)


def check(f: ExportFile, source: Source) -> None:
    """Refuse, in one sentence naming the file and what was expected, a file that is not this tool's export."""
    found = identify(f)
    if found is not None and found.key == source.key:
        return
    have = ", ".join(list(f.columns)[:8]) + ("…" if len(f.columns) > 8 else "")
    guess = f"; it looks like {found.a_label} export (choose {found.label})" if found is not None else ""
    raise LiftboardError(
        f"{f.name} is not {source.a_label} export: {source.a_label} export has {source.described}, and "
        f"this file has {have or 'no columns'}{guess}."
    )


def suggest(path: str | Path, *, name: str | None = None) -> str | None:
    """The tool a file most likely comes from, or None (a plain table); never raises."""
    import tempfile

    from analytics.ingest.sources.files import cleanup, inspect

    tmp = Path(tempfile.mkdtemp(prefix="liftboard-suggest-"))
    try:
        found = identify(inspect(path, tmp, name=name, peek=True))
    except LiftboardError:
        return None
    finally:
        cleanup(tmp)
    return found.key if found is not None else None

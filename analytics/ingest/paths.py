"""Which files a load may read, and reading them literally.

The app reads a file on its server only when it lies under a configured import folder once every symlink and
`..` is resolved, and never anything inside a `.streamlit` folder (where the sign-in secrets live). Paths
reach DuckDB literally: its readers expand `*`, `?` and `[...]`, so `a[12].csv` would read a1.csv and a2.csv.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from analytics.errors import LiftboardError

#: A folder Liftboard never reads from: Streamlit's configuration and sign-in secrets.
PRIVATE_FOLDER = ".streamlit"
_GLOB = {"*": "[*]", "?": "[?]", "[": "[[]"}


def literal(path: str | Path) -> str:
    """A path for DuckDB's readers that matches only itself (glob characters escaped as one-character classes)."""
    return "".join(_GLOB.get(ch, ch) for ch in str(path))


def import_folders(configured: Iterable[str | Path]) -> tuple[Path, ...]:
    """The configured import folders, resolved (a symlinked folder counts as where it points); missing ones dropped."""
    out = []
    for raw in configured:
        text = str(raw).strip()
        if not text:
            continue
        folder = Path(text).expanduser().resolve()
        if folder.is_dir() and not _private(folder):
            out.append(folder)
    return tuple(dict.fromkeys(out))


def _private(path: Path) -> bool:
    return PRIVATE_FOLDER in path.parts


def server_path(typed: str, folders: Sequence[Path]) -> Path:
    """The real path of a file or folder typed by a user, if it lies in an import folder; else one sentence.

    A relative path is taken inside the first import folder. Symlinks and `..` are resolved before the check,
    so neither leads out of the folders.
    """
    text = typed.strip()
    if not folders:
        raise LiftboardError(
            "Reading files on the server is off: no import folder is configured ([liftboard] import_dirs in "
            "secrets.toml); upload the file instead."
        )
    if not text or "\x00" in text:
        raise LiftboardError("Type the path of a file in an import folder.")
    path = Path(os.path.expanduser(text))
    if not path.is_absolute():
        path = folders[0] / path
    real = path.resolve()
    shown = ", ".join(str(f) for f in folders)
    if not any(real.is_relative_to(folder) for folder in folders):
        raise LiftboardError(
            f"{text} is outside the import folders ({shown}); copy the file into one of them, or upload it."
        )
    if _private(real):
        raise LiftboardError(
            f"{text} is inside a {PRIVATE_FOLDER} folder, which Liftboard never reads (it holds the app's "
            "secrets); copy the data file to another place in the import folders."
        )
    if not real.exists():
        raise LiftboardError(f"There is no file {text} in the import folders ({shown}); check the path.")
    return real


def server_file(typed: str, folders: Sequence[Path]) -> Path:
    """``server_path`` for a file (a folder is refused in one sentence)."""
    real = server_path(typed, folders)
    if not real.is_file():
        shown = ", ".join(str(f) for f in folders)
        raise LiftboardError(
            f"There is no file {typed.strip()} in the import folders ({shown}); check the path."
        )
    return real

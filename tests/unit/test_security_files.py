"""Issue 14, findings 1 and 2 in the engine: the load role before any file is opened; server paths only
inside import folders, after symlinks and `..`; never `.streamlit/`."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics import ingest
from analytics.errors import LiftboardError
from analytics.workspace import Actor, Workspace

VIEWER, EDITOR = Actor("v@example.com", "viewer"), Actor("e@example.com", "editor")
ROLE = "Your role (viewer) cannot load data; ask an admin for the editor role."


def test_preview_and_validate_need_the_load_role_before_opening_anything(
    tmp_ws: Workspace, tmp_path: Path
) -> None:
    missing = tmp_path / "not-there.csv"  # were it opened first, the sentence would say it does not exist
    for who, expected in ((VIEWER, ROLE), (None, "Sign in to load data.")):
        with pytest.raises(LiftboardError) as err:
            ingest.preview(missing, "events", actor=who)
        assert str(err.value) == expected
        with pytest.raises(LiftboardError) as err:
            ingest.validate(tmp_ws, missing, "events", actor=who)
        assert str(err.value) == expected
    with pytest.raises(LiftboardError, match="does not exist"):
        ingest.preview(missing, "events", actor=EDITOR)


@pytest.fixture()
def layout(tmp_path: Path) -> dict[str, Path]:
    imports = tmp_path / "imports"
    (imports / "sub").mkdir(parents=True)
    (imports / "events.csv").write_text("user_id,timestamp,event\nu1,2026-09-01 10:00:00,view\n")
    (imports / "sub" / "more.csv").write_text("user_id,timestamp,event\nu2,2026-09-01 10:00:00,view\n")
    secrets = tmp_path / ".streamlit" / "secrets.toml"
    secrets.parent.mkdir()
    secrets.write_text('[auth]\ncookie_secret = "s3cr3t"\n')
    (imports / "link.csv").symlink_to(secrets)
    (imports / "linked-dir").symlink_to(tmp_path / ".streamlit")
    (imports / ".streamlit").mkdir()
    (imports / ".streamlit" / "secrets.toml").write_text("x")
    return {"imports": imports, "secrets": secrets, "root": tmp_path}


def test_server_files_inside_the_import_folders(layout: dict[str, Path]) -> None:
    folders = ingest.import_folders([str(layout["imports"]), "", str(layout["root"] / "nowhere")])
    assert folders == (layout["imports"].resolve(),)
    imports = layout["imports"].resolve()
    assert ingest.server_file(str(imports / "events.csv"), folders) == imports / "events.csv"
    assert (
        ingest.server_file("sub/more.csv", folders) == imports / "sub" / "more.csv"
    )  # relative: first folder
    assert ingest.server_file(f"  {imports}/sub/../events.csv ", folders) == imports / "events.csv"


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("{secrets}", "is outside the import folders"),
        ("{imports}/link.csv", "is outside the import folders"),
        ("{imports}/linked-dir/secrets.toml", "is outside the import folders"),
        ("{imports}/sub/../../.streamlit/secrets.toml", "is outside the import folders"),
        ("../.streamlit/secrets.toml", "is outside the import folders"),
        ("/etc/passwd", "is outside the import folders"),
        ("/proc/self/root/etc/passwd", "is outside the import folders"),
        ("{imports}/.streamlit/secrets.toml", "inside a .streamlit folder, which Liftboard never reads"),
        ("{imports}/nothing.csv", "There is no file"),
        ("{imports}/sub", "There is no file"),
    ],
)
def test_server_paths_out_of_the_folders_are_refused(layout: dict[str, Path], typed: str, says: str) -> None:
    folders = ingest.import_folders([layout["imports"]])
    text = typed.format(secrets=layout["secrets"], imports=layout["imports"])
    with pytest.raises(LiftboardError) as err:
        ingest.server_file(text, folders)
    message = str(err.value)
    assert says in message and "\n" not in message and "s3cr3t" not in message


def test_no_import_folder_means_no_server_path(layout: dict[str, Path]) -> None:
    with pytest.raises(LiftboardError) as err:
        ingest.server_file(str(layout["imports"] / "events.csv"), ())
    assert str(err.value).startswith("Reading files on the server is off: no import folder is configured")


def test_a_streamlit_folder_is_never_an_import_folder(layout: dict[str, Path]) -> None:
    assert ingest.import_folders([layout["root"] / ".streamlit", layout["imports"] / "linked-dir"]) == ()

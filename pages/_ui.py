"""Streamlit glue shared by the pages: the cached workspace, errors, URL state and downloads."""

from __future__ import annotations

import json
import os
import re
import runpy
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from analytics.errors import LiftboardError
from analytics.workspace import (
    DEFAULT_DB,
    Actor,
    Workspace,
    local_actor,
    open_workspace,
    resolve_at,
    verified,
)

T = TypeVar("T")

#: The entry script: every page is drawn inside its run, after its sign-in gate and sidebar.
ENTRY = Path(__file__).resolve().parents[1] / "app.py"
#: True while app.py's navigation is running the chosen page in this script run (one value per script thread).
_ROUTED: ContextVar[bool] = ContextVar("liftboard_routed", default=False)


def run_page(nav: Any) -> None:
    """Run the page the navigation chose, marked as routed through app.py (see page())."""
    token = _ROUTED.set(True)
    t0 = time.perf_counter()
    try:
        nav.run()
    finally:
        _ROUTED.reset(token)
        _log_run(getattr(nav, "url_path", "") or "home", time.perf_counter() - t0)


def page() -> None:
    """Every page's first line: nothing of a page renders unless app.py's gate, sidebar and navigation ran.

    Streamlit runs a file of ``pages/`` on its own in its legacy multipage mode (a fresh server started with
    ``streamlit run app.py``; server.py switches that mode off before the first session) and in tests. Such a
    run executes app.py here, in the same script run: its gate stops a visitor who may not see the workspace, and
    its navigation runs this page again, routed. The outer run then stops, so the page is drawn once.
    """
    if _ROUTED.get():
        return
    runpy.run_path(str(ENTRY), run_name="__main__")
    st.stop()


def _log_run(page_name: str, seconds: float) -> None:
    """Append the script time of one rerun to $LIFTBOARD_RUN_LOG (JSON lines), for load tests and benchmarks."""
    path = os.environ.get("LIFTBOARD_RUN_LOG")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"page": page_name, "seconds": round(seconds, 4), "at": time.time()}) + "\n")


def default_db() -> Path:
    """The workspace the app opens: $LIFTBOARD_DB, else data/workspace.duckdb."""
    return Path(os.environ.get("LIFTBOARD_DB", str(DEFAULT_DB)))


def workspace_choices() -> list[Path]:
    """Workspace files the sidebar offers: the default one and any other .duckdb beside it."""
    first = default_db()
    others = sorted(p for p in first.parent.glob("*.duckdb") if p != first)
    return [first, *others]


@st.cache_resource(show_spinner=False)
def _open(path: str) -> Workspace:
    # One DuckDB connection per process and file; pages take a cursor per query. With a [spark] section in
    # secrets.toml the data tables are read on Spark and Liftboard's own state stays in this file.
    spark = _secrets_section("spark")
    if spark is None:
        return open_workspace(path, memory_limit=str(settings().get("memory_limit", DEFAULT_MEMORY_LIMIT)))
    from analytics.workspace.spark import open_configured

    return open_configured(path, spark)


#: DuckDB's memory for one workspace in the app (a load's staging and checks included); beyond it DuckDB
#: spills to disk or refuses in one sentence. [liftboard] memory_limit in secrets.toml changes it.
DEFAULT_MEMORY_LIMIT = "1GiB"


def settings() -> dict[str, Any]:
    """The [liftboard] section of secrets.toml: import_dirs, memory_limit, session_hours (see the README)."""
    return _secrets_section("liftboard") or {}


def import_folders() -> tuple[Path, ...]:
    """The folders whose files the Data page may read in place: [liftboard] import_dirs, else
    $LIFTBOARD_IMPORT_DIRS (separated by the OS path separator); none by default."""
    from analytics.ingest import import_folders as resolve_folders

    raw = settings().get("import_dirs")
    if raw is None:
        raw = [p for p in os.environ.get("LIFTBOARD_IMPORT_DIRS", "").split(os.pathsep) if p]
    return resolve_folders([raw] if isinstance(raw, str) else list(raw))


_MD_ALWAYS = re.compile(r"([\\`*~\[\]$&|])")
_MD_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")  # intraword underscores are plain text
_MD_TAG = re.compile(r"<(?=[A-Za-z/!?])")  # an HTML tag, comment or autolink; "p < 0.05" stays as it is
_MD_BLOCK = re.compile(r"^(\s*)([#>+=-])")  # a heading, quote, list or underline marker opening the text
_MD_ORDERED = re.compile(r"^(\s*\d+)([.)])")  # an ordered-list marker opening the text


def md(value: object) -> str:
    """A data value (or a sentence built from data) as literal text in Streamlit markdown.

    Every name that comes from the data (experiments, variants, events, columns, model versions, reviewers,
    descriptions, file names, engine sentences that quote them) goes through this before st.markdown,
    st.caption, st.subheader, widget labels and the like: no image, link, HTML, math, code span or formatting
    can come out of it, and no other host is ever requested.
    """
    text = " ".join(str(value).splitlines())  # one line: a newline could start a heading, list or table
    text = _MD_ALWAYS.sub(r"\\\1", text)
    text = _MD_UNDERSCORE.sub(r"\\_", text)
    text = _MD_TAG.sub(r"\\<", text)
    text = _MD_BLOCK.sub(r"\1\\\2", text)
    return _MD_ORDERED.sub(r"\1\\\2", text)


def _secrets_section(name: str) -> dict[str, Any] | None:
    try:
        section = st.secrets.get(name)
    except Exception:  # no secrets file at all: Streamlit raises rather than returning empty
        return None
    return dict(section) if section is not None else None


def workspace_path() -> str:
    """The workspace file chosen in the sidebar (st.session_state['workspace_path']), else the default."""
    return st.session_state.get("workspace_path") or str(default_db())


def workspace() -> Workspace:
    """The workspace chosen in the sidebar, opened once per process (only after the gate let the visitor in)."""
    try:
        return _open(workspace_path())
    except LiftboardError as exc:
        st.error(md(exc))
        st.stop()
        raise  # unreachable: st.stop() raises


def attempt(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """Call the engine; a LiftboardError becomes one red sentence, None is returned and the page goes on."""
    try:
        return fn(*args, **kwargs)
    except LiftboardError as exc:
        st.error(md(exc))
        return None


def guarded(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call the engine; a LiftboardError becomes one red sentence and stops the page."""
    try:
        return fn(*args, **kwargs)
    except LiftboardError as exc:
        st.error(md(exc))
        st.stop()
        raise


def url_state(key: str, default: str) -> str:
    """A string kept in the URL's query parameters so that a link reproduces the view."""
    return st.query_params.get(key, default)


def seed(key: str, value: object) -> None:
    """Give widget ``key`` its first value (e.g. from the URL); afterwards the widget owns its state."""
    if key not in st.session_state:
        st.session_state[key] = value


def seed_from_url(
    key: str, url_key: str, default: T, *, parse: Callable[[str], T] | None = None, valid: Any = None
) -> None:
    """Seed widget ``key`` once from the URL's ``url_key`` (parsed, and kept only if in ``valid``), else
    ``default``: the one way a shared link sets a widget; the page writes it back with ``set_url_state``."""
    if key in st.session_state:
        return
    raw = st.query_params.get(url_key)
    try:
        value = default if raw is None else (parse(raw) if parse else raw)
    except ValueError:
        value = default
    st.session_state[key] = value if valid is None or value in valid else default


def set_url_state(**values: Any) -> None:
    for key, value in values.items():
        if value is None or value == "":
            st.query_params.pop(key, None)
        else:
            st.query_params[key] = str(value)


def download_csv(df: pd.DataFrame, name: str, *, key: str | None = None, label: str = "Download CSV") -> None:
    """A download button for a small result table, with spreadsheet formulas neutralised."""
    from analytics.workspace import safe_csv_bytes

    st.download_button(
        label,
        data=safe_csv_bytes(df),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=key or f"dl-{name}",
        on_click="ignore",
    )


# -- sign-in and roles -----------------------------------------------------------------------
def auth_configured() -> bool:
    """True when .streamlit/secrets.toml has an [auth] section (Streamlit's native OpenID Connect)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all: Streamlit raises rather than returning empty
        return False


def _sign_in_screen() -> None:
    st.title("Liftboard")
    st.write("This Liftboard requires you to sign in.")
    st.button("Sign in", on_click=st.login, type="primary")


def _no_access_screen() -> None:
    st.title("Liftboard")
    email = st.user.get("email") or "This account"
    subject = st.user.get("sub")
    account = f"your account (sub:{subject})" if subject else "your account"
    if verified(st.user.get("email_verified")):
        st.error(
            md(f"{email} has no access to this workspace; ask an admin to give your email or domain a role.")
        )
        st.caption(md(f"Roles go to verified emails, their domains, or provider accounts such as {account}."))
    else:
        st.error(
            md(
                f"{email} has no access to this workspace: your sign-in provider has not verified this email, "
                f"and Liftboard gives roles only to verified emails. Verify it at your provider, or ask an "
                f"admin to give {account} a role."
            )
        )
    default = str(default_db())
    if workspace_path() != default:  # the sidebar's picker chose this one: offer the way back
        if st.button(f"Back to {md(Path(default).name)}", type="primary"):
            st.session_state["workspace_path"] = default
            st.rerun()
    st.button("Sign out", on_click=st.logout)


def _locked(screen: Callable[[], None], url_paths: Sequence[str]) -> None:
    """Show only this screen and stop: a hidden navigation in which every page's URL shows this screen.

    No page name is listed, and a link to /drift shows the sign-in screen rather than "Page not found".
    """
    pages = [st.Page(screen, title="Liftboard", default=True, url_path="sign-in")]
    pages += [st.Page(screen, title="Liftboard", url_path=path, visibility="hidden") for path in url_paths]
    st.navigation(pages, position="hidden").run()
    st.stop()


def gate(pages: Sequence[Any]) -> None:
    """Before anything of the workspace renders: require sign-in when configured, and a known role.

    ``pages`` are the app's st.Page objects, whose URLs lead to the sign-in screen until one is signed in.
    """
    if not auth_configured():
        return
    url_paths = [p.url_path for p in pages if p.url_path]
    if not st.user.is_logged_in:
        _locked(_sign_in_screen, url_paths)
    if actor() is None:
        _locked(_no_access_screen, url_paths)


def actor() -> Actor | None:
    """Who is acting: the signed-in user with their role, or in local mode the name typed in the sidebar."""
    if auth_configured():
        if not st.user.is_logged_in:
            return None
        # Read through a connection closed at once: a visitor without a role leaves the file unlocked.
        return guarded(
            resolve_at,
            workspace_path(),
            st.user.get("email"),
            email_verified=verified(st.user.get("email_verified")),
            subject=st.user.get("sub"),
        )
    name = st.session_state.get("actor_name", "")
    if not " ".join(str(name).split()):
        return None
    return local_actor(name)


def identity_sidebar() -> None:
    """The sidebar's line about who is signed in (or the local-mode name box)."""
    if auth_configured():
        who = actor()
        if who is not None:
            st.caption(f"Signed in as **{md(who.name)}** ({who.role}).")
            st.button("Sign out", on_click=st.logout)
        return
    st.caption("Local single-user mode: no sign-in is configured, so whoever runs the app is its admin.")
    st.text_input(
        "Your name (recorded with your changes)", key="actor_name", max_chars=80, placeholder="e.g. Ada"
    )


def report_button(experiment: str, *, key: str | None = None) -> None:
    """Download the founder's report for an experiment; built only when clicked (deferred download)."""
    from analytics.overview import build_report

    ws = workspace()

    def _build() -> bytes:
        return build_report(ws, experiment).html.encode("utf-8")

    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in experiment)[:60] or "experiment"
    st.download_button(
        "Report",
        data=_build,
        file_name=f"liftboard-{safe}.html",
        mime="text/html",
        key=key or f"report-{safe}",
        icon="📄",
        help="A self-contained HTML file (no network needed); print it to PDF from the browser.",
    )

"""Start-up work for server.py: leave Streamlit's legacy `pages/` mode and run the app once, headless."""

from __future__ import annotations

import asyncio
import importlib
import logging
import time

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime import Runtime
from streamlit.runtime.pages_manager import PagesManager

from analytics.preload import preload

_LOG = logging.getLogger("liftboard.warmup")

#: The landing page runs before the port answers; the other pages right after, while the first visitor reads it.
FIRST_PAGE = "overview"
LATER_PAGES = ("experiments", "cost", "drift", "feedback", "data")
#: A page run that takes longer than this is abandoned: the server starts anyway, only colder.
TIMEOUT_S = 120.0


def leave_pages_directory_mode() -> None:
    """Never run a file of pages/ as a legacy page: only app.py's st.navigation decides what runs.

    The class attribute is read when the first session is created (``None`` means "look for a pages folder");
    set before any session exists, it makes every session start in app.py.
    """
    PagesManager.uses_pages_directory = False


class _HeadlessClient:
    """A session client that discards what the script draws and notes when a run has finished."""

    def __init__(self) -> None:
        self.finished = asyncio.Event()

    def write_forward_msg(self, msg: ForwardMsg) -> None:
        # A run that ends early for a rerun (a page switch) is not the end of the page's run.
        if (
            msg.WhichOneof("type") == "script_finished"
            and msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN
        ):
            self.finished.set()

    @property
    def client_context(self) -> None:
        return None


async def _run_pages(pages: tuple[str, ...]) -> None:
    """Run each page once, in order, in one session nobody sees (its cached results stay for the visitors)."""
    runtime = Runtime.instance()
    client = _HeadlessClient()
    session_id = runtime.connect_session(client=client, user_info={})
    try:
        for page in pages:
            client.finished.clear()
            msg = BackMsg()
            msg.rerun_script.CopyFrom(ClientState(query_string="", page_script_hash="", page_name=page))
            runtime.handle_backmsg(session_id, msg)
            await asyncio.wait_for(client.finished.wait(), TIMEOUT_S)
    except TimeoutError:
        _LOG.warning("Warm-up: a page took over %.0f s; the first visitor will wait instead.", TIMEOUT_S)
    finally:
        runtime.close_session(session_id)


async def warm_up() -> asyncio.Task[None]:
    """Import the engine and run the landing page; return the task that warms the other pages meanwhile."""
    t0 = time.monotonic()
    await asyncio.to_thread(preload)  # the engine's heavy imports
    await asyncio.to_thread(importlib.import_module, "pages._ui")  # the pages' shared glue
    await _run_pages((FIRST_PAGE,))
    _LOG.warning(
        "Liftboard is ready (%.1f s of imports and a first run of the %s).", time.monotonic() - t0, FIRST_PAGE
    )

    async def later() -> None:
        t1 = time.monotonic()
        await _run_pages(LATER_PAGES)
        _LOG.warning("Warmed the other pages in %.1f s.", time.monotonic() - t1)

    return asyncio.create_task(later(), name="liftboard-warm-pages")

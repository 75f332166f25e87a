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

#: Pages in the order they are warmed: the landing page always before the port answers, then the others.
FIRST_PAGE = "overview"
LATER_PAGES = ("experiments", "cost", "drift", "feedback", "data")
#: The other pages also run before the port answers while start-up has taken less than this: a first visitor
#: arriving while pages still warm shares the two cores with them (on the demo, 0.2 to 0.9 s of its first
#: visit). On a workspace so large that warming takes longer, the pages left run after the port answers.
READY_BUDGET_S = 30.0
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


async def _run_pages(pages: tuple[str, ...], until: float | None = None) -> tuple[str, ...]:
    """Run each page once, in order, in one session nobody sees (its cached results stay for the visitors);
    stop starting pages once time.monotonic() passes `until`, and return the pages not run."""
    runtime = Runtime.instance()
    client = _HeadlessClient()
    session_id = runtime.connect_session(client=client, user_info={})
    try:
        for i, page in enumerate(pages):
            if until is not None and time.monotonic() > until:
                return pages[i:]
            client.finished.clear()
            msg = BackMsg()
            msg.rerun_script.CopyFrom(ClientState(query_string="", page_script_hash="", page_name=page))
            runtime.handle_backmsg(session_id, msg)
            await asyncio.wait_for(client.finished.wait(), TIMEOUT_S)
    except TimeoutError:
        _LOG.warning("Warm-up: a page took over %.0f s; the first visitor will wait instead.", TIMEOUT_S)
    finally:
        runtime.close_session(session_id)
    return ()


async def warm_up() -> asyncio.Task[None]:
    """Import the engine and run the pages (the landing page always, the others within READY_BUDGET_S); return
    the task that warms the pages left, after the port answers."""
    t0 = time.monotonic()
    await asyncio.to_thread(preload)  # the engine's heavy imports
    await asyncio.to_thread(importlib.import_module, "pages._ui")  # the pages' shared glue
    await _run_pages((FIRST_PAGE,))
    left = await _run_pages(LATER_PAGES, until=t0 + READY_BUDGET_S)
    _LOG.warning(
        "Liftboard is ready (%.1f s of imports and a first run of %d of its %d pages).",
        time.monotonic() - t0, 1 + len(LATER_PAGES) - len(left), 1 + len(LATER_PAGES),
    )  # fmt: skip

    async def later() -> None:
        t1 = time.monotonic()
        await _run_pages(left)
        _LOG.warning("Warmed the other pages in %.1f s.", time.monotonic() - t1)

    return asyncio.create_task(later(), name="liftboard-warm-pages")

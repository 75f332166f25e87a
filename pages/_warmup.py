"""Start-up work for server.py: leave Streamlit's legacy `pages/` mode and run the entry once, headless."""

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

_LOG = logging.getLogger("liftboard.warmup")

#: Imported before the first session so that no visitor waits for them (seconds each on two cores).
HEAVY_MODULES = (
    "pandas",
    "numpy",
    "scipy.stats",
    "plotly.graph_objects",
    "duckdb",
    "pages._ui",
)
#: A warm-up that takes longer than this is abandoned: the server starts anyway, only colder.
TIMEOUT_S = 120.0


def leave_pages_directory_mode() -> None:
    """Never run a file of pages/ as a legacy page: only app.py's st.navigation decides what runs.

    The class attribute is read when the first session is created (``None`` means "look for a pages folder");
    set before any session exists, it makes every session start in app.py.
    """
    PagesManager.uses_pages_directory = False


class _HeadlessClient:
    """A session client that discards what the script draws and notes when the run has finished."""

    def __init__(self) -> None:
        self.finished = asyncio.Event()

    def write_forward_msg(self, msg: ForwardMsg) -> None:
        # "/" switches to /overview: the first run ends early for that rerun, the second is the page's.
        if (
            msg.WhichOneof("type") == "script_finished"
            and msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN
        ):
            self.finished.set()

    @property
    def client_context(self) -> None:
        return None


async def warm_up() -> None:
    """Import the engine and run the entry's default page once in a session nobody sees."""
    t0 = time.monotonic()
    for name in HEAVY_MODULES:
        await asyncio.to_thread(importlib.import_module, name)
    t1 = time.monotonic()
    runtime = Runtime.instance()
    client = _HeadlessClient()
    session_id = runtime.connect_session(client=client, user_info={})
    try:
        msg = BackMsg()
        msg.rerun_script.CopyFrom(ClientState(query_string="", page_script_hash="", page_name=""))
        runtime.handle_backmsg(session_id, msg)
        await asyncio.wait_for(client.finished.wait(), TIMEOUT_S)
    except TimeoutError:
        _LOG.warning("Warm-up did not finish in %.0f s; the first visitor will wait instead.", TIMEOUT_S)
    finally:
        runtime.close_session(session_id)
    _LOG.warning(
        "Liftboard warmed up in %.1f s (imports %.1f s, first run %.1f s).",
        time.monotonic() - t0,
        t1 - t0,
        time.monotonic() - t1,
    )

"""Liftboard's server: Streamlit's ASGI app around app.py, ready before it accepts the first request.

`streamlit run server.py` (what `make run` does) serves app.py like `streamlit run app.py`, with two differences
made at start-up, before the port accepts anyone:
- Streamlit runs a folder named `pages/` beside the entry script as a legacy multipage app, running a page's file
  *without app.py* (no sign-in gate, no sidebar), until some session has called `st.navigation`
  (streamlit/runtime/pages_manager.py). The flag is switched off here, before any session exists, so every
  request in any order goes through app.py.
- The entry runs once in a headless session (imports, the workspace connection and the landing page's cached
  results), so the first visitor does not pay for them; the other pages run right after, in the background.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import streamlit as st

from pages._warmup import leave_pages_directory_mode, warm_up


@asynccontextmanager
async def _lifespan(_app: st.App) -> AsyncIterator[None]:
    leave_pages_directory_mode()
    later = await warm_up()
    try:
        yield
    finally:
        later.cancel()


app = st.App("app.py", lifespan=_lifespan)

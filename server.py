"""Liftboard's server: Streamlit's ASGI app around app.py, ready before it accepts the first request.

`streamlit run server.py` (what `make run` does) serves app.py like `streamlit run app.py`, with these differences
made at start-up, before the port accepts anyone:
- Streamlit runs a folder named `pages/` beside the entry script as a legacy multipage app, running a page's file
  *without app.py* (no sign-in gate, no sidebar), until some session has called `st.navigation`
  (streamlit/runtime/pages_manager.py). The flag is switched off here, before any session exists, so every
  request in any order goes through app.py.
- pages/_guard.py's middleware drops websocket `clear_cache` requests (Streamlit would empty every session's
  caches for anyone) and, with sign-in configured, keeps the sign-in cookie to `session_hours`, revokes it at
  sign-out, and closes metrics, media and uploads to visitors who have not signed in.
- The entry runs once in a headless session (imports, the workspace connection and every page's cached results)
  before the port answers, so no first visitor pays for them or shares the cores with them. On a workspace so
  large that this takes over 30 s, the pages not yet run are run after the port answers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import streamlit as st
from starlette.middleware import Middleware

from analytics.ingest import sweep_spools
from pages._guard import Guard
from pages._warmup import leave_pages_directory_mode, warm_up


@asynccontextmanager
async def _lifespan(_app: st.App) -> AsyncIterator[None]:
    leave_pages_directory_mode()
    sweep_spools()  # uploads a killed server left in the temp folder
    later = await warm_up()
    try:
        yield
    finally:
        later.cancel()


app = st.App("app.py", lifespan=_lifespan, middleware=[Middleware(Guard)])

"""Liftboard: the entry point. Declares the pages and the sidebar's workspace picker; nothing else."""

from __future__ import annotations

import streamlit as st

from pages._ui import gate, identity_sidebar, run_page, workspace_choices

st.set_page_config(page_title="Liftboard", page_icon="📈", layout="wide")

# One line per page that exists; a page is listed only once it is built.
PAGES = [
    st.Page("pages/overview.py", title="Overview", icon="🧭", url_path="overview"),
    st.Page("pages/data.py", title="Data", icon="🗂️", url_path="data"),
    st.Page("pages/experiments.py", title="Experiments", icon="🧪", url_path="experiments"),
    st.Page("pages/cost.py", title="Cost", icon="💰", url_path="cost"),
    st.Page("pages/drift.py", title="Drift", icon="🌊", url_path="drift"),
    st.Page("pages/feedback.py", title="Feedback", icon="💬", url_path="feedback"),
]
# "/" and "/overview" both open the Overview. Streamlit serves its default page at "/" only (the default page's
# own name would answer "Page not found"), so the Overview is listed twice: hidden as the default, and by name.
HOME = st.Page("pages/overview.py", title="Overview", url_path="home", default=True, visibility="hidden")

gate([HOME, *PAGES])  # with sign-in configured, nothing of the workspace renders before it
nav = st.navigation([HOME, *PAGES])

with st.sidebar:
    choices = [str(p) for p in workspace_choices()]
    st.selectbox(
        "Workspace",
        choices,
        key="workspace_path",
        help="A DuckDB file holding your data and Liftboard's state.",
    )
    identity_sidebar()
    with st.expander("What is Liftboard?"):
        st.markdown(
            "Liftboard tells you whether your AI feature **works** (A/B lift on conversion, retention, "
            "revenue), whether you can **afford** to grow it (cost per user and how it scales), whether the "
            "model is **drifting** from what you validated, and what **users say** about its outputs. "
            "Start on the Data page: load the demo or upload your own event logs."
        )

run_page(nav)  # each page's first line, page(), checks that it runs from here

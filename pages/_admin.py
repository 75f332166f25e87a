"""The Data page's Administration section (admins only): clearing cached results, the audit trail, the roles."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics.workspace import (
    AUDIT_AREAS,
    ROLES,
    Actor,
    RoleRule,
    Workspace,
    audit_log,
    get_rules,
    set_rules,
)
from pages._ui import attempt, download_csv


def administration(ws: Workspace, who: Actor) -> None:
    """Who did what and when, and who may do what; the caller shows it to admins only."""
    st.header("Administration")
    st.markdown("Who did what and when, and who may do what. Only admins see this section.")
    # Streamlit's own "clear cache" request is refused for every client (pages/_guard.py): it would empty the
    # caches of all sessions for anyone. Results are keyed on the workspace's state, so this is rarely needed.
    if st.button(
        "Clear cached results", key="data-clear-cache", help="Every session recomputes its next view."
    ):
        st.cache_data.clear()
        st.session_state["data_flash"] = "Cached results cleared for every session."
        st.rerun()
    with st.expander("Audit trail: loads, deletions, tag changes, role and settings changes"):
        areas = st.multiselect("Show", list(AUDIT_AREAS), key="data-audit-areas", placeholder="everything")
        trail = attempt(audit_log, ws, areas=areas, limit=1000)
        if trail is not None:
            st.dataframe(trail, hide_index=True, key="audit-table")
            download_csv(trail, "audit-trail", key="dl-audit")
    with st.expander("Roles: which emails and domains may read, tag and load, or administer"):
        st.markdown(
            "A full email (ada@example.com), a domain (@example.com) or a provider account (sub:ID, the id the "
            "no-access screen shows); an exact email wins over its domain. An email counts only when the sign-in "
            "provider verified it. Roles apply when sign-in is configured: viewer reads and downloads, editor "
            "also tags and loads, admin also deletes datasets and edits the taxonomy and roles."
        )
        rules = pd.DataFrame([r.__dict__ for r in get_rules(ws)], columns=["match", "role"])
        edited = st.data_editor(
            rules,
            num_rows="dynamic",
            hide_index=True,
            key="data-roles",
            column_config={
                "match": st.column_config.TextColumn("Email, @domain or sub:ID", required=True),
                "role": st.column_config.SelectboxColumn("Role", options=list(ROLES), required=True),
            },
        )
        if st.button("Save roles", key="data-save-roles"):
            rows = edited.dropna(how="all")
            new = [RoleRule(str(r.match or ""), str(r.role or "")) for r in rows.itertuples()]
            if attempt(set_rules, ws, who, new) is not None:
                st.session_state["data_flash"] = f"Saved {len(new)} role rule(s)."
                st.rerun()

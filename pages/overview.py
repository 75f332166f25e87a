"""Overview: does each AI feature work, what does it cost, is it stable, what do users say — and is it ready to scale?"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import streamlit as st

from analytics import overview
from analytics.overview import Thresholds
from analytics.workspace import experiment_names
from pages._ui import actor, guarded, md, page, report_button, seed_from_url, set_url_state, workspace

page()  # first: nothing of this page renders outside app.py's sign-in gate and sidebar

STATUS_ICON = {"good": "✅", "bad": "⚠️", "neutral": "➖", "missing": "❔"}
PAGE_FILE = {
    "experiments": "pages/experiments.py",
    "cost": "pages/cost.py",
    "drift": "pages/drift.py",
    "feedback": "pages/feedback.py",
}


#: Experiments drawn per page: each one's cards are computed only when its page is shown.
PAGE_SIZE = 10


# Cached on the workspace's state tokens: a load, tag or setting moves them, and everything is read afresh. The
# experiments' analyses, cost and drift use the token reviewers' tags and reviews leave alone (the Experiments, Cost
# and Drift pages' too), so a reviewer at work re-reads only the feedback cards and the audit trail.
@st.cache_data(show_spinner=False, max_entries=8)
def _names(analysis_token: str, path: str) -> list[str]:
    return experiment_names(workspace())


@st.cache_data(show_spinner=False, max_entries=8)
def _shared(analysis_token: str, path: str) -> overview.SharedEvidence:
    return overview.shared_evidence(workspace())


@st.cache_data(show_spinner=False, max_entries=4 * PAGE_SIZE)
def _analysis(analysis_token: str, path: str, name: str) -> overview.ExperimentEvidence:
    return overview.experiment_evidence(workspace(), name, _shared(analysis_token, path))


@st.cache_data(show_spinner=False, max_entries=4 * PAGE_SIZE)
def _reviewed(token: str, path: str, name: str) -> overview.ReviewedEvidence:
    return overview.reviewed_evidence(workspace(), name)


def _experiment(analysis_token: str, token: str, path: str, name: str) -> overview.ExperimentOverview:
    shared = _shared(analysis_token, path)
    return overview.compose(shared, _analysis(analysis_token, path, name), _reviewed(token, path, name))


def _link(card: overview.Card) -> None:
    page = PAGE_FILE.get(card.page)
    if page and Path(page).exists():
        st.page_link(page, label=f"Open {card.page.title()}", query_params=card.query or None)


def _draw(exp: overview.ExperimentOverview) -> None:
    with st.container(border=True):
        head, button = st.columns([4, 1])
        head.subheader(md(exp.experiment))
        if exp.description:
            head.caption(md(exp.description))
        with button:
            if exp.primary is not None:
                report_button(exp.experiment)
        reached = exp.ladder.reached
        nxt = exp.ladder.next_stage
        st.markdown(
            f"**Stage reached: {reached or 'none yet'}.** "
            + (
                f"Next: **{nxt.name}** — {sum(not r.passed for r in nxt.rules)} rule(s) to meet."
                if nxt
                else ""
            )
        )
        cols = st.columns(len(exp.cards))
        for col, card in zip(cols, exp.cards, strict=True):
            with col.container(border=True):
                st.markdown(f"{STATUS_ICON[card.status]} **{card.title}**")
                st.markdown(md(card.reading))
                _link(card)

        st.markdown("##### From MVP to scale")
        stage_cols = st.columns(len(exp.ladder.stages))
        for col, stage in zip(stage_cols, exp.ladder.stages, strict=True):
            with col:
                st.markdown(f"{'✅' if stage.passed else '⬜'} **{stage.name}**")
                for rule in stage.rules:
                    st.markdown(f"{'✅' if rule.passed else '❌'} {rule.name}")
                    st.caption(
                        md(rule.detail) + (f" **Next:** {md(rule.next_step)}" if not rule.passed else "")
                    )


ws = workspace()
token, path = ws.state_token(), str(ws.path)
analysis_token = ws.state_token(reviews=False)  # reviewers tagging never changes the analyses, cost or drift
st.title("Overview")

names = guarded(_names, analysis_token, path)
if not names:
    st.info(
        "This workspace has no experiment yet. Start on the **Data** page: build the demo workspace, or upload "
        "your assignments (who saw which variant), events, and the AI feature's predictions and feedback."
    )
    st.page_link("pages/data.py", label="Go to the Data page", icon="🗂️")
    st.stop()

st.caption(
    "For each experiment: one line per question, and the five stages a feature climbs from MVP to scale. "
    "Each card links to the page that explains it."
)
if len(names) > PAGE_SIZE:
    find, turn = st.columns([3, 1])
    seed_from_url("ov_query", "q", "")
    query = find.text_input(
        "Find an experiment", key="ov_query", placeholder="part of a name",
        on_change=lambda: st.session_state.update(ov_page=1),
    )  # fmt: skip
    shown = [n for n in names if query.strip().lower() in n.lower()]
    pages = max(1, -(-len(shown) // PAGE_SIZE))
    seed_from_url("ov_page", "page", 1, parse=int)
    st.session_state["ov_page"] = min(max(int(st.session_state["ov_page"]), 1), pages)
    number = turn.number_input("Page", 1, pages, key="ov_page")
    set_url_state(q=query.strip() or None, page=None if number == 1 else number)
    first = (int(number) - 1) * PAGE_SIZE
    on_page = shown[first : first + PAGE_SIZE]
    st.caption(
        f"{first + 1 if on_page else 0:,}–{first + len(on_page):,} of {len(shown):,} experiments"
        + (f" matching “{md(query.strip())}”" if query.strip() else "")
        + ", in the order of their names."
    )
else:
    on_page = names

with st.spinner("Reading the workspace…"):
    shared = guarded(_shared, analysis_token, path)
for name in on_page:
    _draw(guarded(_experiment, analysis_token, token, path, name))

with st.expander("How the stages are judged (and their thresholds)"):
    st.markdown(
        "- **Validate**: the primary metric improves significantly, no sample-ratio mismatch, and enough power "
        "(the effect detectable at today's sample is small enough).\n"
        "- **Stabilise**: drift is monitored with no open alert on the model's inputs in the last chunk; "
        "a feedback loop with reviewed items; acceptance not falling week on week.\n"
        "- **Optimise**: cost per active user flat or falling (first week vs last week), latency p95 under "
        "target, cost growing no faster than users (scaling exponent ≤ target).\n"
        "- **Govern**: no user segment significantly harmed after Benjamini–Hochberg correction (the bias "
        "check), an audit trail, every dataset with a recorded source.\n"
        "- **Scale**: the projected monthly cost at 10× today's users within budget, and a positive return "
        "(incremental revenue per user above incremental AI cost per user)."
    )
    th = shared.thresholds
    with st.form("thresholds"):
        c1, c2, c3 = st.columns(3)
        mde_t = c1.number_input("Max detectable effect (relative)", 0.01, 1.0, th.max_mde_rel, 0.01)
        tagged = c1.number_input("Min reviewed feedback items", 0, 1_000_000, th.min_tagged_items, 10)
        drop = c2.number_input("Max acceptance drop (pp / week)", 0.0, 50.0, th.max_acceptance_drop_pp, 0.5)
        growth = c2.number_input("Max cost-per-user growth", 0.0, 5.0, th.max_cost_growth, 0.01)
        lat = c3.number_input("Latency p95 target (ms)", 1.0, 600_000.0, th.latency_p95_target_ms, 50.0)
        b = c3.number_input("Max scaling exponent", 0.1, 3.0, th.max_scaling_exponent, 0.05)
        if st.form_submit_button("Save thresholds"):
            who = actor()
            if who is None or not who.can("edit_settings"):
                st.error("Type your name in the sidebar (or sign in as an editor) to change the thresholds.")
            else:
                new: Thresholds = replace(
                    th,
                    max_mde_rel=mde_t,
                    min_tagged_items=int(tagged),
                    max_acceptance_drop_pp=drop,
                    max_cost_growth=growth,
                    latency_p95_target_ms=lat,
                    max_scaling_exponent=b,
                )
                guarded(overview.save_thresholds, ws, new, who)
                st.success("Thresholds saved.")
                st.rerun()

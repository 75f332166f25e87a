"""Feedback: what users accepted, rejected and corrected, what reviewers tagged it as, and how it moves."""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from dataclasses import replace
from pathlib import Path

import pandas as pd
import streamlit as st

from analytics import feedback as fb
from analytics.errors import LiftboardError
from analytics.workspace import Workspace
from pages import _feedback_data as cached
from pages._ui import actor, auth_configured, download_csv, guarded, md, page, workspace

page()  # first: nothing of this page renders outside app.py's sign-in gate and sidebar

PAGE_SIZE = 25
URL = "query-params"  # widgets bound to the URL, so a link reproduces the view


def _date_bounds(ws: Workspace, data: str) -> tuple[dt.date, dt.date]:
    lo, hi = cached.log_days(ws, data)
    today = dt.date.today()
    return (lo or today, hi or today)


def _remember_name() -> None:
    # The sidebar's name box is created before this page runs; a callback may still set its value.
    st.session_state["actor_name"] = st.session_state.get("fb_name", "")


def _pct(x: float) -> str:
    return "–" if x is None or math.isnan(x) else f"{x:.1%}"


ws = workspace().for_run()  # remembers, for this run only, that the feedback item table is current
st.title("Feedback")
st.caption("What users accepted, rejected and corrected, what reviewers tagged it as, and how that moves.")
if not ws.has_table("feedback"):
    st.info("This workspace has no feedback yet: load a feedback file on the Data page, or build the demo.")
    st.stop()
if ws.remote_data and st.button(
    "Refresh from the source",
    key="fb_refresh",
    help="Read feedback, predictions and assignments again now (changes are also noticed within a minute).",
):
    with st.spinner("Reading the source again…"):
        guarded(fb.refresh_items, ws)
    st.session_state["fb_saves"] = st.session_state.get("fb_saves", 0) + 1  # a fresh queue snapshot
with st.spinner("Joining feedback to predictions and variants (once after each change of the data)…"):
    guarded(fb.ensure_items, ws)
# After the join: a rebuilt item table is a new cache key.
token, data = ws.state_token(), ws.state_token(reviews=False)

# -- who is reviewing -------------------------------------------------------------------------------
who = actor()
if who is None and not auth_configured():
    st.text_input(
        "Your name (recorded with every tag you add)",
        key="fb_name",
        on_change=_remember_name,
        max_chars=80,
        placeholder="e.g. Ada",
    )
reviewer = who.name if who is not None else None
can_tag = who is not None and who.can("tag")
can_edit_taxonomy = who is not None and who.can("edit_taxonomy")
if reviewer is None:
    st.info("Type your name to start tagging; until then the page is read-only.")
elif not can_tag:
    st.info(
        f"Your role ({who.role}) cannot tag feedback; ask an admin for the editor role. The page is read-only."
    )

# -- filters, bound to the URL ---------------------------------------------------------------------
exps = cached.experiments(ws, data)
lo_day, hi_day = _date_bounds(ws, data)
with st.expander("Filters", expanded=False):
    c1, c2, c3 = st.columns(3)
    experiment = (
        c1.selectbox("Experiment (labels the variant)", exps, key="fb_exp", bind=URL) if exps else None
    )
    opts = cached.options(ws, data, experiment)
    signals = c1.multiselect("Signal", opts["signals"], key="fb_signal", bind=URL)
    variants = c2.multiselect("Variant", opts["variants"], key="fb_variant", bind=URL)
    versions = c2.multiselect("Model version", opts["model_versions"], key="fb_model", bind=URL)
    start = c3.date_input("From", value=lo_day, min_value=lo_day, max_value=hi_day, key="fb_from", bind=URL)
    end = c3.date_input(
        "To (inclusive)", value=hi_day, min_value=lo_day, max_value=hi_day, key="fb_to", bind=URL
    )
    score = c3.slider("Prediction score", 0.0, 1.0, (0.0, 1.0), step=0.05, key="fb_score", bind=URL)
flt = fb.FeedbackFilter(
    experiment=experiment,
    signals=tuple(signals),
    variants=tuple(variants),
    model_versions=tuple(versions),
    start=start if start != lo_day else None,
    end=end if end != hi_day else None,
    score_min=score[0] if score[0] > 0 else None,
    score_max=score[1] if score[1] < 1 else None,
)

# -- the verdict first ----------------------------------------------------------------------------
with st.spinner("Counting feedback…"):
    summ = fb.Summary.of(guarded(cached.counts, ws, data, flt), guarded(cached.progress, ws, token, flt))
st.markdown(f"**{md(fb.summary_sentence(summ))}**")
m1, m2, m3, m4 = st.columns(4)
m1.metric(
    "Acceptance rate", _pct(summ.acceptance.rate), help="accepted ÷ all feedback items, Wilson interval"
)
m2.metric("Feedback items", f"{summ.total:,}")
m3.metric("Tagged", f"{summ.progress.tagged:,} / {summ.progress.total:,}")
m4.metric("Reject rate", _pct(summ.by_signal.get("reject", 0) / summ.total if summ.total else math.nan))
if summ.unmatched[0]:
    st.warning(
        f"{summ.unmatched[0]:,} of {summ.unmatched[1]:,} feedback rows name a prediction id that is not in the "
        "inference log; they have no model version, score or variant."
    )

tab_queue, tab_rates, tab_tags, tab_audit, tab_tax, tab_export = st.tabs(
    ["Review queue", "Rates", "Tag mix & agreement", "Audit trail", "Taxonomy", "Export"],
    key="fb_tab",
    bind=URL,
)
# Switching tabs reruns the page (the tab is bound to the URL), so Rates, Tag mix and Audit trail are drawn only
# while open: the reruns after each tag skip the queries and charts nobody is looking at. The queue always runs,
# since a widget skipped in a run loses its state (page, toggles, unsaved edits); its siblings' widgets are
# bound to the URL, which keeps theirs.

# -- review queue ----------------------------------------------------------------------------------
with tab_queue:
    q1, q2, q3 = st.columns([2, 2, 1])
    status = q1.segmented_control(
        "Show", ["untagged", "tagged", "all"], default="untagged", required=True, key="fb_status", bind=URL
    )
    mine_only = q2.toggle(
        "Untagged by me (second review)", key="fb_mine", help="Off: items no reviewer has tagged yet."
    )
    qflt = replace(flt, status=status, reviewer=reviewer if mine_only else None)
    # The page the reviewer sees is a snapshot: reruns (each edit is one) reuse it, so rows never shift
    # under the reviewer's edits and every save carries the versions they actually saw.
    # Tagged and all items of the selection, relative to the reviewer when only theirs count: the queue's
    # size is one of them (or their difference), so one cached count serves both.
    prog = guarded(cached.progress, ws, token, replace(flt, reviewer=qflt.reviewer))
    total = prog.matching(status)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page_no = q3.number_input("Page", min_value=1, max_value=pages, value=1, step=1, key="fb_page")
    snap_id = repr((qflt, int(page_no), reviewer, st.session_state.get("fb_saves", 0)))
    snap = st.session_state.get("fb_snapshot")
    if snap is None or snap["id"] != snap_id:
        view = guarded(
            fb.queue,
            ws,
            qflt,
            limit=PAGE_SIZE,
            offset=(int(page_no) - 1) * PAGE_SIZE,
            viewer=reviewer,
        )
        gen = st.session_state.get("fb_gen", -1) + 1
        snap = {"id": snap_id, "view": view, "audit": fb.current_audit_id(ws), "gen": gen}
        st.session_state["fb_snapshot"], st.session_state["fb_gen"] = snap, gen
    view, loaded_token = snap["view"], snap["audit"]
    st.progress(prog.share, text=f"{prog.tagged:,} of {prog.total:,} items tagged ({prog.share:.0%})")
    all_tags = fb.list_tags(ws, include_retired=True)
    active = [t.name for t in all_tags if not t.retired]
    on_page = sorted({t for ts in view.rows.tags for t in ts})
    choices = active + [t for t in on_page if t not in active]  # retired tags stay visible where used
    st.caption(f"{total:,} items match; page {int(page_no)} of {pages}. Edit the Tags column, then save.")
    editor_key = st.session_state["fb_editor_key"] = f"fb_editor_{snap['gen']}"
    table = view.rows.assign(tags=view.rows.tags.map(list))
    edited = st.data_editor(
        table,
        key=editor_key,
        hide_index=True,
        width="stretch",
        disabled=[c for c in table.columns if c != "tags"] if can_tag else True,
        column_order=["feedback_id", "ts", "signal", "variant", "model_version", "score", "tags", "others"],
        column_config={
            "feedback_id": st.column_config.TextColumn("Item"),
            "ts": st.column_config.DatetimeColumn("Time (UTC)", format="YYYY-MM-DD HH:mm"),
            "signal": st.column_config.TextColumn("Signal"),
            "variant": st.column_config.TextColumn("Variant"),
            "model_version": st.column_config.TextColumn("Model"),
            "score": st.column_config.NumberColumn("Score", format="%.2f"),
            "tags": st.column_config.MultiselectColumn("Your tags", options=choices),
            "others": st.column_config.TextColumn("Other reviewers' tags"),
        },
    )
    changed = [
        fb.TagEdit(row.feedback_id, tuple(new), int(row.version))
        for row, new in zip(table.itertuples(), edited["tags"], strict=True)
        if sorted(new or []) != sorted(row.tags)
    ]
    if st.button(
        f"Save {len(changed)} change(s)" if changed else "Save changes",
        type="primary",
        disabled=not (can_tag and changed),
        key="fb_save",
    ):
        try:
            res = fb.save_tags(ws, who, changed)
        except LiftboardError as exc:
            st.error(md(exc))
        else:
            st.session_state["fb_saves"] = st.session_state.get("fb_saves", 0) + 1
            st.session_state["fb_flash"] = f"Saved tags on {res.changed} item(s)."
            st.rerun()
    if st.button("Reload", key="fb_reload", help="Load the latest tags (after someone else's change)."):
        st.session_state["fb_saves"] = st.session_state.get("fb_saves", 0) + 1
        st.rerun()
    if msg := st.session_state.pop("fb_flash", None):
        st.success(msg)

    if not view.rows.empty:
        item = st.selectbox("Read an item", list(view.rows.feedback_id), key="fb_item")
        ctx = guarded(cached.context, ws, data, item, experiment)
        st.markdown(
            f"**{md(ctx['signal'])}** · model {md(ctx.get('model_version') or '–')} · variant "
            f"{md(ctx.get('variant') or '–')} · score {ctx['score'] if ctx.get('score') is not None else '–'}"
        )
        for label, keyname in (("Input", "input_text"), ("Output", "output_text"),
                               ("User's correction", "corrected_output"), ("Comment", "comment")):  # fmt: skip
            if ctx.get(keyname):
                st.caption(label)
                st.code(str(ctx[keyname]), language=None, wrap_lines=True)

    with st.expander("Bulk action on every item matching the filters"):
        b1, b2 = st.columns(2)
        add = b1.multiselect("Add tags", active, key="fb_bulk_add")
        remove = b2.multiselect("Remove tags", [t.name for t in all_tags],
                                key="fb_bulk_remove")  # fmt: skip
        if (add or remove) and reviewer:
            pre = guarded(cached.preview, ws, token, qflt, reviewer, tuple(add), tuple(remove))
            n_sel = pre.changed + pre.unchanged
            st.write(f"This changes your tags on **{pre.changed:,}** of the {n_sel:,} selected items.")
            # The count is part of the key: if the selection changes, the confirmation resets.
            sure = st.checkbox(
                f"Yes, change {pre.changed:,} items", key=f"fb_bulk_sure_{pre.changed}_{n_sel}"
            )
            if st.button(
                "Apply to the selection", disabled=not (sure and can_tag and pre.changed), key="fb_bulk_go"
            ):
                with st.spinner(f"Tagging {pre.changed:,} items…"):
                    try:
                        res = fb.bulk_tag(ws, qflt, who, add=add, remove=remove, expected_count=n_sel,
                                            seen_audit_id=loaded_token)  # fmt: skip
                    except LiftboardError as exc:
                        st.error(md(exc))
                    else:
                        st.session_state["fb_saves"] = st.session_state.get("fb_saves", 0) + 1
                        st.session_state["fb_flash"] = f"Changed tags on {res.changed:,} item(s)."
                        st.rerun()
        elif not reviewer:
            st.caption("Type your name above to use bulk actions.")

# -- rates -----------------------------------------------------------------------------------------
with tab_rates:
    if tab_rates.open is not False:
        r1, r2, r3 = st.columns(3)
        by = r1.selectbox("Split by", ["variant", "model_version", "none"], key="fb_by", bind=URL,
                          format_func=lambda s: {"none": "nothing", "model_version": "model version"}.get(s, s))  # fmt: skip
        period = r2.selectbox("Per", ["day", "week"], key="fb_period", bind=URL)
        signal = r3.selectbox("Signal", list(fb.RATE_SIGNALS), key="fb_rate_signal", bind=URL)
        with st.spinner("Computing rates…"):
            over_time = guarded(cached.rates, ws, data, flt, by, period)
            overall = guarded(cached.rates, ws, data, flt, by, None)
            over_time_fig = guarded(cached.rate_chart, ws, data, flt, by, period, signal)
            group_fig = guarded(cached.group_chart, ws, data, flt, by)
        st.plotly_chart(over_time_fig, width="stretch", key="fb_rate_chart")
        st.plotly_chart(group_fig, width="stretch")
        table = overall.frame().drop(columns=["period"])
        st.dataframe(table, hide_index=True, width="stretch")
        download_csv(over_time.frame(), "feedback-rates", key="dl-fb-rates")
        with st.expander("How these numbers are computed"):
            st.markdown(
                "Each rate is the number of feedback items with that signal divided by all feedback items "
                "(accept, reject, correct and rating) in the period and group. The band is the 95% **Wilson score "
                "interval**, which stays inside 0–100% and behaves well for small counts. Variants come from the "
                "chosen experiment's assignments; users exposed to more than one variant have no variant."
            )

# -- tag mix and agreement -------------------------------------------------------------------------
with tab_tags:
    if tab_tags.open is not False:
        mix = guarded(cached.mix, ws, token, flt, "week")
        st.plotly_chart(
            guarded(cached.mix_chart, ws, token, flt, "week"), width="stretch", key="fb_mix_chart"
        )
        download_csv(mix.rows, "feedback-tag-mix", key="dl-fb-mix")
        ks = guarded(cached.kappas, ws, token, flt)
        pooled = [k for k in ks if k.tag == "(all tags)"]
        if pooled:
            for k in pooled:
                st.markdown(
                    f"**{md(k.reviewer_a)}** and **{md(k.reviewer_b)}** agree *{fb.describe(k.kappa)}* "
                    f"(Cohen's κ = {k.kappa:.2f}) over the items both reviewed."
                )
            st.plotly_chart(guarded(cached.agreement_chart, ws, token, flt), width="stretch")
            kdf = pd.DataFrame(
                [{"reviewer_a": k.reviewer_a, "reviewer_b": k.reviewer_b, "tag": k.tag, "items": k.table.n,
                  "both": k.table.yy, "only_a": k.table.yn, "only_b": k.table.ny, "neither": k.table.nn,
                  "kappa": k.kappa, "ci_low": k.ci[0], "ci_high": k.ci[1]} for k in ks]
            )  # fmt: skip
            with st.expander("Agreement per tag"):
                st.dataframe(kdf, hide_index=True, width="stretch")
                st.caption(
                    "Each tag is a yes/no judgement per item both reviewers reviewed; κ = (p_o − p_e)/(1 − p_e). "
                    "'(all tags)' pools the per-tag tables. κ is undefined when both reviewers never vary."
                )
                download_csv(kdf, "feedback-agreement", key="dl-fb-kappa")
        else:
            st.caption("No item has been tagged by two reviewers yet, so agreement cannot be measured.")

# -- audit trail -----------------------------------------------------------------------------------
with tab_audit:
    if tab_audit.open is not False:
        only_me = st.toggle("Only my changes", key="fb_audit_mine", disabled=reviewer is None, bind=URL)
        trail = guarded(cached.trail, ws, token, reviewer if only_me else None)
        st.dataframe(trail, hide_index=True, width="stretch")
        download_csv(trail, "feedback-audit", key="dl-fb-audit")

# -- taxonomy --------------------------------------------------------------------------------------
with tab_tax:
    st.dataframe(
        pd.DataFrame([{"tag": t.name, "description": t.description, "retired": t.retired} for t in all_tags]),
        hide_index=True,
        width="stretch",
    )
    if not can_edit_taxonomy:
        st.caption("Only admins edit the taxonomy.")
    else:
        t1, t2, t3 = st.columns(3)
        with t1.form("fb_add_tag", clear_on_submit=True):
            name = st.text_input("New tag")
            desc = st.text_input("Description")
            if st.form_submit_button("Add tag"):
                guarded(fb.add_tag, ws, name, who, desc)
                st.rerun()
        with t2.form("fb_rename_tag"):
            old = st.selectbox("Tag", [t.name for t in all_tags])
            new = st.text_input("New name")
            if st.form_submit_button("Rename"):
                guarded(fb.rename_tag, ws, old, new, who)
                st.rerun()
        with t3.form("fb_retire_tag"):
            which = st.selectbox("Tag ", [t.name for t in all_tags])
            restore = st.checkbox("Restore instead of retire")
            if st.form_submit_button("Retire / restore"):
                guarded(fb.retire_tag, ws, which, who, retired=not restore)
                st.rerun()

# -- export ----------------------------------------------------------------------------------------
with tab_export:
    st.write(
        "Tagged feedback matching the filters: one row per item and reviewer, text safe for spreadsheets."
    )

    def _parquet() -> bytes:
        with tempfile.TemporaryDirectory() as d:
            out = Path(d) / "feedback.parquet"
            fb.export_tagged(ws, flt, out)
            return out.read_bytes()

    def _csv() -> bytes:
        with tempfile.TemporaryDirectory() as d:
            out = Path(d) / "feedback.csv"
            fb.export_tagged(ws, flt, out)
            return b"\xef\xbb\xbf" + out.read_bytes()  # BOM so spreadsheets read UTF-8

    e1, e2 = st.columns(2)
    e1.download_button("Download CSV", data=_csv, file_name="tagged-fb.csv", mime="text/csv", key="fb_dl_csv",
                       on_click="ignore")  # fmt: skip
    e2.download_button("Download Parquet", data=_parquet, file_name="tagged-fb.parquet",
                       mime="application/vnd.apache.parquet", key="fb_dl_parquet", on_click="ignore")  # fmt: skip

"""Drift: is it still the model we validated? Inputs, predictions and outcomes against a reference window."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import streamlit as st

from analytics import drift
from analytics.charts import drift as charts
from analytics.drift import log_range
from analytics.errors import LiftboardError
from pages._ui import download_csv, guarded, md, page, seed, set_url_state, url_state, workspace

page()  # first: nothing of this page renders outside app.py's sign-in gate and sidebar

CHUNKS = ["day", "week", "rows"]


@st.cache_data(show_spinner=False, max_entries=4)
def _range(token: str) -> tuple[datetime, datetime, int]:
    return log_range(workspace())


@st.cache_data(show_spinner=False, max_entries=16)
def _report(token: str, settings: drift.DriftSettings) -> drift.DriftReport:
    # `token` names the workspace file and its last load, so a new load recomputes.
    return drift.compute_drift(workspace(), settings)


def _reset_threshold() -> None:
    st.session_state["drift_threshold"] = drift.DEFAULT_THRESHOLDS[st.session_state["drift_method"]]


def _float(text: str, default: float) -> float:
    try:
        return float(text)
    except ValueError:
        return default


ws = workspace()
token = ws.state_token(reviews=False)  # reviewers tagging never changes these numbers
st.title("Drift")
st.caption(
    "Is it still the model we validated? Every input, score and outcome of the predictions log is compared, "
    "chunk by chunk, with a reference period."
)
if not ws.has_table("predictions"):
    st.info(
        "No predictions log yet: load an inference log (predictions) on the Data page, or build the demo."
    )
    st.stop()
lo, hi, total = guarded(_range, token)

# -- settings, all of them in the URL -------------------------------------------------------------------
default_ref = (lo.date(), min(lo.date() + timedelta(days=drift.REFERENCE_DAYS - 1), hi.date()))
try:  # a hand-edited link with a bad or out-of-range reference falls back to the default
    url_ref = drift.parse_reference(url_state("ref", ""))
except LiftboardError:
    url_ref = None
if url_ref and lo.date() <= url_ref[0].date() and (url_ref[1] - timedelta(days=1)).date() <= hi.date():
    seed("drift_ref", (url_ref[0].date(), (url_ref[1] - timedelta(days=1)).date()))
seed("drift_ref", default_ref)
url_chunk = url_state("chunk", "day")
seed("drift_chunk", url_chunk if url_chunk in ("day", "week") else "rows")
seed("drift_rows", max(int(url_chunk), 100) if url_chunk.isdigit() else max(1000, total // 30))
url_method = url_state("method", "psi")
seed("drift_method", url_method if url_method in drift.METHODS else "psi")
seed("drift_bins", min(max(int(_float(url_state("bins", "10"), 10)), 2), 50))
seed("drift_learned", url_state("learned", "1") != "0")

with st.expander("⚙️ Settings: reference, chunks, method, thresholds", expanded=False):
    c1, c2, c3 = st.columns(3)
    ref_pick = c1.date_input(
        "Reference period", key="drift_ref", min_value=lo.date(), max_value=hi.date(),
        help="The period the model was validated on; every chunk is compared with it. Default: the first 7 days.",
    )  # fmt: skip
    chunk_kind = c2.selectbox(
        "Chunks", CHUNKS, key="drift_chunk", help="Cut the log by day, week or row count."
    )
    rows = c2.number_input(
        "Rows per chunk", min_value=100, step=1000, key="drift_rows", disabled=chunk_kind != "rows"
    )
    method = c3.selectbox(
        "Score", drift.METHODS, key="drift_method", on_change=_reset_threshold,
        format_func=lambda m: drift.method_name(m) if m == "psi" else f"{drift.method_name(m)} ({drift.METHOD_UNITS[m]})",
    )  # fmt: skip
    seed("drift_threshold", max(_float(url_state("threshold", ""), drift.DEFAULT_THRESHOLDS[method]), 0.001))
    threshold = c3.number_input(
        "Fixed alert threshold", min_value=0.001, step=0.05, key="drift_threshold", format="%.3f"
    )
    bins = c1.slider("Quantile bins (numeric features)", 2, 50, key="drift_bins")
    learned = c2.checkbox("Also learn a threshold from the reference chunks (mean + 3σ)", key="drift_learned")

if isinstance(ref_pick, tuple) and len(ref_pick) == 2:
    ref_start, ref_end = ref_pick
else:  # the user is half-way through picking a range
    ref_start, ref_end = default_ref
chunk = chunk_kind if chunk_kind != "rows" else int(rows)
settings = drift.DriftSettings(
    reference=(datetime.combine(ref_start, datetime.min.time()),
               datetime.combine(ref_end + timedelta(days=1), datetime.min.time())),
    chunk=chunk, bins=int(bins), method=method, threshold=float(threshold), learned=bool(learned),
)  # fmt: skip
set_url_state(
    ref=f"{ref_start:%Y-%m-%d}..{ref_end:%Y-%m-%d}" if (ref_start, ref_end) != default_ref else None,
    chunk=chunk if chunk != "day" else None,
    method=method if method != "psi" else None,
    threshold=f"{threshold:g}" if threshold != drift.DEFAULT_THRESHOLDS[method] else None,
    bins=bins if bins != 10 else None,
    learned="0" if not learned else None,
)

with st.spinner("Comparing every feature with the reference…"):
    report = guarded(_report, token, settings)

# -- the verdict first -----------------------------------------------------------------------------------
metric = drift.method_name(method)
hot = report.drifting_now()
latest_key = next(c.key for c in reversed(report.chunks) if c.period == "analysis")
if hot:
    worst = ", ".join(f"**{md(f.name)}** ({metric} {f.latest().score:.2f})" for f in hot)  # type: ignore[union-attr]
    st.error(
        f"{len(hot)} of {len(report.features)} features drift in the latest chunk ({md(latest_key)}): {worst}."
    )
else:
    st.success(
        f"No feature drifts in the latest chunk ({md(latest_key)}) across {len(report.features)} features."
    )
first = min(report.alerts, key=lambda a: a.start) if report.alerts else None
m1, m2, m3, m4 = st.columns(4)
m1.metric("Features compared", len(report.features))
m2.metric("Drifting now", len(hot))
m3.metric("Alerts (feature × chunk)", len(report.alerts))
m4.metric("First alert", f"{first.start:%d %b}" if first else "none", help=md(first.chunk) if first else None)
if hot:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "feature": f.name,
                    "kind": f.kind,
                    metric: f.latest().score,
                    "fixed threshold": f.fixed_threshold,  # type: ignore[union-attr]
                    "learned threshold": f.learned_threshold,
                    "drifting since": f.drifting_since.key if f.drifting_since else "",
                }
                for f in hot
            ]  # fmt: skip
        ),
        hide_index=True,
    )
with st.expander("How to read this: method and thresholds"):
    st.markdown(
        f"""
- **Reference**: {report.reference_start:%Y-%m-%d} to {report.reference_end - timedelta(seconds=1):%Y-%m-%d}
  ({report.reference_n:,} predictions). Chunks wholly inside it are shaded; they teach the learned threshold.
- **PSI** (population stability index) compares the share of values in each of the reference's {bins} quantile
  bins (two open end bins catch values outside the reference's range; categories are their own bins, new
  ones included). 0.1–0.2 is a moderate shift, ≥ 0.2 a large one. **Distance** is the Wasserstein distance in
  reference standard deviations for numbers, and the Jensen–Shannon distance (0–1) for categories.
- **KS** and **χ²** p-values are shown, but on large chunks almost any shift is "significant", so **alerts are
  driven by the effect size**: a chunk alerts when its score crosses the fixed threshold ({threshold:g}) or the
  threshold learned from the reference chunks (mean + 3σ, never below half the fixed one), *and* its p-value is
  below 0.01 — which only matters for small chunks, where sampling noise alone inflates PSI.
- KS and Wasserstein are computed on a fine grid of reference percentiles (a binned approximation, within
  about 0.01 of the exact values). The missing-value rate is tracked as its own signal (alert when it moves by
  5 points or more).
"""
    )

# -- one feature over time -------------------------------------------------------------------------------
names = [f.name for f in report.features]
url_feature = url_state("feature", hot[0].name if hot else names[0])
seed("drift_feature", url_feature if url_feature in names else names[0])
name = st.selectbox("Feature", names, key="drift_feature")
feature = report.feature(name)
st.plotly_chart(charts.score_over_time(feature, method), width="stretch")
for note in feature.notes:
    st.caption(f"ℹ️ {md(note)}")
if any(c.missing_rate for c in feature.chunks) or feature.ref_missing_rate:
    st.plotly_chart(charts.missing_over_time(feature), width="stretch")

keys = [c.key for c in feature.chunks]
url_at = url_state("at", latest_key)
seed("drift_at", url_at if url_at in keys else latest_key)
if st.session_state["drift_at"] not in keys:
    st.session_state["drift_at"] = latest_key
at = st.select_slider("Chunk to compare with the reference", keys, key="drift_at")
st.plotly_chart(charts.distribution_overlay(feature, at), width="stretch")
c = feature.chunk(at)
with st.expander(f"Numbers for {md(name)} in {md(at)}"):
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "chunk": c.key,
                    "values": c.n,
                    "missing rate": c.missing_rate,
                    "PSI": c.psi,
                    "KS": c.ks,
                    "KS p": c.ks_p,
                    "Wasserstein (σ)": c.wasserstein,
                    "JS distance": c.js,
                    "χ² p": c.chi2_p,
                    "alert": c.alert,
                }
            ]  # fmt: skip
        ),
        hide_index=True,
    )

# -- all features at once --------------------------------------------------------------------------------
st.subheader("All features over time")
st.plotly_chart(charts.heatmap(report), width="stretch")

st.subheader("Alerts")
alerts = pd.DataFrame(
    [
        {
            "feature": a.feature,
            "chunk": a.chunk,
            "start": a.start,
            "score": a.score,
            "threshold": a.threshold,
            "method": a.method,
        }
        for a in report.alerts
    ],  # fmt: skip
    columns=["feature", "chunk", "start", "score", "threshold", "method"],
)
if alerts.empty:
    st.write("No alerts.")
else:
    st.dataframe(alerts, hide_index=True)
download_csv(alerts, "drift-alerts", key="dl-drift-alerts", label="Download alerts (CSV)")
table = pd.DataFrame(
    [
        {
            "feature": f.name,
            "kind": f.kind,
            "chunk": c.key,
            "period": c.period,
            "n": c.n,
            "missing_rate": c.missing_rate,
            "psi": c.psi,
            "ks": c.ks,
            "ks_p": c.ks_p,
            "wasserstein": c.wasserstein,
            "js": c.js,
            "chi2_p": c.chi2_p,
            "alert": c.alert,
        }
        for f in report.features
        for c in f.chunks
    ]  # fmt: skip
)
download_csv(table, "drift-table", key="dl-drift-table", label="Download the whole drift table (CSV)")
if report.skipped or report.notes:
    with st.expander("Columns not compared"):
        for n, reason in report.skipped:
            st.markdown(f"- {md(n)}: {md(reason)}")
        for note in report.notes:
            st.markdown(f"- {md(note)}")
set_url_state(
    feature=name if name != (hot[0].name if hot else names[0]) else None, at=at if at != latest_key else None
)

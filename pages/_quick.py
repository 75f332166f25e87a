"""The Experiments page's quick comparison: per-arm numbers typed by hand (from another tool's screen), no file."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics.charts import experiments as charts
from analytics.errors import LiftboardError
from analytics.experiments import quick_comparison, verdict
from analytics.workspace import ArmTotals
from pages._ui import download_csv, md

COUNTS = "Users and conversions"
MEANS = "Mean and standard deviation"
DEFAULT_NAMES = ("Control", "Variant B", "Variant C", "Variant D", "Variant E", "Variant F")


def quick_comparison_section() -> None:
    """Arms typed by hand, compared with the same verdict sentence, split check and chart as a loaded file."""
    st.subheader("Quick comparison")
    st.caption(
        "Numbers from another tool's screen, no file needed: type each arm's users and conversions, or users, "
        "mean and standard deviation of a number per user. The arm named like a control (control, baseline, "
        "original, A…) is the control, else the first arm."
    )
    top = st.columns([2, 1, 2])
    kind = top[0].radio("What you have", [COUNTS, MEANS], key="quick-kind", horizontal=True)
    n_arms = int(
        top[1].number_input("Arms", min_value=2, max_value=len(DEFAULT_NAMES), value=2, key="quick-arms")
    )
    counts = kind == COUNTS
    metric = top[2].text_input(
        "Metric name", value="conversion" if counts else "value per user", key=f"quick-metric-{counts}"
    ).strip() or ("conversion" if counts else "value per user")
    money = not counts and st.checkbox("These numbers are money (shown in dollars)", key="quick-money")
    arms = [_arm_inputs(i, counts, metric) for i in range(n_arms)]
    if st.button("Compare", key="quick-compare", type="primary"):
        st.session_state["quick-shown"] = True
    if not st.session_state.get("quick-shown"):
        return
    try:
        result = quick_comparison(arms, outcome=metric, money=money)
    except LiftboardError as exc:
        st.error(md(exc))
        return
    srm = verdict.srm_sentence(result.srm)
    if srm:
        st.error(f"⚠️ {md(srm)}")
    else:
        st.caption(
            f"Split check (SRM): p = {result.srm.p_value:.3g}, the users are split as an equal split expects."
        )
    m = result.metrics[0]
    for sentence in verdict.metric_sentences(m):
        st.markdown(f"**Quick comparison** · {md(sentence)}")
    st.caption(md(result.control_choice.sentence()))
    for c in m.comparisons:
        b = verdict.bayesian_sentence(c, m.spec)
        if b:
            st.caption(f"Bayesian view: {md(b)}")
    st.plotly_chart(charts.lift_intervals(result), width="stretch", key="quick-chart")
    table = pd.DataFrame(
        [{"variant": c.variant, "baseline": c.baseline, "mean_baseline": c.mean_baseline,
          "mean_variant": c.mean_variant, "abs_lift": c.abs_lift, "abs_ci_low": c.abs_ci[0],
          "abs_ci_high": c.abs_ci[1], "rel_lift": c.rel_lift, "p_value": c.p_value,
          "rel_p_value": c.rel_p_value, "significant": c.significant} for c in m.comparisons]
    )  # fmt: skip
    st.dataframe(table, hide_index=True, width="stretch", key="quick-table")
    download_csv(table, "quick-comparison", key="dl-quick")


def _arm_inputs(i: int, counts: bool, metric: str) -> ArmTotals:
    cols = st.columns(4 if not counts else 3)
    name = cols[0].text_input(f"Arm {i + 1} name", value=DEFAULT_NAMES[i], key=f"quick-name-{i}")
    users = int(
        cols[1].number_input(f"Arm {i + 1} users", min_value=0, step=1, value=0, key=f"quick-users-{i}")
    )
    if counts:
        conv = cols[2].number_input(
            f"Arm {i + 1} conversions", min_value=0, step=1, value=0, key=f"quick-conv-{i}"
        )
        return ArmTotals(name.strip(), users, {metric: float(conv)})
    mean = cols[2].number_input(f"Arm {i + 1} mean", value=0.0, format="%.6g", key=f"quick-mean-{i}")
    sd = cols[3].number_input(f"Arm {i + 1} sd", min_value=0.0, value=0.0, format="%.6g", key=f"quick-sd-{i}")
    return ArmTotals(name.strip(), users, means={metric: (float(mean), float(sd))})

"""Experiments: did the AI variant move the outcome, by how much, and how sure are we?"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics import experiments
from analytics.charts import experiments as charts
from analytics.errors import LiftboardError
from analytics.experiments import split_specs, verdict
from analytics.stats import method_notes
from pages import _experiments_data as data
from pages._quick import quick_comparison_section
from pages._ui import (
    actor,
    download_csv,
    guarded,
    md,
    page,
    report_button,
    seed,
    set_url_state,
    url_state,
    workspace,
)


def _percent_per_metric(
    metrics: list[str], saved: dict[str, float], key: str, label: str, top: float, step: float
) -> dict[str, float]:
    """One % box per metric, up to three a row, seeded from the link; the non-zero ones as fractions."""
    cols = st.columns(max(1, min(3, len(metrics))))
    out: dict[str, float] = {}
    for i, spec in enumerate(metrics):
        seed(f"{key}:{spec}", float(saved.get(spec, 0.0)) * 100)
        value = cols[i % len(cols)].number_input(
            label.format(md(spec)), min_value=0.0, max_value=top, step=step, key=f"{key}:{spec}"
        )
        if value:
            out[spec] = value / 100
    return out


page()  # first: nothing of this page renders outside app.py's sign-in gate and sidebar

ALPHAS = [0.01, 0.05, 0.1]
WINSOR = ["off", "95", "99", "99.9"]


ws = workspace()
token = ws.state_token(reviews=False)  # reviewers tagging never changes these numbers
st.title("Experiments")
st.caption("Did the AI variant move the business outcome, by how much, and how sure are we?")

summaries = guarded(data.listed, token)
if not summaries:
    st.info(
        "No experiments yet: load an assignments file (who saw which variant), a per-user outcomes file or "
        "per-arm totals on the Data page, or type an experiment's numbers in the quick comparison below."
    )
    quick_comparison_section()
    st.stop()
names = [s.name for s in summaries]

url_exp = url_state("experiment", names[0])
seed("exp_name", url_exp if url_exp in names else names[0])
name = st.selectbox("Experiment", names, key="exp_name", on_change=data.reset_for_experiment)
summary = next(s for s in summaries if s.name == name)
config = experiments.experiment_config(ws, name)
if config.description:
    st.caption(md(config.description))
# The verdict is drawn here, above the settings, although it is computed from them below.
verdict_area = st.container()

arms = list(summary.arms)
default = experiments.default_control(ws, name, arms)
per_user = summary.source != "totals"  # per-arm totals have no users to segment, adjust or follow in time
own = guarded(data.outcome_columns, token, name)
url_metrics = split_specs(url_state("metrics", ""))  # commas inside quoted names stay
seed("exp_metrics", url_metrics or guarded(data.defaults, token, name))
url_ctrl = url_state("control", default.arm)
seed("exp_control", url_ctrl if url_ctrl in arms else default.arm)
seed("exp_cuped", url_state("cuped", "") == "1")
seed("exp_seq", url_state("sequential", "") == "1")
seed("exp_bayes", url_state("bayesian", "") == "1")
url_alpha = url_state("alpha", "0.05")
seed("exp_alpha", float(url_alpha) if url_alpha in {str(a) for a in ALPHAS} else 0.05)
url_win = url_state("winsorize", "off")
seed("exp_win", url_win if url_win in WINSOR else "off")
seg_options = ["(none)", *guarded(data.segment_columns, token, name)] if per_user else ["(none)"]
url_seg = url_state("segment", "(none)")
seed("exp_seg", url_seg if url_seg in seg_options else "(none)")
strat_options = ["(none)", *guarded(data.user_columns, token)]
url_strat = url_state("stratify", config.stratify or "(none)")
seed("exp_strat", url_strat if url_strat in strat_options else "(none)")
seed("exp_estimand", "absolute" if url_state("estimand", "relative") == "absolute" else "relative")
url_priors = data.decode(url_state("priors", "")) or config.priors
url_margins = data.decode(url_state("margins", "")) or config.margins

outcome_specs = [f"outcome:{c}" for c in own.outcomes]
options = list(dict.fromkeys([*config.metrics, *outcome_specs, *st.session_state["exp_metrics"]]))
metrics = st.multiselect(
    "Metrics",
    options,
    key="exp_metrics",
    accept_new_options=True,
    help="Primary, secondary and guardrail metrics of the experiment; type a spec such as "
    "conversion:add_to_cart:3d, retention:14d, mean:purchase:7d, ratio:purchase/view:7d, cost:7d, or "
    "outcome:COLUMN for a column of a per-user outcomes file or per-arm totals.",
)
c1, c2, c3 = st.columns(3)
control = c1.selectbox("Control arm", arms, key="exp_control")
if control == default.arm:
    c1.caption(md(f"{control}: {default.because_with('choose the right one here')}."))
alpha = c2.selectbox("α", ALPHAS, key="exp_alpha", help="Significance level (two-sided).")
win = c3.selectbox("Winsorize at percentile", WINSOR, key="exp_win", help="Cap outlying per-user values.")
t1, t2, t3 = st.columns(3)
cuped = t1.toggle(
    "CUPED", key="exp_cuped", disabled=not per_user,
    help="Use each user's pre-exposure behaviour to shrink the interval (an outcome's: a pre-period column).",
)  # fmt: skip
covariate = None
numbers = [c for c in own.outcomes if c not in own.booleans]
if cuped and summary.source == "outcomes" and numbers:
    pre = next((c for c in numbers if c.lower().startswith("pre")), numbers[0])
    seed("exp_covariate", url_state("covariate", pre) if url_state("covariate", pre) in numbers else pre)
    covariate = t1.selectbox(
        "CUPED covariate", numbers, key="exp_covariate",
        help="The same outcome measured before exposure (e.g. pre_revenue): CUPED's x for outcome metrics.",
    )  # fmt: skip
sequential = t2.toggle("Sequential", key="exp_seq", help="Always-valid intervals: safe to look every day.")
bayes = t3.toggle(
    "Bayesian view", key="exp_bayes", help="Chance to win, risk and credible interval (mirrored for costs)."
)
segment = st.selectbox("Break down by segment", seg_options, key="exp_seg", disabled=not per_user)
if per_user:
    url_through = url_state("through", "")
    seed("exp_through", data.parse_date(url_through) or config.data_through)
    d1, d2 = st.columns([1, 2])
    through = d1.date_input(
        "Data complete through", key="exp_through", format="YYYY-MM-DD",
        help="The last day your data are complete for: a user's window counts as elapsed when it ends by that "
        "day's midnight. Empty: the data end at the last event.",
    )  # fmt: skip
    who_saves = actor()
    if through != config.data_through and d2.button(
        "Save this date for the experiment", key="exp_save_through",
        disabled=who_saves is None or not who_saves.can("edit_settings"),
        help="Editors and admins; kept in the audit trail, used by the CLI and the report too.",
    ):  # fmt: skip
        config = guarded(experiments.save_data_through, ws, name, through, actor=who_saves)
        d2.success("Saved for this experiment.")
else:
    through = None
    st.caption(
        "Per-arm totals: segments, CUPED, winsorizing, post-stratification and curves over time need per-user "
        "rows; the comparison, the split check, the Bayesian view and power work as for any experiment."
    )

with st.expander("Statistics settings: significance, post-stratification, priors, guardrail margins"):
    s1, s2 = st.columns(2)
    estimand = s1.radio(
        "Mark significance on", ["relative", "absolute"], key="exp_estimand", horizontal=True,
        format_func=lambda e: "relative lift (%)" if e == "relative" else "absolute difference",
        help="The ✓ uses the p-value of the lift whose interval is drawn, so the two always agree.",
    )  # fmt: skip
    stratify = s2.selectbox(
        "Post-stratify by", strat_options, key="exp_strat",
        help="A users attribute known before exposure (country, plan…): estimating the lift within its groups "
        "and weighting them shrinks the interval when the groups differ (GrowthBook's post-stratification).",
    )  # fmt: skip
    st.markdown("**Prior on the relative lift** for the Bayesian view — its standard deviation in % "
                "(GrowthBook's proper prior N(0, sd²); 0 = flat prior).")  # fmt: skip
    priors = _percent_per_metric(metrics, url_priors, "exp_prior", "Prior sd of {} (%)", 1000.0, 5.0)
    st.markdown("**Guardrail margins** — how much worse a metric may get, in % of the control "
                "(one-sided non-inferiority test; 0 = no margin).")  # fmt: skip
    margins = _percent_per_metric(metrics, url_margins, "exp_margin", "Margin of {} (%)", 99.0, 0.5)
    who = actor()
    if st.button("Save these priors, margins and post-stratification for this experiment", key="exp_save_stats",
                 disabled=who is None or not who.can("edit_settings"),
                 help="Editors and admins; the change is kept in the audit trail."):  # fmt: skip
        guarded(experiments.save_statistics_settings, ws, name, priors=priors, margins=margins,
                stratify="" if stratify == "(none)" else stratify, actor=who)  # fmt: skip
        st.success("Saved: this experiment opens with these settings, in the page, the CLI and the report.")

set_url_state(
    experiment=name,
    metrics=",".join(metrics),
    control=None if control == default.arm else control,
    cuped="1" if cuped else None,
    sequential="1" if sequential else None,
    bayesian="1" if bayes else None,
    alpha=None if alpha == 0.05 else alpha,
    winsorize=None if win == "off" else win,
    segment=None if segment == "(none)" else segment,
    stratify=None if stratify == (config.stratify or "(none)") else stratify,
    estimand=None if estimand == "relative" else estimand,
    # "none=0" keeps "all switched off" in a link when the experiment's saved settings have some.
    priors=None if priors == config.priors else (data.encode(priors) or "none=0"),
    margins=None if margins == config.margins else (data.encode(margins) or "none=0"),
    through=None if through == config.data_through or through is None else through.isoformat(),
    covariate=covariate,
)
if not metrics:
    st.info("Choose at least one metric above.")
    st.stop()

with st.spinner("Computing the metrics for every exposed user…"):
    result = guarded(data.analyze, token, name, tuple(metrics), control, float(alpha), cuped, sequential,
                     None if win == "off" else float(win), None if segment == "(none)" else segment,
                     "" if stratify == "(none)" else stratify, tuple(priors.items()), tuple(margins.items()),
                     estimand, through, covariate)  # fmt: skip

# -- a broken split above everything, then one verdict per metric (with its "not enough data yet") -------
with verdict_area:
    srm_text = verdict.srm_sentence(result.srm)
    if srm_text:
        st.error(f"⚠️ {md(srm_text)}")

    mode = "sequential (safe to peek)" if sequential else "fixed-horizon"
    extras = (
        [mode, f"α = {alpha:g}"]
        + (["CUPED on"] if cuped else [])
        + ([f"post-stratified by {md(result.stratify)}"] if result.stratify else [])
        + ([f"winsorized at p{win}"] if win != "off" else [])
        + ([f"significance on the {result.estimand} lift"] if result.estimand != "relative" else [])
    )
    st.caption("Mode: " + " · ".join(extras))
    # The control box holds the default unless the user changed it: say why that arm is the control.
    choice = default if result.control == default.arm else result.control_choice
    because = choice.because_with("choose the right one in Control arm below")
    when = verdict.data_end_sentence(result, "set Data complete through below if they are complete later")
    st.caption(md(f"Control: {result.control} ({because}). {when or ''}"))
    head, button = st.columns([4, 1])
    head.subheader("Verdict")
    with button:
        report_button(name, key="exp-report")
    for m in result.metrics:
        role = {"primary": "Primary", "secondary": "Secondary", "guardrail": "Guardrail"}.get(
            m.role, "Metric"
        )
        loud = verdict.left_out_sentence(m)
        for sentence in verdict.metric_sentences(m):
            if sentence == loud:  # many users left out: said first, as a warning, with the fix
                st.warning(f"**{role}** · {md(sentence)}")
            else:
                st.markdown(f"**{role}** · {md(sentence)}")
        wait = verdict.not_enough_data(m, control)
        if wait and m.role in ("primary", "other"):  # a verdict of its own, right under the metric's
            st.warning(f"⏳ {md(wait)}")
        for c in m.comparisons:
            b = verdict.bayesian_sentence(c, m.spec) if bayes else None
            if b:
                st.caption(f"Bayesian view: {md(b)}")
        for line in verdict.cuped_sentences(m):
            st.caption(md(line))
        per_arm = verdict.quantile_arms_sentence(m, result.alpha)
        if per_arm:
            st.caption(md(per_arm))

# -- results table with interval bars ------------------------------------------------------------------
st.subheader("Results")
rows = []
for m in result.metrics:
    for c in m.comparisons:
        ci = c.credible_interval or (None, None)
        rows.append({
            "metric": m.spec.text, "role": m.role, "variant": c.variant, "baseline": c.baseline,
            "lower_is_better": m.spec.lower_is_better,
            "mean_baseline": c.mean_baseline, "mean_variant": c.mean_variant, "abs_lift": c.abs_lift,
            "abs_ci_low": c.abs_ci[0], "abs_ci_high": c.abs_ci[1], "p_value": c.p_value,
            "p_value_adjusted": c.p_value_adjusted, "rel_lift": c.rel_lift,
            "rel_ci_low": c.rel_ci[0] if c.rel_ci else None, "rel_ci_high": c.rel_ci[1] if c.rel_ci else None,
            "rel_p_value": c.rel_p_value, "rel_p_value_adjusted": c.rel_p_value_adjusted,
            "significant": c.significant, "significance_on": c.estimand,
            "users_baseline": c.n_baseline, "users_variant": c.n_variant,
            **({"chance_to_win": c.chance_to_win, "risk": c.risk, "risk_scale": c.risk_scale,
                "credible_low": ci[0], "credible_high": ci[1], "prior_sd": c.prior_sd} if bayes else {}),
            **({"variance_reduction": c.variance_reduction} if c.variance_reduction is not None else {}),
        })  # fmt: skip
        for g in m.guardrail_checks:
            if g.variant == c.variant:
                rows[-1].update(guardrail_margin=g.margin, guardrail_bound=g.bound, guardrail_p=g.p_value,
                                guardrail_passed=g.passed)  # fmt: skip
table = pd.DataFrame(rows)
st.plotly_chart(charts.lift_intervals(result), width="stretch")
st.caption(
    f"`significant` (✓ on the chart) follows the adjusted p-value of the **{result.estimand} lift** "
    f"(`{'rel_p_value_adjusted' if result.estimand == 'relative' else 'p_value_adjusted'}`), the interval the chart "
    "draws; `p_value` tests the absolute difference, `rel_p_value` the relative lift."
)
st.dataframe(table, hide_index=True, width="stretch")
download_csv(table, f"{name}-results", key="dl-results")

counts = pd.DataFrame(
    [
        {"variant": a, "exposed_users": result.exposed[a],
         "expected_share": result.srm.expected[a] / sum(result.srm.expected.values()),
         **{f"users_counted: {m.spec.text}": m.users(a) for m in result.metrics}}
        for a in result.variants
    ]
)  # fmt: skip
st.markdown(
    f"**Users per variant** — SRM check p = {result.srm.p_value:.3g} ({'ok' if result.srm.ok else 'FAILED'})"
)
st.dataframe(counts, hide_index=True, width="stretch")
download_csv(counts, f"{name}-users", key="dl-users")

with st.expander("Details: method, formulas and assumptions"):
    kinds = list(dict.fromkeys(m.spec.aggregate for m in result.metrics))
    for k in kinds:
        st.markdown(method_notes(k, sequential=sequential, cuped=cuped, alpha=float(alpha),
                                 stratify=result.stratify, estimand=result.estimand))  # fmt: skip
    st.markdown(
        (f"- The data end at **{result.data_end:%Y-%m-%d %H:%M}**; a user counts for a metric with a window only "
         "once it has fully elapsed by then; an outcome column is read as it is.\n" if result.data_end else "")
        + "".join(f"- {md(m.spec.text)}: {m.incomplete:,} exposed users not counted "
                  f"({'window not elapsed' if m.spec.windowed else 'no value'}).\n"
                  for m in result.metrics if m.incomplete)
        + f"- {result.multi_variant_users:,} users saw more than one variant and are excluded.\n"
        "- Several variants against the control: Holm-adjusted p-values; segments: Benjamini–Hochberg."
    )  # fmt: skip
    for m in result.metrics:
        if m.cuped_theta is not None:
            st.markdown(f"- CUPED on {md(m.spec.text)}: θ = {m.cuped_theta:.4g}, variance reduction "
                        f"{(m.variance_reduction or 0) * 100:.1f}%.")  # fmt: skip

# -- segments -------------------------------------------------------------------------------------------
if result.segment:
    st.subheader(f"By {md(result.segment)}")
    st.warning(
        "Segment results are Benjamini–Hochberg adjusted across segments; with many segments some will look "
        "different by chance. Treat them as leads to confirm in a new test."
    )
    seg_metric = st.selectbox("Metric", [m.spec.text for m in result.metrics], key="exp_seg_metric")
    st.plotly_chart(charts.segment_intervals(result, seg_metric), width="stretch")
    seg_rows = [
        {"segment": s.value, "metric": m.spec.text, "variant": c.variant, "users_baseline": c.n_baseline,
         "users_variant": c.n_variant, "rel_lift": c.rel_lift, "abs_lift": c.abs_lift, "p_value": c.p_value,
         "p_value_bh": c.p_value_adjusted, "rel_p_value": c.rel_p_value, "rel_p_value_bh": c.rel_p_value_adjusted,
         "significant_bh": c.significant, "significance_on": c.estimand}
        for s in result.segments for m in s.metrics for c in m.comparisons
    ]  # fmt: skip
    seg_table = pd.DataFrame(seg_rows)
    st.dataframe(seg_table, hide_index=True, width="stretch")
    download_csv(seg_table, f"{name}-segments", key="dl-segments")

# -- cumulative lift ------------------------------------------------------------------------------------
st.subheader("Cumulative lift")
cl1, cl2 = st.columns([2, 1])
curve_metric = cl1.selectbox("Metric", [m.spec.text for m in result.metrics], key="exp_curve_metric")
by_day_ok = curve_metric.split(":")[0] in ("conversion", "mean", "count")
curve_spec = result.metric(curve_metric).spec
by = cl2.segmented_control(
    "By", ["date", "day"] if by_day_ok else ["date"], key="exp_curve_by", default="date",
    format_func=lambda b: "Exposure date" if b == "date" else "Days since exposure",
)  # fmt: skip
if curve_spec.aggregate == "quantile":
    st.info(f"A quantile does not accumulate day by day, so {md(curve_metric)} has no cumulative curve.")
else:
    try:  # a curve the data cannot give (totals, no exposure times) is said, and the page goes on
        with st.spinner("Cumulating the lift…"):
            curve = data.curve(
                token, name, curve_metric, control, by or "date", float(alpha), sequential, through
            )
        st.plotly_chart(charts.cumulative_lift_chart(curve), width="stretch")
        curve_table = pd.DataFrame([p.__dict__ for p in curve.points])
        download_csv(curve_table, f"{name}-cumulative-lift", key="dl-curve")
    except LiftboardError as exc:
        st.info(md(exc))

# -- power / MDE ----------------------------------------------------------------------------------------
st.subheader("Power and minimum detectable effect")
pw_metric = st.selectbox("Metric", [m.spec.text for m in result.metrics], key="exp_power_metric")
pm = next(m for m in result.metrics if m.spec.text == pw_metric)
pi = experiments.power_inputs(pm, control, alpha=float(alpha))
p1, p2, p3, p4 = st.columns(4)
base_mean = p1.number_input(
    "Baseline mean", value=float(pi.baseline_mean), format="%.6g", key=f"pw_mean_{pw_metric}"
)
base_var = p2.number_input("Baseline variance (per user)", value=float(pi.baseline_var), format="%.6g",
                           key=f"pw_var_{pw_metric}")  # fmt: skip
n_arm = p3.number_input("Users per arm today", value=int(pi.n_per_arm), min_value=2, key=f"pw_n_{pw_metric}")
target = p4.number_input("Relative MDE to detect (%)", value=5.0, min_value=0.1, step=0.5, key="pw_mde")
both = pi.variant_mean is not None
use_both = st.checkbox(
    "Plan from both arms' variance (the variance of the lift, as GrowthBook's mid-experiment power)", value=both,
    disabled=not both, key=f"pw_both_{pw_metric}",
)  # fmt: skip
variant = {"variant_mean": pi.variant_mean, "variant_var": pi.variant_var} if use_both and both else {}
try:  # shown and the page goes on to the retention curves below
    plan = experiments.power_plan(
        base_mean, base_var, int(n_arm), target / 100, alpha=float(alpha), **variant
    )
    st.markdown(
        f"To detect a **{target:g}%** relative change with 80% power at α = {alpha:g} you need "
        f"**{plan.users_per_arm:,} users per arm**; with {n_arm:,} users per arm today the smallest detectable "
        f"change is **{plan.mde_now * 100:.1f}%**."
    )
except LiftboardError as exc:
    st.error(md(exc))

# -- retention curves -----------------------------------------------------------------------------------
st.subheader("Retention by day since exposure")
try:
    with st.spinner("Counting active users per day…"):
        ret = data.retention(token, name, through)
    st.plotly_chart(charts.retention_chart(ret, control), width="stretch")
    ret_table = pd.DataFrame([p.__dict__ for p in ret])
    download_csv(ret_table, f"{name}-retention", key="dl-retention")
    st.caption("Each day counts only users whose day has fully elapsed before the data end.")
except LiftboardError as exc:
    st.info(md(exc))

# -- quick comparison ------------------------------------------------------------------------------------
quick_comparison_section()

"""Cost: what the AI feature costs per user, how that cost grows with users, and whether the lift pays for it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics import cost
from analytics.charts import cost as charts
from analytics.cost import Price, set_prices
from analytics.experiments import default_control
from analytics.workspace import experiment_names
from pages._ui import (
    actor,
    download_csv,
    guarded,
    md,
    page,
    seed,
    seed_from_url,
    set_url_state,
    url_state,
    workspace,
)

page()  # first: nothing of this page renders outside app.py's sign-in gate and sidebar


@st.cache_data(show_spinner=False, max_entries=8)
def _costs(token: str, path: str) -> cost.CostData:  # token: the workspace's state, the cache key
    return cost.load_costs(workspace())


@st.cache_data(show_spinner=False, max_entries=8)
def _weeks(token: str, path: str) -> cost.CostData:
    return cost.with_weeks(workspace(), _costs(token, path))


@st.cache_data(show_spinner=False, max_entries=8)
def _top(token: str, path: str, limit: int) -> pd.DataFrame:
    return cost.top_users(workspace(), limit=limit)


@st.cache_data(show_spinner=False, max_entries=16)
def _offers(model_versions: tuple[str, ...]) -> list[cost.SuggestedPrice]:
    return cost.suggested_prices(model_versions)


@st.cache_data(show_spinner=False, max_entries=16)
def _arms(token: str, path: str, experiment: str, window: int) -> tuple[cost.ArmSums, ...]:
    return cost.fetch_arms(workspace(), experiment, window_days=window)


def _experiments(token: str, path: str) -> list[str]:
    return experiment_names(workspace())


def _usd(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"${x:,.{digits}f}"


def _card(x: float | None) -> str:
    """A short card value: under $1 in cents (3 significant digits), else whole dollars past $1,000."""
    if x is None:
        return "–"
    if abs(x) < 1:
        return f"{x * 100:.3g}¢"
    return f"${x:,.0f}" if abs(x) >= 1000 else f"${x:,.2f}"


ws = workspace()
token = ws.state_token(reviews=False)  # reviewers tagging never changes these numbers
st.title("Cost")
st.caption(
    "What the AI feature costs per user, how that cost grows with users, and whether the lift pays for it."
)

with st.spinner("Adding up the inference log…"):
    data = guarded(_costs, token, str(ws.path))
models = sorted(map(str, data.by_model["model_version"]))

# -- what-if controls: pure arithmetic on the fetched aggregates, no SQL ------------------------
with st.expander("What if… (prices, cache, routing, usage)", expanded=False):
    for key, url_key, default in (
        ("cost_in_x", "in_x", 1.0),
        ("cost_out_x", "out_x", 1.0),
        ("cost_ppu_x", "ppu_x", 1.0),
        ("cost_route_share", "route", 0.0),
    ):
        seed_from_url(key, url_key, default, parse=float)
    c1, c2, c3 = st.columns(3)
    in_x = c1.slider("Input token price ×", 0.0, 5.0, step=0.05, key="cost_in_x")
    out_x = c1.slider("Output token price ×", 0.0, 5.0, step=0.05, key="cost_out_x")
    measured_cache = data.cache_rate
    seed("cost_cache_on", url_state("cache", "") != "")
    seed_from_url("cost_cache", "cache", round(measured_cache, 2), parse=float)
    cache_on = c2.toggle("Set the cache hit rate", key="cost_cache_on")
    cache = c2.slider(
        "Share of input tokens served from cache",
        0.0,
        1.0,
        step=0.05,
        key="cost_cache",
        disabled=not cache_on,
        help=f"Measured: {measured_cache:.0%}.",
    )
    ppu = c2.slider("Predictions per user ×", 0.0, 5.0, step=0.1, key="cost_ppu_x")
    route_options = ["(none)", *models]
    seed_from_url("cost_route_to", "route_to", "(none)", valid=route_options)
    route_to = c3.selectbox("Route traffic to model version", route_options, key="cost_route_to")
    share = c3.slider(
        "Share of the other models' traffic routed", 0.0, 1.0, step=0.05, key="cost_route_share"
    )
    scenario = cost.WhatIf(
        input_x=in_x,
        output_x=out_x,
        cache_hit_rate=cache if cache_on else None,
        route_to=None if route_to == "(none)" else route_to,
        route_share=share if route_to != "(none)" else 0.0,
        predictions_x=ppu,
    )
    set_url_state(
        in_x=None if in_x == 1 else in_x,
        out_x=None if out_x == 1 else out_x,
        ppu_x=None if ppu == 1 else ppu,
        cache=f"{cache:.2f}" if cache_on else None,
        route_to=None if route_to == "(none)" else route_to,
        route=None if route_to == "(none)" or share == 0 else share,
    )

saved_budget = cost.get_budget(ws)
seed("cost_budget", float(saved_budget or 0.0))
budget = st.session_state["cost_budget"] or None
# The curve's period is chosen in its section below; its value is read here so the verdict agrees with it.
seed("cost_period", "Weeks" if url_state("period", "day") == "week" else "Days")
period = "week" if st.session_state["cost_period"] == "Weeks" else "day"
if period == "week":
    with st.spinner("Counting weekly active users…"):
        data = guarded(_weeks, token, str(ws.path))
summary = guarded(cost.summarize, data, scenario, budget=budget, period=period)
h, fit = summary.unit_costs, summary.fit_users
per_day = period == "day"

# -- verdict first, then the cards -------------------------------------------------------------
if not scenario.is_identity:
    st.info("**What-if scenario applied**: every number below is recomputed for the scenario in *What if…*.")
st.markdown(f"**{md(fit.reading)}**")
p10 = summary.projected(10.0)
if p10 is not None:
    monthly = summary.projected_monthly(10.0)
    st.markdown(
        f"At 10× today's {p10.x / 10:,.0f} {'daily' if per_day else 'weekly'} active users, the AI "
        f"feature would cost about **{md(_usd(p10.cost))} a {period}** (95% prediction interval "
        f"{md(_usd(p10.low))}–{md(_usd(p10.high))}), about {md(_usd(monthly, 0))} a month."
    )
c1, c2, c3, c4 = st.columns(4)
c1.metric(
    "Cost per active user (per day)",
    _card(h.cost_per_active_user),
    border=True,
    help=f"{_usd(h.cost_per_active_user, 6)}: total cost ÷ the sum over days of users with ≥1 prediction that day.",
)
c2.metric(
    "Cost per prediction",
    _card(h.cost_per_prediction),
    border=True,
    help=f"{_usd(h.cost_per_prediction, 7)} per prediction; {h.predictions:,} predictions in all.",
)
c3.metric(
    "Monthly run-rate",
    _card(h.monthly_run_rate),
    border=True,
    help=f"{_usd(h.monthly_run_rate)}: mean daily cost over the last 7 days × {cost.DAYS_PER_MONTH:.2f} days.",
)
c4.metric(
    "Scaling exponent b",
    "–" if fit.exponent is None else f"{fit.exponent:.2f}",
    border=True,
    help=f"{md(fit.reading)} cost ∝ usersᵇ: b < 1 economies of scale, b ≈ 1 linear, b > 1 costs outgrow users.",
)
for note in summary.notes:
    st.caption(f"ℹ️ {md(note)}")

# -- the cost curve ------------------------------------------------------------------------------
st.subheader("How cost grows with users")
c1, c2 = st.columns(2)
against = c1.segmented_control(
    "Fit cost against", ["Active users", "Predictions"], default="Active users", key="cost_against"
)
c2.segmented_control(
    "Per",
    ["Days", "Weeks"],
    key="cost_period",
    help="Weeks: weekly cost against users active in the week, over whole calendar weeks. It takes the "
    "weekday cycle out of the fit and needs at least 7 whole weeks of data.",
)
set_url_state(period=None if per_day else "week")
adj = "Daily" if per_day else "Weekly"
if against == "Predictions":
    cfit, proj, xl = summary.fit_predictions, summary.projection_predictions, f"{adj} predictions"
else:
    cfit, proj, xl = fit, summary.projection, f"{adj} active users"
if not cfit.ok:
    st.warning(md(cfit.reading))
st.plotly_chart(charts.cost_curve(cfit, proj, x_label=xl, period=period), width="stretch")
if proj:
    proj_df = pd.DataFrame(
        [
            {
                "multiple": p.multiple,
                xl.lower(): round(p.x),
                f"{adj.lower()} cost (USD, mean)": p.cost,
                "median": p.median,
                "low (95% PI)": p.low,
                "high (95% PI)": p.high,
            }
            for p in proj
        ]
    )
    st.dataframe(proj_df, hide_index=True)
    download_csv(proj_df, "cost-projection")
with st.expander("Method: the power law and the projection"):
    st.markdown(
        "Daily cost is fitted as **cost = a·xᵇ** by ordinary least squares on logs, "
        "log(cost) = log a + b·log(x), over days with x > 0 and cost > 0. "
        "The interval of b is a t interval. Projections are at 2×, 10× and 100× the mean of the last 7 days; "
        "the 95% **prediction interval** is for one future day's cost (log-scale interval, exponentiated). "
        "**Per week** fits weekly cost against the users active in the week (each user counted once a week, "
        "not once a day) over whole calendar weeks only, projects from the last whole week, and gives the "
        "interval for one future week's cost; it takes the weekday cycle out of the fit. "
        "The point estimate applies **Duan's smearing** correction (mean of exp(residual)) so it estimates the "
        "mean daily cost; the median is shown beside it. Extrapolating 10× or 100× beyond the data assumes "
        "the power law holds there."
    )
    if cfit.ok:
        st.markdown(
            f"b = {cfit.exponent:.3f}, 95% CI {cfit.exponent_ci[0]:.3f}–{cfit.exponent_ci[1]:.3f}; "
            f"R² = {cfit.r_squared:.3f}; {cfit.n_points} {period}s; smearing factor {cfit.smearing:.4f}."
        )

# -- unit economics ------------------------------------------------------------------------------
st.subheader("Does the lift pay for the cost?")
experiments = _experiments(token, str(ws.path))
if not experiments:
    st.info("Load assignments (who saw which variant) to weigh the incremental revenue against the cost.")
else:
    if st.session_state.get("cost_experiment") not in experiments:
        chosen = url_state("experiment", experiments[0])
        st.session_state["cost_experiment"] = chosen if chosen in experiments else experiments[0]
    exp = st.selectbox("Experiment", experiments, key="cost_experiment")
    set_url_state(experiment=exp)
    with st.spinner("Computing revenue and cost per exposed user…"):
        arms = guarded(_arms, token, str(ws.path), exp, 7)
    choice = default_control(ws, exp, [a.variant for a in arms])
    st.caption(md(choice.sentence()))
    control = choice.arm
    ue = guarded(
        cost.unit_economics,
        arms,
        experiment=exp,
        control=control,
        multipliers=summary.model_multipliers,
    )
    for v in ue.variants:
        st.markdown(md(v.sentence))
    if ue.variants:
        st.plotly_chart(charts.unit_economics_chart(ue), width="stretch")
        ue_df = pd.DataFrame(
            [
                {
                    "variant": v.variant,
                    "vs": v.baseline,
                    "incremental revenue (USD/user)": v.incremental_revenue.value,
                    "revenue low": v.incremental_revenue.ci[0],
                    "revenue high": v.incremental_revenue.ci[1],
                    "incremental cost (USD/user)": v.incremental_cost.value,
                    "cost low": v.incremental_cost.ci[0],
                    "cost high": v.incremental_cost.ci[1],
                    "net (USD/user)": v.net.value,
                    "ROI": None if v.roi is None else v.roi.value,
                    "break-even price (USD per 1k tokens)": v.break_even_price_per_1k,
                }
                for v in ue.variants
            ]
        )
        with st.expander("Numbers and method"):
            st.dataframe(ue_df, hide_index=True)
            download_csv(ue_df, f"unit-economics-{exp}")
            st.markdown(
                "Per exposed user over 7 days from first exposure (users in two variants left out; only users "
                "whose 7 days ended before the data): revenue = purchase values, cost = prediction costs. "
                "Intervals: Welch t on the difference of arm means. ROI = (ΔR − ΔC)/ΔC with a delta-method "
                "interval; break-even price = the blended price per 1k tokens at which ΔC = ΔR."
            )

# -- over time -----------------------------------------------------------------------------------
st.subheader("Over time")
t1, t2 = st.columns(2)
per = cost.per_user_by_model(data)
with t1:
    st.plotly_chart(charts.cost_per_user_by_model(per), width="stretch")
    download_csv(per, "cost-per-user-by-model", key="dl-per-model")
with t2:
    st.plotly_chart(charts.latency_over_time(data.by_day), width="stretch")
    download_csv(data.by_day, "cost-by-day", key="dl-by-day")
with st.expander("By model version"):
    st.dataframe(data.by_model, hide_index=True)
    download_csv(data.by_model, "cost-by-model")

# -- budget --------------------------------------------------------------------------------------
st.subheader("Budget")
b1, b2 = st.columns([1, 2])
with b1:
    new_budget = st.number_input("Monthly budget (USD)", min_value=0.0, step=100.0, key="cost_budget")
    if st.button("Save budget", key="cost_save_budget"):
        who = actor()
        if who is None or not who.can("edit_settings"):
            st.error("Type your name in the sidebar (or sign in as an editor) to save the budget.")
        else:
            guarded(cost.set_budget, ws, new_budget or None, actor=who)
            st.success("Budget saved.")
    if summary.budget:
        st.markdown(md(summary.budget.sentence))
    else:
        st.caption("Set a monthly budget to see when spend crosses it.")
with b2:
    rate = summary.budget.daily_run_rate if summary.budget else h.daily_cost_recent
    st.plotly_chart(charts.budget_chart(summary.by_day, budget, rate), width="stretch")
# On demand: ranking every user is a full pass over the log (seconds on tens of millions of rows).
if st.toggle("Show the users who cost the most", key="cost_show_top"):
    with st.spinner("Ranking users by cost…"):
        top = guarded(_top, token, str(ws.path), 20)
    st.dataframe(
        top,
        hide_index=True,
        column_config={
            "share": st.column_config.NumberColumn("share of spend", format="percent"),
            "x_median": st.column_config.NumberColumn("× the median user", format="%.1f"),
        },
    )
    download_csv(top, "top-cost-users")

# -- price table ---------------------------------------------------------------------------------
with st.expander("Price table (USD per 1k tokens, used where a prediction has tokens but no cost)"):
    saved = {p.model_version for p in data.prices}
    offers = _offers(tuple(m for m in models if m not in saved))
    prices = pd.DataFrame(
        [p.__dict__ for p in data.prices] + [o.price.__dict__ for o in offers],
        columns=["model_version", "input_per_1k", "output_per_1k", "cached_per_1k"],
    )
    if offers:
        st.caption(
            md(
                f"Offered from {offers[0].source}, prices valid on {offers[0].valid_on:%Y-%m-%d}: "
                + ", ".join(f"{o.price.model_version} (as {o.provider}'s {o.matched_model})" for o in offers)
                + ". Edit them if your contract differs, then Save prices to use them."
            )
        )
    edited = st.data_editor(prices, num_rows="dynamic", hide_index=True, key="cost_prices")
    if st.button("Save prices", key="cost_save_prices"):
        who = actor()
        if who is None or not who.can("edit_prices"):
            st.error("Type your name in the sidebar (or sign in as an editor) to change the prices.")
        else:
            rows = edited.dropna(how="all")
            guarded(
                set_prices,
                ws,
                [
                    Price(
                        str(r.model_version or ""),
                        r.input_per_1k,
                        r.output_per_1k,
                        0.0 if pd.isna(r.cached_per_1k) else r.cached_per_1k,
                    )
                    for r in rows.itertuples()
                ],
                actor=who,
            )
            st.success("Prices saved; costs recomputed.")
            st.rerun()
    download_csv(prices, "prices")
    st.caption(
        "cost = (tokens_in − tokens_cached)·input/1000 + tokens_cached·cached/1000 + tokens_out·output/1000"
    )

"""Cost charts: units in every axis title, log axes, the fit and projections drawn, gaps never crash."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from analytics.charts.cost import (
    budget_chart,
    cost_curve,
    cost_per_user_by_model,
    latency_over_time,
    unit_economics_chart,
)
from analytics.cost import ArmSums, fit_power_law, project, unit_economics


def _fit():
    rng = np.random.default_rng(0)
    users = np.round(np.exp(rng.uniform(np.log(100), np.log(5000), 20)))
    return fit_power_law(users, 0.01 * users**0.9 * np.exp(rng.normal(0, 0.1, 20)))


def test_cost_curve_log_axes_fit_band_and_projection() -> None:
    fit = _fit()
    proj = tuple(project(fit, 1000.0))
    fig = cost_curve(fit, proj)
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    assert "USD" in fig.layout.yaxis.title.text and "users" in fig.layout.xaxis.title.text
    names = [t.name for t in fig.data]
    assert names[0] == "Days" and "95% prediction band" in names and "Projection (95% PI)" in names
    pts = fig.data[-1]
    assert list(pts.x) == pytest.approx([p.x for p in proj])
    assert list(pts.text) == ["2×", "10×", "100×"]
    # The fitted line reaches the 100× projection's x.
    assert max(fig.data[2].x) == pytest.approx(proj[-1].x)


def test_cost_curve_when_it_cannot_fit() -> None:
    fig = cost_curve(fit_power_law([1, 2], [1, 2]))
    assert [t.name for t in fig.data] == ["Days"]


def test_weekly_cost_curve_names_its_points_and_axis() -> None:
    fig = cost_curve(_fit(), x_label="Weekly active users", period="week")
    assert fig.data[0].name == "Weeks"
    assert fig.layout.yaxis.title.text.startswith("Weekly cost, USD")
    assert fig.layout.xaxis.title.text.startswith("Weekly active users")


def test_time_charts_with_units_and_gaps() -> None:
    days = [dt.date(2026, 9, 1) + dt.timedelta(days=i) for i in range(3)]
    per = pd.DataFrame(
        {
            "day": days * 2,
            "model_version": ["a"] * 3 + ["b"] * 3,
            "cost_per_user": [0.1, np.nan, 0.2, 1.0, 1.1, 1.2],
        }
    )
    fig = cost_per_user_by_model(per)
    assert [t.name for t in fig.data] == ["a", "b"] and "USD" in fig.layout.yaxis.title.text
    by_day = pd.DataFrame(
        {
            "day": days,
            "cost": [1.0, 2.0, 3.0],
            "lat_p50": [np.nan] * 3,
            "lat_p95": [np.nan] * 3,
            "lat_p99": [np.nan] * 3,
        }
    )
    lat = latency_over_time(by_day)
    assert [t.name for t in lat.data] == [
        "p50",
        "p95",
        "p99",
    ] and lat.layout.yaxis.title.text == "Latency, ms"
    b = budget_chart(by_day, 20.0, 2.0)
    assert list(b.data[0].y) == [1.0, 3.0, 6.0]
    assert b.data[1].y[-1] == pytest.approx(6.0 + 2.0 * 27)  # Sept 3 → Sept 30
    assert b.layout.shapes[0].y0 == 20.0 and "USD" in b.layout.yaxis.title.text


def test_unit_economics_chart_intervals() -> None:
    arms = (
        ArmSums("control", 100, 50.0, 200.0, 0.0, 0.0, 0.0, 0.0),
        ArmSums("ai", 100, 70.0, 300.0, 2.0, 0.05, 1.5, 50_000.0, (("m", 2.0),)),
    )
    ue = unit_economics(arms, experiment="e", control="control")
    fig = unit_economics_chart(ue)
    assert [t.name for t in fig.data] == ["Revenue", "Cost", "Net"]
    rev = ue.variants[0].incremental_revenue
    assert fig.data[0].x[0] == pytest.approx(rev.value)
    assert fig.data[0].error_x.array[0] == pytest.approx(rev.ci[1] - rev.value)
    assert "USD per exposed user" in fig.layout.xaxis.title.text

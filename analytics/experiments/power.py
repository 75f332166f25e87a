"""What the power calculator starts from: the control's mean and variance and today's users per arm."""

from __future__ import annotations

from dataclasses import dataclass

from analytics import stats
from analytics.errors import LiftboardError
from analytics.experiments.results import MetricResult


@dataclass(frozen=True)
class PowerInputs:
    """What the power calculator starts from: the control's mean and variance, today's users per arm."""

    baseline_mean: float
    baseline_var: float
    n_per_arm: int
    mde_now: float | None  # relative MDE at today's n (power 0.8), None if it cannot be computed
    mde_error: str | None = None  # why it cannot be computed


@dataclass(frozen=True)
class PowerPlan:
    """The calculator's answer: users per arm for a relative lift, and the smallest lift today's n detects."""

    users_per_arm: int
    mde_now: float


def power_inputs(
    metric: MetricResult, control: str, *, alpha: float = 0.05, power: float = 0.8
) -> PowerInputs:
    """The one rule for "the MDE at today's n": the baseline arm's mean and variance, the smallest arm's users."""
    ctrl = metric.arm(metric.baseline or control)
    n = min(a.users for a in metric.variants)
    try:
        return PowerInputs(
            ctrl.mean, ctrl.variance, n, stats.mde(ctrl.mean, ctrl.variance, n, alpha=alpha, power=power)
        )
    except LiftboardError as exc:
        return PowerInputs(ctrl.mean, ctrl.variance, n, None, str(exc))


def power_plan(
    baseline_mean: float,
    baseline_var: float,
    n_per_arm: int,
    target_rel: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
) -> PowerPlan:
    """Users per arm to detect ``target_rel`` and the MDE at ``n_per_arm`` (a LiftboardError on bad input)."""
    need = stats.sample_size_per_arm(baseline_mean, baseline_var, target_rel, alpha=alpha, power=power)
    return PowerPlan(need, stats.mde(baseline_mean, baseline_var, n_per_arm, alpha=alpha, power=power))

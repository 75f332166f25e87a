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


def power_inputs(
    metric: MetricResult, control: str, *, alpha: float = 0.05, power: float = 0.8
) -> PowerInputs:
    ctrl = metric.arm(metric.baseline or control)
    n = min(a.users for a in metric.variants)
    try:
        now = stats.mde(ctrl.mean, ctrl.variance, n, alpha=alpha, power=power)
    except LiftboardError:
        now = None
    return PowerInputs(ctrl.mean, ctrl.variance, n, now)

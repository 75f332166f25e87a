"""What the power calculator starts from: the control's mean and variance and today's users per arm."""

from __future__ import annotations

from dataclasses import dataclass

from analytics import stats
from analytics.errors import LiftboardError
from analytics.experiments.results import MetricResult


@dataclass(frozen=True)
class PowerInputs:
    """What the power calculator starts from: the control's mean and variance, today's users per arm, and the
    first variant's mean and variance once observed (the plan then uses the variance of the lift in both arms)."""

    baseline_mean: float
    baseline_var: float
    n_per_arm: int
    mde_now: float | None  # relative MDE at today's n (power 0.8), None if it cannot be computed
    mde_error: str | None = None  # why it cannot be computed
    variant_mean: float | None = None
    variant_var: float | None = None


@dataclass(frozen=True)
class PowerPlan:
    """The calculator's answer: users per arm for a relative lift, and the smallest lift today's n detects."""

    users_per_arm: int
    mde_now: float


def power_inputs(
    metric: MetricResult, control: str, *, alpha: float = 0.05, power: float = 0.8
) -> PowerInputs:
    """The one rule for "the MDE at today's n": the baseline arm's mean and variance, the smallest arm's users,
    and once a variant is observed the variance of the lift from both arms (GrowthBook's mid-experiment power;
    the first variant stands for the others). A variant without variation (all 0, e.g. no AI cost in a
    control-like arm) gives the lift no variance: the plan then falls back to the control's variance."""
    ctrl = metric.arm(metric.baseline or control)
    n = min(a.users for a in metric.variants)
    var = metric.arm(metric.comparisons[0].variant) if metric.comparisons else None
    error = None
    for arm in (var, None):
        try:
            now = stats.mde(ctrl.mean, ctrl.variance, n, alpha=alpha, power=power,
                            variant_mean=arm.mean if arm else None, variant_var=arm.variance if arm else None)  # fmt: skip
        except LiftboardError as exc:
            error = str(exc)
            continue
        return PowerInputs(ctrl.mean, ctrl.variance, n, now, None, arm.mean if arm else None,
                           arm.variance if arm else None)  # fmt: skip
    return PowerInputs(ctrl.mean, ctrl.variance, n, None, error)


def power_plan(
    baseline_mean: float,
    baseline_var: float,
    n_per_arm: int,
    target_rel: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    variant_mean: float | None = None,
    variant_var: float | None = None,
) -> PowerPlan:
    """Users per arm to detect ``target_rel`` and the MDE at ``n_per_arm`` (a LiftboardError on bad input);
    with the variant's mean and variance, from the variance of the lift in both arms."""
    both = {"variant_mean": variant_mean, "variant_var": variant_var}
    need = stats.sample_size_per_arm(
        baseline_mean, baseline_var, target_rel, alpha=alpha, power=power, **both
    )
    return PowerPlan(
        need, stats.mde(baseline_mean, baseline_var, n_per_arm, alpha=alpha, power=power, **both)
    )

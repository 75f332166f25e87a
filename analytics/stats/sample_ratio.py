"""Sample-ratio mismatch: χ² goodness of fit of exposed users per arm against the expected split."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from scipy import special

from analytics.errors import LiftboardError

SRM_THRESHOLD = 0.001


@dataclass(frozen=True)
class SrmResult:
    """Sample-ratio-mismatch check: χ² goodness of fit of users per arm against the expected split."""

    chi2: float
    df: int
    p_value: float
    ok: bool
    observed: dict[str, int]
    expected: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def srm(observed: Mapping[str, int], expected: Mapping[str, float] | None = None) -> SrmResult:
    """χ² goodness of fit of users per arm against the expected split (equal when ``expected`` is None).

    ``expected`` holds shares (any positive weights; they are normalised). ``ok`` is False when p < 0.001.
    """
    if len(observed) < 2:
        raise LiftboardError("The sample-ratio check needs at least two arms.")
    if any(v < 0 for v in observed.values()):
        raise LiftboardError("A user count per arm cannot be negative.")
    total = sum(observed.values())
    if total <= 0:
        raise LiftboardError("No users are exposed in any arm, so the split cannot be checked.")
    if expected is None:
        expected = {k: 1.0 for k in observed}
    if set(expected) != set(observed):
        missing = sorted(set(observed) ^ set(expected))
        raise LiftboardError(
            f"The expected split must name exactly the observed arms; mismatched: {', '.join(missing)}."
        )
    weight = sum(expected.values())
    if any(not v > 0 for v in expected.values()):
        raise LiftboardError("Every arm's expected share must be positive.")
    exp_counts = {k: total * expected[k] / weight for k in observed}
    chi2 = float(sum((observed[k] - exp_counts[k]) ** 2 / exp_counts[k] for k in observed))
    df = len(observed) - 1
    p = float(special.chdtrc(df, chi2))  # the chi-square survival function
    return SrmResult(chi2, df, p, p >= SRM_THRESHOLD, {k: int(v) for k, v in observed.items()}, exp_counts)

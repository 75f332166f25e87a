"""Two-sample comparisons, SRM, multiple-testing and CUPED computed from per-arm sufficient statistics.

For the experiments engine (the caller). Everything here is pure: no SQL, no pandas, no Streamlit.

How to use it:
    1. SQL returns, per arm, ``n``, ``Σy``, ``Σy²`` (and ``Σx``, ``Σx²``, ``Σxy`` for ratio metrics, where x is the
       denominator, or for CUPED, where x is the same metric over the pre-exposure window) → :class:`Moments`.
    2. ``compare(control, variant, kind=...)`` → :class:`Comparison` (Welch or sequential, plus a Bayesian view).
    3. Several arms against one control: ``adjust(comparisons, "holm")``; segments: ``adjust(..., "bh")``.
    4. CUPED: ``adjusted, theta, reduction = cuped(arms)`` then ``compare`` on ``adjusted`` as usual
       (``kind`` may stay "mean" or "proportion"; adjusted moments always use the sample variance).
    5. ``srm(observed_counts, expected_shares)`` for the sample-ratio-mismatch check.
    6. Cumulative lift: ``Moments`` add (``a + b``), so per-day rows can be summed cumulatively and compared.

Degenerate input (documented, never a silent NaN):
    * an arm with fewer than 2 users, a negative count or non-finite sums → ``LiftboardError``;
    * a ratio metric whose denominator sums to 0 in an arm → ``LiftboardError``;
    * control mean 0 → ``rel_lift``, ``rel_ci``, ``rel_se`` and ``expected_loss`` are ``None`` (a note says why),
      and ``chance_to_beat`` falls back to the absolute difference;
    * no variation in either arm (se = 0) → ``p_value`` 1 if the means are equal, 0 if not, the interval is the
      point, and a note says so.

Additions beyond the first interface: ``Moments.of(y, x)``, ``Moments + Moments``, ``Moments.adjusted``;
``Comparison`` fields ``cuped``, ``ratio``, ``kind``, ``alpha``, ``n_baseline``, ``n_variant``, ``var_baseline``,
``var_variant``, ``rel_se``, ``notes`` and ``as_dict()``; ``power_at``; ``winsorize_caps``; ``method_notes``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import numpy as np
from scipy import special
from scipy import stats as sps

from analytics.errors import LiftboardError
from analytics.method_notes import method_notes
from analytics.multitest import benjamini_hochberg, holm
from analytics.power import mde, power_at, sample_size_per_arm
from analytics.sequential import N_STAR, always_valid_p, halfwidth_multiplier, sequential_rho

__all__ = [
    "Comparison",
    "Moments",
    "SrmResult",
    "adjust",
    "arm_mean_var",
    "benjamini_hochberg",
    "compare",
    "cuped",
    "holm",
    "mde",
    "method_notes",
    "power_at",
    "sample_size_per_arm",
    "sequential_rho",
    "srm",
    "welch_arrays",
    "winsorize_caps",
]

Kind = Literal["mean", "proportion", "ratio"]
KINDS: tuple[str, ...] = ("mean", "proportion", "ratio")
SRM_THRESHOLD = 0.001


@dataclass(frozen=True)
class Moments:
    """Per-arm sufficient statistics of a per-user value y (0/1 for proportions).

    ``sum_x``, ``sum_x_sq`` and ``sum_xy`` hold the denominator of a ratio metric or the pre-period covariate of
    CUPED. ``adjusted`` is set by :func:`cuped`: y is then a continuous adjusted value whatever the metric kind.
    """

    n: int
    sum: float
    sum_sq: float
    sum_x: float = 0.0
    sum_x_sq: float = 0.0
    sum_xy: float = 0.0
    adjusted: bool = False

    @classmethod
    def of(cls, y: Sequence[float] | np.ndarray, x: Sequence[float] | np.ndarray | None = None) -> Moments:
        """Moments of raw per-user values (for tests and small in-memory data; SQL computes them otherwise)."""
        ya = np.asarray(y, dtype=float)
        if x is None:
            return cls(int(ya.size), float(ya.sum()), float((ya * ya).sum()))
        xa = np.asarray(x, dtype=float)
        return cls(
            int(ya.size), float(ya.sum()), float((ya * ya).sum()),
            float(xa.sum()), float((xa * xa).sum()), float((xa * ya).sum()),
        )  # fmt: skip

    def __add__(self, other: Moments) -> Moments:
        if self.adjusted or other.adjusted:
            raise ValueError("CUPED-adjusted moments cannot be added; adjust the summed moments instead.")
        return Moments(
            self.n + other.n, self.sum + other.sum, self.sum_sq + other.sum_sq,
            self.sum_x + other.sum_x, self.sum_x_sq + other.sum_x_sq, self.sum_xy + other.sum_xy,
        )  # fmt: skip


@dataclass(frozen=True)
class Comparison:
    """One variant against the baseline on one metric. Lifts are variant − baseline.

    ``rel_*`` are relative to |baseline mean| and ``None`` when the baseline mean is 0. ``p_value`` tests the
    absolute difference (Welch t, or the always-valid p-value when ``method == "sequential"``); ``significant``
    uses ``p_value_adjusted`` (equal to ``p_value`` until :func:`adjust` runs). ``chance_to_beat`` is
    P(variant mean > baseline mean) under a flat-prior Gaussian approximation (on the relative lift, or the
    absolute one when the relative is undefined); ``expected_loss`` is E[max(0, −relative lift)], the relative
    loss expected from shipping the variant. For lower-is-better metrics the caller reads them mirrored.
    """

    variant: str
    baseline: str
    mean_baseline: float
    mean_variant: float
    abs_lift: float
    abs_ci: tuple[float, float]
    rel_lift: float | None
    rel_ci: tuple[float, float] | None
    p_value: float
    p_value_adjusted: float
    significant: bool
    se: float
    df: float
    chance_to_beat: float | None = None
    expected_loss: float | None = None
    method: str = "welch"
    cuped: bool = False
    ratio: bool = False
    kind: str = "mean"
    alpha: float = 0.05
    n_baseline: int = 0
    n_variant: int = 0
    var_baseline: float = 0.0
    var_variant: float = 0.0
    rel_se: float | None = None
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-able dict (tuples become lists)."""
        doc = asdict(self)
        for key in ("abs_ci", "rel_ci", "notes"):
            if doc[key] is not None:
                doc[key] = list(doc[key])
        return doc


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


# ---------------------------------------------------------------------------------------------- per arm


def _check_arm(name: str | None, m: Moments) -> None:
    arm = f"Arm '{name}'" if name else "An arm"
    if m.n < 2:
        raise LiftboardError(
            f"{arm} has {m.n} user{'s' if m.n != 1 else ''} with data for this metric; at least 2 per arm "
            "are needed to estimate a variance, so wait for more data or widen the window."
        )
    values = (m.sum, m.sum_sq, m.sum_x, m.sum_x_sq, m.sum_xy)
    if not all(math.isfinite(v) for v in values):
        raise LiftboardError(f"{arm} has a missing or infinite metric value; check the loaded data.")


def _sample_var(n: int, total: float, total_sq: float) -> float:
    # Clamp: Σy² − (Σy)²/n can come out a hair below 0 by rounding when all values are equal.
    return max((total_sq - total * total / n) / (n - 1), 0.0)


def arm_mean_var(
    m: Moments, *, ratio: bool = False, proportion: bool = False, name: str | None = None
) -> tuple[float, float]:
    """Mean and per-user variance of one arm (the variance of the mean is ``var / n``).

    Proportions: p and p(1−p) (GrowthBook). Means: Σy/n and (Σy² − (Σy)²/n)/(n−1). Ratio metrics: Σy/Σx and
    the delta-method variance n·Var(ȳ/x̄) = (s²_y − 2R s_xy + R² s²_x)/x̄², with R = ȳ/x̄.
    CUPED-adjusted moments always use the sample variance. ``name`` only names the arm in error messages.
    """
    _check_arm(name, m)
    n = m.n
    if ratio:
        if m.sum_x == 0.0:
            raise LiftboardError(
                f"The denominator of this ratio metric is 0 for every user of {f'arm {name!r}' if name else 'an arm'}; "
                "choose a denominator event that these users have, or a longer window."
            )
        mx = m.sum_x / n
        r = m.sum / m.sum_x
        var_y = _sample_var(n, m.sum, m.sum_sq)
        var_x = _sample_var(n, m.sum_x, m.sum_x_sq)
        cov = (m.sum_xy - m.sum * m.sum_x / n) / (n - 1)
        var = (var_y - 2.0 * r * cov + r * r * var_x) / (mx * mx)
        return r, max(var, 0.0)
    mean = m.sum / n
    if proportion and not m.adjusted:
        if not -1e-9 <= mean <= 1.0 + 1e-9:
            raise LiftboardError("A proportion metric must be 0 or 1 per user; this one is not.")
        return mean, max(mean * (1.0 - mean), 0.0)
    return mean, _sample_var(n, m.sum, m.sum_sq)


# ---------------------------------------------------------------------------------------------- the test


def welch_arrays(
    mean_c: Any, var_c: Any, n_c: Any, mean_t: Any, var_t: Any, n_t: Any,
    *, alpha: float = 0.05, sequential: bool = False, n_star: float = N_STAR,
) -> dict[str, np.ndarray]:  # fmt: skip
    """Vectorised core of :func:`compare` over arrays of arms (used by it, and by simulations).

    Returns arrays ``abs_lift, se, df, lo, hi, p_value, rel_lift, rel_se, rel_lo, rel_hi`` (relative entries are
    NaN where the control mean is 0; ``se`` may be 0, which :func:`compare` turns into a defined result).
    """
    mean_c, var_c, n_c, mean_t, var_t, n_t = (
        np.asarray(a, dtype=float) for a in (mean_c, var_c, n_c, mean_t, var_t, n_t)
    )
    a, b = var_c / n_c, var_t / n_t
    se = np.sqrt(a + b)
    d = mean_t - mean_c
    with np.errstate(divide="ignore", invalid="ignore"):
        df = (a + b) ** 2 / (a * a / (n_c - 1) + b * b / (n_t - 1))
        # Relative lift and its delta-method variance σ²_T/(μ_C² n_T) + σ²_C μ_T²/(μ_C⁴ n_C) (GrowthBook).
        rel = d / np.abs(mean_c)
        rel_se = np.sqrt(b / mean_c**2 + a * mean_t**2 / mean_c**4)
        if sequential:
            # Asymptotic confidence sequence on N = n_C + n_T users and its always-valid p-value (GrowthBook).
            mult = halfwidth_multiplier(n_c + n_t, alpha, n_star)
            half, rel_half = se * mult, rel_se * mult
            p = always_valid_p(d, se, n_c + n_t, alpha, n_star)
        else:
            # scipy.special ufuncs: the same t distribution as scipy.stats.t, without its per-call overhead.
            t = special.stdtrit(df, 1.0 - alpha / 2.0)
            half, rel_half = t * se, t * rel_se
            p = 2.0 * special.stdtr(df, -np.abs(d) / se)
    return {
        "abs_lift": d, "se": se, "df": df, "lo": d - half, "hi": d + half, "p_value": p,
        "rel_lift": rel, "rel_se": rel_se, "rel_lo": rel - rel_half, "rel_hi": rel + rel_half,
    }  # fmt: skip


def _gaussian_win_loss(mu: float, sd: float) -> tuple[float, float]:
    """P(X > 0) and E[max(0, −X)] for X ~ N(mu, sd²)."""
    if sd <= 0.0:
        return (1.0 if mu > 0 else 0.0 if mu < 0 else 0.5), max(-mu, 0.0)
    z = mu / sd
    pdf = math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    return float(special.ndtr(z)), float(sd * pdf - mu * special.ndtr(-z))


def compare(
    baseline: Moments,
    variant: Moments,
    *,
    names: tuple[str, str] = ("control", "ai"),
    alpha: float = 0.05,
    kind: Kind = "mean",
    sequential: bool = False,
    n_star: float = N_STAR,
    bayesian: bool = True,
) -> Comparison:
    """Compare ``variant`` against ``baseline``: absolute and relative lift, interval, p-value, Bayesian view.

    ``names`` is (baseline name, variant name). ``kind`` picks the per-arm variance (see :func:`arm_mean_var`).
    Raises ``LiftboardError`` for an arm with fewer than 2 users, a zero ratio denominator or a bad ``alpha``.
    """
    if kind not in KINDS:
        raise LiftboardError(f"Unknown metric kind '{kind}'; use one of {', '.join(KINDS)}.")
    if not 0.0 < alpha < 1.0:
        raise LiftboardError(f"The significance level α must be between 0 and 1, e.g. 0.05 (got {alpha}).")
    if sequential and not n_star > 0:
        raise LiftboardError(f"The sequential tuning N* must be a positive number of users (got {n_star}).")
    base_name, var_name = names
    _check_arm(base_name, baseline)
    _check_arm(var_name, variant)
    ratio, proportion = kind == "ratio", kind == "proportion"
    if ratio and (baseline.adjusted or variant.adjusted):
        raise LiftboardError("CUPED is not available for ratio metrics; switch CUPED off for this metric.")
    mc, vc = arm_mean_var(baseline, ratio=ratio, proportion=proportion, name=base_name)
    mt, vt = arm_mean_var(variant, ratio=ratio, proportion=proportion, name=var_name)
    r = {k: float(v) for k, v in welch_arrays(
        mc, vc, baseline.n, mt, vt, variant.n, alpha=alpha, sequential=sequential, n_star=n_star
    ).items()}  # fmt: skip
    notes: list[str] = []
    d, se = r["abs_lift"], r["se"]
    if se == 0.0:
        # Every user has the same value within each arm: nothing random is left to test.
        notes.append("Every user has the same value within each arm, so there is no variation to test.")
        r.update(lo=d, hi=d, p_value=1.0 if d == 0.0 else 0.0, df=float(baseline.n + variant.n - 2))
        r.update(rel_lo=r["rel_lift"], rel_hi=r["rel_lift"], rel_se=0.0)
    rel_defined = mc != 0.0
    if not rel_defined:
        notes.append("The baseline mean is 0, so the relative lift is undefined; read the absolute lift.")
    chance = loss = None
    if bayesian:
        if rel_defined:
            chance, loss = _gaussian_win_loss(r["rel_lift"], r["rel_se"])
        else:
            chance, _ = _gaussian_win_loss(d, se)
    p = min(max(r["p_value"], 0.0), 1.0)
    return Comparison(
        variant=var_name,
        baseline=base_name,
        mean_baseline=mc,
        mean_variant=mt,
        abs_lift=d,
        abs_ci=(r["lo"], r["hi"]),
        rel_lift=r["rel_lift"] if rel_defined else None,
        rel_ci=(r["rel_lo"], r["rel_hi"]) if rel_defined else None,
        p_value=p,
        p_value_adjusted=p,
        significant=p < alpha,
        se=se,
        df=r["df"],
        chance_to_beat=chance,
        expected_loss=loss,
        method="sequential" if sequential else "welch",
        cuped=baseline.adjusted or variant.adjusted,
        ratio=ratio,
        kind=kind,
        alpha=alpha,
        n_baseline=baseline.n,
        n_variant=variant.n,
        var_baseline=vc,
        var_variant=vt,
        rel_se=r["rel_se"] if rel_defined else None,
        notes=tuple(notes),
    )


# ---------------------------------------------------------------------------------------------- CUPED


def cuped(arms: Mapping[str, Moments]) -> tuple[dict[str, Moments], float, float]:
    """CUPED: adjust y by the pre-period covariate x, y' = y − θ(x − x̄), with one θ for all arms.

    θ = Cov(Y, X)/Var(X) from the within-arm covariances pooled over arms (so a treatment effect on y does not
    leak into θ); x̄ is the grand mean of x, so the adjustment keeps the overall mean of y.

    Returns:
        (adjusted arms as Moments with ``adjusted=True``, θ, variance reduction 1 − Var(y')/Var(y) pooled within
        arms, which equals the squared pooled correlation ρ²). If x does not vary, θ = 0 and the reduction is 0.
    """
    if not arms:
        raise LiftboardError("CUPED needs at least one arm with data.")
    for name, m in arms.items():
        _check_arm(name, m)
        if m.adjusted:
            raise LiftboardError(f"Arm '{name}' is already CUPED-adjusted.")
    sxx = sum(m.sum_x_sq - m.sum_x**2 / m.n for m in arms.values())
    sxy = sum(m.sum_xy - m.sum * m.sum_x / m.n for m in arms.values())
    syy = sum(m.sum_sq - m.sum**2 / m.n for m in arms.values())
    total_n = sum(m.n for m in arms.values())
    x_bar = sum(m.sum_x for m in arms.values()) / total_n
    # Relative tolerance: Σx² − (Σx)²/n of a constant x is rounding noise, not variation.
    scale = max(sum(m.sum_x_sq for m in arms.values()), 1e-300)
    theta = sxy / sxx if sxx > 1e-12 * scale else 0.0
    adjusted: dict[str, Moments] = {}
    for name, m in arms.items():
        sum_c = m.sum_x - m.n * x_bar  # Σ(x − x̄)
        sum_c_sq = m.sum_x_sq - 2.0 * x_bar * m.sum_x + m.n * x_bar**2  # Σ(x − x̄)²
        sum_y_c = m.sum_xy - x_bar * m.sum  # Σ y(x − x̄)
        adjusted[name] = replace(
            m,
            sum=m.sum - theta * sum_c,
            sum_sq=m.sum_sq - 2.0 * theta * sum_y_c + theta**2 * sum_c_sq,
            adjusted=True,
        )
    reduction = 0.0
    if syy > 0.0:
        syy_adj = syy - 2.0 * theta * sxy + theta**2 * sxx
        reduction = min(max(1.0 - syy_adj / syy, 0.0), 1.0)
    return adjusted, float(theta), float(reduction)


# ---------------------------------------------------------------------------------------------- SRM


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
    p = float(sps.chi2.sf(chi2, df))
    return SrmResult(chi2, df, p, p >= SRM_THRESHOLD, {k: int(v) for k, v in observed.items()}, exp_counts)


# ---------------------------------------------------------------------------------------------- multiple tests


def adjust(
    comparisons: Sequence[Comparison], method: Literal["holm", "bh"] = "holm", alpha: float | None = None
) -> list[Comparison]:
    """Adjust the p-values of a family of comparisons; fills ``p_value_adjusted`` and ``significant``.

    Use "holm" across arms against one control and "bh" across segments. ``alpha`` defaults to each
    comparison's own.
    """
    if method not in ("holm", "bh"):
        raise LiftboardError(f"Unknown p-value adjustment '{method}'; use holm or bh.")
    adjusted = (holm if method == "holm" else benjamini_hochberg)([c.p_value for c in comparisons])
    return [
        replace(c, p_value_adjusted=pa, significant=pa < (c.alpha if alpha is None else alpha))
        for c, pa in zip(comparisons, adjusted, strict=True)
    ]


# ---------------------------------------------------------------------------------------------- winsorization


def winsorize_caps(percentile: float, *, two_sided: bool = False) -> tuple[float | None, float]:
    """Quantile levels at which per-user values are capped before their moments are summed.

    The experiments SQL computes the caps with ``quantile_cont(y, level)`` over the exposed users (pooled over
    arms, so every arm is capped at the same value and the comparison stays fair), clamps each per-user value
    with ``least(greatest(y, lower_cap), upper_cap)``, then sums n, Σy, Σy² as usual. Only mean metrics are
    winsorized; proportions are already bounded.

    Args:
        percentile: the upper level, as a share (0.99) or a percent (99).
        two_sided: also cap the lower tail at 1 − level.

    Returns:
        (lower level or None, upper level).
    """
    level = percentile / 100.0 if percentile > 1.0 else percentile
    if not 0.5 < level < 1.0:
        raise LiftboardError(
            f"The winsorization percentile must be between 50 and 100, e.g. 99 (got {percentile})."
        )
    return (1.0 - level if two_sided else None), level

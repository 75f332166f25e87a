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
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import numpy as np
from scipy import special

from analytics.errors import LiftboardError
from analytics.stats.moments import KINDS, Kind, Moments, arm_mean_var, check_arm
from analytics.stats.multitest import benjamini_hochberg, holm
from analytics.stats.sequential import N_STAR, always_valid_p, halfwidth_multiplier


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
    check_arm(base_name, baseline)
    check_arm(var_name, variant)
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

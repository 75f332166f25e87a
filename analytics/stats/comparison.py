"""Two-sample comparisons from per-arm sufficient statistics: GrowthBook's frequentist estimands, each with its own
p-value, and the Bayesian view, for plain, CUPED, post-stratified and quantile metrics.

For the experiments engine (the caller). Everything here is pure: no SQL, no pandas, no Streamlit.

How to use it:
    1. SQL returns, per arm, ``n``, ``Σy``, ``Σy²`` (and ``Σx``, ``Σx²``, ``Σxy`` for ratio metrics, where x is the
       denominator, or for CUPED, where x is the same metric over the pre-exposure window) → :class:`Moments`;
       for a quantile metric the quantile and its rank bounds → :class:`QuantileMoments`.
    2. ``compare(control, variant, kind=..., cuped=..., strata=..., sequential=..., prior=...)`` →
       :class:`Comparison`: absolute lift (``p_value``) and relative lift (``rel_p_value``), each with its own
       interval and p-value; ``significant`` follows ``estimand`` (the relative lift unless it is undefined).
    3. Several arms against one control: ``adjust(comparisons, "holm")``; segments: ``adjust(..., "bh")``; both
       families of p-values are adjusted.

Degenerate input (documented, never a silent NaN):
    * statistics no data can produce (negative variance, n < 0, more conversions than users, a correlation beyond
      ±1) → ``LiftboardError`` naming the arm and the metric; an arm with fewer than 2 users → ``LiftboardError``;
    * a ratio metric whose denominator sums to 0 in an arm → ``LiftboardError``;
    * control mean 0 → the relative fields are ``None``, a note says why, ``estimand`` is "absolute" and the
      Bayesian view is on the absolute lift (``risk_scale`` "absolute");
    * no variation in either arm (se = 0) → ``p_value`` 1 if the means are equal, 0 if not, the interval is the
      point, and a note says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import numpy as np
from scipy import special

from analytics.errors import LiftboardError
from analytics.stats import covariates as ra
from analytics.stats.bayes import GaussianPrior, posterior
from analytics.stats.moments import KINDS, Kind, Moments, XRole, arm_mean_var, check_moments
from analytics.stats.multitest import benjamini_hochberg, holm
from analytics.stats.poststrat import post_stratify
from analytics.stats.quantile import QuantileMoments, check_quantile
from analytics.stats.sequential import N_STAR, always_valid_p, halfwidth_multiplier

Estimand = Literal["relative", "absolute"]


@dataclass(frozen=True)
class Comparison:
    """One variant against the baseline on one metric. Lifts are variant − baseline.

    ``p_value`` tests the absolute difference and ``rel_p_value`` the relative lift (GrowthBook's test of
    (μ_T − μ_C)/|μ_C| with its delta-method SE), each Welch t or, when ``method == "sequential"``, always valid.
    ``significant`` uses the adjusted p-value of ``estimand``, the estimand whose interval is drawn.
    ``chance_to_win`` and ``risk`` read the posterior from the variant's side: for a lower-is-better metric a
    decrease wins. ``credible_interval`` is the posterior's central 1 − α interval, on the relative lift (the
    absolute one when ``risk_scale`` is "absolute"). Means shown are unadjusted; ``var_*`` are the per-user
    variances the test used (CUPED-adjusted when ``cuped``).
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
    rel_p_value: float | None = None
    rel_p_value_adjusted: float | None = None
    estimand: Estimand = "relative"
    chance_to_win: float | None = None
    risk: float | None = None
    risk_scale: Estimand = "relative"
    credible_interval: tuple[float, float] | None = None
    posterior_lift: float | None = None
    posterior_sd: float | None = None
    prior_mean: float | None = None
    prior_sd: float | None = None
    lower_is_better: bool = False
    method: str = "welch"
    n_star: float = N_STAR
    cuped: bool = False
    theta: float | None = None
    variance_reduction: float | None = None
    strata: int = 0
    ratio: bool = False
    kind: str = "mean"
    quantile: float | None = None
    alpha: float = 0.05
    n_baseline: int = 0
    n_variant: int = 0
    var_baseline: float = 0.0
    var_variant: float = 0.0
    rel_se: float | None = None
    notes: tuple[str, ...] = ()

    @property
    def shown_p_value(self) -> float:
        """The adjusted p-value of the estimand drawn and marked (what ``significant`` compares with α)."""
        if self.estimand == "relative" and self.rel_p_value_adjusted is not None:
            return self.rel_p_value_adjusted
        return self.p_value_adjusted

    @property
    def shown_ci(self) -> tuple[float, float]:
        """The interval of the estimand drawn next to the mark."""
        return self.rel_ci if self.estimand == "relative" and self.rel_ci is not None else self.abs_ci

    def as_dict(self) -> dict[str, Any]:
        """JSON-able dict (tuples become lists)."""
        doc = asdict(self)
        for key in ("abs_ci", "rel_ci", "credible_interval", "notes"):
            if doc[key] is not None:
                doc[key] = list(doc[key])
        return doc


# ---------------------------------------------------------------------------------------------- the test


def welch_arrays(
    mean_c: Any, var_c: Any, n_c: Any, mean_t: Any, var_t: Any, n_t: Any,
    *, alpha: float = 0.05, sequential: bool = False, n_star: float = N_STAR,
) -> dict[str, np.ndarray]:  # fmt: skip
    """Vectorised core of :func:`compare` over arrays of arms (used by it, the curves and simulations).

    Returns arrays ``abs_lift, se, df, lo, hi, p_value, rel_lift, rel_se, rel_lo, rel_hi, rel_p_value`` (relative
    entries are NaN where the control mean is 0; ``se`` may be 0, which :func:`compare` turns into a defined result).
    """
    mean_c, var_c, n_c, mean_t, var_t, n_t = (
        np.asarray(a, dtype=float) for a in (mean_c, var_c, n_c, mean_t, var_t, n_t)
    )
    a, b = var_c / n_c, var_t / n_t
    with np.errstate(divide="ignore", invalid="ignore"):
        df = (a + b) ** 2 / (a * a / (n_c - 1) + b * b / (n_t - 1))
        # Relative lift and its delta-method variance σ²_T/(μ_C² n_T) + σ²_C μ_T²/(μ_C⁴ n_C) (GrowthBook).
        rel_se = np.sqrt(b / mean_c**2 + a * mean_t**2 / mean_c**4)
    return _tests(mean_t - mean_c, np.sqrt(a + b), (mean_t - mean_c) / np.abs(mean_c), rel_se, df, n_c + n_t,
                  alpha=alpha, sequential=sequential, n_star=n_star)  # fmt: skip


def _tests(d: Any, se: Any, rel: Any, rel_se: Any, df: Any, big_n: Any, *, alpha: float, sequential: bool,
           n_star: float) -> dict[str, np.ndarray]:  # fmt: skip
    """Interval and p-value of each estimand from its estimate and SE: Welch t, or the confidence sequence."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if sequential:
            # Asymptotic confidence sequence on N = n_C + n_T users and its always-valid p-value (GrowthBook).
            mult = halfwidth_multiplier(big_n, alpha, n_star)
            half, rel_half = se * mult, rel_se * mult
            p = always_valid_p(d, se, big_n, alpha, n_star)
            rel_p = always_valid_p(rel, rel_se, big_n, alpha, n_star)
        else:
            # scipy.special ufuncs: the same t distribution as scipy.stats.t, without its per-call overhead.
            t = special.stdtrit(df, 1.0 - alpha / 2.0)
            half, rel_half = t * se, t * rel_se
            p = 2.0 * special.stdtr(df, -np.abs(d) / se)
            rel_p = 2.0 * special.stdtr(df, -np.abs(rel) / rel_se)
    return {
        "abs_lift": d, "se": se, "df": df, "lo": d - half, "hi": d + half, "p_value": p,
        "rel_lift": rel, "rel_se": rel_se, "rel_lo": rel - rel_half, "rel_hi": rel + rel_half, "rel_p_value": rel_p,
    }  # fmt: skip


@dataclass(frozen=True)
class _Effect:
    """The effect's moments before intervals: estimates, SEs, Welch df, and what the arms contributed."""

    mean_c: float
    mean_t: float
    var_c: float
    var_t: float
    abs_lift: float
    se: float
    rel_lift: float | None
    rel_se: float | None
    df: float
    theta: float | None = None


def _welch_df(var_c: float, n_c: int, var_t: float, n_t: int) -> float:
    a, b = var_c / n_c, var_t / n_t
    den = a * a / (n_c - 1) + b * b / (n_t - 1)
    return (a + b) ** 2 / den if den > 0 else float(n_c + n_t - 2)


def _plain(mc: float, vc: float, nc: int, mt: float, vt: float, nt: int) -> _Effect:
    se = math.sqrt(vc / nc + vt / nt)
    rel = rel_se = None
    if mc != 0.0:
        rel = (mt - mc) / abs(mc)
        rel_se = math.sqrt(vt / (nt * mc * mc) + vc * mt * mt / (nc * mc**4))
    return _Effect(mc, mt, vc, vt, mt - mc, se, rel, rel_se, _welch_df(vc, nc, vt, nt))


def _cuped(base: Moments, var: Moments, proportion: bool) -> _Effect:
    th = ra.theta(base, var, proportion=proportion)
    c, t = ra.adjust_arm(base, th, proportion=proportion), ra.adjust_arm(var, th, proportion=proportion)
    d = t.adjusted_mean - c.adjusted_mean
    se = math.sqrt(c.variance / c.n + t.variance / t.n)
    rel = rel_se = None
    if c.mean != 0.0:
        rel, rel_se = d / abs(c.mean), math.sqrt(max(ra.relative_variance(c, t, th), 0.0))
    return _Effect(c.mean, t.mean, c.variance, t.variance, d, se, rel, rel_se,
                   _welch_df(c.variance, c.n, t.variance, t.n), th)  # fmt: skip


def _effect(
    base: Moments | QuantileMoments,
    var: Moments | QuantileMoments,
    kind: str,
    names: tuple[str, str],
    metric: str | None,
    cuped: bool,
) -> _Effect:
    if isinstance(base, QuantileMoments) and isinstance(var, QuantileMoments):
        for m, name in ((base, names[0]), (var, names[1])):
            check_quantile(m, name, metric)
        return _plain(base.estimate, base.variance(), base.n, var.estimate, var.variance(), var.n)
    if isinstance(base, QuantileMoments) or isinstance(var, QuantileMoments):
        raise TypeError("Both arms of a quantile comparison must be QuantileMoments.")
    proportion = kind == "proportion"
    x_role: XRole | None = "denominator" if kind == "ratio" else ("pre-exposure value" if cuped else None)
    for m, name in ((base, names[0]), (var, names[1])):
        check_moments(m, arm=name, metric=metric, proportion=proportion, x_role=x_role)
    if cuped:
        return _cuped(base, var, proportion and ra.binary_covariate(base, var))
    mc, vc = arm_mean_var(base, ratio=kind == "ratio", proportion=proportion, name=names[0], metric=metric)
    mt, vt = arm_mean_var(var, ratio=kind == "ratio", proportion=proportion, name=names[1], metric=metric)
    return _plain(mc, vc, base.n, mt, vt, var.n)


def _stratified(
    eff: _Effect, cells: Sequence[tuple[Moments, Moments]], base: Moments, var: Moments, kind: str,
    names: tuple[str, str], metric: str | None, cuped: bool,
) -> tuple[_Effect, int]:  # fmt: skip
    """Replace the estimates and SEs by the post-stratified ones; the Welch df stay those of the pooled arms."""
    if sum(a.n for a, _ in cells) != base.n or sum(b.n for _, b in cells) != var.n:
        raise LiftboardError(
            f"The strata of {metric or 'this metric'} do not add up to the arms' users; every user must be in "
            "exactly one stratum."
        )
    x_role: XRole | None = "denominator" if kind == "ratio" else ("pre-exposure value" if cuped else None)
    for a, b in cells:
        check_moments(a, arm=names[0], metric=metric, proportion=kind == "proportion", x_role=x_role, min_n=0)
        check_moments(b, arm=names[1], metric=metric, proportion=kind == "proportion", x_role=x_role, min_n=0)
    ps = post_stratify(cells, ratio=kind == "ratio", proportion=kind == "proportion", cuped=cuped)
    if ps.strata <= 1:
        return eff, ps.strata
    return replace(eff, abs_lift=ps.abs_lift, se=ps.se, rel_lift=ps.rel_lift, rel_se=ps.rel_se), ps.strata


def compare(
    baseline: Moments | QuantileMoments,
    variant: Moments | QuantileMoments,
    *,
    names: tuple[str, str] = ("control", "ai"),
    alpha: float = 0.05,
    kind: Kind = "mean",
    sequential: bool = False,
    n_star: float = N_STAR,
    bayesian: bool = True,
    lower_is_better: bool = False,
    prior: GaussianPrior | None = None,
    cuped: bool = False,
    strata: Sequence[tuple[Moments, Moments]] | None = None,
    estimand: Estimand = "relative",
    metric: str | None = None,
) -> Comparison:
    """Compare ``variant`` against ``baseline``: both lifts with their intervals and p-values, the Bayesian view.

    ``names`` is (baseline name, variant name) and ``metric`` the metric's spec, for error sentences. ``kind``
    picks the per-arm variance (see :func:`arm_mean_var`); QuantileMoments arms make it "quantile". ``cuped`` uses
    Σx, Σx², Σxy as the pre-exposure covariate (GrowthBook's regression adjustment); ``strata`` are per-stratum
    (baseline, variant) Moments that add up to the arms (GrowthBook's post-stratification; combines with CUPED).
    ``prior`` is a proper prior on the relative lift for the Bayesian view (flat when None).
    """
    quantile = isinstance(baseline, QuantileMoments)
    kind = "quantile" if quantile else kind
    if kind not in KINDS:
        raise LiftboardError(f"Unknown metric kind '{kind}'; use one of {', '.join(KINDS)}.")
    if not 0.0 < alpha < 1.0:
        raise LiftboardError(f"The significance level α must be between 0 and 1, e.g. 0.05 (got {alpha}).")
    if sequential and not n_star > 0:
        raise LiftboardError(f"The sequential tuning N* must be a positive number of users (got {n_star}).")
    if cuped and kind in ("ratio", "quantile"):
        raise LiftboardError(
            f"CUPED is not available for {kind} metrics; switch CUPED off for {metric or 'it'}."
        )
    if strata is not None and quantile:
        raise LiftboardError("Quantile metrics cannot be post-stratified; choose no stratification for them.")
    eff = _effect(baseline, variant, kind, names, metric, cuped)
    n_strata, reduction = 0, None
    if strata is not None:
        assert isinstance(baseline, Moments) and isinstance(variant, Moments)
        plain_se = eff.se
        eff, n_strata = _stratified(eff, strata, baseline, variant, kind, names, metric, cuped)
        if cuped:
            plain_se = _plain_se(baseline, variant, kind)
        reduction = 1.0 - (eff.se / plain_se) ** 2 if plain_se > 0 else 0.0
    elif cuped:
        plain_se = _plain_se(baseline, variant, kind)  # type: ignore[arg-type]
        reduction = 1.0 - (eff.se / plain_se) ** 2 if plain_se > 0 else 0.0
    return _finish(eff, baseline, variant, names=names, alpha=alpha, kind=kind, sequential=sequential,
                   n_star=n_star, bayesian=bayesian, lower_is_better=lower_is_better, prior=prior, cuped=cuped,
                   n_strata=n_strata, reduction=reduction, estimand=estimand)  # fmt: skip


def _plain_se(base: Moments, var: Moments, kind: str) -> float:
    _, vc = arm_mean_var(base, ratio=kind == "ratio", proportion=kind == "proportion")
    _, vt = arm_mean_var(var, ratio=kind == "ratio", proportion=kind == "proportion")
    return math.sqrt(vc / base.n + vt / var.n)


def _finish(eff: _Effect, baseline: Any, variant: Any, *, names: tuple[str, str], alpha: float, kind: str,
            sequential: bool, n_star: float, bayesian: bool, lower_is_better: bool, prior: GaussianPrior | None,
            cuped: bool, n_strata: int, reduction: float | None, estimand: Estimand) -> Comparison:  # fmt: skip
    rel_defined = eff.rel_lift is not None
    r = {k: float(v) for k, v in _tests(
        eff.abs_lift, eff.se, eff.rel_lift if rel_defined else math.nan, eff.rel_se if rel_defined else math.nan,
        eff.df, baseline.n + variant.n, alpha=alpha, sequential=sequential, n_star=n_star,
    ).items()}  # fmt: skip
    notes: list[str] = []
    d, se = r["abs_lift"], r["se"]
    if se == 0.0:
        # Every user has the same value within each arm: nothing random is left to test.
        notes.append("Every user has the same value within each arm, so there is no variation to test.")
        r.update(lo=d, hi=d, p_value=1.0 if d == 0.0 else 0.0)
        if rel_defined:
            r.update(rel_lo=r["rel_lift"], rel_hi=r["rel_lift"], rel_se=0.0,
                     rel_p_value=1.0 if d == 0.0 else 0.0)  # fmt: skip
    if not rel_defined:
        notes.append("The baseline mean is 0, so the relative lift is undefined; read the absolute lift.")
        estimand = "absolute"
    view = None
    if bayesian:
        if rel_defined:
            view = posterior(r["rel_lift"], r["rel_se"], prior, alpha=alpha, lower_is_better=lower_is_better)
        else:
            if prior is not None:
                notes.append("The prior is on the relative lift, which is undefined here, so it is not used.")
            view = posterior(d, se, None, alpha=alpha, lower_is_better=lower_is_better)
    p = _unit(r["p_value"])
    rel_p = _unit(r["rel_p_value"]) if rel_defined else None
    shown = rel_p if estimand == "relative" and rel_p is not None else p
    return Comparison(
        variant=names[1], baseline=names[0], mean_baseline=eff.mean_c, mean_variant=eff.mean_t,
        abs_lift=d, abs_ci=(r["lo"], r["hi"]),
        rel_lift=r["rel_lift"] if rel_defined else None,
        rel_ci=(r["rel_lo"], r["rel_hi"]) if rel_defined else None,
        p_value=p, p_value_adjusted=p, significant=shown < alpha, se=se, df=r["df"],
        rel_p_value=rel_p, rel_p_value_adjusted=rel_p, estimand=estimand,
        chance_to_win=view.chance_to_win if view else None, risk=view.risk if view else None,
        risk_scale="relative" if rel_defined else "absolute",
        credible_interval=view.interval if view else None,
        posterior_lift=view.mean if view else None, posterior_sd=view.sd if view else None,
        prior_mean=prior.mean if prior and rel_defined else None,
        prior_sd=prior.sd if prior and rel_defined else None,
        lower_is_better=lower_is_better, method="sequential" if sequential else "welch", n_star=n_star,
        cuped=cuped, theta=eff.theta, variance_reduction=reduction, strata=n_strata, ratio=kind == "ratio",
        kind=kind, quantile=baseline.nu if kind == "quantile" else None, alpha=alpha,
        n_baseline=baseline.n, n_variant=variant.n, var_baseline=eff.var_c, var_variant=eff.var_t,
        rel_se=r["rel_se"] if rel_defined else None, notes=tuple(notes),
    )  # fmt: skip


def _unit(p: float) -> float:
    return min(max(p, 0.0), 1.0)


# ---------------------------------------------------------------------------------------------- multiple tests


def adjust(
    comparisons: Sequence[Comparison], method: Literal["holm", "bh"] = "holm", alpha: float | None = None
) -> list[Comparison]:
    """Adjust both families of p-values (absolute and relative) of a set of comparisons; re-marks significance.

    Use "holm" across arms against one control and "bh" across segments. ``alpha`` defaults to each
    comparison's own.
    """
    if method not in ("holm", "bh"):
        raise LiftboardError(f"Unknown p-value adjustment '{method}'; use holm or bh.")
    fn = holm if method == "holm" else benjamini_hochberg
    abs_adj = fn([c.p_value for c in comparisons])
    rel_idx = [i for i, c in enumerate(comparisons) if c.rel_p_value is not None]
    rel_adj = dict(zip(rel_idx, fn([comparisons[i].rel_p_value for i in rel_idx]), strict=True))  # type: ignore[misc]
    out = []
    for i, (c, pa) in enumerate(zip(comparisons, abs_adj, strict=True)):
        new = replace(c, p_value_adjusted=pa, rel_p_value_adjusted=rel_adj.get(i))
        out.append(replace(new, significant=new.shown_p_value < (c.alpha if alpha is None else alpha)))
    return out

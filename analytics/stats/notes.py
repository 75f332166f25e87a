"""Markdown notes on the statistical method (formulas and assumptions) for the details panel and the report."""

from __future__ import annotations

from analytics.stats.sequential import N_STAR


def _per_arm(kind: str) -> str:
    if kind == "proportion":
        return "Each user counts 1 or 0; an arm's mean is the share p = Σy/n with variance p(1−p)."
    if kind == "ratio":
        return (
            "Ratio metric: R = Σy/Σx per arm, with the delta-method variance "
            "n·Var(R) = (s²_y − 2R·s_xy + R²·s²_x)/x̄²."
        )
    if kind == "quantile":
        return (
            "Quantile metric: an arm's value is the sample quantile q̂ at level ν of all its values in the "
            "window (quantile_cont). Its standard error comes from two order statistics, the quantiles at "
            "ν ∓ 1.96·√(ν(1−ν)/n*) (a binomial interval for the rank; n* is the largest of GrowthBook's grid "
            "100·2ᵏ below n): Var(q̂) = (n*/n)(n−1)/n·((q_hi − q_lo)/(2·1.96))². A user's values are not "
            "independent, so the variance is scaled by the cluster-robust over the i.i.d. variance of the share "
            "of values ≤ q̂ (users as clusters), as GrowthBook's event quantiles."
        )
    return "An arm's mean is Σy/n with the sample variance s² = (Σy² − (Σy)²/n)/(n−1)."


def method_notes(
    kind: str = "mean",
    sequential: bool = False,
    cuped: bool = False,
    alpha: float = 0.05,
    *,
    stratify: str | None = None,
    estimand: str = "relative",
) -> str:
    """Markdown describing the method, formulas and assumptions, for the details panel and the report."""
    conf = f"{(1 - alpha) * 100:g}%"
    shown = "relative" if estimand == "relative" else "absolute"
    lines = [
        f"**Method** — {'sequential (safe to peek)' if sequential else 'fixed-horizon'} two-sided tests at "
        f"α = {alpha:g}, with GrowthBook's frequentist estimands.",
        "",
        f"- **Per arm**: {_per_arm(kind)}",
        "- **Absolute lift**: μ_T − μ_C, standard error √(σ²_T/n_T + σ²_C/n_C); its own p-value, `p_value`.",
        "- **Relative lift**: (μ_T − μ_C)/|μ_C|, delta-method variance σ²_T/(μ_C²·n_T) + σ²_C·μ_T²/(μ_C⁴·n_C), and "
        "its own p-value, `rel_p_value` (GrowthBook's test of the relative lift); undefined when the control "
        "mean is 0, where the absolute lift is used instead.",
        f"- **Which one is marked**: the chart and the verdict draw the **{shown}** lift's interval, and the ✓ "
        f"(`significant`) uses the {shown} lift's (adjusted) p-value, so the mark and the interval drawn next "
        "to it always agree. The two p-values can disagree near the threshold; both are in the table.",
    ]
    if sequential:
        lines += [
            f"- **Interval**: a {conf} asymptotic confidence sequence (Howard et al. 2021; Waudby-Smith et al. "
            "2023), half-width σ̂·√(2(Nρ²+1)/(N²ρ²)·ln(√(Nρ²+1)/α)) on the N = n_C + n_T users, "
            f"with ρ tuned for N* = {N_STAR} users as GrowthBook does. It stays valid however often you look.",
            "- **p-values**: always valid, 1/E with the normal-mixture e-value of each lift; larger than the "
            "fixed-horizon p-values — the price of peeking.",
        ]
    else:
        lines += [
            f"- **Interval**: {conf} Welch t interval with Welch–Satterthwaite degrees of freedom.",
            "- **p-values**: Welch t tests of each lift. Valid once, at a sample size fixed in advance; switch "
            "on sequential mode to look repeatedly.",
        ]
    if cuped:
        lines.append(
            "- **CUPED** (GrowthBook's regression adjustment): x is the same metric over the 14 days before "
            "exposure (0/1 for conversion, the count of events for retention); θ = Cov(y, x)/Var(x) over the users of both arms "
            "compared; each arm's adjusted mean is ȳ − θx̄ with variance s²_y + θ²s²_x − 2θ·s_xy. The relative "
            "lift divides the adjusted difference by the *unadjusted* control mean. The means shown stay "
            "unadjusted; the variance reduction reported is 1 − Var(adjusted lift)/Var(unadjusted lift)."
        )
    if stratify:
        lines.append(
            f"- **Post-stratification** by `{stratify}` (GrowthBook's post-stratified estimator): the control "
            "mean and the effect are estimated within each stratum (by regression on x there under CUPED), then "
            "weighted by the strata's shares of all users; the variance adds the multinomial variance of those "
            "shares. Strata too small to stand alone join the largest. Degrees of freedom are those of the "
            "pooled arms. The variance reduction is reported against the plain test."
        )
    lines += [
        "- **Several arms**: each against the control, Holm-adjusted p-values (both lifts); **segments**: "
        "Benjamini–Hochberg.",
        "- **SRM**: χ² test of users per arm against the planned split, flagged at p < 0.001.",
        "- **Bayesian view**: Gaussian approximation of the relative lift (the absolute one when the control mean "
        "is 0), with a flat prior or, when set for the metric, GrowthBook's proper prior N(0, sd²) on the "
        f"relative lift. Chance to win = P(lift > 0), or P(lift < 0) for a lower-is-better metric (costs, "
        "latency); risk = the loss expected from shipping the variant, E[max(0, −lift)] (E[max(0, lift)] when "
        f"lower is better); the {conf} credible interval is the posterior's central interval.",
        "- **Guardrails with a margin** (non-inferiority): a one-sided test that the variant is not worse than "
        f"the margin — it passes when the one-sided {conf} bound of the relative lift clears it (the lower "
        "bound above −margin, or for a lower-is-better metric the upper bound below +margin).",
        "",
        "**Assumptions**: users are independent and randomised; each user is counted once, in the arm of first "
        "exposure; arms are large enough for the central limit theorem (a few hundred users and, for "
        "proportions, at least a handful of conversions per arm).",
    ]
    return "\n".join(lines)

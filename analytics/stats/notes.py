"""Markdown notes on the statistical method (formulas and assumptions) for the details panel and the report."""

from __future__ import annotations

from analytics.stats.sequential import N_STAR


def method_notes(
    kind: str = "mean", sequential: bool = False, cuped: bool = False, alpha: float = 0.05
) -> str:
    """Markdown describing the method, formulas and assumptions, for the details panel and the report."""
    conf = f"{(1 - alpha) * 100:g}%"
    if kind == "proportion":
        per_arm = "Each user counts 1 or 0; an arm's mean is the share p = Σy/n with variance p(1−p)."
    elif kind == "ratio":
        per_arm = (
            "Ratio metric: R = Σy/Σx per arm, with the delta-method variance "
            "n·Var(R) = (s²_y − 2R·s_xy + R²·s²_x)/x̄²."
        )
    else:
        per_arm = "An arm's mean is Σy/n with the sample variance s² = (Σy² − (Σy)²/n)/(n−1)."
    lines = [
        f"**Method** — {'sequential (safe to peek)' if sequential else 'fixed-horizon'} two-sided test at "
        f"α = {alpha:g}, with GrowthBook's frequentist estimands.",
        "",
        f"- **Per arm**: {per_arm}",
        "- **Absolute lift**: μ_T − μ_C, standard error √(σ²_T/n_T + σ²_C/n_C).",
        "- **Relative lift**: (μ_T − μ_C)/|μ_C|, delta-method variance σ²_T/(μ_C²·n_T) + σ²_C·μ_T²/(μ_C⁴·n_C); "
        "undefined when the control mean is 0.",
    ]
    if sequential:
        lines += [
            f"- **Interval**: a {conf} asymptotic confidence sequence (Howard et al. 2021; Waudby-Smith et al. "
            "2023), half-width σ̂·√(2(Nρ²+1)/(N²ρ²)·ln(√(Nρ²+1)/α)) on the N = n_C + n_T users, "
            f"with ρ tuned for N* = {N_STAR} users as GrowthBook does. It stays valid however often you look.",
            "- **p-value**: always valid, 1/E with the normal-mixture e-value; it is larger than the fixed-horizon "
            "p-value — the price of peeking.",
        ]
    else:
        lines += [
            f"- **Interval**: {conf} Welch t interval with Welch–Satterthwaite degrees of freedom.",
            "- **p-value**: Welch t test of the absolute difference. Valid once, at a sample size fixed in "
            "advance; switch on sequential mode to look repeatedly.",
        ]
    if cuped:
        lines.append(
            "- **CUPED**: y is replaced by y − θ(x − x̄), x the same metric over the pre-exposure window, "
            "θ = Cov(Y, X)/Var(X) pooled within arms. This keeps the estimate unbiased and removes the share ρ² "
            "of the variance that the pre-period explains."
        )
    lines += [
        "- **Several arms**: each against the control, Holm-adjusted p-values; **segments**: Benjamini–Hochberg.",
        "- **SRM**: χ² test of users per arm against the planned split, flagged at p < 0.001.",
        "- **Bayesian view**: flat prior, Gaussian approximation of the relative lift → chance to beat control "
        "P(lift > 0) and expected loss E[max(0, −lift)].",
        "",
        "**Assumptions**: users are independent and randomised; each user is counted once, in the arm of first "
        "exposure; arms are large enough for the central limit theorem (a few hundred users and, for "
        "proportions, at least a handful of conversions per arm).",
    ]
    return "\n".join(lines)

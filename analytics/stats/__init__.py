"""Statistics on per-arm sufficient statistics: Welch and sequential tests, CUPED, post-stratification, quantiles,
the Bayesian view, non-inferiority guardrails, SRM, power, multiple tests."""

import lazy_loader

# Names load on first use (PEP 562): `python -m analytics --help` stays fast, and a caller pays only for
# the modules it uses. Every public name of the package is listed here.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submodules=[
        "bayes",
        "comparison",
        "covariates",
        "guardrail",
        "moments",
        "multitest",
        "notes",
        "poststrat",
        "power",
        "quantile",
        "sample_ratio",
        "sequential",
    ],
    submod_attrs={
        "bayes": ["GaussianPrior", "Posterior", "gaussian_risk", "posterior"],
        "comparison": ["Comparison", "Estimand", "adjust", "compare", "welch_arrays"],
        "covariates": ["AdjustedArm", "adjust_arm", "theta"],
        "guardrail": ["GuardrailCheck", "noninferiority"],
        "moments": [
            "KINDS",
            "Kind",
            "Moments",
            "arm_mean_var",
            "check_moments",
            "covariance",
            "variance",
            "winsorize_caps",
        ],  # fmt: skip
        "multitest": ["benjamini_hochberg", "holm"],
        "notes": ["method_notes"],
        "poststrat": ["StratifiedEffect", "post_stratify"],
        "power": ["lift_variance", "mde", "power_at", "sample_size_per_arm"],
        "quantile": ["ClusterSums", "QuantileMoments", "min_values", "quantile_levels"],
        "sample_ratio": ["SRM_THRESHOLD", "SrmResult", "srm"],
        "sequential": ["N_STAR", "always_valid_p", "halfwidth_multiplier", "sequential_rho"],
    },
)

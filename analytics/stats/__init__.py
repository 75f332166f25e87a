"""Statistics on per-arm sufficient statistics: Welch and sequential tests, SRM, CUPED, power, multiple tests."""

import lazy_loader

# Names load on first use (PEP 562): `python -m analytics --help` stays fast, and a caller pays only for
# the modules it uses. Every public name of the package is listed here.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submodules=[
        "comparison",
        "covariates",
        "moments",
        "multitest",
        "notes",
        "power",
        "sample_ratio",
        "sequential",
    ],
    submod_attrs={
        "comparison": ["Comparison", "adjust", "compare", "welch_arrays"],
        "covariates": ["cuped"],
        "moments": ["KINDS", "Kind", "Moments", "arm_mean_var", "check_arm", "winsorize_caps"],
        "multitest": ["benjamini_hochberg", "holm"],
        "notes": ["method_notes"],
        "power": ["mde", "power_at", "sample_size_per_arm"],
        "sample_ratio": ["SRM_THRESHOLD", "SrmResult", "srm"],
        "sequential": ["N_STAR", "always_valid_p", "halfwidth_multiplier", "sequential_rho"],
    },
)

"""Drift: a reference window against later chunks of the predictions log, feature by feature, with alerts."""

import lazy_loader

# Names load on first use (PEP 562): `python -m analytics --help` stays fast, and a caller pays only for
# the modules it uses. Every public name of the package is listed here.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submodules=["compute", "model", "sql", "stats"],
    submod_attrs={
        "compute": ["MAX_CHUNKS", "MAX_NEW_CATEGORIES", "TOP_CATEGORIES", "compute_drift"],
        "model": [
            "Alert",
            "Chunk",
            "ChunkDrift",
            "DEFAULT_THRESHOLDS",
            "DriftReport",
            "DriftSettings",
            "FeatureDrift",
            "METHODS",
            "METHOD_NAMES",
            "METHOD_UNITS",
            "REFERENCE_DAYS",
            "method_name",
            "parse_chunk",
            "parse_reference",
            "validate",
        ],
        "sql": [
            "ColumnPlan",
            "Counts",
            "MAX_CATEGORIES",
            "MAX_DISCRETE",
            "NumericStats",
            "OUTCOME_NAME",
            "QUANTILE_ROWS",
            "ReferenceStats",
            "classify_columns",
            "fetch_counts",
            "fetch_reference_stats",
            "log_range",
        ],
        "stats": [
            "FINE_PROBS",
            "KS_EXACT_N",
            "PSI_EPSILON",
            "chi2_p",
            "js_distance",
            "ks_binned",
            "learned_threshold",
            "psi",
            "two_proportion_p",
            "wasserstein_binned",
        ],
    },
)

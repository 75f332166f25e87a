"""Experiments: the metric language, its one-pass SQL, the analysis against the control, curves and verdicts."""

import lazy_loader

# Names load on first use (PEP 562): `python -m analytics --help` stays fast, and a caller pays only for
# the modules it uses. Every public name of the package is listed here.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submodules=["analysis", "arms", "curves", "power", "results", "spec", "sql", "verdict"],
    submod_attrs={
        "analysis": ["analyze", "compare_metric", "run_moments"],
        "arms": [
            "CONTROL_NAMES",
            "ControlChoice",
            "ControlReason",
            "ExperimentConfig",
            "choose_control",
            "data_end",
            "default_control",
            "experiment_arms",
            "experiment_config",
            "multi_variant_users",
            "resolve_arms",
        ],
        "curves": ["LiftCurve", "LiftPoint", "RetentionPoint", "cumulative_lift", "retention_curve"],
        "power": ["PowerInputs", "PowerPlan", "power_inputs", "power_plan"],
        "results": ["ArmStats", "ExperimentResult", "MetricResult", "SegmentResult"],
        "spec": [
            "DAY",
            "DEFAULT_WINDOW",
            "KINDS",
            "MetricKind",
            "MetricSpec",
            "PRE_WINDOW",
            "check_names",
            "parse_metric",
            "parse_metrics",
            "parse_window",
            "window_text",
        ],
        "sql": ["MomentsQuery", "Segment", "moments_sql", "resolve_segment"],
        "verdict": [
            "arm_name",
            "bayesian_sentence",
            "cuped_sentences",
            "delta",
            "headline",
            "interval_width",
            "metric_sentences",
            "not_enough_data",
            "p_text",
            "percent",
            "sentence",
            "srm_sentence",
            "value",
        ],
    },
)

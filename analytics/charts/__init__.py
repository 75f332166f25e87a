"""Plotly figures: pure functions from result objects to figures, one module per topic."""

import lazy_loader

# Names load on first use (PEP 562): `python -m analytics --help` stays fast, and a caller pays only for
# the modules it uses. Every public name of the package is listed here.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submodules=["cost", "drift", "experiments", "feedback", "theme"],
    submod_attrs={
        "cost": [
            "budget_chart",
            "cost_curve",
            "cost_per_user_by_model",
            "latency_over_time",
            "unit_economics_chart",
        ],
        "drift": ["distribution_overlay", "heatmap", "missing_over_time", "score_label", "score_over_time"],
        "experiments": ["cumulative_lift_chart", "lift_intervals", "retention_chart", "segment_intervals"],
        "feedback": ["agreement", "rate_by_group", "rate_over_time", "tag_mix"],
        "theme": ["ALERT", "CONTROL", "NEUTRAL", "PALETTE", "label", "plain_text", "style", "variant_colors"],
    },
)

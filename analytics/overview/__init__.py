"""The Overview: per experiment, the evidence from every engine, the five-stage ladder and the founder's report."""

import lazy_loader

# Names load on first use (PEP 562): `python -m analytics --help` stays fast, and a caller pays only for
# the modules it uses. Every public name of the package is listed here.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submodules=["evidence", "report", "stages"],
    submod_attrs={
        "evidence": [
            "Card",
            "CardStatus",
            "DEFAULT_SEGMENT",
            "ExperimentEvidence",
            "ExperimentOverview",
            "Overview",
            "ReviewedEvidence",
            "SEGMENT_KEY",
            "SharedEvidence",
            "THRESHOLDS_KEY",
            "build",
            "compose",
            "experiment_evidence",
            "experiment_overview",
            "reviewed_evidence",
            "save_thresholds",
            "shared_evidence",
            "thresholds",
        ],
        "report": ["Report", "build_report", "write_report"],
        "stages": ["Evidence", "Ladder", "Rule", "STAGES", "Stage", "Thresholds", "ladder"],
    },
)

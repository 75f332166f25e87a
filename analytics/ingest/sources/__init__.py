"""Tool exports (PostHog, Amplitude, Mixpanel, Segment, GA4) loaded as events + assignments by each tool's convention."""

import lazy_loader

# Names load on first use (PEP 562), as in the other packages. Every public name of the package is listed here.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submodules=[
        "amplitude",
        "exposures",
        "files",
        "flatten",
        "ga4",
        "issues",
        "load",
        "mixpanel",
        "money",
        "posthog",
        "read",
        "registry",
        "report",
        "segment",
        "spec",
    ],  # fmt: skip
    submod_attrs={
        "exposures": ["ExperimentFound", "ExposureCounts"],
        "files": ["ExportFile", "inspect"],
        "read": ["ReadColumn"],
        "load": ["load_export", "validate_export"],
        "money": ["ValueUnit", "value_unit"],
        "registry": ["SOURCES", "get_source", "identify", "suggest"],
        "report": ["ExportFileReport", "ExportLoadResult", "ExportReport"],
        "spec": ["TOOLS", "Container", "Source"],
    },
)

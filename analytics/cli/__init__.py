"""The command line (`python -m analytics COMMAND`): one module of commands per topic."""

import lazy_loader

# Names load on first use (PEP 562): `python -m analytics --help` stays fast, and a caller pays only for
# the modules it uses. Every public name of the package is listed here.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submodules=[
        "access",
        "cost",
        "data",
        "drift",
        "entry",
        "experiments",
        "exports",
        "feedback",
        "power",
        "report",
        "spark",
    ],
    submod_attrs={
        "entry": ["build_parser", "main"],
    },
)

"""Helpers for the real-shaped file tests: run the CLI in-process, and check results against scipy/statsmodels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats import proportion as smp

from analytics.cli import main

TOL = 1e-9


def cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """Run `python -m analytics ARGS` in-process: (exit code, stdout, stderr)."""
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:  # argparse refusing an argument
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def cli_json(capsys: pytest.CaptureFixture[str], *args: str | Path) -> dict[str, Any]:
    code, out, err = cli(capsys, *args, "--json")
    assert code == 0, (code, out, err)
    return json.loads(out)


def load(capsys, db: Path, path: Path, kind: str, *extra: str) -> dict[str, Any]:
    return cli_json(capsys, "load", path, "--kind", kind, "--db", db, *extra)


def analyze(capsys, db: Path, experiment: str, *extra: str) -> dict[str, Any]:
    return cli_json(capsys, "analyze", "--experiment", experiment, "--db", db, *extra)


def metric(doc: dict[str, Any], spec: str) -> dict[str, Any]:
    return next(m for m in doc["metrics"] if m["spec"] == spec)


def close(a: float, b: float) -> None:
    assert a == pytest.approx(b, rel=TOL, abs=1e-12)


def check_welch(comp: dict[str, Any], control: np.ndarray, variant: np.ndarray, alpha: float = 0.05) -> None:
    """A mean comparison equals scipy's Welch test on the same per-user values."""
    ref = sps.ttest_ind(variant, control, equal_var=False)
    ci = ref.confidence_interval(1 - alpha)
    close(comp["abs_lift"], variant.mean() - control.mean())
    close(comp["p_value"], ref.pvalue)
    close(comp["abs_ci"][0], ci.low)
    close(comp["abs_ci"][1], ci.high)
    close(comp["df"], ref.df)
    assert comp["n_baseline"] == len(control) and comp["n_variant"] == len(variant)


def check_proportion(comp: dict[str, Any], control: np.ndarray, variant: np.ndarray) -> None:
    """A proportion comparison: statsmodels' two-proportion Wald statistic, and the p-value of Welch's t test
    on the same 0/1 values with the per-arm variance p(1−p) (GrowthBook's estimand), from scipy."""
    xc, nc, xt, nt = int(control.sum()), len(control), int(variant.sum()), len(variant)
    assert comp["n_baseline"] == nc and comp["n_variant"] == nt
    pc, pt = xc / nc, xt / nt
    wald = smp.test_proportions_2indep(xt, nt, xc, nc, method="wald", compare="diff")
    close(comp["abs_lift"], pt - pc)
    close(comp["abs_lift"] / comp["se"], wald.statistic)
    ref = sps.ttest_ind_from_stats(
        pt, np.sqrt(pt * (1 - pt)), nt, pc, np.sqrt(pc * (1 - pc)), nc, equal_var=False
    )
    close(comp["p_value"], ref.pvalue)

"""The founder's report: self-contained, deterministic, escaped, and equal to the engine's numbers."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from analytics import experiments
from analytics.errors import LiftboardError
from analytics.experiments import verdict
from analytics.ingest import build_demo
from analytics.overview import build_report, write_report
from analytics.workspace import Workspace, open_workspace

WHEN = datetime(2026, 11, 25, 12, 0)


@pytest.fixture(scope="module")
def report_html(demo_ws: Workspace) -> str:
    return build_report(demo_ws, "ai_recs", generated_at=WHEN).html


def test_sections_and_self_contained(report_html: str) -> None:
    for heading in ("Verdict", "Lift by metric", "Cumulative lift", "Cost, stability", "From MVP to scale",
                    "Method", "Data provenance"):  # fmt: skip
        assert f"<h2>{heading}" in report_html
    # Nothing is fetched: no external script, stylesheet, font or image.
    assert not re.search(r"""<(script|link|img|iframe)[^>]+(src|href)=["']?https?:""", report_html)
    assert "@import" not in report_html and "fonts.googleapis" not in report_html
    assert "@media print" in report_html and "@page" in report_html
    assert "generated 2026-11-25 12:00 UTC" in report_html


def test_numbers_equal_the_engine(demo_ws: Workspace, report_html: str) -> None:
    res = experiments.analyze(demo_ws, "ai_recs", ["conversion:purchase:7d"], control="control")
    c = res.metrics[0].comparisons[0]
    spec = res.metrics[0].spec
    lift = f"{verdict.delta(spec, c.abs_lift)} ({verdict.delta(spec, c.abs_ci[0])} to {verdict.delta(spec, c.abs_ci[1])})"
    assert lift in report_html
    assert f"{c.p_value:.3g}" in report_html
    assert f"ai: {res.exposed['ai']:,}" in report_html


def test_deterministic_but_for_the_date(demo_ws: Workspace, report_html: str) -> None:
    again = build_report(demo_ws, "ai_recs", generated_at=datetime(2027, 1, 1)).html
    assert again.replace("2027-01-01 00:00", "2026-11-25 12:00") == report_html


def test_bad_requests(demo_ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(LiftboardError, match="no experiment 'nope'.*ai_recs, model_size"):
        build_report(demo_ws, "nope")
    with pytest.raises(LiftboardError, match="does not exist"):
        write_report(demo_ws, "ai_recs", tmp_path / "missing" / "r.html")
    with pytest.raises(LiftboardError, match="is a directory"):
        write_report(demo_ws, "ai_recs", tmp_path)


def test_hostile_experiment_name_is_escaped(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    build_demo(path, users=3_000, seed=5)
    evil = '<script>alert("x")</script>&<img src=x onerror=alert(1)>'
    ws = open_workspace(path)
    try:
        ws.con.execute("UPDATE assignments SET experiment = ? WHERE experiment = 'ai_recs'", [evil])
        ws.set_setting(f"experiment:{evil}", ws.get_setting("experiment:ai_recs"))
        html = build_report(ws, evil).html
    finally:
        ws.close()
    assert evil not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "<img src=x" not in html


def test_cli_writes_the_report(demo_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    run = subprocess.run(
        [sys.executable, "-m", "analytics", "report", "--experiment", "ai_recs", "--out", str(out), "--db",
         str(demo_path), "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert out.stat().st_size > 1_000_000  # plotly's JavaScript is embedded
    bad = subprocess.run(
        [sys.executable, "-m", "analytics", "report", "--experiment", "nope", "--out", str(out), "--db",
         str(demo_path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert bad.returncode == 2 and bad.stderr.startswith("error: There is no experiment 'nope'")
    assert "Traceback" not in bad.stderr


def test_the_report_analyses_the_experiment_once(demo_ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """Formerly three passes (the Overview's primary+cost, the segment check, then every metric again); now
    one analysis of every configured metric feeds cards, verdict and table, plus the segment bias check."""
    import analytics.experiments.analysis as analysis

    calls: list[bool] = []
    real = analysis.run_moments

    def counted(*args, **kwargs):
        calls.append(kwargs.get("segment") is not None)
        return real(*args, **kwargs)

    monkeypatch.setattr(analysis, "run_moments", counted)
    build_report(demo_ws, "ai_recs")
    assert calls == [False, True]

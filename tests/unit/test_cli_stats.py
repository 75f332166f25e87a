"""The `power` command: sample size and MDE from the command line, with plain errors."""

from __future__ import annotations

import json

import pytest

from analytics.cli import main


def test_power_command_sample_size_and_mde(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["power", "--baseline", "0.10", "--mde", "0.05", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["users_per_arm"] == 56_512 and doc["baseline_variance"] == pytest.approx(0.09)
    assert main(["power", "--baseline", "0.10", "--users", "10000"]) == 0
    assert "smallest detectable lift is 11.89% relative" in capsys.readouterr().out
    assert main(["power", "--baseline", "4.2", "--variance", "90", "--mde", "0.03", "--json"]) == 0
    assert (
        json.loads(capsys.readouterr().out)["users_per_arm"] == 88_990
    )  # 2·90·(z₀.₉₇₅ + z₀.₈)²/(0.03·4.2)² = 88,989.6


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["power", "--baseline", "0.1"], "exactly one of --mde"),
        (["power", "--baseline", "4.2", "--mde", "0.05"], "--variance"),
        (["power", "--baseline", "0.1", "--users", "1"], "At least 2 users"),
        (["power", "--baseline", "0.1", "--mde", "0.05", "--power", "2"], "power must be between"),
    ],
)
def test_power_command_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1

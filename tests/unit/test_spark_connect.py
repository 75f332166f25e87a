"""The engines over Spark Connect: a real Connect server on a loopback port, reached with sc:// as a user would."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from analytics import cost, experiments
from analytics.errors import LiftboardError
from analytics.workspace import Workspace
from analytics.workspace.spark import (
    SparkSettings,
    SparkWorkspace,
    open_configured,
    open_spark_workspace,
    stop_sessions,
)
from tests.support.spark import ALL_KINDS, KINDS, assert_same

pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")
SERVER = "org.apache.spark.sql.connect.service.SparkConnectServer"  # what sbin/start-connect-server.sh runs


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def connect_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Spark Connect server (pyspark's own jars, local[2]) bound to a free loopback port; stopped afterwards."""
    import pyspark

    # pyspark refuses a Connect session while a local-mode session runs in the same process.
    stop_sessions()
    home = Path(pyspark.__file__).parent
    scratch = tmp_path_factory.mktemp("connect")
    port = _free_port()
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": sys.executable,
    }
    env.pop("PYSPARK_SUBMIT_ARGS", None)  # the local-mode driver's options, not the server's
    conf = {
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(port),
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.enabled": "false",
        "spark.sql.shuffle.partitions": "2",
        "spark.sql.warehouse.dir": str(scratch / "warehouse"),
    }
    cmd = [str(home / "bin" / "spark-submit"), "--class", SERVER, "--name", "liftboard-test-connect"]
    cmd += ["--master", "local[2]", "--driver-memory", "1g"]
    for key, value in conf.items():
        cmd += ["--conf", f"{key}={value}"]
    log_path = scratch / "server.log"
    saved = {k: os.environ.get(k) for k in ("SPARK_CONNECT_MODE_ENABLED", "SPARK_REMOTE")}
    with log_path.open("wb") as log:
        server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=scratch)
        try:
            deadline = time.monotonic() + 240
            while not _listening(port):
                if server.poll() is not None:
                    tail = log_path.read_text(errors="replace")[-2000:]
                    pytest.fail(f"The Spark Connect server exited with {server.returncode}:\n{tail}")
                if time.monotonic() > deadline:
                    pytest.fail(f"The Spark Connect server did not listen on port {port} within 240 s.")
                time.sleep(0.5)
            yield f"sc://127.0.0.1:{port}"
        finally:
            stop_sessions()
            for key, value in saved.items():  # pyspark marks the process as a Connect client; undo it
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            server.terminate()
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _tables(lake: Path) -> dict[str, str]:
    return {k: str(lake / f"{k}.parquet") for k in KINDS}


@pytest.fixture(scope="module")
def remote(connect_url: str, lake: Path) -> Iterator[SparkWorkspace]:
    """The app's workspace with ``[spark] connect_url`` in its secrets: the path ``pages/_ui.py`` takes."""
    local = lake / "connect-local.duckdb"
    local.write_bytes((lake / "local.duckdb").read_bytes())
    ws = open_configured(local, {"connect_url": connect_url, "tables": _tables(lake)})
    assert isinstance(ws, SparkWorkspace) and ws.describe == connect_url
    assert type(ws.spark).__module__.startswith("pyspark.sql.connect")  # a Connect client, not local mode
    yield ws
    ws.close()


def test_analyze_and_cost_over_connect_match(remote: SparkWorkspace, duck: Workspace) -> None:
    a = experiments.analyze(remote, "ai_recs", ALL_KINDS, sequential=True)
    b = experiments.analyze(duck, "ai_recs", ALL_KINDS, sequential=True)
    assert_same(a.to_dict(), b.to_dict())
    assert sum(b.exposed.values()) > 1000
    assert_same(cost.load_costs(remote, exact=True), cost.load_costs(duck, exact=True))


def test_feedback_items_over_connect(remote: SparkWorkspace, duck: Workspace) -> None:
    from analytics import feedback as fb

    flt = fb.FeedbackFilter(experiment="ai_recs")
    assert_same(fb.summary(remote, flt), fb.summary(duck, flt))  # the item table came back as Arrow over gRPC
    assert_same(fb.queue(remote, flt, limit=10), fb.queue(duck, flt, limit=10))


def test_cli_flag_over_connect(
    connect_url: str, remote: SparkWorkspace, lake: Path, capsys: pytest.CaptureFixture
) -> None:
    from analytics.cli import main

    def run(argv: list[str]) -> dict[str, Any]:
        assert main(argv) == 0
        return json.loads(capsys.readouterr().out)

    flags = ["--spark-connect", connect_url]
    for kind, path in _tables(lake).items():
        flags += ["--spark-table", f"{kind}={path}"]
    analyze = ["analyze", "--experiment", "ai_recs", "--metric", "retention:7d", "--json"]
    ours = run([*analyze, "--db", str(lake / "local.duckdb"), *flags])
    assert_same(ours, run([*analyze, "--db", str(lake / "demo.duckdb")]))
    assert_same(run(["cost", "--json", "--db", str(lake / "local.duckdb"), *flags]),
                run(["cost", "--json", "--db", str(lake / "demo.duckdb")]))  # fmt: skip


def test_connect_errors_are_one_sentence(remote: SparkWorkspace, lake: Path) -> None:
    with pytest.raises(LiftboardError) as err:
        remote.query("SELECT no_such_column FROM events")
    msg = str(err.value)
    assert msg.startswith("Spark could not compute ") and "no_such_column" in msg
    assert "\n" not in msg and "JVM" not in msg and "org.apache" not in msg and "grpc" not in msg.lower()
    with pytest.raises(LiftboardError, match=r"^Spark could not compute the top cost users: .*limit"):
        cost.top_users(remote, limit=-1)
    # Nobody listening: one sentence at once, not the client's ten minutes of retries.
    nobody = f"sc://127.0.0.1:{_free_port()}"
    started = time.monotonic()
    with pytest.raises(
        LiftboardError, match=r"^Spark Connect at 127\.0\.0\.1:\d+ is not reachable \(.+\); check"
    ):
        open_spark_workspace(lake / "x.duckdb", SparkSettings(tables=_tables(lake), connect_url=nobody))
    assert time.monotonic() - started < 10

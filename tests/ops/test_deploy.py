"""The nightly schedule: a real Prefect server, `dealersync deploy` serving the flow, a run it starts."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from ops_helpers import TODAY, copy_inbox

from dealersync.warehouse.db import connect

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect")]

DEALERSYNC = str(Path(sys.executable).with_name("dealersync"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def clean_env(**extra) -> dict[str, str]:
    """This environment without any DEALERSYNC_ or PREFECT_ setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEALERSYNC_", "PREFECT_"))}
    return env | {"PREFECT_SERVER_ANALYTICS_ENABLED": "false"} | extra


def wait_for(check, seconds: float, what: str):
    """The first truthy value of `check()` within `seconds` (exceptions count as not yet)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if value := check():
                return value
        except Exception:
            pass
        time.sleep(1)
    pytest.fail(f"gave up waiting for {what}")


def stop(process: subprocess.Popen, seconds: float = 60) -> None:
    """SIGTERM to the process and its children; SIGKILL if it does not stop in time."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def test_deploy_serves_the_nightly_flow_on_its_schedule_and_a_triggered_run_loads_the_inbox(
    sample_inbox, tmp_path
):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = clean_env(PREFECT_HOME=str(tmp_path / "prefect"))
    data = tmp_path / "data"
    copy_inbox(sample_inbox, data / "inbox")
    logs = (tmp_path / "server.log").open("w"), (tmp_path / "deploy.log").open("w")
    server = subprocess.Popen(
        [DEALERSYNC, "prefect-server", "--port", str(port)],
        env=env,
        stdout=logs[0],
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for(lambda: httpx.get(f"{url}/health", timeout=5).status_code == 200, 240, "the Prefect server")
        deployer = subprocess.Popen(
            [DEALERSYNC, "deploy"],
            env=env
            | {
                "PREFECT_API_URL": url,
                "DEALERSYNC_DATA_DIR": str(data),
                "DEALERSYNC_TASK_RUNNER": "thread",
                "DEALERSYNC_SETTLE_SECONDS": "0",  # the inbox was written just now
            },
            stdout=logs[1],
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            with temporary_settings(updates={PREFECT_API_URL: url}), get_client(sync_client=True) as client:
                deployment = wait_for(
                    lambda: client.read_deployment_by_name("nightly/nightly"), 180, "the deployment"
                )
                (schedule,) = deployment.schedules
                assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 2 * * *", "Asia/Shanghai")
                assert schedule.active and not deployment.paused
                assert deployment.parameters["warehouse"] == str(data / "warehouse.duckdb")
                run = client.create_flow_run_from_deployment(
                    deployment.id, parameters={"today": TODAY.isoformat()}
                )
                state = wait_for(
                    lambda: (s := client.read_flow_run(run.id).state) and s.is_final() and s, 420, "the run"
                )
                assert state.is_completed(), state.message
        finally:
            stop(deployer)
        with temporary_settings(updates={PREFECT_API_URL: url}), get_client(sync_client=True) as client:
            assert client.read_deployment(deployment.id).paused, "a stopped deploy pauses its schedule"
    finally:
        stop(server)
        for log in logs:
            log.close()
    con = connect(data / "warehouse.duckdb", read_only=True)
    runs = con.execute("SELECT status, as_of, flow_run_id FROM etl.runs").fetchall()
    visits = con.execute("SELECT count(*) FROM core.service_visits").fetchall()[0][0]
    con.close()
    assert runs == [("succeeded", TODAY, str(run.id))]
    assert visits > 0


def test_deploy_without_a_server_says_how_to_start_one(tmp_path):
    env = clean_env(PREFECT_HOME=str(tmp_path / "prefect"), DEALERSYNC_DATA_DIR=str(tmp_path))
    (tmp_path / "inbox").mkdir()
    none = subprocess.run([DEALERSYNC, "deploy"], env=env, capture_output=True, text=True, timeout=300)
    closed = subprocess.run(
        [DEALERSYNC, "deploy"],
        env=env | {"PREFECT_API_URL": f"http://127.0.0.1:{free_port()}/api"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    for result in (none, closed):
        message = " ".join(result.stderr.split())
        assert result.returncode == 2, result.stderr
        assert "dealersync prefect-server" in message and "PREFECT_API_URL" in message
        assert "Traceback" not in result.stderr
    assert "none is configured" in " ".join(none.stderr.split())
    assert "no Prefect server answers" in " ".join(closed.stderr.split())

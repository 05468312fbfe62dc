"""A run killed by a signal (kill, timeout, a scheduler giving up) stops its temporary Prefect server too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ops_helpers import TODAY, copy_inbox

from dealersync.warehouse.lock import warehouse_lock

pytestmark = pytest.mark.slow


def children(pid: int) -> list[int]:
    listed = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(child) for child in listed.stdout.split()]


def test_a_run_stopped_with_sigterm_leaves_no_server_behind(sample_inbox, tmp_path):
    """Prefect ends a flow's process on SIGTERM by sending it again under the handler it found."""
    copy_inbox(sample_inbox, tmp_path / "inbox")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEALERSYNC_", "PREFECT_API_URL"))}
    env |= {"DEALERSYNC_DATA_DIR": str(tmp_path), "DEALERSYNC_SETTLE_SECONDS": "0"}  # its own server
    env |= {"DEALERSYNC_LOCK_TIMEOUT_SECONDS": "300", "PREFECT_LOGGING_LEVEL": "INFO"}
    env |= {"PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    log = tmp_path / "run.log"
    command = [str(Path(sys.executable).with_name("dealersync")), "run", "--today", TODAY.isoformat()]
    # The run waits for this lock in Python (not inside a DuckDB query, which a signal merely interrupts).
    with warehouse_lock(tmp_path / "warehouse.duckdb", what="the test"), log.open("w") as stream:
        run = subprocess.Popen(command, env=env, stdout=stream, stderr=subprocess.STDOUT)
        server: list[int] = []
        try:
            deadline = time.monotonic() + 180
            while "Beginning flow run" not in log.read_text() and time.monotonic() < deadline:
                assert run.poll() is None, log.read_text()
                time.sleep(0.2)
            time.sleep(1)  # waiting for the lock
            server += children(run.pid)
            assert server, "the run started no server"
            run.send_signal(signal.SIGTERM)
            assert run.wait(120) == 128 + signal.SIGTERM, log.read_text()[-3000:]
            time.sleep(1)
            assert [pid for pid in server if Path(f"/proc/{pid}").exists()] == [], log.read_text()[-2000:]
        finally:  # nothing of the test outlives it, whatever happened
            if run.poll() is None:
                run.kill()
            for pid in server:
                if Path(f"/proc/{pid}").exists():
                    os.kill(pid, signal.SIGKILL)

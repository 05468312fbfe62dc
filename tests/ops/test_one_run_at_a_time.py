"""Two runs on one warehouse: one loads, the other stops with a clear message (or waits), nothing twice."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from holders import warehouse_held
from ops_helpers import TODAY, copy_inbox

from dealersync.flows.nightly import nightly, task_runner_for
from dealersync.flows.reporting import listening
from dealersync.settings import get_settings
from dealersync.warehouse.db import connect, open_warehouse

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect")]


def cli_run(folder: Path, **settings) -> subprocess.Popen:
    """`dealersync run` in its own process on the same warehouse, reporting to the tests' Prefect server."""
    from prefect.settings import PREFECT_API_URL

    env = {k: v for k, v in os.environ.items() if not k.startswith("DEALERSYNC_")}
    env |= {"PREFECT_API_URL": PREFECT_API_URL.value(), "DEALERSYNC_DATA_DIR": str(folder)}
    env |= {"DEALERSYNC_TASK_RUNNER": "thread", "DEALERSYNC_SETTLE_SECONDS": "0"} | {
        f"DEALERSYNC_{k.upper()}": str(v) for k, v in settings.items()
    }
    command = [str(Path(sys.executable).with_name("dealersync")), "run", "--today", TODAY.isoformat()]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class HeldNight:
    """The nightly flow in a thread of the test, held after loading its first file until released."""

    def __init__(self, folder: Path, monkeypatch):
        monkeypatch.setenv("DEALERSYNC_DATA_DIR", str(folder))
        monkeypatch.setenv("DEALERSYNC_TASK_RUNNER", "thread")
        self.holding, self.release = threading.Event(), threading.Event()
        self.result = None
        self.thread = threading.Thread(target=self._run, args=(folder,))

    def _hold(self, event, file_name, files):
        if event == "loaded" and not self.holding.is_set():
            self.holding.set()
            self.release.wait(600)

    def _run(self, folder):
        with listening(self._hold):
            self.result = nightly.with_options(task_runner=task_runner_for(get_settings()))(
                inbox=folder / "inbox", warehouse=folder / "warehouse.duckdb", today=TODAY
            )

    def __enter__(self):
        self.thread.start()
        assert self.holding.wait(300), "the night never loaded a file"
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.thread.join(600)


def loads(warehouse: Path) -> tuple[int, list[tuple[str, int]]]:
    """Runs recorded, and every file content loaded more than once (none, if all is well)."""
    con = connect(warehouse, read_only=True)
    try:
        runs = con.execute("SELECT count(*) FROM etl.runs").fetchall()[0][0]
        twice = con.execute(
            "SELECT sha256, count(*) FROM etl.files WHERE status = 'loaded' GROUP BY 1 HAVING count(*) > 1"
        ).fetchall()
        return runs, twice
    finally:
        con.close()


def test_a_second_run_while_one_loads_stops_with_a_clear_message(
    sample_inbox, tmp_path, monkeypatch, prefect_harness
):
    copy_inbox(sample_inbox, tmp_path / "inbox")
    with HeldNight(tmp_path, monkeypatch) as first:
        second = cli_run(tmp_path)
        _, err = second.communicate(timeout=300)
    assert second.returncode == 3, err
    assert "in use by the nightly run as of 2026-11-20" in " ".join(err.split())
    assert "nothing was done" in " ".join(err.split())
    assert "Traceback" not in err
    assert first.result is not None and {f.status for f in first.result.files} == {"loaded", "refused"}
    assert loads(tmp_path / "warehouse.duckdb") == (1, [])


def test_a_second_run_told_to_wait_loads_nothing_twice(sample_inbox, tmp_path, monkeypatch, prefect_harness):
    copy_inbox(sample_inbox, tmp_path / "inbox")
    with HeldNight(tmp_path, monkeypatch) as first:
        second = cli_run(tmp_path, lock_timeout_seconds=600)
        try:
            second.wait(timeout=8)  # it cannot finish while the first holds the warehouse
            pytest.fail(f"the second run did not wait: {second.communicate()}")
        except subprocess.TimeoutExpired:
            pass
    _, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    assert first.result is not None
    assert loads(tmp_path / "warehouse.duckdb") == (2, [])
    con = connect(tmp_path / "warehouse.duckdb", read_only=True)
    assert con.execute("SELECT files_seen FROM etl.runs ORDER BY run_id").fetchall() == [(6,), (0,)]
    con.close()


def test_a_run_waits_for_a_reader_to_let_go_of_the_warehouse(sample_inbox, tmp_path, prefect_harness):
    """A portal page or an analyst's query holding the file read-only at 02:00 delays the night, not fails it."""
    copy_inbox(sample_inbox, tmp_path / "inbox")
    warehouse = tmp_path / "warehouse.duckdb"
    open_warehouse(warehouse).close()
    with warehouse_held(warehouse, read_only=True):
        night = cli_run(tmp_path)
        try:
            night.wait(timeout=8)
            pytest.fail(f"the night did not wait for the reader: {night.communicate()}")
        except subprocess.TimeoutExpired:
            pass
    _, err = night.communicate(timeout=300)
    assert night.returncode == 1, err  # loaded, with the sample's refused file and rejected rows
    assert "Traceback" not in err
    assert loads(warehouse) == (1, [])

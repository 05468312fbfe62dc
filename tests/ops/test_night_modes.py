"""The nightly flow gives the same warehouse in threads, in a process pool and on a Dask cluster."""

from __future__ import annotations

import pytest
from ops_helpers import TODAY, copy_inbox, warehouse_digest

from dealersync.flows.nightly import nightly, task_runner_for
from dealersync.flows.reporting import listening
from dealersync.settings import get_settings

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect")]


def night_in(mode: str, sample_inbox, folder, monkeypatch, **settings):
    """One night over a copy of the sample inbox with the task runner `mode`; (result, progress events)."""
    monkeypatch.setenv("DEALERSYNC_DATA_DIR", str(folder))
    monkeypatch.setenv("DEALERSYNC_TASK_RUNNER", mode)
    for name, value in settings.items():
        monkeypatch.setenv(f"DEALERSYNC_{name.upper()}", str(value))
    inbox = copy_inbox(sample_inbox, folder / "inbox")
    events = []
    with listening(lambda event, file_name, files: events.append((event, file_name))):
        result = nightly.with_options(task_runner=task_runner_for(get_settings()))(
            inbox=inbox, warehouse=folder / "warehouse.duckdb", today=TODAY
        )
    return result, events


@pytest.fixture(scope="module")
def single_process(sample_inbox, tmp_path_factory, prefect_harness):
    """The reference night: reading and checking in threads of the flow's own process."""
    folder = tmp_path_factory.mktemp("thread")
    with pytest.MonkeyPatch.context() as monkeypatch:
        result, events = night_in("thread", sample_inbox, folder, monkeypatch)
    return result, events, warehouse_digest(folder / "warehouse.duckdb")


def test_the_single_process_night_loads_every_good_file_and_follows_each(single_process, sample_inbox):
    result, events, digest = single_process
    files = sorted(p.name for p in sample_inbox.iterdir())
    assert sorted(f.file_name for f in result.files) == files
    assert {f.status for f in result.files} == {"loaded", "refused"}
    assert events[0] == ("start", "")
    assert sorted(name for event, name in events if event == "checked") == files
    assert sorted(name for event, name in events if event == "loaded") == files
    assert digest["core.service_visits"][0] > 0


def test_a_process_pool_gives_the_same_warehouse(
    single_process, sample_inbox, tmp_path, monkeypatch, prefect_harness
):
    result, _ = night_in("process", sample_inbox, tmp_path, monkeypatch, workers=2)
    assert warehouse_digest(tmp_path / "warehouse.duckdb") == single_process[2]
    assert result.exit_code == single_process[0].exit_code


def test_a_dask_cluster_gives_the_same_warehouse(
    single_process, sample_inbox, tmp_path, monkeypatch, prefect_harness
):
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        result, _ = night_in(
            "dask", sample_inbox, tmp_path, monkeypatch, dask_address=cluster.scheduler_address
        )
    digest = warehouse_digest(tmp_path / "warehouse.duckdb")
    assert {table: rows for table, (rows, _) in digest.items()} == {
        table: rows for table, (rows, _) in single_process[2].items()
    }
    assert digest == single_process[2]
    assert result.exit_code == single_process[0].exit_code


def test_a_rerun_with_nothing_new_keeps_the_marts_and_their_files(
    sample_inbox, tmp_path, monkeypatch, prefect_harness
):
    night_in("auto", sample_inbox, tmp_path, monkeypatch)  # the default: threads for a small inbox
    folder = tmp_path / "exports" / "due_lists" / TODAY.isoformat()
    written = {p: p.stat().st_mtime_ns for p in folder.iterdir()}
    before = warehouse_digest(tmp_path / "warehouse.duckdb")

    again = nightly(inbox=tmp_path / "inbox", warehouse=tmp_path / "warehouse.duckdb", today=TODAY)
    assert again.files == [] and "due lists" not in again.seconds
    assert {p: p.stat().st_mtime_ns for p in folder.iterdir()} == written
    assert warehouse_digest(tmp_path / "warehouse.duckdb") == before

    for path in written:  # the files gone: the next run makes them again
        path.unlink()
    nightly(inbox=tmp_path / "inbox", warehouse=tmp_path / "warehouse.duckdb", today=TODAY)
    assert {p.name for p in folder.iterdir()} == {p.name for p in written}


def test_a_night_whose_inbox_does_not_exist_fails_and_touches_nothing(tmp_path, monkeypatch, prefect_harness):
    """A mistyped inbox in the schedule's settings is a failed run ops can see, not a night with no files."""
    from dealersync.inbox import InboxMissing

    monkeypatch.setenv("DEALERSYNC_DATA_DIR", str(tmp_path))
    with pytest.raises(InboxMissing, match="no inbox folder at"):
        nightly(inbox=tmp_path / "inbxo", warehouse=tmp_path / "warehouse.duckdb", today=TODAY)
    assert list(tmp_path.iterdir()) == []


def test_a_file_still_arriving_waits_for_the_next_night(sample_inbox, tmp_path, monkeypatch, prefect_harness):
    """Copied in as the night starts, or still under its upload name: left in the inbox, not refused."""
    import os
    import time

    from dealersync.warehouse.db import connect

    monkeypatch.setenv("DEALERSYNC_DATA_DIR", str(tmp_path))
    inbox = copy_inbox(sample_inbox, tmp_path / "inbox")
    settled = sorted(inbox.iterdir())
    for path in settled:  # arrived an hour ago
        os.utime(path, (time.time() - 3600, time.time() - 3600))
    arriving = inbox / "D0099_still_copying.xlsx"
    arriving.write_bytes(b"PK\x03\x04 half a workbook")
    uploading = inbox / "D0098.xlsx.filepart"
    uploading.write_bytes(b"PK\x03\x04 an upload under its temporary name")
    result = nightly(inbox=inbox, warehouse=tmp_path / "warehouse.duckdb", today=TODAY, settle_seconds=600)
    waiting = [f for f in result.files if f.status == "waiting"]
    assert [f.file_name for f in waiting] == [arriving.name] and "waits in the inbox" in waiting[0].reason
    assert {f.file_name for f in result.files} == {p.name for p in settled} | {arriving.name}
    assert sorted(p.name for p in inbox.iterdir()) == sorted([arriving.name, uploading.name])
    con = connect(tmp_path / "warehouse.duckdb", read_only=True)
    recorded = {name for (name,) in con.execute("SELECT file_name FROM etl.files").fetchall()}
    con.close()
    assert recorded == {p.name for p in settled}

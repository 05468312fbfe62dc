"""A night stopped after loading files: the next night writes the marked copies the stopped one owed."""

from __future__ import annotations

import errno
from datetime import timedelta

import pytest
from ops_helpers import TODAY, copy_inbox

from dealersync.exports import due_list as due_list_export
from dealersync.exports import quality_report as quality_report_export
from dealersync.flows import nightly as nightly_module
from dealersync.flows.nightly import nightly
from dealersync.warehouse.db import connect
from dealersync.warehouse.runs import CRASHED, finish_run

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect")]


def steward_files(root) -> list[str]:
    folder = root / "exports" / "steward"
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def left_running(*args, **kwargs):
    """SIGKILL, the machine going down: the run stays 'running' (the next night closes it as crashed)."""


def closed_as_crashed(con, run_id, **kwargs):
    """SIGTERM, or an error past the files (a full disk): the night closes its run as crashed."""
    finish_run(con, run_id, status=CRASHED)


@pytest.mark.parametrize("stopped", [left_running, closed_as_crashed], ids=["killed", "stopped"])
def test_the_night_after_a_stopped_one_writes_the_marked_copies_it_owed(
    stopped, sample_inbox, tmp_path, monkeypatch, prefect_harness
):
    monkeypatch.setenv("DEALERSYNC_TASK_RUNNER", "thread")
    uninterrupted = tmp_path / "uninterrupted"
    nightly(
        inbox=copy_inbox(sample_inbox, uninterrupted / "inbox"),
        warehouse=uninterrupted / "warehouse.duckdb",
        today=TODAY,
    )
    owed = steward_files(uninterrupted)
    assert owed

    # The night stops once its files are loaded, before its marked copies (written after the last file
    # loads). Before, no later night wrote them.
    night = tmp_path / "stopped"
    with monkeypatch.context() as stop:
        stop.setattr(nightly_module, "_start_steward_copies", lambda *args: [])
        stop.setattr(nightly_module, "finish_run", stopped)
        nightly(
            inbox=copy_inbox(sample_inbox, night / "inbox"), warehouse=night / "warehouse.duckdb", today=TODAY
        )
    assert not (night / "exports" / "steward").exists()

    nightly(inbox=night / "inbox", warehouse=night / "warehouse.duckdb", today=TODAY)
    assert steward_files(night) == owed


def test_a_night_stopped_while_writing_its_due_lists_has_them_all_written_by_the_next_run(
    sample_inbox, tmp_path, monkeypatch, prefect_harness
):
    monkeypatch.setenv("DEALERSYNC_TASK_RUNNER", "thread")
    inbox, warehouse = copy_inbox(sample_inbox, tmp_path / "inbox"), tmp_path / "warehouse.duckdb"
    nightly(inbox=inbox, warehouse=warehouse, today=TODAY)
    day_after = TODAY + timedelta(days=1)  # the same week, month and year: its summaries are current
    lists = tmp_path / "exports" / "due_lists"
    owed = sorted(p.name for p in (lists / TODAY.isoformat()).iterdir())

    # A night with nothing new stops after the first dealer's files (killed, or the disk full). Before,
    # a run again that day saw a folder with files in it, the list stored and the summaries current,
    # said the due lists were "kept as they are", and the other dealers' and regions' files never came.
    written = due_list_export.write_due_list_files
    with monkeypatch.context() as stop:
        stop.setattr(due_list_export, "write_due_list_files", stopping_after(1, written))
        with pytest.raises(OSError, match="No space left"):
            nightly(inbox=inbox, warehouse=warehouse, today=day_after)
    assert 0 < len(list((lists / day_after.isoformat()).iterdir())) < len(owed)

    nightly(inbox=inbox, warehouse=warehouse, today=day_after)
    assert sorted(p.name for p in (lists / day_after.isoformat()).iterdir()) == owed


def stopping_after(count: int, write, error: Exception | None = None):
    """`write`, which raises `error` (by default a full disk's) once it has been called `count` times."""
    calls = []

    def write_or_stop(*args, **kwargs):
        if len(calls) == count:
            raise error or OSError(errno.ENOSPC, "No space left on device")
        calls.append(args)
        return write(*args, **kwargs)

    return write_or_stop


def test_a_night_stopped_while_writing_its_quality_reports_has_them_written_by_the_next_run(
    sample_inbox, tmp_path, monkeypatch, prefect_harness
):
    monkeypatch.setenv("DEALERSYNC_TASK_RUNNER", "thread")
    inbox, warehouse = copy_inbox(sample_inbox, tmp_path / "inbox"), tmp_path / "warehouse.duckdb"
    # The first night owes last week's, month's and year's reports; it stops after writing the first (its
    # summaries refreshed, its due lists written). Before, a run again that day found the summaries
    # current and kept them, and the other two reports waited for the next day's night.
    written = quality_report_export.refreshed_report
    with monkeypatch.context() as stop:
        stop.setattr(quality_report_export, "refreshed_report", stopping_after(1, written))
        with pytest.raises(OSError, match="No space left"):
            nightly(inbox=inbox, warehouse=warehouse, today=TODAY)
    reports = tmp_path / "exports" / "quality"
    assert len(list(reports.iterdir())) == 1

    nightly(inbox=inbox, warehouse=warehouse, today=TODAY)
    assert sorted(p.name for p in reports.iterdir()) == [
        "quality_2025.xlsx",
        "quality_2026-10.xlsx",
        "quality_2026-W46.xlsx",
    ]


def test_a_night_stopped_by_a_signal_while_it_loads_a_file_stops_and_leaves_the_file_for_the_next(
    sample_inbox, tmp_path, monkeypatch, prefect_harness
):
    monkeypatch.setenv("DEALERSYNC_TASK_RUNNER", "thread")
    inbox, warehouse = copy_inbox(sample_inbox, tmp_path / "inbox"), tmp_path / "warehouse.duckdb"
    # A SIGTERM (a scheduler's timeout) or Ctrl-C arriving while DuckDB runs a statement: DuckDB raises
    # its own RuntimeError('Query interrupted') in place of what the signal's handler raised. Before,
    # the night took it for a file that failed to load, recorded it so, and went on to load the others,
    # write the due lists and the week's report without that file, and exit 2: the stop was ignored.
    # The reference workbook loads alone, then the three dealers' workbooks together: the signal arrives
    # while they load.
    loads = nightly_module.load_files
    with monkeypatch.context() as signal_arrives:
        signal_arrives.setattr(
            nightly_module, "load_files", stopping_after(0, loads, RuntimeError("Query interrupted"))
        )
        with pytest.raises(RuntimeError, match="Query interrupted"):
            nightly(inbox=inbox, warehouse=warehouse, today=TODAY)
    con = connect(warehouse, read_only=True)
    try:
        files = dict(con.execute("SELECT status, count(*) FROM etl.files GROUP BY ALL").fetchall())
        assert con.execute("SELECT status FROM etl.runs").fetchall() == [(CRASHED,)]
    finally:
        con.close()
    assert files == {"loaded": 1, "refused": 1}  # the bad file of the sample inbox, refused before the loads
    assert not (tmp_path / "exports" / "due_lists").exists()
    assert len(list(inbox.iterdir())) == len(list(sample_inbox.iterdir())) - 2  # the others wait in the inbox

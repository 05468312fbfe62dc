"""Runs: started, then finished with the counts of the files they recorded."""

from __future__ import annotations

from datetime import date

import pytest
from parsed_builders import parsed_file, parsed_sheet, rejection

from dealersync.parsed import REFUSED, ParsedFile
from dealersync.warehouse.load import load_file, record_file
from dealersync.warehouse.runs import finish_run, start_run


def test_a_run_is_numbered_and_finishes_with_the_counts_of_its_files(con):
    first = start_run(con, as_of=date(2024, 3, 1), inbox="/srv/inbox", flow_run_id="abc")
    second = start_run(con, as_of=date(2024, 3, 2), inbox="/srv/inbox")
    assert second == first + 1
    row = {"dealer_code": "D001", "name": "One", "region": "East"}
    dealers = parsed_sheet(
        "dealers",
        [row],
        rejected=[row | {"dealer_code": "D002", "name": None}],
        problems=[rejection(3, "name", "required")],
    )
    load_file(con, parsed_file(dealers), run_id=second, as_of=date(2024, 3, 2))
    refused = ParsedFile(
        path=None, file_name="x.xls", sha256="abc", size_bytes=1, status=REFUSED, reason="corrupt"
    )
    record_file(con, refused, run_id=second, status="refused")
    record_file(con, refused, run_id=second, status="skipped", reason="same content already loaded")
    finish_run(con, second, status="succeeded")
    assert con.execute(
        "SELECT status, files_seen, files_loaded, files_refused, files_skipped, files_failed, rows_read, rows_loaded,"
        " rows_rejected, finished_at IS NOT NULL FROM etl.runs WHERE run_id = ?",
        [second],
    ).fetchall() == [("succeeded", 3, 1, 1, 1, 0, 2, 1, 1, True)]
    assert con.execute("SELECT status, files_seen FROM etl.runs WHERE run_id = ?", [first]).fetchall() == [
        ("running", None)
    ]


def test_a_crashed_run_keeps_its_reason(con):
    run_id = start_run(con, as_of=date(2024, 3, 1), inbox=None)
    finish_run(con, run_id, status="crashed", error="disk full")
    assert con.execute("SELECT status, error, files_seen FROM etl.runs").fetchall() == [
        ("crashed", "disk full", 0)
    ]


def test_a_run_cannot_finish_as_running(con):
    run_id = start_run(con, as_of=date(2024, 3, 1), inbox=None)
    with pytest.raises(ValueError, match="succeeded, failed, crashed"):
        finish_run(con, run_id, status="running")

"""Without Prefect: a run a killed process left 'running' is closed as crashed by the next one, and copies of a
file sent the same night wait for the first one's fate instead of being skipped as if it had loaded."""

from __future__ import annotations

import hashlib
import os
from datetime import date

from dealersync.warehouse.db import open_warehouse
from dealersync.warehouse.runs import close_abandoned_runs, finish_run, start_run


def test_a_run_left_running_by_a_killed_process_is_closed_as_crashed(tmp_path):
    con = open_warehouse(tmp_path / "warehouse.duckdb")
    done = start_run(con, as_of=date(2026, 3, 1), inbox=None)
    finish_run(con, done, status="succeeded")
    killed = start_run(con, as_of=date(2026, 3, 2), inbox=None)  # its process died here
    assert close_abandoned_runs(con) == [killed]
    assert con.execute("SELECT run_id, status, error IS NOT NULL FROM etl.runs ORDER BY 1").fetchall() == [
        (done, "succeeded", False),
        (killed, "crashed", True),
    ]
    assert close_abandoned_runs(con) == []
    con.close()


def test_copies_sent_the_same_night_wait_for_the_first_and_copies_of_loaded_files_are_skipped(tmp_path):
    from dealersync.flows.nightly import _waiting_files
    from dealersync.inbox import inbox_files

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    con = open_warehouse(tmp_path / "warehouse.duckdb")
    files = [("a.xlsx", b"A"), ("old.xlsx", b"OLD"), ("a_copy.xlsx", b"A"), ("b.xlsx", b"B")]
    for order, (name, content) in enumerate(files):  # the inbox takes files oldest first
        (inbox / name).write_bytes(content)
        os.utime(inbox / name, (1_700_000_000 + order, 1_700_000_000 + order))
    run_id = start_run(con, as_of=date(2026, 3, 1), inbox=str(inbox))
    con.execute(  # what load_file records for a file it loaded (its rows do not matter here)
        "INSERT INTO etl.files (run_id, file_name, sha256, size_bytes, status, processed_at) "
        "VALUES (?, 'old.xlsx', ?, 3, 'loaded', now())",
        [run_id, hashlib.sha256(b"OLD").hexdigest()],
    )
    new, known, repeats = _waiting_files(con, inbox_files(inbox), force=False)
    assert [p.name for p in new] == ["a.xlsx", "b.xlsx"]  # checked tonight
    assert [p.name for p, _ in known] == ["old.xlsx"]  # loaded before: skipped
    assert [p.name for p, _ in repeats] == ["a_copy.xlsx"]  # waits for how a.xlsx fares
    con.close()

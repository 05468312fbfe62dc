"""Runs of the pipeline in etl.runs: started, then finished with the counts of the files they saw."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

RUNNING, SUCCEEDED, FAILED, CRASHED = "running", "succeeded", "failed", "crashed"
FINAL_STATUSES = (SUCCEEDED, FAILED, CRASHED)


def start_run(
    con: duckdb.DuckDBPyConnection, *, as_of: date, inbox: Path | str | None, flow_run_id: str | None = None
) -> int:
    """Record a new run for the business day `as_of`; return its run_id."""
    return con.execute(
        """
        INSERT INTO etl.runs (started_at, as_of, status, inbox, flow_run_id)
        VALUES (now(), ?, ?, ?, ?)
        RETURNING run_id
        """,
        [
            as_of,
            RUNNING,
            None if inbox is None else str(inbox),
            None if flow_run_id is None else str(flow_run_id),
        ],
    ).fetchall()[0][0]


def close_abandoned_runs(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Mark as crashed the runs still 'running' (killed, or the machine went down); return their ids.

    Call it only while holding the warehouse's run lock: then no other run can be going on, so a run
    still 'running' is one whose process died. Its files that committed stay loaded (each file is its own
    transaction); the rest are still in the inbox for the next run.
    """
    abandoned = [
        run_id
        for (run_id,) in con.execute(
            "SELECT run_id FROM etl.runs WHERE status = ? ORDER BY run_id", [RUNNING]
        ).fetchall()
    ]
    for run_id in abandoned:
        finish_run(con, run_id, status=CRASHED, error="the run stopped before it finished (process killed?)")
    return abandoned


def finish_run(con: duckdb.DuckDBPyConnection, run_id: int, *, status: str, error: str | None = None) -> None:
    """Close a run: its status, why it failed (if it did), and its counts summed from etl.files."""
    if status not in FINAL_STATUSES:
        raise ValueError(f"a run finishes as one of {', '.join(FINAL_STATUSES)}, not {status!r}")
    con.execute(
        """
        UPDATE etl.runs SET
            finished_at = now(), status = $status, error = $error,
            files_seen = f.files_seen, files_loaded = f.files_loaded, files_refused = f.files_refused,
            files_skipped = f.files_skipped, files_failed = f.files_failed, rows_read = f.rows_read,
            rows_loaded = f.rows_loaded, rows_warned = f.rows_warned, rows_rejected = f.rows_rejected
        FROM (
            SELECT count(*) AS files_seen,
                   count(*) FILTER (status = 'loaded') AS files_loaded,
                   count(*) FILTER (status = 'refused') AS files_refused,
                   count(*) FILTER (status = 'skipped') AS files_skipped,
                   count(*) FILTER (status = 'failed') AS files_failed,
                   coalesce(sum(rows_read) FILTER (status = 'loaded'), 0) AS rows_read,
                   coalesce(sum(rows_loaded), 0) AS rows_loaded,
                   coalesce(sum(rows_warned), 0) AS rows_warned,
                   coalesce(sum(rows_rejected), 0) AS rows_rejected
            FROM etl.files WHERE run_id = $run_id
        ) AS f
        WHERE etl.runs.run_id = $run_id
        """,
        {"status": status, "error": error, "run_id": run_id},
    )

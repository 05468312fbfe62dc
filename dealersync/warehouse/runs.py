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

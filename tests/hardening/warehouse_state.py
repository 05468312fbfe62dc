"""What a warehouse holds, as data to compare: every row of raw, core, quarantine and mart without what
differs from run to run (run ids, instants, sequence numbers, timings, where a file was stored)."""

from __future__ import annotations

from pathlib import Path

import duckdb

# Columns that say when or by which run, not what: equal warehouses may differ in them (and any column
# naming a run, or a mark of how far an incremental refresh had got).
RUN_SPECIFIC = frozenset({"run_id", "entry_id", "seconds", "stored_as", "flow_run_id", "path"})
CONTENT_SCHEMAS = ("raw", "core", "quarantine", "mart")


def _run_specific(column: str, kind: str) -> bool:
    return (
        column in RUN_SPECIFIC
        or "run_id" in column
        or column.endswith("_mark")
        or kind == "TIMESTAMP WITH TIME ZONE"
    )


def content(warehouse: Path) -> dict[str, list[tuple]]:
    """schema.table -> its rows, sorted, without run-specific columns; resolved_by_run becomes resolved or not.

    A derived table's refresh log (mart.*_refresh: what the last refresh saw and recomputed) says how the
    warehouse got there, not what it holds, and is left out.
    """
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() "
            f"WHERE database_name = current_database() AND schema_name IN {CONTENT_SCHEMAS} "
            "AND NOT (schema_name = 'mart' AND table_name LIKE '%\\_refresh' ESCAPE '\\') ORDER BY 1, 2"
        ).fetchall()
        state = {}
        for schema, table in tables:
            columns = con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() "
                "WHERE database_name = current_database() AND schema_name = ? AND table_name = ? ORDER BY column_index",
                [schema, table],
            ).fetchall()
            kept = [
                f"{name} IS NOT NULL AS {name}" if name == "resolved_by_run" else name
                for name, kind in columns
                if name == "resolved_by_run" or not _run_specific(name, kind)
            ]
            rows = con.execute(f"SELECT {', '.join(kept)} FROM {schema}.{table}").fetchall()
            state[f"{schema}.{table}"] = sorted(rows, key=repr)
    return state


def differences(expected: dict[str, list[tuple]], actual: dict[str, list[tuple]]) -> list[str]:
    """A line per table whose rows differ, with a few of the rows only one side has."""
    lines = []
    for table in sorted(set(expected) | set(actual)):
        want, got = expected.get(table, []), actual.get(table, [])
        if want != got:
            missing = [r for r in want if r not in got][:2]
            extra = [r for r in got if r not in want][:2]
            lines.append(f"{table}: {len(want)} rows expected, {len(got)}; missing {missing}, extra {extra}")
    return lines


def files(warehouse: Path) -> list[tuple]:
    """etl.files as (file_name, sha256, status, reason) rows."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "SELECT file_name, sha256, status, reason FROM etl.files ORDER BY 1, 2, 3"
        ).fetchall()


def loaded_without_data(warehouse: Path) -> list[str]:
    """Files recorded as loaded whose rows are not in the raw layer, and core rows from files not loaded."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        loaded = {
            sha for (sha,) in con.execute("SELECT sha256 FROM etl.files WHERE status = 'loaded'").fetchall()
        }
        raw = set()
        core = set()
        for schema, table in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name IN ('raw', 'core')"
        ).fetchall():
            shas = {
                sha for (sha,) in con.execute(f"SELECT DISTINCT file_sha256 FROM {schema}.{table}").fetchall()
            }
            (raw if schema == "raw" else core).update(shas)
        with_rows = {
            sha
            for (sha,) in con.execute(
                "SELECT sha256 FROM etl.files WHERE status = 'loaded' AND rows_read > 0"
            ).fetchall()
        }
    return [f"loaded, no raw rows: {sha}" for sha in with_rows - raw] + [
        f"core rows from a file not loaded: {sha}" for sha in core - loaded
    ]


def unfinished_runs(warehouse: Path) -> list[tuple]:
    """Runs still marked running (a run killed before it finished must not stay so once another has run)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("SELECT run_id, as_of FROM etl.runs WHERE status = 'running'").fetchall()

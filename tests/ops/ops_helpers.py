"""Helpers of the ops tests: a content digest of a warehouse, loading an inbox without Prefect."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from dealersync.pipeline import holds_reference_data, process_file
from dealersync.schemas.aliases import load_aliases
from dealersync.settings import Settings
from dealersync.warehouse.db import connect, open_warehouse
from dealersync.warehouse.load import load_file
from dealersync.warehouse.refs import read_refs
from dealersync.warehouse.runs import finish_run, start_run

TODAY = date(2026, 11, 20)

# What differs between two loads of the same files: ids, instants, timings and where files were put.
VOLATILE = {
    "run_id",
    "entry_id",
    "resolved_by_run",
    "loaded_at",
    "first_seen_at",
    "last_seen_at",
    "resolved_at",
    "processed_at",
    "computed_at",
    "refreshed_at",
    "written_at",
    "seconds",
    "stored_as",
    "path",
}
DIGESTED_SCHEMAS = ("raw", "core", "quarantine", "mart")
# Bookkeeping of how a mart was refreshed (instants, marks, counts of rows recomputed), not content.
BOOKKEEPING_TABLES = {"mart.due_work_orders_refresh"}


def warehouse_digest(path: Path, schemas=DIGESTED_SCHEMAS, extra_tables=("etl.files", "etl.file_sheets")):
    """Table -> (rows, digest of its content in any row order), ids, instants and paths left out.

    Floating-point figures are rounded to 9 places: a parallel sum may differ in its last bit.
    """
    con = connect(path, read_only=True)
    try:
        tables = [
            f"{schema}.{table}"
            for schema, table in con.execute(
                "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN "
                f"({', '.join('?' * len(schemas))}) AND database_name = current_database() ORDER BY 1, 2",
                list(schemas),
            ).fetchall()
        ] + list(extra_tables)
        tables = [table for table in tables if table not in BOOKKEEPING_TABLES]
        digest = {}
        for table in tables:
            columns = [
                f'round("{name}", 9)' if data_type in ("DOUBLE", "FLOAT") else f'"{name}"'
                for name, data_type in con.execute(
                    "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = ? "
                    "AND table_name = ? AND database_name = current_database() ORDER BY column_index",
                    table.split("."),
                ).fetchall()
                if name not in VOLATILE
            ]
            row = "md5(CAST(ROW(" + ", ".join(columns) + ") AS VARCHAR))"
            digest[table] = con.execute(
                f"SELECT count(*), md5(coalesce(string_agg({row}, '' ORDER BY {row}), '')) FROM {table}"
            ).fetchall()[0]
        return digest
    finally:
        con.close()


def copy_inbox(sample: Path, target: Path) -> Path:
    """A copy of the sample inbox, with the same order (modification times) as the original."""
    shutil.copytree(sample, target)
    return target


def load_without_prefect(inbox: Path, warehouse: Path, today: date = TODAY) -> None:
    """Load an inbox as a night would (references first), in this process, without Prefect or inbox moves."""
    settings = Settings(warehouse=warehouse)
    aliases = load_aliases()
    con = open_warehouse(warehouse)
    try:
        run_id = start_run(con, as_of=today, inbox=inbox)
        parsed = [
            process_file(path, today=today, aliases=aliases, refs=read_refs(con), settings=settings)
            for path in sorted(inbox.iterdir())
        ]
        loadable = [p for p in parsed if p.status == "parsed"]
        for p in [p for p in loadable if holds_reference_data(p)]:
            load_file(con, p, run_id=run_id, as_of=today)
        refs = read_refs(con)
        for p in [p for p in loadable if not holds_reference_data(p)]:
            checked = process_file(p.path, today=today, aliases=aliases, refs=refs, settings=settings)
            load_file(con, checked, run_id=run_id, as_of=today)
        finish_run(con, run_id, status="succeeded")
    finally:
        con.close()

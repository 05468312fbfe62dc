"""End to end: generated messy workbooks → the real nightly flow → a real DuckDB warehouse."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from dealersync.samples import generate_inbox
from dealersync.warehouse.db import connect

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect")]

TODAY = date(2026, 11, 20)
CORE_TABLES = (
    "dealers",
    "parts",
    "campaigns",
    "customers",
    "vehicles",
    "service_visits",
    "follow_up_calls",
    "letters",
    "complaints",
    "part_shipments",
    "part_failures",
    "part_batches",
)


def run_night(tmp: Path, today: date = TODAY, **options):
    """The nightly flow in threads (the same code path as the process pool, minus process start-up)."""
    from prefect.task_runners import ThreadPoolTaskRunner

    from dealersync.flows.nightly import nightly

    return nightly.with_options(task_runner=ThreadPoolTaskRunner(max_workers=2))(
        inbox=tmp / "inbox", warehouse=tmp / "warehouse.duckdb", today=today, **options
    )


def table_fingerprints(warehouse: Path) -> dict[str, tuple[int, int]]:
    """Row count and an order-independent content hash of every core and quarantine table (lineage aside)."""
    con = connect(warehouse, read_only=True)
    try:
        tables = [f"core.{t}" for t in CORE_TABLES] + ["quarantine.rejected_rows", "quarantine.warnings"]
        fingerprints = {}
        for table in tables:
            columns = [
                name
                for (name,) in con.sql(
                    "select column_name from duckdb_columns() where schema_name = ? and table_name = ?",
                    params=table.split("."),
                ).fetchall()
                if name not in ("run_id", "loaded_at", "first_seen_at", "last_seen_at", "entry_id")
            ]
            row_hash = "hash(" + ", ".join(f'"{c}"' for c in columns) + ")"
            fingerprints[table] = con.execute(
                f"select count(*), coalesce(sum({row_hash}), 0) from {table}"
            ).fetchall()[0]
        return fingerprints
    finally:
        con.close()


@pytest.fixture(scope="module")
def night(tmp_path_factory, prefect_harness):
    """One generated inbox (2% bad cells, one bad file) loaded by one nightly run."""
    tmp = tmp_path_factory.mktemp("night")
    manifest = generate_inbox(
        tmp / "inbox",
        today=TODAY,
        dealers=3,
        visits_per_dealer=150,
        seed=11,
        bad_cell_rate=0.02,
        with_bad_file=True,
    )
    originals = tmp / "originals"
    shutil.copytree(tmp / "inbox", originals)
    result = run_night(tmp)
    return tmp, manifest, result, originals


def test_every_bad_cell_is_quarantined_with_its_file_sheet_row_and_column(night):
    tmp, manifest, _, _ = night
    con = connect(tmp / "warehouse.duckdb", read_only=True)
    rejected = con.sql(
        "select file_name, sheet, excel_row, column_name, rule from quarantine.rejected_rows"
    ).fetchall()
    con.close()
    expected = {(b.file, b.sheet, b.excel_row, b.column_name, b.rule) for b in manifest.bad_cells}
    assert manifest.bad_cells, "the generator injected no bad cell"
    assert set(rejected) == expected
    assert len(rejected) == len(expected)


def test_every_good_row_loads(night):
    tmp, manifest, _, _ = night
    bad_rows = {(b.file, b.sheet, b.excel_row) for b in manifest.bad_cells}
    con = connect(tmp / "warehouse.duckdb", read_only=True)
    for kind in (
        "service_visits",
        "follow_up_calls",
        "letters",
        "complaints",
        "part_shipments",
        "part_failures",
    ):
        written = sum(s.rows for s in manifest.sheets if s.kind == kind)
        bad = sum(
            1
            for s in manifest.sheets
            if s.kind == kind
            for f, sh, _ in bad_rows
            if (f, sh) == (s.file, s.sheet)
        )
        loaded = con.execute(f"select count(*) from core.{kind}").fetchall()[0][0]
        raw = con.execute(f"select count(*) from raw.{kind}").fetchall()[0][0]
        assert raw == written, kind
        assert loaded == written - bad, kind
    con.close()


def test_each_core_row_carries_its_lineage(night):
    tmp, _, _, _ = night
    con = connect(tmp / "warehouse.duckdb", read_only=True)
    for table in CORE_TABLES:
        missing = con.execute(
            f"select count(*) from core.{table} where run_id is null or file_sha256 is null "
            f"or sheet is null or excel_row is null"
        ).fetchall()[0][0]
        assert missing == 0, table
    con.close()


def test_the_bad_file_is_set_aside_with_its_reason_and_the_run_carries_on(night):
    tmp, manifest, result, _ = night
    (refused_name,) = manifest.refused_files
    outcome = {f.file_name: f for f in result.files}
    assert outcome[refused_name].status == "refused"
    assert sum(f.status == "loaded" for f in result.files) == len(manifest.files) - 1
    set_aside = list((tmp / "rejected").rglob(refused_name))
    assert len(set_aside) == 1
    reason = set_aside[0].with_name(refused_name + ".reason.txt").read_text(encoding="utf-8")
    assert "not an Excel workbook" in reason
    con = connect(tmp / "warehouse.duckdb", read_only=True)
    status, recorded_reason = con.execute(
        "select status, reason from etl.files where file_name = ?", [refused_name]
    ).fetchall()[0]
    con.close()
    assert status == "refused" and "not an Excel workbook" in recorded_reason
    assert result.exit_code == 1  # rows rejected and a file refused: success with problems


def test_loaded_files_move_to_processed_and_the_inbox_is_empty(night):
    tmp, manifest, _, _ = night
    assert list((tmp / "inbox").iterdir()) == []
    processed = {p.name for p in (tmp / "processed").rglob("*") if p.is_file()}
    assert processed == {p.name for p in manifest.files} - set(manifest.refused_files)


def test_the_same_files_sent_again_change_nothing(night):
    tmp, _, _, originals = night
    before = table_fingerprints(tmp / "warehouse.duckdb")
    for path in originals.iterdir():
        shutil.copy2(path, tmp / "inbox" / path.name)
    again = run_night(tmp)
    statuses = {f.file_name: f.status for f in again.files}
    assert table_fingerprints(tmp / "warehouse.duckdb") == before
    assert {s for name, s in statuses.items() if not name.endswith("(副本).xlsx")} == {"skipped"}

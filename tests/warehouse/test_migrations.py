"""The schema: versioned migrations apply once, document every table and column, and follow the contract."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from functools import partial

import duckdb
import pytest
from holders import warehouse_held
from parsed_builders import load_on, parsed_sheet, rejection

from dealersync.schemas.contract import SHEETS
from dealersync.warehouse import db
from dealersync.warehouse.db import (
    Migration,
    WarehouseError,
    connect,
    migrate,
    migrations,
    open_warehouse,
    upgraded_since,
)
from dealersync.warehouse.load import (
    CUSTOMER_ATTRIBUTES,
    CUSTOMER_KEY,
    LINEAGE,
    VEHICLE_ATTRIBUTES,
    VEHICLE_KEY,
)

HISTORY = ("valid_from", "valid_to", "is_current")


def columns(con, schema: str, table: str) -> list[str]:
    return [
        name
        for (name,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
            [schema, table],
        ).fetchall()
    ]


def test_migrations_apply_on_an_empty_file_and_only_once(tmp_path):
    path = tmp_path / "nested" / "warehouse.duckdb"
    con = open_warehouse(path)
    assert path.exists()
    assert migrate(con) == []
    applied = [
        name for (name,) in con.execute("SELECT name FROM etl.schema_migrations ORDER BY version").fetchall()
    ]
    assert applied == [m.name for m in migrations()]
    con.close()
    con = open_warehouse(path)  # reopening migrates nothing
    assert con.execute("SELECT count(*) FROM etl.schema_migrations").fetchall()[0][0] == len(applied)
    con.close()


def test_migrations_are_numbered_below_the_marts_and_unique():
    versions = [m.version for m in migrations()]
    assert versions == sorted(set(versions))
    assert versions[0] == 1


def test_every_table_view_and_column_has_a_comment(con):
    ours = "('raw', 'core', 'quarantine', 'etl', 'mart')"
    tables = con.execute(
        f"SELECT table_name FROM duckdb_tables() WHERE schema_name IN {ours} AND comment IS NULL"
    )
    assert tables.fetchall() == []
    views = con.execute(
        f"SELECT view_name FROM duckdb_views() WHERE schema_name IN {ours} AND comment IS NULL"
    )
    assert views.fetchall() == []
    undocumented = con.execute(
        f"SELECT table_name || '.' || column_name FROM duckdb_columns() WHERE schema_name IN {ours} AND comment IS NULL"
    ).fetchall()
    assert undocumented == []


@pytest.mark.parametrize("kind", list(SHEETS))
def test_raw_tables_hold_lineage_the_contract_columns_and_extra(con, kind):
    assert columns(con, "raw", kind) == [*LINEAGE, *SHEETS[kind].names, "extra"]


@pytest.mark.parametrize(
    "kind", ["service_visits", "follow_up_calls", "letters", "complaints", "part_shipments", "part_failures"]
)
def test_core_tables_hold_exactly_the_contract_columns(con, kind):
    derived, added = {
        "service_visits": (["has_customer_file"], ["under_warranty_derived"]),
        "part_failures": ([], ["component_derived"]),
    }.get(kind, ([], []))
    assert columns(con, "core", kind) == [*SHEETS[kind].names, *derived, *LINEAGE, *added]


@pytest.mark.parametrize("kind", ["parts", "campaigns", "part_batches"])
def test_reference_and_batch_tables_hold_the_contract_columns(con, kind):
    assert columns(con, "core", kind) == [*SHEETS[kind].names, *LINEAGE]


def test_dealers_keep_history_of_the_contract_columns(con):
    assert columns(con, "core", "dealers") == [*SHEETS["dealers"].names, *HISTORY, *LINEAGE]


def test_customers_sheet_splits_into_customers_and_vehicles_without_losing_a_column(con):
    assert columns(con, "core", "customers") == [*CUSTOMER_KEY, *CUSTOMER_ATTRIBUTES, *HISTORY, *LINEAGE]
    assert columns(con, "core", "vehicles") == [*VEHICLE_KEY, *VEHICLE_ATTRIBUTES, *LINEAGE, "first_seen"]
    assert {*CUSTOMER_KEY, *CUSTOMER_ATTRIBUTES, *VEHICLE_KEY, *VEHICLE_ATTRIBUTES} == set(
        SHEETS["customers"].names
    )


def test_core_types_follow_the_contract(con):
    sql_types = {"str": "VARCHAR", "enum": "VARCHAR", "int": "BIGINT", "dec": "DECIMAL(18,2)", "date": "DATE"}
    sql_types |= {"datetime": "TIMESTAMP", "bool": "BOOLEAN"}
    typed = dict(
        ((table, column), data_type)
        for table, column, data_type in con.execute(
            "SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE schema_name = 'core'"
        ).fetchall()
    )
    tables = {kind: [kind] for kind in SHEETS} | {"customers": ["customers", "vehicles"]}
    for kind, sheet in SHEETS.items():
        for column in sheet.columns:
            for table in tables[kind]:
                if (table, column.name) in typed:
                    assert typed[table, column.name] == sql_types[column.type], (table, column.name)


def test_an_edited_migration_is_refused(con, monkeypatch):
    edited = [
        Migration(m.version, m.name, m.sql + "\n-- edited") if m.version == 1 else m for m in migrations()
    ]
    monkeypatch.setattr(db, "migrations", lambda: edited)
    with pytest.raises(WarehouseError, match=r"001_schemas_etl\.sql was edited"):
        migrate(con)


def test_a_warehouse_newer_than_the_code_is_refused(con):
    con.execute("INSERT INTO etl.schema_migrations VALUES (999, '999_future.sql', 'x', now())")
    with pytest.raises(WarehouseError, match="999"):
        migrate(con)


def test_a_failing_migration_leaves_nothing_behind(con, monkeypatch):
    broken = Migration(9, "009_broken.sql", "CREATE TABLE core.half_done (a INTEGER); SELECT no_such_column;")
    monkeypatch.setattr(db, "migrations", lambda: [*migrations(), broken])
    with pytest.raises(duckdb.Error):
        migrate(con)
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'half_done'").fetchall() == [
        (0,)
    ]
    assert con.execute("SELECT max(version) FROM etl.schema_migrations").fetchall() == [
        (migrations()[-1].version,)
    ]


def test_a_file_that_is_not_a_warehouse_gives_a_clear_error(tmp_path):
    path = tmp_path / "notes.duckdb"
    path.write_text("not a database")
    with pytest.raises(WarehouseError, match="is not a DuckDB warehouse file"):
        connect(path)


def test_opening_a_missing_warehouse_read_only_gives_a_clear_error(tmp_path):
    with pytest.raises(WarehouseError, match="no warehouse at"):
        connect(tmp_path / "missing.duckdb", read_only=True)


def test_a_warehouse_locked_by_another_process_gives_a_clear_error(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    open_warehouse(path).close()
    with warehouse_held(path):
        with pytest.raises(WarehouseError, match="in use by another process"):
            connect(path, wait_seconds=0.2)
        with pytest.raises(WarehouseError, match="being written by another process"):
            connect(path, read_only=True)
    connect(path).close()  # free again once the other process has gone


def test_a_writer_waits_for_a_lock_that_is_released_in_time(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    open_warehouse(path).close()
    holder = f"import time, duckdb\ncon = duckdb.connect({str(path)!r})\nprint('locked', flush=True)\ntime.sleep(1)\n"
    process = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "locked"
        connect(path, wait_seconds=30).close()
    finally:
        process.wait(timeout=30)


def insert_row(con, table: str, **row) -> None:
    """Insert one row as an older version of the loader wrote it, with made-up lineage."""
    row = {"run_id": 1, "file_sha256": "f", "sheet": "s", "loaded_at": "2024-01-01 00:00:00+00"} | row
    con.execute(
        f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values())
    )


def test_a_warehouse_loaded_before_012_is_put_right_from_its_raw_cells(tmp_path, monkeypatch):
    """Blank as the loader sees it (a full-width space too); a later row's region; warranty from the vehicle."""
    monkeypatch.setattr(db, "migrations", lambda: [m for m in migrations() if m.version < 12])
    con = open_warehouse(tmp_path / "old.duckdb")
    insert = partial(insert_row, con)

    # As the code before 012 wrote them: the dealer's region copied in, a blank 是否保修期内 derived once.
    insert("raw.customers", excel_row=2, dealer_code="D1", customer_id="C1", region="\u3000")
    insert("raw.customers", excel_row=3, dealer_code="D1", customer_id="C1", region=" North ")
    insert("raw.customers", excel_row=4, dealer_code="D1", customer_id="C2", region=None)
    customer = {"dealer_code": "D1", "name": "n", "phone": "13800000000", "valid_from": "2024-01-01"}
    insert("core.customers", excel_row=2, customer_id="C1", region="East", **customer)
    insert("core.customers", excel_row=4, customer_id="C2", region="East", **customer)
    insert("raw.service_visits", excel_row=2, under_warranty="\u200b")
    insert("core.vehicles", excel_row=2, dealer_code="D1", vin="V1", customer_id="C1", model="m",
           warranty_end="2026-01-01")  # fmt: skip
    insert("core.service_visits", excel_row=2, dealer_code="D1", work_order_no="W1", customer_id="C1", vin="V1",
           intake_date="2025-01-01", visit_type="repair", under_warranty=False, has_customer_file=True)  # fmt: skip
    con.close()
    monkeypatch.undo()

    con = open_warehouse(tmp_path / "old.duckdb")  # migrates the rest
    assert con.execute("SELECT customer_id, region FROM core.customers ORDER BY 1").fetchall() == [
        ("C1", "North"),  # the first row that gives one
        ("C2", None),  # none does: the dealer's, whatever it is then
    ]
    assert con.execute(
        "SELECT under_warranty_derived, under_warranty FROM core.service_visits"
    ).fetchall() == [
        (True, True)  # warranty_end 2026-01-01 >= intake 2025-01-01
    ]
    con.close()


def test_a_warehouse_loaded_before_015_takes_the_parts_component_for_failures_that_left_it_blank(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(db, "migrations", lambda: [m for m in migrations() if m.version < 15])
    con = open_warehouse(tmp_path / "old.duckdb")
    insert = partial(insert_row, con)

    # As the code before 015 wrote them: the part's component copied in when the failure was loaded, and
    # the part corrected since.
    insert("core.parts", excel_row=2, part_no="P2", name="Controller", component="controller", critical=True)
    failure = {"report_date": "2024-01-01", "dealer_code": "D1", "part_no": "P2", "failure_mode": "dead"}
    for excel_row, written in ((2, None), (3, "其他"), (4, "\u3000")):
        insert("raw.part_failures", excel_row=excel_row, feedback_id=f"F{excel_row}", component=written)
        insert(
            "core.part_failures",
            excel_row=excel_row,
            feedback_id=f"F{excel_row}",
            component="other",
            **failure,
        )
    con.close()
    monkeypatch.undo()

    con = open_warehouse(tmp_path / "old.duckdb")  # migrates the rest
    assert con.execute(
        "SELECT feedback_id, component, component_derived FROM core.part_failures ORDER BY 1"
    ).fetchall() == [
        ("F2", "controller", True),
        ("F3", "other", False),  # the sheet said 其他
        ("F4", "controller", True),
    ]
    con.close()


def _warehouse_before_025(tmp_path, monkeypatch, *runs):
    """A warehouse with the migrations before 025 and the runs (run_id, as_of) that loaded it."""
    monkeypatch.setattr(db, "migrations", lambda: [m for m in migrations() if m.version < 25])
    con = open_warehouse(tmp_path / "old.duckdb")
    for run_id, as_of in runs:
        con.execute(
            "INSERT INTO etl.runs (run_id, started_at, as_of, status) VALUES (?, now(), ?, 'succeeded')",
            [run_id, as_of],
        )
    return con


def test_a_warehouse_loaded_before_025_knows_each_vehicle_from_the_earliest_run_that_named_it(
    tmp_path, monkeypatch
):
    con = _warehouse_before_025(
        tmp_path, monkeypatch, (1, "2024-03-10"), (2, "2024-03-20"), (3, "2024-03-25")
    )
    insert = partial(insert_row, con)
    # V1 named on 3-10 (as typed: lower case, a space) and again on 3-20, which last changed it; V2 only
    # known from the run that last changed it (its raw row's VIN was mistyped then corrected)
    insert("raw.customers", run_id=1, excel_row=2, dealer_code="d1 ", customer_id="C1", vin=" v1")
    insert("raw.customers", run_id=2, excel_row=2, dealer_code="D1", customer_id="C1", vin="V1")
    vehicle = {"dealer_code": "D1", "customer_id": "C1", "model": "m", "excel_row": 2}
    insert("core.vehicles", run_id=2, vin="V1", **vehicle)
    insert("core.vehicles", run_id=3, vin="V2", **vehicle)
    insert("core.vehicles", run_id=99, vin="V3", **vehicle)  # written without a run
    con.close()
    monkeypatch.undo()

    con = open_warehouse(tmp_path / "old.duckdb")  # migrates the rest
    assert con.execute("SELECT vin, first_seen FROM core.vehicles ORDER BY 1").fetchall() == [
        ("V1", date(2024, 3, 10)),
        ("V2", date(2024, 3, 25)),
        ("V3", None),
    ]
    con.close()


def test_a_warehouse_loaded_before_025_knows_each_vehicle_from_the_rows_that_loaded(tmp_path, monkeypatch):
    """A row rejected on 3-10 (no phone) and loaded corrected on 3-20 names its vehicle from 3-20; a VIN written
    full-width with a zero-width space, or pasted with a no-break or thin space around it, on 3-10, then plainly
    on 3-20 (which last changed it), from 3-10."""
    con = _warehouse_before_025(tmp_path, monkeypatch, (1, "2024-03-10"), (2, "2024-03-20"))
    insert = partial(insert_row, con)
    insert("raw.customers", run_id=1, excel_row=2, dealer_code="D1", customer_id="C1", vin="V1")
    con.execute(
        """INSERT INTO quarantine.rejected_rows (entry_id, run_id, file_sha256, file_name, sheet, kind, excel_row,
        column_name, field, rule, message, dealer_code, business_key, first_seen_at, last_seen_at)
        VALUES (1, 1, 'f', 'D1.xlsx', 's', 'customers', 2, '联系电话', 'phone', 'required', 'm', 'D1', 'C1', now(),
        now())"""
    )
    insert("raw.customers", run_id=1, excel_row=3, dealer_code="Ｄ１", customer_id="C2", vin="Ｖ\u200b２ ")
    insert(
        "raw.customers", run_id=1, excel_row=4, dealer_code="D1\u00a0", customer_id="C3", vin="\u2009V3\u202f"
    )
    insert(
        "raw.customers", run_id=2, file_sha256="g", excel_row=2, dealer_code="D1", customer_id="C1", vin="V1"
    )
    insert(
        "raw.customers", run_id=2, file_sha256="g", excel_row=3, dealer_code="D1", customer_id="C2", vin="V2"
    )
    insert("core.vehicles", run_id=2, vin="V1", dealer_code="D1", customer_id="C1", model="m", excel_row=2)
    insert("core.vehicles", run_id=2, vin="V2", dealer_code="D1", customer_id="C2", model="m", excel_row=3)
    insert("core.vehicles", run_id=2, vin="V3", dealer_code="D1", customer_id="C3", model="m", excel_row=4)
    con.close()
    monkeypatch.undo()

    con = open_warehouse(tmp_path / "old.duckdb")  # migrates the rest
    assert con.execute("SELECT vin, first_seen FROM core.vehicles ORDER BY 1").fetchall() == [
        ("V1", date(2024, 3, 20)),
        ("V2", date(2024, 3, 10)),
        ("V3", date(2024, 3, 10)),
    ]
    con.close()


def test_a_vehicle_counts_from_the_day_its_row_loaded_as_its_comment_says(con):
    """The customer row naming the VIN is rejected on the 16th (a bad purchase date) and loads on the 17th."""
    load_on(
        con,
        date(2026, 11, 16),
        parsed_sheet("dealers", [{"dealer_code": "D1", "name": "D1", "region": "East"}]),
    )
    row = {"dealer_code": "D1", "customer_id": "C1", "name": "王一", "phone": "13800000001"}
    row |= {"vin": "LJ1DL26C6TA122166", "model": "M1"}
    bad = row | {"purchase_date": "2026-02-30"}
    load_on(
        con,
        date(2026, 11, 16),
        parsed_sheet("customers", [], rejected=[bad], problems=[rejection(2, "purchase_date", "not_a_date")]),
    )
    load_on(con, date(2026, 11, 17), parsed_sheet("customers", [row | {"purchase_date": date(2024, 1, 1)}]))
    assert con.execute("SELECT first_seen FROM core.vehicles").fetchall() == [(date(2026, 11, 17),)]
    (comment,) = con.execute(
        "SELECT comment FROM duckdb_columns() WHERE table_name = 'vehicles' AND column_name = 'first_seen'"
    ).fetchall()[0]
    assert "row naming the vehicle loaded" in comment and "rejected that day does not count" in comment


def test_an_upgrade_names_the_migrations_it_applied_and_a_new_warehouse_none(tmp_path, monkeypatch):
    """The night's summary says "Warehouse upgraded: 025_…, 026_…" on a new release's first night only."""
    con = _warehouse_before_025(tmp_path, monkeypatch)
    con.close()
    monkeypatch.undo()
    since = datetime.now(UTC)
    con = open_warehouse(tmp_path / "old.duckdb")  # the new release's first night
    assert upgraded_since(con, since) == [m.name for m in migrations() if m.version >= 25]
    con.close()
    since = datetime.now(UTC)
    con = open_warehouse(tmp_path / "old.duckdb")  # the next night: nothing to apply
    assert upgraded_since(con, since) == []
    con.close()
    new = open_warehouse(tmp_path / "new.duckdb")  # a new warehouse gets every migration: no upgrade
    assert upgraded_since(new, datetime(2000, 1, 1, tzinfo=UTC)) == []
    new.close()

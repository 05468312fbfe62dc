"""A month of nights: 30 consecutive real nights of new rows, corrected rows sent again, changed customers,
duplicates and bad files; after each night the warehouse keeps its invariants and holds exactly what an
independent count of the inputs says. Then the last night run again changes nothing."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest
import warehouse_state
from month_world import MonthWorld

FIRST_NIGHT = date(2026, 3, 1)
NIGHTS = 30
KEYS = {
    "dealers": ("dealer_code", "valid_from"),
    "customers": ("dealer_code", "customer_id", "valid_from"),
    "vehicles": ("dealer_code", "vin"),
    "service_visits": ("dealer_code", "work_order_no"),
    "follow_up_calls": ("dealer_code", "call_id"),
    "letters": ("dealer_code", "letter_id"),
    "complaints": ("dealer_code", "complaint_id"),
    "parts": ("part_no",),
    "campaigns": ("campaign_id",),
    "part_shipments": ("shipment_line_id",),
    "part_failures": ("feedback_id",),
    "part_batches": ("part_no", "batch_no"),
}


def broken_invariants(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Duplicate business keys, overlapping or gapped history, quarantine entries neither open nor resolved by a run."""
    broken = []
    for table, key in KEYS.items():
        columns = ", ".join(key)
        duplicates = con.execute(
            f"SELECT {columns}, count(*) FROM core.{table} GROUP BY ALL HAVING count(*) > 1 LIMIT 3"
        ).fetchall()
        broken += [f"core.{table}: key {row[:-1]} on {row[-1]} rows" for row in duplicates]
    for table, key in (("customers", "dealer_code, customer_id"), ("dealers", "dealer_code")):
        bad = con.execute(
            f"""
            SELECT {key}, valid_from, valid_to, next_from FROM (
                SELECT *, lead(valid_from) OVER (PARTITION BY {key} ORDER BY valid_from) AS next_from
                FROM core.{table})
            WHERE valid_to IS DISTINCT FROM next_from OR valid_to <= valid_from LIMIT 3
            """
        ).fetchall()
        broken += [f"core.{table}: history interval {row}" for row in bad]
    for table in ("rejected_rows", "warnings"):
        bad = con.execute(
            f"""
            SELECT entry_id, resolved_at, resolved_by_run FROM quarantine.{table}
            WHERE NOT ((resolved_at IS NULL AND resolved_by_run IS NULL)
                    OR (resolved_at IS NOT NULL AND resolved_by_run IN (SELECT run_id FROM etl.runs)))
            LIMIT 3
            """
        ).fetchall()
        broken += [f"quarantine.{table}: entry {row} neither open nor resolved by a run" for row in bad]
    return broken


def counted(con: duckdb.DuckDBPyConnection, world: MonthWorld) -> list[str]:
    """Where the warehouse's counts differ from the independent count of the inputs."""
    expected = world.expected
    wrong = []
    for table in ("dealers", "customers", "vehicles", "service_visits", "follow_up_calls"):
        rows = con.execute(f"SELECT count(*) FROM core.{table}").fetchone()[0]
        if rows != expected.count(table):
            wrong.append(f"core.{table}: {rows} rows, the inputs say {expected.count(table)}")
    phones = dict(
        ((dealer, customer), phone)
        for dealer, customer, phone in con.execute(
            "SELECT dealer_code, customer_id, phone FROM core.customers_current"
        ).fetchall()
    )
    model = {key: versions[-1][1][1] for key, versions in expected.versions.items()}
    if phones != model:
        wrong.append(f"current phones differ for {sorted(k for k in model if phones.get(k) != model[k])[:3]}")
    open_entries = set(
        con.execute(
            "SELECT kind, business_key, field, rule FROM quarantine.rejected_rows WHERE resolved_at IS NULL"
        ).fetchall()
    )
    if open_entries != expected.open_rejections:
        wrong.append(
            f"open rejections: {sorted(open_entries - expected.open_rejections)[:3]} not expected, "
            f"{sorted(expected.open_rejections - open_entries)[:3]} missing"
        )
    raw = sum(
        con.execute(f"SELECT count(*) FROM raw.{table}").fetchone()[0]
        for (table,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw' AND database_name = current_database()"
        ).fetchall()
    )
    if raw != expected.raw_rows:
        wrong.append(f"raw rows: {raw}, the inputs say {expected.raw_rows}")
    return wrong


@pytest.mark.slow
@pytest.mark.xdist_group("prefect")
def test_a_month_of_nights_keeps_every_invariant_and_the_count_of_its_inputs(tmp_path, prefect_harness):
    from dealersync.flows.nightly import nightly

    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse.duckdb"
    inbox.mkdir()
    world = MonthWorld(seed=8, first_night=FIRST_NIGHT)
    resolved_total = 0
    for number in range(NIGHTS):
        as_of = FIRST_NIGHT + timedelta(days=number)
        sent = world.night(number, as_of, inbox)
        result = nightly(inbox=inbox, warehouse=warehouse, today=as_of)
        statuses = {f.file_name: f.status for f in result.files}
        assert statuses == {p.name: world.expected.statuses[p.name] for p in sent}, f"night {number}"
        with duckdb.connect(str(warehouse), read_only=True) as con:
            assert broken_invariants(con) == [], f"night {number}"
            assert counted(con, world) == [], f"night {number}"
            resolved_total = con.execute(
                "SELECT count(*) FROM quarantine.rejected_rows WHERE resolved_at IS NOT NULL"
            ).fetchone()[0]
        assert not [p for p in inbox.iterdir() if p.is_file()], f"night {number}: files left in the inbox"
    assert resolved_total > 5  # the corrected rows did resolve what they fixed
    assert sum(len(v) for v in world.expected.versions.values()) > len(world.expected.versions)  # history

    # The same night again, its files sent once more: nothing changes.
    before = warehouse_state.content(warehouse)
    last = FIRST_NIGHT + timedelta(days=NIGHTS - 1)
    for name, content in world.sent[-3:]:
        (inbox / name).write_bytes(content)
    again = nightly(inbox=inbox, warehouse=warehouse, today=last)
    assert {f.status for f in again.files} == {"skipped"}
    assert warehouse_state.differences(before, warehouse_state.content(warehouse)) == []

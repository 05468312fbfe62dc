"""Loading one parsed file: raw and core rows with lineage, upserts, derived fields, quarantine, all or nothing."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal

import duckdb
import polars as pl
import pytest
from faults import DiskFullAtCommit
from parsed_builders import parsed_file, parsed_sheet, rejection, table_digests, warning

from dealersync.parsed import REFUSED, ParsedFile
from dealersync.schemas.contract import PROBLEM_COLUMNS
from dealersync.steward import loader_problems, loader_problems_by_file
from dealersync.warehouse import load as load_module
from dealersync.warehouse.load import LINEAGE, load_file, loaded_hashes, record_file
from dealersync.warehouse.runs import start_run

DAY = date(2024, 3, 1)
VIN1, VIN2, VIN3 = "LSVAB4BR5EN000001", "LSVAB4BR5EN000002", "LSVAB4BR5EN000003"


def dealer(code="D001", **more) -> dict:
    return {"dealer_code": code, "name": f"Dealer {code}", "region": "East", "active": True, **more}


def customer(customer_id="C1", vin=VIN1, **more) -> dict:
    row = {"dealer_code": "D001", "customer_id": customer_id, "name": "Wang Wei", "phone": "13812345678"}
    return row | {"vin": vin, "model": "EV-3", "warranty_end": date(2025, 1, 1), **more}


def visit(work_order_no="W1", customer_id="C1", vin=VIN1, **more) -> dict:
    row = {"dealer_code": "D001", "work_order_no": work_order_no, "customer_id": customer_id, "vin": vin}
    return row | {"intake_date": date(2024, 2, 1), "visit_type": "repair", "mileage_km": 1000, **more}


def call(call_id="K1", **more) -> dict:
    row = {
        "dealer_code": "D001",
        "call_id": call_id,
        "call_time": datetime(2024, 2, 5, 10, 30),
        "call_type": "first_follow_up",
    }
    return row | {"customer_id": "C1", "staff": "Li", "outcome": "reached", "direction": "outbound", **more}


def reference_file(**sheets) -> ParsedFile:
    dealers = parsed_sheet("dealers", [dealer(), dealer("D002", region="West")])
    parts = parsed_sheet(
        "parts", [{"part_no": "P1", "name": "Motor", "component": "motor", "critical": True}]
    )
    return parsed_file(dealers, parts, *sheets.values(), name="reference.xlsx")


@pytest.fixture
def warehouse(con):
    """A warehouse that knows dealers D001 (East), D002 (West) and part P1 (motor)."""
    load_file(con, reference_file(), run_id=1, as_of=DAY)
    return con


def rows(con, sql: str, *params) -> list[tuple]:
    return con.execute(sql, list(params)).fetchall()


def test_every_raw_and_core_row_carries_its_lineage(warehouse):
    dealer_file = parsed_file(
        parsed_sheet("customers", [customer()], rejected=[customer("C2", phone="12")]),
        parsed_sheet("service_visits", [visit()], sheet="维修记录"),
    )
    load_file(warehouse, dealer_file, run_id=2, as_of=DAY)
    tables = rows(
        warehouse,
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE schema_name IN ('raw', 'core')",
    )
    for (table,) in tables:
        missing = " OR ".join(f"{column} IS NULL" for column in LINEAGE)
        assert rows(warehouse, f"SELECT count(*) FROM {table} WHERE {missing}") == [(0,)], table
        unknown_file = f"SELECT count(*) FROM {table} WHERE file_sha256 NOT IN (SELECT sha256 FROM etl.files)"
        assert rows(warehouse, unknown_file) == [(0,)], table
    assert rows(warehouse, "SELECT run_id, sheet, excel_row FROM core.service_visits") == [(2, "维修记录", 2)]
    assert rows(warehouse, "SELECT excel_row FROM raw.customers WHERE run_id = 2 ORDER BY 1") == [(2,), (3,)]


def test_raw_keeps_every_row_read_as_text_with_unknown_columns_as_json(warehouse):
    sheet = parsed_sheet(
        "service_visits",
        [visit(amount=Decimal("12.50"), _extra='{"车主微信": "wx123"}')],
        rejected=[visit("W2", intake_date="2024-02-30")],
        problems=[rejection(3, "intake_date", "not_a_date")],
    )
    load_file(warehouse, parsed_file(sheet), run_id=2, as_of=DAY)
    assert rows(warehouse, "SELECT excel_row, intake_date, amount FROM raw.service_visits ORDER BY 1") == [
        (2, "2024-02-01", "12.50"),
        (3, "2024-02-30", None),
    ]
    assert rows(warehouse, "SELECT extra->>'车主微信' FROM raw.service_visits WHERE excel_row = 2") == [
        ("wx123",)
    ]
    assert rows(warehouse, "SELECT work_order_no FROM core.service_visits") == [("W1",)]


def test_the_same_file_twice_changes_nothing(warehouse):
    dealer_file = parsed_file(
        parsed_sheet("customers", [customer(), customer("C2", VIN2, phone="13900000000")]),
        parsed_sheet(
            "service_visits",
            [visit(), visit("W2", "C9", VIN3)],
            rejected=[visit("W3", mileage_km=-5)],
            problems=[warning(2, "vin", "vin_check_digit"), rejection(4, "mileage_km", "negative")],
        ),
    )
    load_file(warehouse, dealer_file, run_id=2, as_of=DAY)
    before = table_digests(warehouse)
    again = load_file(warehouse, dealer_file, run_id=3, as_of=date(2024, 3, 2))
    assert table_digests(warehouse) == before
    assert (again.rows_read, again.rows_loaded, again.rows_rejected) == (5, 4, 1)


def test_a_sheet_first_skipped_then_recognised_in_the_same_file_gets_its_raw_rows(warehouse):
    customers = parsed_sheet("customers", [customer()])
    visits = parsed_sheet("service_visits", [visit()], sheet="维修记录")
    whole = parsed_file(customers, visits)
    unknown = dataclasses.replace(
        whole, sheets=[customers], skipped_sheets=[("维修记录", "not a contract sheet")]
    )
    load_file(warehouse, unknown, run_id=2, as_of=DAY)
    load_file(warehouse, whole, run_id=3, as_of=date(2024, 3, 2))  # run --force after adding an alias
    assert rows(warehouse, "SELECT count(*) FROM raw.customers") == [(1,)]
    assert rows(
        warehouse,
        """
        SELECT v.work_order_no, r.work_order_no FROM core.service_visits AS v
        LEFT JOIN raw.service_visits AS r USING (file_sha256, sheet, excel_row)
        """,
    ) == [("W1", "W1")]


def test_a_file_loaded_again_keeps_the_corrections_a_later_file_made(warehouse):
    # run --force loads the same content again (after an alias was added); before, it undid W1's correction
    first = parsed_file(parsed_sheet("service_visits", [visit(mileage_km=1000), visit("W2", mileage_km=50)]))
    fixed = parsed_file(parsed_sheet("service_visits", [visit(mileage_km=1200)]), name="dealer_fixed.xlsx")
    load_file(warehouse, first, run_id=2, as_of=DAY)
    load_file(warehouse, fixed, run_id=3, as_of=date(2024, 3, 2))
    load_file(warehouse, first, run_id=4, as_of=date(2024, 3, 3))
    assert rows(
        warehouse, "SELECT work_order_no, mileage_km, run_id FROM core.service_visits ORDER BY 1"
    ) == [
        ("W1", 1200, 3),
        ("W2", 50, 2),
    ]


def test_a_file_loaded_again_does_not_reopen_what_a_later_file_fixed(warehouse):
    # before: run --force on the old file opened W3's rejection again, beside core's corrected W3
    first = parsed_file(
        parsed_sheet(
            "service_visits",
            [visit()],
            rejected=[visit("W3", mileage_km=-5)],
            problems=[rejection(3, "mileage_km", "negative")],
        )
    )
    fixed = parsed_file(parsed_sheet("service_visits", [visit("W3", mileage_km=5)]), name="dealer_fixed.xlsx")
    load_file(warehouse, first, run_id=2, as_of=DAY)
    load_file(warehouse, fixed, run_id=3, as_of=date(2024, 3, 2))
    load_file(warehouse, first, run_id=4, as_of=date(2024, 3, 3))
    assert rows(warehouse, "SELECT business_key, run_id, resolved_by_run FROM quarantine.rejected_rows") == [
        ("D001|W3", 2, 3)
    ]


def test_a_file_loaded_again_leaves_the_entries_a_later_file_saw_where_they_are(warehouse):
    # before: run --force on the old file pointed W3's entry back at it, and resolved W4's, which the
    # later file had opened (the old file loads W4 cleanly; core keeps W4 as the old file gave it)
    first = parsed_file(
        parsed_sheet(
            "service_visits",
            [visit("W4")],
            rejected=[visit("W3", mileage_km=-5)],
            problems=[rejection(3, "mileage_km", "negative")],
        )
    )
    later = parsed_file(
        parsed_sheet(
            "service_visits",
            [],
            rejected=[visit("W3", mileage_km=-6), visit("W4", mileage_km=-1)],
            problems=[rejection(2, "mileage_km", "negative"), rejection(3, "mileage_km", "negative")],
        ),
        name="dealer_later.xlsx",
    )
    load_file(warehouse, first, run_id=2, as_of=DAY)
    load_file(warehouse, later, run_id=3, as_of=date(2024, 3, 2))
    before = table_digests(warehouse)
    load_file(warehouse, first, run_id=4, as_of=date(2024, 3, 3))
    assert table_digests(warehouse) == before


def test_a_past_nights_file_loaded_after_a_later_days_correction_leaves_it_alone(warehouse):
    # run --today of a past night, with the file that arrived late for it: before, it put W1's old
    # amount back and opened W3's rejection again beside the W3 the later day's file had loaded clean
    def night(day: date, parsed: ParsedFile) -> None:
        load_file(warehouse, parsed, run_id=start_run(warehouse, as_of=day, inbox=None), as_of=day)

    late = parsed_file(
        parsed_sheet(
            "service_visits",
            [visit("W1", amount=Decimal("100.00")), visit("W2", amount=Decimal("7.00"))],
            rejected=[visit("W3", mileage_km=-5)],
            problems=[rejection(4, "mileage_km", "negative")],
        ),
        name="d001_0302.xlsx",
    )
    later = parsed_file(
        parsed_sheet("service_visits", [visit("W1", amount=Decimal("120.00")), visit("W3", mileage_km=5)]),
        name="d001_0303.xlsx",
    )
    night(date(2024, 3, 3), later)
    night(date(2024, 3, 2), late)
    assert rows(
        warehouse, "SELECT work_order_no, amount, mileage_km FROM core.service_visits ORDER BY 1"
    ) == [
        ("W1", Decimal("120.00"), 1000),
        ("W2", Decimal("7.00"), 1000),
        ("W3", None, 5),
    ]
    assert (
        rows(warehouse, "SELECT business_key FROM quarantine.rejected_rows WHERE resolved_at IS NULL") == []
    )


def test_late_files_move_a_vehicles_first_day_back_and_leave_what_a_later_day_wrote(warehouse):
    """A vehicle first sent on 3-20 (plate corrected that day) is named by late files for 3-12 and 3-15:
    it is known from 3-12, and its plate and its lineage (the file row an analyst follows to that plate)
    stay the ones of 3-20 through both."""

    def night(day: date, plate: str) -> None:
        parsed = parsed_file(
            parsed_sheet("customers", [customer("C1", VIN1, plate_no=plate)]), name=f"{day}.xlsx"
        )
        load_file(warehouse, parsed, run_id=start_run(warehouse, as_of=day, inbox=None), as_of=day)

    night(date(2024, 3, 20), "沪A00020")
    lineage = rows(warehouse, f"SELECT {', '.join(LINEAGE)} FROM core.vehicles")
    night(date(2024, 3, 12), "沪A00012")
    night(date(2024, 3, 15), "沪A00015")
    assert rows(warehouse, f"SELECT {', '.join(LINEAGE)} FROM core.vehicles") == lineage
    assert rows(warehouse, "SELECT plate_no, first_seen FROM core.vehicles") == [
        ("沪A00020", date(2024, 3, 12))
    ]


def test_a_corrected_file_replaces_its_rows_and_resolves_exactly_the_fixed_entries(warehouse):
    first = parsed_file(
        parsed_sheet(
            "service_visits",
            [visit("W1", amount=Decimal("100.00")), visit("W3")],
            rejected=[visit("W2", pickup_date="2024-01-01"), visit("W4", mileage_km=-1)],
            problems=[
                warning(3, "vin", "vin_check_digit"),
                rejection(4, "pickup_date", "pickup_before_intake"),
                rejection(5, "mileage_km", "negative"),
            ],
        ),
        parsed_sheet("customers", [customer()]),
    )
    load_file(warehouse, first, run_id=2, as_of=DAY)
    open_before = rows(warehouse, "SELECT business_key, rule FROM quarantine.entries ORDER BY 1")
    assert open_before == [
        ("D001|W2", "pickup_before_intake"),
        ("D001|W3", "vin_check_digit"),
        ("D001|W4", "negative"),
    ]
    corrected = parsed_file(
        parsed_sheet(
            "service_visits",
            [
                visit("W1", amount=Decimal("120.00")),
                visit("W3"),
                visit("W2", pickup_date=date(2024, 2, 3)),
            ],
            rejected=[visit("W4", mileage_km=-1)],
            problems=[warning(3, "vin", "vin_check_digit"), rejection(5, "mileage_km", "negative")],
        ),
        parsed_sheet("customers", [customer()]),
    )
    load_file(warehouse, corrected, run_id=3, as_of=date(2024, 3, 2))
    assert rows(
        warehouse, "SELECT work_order_no, amount, pickup_date FROM core.service_visits ORDER BY 1"
    ) == [
        ("W1", Decimal("120.00"), None),
        ("W2", None, date(2024, 2, 3)),
        ("W3", None, None),
    ]
    entries = rows(
        warehouse,
        "SELECT business_key, rule, resolved_by_run, file_sha256 = ? FROM quarantine.entries ORDER BY 1",
        corrected.sha256,
    )
    assert entries == [
        ("D001|W2", "pickup_before_intake", 3, False),  # fixed
        (
            "D001|W3",
            "vin_check_digit",
            None,
            True,
        ),  # seen again: the same entry, now pointing at the new file
        ("D001|W4", "negative", None, True),
    ]


def test_a_row_still_rejected_for_another_rule_keeps_its_entry_open(warehouse):
    first = parsed_sheet(
        "service_visits",
        [],
        rejected=[visit("W2", mileage_km=-1)],
        problems=[rejection(2, "mileage_km", "negative")],
    )
    load_file(warehouse, parsed_file(first), run_id=2, as_of=DAY)
    second = parsed_sheet(
        "service_visits",
        [],
        rejected=[visit("W2", advisor="x")],
        problems=[rejection(2, "intake_date", "in_future")],
    )
    load_file(warehouse, parsed_file(second), run_id=3, as_of=DAY)
    assert rows(warehouse, "SELECT rule, resolved_at IS NULL FROM quarantine.rejected_rows ORDER BY 1") == [
        ("in_future", True),
        ("negative", True),  # not loaded yet: "resolved when this file loads a row ... that no longer fails"
    ]


def test_an_entry_without_a_readable_key_is_resolved_by_its_place_in_the_same_file(warehouse):
    unreadable = rejection(2, "work_order_no", "required", business_key="")
    first = parsed_sheet("service_visits", [], rejected=[visit(None)], problems=[unreadable])
    load_file(warehouse, parsed_file(first, name="d001.xlsx"), run_id=2, as_of=DAY)
    load_file(
        warehouse,
        parsed_file(parsed_sheet("service_visits", [visit("W9")]), name="other.xlsx"),
        run_id=3,
        as_of=DAY,
    )
    assert rows(warehouse, "SELECT resolved_by_run FROM quarantine.rejected_rows") == [(None,)]
    fixed = parsed_sheet("service_visits", [visit("W1")])
    load_file(warehouse, parsed_file(fixed, name="d001.xlsx"), run_id=4, as_of=DAY)
    assert rows(warehouse, "SELECT resolved_by_run FROM quarantine.rejected_rows") == [(4,)]


def test_an_entry_on_a_cell_of_the_key_is_resolved_by_its_place_when_that_cell_is_corrected(warehouse):
    # Correcting a mistyped VIN (part of the customers key) changes the row's key: the entry stayed open
    # for good, on the cell stewards fix most on that sheet.
    bad = customer(vin="LSVAB4BR5EN00000O")
    wrong_vin = rejection(2, "vin", "vin_format", business_key=f"D001|C1|{bad['vin']}")
    first = parsed_sheet("customers", [], rejected=[bad], problems=[wrong_vin])
    load_file(warehouse, parsed_file(first, name="d001.xlsx"), run_id=2, as_of=DAY)
    assert rows(warehouse, "SELECT resolved_by_run FROM quarantine.rejected_rows") == [(None,)]
    still_wrong = rejection(2, "vin", "vin_format", business_key="D001|C1|LSVAB4BR5EN00000I")
    resent = parsed_sheet(
        "customers", [], rejected=[customer(vin="LSVAB4BR5EN00000I")], problems=[still_wrong]
    )
    load_file(warehouse, parsed_file(resent, name="d001.xlsx"), run_id=3, as_of=DAY)
    assert rows(
        warehouse, "SELECT resolved_by_run FROM quarantine.rejected_rows WHERE cell_value LIKE '%O'"
    ) == [(None,)]
    fixed = parsed_sheet("customers", [customer()])
    load_file(warehouse, parsed_file(fixed, name="d001.xlsx"), run_id=4, as_of=DAY)
    assert rows(warehouse, "SELECT resolved_by_run FROM quarantine.rejected_rows ORDER BY entry_id") == [
        (4,),
        (4,),
    ]


def test_a_global_key_entry_is_resolved_whatever_dealer_the_corrected_row_names(warehouse):
    shipment = {"shipment_line_id": "S1", "order_no": "O1", "dealer_code": "D999", "part_no": "P1"}
    shipment |= {"qty_ordered": 2, "qty_shipped": 2, "ship_date": DAY}
    first = parsed_sheet(
        "part_shipments", [], rejected=[shipment], problems=[rejection(2, "dealer_code", "unknown_dealer")]
    )
    load_file(warehouse, parsed_file(first), run_id=2, as_of=DAY)
    fixed = parsed_sheet("part_shipments", [shipment | {"dealer_code": "D001"}])
    load_file(warehouse, parsed_file(fixed), run_id=3, as_of=DAY)
    assert rows(
        warehouse, "SELECT dealer_code, business_key, resolved_by_run FROM quarantine.rejected_rows"
    ) == [("D999", "S1", 3)]


def test_a_problem_repeated_within_a_file_is_one_entry(warehouse):
    sheet = parsed_sheet(
        "service_visits",
        [visit("W1")],
        rejected=[visit("W1", excel_row=3), visit("W1", excel_row=4)],
        problems=[rejection(3, "", "duplicate_key"), rejection(4, "", "duplicate_key")],
    )
    load_file(warehouse, parsed_file(sheet), run_id=2, as_of=DAY)
    assert rows(warehouse, "SELECT business_key, excel_row, resolved_at FROM quarantine.rejected_rows") == [
        ("D001|W1", 3, None)  # the first copy loaded; the duplicates are not "fixed" by it
    ]


@pytest.mark.parametrize(
    "step", ["load_customers", "load_service_visits", "record_problems", "record_sheets"]
)
def test_a_failure_in_the_middle_of_a_file_leaves_the_warehouse_as_before(warehouse, monkeypatch, step):
    load_file(warehouse, parsed_file(parsed_sheet("service_visits", [visit("W0")])), run_id=2, as_of=DAY)
    before = table_digests(warehouse, ("raw", "core", "quarantine", "etl"))
    dealer_file = parsed_file(
        parsed_sheet("customers", [customer()], problems=[warning(2, "vin", "vin_check_digit")]),
        parsed_sheet("service_visits", [visit("W0", amount=Decimal(5)), visit("W1")]),
        parsed_sheet("follow_up_calls", [call()]),
    )
    original = getattr(load_module._FileLoader, step)

    def fail_after(self, *args, **kwargs):
        original(self, *args, **kwargs)
        raise RuntimeError(f"injected failure after {step}")

    monkeypatch.setattr(load_module._FileLoader, step, fail_after)
    with pytest.raises(RuntimeError, match="injected failure"):
        load_file(warehouse, dealer_file, run_id=3, as_of=DAY)
    assert table_digests(warehouse, ("raw", "core", "quarantine", "etl")) == before
    monkeypatch.undo()
    loaded = load_file(warehouse, dealer_file, run_id=3, as_of=DAY)  # the connection is fine afterwards
    assert loaded.rows_loaded == 4


def test_a_file_that_cannot_be_committed_says_the_disk_is_full(warehouse):
    # Before: the rollback after the failed COMMIT raised "cannot rollback - no transaction is active",
    # and that was what etl.files and the run's log gave as the file's reason.
    before = table_digests(warehouse, ("raw", "core", "quarantine", "etl"))
    dealer_file = parsed_file(parsed_sheet("service_visits", [visit("W1")]))
    with pytest.raises(duckdb.TransactionException, match="No space left on device"):
        load_file(DiskFullAtCommit(warehouse), dealer_file, run_id=2, as_of=DAY)
    assert table_digests(warehouse, ("raw", "core", "quarantine", "etl")) == before


def test_reference_kinds_load_first_so_customers_get_their_dealers_region(con):
    mixed = parsed_file(
        parsed_sheet("customers", [customer("C1"), customer("C2", VIN2, region="North")]),
        parsed_sheet("dealers", [dealer()]),
    )
    load_file(con, mixed, run_id=1, as_of=DAY)
    assert rows(con, "SELECT customer_id, region FROM core.customers_current ORDER BY 1") == [
        ("C1", "East"),  # "defaults to the dealer's region"
        ("C2", "North"),
    ]


def test_a_customer_with_several_vehicles_is_one_customer_with_several_vehicles(warehouse):
    sheet = parsed_sheet("customers", [customer("C1", VIN1), customer("C1", VIN2, plate_no="沪A12345")])
    load_file(warehouse, parsed_file(sheet), run_id=2, as_of=DAY)
    assert rows(warehouse, "SELECT count(*) FROM core.customers") == [(1,)]
    assert rows(warehouse, "SELECT vin, plate_no, name FROM core.customer_vehicles ORDER BY 1") == [
        (VIN1, None, "Wang Wei"),
        (VIN2, "沪A12345", "Wang Wei"),
    ]


def test_under_warranty_when_blank_comes_from_the_vehicle(warehouse):
    customers = parsed_sheet("customers", [customer("C1", VIN1, warranty_end=date(2024, 2, 1))])
    visits = parsed_sheet(
        "service_visits",
        [
            visit("W1", intake_date=date(2024, 2, 1)),  # warranty_end >= intake: in warranty
            visit("W2", intake_date=date(2024, 2, 2)),  # a day after the warranty ended
            visit("W3", intake_date=date(2024, 1, 1), under_warranty=False),  # as written
            visit("W4", "C2", VIN2),  # vehicle not known yet
        ],
    )
    load_file(warehouse, parsed_file(customers, visits), run_id=2, as_of=DAY)
    assert rows(warehouse, "SELECT work_order_no, under_warranty FROM core.service_visits ORDER BY 1") == [
        ("W1", True),
        ("W2", False),
        ("W3", False),
        ("W4", None),
    ]
    later = parsed_sheet("customers", [customer("C2", VIN2, warranty_end=date(2026, 1, 1))])
    load_file(warehouse, parsed_file(later), run_id=3, as_of=DAY)
    assert rows(warehouse, "SELECT under_warranty FROM core.service_visits WHERE work_order_no = 'W4'") == [
        (True,)
    ]


def test_a_corrected_warranty_end_recomputes_the_visits_that_left_under_warranty_blank(warehouse):
    customers = parsed_sheet("customers", [customer("C1", VIN1, warranty_end=date(2024, 1, 1))])
    visits = parsed_sheet(
        "service_visits",
        [
            visit("W1", intake_date=date(2024, 2, 1)),
            visit("W2", intake_date=date(2024, 2, 1), under_warranty=False),
        ],
    )
    load_file(warehouse, parsed_file(customers, visits), run_id=2, as_of=DAY)
    corrected = parsed_sheet("customers", [customer("C1", VIN1, warranty_end=date(2026, 1, 1))])
    load_file(warehouse, parsed_file(corrected), run_id=3, as_of=DAY)
    # W1's flag was derived, so it follows the vehicle; W2's was written, so it stays as written
    assert rows(warehouse, "SELECT work_order_no, under_warranty FROM core.service_visits ORDER BY 1") == [
        ("W1", True),
        ("W2", False),
    ]


def test_a_blank_customer_region_follows_the_dealers_region_as_it_changes(warehouse):
    load_file(warehouse, parsed_file(parsed_sheet("customers", [customer("C1")])), run_id=2, as_of=DAY)
    moved = parsed_file(parsed_sheet("dealers", [dealer(region="North")]))
    load_file(warehouse, moved, run_id=3, as_of=date(2024, 7, 1))
    assert rows(warehouse, "SELECT region FROM core.customers") == [(None,)]  # as the sheet gave it
    assert rows(warehouse, "SELECT region FROM core.customers_current") == [("North",)]


def test_a_vehicle_moving_to_another_customer_loads_and_says_so(warehouse):
    load_file(warehouse, parsed_file(parsed_sheet("customers", [customer("C1", VIN1)])), run_id=2, as_of=DAY)
    sold = parsed_sheet("customers", [customer("C2", VIN1), customer("C2", VIN2)])
    loaded = load_file(warehouse, parsed_file(sold), run_id=3, as_of=DAY)
    assert rows(warehouse, "SELECT vin, customer_id FROM core.vehicles ORDER BY 1") == [
        (VIN1, "C2"),
        (VIN2, "C2"),
    ]
    assert loaded.kinds["customers"].rows_warned == 1
    [(rule, field, message)] = rows(warehouse, "SELECT rule, field, message FROM quarantine.warnings")
    assert (rule, field) == ("vehicle_changed_owner", "vin")
    assert message.startswith(
        f"vin {VIN1} was the vehicle of customer C1 (already loaded, from customers row 2)"
    )


def test_a_customer_on_several_rows_takes_each_attribute_from_the_first_row_that_gives_it(warehouse):
    sheet = parsed_sheet(
        "customers",
        [customer("C1", VIN1, address=None), customer("C1", VIN2, address="上海路2号", phone="13900000002")],
    )
    load_file(warehouse, parsed_file(sheet), run_id=2, as_of=DAY)
    assert rows(warehouse, "SELECT phone, address FROM core.customers") == [("13812345678", "上海路2号")]


def test_a_vehicle_on_two_customers_rows_is_loaded_once_from_the_first_row(warehouse):
    sheet = parsed_sheet("customers", [customer("C1", VIN1), customer("C2", VIN1, model="EV-5")])
    load_file(warehouse, parsed_file(sheet), run_id=2, as_of=DAY)
    assert rows(warehouse, "SELECT vin, customer_id, model, excel_row FROM core.vehicles") == [
        (VIN1, "C1", "EV-3", 2)
    ]


def test_a_visit_without_a_customer_file_is_loaded_flagged_and_cleared_when_the_file_arrives(warehouse):
    visits = parsed_sheet("service_visits", [visit("W1", "C1"), visit("W2", "C2", VIN2)])
    same_file_customers = parsed_sheet("customers", [customer("C1")])
    loaded = load_file(warehouse, parsed_file(visits, same_file_customers), run_id=2, as_of=DAY)
    assert loaded.kinds["service_visits"].rows_warned == 1
    assert rows(warehouse, "SELECT work_order_no, has_customer_file FROM core.service_visits ORDER BY 1") == [
        ("W1", True),
        ("W2", False),
    ]
    assert rows(warehouse, "SELECT business_key, rule, field, cell_value FROM quarantine.warnings") == [
        ("D001|W2", "no_customer_file", "customer_id", "C2")
    ]
    load_file(warehouse, parsed_file(parsed_sheet("customers", [customer("C2", VIN2)])), run_id=3, as_of=DAY)
    assert rows(
        warehouse, "SELECT has_customer_file FROM core.service_visits WHERE work_order_no = 'W2'"
    ) == [(True,)]
    assert rows(warehouse, "SELECT resolved_by_run FROM quarantine.warnings") == [(3,)]


def test_mileage_lower_than_an_earlier_visit_in_the_warehouse_is_a_warning(warehouse):
    earlier = parsed_sheet("service_visits", [visit("W1", intake_date=date(2024, 1, 5), mileage_km=5000)])
    load_file(warehouse, parsed_file(earlier, parsed_sheet("customers", [customer()])), run_id=2, as_of=DAY)
    later = parsed_sheet(
        "service_visits",
        [
            visit("W2", intake_date=date(2024, 2, 1), mileage_km=4000),
            visit("W3", intake_date=date(2024, 2, 1), mileage_km=6000),
            visit("W4", vin=VIN2, intake_date=date(2024, 2, 1), mileage_km=10),  # another vehicle
        ],
        headers={"mileage_km": "里程(km)"},
    )
    loaded = load_file(warehouse, parsed_file(later), run_id=3, as_of=DAY)
    assert loaded.rows_warned == 1
    (entry,) = rows(
        warehouse, "SELECT business_key, column_name, cell_value, message FROM quarantine.warnings"
    )
    assert entry[:3] == ("D001|W2", "里程(km)", "4000")
    assert "5000" in entry[3] and "W1" in entry[3]


def test_the_loader_warnings_of_files_loaded_together_are_told_apart_for_their_steward_copies(warehouse):
    # two dealers' files load in one group, each with a visit of a customer who has no customer file
    east = parsed_file(parsed_sheet("service_visits", [visit("W1", customer_id="C9")]), name="east.xlsx")
    west = parsed_file(
        parsed_sheet("service_visits", [visit("W7", dealer_code="D002", customer_id="C8", vin=VIN2)]),
        name="west.xlsx",
    )
    load_module.load_files(warehouse, [east, west], run_id=2, as_of=DAY)
    quiet = parsed_file(parsed_sheet("customers", [customer()]), name="quiet.xlsx")  # nothing to warn of
    load_file(warehouse, quiet, run_id=2, as_of=DAY)
    found = loader_problems_by_file(warehouse, run_id=2, sha256s=[east.sha256, west.sha256, quiet.sha256])
    assert found[east.sha256].select("cell_value", "rule").rows() == [("C9", "no_customer_file")]
    assert found[west.sha256].select("cell_value", "rule").rows() == [("C8", "no_customer_file")]
    assert found[quiet.sha256].is_empty() and found[quiet.sha256].columns == list(PROBLEM_COLUMNS)
    assert found[west.sha256].equals(loader_problems(warehouse, run_id=2, sha256=west.sha256))


def test_a_late_visit_with_more_km_than_a_later_one_already_loaded_is_a_warning(warehouse):
    # February's visit is loaded first; January's file arrives late with more km than February showed.
    later = parsed_sheet("service_visits", [visit("W2", intake_date=date(2024, 2, 1), mileage_km=4000)])
    load_file(warehouse, parsed_file(later, parsed_sheet("customers", [customer()])), run_id=2, as_of=DAY)
    late = parsed_sheet(
        "service_visits",
        [
            visit("W1", intake_date=date(2024, 1, 5), mileage_km=5000),
            visit("W0", intake_date=date(2023, 12, 1), mileage_km=3000),  # fewer km: right
            visit("W3", intake_date=date(2024, 3, 1), mileage_km=5000),  # after February: right
        ],
        headers={"mileage_km": "里程(km)"},
    )
    late_file = parsed_file(late)
    loaded = load_file(warehouse, late_file, run_id=3, as_of=DAY)
    assert loaded.rows_warned == 1
    (entry,) = rows(
        warehouse, "SELECT business_key, rule, column_name, cell_value, message FROM quarantine.warnings"
    )
    assert entry[:4] == ("D001|W1", "mileage_above_later", "里程(km)", "5000")
    # the steward's marked copy of the late file shows it
    shown = loader_problems(warehouse, run_id=3, sha256=late_file.sha256)
    assert shown.select("excel_row", "rule").rows() == [(2, "mileage_above_later")]
    assert "4000" in entry[4] and "W2" in entry[4]
    # the dealer corrects February's reading and sends both visits again: the warning is resolved
    load_file(
        warehouse,
        parsed_file(
            parsed_sheet(
                "service_visits",
                [
                    visit("W2", intake_date=date(2024, 2, 1), mileage_km=5000),
                    visit("W1", intake_date=date(2024, 1, 5), mileage_km=5000),
                ],
            )
        ),
        run_id=4,
        as_of=DAY,
    )
    assert rows(warehouse, "SELECT count(*) FROM quarantine.warnings WHERE resolved_at IS NULL") == [(0,)]


def test_a_part_failure_without_component_takes_the_parts_component(warehouse):
    failure = {"feedback_id": "F1", "report_date": DAY, "dealer_code": "D001", "failure_mode": "noise"}
    sheet = parsed_sheet(
        "part_failures",
        [failure | {"part_no": "P1"}, failure | {"feedback_id": "F2", "part_no": "P1", "component": "frame"}],
    )
    load_file(warehouse, parsed_file(sheet), run_id=2, as_of=DAY)
    assert rows(warehouse, "SELECT feedback_id, component FROM core.part_failures ORDER BY 1") == [
        ("F1", "motor"),
        ("F2", "frame"),
    ]


def test_a_corrected_parts_component_moves_the_failures_that_left_it_blank(warehouse):
    # Head office files P2 under 其他, then corrects it to 控制器: a failure reported without a component is
    # the controller's from then on (critical-component figures, batch watch); one that named it stays.
    catalogue = {"part_no": "P2", "name": "Controller", "critical": None}
    load_file(
        warehouse,
        parsed_file(parsed_sheet("parts", [catalogue | {"component": "other"}])),
        run_id=2,
        as_of=DAY,
    )
    failure = {"report_date": DAY, "dealer_code": "D001", "part_no": "P2", "failure_mode": "dead"}
    reported = parsed_sheet(
        "part_failures",
        [
            failure | {"feedback_id": "F1", "component": "other"},  # blank in the sheet, derived when checked
            failure | {"feedback_id": "F2", "component": "other"},  # written as 其他
            failure | {"feedback_id": "F3", "component": "other"},  # blank, but for a full-width space
        ],
    )
    reported.raw = reported.raw.with_columns(component=pl.Series([None, "其他", "\u3000"]))
    load_file(warehouse, parsed_file(reported, name="warehouse.xlsx"), run_id=3, as_of=DAY)
    corrected = parsed_file(
        parsed_sheet("parts", [catalogue | {"component": "controller"}]), name="ref2.xlsx"
    )
    load_file(warehouse, corrected, run_id=4, as_of=DAY)
    assert rows(
        warehouse, "SELECT feedback_id, component, component_derived FROM core.part_failures ORDER BY 1"
    ) == [
        ("F1", "controller", True),
        ("F2", "other", False),
        ("F3", "controller", True),
    ]


def test_counts_per_kind_and_the_files_record(warehouse):
    dealer_file = parsed_file(
        parsed_sheet("customers", [customer()], problems=[warning(2, "vin", "vin_check_digit")]),
        parsed_sheet(
            "service_visits",
            [visit()],
            rejected=[visit("W2")],
            problems=[rejection(3, "intake_date", "in_future")],
        ),
    )
    dealer_file.skipped_sheets = [("说明", "not a sheet of the contract")]
    dealer_file.sheets[1].title_rows = [5, 9]  # 2026年10月, 2026年11月 between the visits
    loaded = load_file(warehouse, dealer_file, run_id=2, as_of=DAY, stored_as="processed/dealer.xlsx")
    assert {
        kind: (k.rows_read, k.rows_loaded, k.rows_warned, k.rows_rejected) for kind, k in loaded.kinds.items()
    } == {
        "customers": (1, 1, 1, 0),
        "service_visits": (2, 1, 0, 1),
    }
    assert rows(
        warehouse,
        "SELECT status, rows_read, rows_loaded, rows_warned, rows_rejected, stored_as FROM etl.files WHERE run_id = 2",
    ) == [("loaded", 3, 2, 1, 1, "processed/dealer.xlsx")]
    assert rows(
        warehouse,
        "SELECT sheet, kind, rows_read, title_rows, skipped_reason FROM etl.file_sheets WHERE run_id = 2",
    ) == [
        ("customers", "customers", 1, 0, None),
        ("service_visits", "service_visits", 2, 2, None),
        ("说明", None, 0, 0, "not a sheet of the contract"),
    ]


def test_refused_skipped_and_failed_files_are_recorded_without_data(warehouse):
    refused = ParsedFile(
        path=None, file_name="x.xlsx", sha256="abc", size_bytes=10, status=REFUSED, reason="encrypted"
    )
    record_file(warehouse, refused, run_id=2, status="refused")
    with pytest.raises(ValueError, match="not parsed"):
        load_file(warehouse, refused, run_id=2, as_of=DAY)
    with pytest.raises(ValueError, match="refused, skipped or failed"):
        record_file(warehouse, refused, run_id=2, status="loaded")
    assert rows(
        warehouse, "SELECT file_name, status, reason, rows_loaded FROM etl.files WHERE run_id = 2"
    ) == [("x.xlsx", "refused", "encrypted", 0)]
    assert loaded_hashes(warehouse) == {reference_file().sha256}


def test_a_visit_corrected_in_the_same_file_is_not_compared_with_its_old_mileage(warehouse):
    typo = parsed_sheet("service_visits", [visit("W1", intake_date=date(2024, 1, 5), mileage_km=50000)])
    load_file(warehouse, parsed_file(typo, parsed_sheet("customers", [customer()])), run_id=2, as_of=DAY)
    corrected = parsed_sheet(
        "service_visits",
        [
            visit("W1", intake_date=date(2024, 1, 5), mileage_km=5000),
            visit("W2", intake_date=date(2024, 2, 1), mileage_km=6000),
        ],
    )
    assert load_file(warehouse, parsed_file(corrected), run_id=3, as_of=DAY).rows_warned == 0

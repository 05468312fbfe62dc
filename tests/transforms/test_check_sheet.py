"""check_sheet: a sheet as the reader hands it over, to the rows that load and the problems a steward reads."""

from __future__ import annotations

import random
from datetime import date, datetime
from decimal import Decimal

import polars as pl
import pytest

from dealersync.schemas.contract import EXCEL_ROW, PROBLEM_COLUMNS, SHEETS
from dealersync.transforms.normalise import DTYPES
from dealersync.transforms.validate import Refs, SheetChecked, check_sheet

TODAY = date(2024, 6, 30)
VIN = "LFPH4ACB6A1234567"  # check digit 6 is right
OTHER_VIN = "LGWEF4A53MH123456"

# One valid row per sheet kind, written as a dealer would.
VALID: dict[str, dict[str, str | None]] = {
    "customers": {
        "dealer_code": "D0012",
        "customer_id": "C001",
        "name": "张三",
        "phone": "13812345678",
        "address": "济南市历下区",
        "region": "华东",
        "contact_person": "张三",
        "vin": VIN,
        "plate_no": "鲁A12345",
        "model": "EV-1",
        "vehicle_type": "电动三轮",
        "purchase_date": "2024-01-15",
        "warranty_end": "2026-01-15",
        "preferred_services": "保养提醒",
    },
    "service_visits": {
        "dealer_code": "D0012",
        "work_order_no": "WO001",
        "customer_id": "C001",
        "vin": VIN,
        "intake_date": "2024-03-04",
        "pickup_date": "2024-03-05",
        "visit_type": "保养",
        "service_items": "换机油",
        "parts_used": "P001",
        "mileage_km": "12,000 km",
        "amount": "350元",
        "maintenance_cycle_days": "90天",
        "next_maintenance_date": "2024-06-01",
        "under_warranty": "是",
        "advisor": "李四",
    },
    "follow_up_calls": {
        "dealer_code": "D0012",
        "call_id": "CALL001",
        "call_time": "2024-03-08 10:30",
        "direction": "呼出",
        "call_type": "首次回访",
        "customer_id": "C001",
        "work_order_no": "WO001",
        "campaign_id": None,
        "complaint_id": None,
        "staff": "王五",
        "outcome": "接通",
        "satisfaction": "满意",
        "customer_request": None,
        "needs_action": "否",
        "notes": None,
    },
    "letters": {
        "dealer_code": "D0012",
        "letter_id": "L001",
        "customer_id": "C001",
        "sent_date": "2024-03-10",
        "letter_type": "邀请函",
        "campaign_id": "CP01",
        "notes": None,
    },
    "complaints": {
        "dealer_code": "D0012",
        "complaint_id": "TS001",
        "received_date": "2024-03-06",
        "customer_id": "C001",
        "vin": VIN,
        "channel": "电话",
        "category": "维修质量",
        "component": "电机",
        "description": "电机异响",
        "severity": "严重",
        "escalated_date": "2024-03-07",
        "resolved_date": "2024-03-09",
        "resolution": "更换电机",
        "customer_satisfied": "是",
    },
    "part_shipments": {
        "shipment_line_id": "SL001",
        "order_no": "PO001",
        "dealer_code": "D0012",
        "part_no": "P001",
        "qty_ordered": "10",
        "qty_shipped": "10",
        "ship_date": "2024-03-01",
        "shipped_correct": "是",
        "error_type": None,
    },
    "part_failures": {
        "feedback_id": "FB001",
        "report_date": "2024-03-06",
        "dealer_code": "D0012",
        "vin": VIN,
        "part_no": "P001",
        "component": "电机",
        "batch_no": "B2401",
        "production_date": "2024-01-10",
        "mileage_km": "3000",
        "failure_mode": "异响",
        "work_order_no": "WO001",
    },
    "part_batches": {
        "part_no": "P001",
        "batch_no": "B2401",
        "production_date": "2024-01-10",
        "quantity": "500",
        "supplier": "某厂",
    },
    "dealers": {
        "dealer_code": "D0012",
        "name": "济南某经销商",
        "region": "华东",
        "province": "山东",
        "city": "济南",
        "contact_person": "赵六",
        "phone": "0531-88886666",
        "roving_staff": "孙七",
        "has_service_shop": "是",
        "active": "是",
    },
    "parts": {
        "part_no": "P001",
        "name": "驱动电机",
        "component": "电机",
        "critical": "是",
        "unit_price": "1200.00",
    },
    "campaigns": {
        "campaign_id": "CP01",
        "name": "春季免费检测",
        "campaign_type": "免费检测",
        "start_date": "2024-04-01",
        "end_date": "2024-04-30",
        "region": "华东",
        "model": "EV-1",
    },
}

REFS = Refs(
    dealers=pl.DataFrame({"dealer_code": ["D0012", "D0013"], "region": ["华东", "华北"]}),
    parts=pl.DataFrame({"part_no": ["P001", "P002"], "component": ["motor", "frame"]}),
    campaigns=pl.DataFrame({"campaign_id": ["CP01"]}),
)


def sheet_frame(kind: str, rows: list[dict], drop: tuple[str, ...] = ()) -> pl.DataFrame:
    """The reader's frame: excel_row (from 2), one text column per recognised field, and _extra."""
    names = [name for name in SHEETS[kind].names if name not in drop]
    return pl.DataFrame(
        {
            EXCEL_ROW: list(range(2, len(rows) + 2)),
            **{name: [row.get(name) for row in rows] for name in names},
            "_extra": [None] * len(rows),
        },
        schema={EXCEL_ROW: pl.Int64, **dict.fromkeys(names, pl.Utf8), "_extra": pl.Utf8},
    )


def check(
    aliases, kind: str, *changes: dict, refs: Refs = REFS, drop: tuple[str, ...] = (), **options
) -> SheetChecked:
    """check_sheet on the valid row of `kind` changed by each of `changes` (one row each)."""
    rows = [{**VALID[kind], **change} for change in (changes or ({},))]
    options = {"headers": {}, "today": TODAY, **options}
    return check_sheet(
        kind, sheet_frame(kind, rows, drop), sheet=f"{kind} sheet", aliases=aliases, refs=refs, **options
    )


def found(result: SheetChecked) -> list[tuple]:
    return result.problems.select(EXCEL_ROW, "field", "rule").rows()


@pytest.mark.parametrize("kind", sorted(SHEETS))
def test_a_valid_row_of_every_kind_loads_typed(aliases, kind):
    result = check(aliases, kind)
    assert found(result) == []
    assert result.clean.schema == pl.Schema(
        {EXCEL_ROW: pl.Int64, **{column.name: DTYPES[column.type] for column in SHEETS[kind].columns}}
    )
    assert result.clean[EXCEL_ROW].to_list() == [2]
    assert result.problems.schema == pl.Schema(
        {name: pl.Int64 if name == EXCEL_ROW else pl.Utf8 for name in PROBLEM_COLUMNS}
    )


def test_clean_values_are_normalised(aliases):
    row = check(aliases, "service_visits", {"dealer_code": "d0012 ", "under_warranty": "√"}).clean.row(
        0, named=True
    )
    assert row["dealer_code"] == "D0012"
    assert row["intake_date"] == date(2024, 3, 4)
    assert row["visit_type"] == "maintenance"
    assert row["mileage_km"] == 12000
    assert row["amount"] == Decimal("350.00")
    assert row["maintenance_cycle_days"] == 90
    assert row["under_warranty"] is True
    call = check(aliases, "follow_up_calls", {"satisfaction": "4"}).clean.row(0, named=True)
    assert call["call_time"] == datetime(2024, 3, 8, 10, 30)
    assert call["satisfaction"] == "satisfied"


def test_a_failed_lookup_formula_rejects_its_row_naming_the_column(aliases):
    # A clerk fills 客户编号 with a VLOOKUP; where it finds nothing Excel shows #N/A, and the reader hands
    # the cell over as that text. It is no customer number: loaded, it became a customer called "#N/A".
    result = check(
        aliases,
        "service_visits",
        {"customer_id": "#N/A"},
        {"work_order_no": "WO002"},
        headers={"customer_id": "客户号"},
    )
    assert found(result) == [(2, "customer_id", "excel_error")]
    problem = result.problems.row(0, named=True)
    assert problem["column_name"] == "客户号" and problem["cell_value"] == "#N/A"
    assert problem["message"].startswith('客户号 shows the Excel error "#N/A"')
    assert "correct the formula" in problem["message"] and "公式" in problem["message_zh"]
    assert result.clean[EXCEL_ROW].to_list() == [3]


@pytest.mark.parametrize(
    ("written", "loaded"),
    [
        ("0531-8888 6666", "053188886666"),  # one number: its digits, as a customer's phone
        ("0531-88886666转8001", "0531-88886666转8001"),  # an extension: kept as written
        ("13812345678 / 13912345678", "13812345678 / 13912345678"),  # two numbers
        ("无", "无"),
    ],
)
def test_a_dealers_phone_that_is_not_one_number_does_not_reject_the_dealer(aliases, written, loaded):
    # Rejecting the dealer for its contact phone made it unknown, and every row of its own files with it.
    result = check(aliases, "dealers", {"phone": written})
    assert found(result) == []
    assert result.clean["phone"].to_list() == [loaded]


def test_a_customers_phone_must_still_be_one_number(aliases):
    # The customer is called on it: an extension is rejected (contract: "normalised to digits").
    assert found(check(aliases, "customers", {"phone": "0531-88886666转8001"})) == [
        (2, "phone", "not_a_phone")
    ]


# (kind, changed cells, the (field, rule) expected) — one invalid case per rule.
REJECTIONS = [
    ("customers", {"name": None}, ("name", "required")),  # a required cell left blank
    ("customers", {"name": "  "}, ("name", "required")),  # spaces only are blank
    ("service_visits", {"intake_date": "2024-02-30"}, ("intake_date", "not_a_date")),
    ("service_visits", {"intake_date": "03/05/2024"}, ("intake_date", "not_a_date")),  # ambiguous
    ("follow_up_calls", {"call_time": "2024-03-08 25:00"}, ("call_time", "not_a_datetime")),
    ("service_visits", {"mileage_km": "12万"}, ("mileage_km", "not_a_number")),
    ("service_visits", {"maintenance_cycle_days": "90.5"}, ("maintenance_cycle_days", "not_whole_number")),
    ("service_visits", {"amount": "350.125"}, ("amount", "too_many_decimals")),
    ("service_visits", {"under_warranty": "也许"}, ("under_warranty", "not_yes_no")),
    ("service_visits", {"visit_type": "大修"}, ("visit_type", "not_in_list")),
    ("follow_up_calls", {"satisfaction": "6"}, ("satisfaction", "not_in_list")),  # score beyond 1–5
    ("customers", {"phone": "138-1234-5678 转 3"}, ("phone", "not_a_phone")),
    ("customers", {"phone": "1381234567"}, ("phone", "phone_shape")),  # 10 digits starting with 1
    ("customers", {"phone": "0531888"}, ("phone", "phone_shape")),  # landline too short
    ("customers", {"phone": "05318888666677"}, ("phone", "phone_shape")),  # landline too long
    ("customers", {"vin": VIN[:16]}, ("vin", "vin_format")),  # 16 characters
    ("service_visits", {"vin": "LFPH4ACB6A123456O"}, ("vin", "vin_format")),  # letter O
    ("customers", {"purchase_date": "2024-07-01"}, ("purchase_date", "in_future")),
    (
        "service_visits",
        {"intake_date": "2024-07-01", "pickup_date": None, "next_maintenance_date": None},
        ("intake_date", "in_future"),
    ),
    ("follow_up_calls", {"call_time": "2024-07-01 00:00"}, ("call_time", "in_future")),
    (
        "complaints",
        {"received_date": "2024-07-01", "escalated_date": None, "resolved_date": None, "resolution": None},
        ("received_date", "in_future"),
    ),
    ("part_shipments", {"ship_date": "2024-07-01"}, ("ship_date", "in_future")),
    ("part_failures", {"report_date": "2024-07-01"}, ("report_date", "in_future")),
    ("part_batches", {"production_date": "2024-07-01"}, ("production_date", "in_future")),
    ("service_visits", {"amount": "-1"}, ("amount", "negative")),
    ("part_shipments", {"qty_shipped": "-1"}, ("qty_shipped", "negative")),
    ("parts", {"unit_price": "-0.01"}, ("unit_price", "negative")),
    ("part_shipments", {"qty_ordered": "0"}, ("qty_ordered", "not_positive")),
    ("part_batches", {"quantity": "0"}, ("quantity", "not_positive")),
    ("service_visits", {"mileage_km": "1,000,001"}, ("mileage_km", "mileage_range")),
    ("part_failures", {"mileage_km": "-1"}, ("mileage_km", "mileage_range")),
    ("service_visits", {"maintenance_cycle_days": "0"}, ("maintenance_cycle_days", "cycle_range")),
    ("service_visits", {"maintenance_cycle_days": "731"}, ("maintenance_cycle_days", "cycle_range")),
    ("service_visits", {"pickup_date": "2024-03-03"}, ("pickup_date", "pickup_before_intake")),
    (
        "service_visits",
        {"next_maintenance_date": "2024-03-04"},
        ("next_maintenance_date", "next_maintenance_not_after_intake"),
    ),
    ("customers", {"warranty_end": "2024-01-14"}, ("warranty_end", "warranty_end_before_purchase")),
    ("complaints", {"escalated_date": "2024-03-05"}, ("escalated_date", "escalated_before_received")),
    ("complaints", {"resolved_date": "2024-03-05"}, ("resolved_date", "resolved_before_received")),
    ("complaints", {"resolution": None}, ("resolution", "resolution_required")),
    ("part_failures", {"production_date": "2024-03-07"}, ("production_date", "production_after_report")),
    ("campaigns", {"end_date": "2024-03-31"}, ("end_date", "end_before_start")),
    ("part_shipments", {"shipped_correct": "否"}, ("error_type", "error_type_required")),
    ("follow_up_calls", {"work_order_no": None}, ("work_order_no", "work_order_required")),
    (
        "follow_up_calls",
        {"call_type": "二次回访", "work_order_no": None},
        ("work_order_no", "work_order_required"),
    ),
    ("follow_up_calls", {"call_type": "活动通知", "campaign_id": None}, ("campaign_id", "campaign_required")),
    (
        "follow_up_calls",
        {"call_type": "投诉回访", "complaint_id": None},
        ("complaint_id", "complaint_required"),
    ),
    ("follow_up_calls", {"outcome": "未接通"}, ("satisfaction", "satisfaction_without_reach")),
    ("customers", {"dealer_code": "D9999"}, ("dealer_code", "unknown_dealer")),
    ("part_shipments", {"dealer_code": "D9999"}, ("dealer_code", "unknown_dealer")),
    ("part_shipments", {"part_no": "P999"}, ("part_no", "unknown_part")),
    ("part_failures", {"part_no": "P999"}, ("part_no", "unknown_part")),
    ("part_batches", {"part_no": "P999"}, ("part_no", "unknown_part")),
    ("letters", {"campaign_id": "CP99"}, ("campaign_id", "unknown_campaign")),
    (
        "follow_up_calls",
        {"call_type": "活动通知", "campaign_id": "CP99"},
        ("campaign_id", "unknown_campaign"),
    ),
]


@pytest.mark.parametrize(("kind", "changes", "expected"), REJECTIONS)
def test_each_rule_rejects_the_row(aliases, kind, changes, expected):
    result = check(aliases, kind, changes)
    assert found(result) == [(2, *expected)]
    assert result.problems["severity"].to_list() == ["rejected"]
    assert result.clean.is_empty()


# (kind, changed cells) — the valid side of each rule's edge.
ACCEPTED = [
    ("customers", {"phone": "0511-123456"}),  # landline with area code, 10 digits
    ("customers", {"phone": "0531-88886666"}),  # landline with area code, 12 digits
    ("customers", {"purchase_date": "2024-06-30", "warranty_end": None}),  # the run day itself
    ("customers", {"warranty_end": "2024-01-15"}),  # warranty ends the day of purchase
    ("follow_up_calls", {"call_time": "2024-06-30 23:59"}),  # later on the run day
    ("service_visits", {"amount": "0"}),
    ("service_visits", {"mileage_km": "0"}),
    ("service_visits", {"mileage_km": "1,000,000 km"}),
    ("service_visits", {"maintenance_cycle_days": "1"}),
    ("service_visits", {"maintenance_cycle_days": "730"}),
    ("service_visits", {"pickup_date": "2024-03-04"}),  # left the same day
    ("service_visits", {"pickup_date": None}),  # still in the shop
    ("service_visits", {"next_maintenance_date": "2024-03-05"}),  # the day after intake
    ("part_shipments", {"qty_shipped": "0"}),
    ("part_shipments", {"qty_ordered": "1"}),
    ("part_shipments", {"shipped_correct": None}),  # blank = correct, no error type needed
    ("part_shipments", {"shipped_correct": "否", "error_type": "错发"}),
    ("part_batches", {"quantity": "1"}),
    ("parts", {"unit_price": "0"}),
    ("part_failures", {"production_date": "2024-03-06"}),  # produced the day it was reported
    ("part_failures", {"mileage_km": "1000000"}),
    ("complaints", {"resolved_date": None, "resolution": None}),  # not resolved yet
    ("complaints", {"escalated_date": "2024-03-06", "resolved_date": "2024-03-06"}),  # same day
    ("campaigns", {"end_date": "2024-04-01"}),  # one-day campaign
    ("follow_up_calls", {"call_type": "保养提醒", "work_order_no": None}),  # reminder needs no work order
    ("follow_up_calls", {"call_type": "活动通知", "campaign_id": "cp01 "}),  # known once normalised
    ("follow_up_calls", {"call_type": "投诉回访", "complaint_id": "TS001"}),
    ("follow_up_calls", {"outcome": "未接通", "satisfaction": None}),  # no answer, no satisfaction
    ("letters", {"campaign_id": None}),  # a letter about no campaign
    ("dealers", {"dealer_code": "D9999"}),  # the dealer list is not checked against itself
    ("parts", {"part_no": "P999"}),
    ("campaigns", {"campaign_id": "CP99"}),
]


@pytest.mark.parametrize(("kind", "changes"), ACCEPTED)
def test_the_valid_side_of_each_rule_loads(aliases, kind, changes):
    result = check(aliases, kind, changes)
    assert found(result) == []
    assert result.clean.height == 1


def test_reference_checks_are_skipped_without_the_list(aliases):
    result = check(aliases, "part_shipments", {"dealer_code": "D9999", "part_no": "P999"}, refs=Refs())
    assert found(result) == []


def test_a_missing_required_column_rejects_every_row(aliases):
    result = check(aliases, "service_visits", {}, {"work_order_no": "WO002"}, drop=("intake_date",))
    assert found(result) == [(2, "intake_date", "missing_column"), (3, "intake_date", "missing_column")]
    assert result.problems["message"][0] == "the sheet has no 进厂日期 column; it is required, add it"
    assert result.clean.is_empty()


def test_a_sheet_without_any_of_its_columns_rejects_every_row_for_each_required_one(aliases):
    result = check(aliases, "letters", drop=SHEETS["letters"].names)
    assert sorted(found(result)) == [
        (2, name, "missing_column") for name in sorted(SHEETS["letters"].required)
    ]
    assert result.clean.is_empty()


def test_invisible_characters_pasted_along_are_dropped(aliases):
    """Zero-width spaces, byte-order marks and soft hyphens show as nothing: the steward could not see them."""
    result = check(
        aliases,
        "customers",
        {
            "phone": "13812345678\ufeff",
            "vin": f"{VIN[:8]}\u200b{VIN[8:]}\u200b",
            "purchase_date": "\u200b2024-01-15",
            "name": "张\u00ad三\u2060",
        },
    )
    assert found(result) == []
    row = result.clean.row(0, named=True)
    assert (row["phone"], row["vin"], row["purchase_date"], row["name"]) == (
        "13812345678",
        VIN,
        date(2024, 1, 15),
        "张三",
    )


def test_a_missing_optional_column_is_simply_blank(aliases):
    result = check(aliases, "service_visits", drop=("advisor", "next_maintenance_date"))
    assert found(result) == []
    assert result.clean["advisor"].to_list() == [None]


def test_a_repeated_key_rejects_each_later_copy_naming_the_first(aliases):
    result = check(
        aliases,
        "service_visits",
        {"work_order_no": "WO1"},
        {"work_order_no": "WO2"},
        {"work_order_no": "wo1 ", "dealer_code": "d0012"},  # the same key once normalised
        {"work_order_no": "WO1"},
        {"work_order_no": "WO1", "dealer_code": "D0013"},  # another dealer's WO1
    )
    assert found(result) == [(4, "", "duplicate_key"), (5, "", "duplicate_key")]
    assert result.clean[EXCEL_ROW].to_list() == [2, 3, 6]
    problem = result.problems.row(0, named=True)
    assert problem["business_key"] == "D0012|WO1"
    assert problem["cell_value"] == "d0012|wo1 "
    assert problem["column_name"] == ""
    assert problem["message"].startswith("this row repeats row 2 (经销商代码/工单号 D0012|WO1)")


def test_a_vin_given_again_for_another_customer_is_rejected_naming_the_first_row(aliases):
    result = check(
        aliases,
        "customers",
        {"customer_id": "C1"},
        {"customer_id": "C2", "vin": OTHER_VIN},
        {"customer_id": "C3"},  # C1's vehicle
        {"customer_id": "C1", "vin": VIN.lower()},  # C1 again: a repeated key, not another owner
    )
    assert found(result) == [(4, "vin", "vehicle_of_another_customer"), (5, "", "duplicate_key")]
    problem = result.problems.row(0, named=True)
    assert problem["column_name"] == "车架号" and problem["cell_value"] == VIN
    assert problem["message"].startswith(f"车架号 {VIN} is already the vehicle of customer C1 in row 2")


def test_a_customers_rows_that_disagree_load_the_first_value_given_and_warn(aliases):
    result = check(
        aliases,
        "customers",
        {"address": None},
        {"vin": OTHER_VIN, "phone": "139-0000-0002", "address": "上海路2号"},
        {"vin": "LGWEF4A55MH123457", "phone": "138 1234 5678", "address": "上海路3号", "region": None},
    )
    # row 3's phone and row 4's address differ from the first given; blanks and spellings of the same
    # number do not; row 3 gives the first address
    assert found(result) == [(3, "phone", "customer_differs"), (4, "address", "customer_differs")]
    assert result.clean[EXCEL_ROW].to_list() == [2, 3, 4]  # warnings: every row loads
    phone = result.problems.row(0, named=True)
    assert phone["severity"] == "warning" and phone["cell_value"] == "139-0000-0002"
    assert phone["message"].startswith(
        '联系电话 "139-0000-0002" differs from 13812345678 given for the same customer in row 2'
    )
    assert result.problems.row(1, named=True)["message_zh"].startswith("同一客户在第 3 行的地址是 上海路2号")


def test_rows_with_an_unreadable_key_are_not_duplicates(aliases):
    result = check(aliases, "part_batches", {"batch_no": None}, {"batch_no": None})
    assert found(result) == [(2, "batch_no", "required"), (3, "batch_no", "required")]
    assert result.problems["business_key"].to_list() == ["", ""]


def test_a_row_gets_one_problem_per_column_and_rule(aliases):
    result = check(
        aliases,
        "service_visits",
        {"intake_date": "someday", "visit_type": None, "mileage_km": "-5", "dealer_code": "D9999"},
    )
    # The unreadable intake date is not also reported as blank, nor compared with the pickup date.
    assert sorted(found(result)) == [
        (2, "dealer_code", "unknown_dealer"),
        (2, "intake_date", "not_a_date"),
        (2, "mileage_km", "mileage_range"),
        (2, "visit_type", "required"),
    ]


def test_problems_carry_the_cell_as_written_the_header_and_the_normalised_keys(aliases):
    result = check(
        aliases,
        "service_visits",
        {"dealer_code": " d0012", "work_order_no": "wo7", "pickup_date": "2024/3/1"},
        headers={"pickup_date": "出厂时间", "intake_date": "进厂时间"},
    )
    problem = result.problems.row(0, named=True)
    assert problem == {
        "sheet": "service_visits sheet",
        "kind": "service_visits",
        "excel_row": 2,
        "field": "pickup_date",
        "column_name": "出厂时间",
        "cell_value": "2024/3/1",
        "rule": "pickup_before_intake",
        "message": "出厂时间 2024-03-01 is before 进厂时间 2024-03-04; write a day on or after it "
        "(leave it blank while the vehicle is still in the shop)",
        "message_zh": "出厂时间 2024-03-01 早于进厂时间 2024-03-04，应不早于进厂时间（车辆未出厂时留空）",
        "severity": "rejected",
        "dealer_code": "D0012",
        "business_key": "D0012|WO7",
    }


@pytest.mark.parametrize(
    ("kind", "changes", "english"),
    [
        (
            "service_visits",
            {"pickup_date": "2024-02-30"},
            '出厂日期 "2024-02-30" is not a date from 1950 to 2099; write it as 2024-03-05, 2024/3/5, 2024年3月5日 or an Excel date',
        ),
        (
            "customers",
            {"purchase_date": "2024-07-01"},
            "购车日期 2024-07-01 is in the future; write a day on or before 2024-06-30, the day of the run",
        ),
        (
            "part_shipments",
            {"dealer_code": "d9999"},
            '经销商代码 "d9999" is not a known dealer code; write the code head office gave the dealer',
        ),
        (
            "follow_up_calls",
            {"work_order_no": None},
            '工单号 is blank; a call of 通话类型 "首次回访" must name the work order it follows up',
        ),
        (
            "part_shipments",
            {"shipped_correct": "×"},
            '差错类型 is blank although 发货是否正确 is "×"; say what went wrong: 错发 (wrong_part), '
            "数量差错 (wrong_qty), 破损 (damaged), 漏发 (missing)",
        ),
        (
            "complaints",
            {"resolution": None},
            "处理结果 is blank although 解决日期 is 2024-03-09; say how the complaint was resolved",
        ),
    ],
)
def test_messages_show_the_value_and_what_would_be_accepted(aliases, kind, changes, english):
    assert check(aliases, kind, changes).problems["message"].to_list() == [english]


def test_warnings_load_the_row_and_are_listed(aliases):
    result = check(
        aliases,
        "service_visits",
        *(
            {**change, "pickup_date": None, "next_maintenance_date": None}
            for change in (
                {
                    "work_order_no": "WO1",
                    "intake_date": "2024-03-01",
                    "mileage_km": "5000",
                    "parts_used": "P001、P777 p888",
                },
                {
                    "work_order_no": "WO2",
                    "intake_date": "2024-04-01",
                    "mileage_km": "4000",
                    "vin": "LFPH4ACB7A1234567",
                },
                {"work_order_no": "WO3", "intake_date": "2024-05-01", "mileage_km": "3000"},
            )
        ),
    )
    # Row 3 has another VIN (with a wrong check digit): row 4 is compared with row 2 only.
    assert found(result) == [
        (2, "parts_used", "unknown_part_used"),
        (3, "vin", "vin_check_digit"),
        (4, "mileage_km", "mileage_backwards"),
    ]
    assert set(result.problems["severity"]) == {"warning"}
    assert result.clean.height == 3
    messages = result.problems["message"].to_list()
    assert messages[0] == "更换配件: P777, P888 not in the parts catalogue; check the part numbers"
    assert messages[2] == (
        "里程 3000 is lower than 5000 km at an earlier visit of the same VIN; check the odometer reading (it only grows)"
    )


def test_a_customer_vin_with_a_wrong_check_digit_is_only_a_warning(aliases):
    result = check(aliases, "customers", {"vin": "LFPH4ACB7A1234567"})
    assert found(result) == [(2, "vin", "vin_check_digit")]
    assert result.clean.height == 1


def test_a_rejected_row_gets_no_warnings_and_is_no_earlier_visit(aliases):
    result = check(
        aliases,
        "service_visits",
        *(
            {**change, "pickup_date": None, "next_maintenance_date": None}
            for change in (
                {"work_order_no": "WO1", "intake_date": "2024-03-01", "mileage_km": "9000", "amount": "-1"},
                {
                    "work_order_no": "WO2",
                    "intake_date": "2024-04-01",
                    "mileage_km": "4000",
                    "vin": "LFPH4ACB7A1234567",
                    "advisor": None,
                    "visit_type": "?",
                },
                {"work_order_no": "WO3", "intake_date": "2024-05-01", "mileage_km": "3000"},
            )
        ),
    )
    # Row 2 is rejected: row 4's 3000 km is not compared with its 9000; row 3's wrong VIN not warned.
    assert found(result) == [(2, "amount", "negative"), (3, "visit_type", "not_in_list")]


def test_derived_fields_and_defaults(aliases):
    customer = check(aliases, "customers", {"warranty_end": None}, warranty_months=36).clean
    assert customer["warranty_end"].to_list() == [date(2027, 1, 15)]  # purchase + warranty months
    visits = check(
        aliases,
        "service_visits",
        {"next_maintenance_date": None},  # pickup 2024-03-05 + 90 days
        {"work_order_no": "WO2", "next_maintenance_date": None, "pickup_date": None},  # intake + 90
        {"work_order_no": "WO3", "next_maintenance_date": None, "maintenance_cycle_days": None},  # no cycle
        {"work_order_no": "WO4"},  # written: kept
    ).clean
    assert visits["next_maintenance_date"].to_list() == [
        date(2024, 6, 3),
        date(2024, 6, 2),
        None,
        date(2024, 6, 1),
    ]
    call = check(aliases, "follow_up_calls", {"direction": None}).clean
    assert call["direction"].to_list() == ["outbound"]
    complaint = check(aliases, "complaints", {"severity": None}).clean
    assert complaint["severity"].to_list() == ["medium"]
    shipment = check(aliases, "part_shipments", {"shipped_correct": None}).clean
    assert shipment["shipped_correct"].to_list() == [True]
    dealer = check(aliases, "dealers", {"active": None}).clean
    assert dealer["active"].to_list() == [True]
    parts = check(
        aliases, "parts", {"critical": None}, {"part_no": "P2", "component": "其他", "critical": None}
    ).clean
    assert parts["critical"].to_list() == [True, False]  # the seven components are critical


def test_part_failure_component_comes_from_the_parts_list_when_blank(aliases):
    failures = check(
        aliases,
        "part_failures",
        {"component": None},
        {"feedback_id": "FB2", "part_no": "p002", "component": None},
        {"feedback_id": "FB3", "component": "后桥"},
    ).clean
    assert failures["component"].to_list() == ["motor", "frame", "rear_axle"]
    assert check(aliases, "part_failures", {"component": None}, refs=Refs()).clean["component"].to_list() == [
        None
    ]


def test_extra_and_unknown_columns_are_ignored(aliases):
    frame = sheet_frame("letters", [VALID["letters"]]).with_columns(
        _extra=pl.lit('{"备注2": "x"}'), something_else=pl.lit("y")
    )
    result = check_sheet("letters", frame, sheet="信函", headers={}, today=TODAY, aliases=aliases)
    assert found(result) == []
    assert result.clean.columns == [EXCEL_ROW, *SHEETS["letters"].names]


def test_an_empty_sheet_gives_empty_frames(aliases):
    result = check_sheet(
        "complaints", sheet_frame("complaints", []), sheet="投诉", headers={}, today=TODAY, aliases=aliases
    )
    assert result.clean.is_empty() and result.problems.is_empty()
    assert result.problems.columns == list(PROBLEM_COLUMNS)


def test_a_two_percent_bad_sheet_rejects_exactly_its_bad_rows(aliases):
    rows = 3000
    rng = random.Random(7)
    bad_cells = [
        ("intake_date", "2024-02-30", "not_a_date"),
        ("mileage_km", "about 12000", "not_a_number"),
        ("visit_type", "大修", "not_in_list"),
        ("amount", "-350", "negative"),
        ("pickup_date", "2024-03-01", "pickup_before_intake"),
        ("customer_id", None, "required"),
    ]
    changes = [{"work_order_no": f"WO{i:05d}", "mileage_km": f"{i:,} km"} for i in range(rows)]
    expected = []
    for index in rng.sample(range(rows), rows // 50):
        field, cell, rule = rng.choice(bad_cells)
        changes[index][field] = cell
        expected.append((index + 2, field, rule))
    result = check(aliases, "service_visits", *changes)
    assert sorted(found(result)) == sorted(expected)
    assert result.clean.height == rows - rows // 50
    assert not set(result.clean[EXCEL_ROW]) & {row for row, _, _ in expected}


def test_reference_codes_are_read_as_codes_like_the_sheets(aliases):
    written_loosely = Refs(
        dealers=pl.DataFrame({"dealer_code": ["d0012 "], "region": ["华东"]}),
        parts=pl.DataFrame({"part_no": [" p001"], "component": ["motor"]}),
        campaigns=pl.DataFrame({"campaign_id": ["cp01"]}),
    )
    assert found(check(aliases, "part_shipments", refs=written_loosely)) == []
    assert found(check(aliases, "letters", refs=written_loosely)) == []
    failures = check(aliases, "part_failures", {"component": None}, refs=written_loosely).clean
    assert failures["component"].to_list() == ["motor"]


def test_a_key_repeated_in_a_later_sheet_of_the_file_is_rejected_there(aliases, tmp_path):
    """Two sheets of one kind in a file: the key is the file's, so the first row in sheet order loads."""
    from workbooks import write_xlsx

    from dealersync.pipeline import process_file
    from dealersync.settings import Settings

    headers = ["经销商代码", "工单号", "客户编号", "车架号", "进厂日期", "维修类型"]
    visit = ["D0012", "WO1", "C1", "LJ1DL26C2TB295811", "2024-06-02", "保养"]
    sheets = {
        "维修记录": [headers, visit, [*visit[:1], "WO2", *visit[2:]]],
        "维修记录2": [headers, [*visit[:1], "WO3", *visit[2:]], [" d0012", "wo1", *visit[2:]], visit],
    }
    parsed = process_file(
        write_xlsx(tmp_path / "w.xlsx", sheets),
        today=TODAY,
        aliases=aliases,
        refs=Refs(),
        settings=Settings(),
    )
    first, second = parsed.sheets
    assert first.clean[EXCEL_ROW].to_list() == [2, 3] and first.rows_rejected == 0
    assert second.clean["work_order_no"].to_list() == ["WO3"]
    rejected = second.problems.filter(pl.col("severity") == "rejected")
    problems = rejected.select(EXCEL_ROW, "rule", "message").rows()
    assert [(row, rule) for row, rule, _ in problems] == [
        (3, "duplicate_key_in_file"),
        (4, "duplicate_key_in_file"),
    ]
    assert problems[0][2].startswith("this row repeats row 2 of sheet 维修记录 (经销商代码/工单号 D0012|WO1)")


def test_an_error_type_on_a_line_not_marked_wrong_is_a_warning_and_the_line_loads(aliases):
    """差错类型 破损 with 发货是否正确 是 or blank: one of the two cells is wrong; the line counts as correct."""
    result = check(
        aliases,
        "part_shipments",
        {"shipment_line_id": "SL1", "shipped_correct": "是", "error_type": "破损"},
        {"shipment_line_id": "SL2", "shipped_correct": None, "error_type": "破损"},
        {"shipment_line_id": "SL3", "shipped_correct": "否", "error_type": "破损"},
        {"shipment_line_id": "SL4", "shipped_correct": "是", "error_type": None},
    )
    assert found(result) == [
        (2, "error_type", "error_type_on_correct_shipment"),
        (3, "error_type", "error_type_on_correct_shipment"),
    ]
    assert set(result.problems["severity"]) == {"warning"}
    assert result.clean.height == 4
    assert result.problems["message"][0] == (
        '差错类型 is "破损" but 发货是否正确 is not 否, so the line counts as shipped correctly; if it was wrong, '
        "set 发货是否正确 to 否, else clear 差错类型"
    )


@pytest.mark.parametrize("date1904", [False, True])
def test_a_serial_number_is_read_in_the_workbooks_date_system(tmp_path, aliases, date1904):
    """A date whose format was cleared (General) shows its serial, which Excel counts from 1904 in a workbook
    of the 1904 date system (an old Mac one): read from 1900 it loaded 4 years and a day early."""
    import openpyxl
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900

    from dealersync.pipeline import process_file
    from dealersync.settings import Settings

    book = openpyxl.Workbook()
    book.epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900
    sheet = book.active
    sheet.title = "维修记录"
    sheet.append(["经销商代码", "工单号", "客户编号", "车架号", "进厂日期", "出厂日期", "维修类型"])
    serial = (date(2024, 6, 2) - (date(1904, 1, 1) if date1904 else date(1899, 12, 30))).days
    sheet.append(["D0012", "WO1", "C1", "LJ1DL26C2TB295811", serial, date(2024, 6, 3), "保养"])
    book.save(tmp_path / "w.xlsx")
    parsed = process_file(tmp_path / "w.xlsx", today=TODAY, aliases=aliases, refs=Refs(), settings=Settings())
    clean = parsed.sheets[0].clean
    assert clean.select("intake_date", "pickup_date").row(0) == (date(2024, 6, 2), date(2024, 6, 3))

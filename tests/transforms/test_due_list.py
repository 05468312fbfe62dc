"""Due-list rules (DESIGN.md "Daily due lists"): one literal case per rule boundary."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import count

import duckdb
import pytest

from dealersync.transforms.due_list import DUE_LIST_COLUMNS, KIND, due_list_sql
from dealersync.warehouse.db import open_warehouse

TODAY = date(2024, 3, 20)
LEAD_DAYS = 7


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour)


LINEAGE = {
    "run_id": 1,
    "file_sha256": "0" * 64,
    "sheet": "test",
    "excel_row": 2,
    "loaded_at": datetime(2020, 1, 1),
}
_ids = count(1)
DEFAULTS = {
    "dealers": lambda: {
        "dealer_code": "D1",
        "name": "一号店",
        "region": "华东",
        "valid_from": date(2020, 1, 1),
    },
    "customers": lambda: {
        "dealer_code": "D1",
        "customer_id": "C1",
        "name": "张三",
        "phone": "13800138000",
        "address": "上海市长宁路1号",
        "valid_from": date(2020, 1, 1),
    },
    "vehicles": lambda: {
        "dealer_code": "D1",
        "vin": "VIN1",
        "customer_id": "C1",
        "plate_no": "沪A12345",
        "model": "M1",
    },
    "service_visits": lambda: {
        "dealer_code": "D1",
        "work_order_no": "W1",
        "customer_id": "C1",
        "vin": "VIN1",
        "intake_date": ago(40),
        "pickup_date": ago(39),
        "visit_type": "repair",
        "under_warranty": False,
        "has_customer_file": False,  # set below from the customer files, as the loader does
    },
    "follow_up_calls": lambda: {
        "dealer_code": "D1",
        "call_id": f"K{next(_ids)}",
        "call_time": at(ago(1)),
        "call_type": "first_follow_up",
        "customer_id": "C1",
        "staff": "李四",
        "outcome": "reached",
    },
    "letters": lambda: {
        "dealer_code": "D1",
        "letter_id": f"L{next(_ids)}",
        "customer_id": "C1",
        "sent_date": ago(1),
        "letter_type": "notice",
    },
    "complaints": lambda: {
        "dealer_code": "D1",
        "complaint_id": "P1",
        "received_date": ago(1),
        "customer_id": "C1",
        "category": "repair_quality",
        "description": "刹车异响",
        "severity": "medium",
    },
    "campaigns": lambda: {
        "campaign_id": "A1",
        "name": "春季免费检测",
        "campaign_type": "free_check",
        "start_date": TODAY + timedelta(days=10),
        "end_date": TODAY + timedelta(days=16),
    },
}


@pytest.fixture(scope="module")
def migrated():
    """An in-memory warehouse with every migration applied, shared by the module's tests."""
    con = open_warehouse(":memory:")
    yield con
    con.close()


@pytest.fixture
def warehouse(migrated):
    """Build core rows for one test inside a transaction that is rolled back afterwards.

    `warehouse(table=[row, ...], ...)` replaces the core tables' rows (missing columns take the
    defaults above); a dealer D1 and a customer file C1 with vehicle VIN1 exist unless the test passes
    its own. Returns the connection.
    """
    con = migrated.cursor()
    con.begin()

    def build(**tables: list[dict]) -> duckdb.DuckDBPyConnection:
        tables = {"dealers": [{}], "customers": [{}], "vehicles": [{}]} | tables
        for table in DEFAULTS:
            con.execute(f"DELETE FROM core.{table}")
        for table, rows in tables.items():
            for row in rows:
                values = DEFAULTS[table]() | LINEAGE | row
                names = ", ".join(values)
                marks = ", ".join("?" for _ in values)
                con.execute(f"INSERT INTO core.{table} ({names}) VALUES ({marks})", list(values.values()))
        con.execute(
            "UPDATE core.service_visits AS v SET has_customer_file = EXISTS ("
            " SELECT 1 FROM core.customers AS c WHERE c.dealer_code = v.dealer_code AND c.customer_id = v.customer_id)"
        )
        return con

    yield build
    con.rollback()
    con.close()


def due_items(con, today: date = TODAY, lead_days: int = LEAD_DAYS) -> list[dict]:
    """Every item of the list for `today`, as dicts, in a stable order."""
    relation = con.sql(due_list_sql(today, lead_days))
    names = relation.columns
    rows = [dict(zip(names, row, strict=True)) for row in relation.fetchall()]
    return sorted(rows, key=lambda r: (r["kind"], r["dealer_code"], r["customer_id"], r["ref"]))


def items_of(kind: str, con, today: date = TODAY, lead_days: int = LEAD_DAYS) -> list[dict]:
    return [item for item in due_items(con, today, lead_days) if item["kind"] == kind]


def brief(items: list[dict]) -> list[tuple]:
    """(ref, due_date, window_end, status, priority, attempts) of each item."""
    return [
        (i["ref"], i["due_date"], i["window_end"], i["status"], i["priority"], i["attempts"]) for i in items
    ]


def test_columns_are_the_documented_ones(warehouse):
    con = warehouse()
    assert con.sql(due_list_sql(TODAY, LEAD_DAYS)).columns == [c.name for c in DUE_LIST_COLUMNS]


# --- first follow-up -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_since_pickup", "expected"),
    [
        (2, []),  # pickup + 2: not yet due
        (3, [("W1", ago(0), ago(-4), "due", "normal", 0)]),  # pickup + 3: first day due
        (7, [("W1", ago(4), ago(0), "due", "normal", 0)]),  # pickup + 7: last day of the window
        (8, [("W1", ago(5), ago(1), "overdue", "high", 0)]),  # pickup + 8: overdue, so priority high
        (400, [("W1", ago(397), ago(393), "overdue", "high", 0)]),  # items do not expire
    ],
)
def test_first_follow_up_window(warehouse, days_since_pickup, expected):
    pickup = ago(days_since_pickup)
    con = warehouse(service_visits=[{"intake_date": pickup - timedelta(days=1), "pickup_date": pickup}])
    assert brief(items_of("first_follow_up", con)) == expected


@pytest.mark.parametrize(
    ("visit", "expected"),
    [
        # a consultation has no pickup: it counts from intake
        ({"visit_type": "consultation", "intake_date": ago(3), "pickup_date": None}, [ago(0)]),
        ({"visit_type": "consultation", "intake_date": ago(2), "pickup_date": None}, []),
        # a vehicle still in the shop (no pickup, not a consultation) has no item yet
        ({"visit_type": "repair", "intake_date": ago(30), "pickup_date": None}, []),
        # a pickup after `today` has not happened yet on `today`
        ({"visit_type": "repair", "intake_date": ago(30), "pickup_date": ago(-1)}, []),
        # a consultation whose (unusual) pickup is after `today` still counts from intake on `today`
        ({"visit_type": "consultation", "intake_date": ago(3), "pickup_date": ago(-2)}, [ago(0)]),
        # a visit whose intake is after `today` does not exist yet
        ({"visit_type": "consultation", "intake_date": ago(-1), "pickup_date": None}, []),
    ],
)
def test_first_follow_up_base_day(warehouse, visit, expected):
    con = warehouse(service_visits=[visit])
    assert [i["due_date"] for i in items_of("first_follow_up", con)] == expected


@pytest.mark.parametrize(
    ("visit", "priority"),
    [
        ({"under_warranty": True}, "high"),  # in the warranty period: every one must be reached
        ({"under_warranty": False, "visit_type": "warranty"}, "high"),  # a warranty repair is too
        ({"under_warranty": None, "visit_type": "maintenance"}, "normal"),  # not known to be in warranty
        ({"under_warranty": False, "visit_type": "repair"}, "normal"),
    ],
)
def test_warranty_visits_are_high_priority(warehouse, visit, priority):
    con = warehouse(service_visits=[{"pickup_date": ago(4), "intake_date": ago(5)} | visit])
    [item] = items_of("first_follow_up", con)
    assert (item["status"], item["priority"]) == ("due", priority)


@pytest.mark.parametrize(
    ("calls", "expected_attempts"),
    [
        ([], 0),  # nothing logged yet
        ([{"outcome": "no_answer"}], 1),  # not reached: the item stays, with the attempt
        ([{"outcome": "no_answer"}, {"outcome": "wrong_number"}], 2),  # both count as attempts
        ([{"outcome": "reached"}], None),  # reached: closed
        ([{"outcome": "no_answer"}, {"outcome": "reached"}], None),  # reached after an attempt: closed
        ([{"outcome": "refused"}], None),  # the customer refused: closed too (no harassing)
        ([{"outcome": "reached", "call_time": at(ago(60))}], None),  # early (even before pickup): closed
        ([{"outcome": "reached", "call_time": at(ago(-1))}], 0),  # logged after `today`: not yet
        ([{"outcome": "reached", "call_type": "second_follow_up"}], 0),  # another kind of call
        ([{"outcome": "reached", "work_order_no": "W2"}], 0),  # another work order
        ([{"outcome": "reached", "dealer_code": "D2"}], 0),  # same work order number, other dealer
    ],
)
def test_first_follow_up_closed_by_a_reached_call(warehouse, calls, expected_attempts):
    con = warehouse(
        service_visits=[{"intake_date": ago(11), "pickup_date": ago(10)}],
        follow_up_calls=[{"work_order_no": "W1", "call_time": at(ago(5))} | call for call in calls],
    )
    attempts = [i["attempts"] for i in items_of("first_follow_up", con)]
    assert attempts == ([] if expected_attempts is None else [expected_attempts])


def test_attempts_carry_the_time_of_the_latest(warehouse):
    con = warehouse(
        service_visits=[{"intake_date": ago(11), "pickup_date": ago(10)}],
        follow_up_calls=[
            {"work_order_no": "W1", "outcome": "no_answer", "call_time": at(ago(6), 9)},
            {"work_order_no": "W1", "outcome": "no_answer", "call_time": at(ago(5), 15)},
        ],
    )
    [item] = items_of("first_follow_up", con)
    assert item["attempts"] == 2
    assert item["last_attempt_at"] == at(ago(5), 15)


# --- second follow-up ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_since_first_call", "expected"),
    [
        (6, []),  # first call + 6: not yet
        (7, [("W1", ago(0), ago(-7), "due", "normal", 0)]),  # first call + 7: due
        (14, [("W1", ago(7), ago(0), "due", "normal", 0)]),  # first call + 14: last day
        (15, [("W1", ago(8), ago(1), "overdue", "high", 0)]),  # first call + 15: overdue
    ],
)
def test_second_follow_up_window(warehouse, days_since_first_call, expected):
    con = warehouse(
        service_visits=[{"intake_date": ago(60), "pickup_date": ago(59)}],
        follow_up_calls=[{"work_order_no": "W1", "call_time": at(ago(days_since_first_call))}],
    )
    assert brief(items_of("second_follow_up", con)) == expected


@pytest.mark.parametrize(
    ("first_calls", "expected_due"),
    [
        # counted from the earliest reached first call, not from a later one
        ([{"call_time": at(ago(9))}, {"call_time": at(ago(3))}], [ago(2)]),
        # a call that did not reach the customer starts nothing; the reached one does
        ([{"call_time": at(ago(20)), "outcome": "no_answer"}, {"call_time": at(ago(8))}], [ago(1)]),
        # a refused first call closes the first follow-up but starts no second one
        ([{"call_time": at(ago(20)), "outcome": "refused"}], []),
        # only unreached first calls: no second follow-up yet
        ([{"call_time": at(ago(20)), "outcome": "wrong_number"}], []),
    ],
)
def test_second_follow_up_counts_from_the_first_reached_call(warehouse, first_calls, expected_due):
    con = warehouse(
        service_visits=[{"intake_date": ago(60), "pickup_date": ago(59)}],
        follow_up_calls=[{"work_order_no": "W1"} | call for call in first_calls],
    )
    assert [i["due_date"] for i in items_of("second_follow_up", con)] == expected_due


@pytest.mark.parametrize(
    ("second_call", "expected_attempts"),
    [
        ({"outcome": "no_answer"}, [1]),  # not reached: stays with one attempt
        ({"outcome": "reached"}, []),  # reached: closed
        ({"outcome": "refused"}, []),  # refused: closed
        ({"outcome": "reached", "call_time": at(ago(-2))}, [0]),  # after `today`: not yet
    ],
)
def test_second_follow_up_closed_by_a_reached_second_call(warehouse, second_call, expected_attempts):
    con = warehouse(
        service_visits=[{"intake_date": ago(60), "pickup_date": ago(59)}],
        follow_up_calls=[
            {"work_order_no": "W1", "call_time": at(ago(10))},
            {"work_order_no": "W1", "call_type": "second_follow_up", "call_time": at(ago(1))} | second_call,
        ],
    )
    assert [i["attempts"] for i in items_of("second_follow_up", con)] == expected_attempts


# --- maintenance reminder --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_to_maintenance", "lead_days", "expected"),
    [
        (8, 7, []),  # date − 8: not yet
        (7, 7, [("W1", ago(0), ago(-7), "due", "normal", 0)]),  # date − 7: due
        (0, 7, [("W1", ago(7), ago(0), "due", "normal", 0)]),  # the date itself: last day
        (-1, 7, [("W1", ago(8), ago(1), "overdue", "high", 0)]),  # after the date: overdue
        (10, 10, [("W1", ago(0), ago(-10), "due", "normal", 0)]),  # the lead is configurable
    ],
)
def test_maintenance_reminder_window(warehouse, days_to_maintenance, lead_days, expected):
    con = warehouse(
        service_visits=[{"next_maintenance_date": ago(-days_to_maintenance)}],
        follow_up_calls=[{"work_order_no": "W1", "call_time": at(ago(35))}],  # first follow-up done
    )
    assert brief(items_of("maintenance_reminder", con, lead_days=lead_days)) == expected


def test_maintenance_reminder_uses_the_latest_visit_with_a_date(warehouse):
    con = warehouse(
        service_visits=[
            {
                "work_order_no": "W1",
                "intake_date": ago(200),
                "pickup_date": ago(199),
                "next_maintenance_date": ago(2),
            },
            {
                "work_order_no": "W2",
                "intake_date": ago(100),
                "pickup_date": ago(99),
                "next_maintenance_date": ago(-3),
            },
            # a later visit without a next maintenance date does not replace W2
            {"work_order_no": "W3", "intake_date": ago(50), "pickup_date": ago(49)},
            # another vehicle of the same customer has its own reminder
            {"work_order_no": "W4", "vin": "VIN2", "intake_date": ago(90), "next_maintenance_date": ago(-5)},
        ],
        vehicles=[{}, {"vin": "VIN2", "model": "M2"}],
    )
    assert [(i["ref"], i["vin"], i["due_date"]) for i in items_of("maintenance_reminder", con)] == [
        ("W2", "VIN1", ago(4)),
        ("W4", "VIN2", ago(2)),
    ]


@pytest.mark.parametrize(
    ("call", "expected_attempts"),
    [
        ({"work_order_no": "W2"}, []),  # reached, for that work order: closed
        ({"work_order_no": "W2", "outcome": "no_answer"}, [1]),  # not reached: an attempt
        ({"work_order_no": "W2", "outcome": "refused"}, []),  # refused: closed (no harassing)
        ({"work_order_no": "W1"}, [0]),  # for an older work order: not this reminder
        ({"work_order_no": None, "call_time": at(ago(10))}, []),  # no work order, after the visit: closed
        ({"work_order_no": None, "call_time": at(ago(30))}, [0]),  # no work order, before the visit
        ({"work_order_no": None, "call_time": at(ago(20))}, []),  # no work order, on the visit's intake day
        ({"work_order_no": None, "outcome": "no_answer"}, [1]),  # no work order, not reached: attempt
        ({"work_order_no": None, "customer_id": "C9"}, [0]),  # another customer
        ({"work_order_no": "W2", "call_type": "first_follow_up"}, [0]),  # not a reminder call
    ],
)
def test_maintenance_reminder_closed_by_a_reminder_call(warehouse, call, expected_attempts):
    con = warehouse(
        service_visits=[
            {"work_order_no": "W1", "intake_date": ago(90), "pickup_date": ago(89)},
            {
                "work_order_no": "W2",
                "intake_date": ago(20),
                "pickup_date": ago(19),
                "next_maintenance_date": ago(-2),
            },
        ],
        follow_up_calls=[{"call_type": "maintenance_reminder", "call_time": at(ago(1))} | call],
    )
    assert [i["attempts"] for i in items_of("maintenance_reminder", con)] == expected_attempts


# --- campaigns ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start_in", "end_in", "expected"),
    [
        (15, 20, []),  # start − 15: not yet
        (14, 20, [("A1", ago(0), ago(-14), "due", "normal", 0)]),  # start − 14: due
        (0, 3, [("A1", ago(14), ago(0), "due", "normal", 0)]),  # the start day: last day
        (-1, 3, [("A1", ago(15), ago(1), "overdue", "high", 0)]),  # running, not called: overdue
        (-3, 0, [("A1", ago(17), ago(3), "overdue", "high", 0)]),  # the last day of the campaign
        (-3, -1, []),  # the campaign has ended: the item drops
        (-1, None, []),  # no end date: a one-day campaign, ended yesterday
    ],
)
def test_campaign_call_window(warehouse, start_in, end_in, expected):
    end = None if end_in is None else ago(-end_in)
    con = warehouse(campaigns=[{"start_date": ago(-start_in), "end_date": end}])
    assert brief(items_of("campaign_call", con)) == expected


@pytest.mark.parametrize(
    ("campaign", "customers", "vehicles", "eligible"),
    [
        ({}, [{}], [{}], ["C1"]),  # blank region and model: everyone
        ({"region": "华东"}, [{"region": "华东"}], [{}], ["C1"]),  # region matches
        ({"region": "华北"}, [{"region": "华东"}], [{}], []),  # region does not match
        ({"region": "华东"}, [{"region": None}], [{}], ["C1"]),  # no customer region: the dealer's
        ({"region": "华北"}, [{"region": None}], [{}], []),  # ... which does not match
        ({"region": " 华东 "}, [{"region": "华东"}], [{}], ["C1"]),  # stray spaces in the campaign
        ({"model": "M2"}, [{}], [{}], []),  # model does not match
        ({"model": "m2"}, [{}], [{}, {"vin": "VIN2", "model": "M2"}], ["C1"]),  # any vehicle matches
        ({}, [{}, {"customer_id": "C2"}], [{}], ["C1"]),  # a file with no vehicle of the dealer
        # a file that arrived after `today` did not exist yet
        ({}, [{"valid_from": ago(-1)}], [{}], []),
        # one item per customer, however many vehicles
        ({}, [{}], [{}, {"vin": "VIN2"}], ["C1"]),
        # customers of every dealer
        ({}, [{}, {"dealer_code": "D2"}], [{}, {"dealer_code": "D2"}], ["C1", "C1"]),
    ],
)
def test_campaign_eligibility(warehouse, campaign, customers, vehicles, eligible):
    con = warehouse(
        campaigns=[{"start_date": ago(-5)} | campaign],
        customers=customers,
        vehicles=vehicles,
        dealers=[{}, {"dealer_code": "D2"}],
    )
    assert [i["customer_id"] for i in items_of("campaign_call", con)] == eligible


def test_campaign_call_vehicle_is_one_that_matches(warehouse):
    con = warehouse(
        campaigns=[{"start_date": ago(-5), "model": "M2"}],
        vehicles=[{}, {"vin": "VIN2", "model": "M2", "plate_no": "沪B00002"}],
    )
    [item] = items_of("campaign_call", con)
    assert (item["vin"], item["plate_no"], item["model"]) == ("VIN2", "沪B00002", "M2")


@pytest.mark.parametrize(
    ("notice", "expected_attempts"),
    [
        ({"outcome": "reached"}, []),  # reached: closed
        ({"outcome": "refused"}, []),  # refused: closed
        ({"outcome": "no_answer"}, [1]),  # not reached: an attempt
        ({"outcome": "reached", "campaign_id": "A2"}, [0]),  # another campaign
        ({"outcome": "reached", "dealer_code": "D2"}, [0]),  # same customer id at another dealer
        ({"outcome": "reached", "call_time": at(ago(-1))}, [0]),  # after `today`
    ],
)
def test_campaign_call_closed_by_a_notice_call(warehouse, notice, expected_attempts):
    con = warehouse(
        campaigns=[{"start_date": ago(-5)}],
        follow_up_calls=[{"call_type": "campaign_notice", "campaign_id": "A1"} | notice],
    )
    assert [i["attempts"] for i in items_of("campaign_call", con)] == expected_attempts


@pytest.mark.parametrize(
    ("notice_days_ago", "notice_outcome", "letters", "campaign", "expected"),
    [
        (0, "reached", [], {}, [("A1", ago(0), ago(-2), "due", "normal", 0)]),  # the notice day: due
        (2, "reached", [], {}, [("A1", ago(2), ago(0), "due", "normal", 0)]),  # notice + 2: last day
        (3, "reached", [], {}, [("A1", ago(3), ago(1), "overdue", "high", 0)]),  # notice + 3: overdue
        (2, "reached", [{"campaign_id": "A1"}], {}, []),  # a letter for the campaign closes it
        (2, "reached", [{"campaign_id": "A1", "letter_type": "invitation"}], {}, []),  # any type
        (
            2,
            "reached",
            [{"campaign_id": "A1", "sent_date": ago(-1)}],
            {},
            [("A1", ago(2), ago(0), "due", "normal", 0)],
        ),  # sent after `today`
        (
            2,
            "reached",
            [{"campaign_id": "A2"}],
            {},
            [("A1", ago(2), ago(0), "due", "normal", 0)],
        ),  # another campaign
        (2, "refused", [], {}, []),  # a refused notice starts nothing
        (2, "no_answer", [], {}, []),  # nor does one that did not reach the customer
        (5, "reached", [], {"start_date": ago(9), "end_date": ago(1)}, []),  # the campaign has ended
    ],
)
def test_campaign_letter_after_the_notice_call(
    warehouse, notice_days_ago, notice_outcome, letters, campaign, expected
):
    con = warehouse(
        campaigns=[{"start_date": ago(-10)} | campaign],
        follow_up_calls=[
            {
                "call_type": "campaign_notice",
                "campaign_id": "A1",
                "outcome": notice_outcome,
                "call_time": at(ago(notice_days_ago)),
            }
        ],
        letters=letters,
    )
    assert brief(items_of("campaign_letter", con)) == expected


# --- complaints ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("complaint", "expected"),
    [
        ({"received_date": ago(0)}, [("P1", ago(0), ago(-2), "due", "normal", 0)]),  # received today
        ({"received_date": ago(2)}, [("P1", ago(2), ago(0), "due", "normal", 0)]),  # + 2: last day
        ({"received_date": ago(3)}, [("P1", ago(3), ago(1), "overdue", "high", 0)]),  # + 3: overdue
        ({"received_date": ago(3), "escalated_date": ago(1)}, []),  # escalated
        ({"received_date": ago(3), "resolved_date": ago(1), "resolution": "更换"}, []),  # resolved
        (
            {"received_date": ago(3), "escalated_date": ago(-1)},
            [("P1", ago(3), ago(1), "overdue", "high", 0)],
        ),  # escalated after `today`
        (
            {"received_date": ago(3), "resolved_date": ago(-1), "resolution": "更换"},
            [("P1", ago(3), ago(1), "overdue", "high", 0)],
        ),  # resolved after `today`
        ({"received_date": ago(-1)}, []),  # received after `today`
    ],
)
def test_complaint_escalation(warehouse, complaint, expected):
    con = warehouse(complaints=[complaint])
    assert brief(items_of("complaint_escalation", con)) == expected


@pytest.mark.parametrize(
    ("complaint", "calls", "expected"),
    [
        ({"resolved_date": ago(0)}, [], [("P1", ago(0), ago(-3), "due", "normal", 0)]),  # resolved today
        ({"resolved_date": ago(3)}, [], [("P1", ago(3), ago(0), "due", "normal", 0)]),  # + 3: last day
        ({"resolved_date": ago(4)}, [], [("P1", ago(4), ago(1), "overdue", "high", 0)]),  # + 4: overdue
        ({"resolved_date": ago(-1)}, [], []),  # resolved after `today`: not yet
        ({"resolved_date": ago(2)}, [{}], []),  # a reached call-back closes it
        ({"resolved_date": ago(2)}, [{"outcome": "refused"}], []),  # so does a refused one
        (
            {"resolved_date": ago(2)},
            [{"outcome": "no_answer"}],
            [("P1", ago(2), ago(-1), "due", "normal", 1)],
        ),
        # the complaint's own "customer satisfied" cell does not replace the call
        (
            {"resolved_date": ago(2), "customer_satisfied": True},
            [],
            [("P1", ago(2), ago(-1), "due", "normal", 0)],
        ),
        ({"resolved_date": ago(2)}, [{"complaint_id": "P2"}], [("P1", ago(2), ago(-1), "due", "normal", 0)]),
        # a call-back on the day of the resolution tells the customer of it: closed
        ({"resolved_date": ago(2)}, [{"call_time": at(ago(2), 18)}], []),
        # a call before the resolution could not confirm it: the item stays, and an unanswered call
        # then was no attempt at it
        (
            {"resolved_date": ago(2)},
            [{"call_time": at(ago(5))}, {"outcome": "no_answer", "call_time": at(ago(4))}],
            [("P1", ago(2), ago(-1), "due", "normal", 0)],
        ),
    ],
)
def test_complaint_callback_after_resolution(warehouse, complaint, calls, expected):
    con = warehouse(
        complaints=[{"received_date": ago(10), "resolution": "已更换刹车片"} | complaint],
        follow_up_calls=[{"call_type": "complaint_callback", "complaint_id": "P1"} | call for call in calls],
    )
    assert brief(items_of("complaint_callback", con)) == expected


# --- customer file ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_since_intake", "customers", "expected"),
    [
        (0, [], [("W1", ago(0), ago(-2), "due", "normal", 0)]),  # visit today, no file: due
        (2, [], [("W1", ago(2), ago(0), "due", "normal", 0)]),  # intake + 2: last day
        (3, [], [("W1", ago(3), ago(1), "overdue", "high", 0)]),  # intake + 3: overdue
        (3, [{}], []),  # the customer has a file
        (3, [{"customer_id": "C2"}], [("W1", ago(3), ago(1), "overdue", "high", 0)]),  # someone else's
        (3, [{"valid_from": ago(-1)}], [("W1", ago(3), ago(1), "overdue", "high", 0)]),  # file came later
        (3, [{"dealer_code": "D2"}], [("W1", ago(3), ago(1), "overdue", "high", 0)]),  # other dealer's C1
    ],
)
def test_customer_file_within_two_days(warehouse, days_since_intake, customers, expected):
    con = warehouse(
        service_visits=[{"intake_date": ago(days_since_intake), "pickup_date": None}],
        customers=customers,
        vehicles=[],
    )
    assert brief(items_of("customer_file", con)) == expected


def test_customer_file_one_item_per_customer_on_the_earliest_visit(warehouse):
    con = warehouse(
        service_visits=[
            {"work_order_no": "W2", "intake_date": ago(5), "pickup_date": None},
            {"work_order_no": "W1", "intake_date": ago(9), "pickup_date": ago(8)},
            {"work_order_no": "W3", "intake_date": ago(1), "pickup_date": None, "customer_id": "C2"},
        ],
        customers=[],
    )
    assert [(i["customer_id"], i["ref"]) for i in items_of("customer_file", con)] == [
        ("C1", "W1"),
        ("C2", "W3"),
    ]


# --- contact, context and routing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("customers", "complaint", "expected"),
    [
        ([{}], {}, {"first_follow_up": None, "complaint_escalation": None}),  # reachable
        # no file: the follow-up is listed, marked; the customer-file item says what to do
        (
            [],
            {},
            {"first_follow_up": "no_customer_file", "complaint_escalation": None, "customer_file": None},
        ),
        ([{"phone": "12345"}], {}, {"first_follow_up": "invalid_phone", "complaint_escalation": None}),
        ([{"phone": "01088886666"}], {}, {"first_follow_up": None, "complaint_escalation": None}),  # landline
        ([{"phone": ""}], {}, {"first_follow_up": "no_phone", "complaint_escalation": None}),
    ],
)
def test_unreachable_customers_are_listed_with_the_reason(warehouse, customers, complaint, expected):
    con = warehouse(
        service_visits=[{"intake_date": ago(5), "pickup_date": ago(4)}],
        complaints=[complaint],
        customers=customers,
    )
    assert {i["kind"]: i["contact_problem"] for i in due_items(con)} == expected


@pytest.mark.parametrize(
    ("address", "problem"),
    [("上海市长宁路1号", None), (None, "no_address"), ("  ", "no_address")],
)
def test_a_letter_needs_an_address(warehouse, address, problem):
    con = warehouse(
        customers=[{"address": address}],
        campaigns=[{"start_date": ago(-10)}],
        follow_up_calls=[{"call_type": "campaign_notice", "campaign_id": "A1", "call_time": at(ago(1))}],
    )
    assert [i["contact_problem"] for i in items_of("campaign_letter", con)] == [problem]


def test_an_item_carries_customer_vehicle_dealer_and_talking_points(warehouse):
    con = warehouse(
        service_visits=[
            {
                "visit_type": "maintenance",
                "intake_date": date(2024, 3, 14),
                "pickup_date": date(2024, 3, 15),
                "service_items": "更换机油、机滤",
                "next_maintenance_date": date(2024, 6, 13),
            }
        ],
    )
    [item] = items_of("first_follow_up", con)
    assert item | {"last_attempt_at": None} == {
        "as_of": TODAY,
        "dealer_code": "D1",
        "dealer_name": "一号店",
        "region": "华东",
        "kind": "first_follow_up",
        "customer_id": "C1",
        "customer_name": "张三",
        "phone": "13800138000",
        "address": "上海市长宁路1号",
        "vin": "VIN1",
        "plate_no": "沪A12345",
        "model": "M1",
        "ref": "W1",
        "due_date": date(2024, 3, 18),
        "window_end": date(2024, 3, 22),
        "status": "due",
        "priority": "normal",
        "attempts": 0,
        "last_attempt_at": None,
        "contact_problem": None,
        "talking_points": "2024-03-14 保养：更换机油、机滤；2024-03-15 出厂；下次保养 2024-06-13",
    }


@pytest.mark.parametrize(
    ("kind", "records", "expected"),
    [
        (
            "complaint_escalation",
            {"complaints": [{"received_date": date(2024, 3, 19), "description": "异响" * 30}]},
            "2024-03-19 投诉（维修质量/较重）：" + "异响" * 19 + "异…",
        ),
        (
            "campaign_call",
            {"campaigns": [{"start_date": date(2024, 4, 1), "end_date": date(2024, 4, 7)}]},
            "春季免费检测（免费检测）2024-04-01 至 2024-04-07",
        ),
        (
            "second_follow_up",
            {
                "service_visits": [{"intake_date": date(2024, 3, 1), "pickup_date": date(2024, 3, 2)}],
                "follow_up_calls": [{"work_order_no": "W1", "call_time": at(date(2024, 3, 6))}],
            },
            "首次回访 2024-03-06；2024-03-01 维修",
        ),
        (
            "second_follow_up",
            {
                "service_visits": [{"intake_date": date(2024, 3, 1), "pickup_date": date(2024, 3, 2)}],
                "follow_up_calls": [
                    {
                        "work_order_no": "W1",
                        "call_time": at(date(2024, 3, 6)),
                        "satisfaction": "fair",
                        "customer_request": "希望下次提前预约",
                    },
                    {
                        "work_order_no": "W1",
                        "call_time": at(date(2024, 3, 9)),
                        "customer_request": "later call",
                    },
                ],
            },
            "首次回访 2024-03-06（基本满意）：希望下次提前预约；2024-03-01 维修",
        ),
        (  # the earliest reached call left both blank: a later call's answers are not that call's
            "second_follow_up",
            {
                "service_visits": [{"intake_date": date(2024, 3, 1), "pickup_date": date(2024, 3, 2)}],
                "follow_up_calls": [
                    {"work_order_no": "W1", "call_time": at(date(2024, 3, 6))},
                    {
                        "work_order_no": "W1",
                        "call_time": at(date(2024, 3, 9)),
                        "satisfaction": "dissatisfied",
                        "customer_request": "later call",
                    },
                ],
            },
            "首次回访 2024-03-06；2024-03-01 维修",
        ),
    ],
)
def test_talking_points(warehouse, kind, records, expected):
    con = warehouse(**records)
    assert [i["talking_points"] for i in items_of(kind, con)] == [expected]


@pytest.mark.parametrize(
    ("kind", "records"),
    [
        ("first_follow_up", {"service_visits": [{"intake_date": ago(5), "pickup_date": ago(4)}]}),
        (
            "second_follow_up",
            {
                "service_visits": [{"intake_date": ago(20), "pickup_date": ago(19)}],
                "follow_up_calls": [{"work_order_no": "W1", "call_time": at(ago(8))}],
            },
        ),
        ("maintenance_reminder", {"service_visits": [{"next_maintenance_date": ago(-3)}]}),
        ("campaign_call", {"campaigns": [{"start_date": ago(-5)}]}),
    ],
)
def test_a_call_says_what_the_customer_file_asks_for(warehouse, kind, records):
    """The seed: the "next" service is prepared from the customer file, which records 客户希望得到的服务."""
    con = warehouse(customers=[{"preferred_services": "上门取送车"}], **records)
    [item] = items_of(kind, con)
    assert item["talking_points"].endswith("；客户希望：上门取送车")


def test_a_letter_or_escalation_does_not_carry_the_customers_wishes(warehouse):
    con = warehouse(customers=[{"preferred_services": "上门取送车"}], complaints=[{}])
    [item] = items_of("complaint_escalation", con)
    assert "客户希望" not in item["talking_points"]


def test_region_is_the_dealers_as_it_stood_that_day(warehouse):
    con = warehouse(
        dealers=[
            {"region": "华北", "valid_from": date(2020, 1, 1), "valid_to": ago(5)},
            {"region": "华东", "valid_from": ago(5)},
        ],
        complaints=[{}],
    )
    assert [i["region"] for i in due_items(con)] == ["华东"]
    assert [i["region"] for i in due_items(con, ago(6))] == []  # complaint not received yet
    con.execute("UPDATE core.complaints SET received_date = ?", [ago(8)])
    assert [i["region"] for i in due_items(con, ago(6))] == ["华北"]


# --- a past day is recomputed exactly --------------------------------------------------------------


def test_a_past_day_is_recomputed_exactly(warehouse):
    """The list for an earlier day, computed from today's data, equals the list computed on that day.

    Everything logged between that day and today (the calls that closed its items, a later pickup,
    escalation, resolution, letter, customer file, new visits and complaints) must not change it.
    """
    then = ago(10)
    visits_then = [
        {"work_order_no": "W1", "intake_date": ago(20), "pickup_date": ago(18), "under_warranty": True},
        {"work_order_no": "W2", "intake_date": ago(13), "pickup_date": None, "customer_id": "C2"},
        {
            "work_order_no": "W3",
            "intake_date": ago(40),
            "pickup_date": ago(39),
            "next_maintenance_date": ago(5),
        },
    ]
    calls_then = [
        {"call_id": "F1", "work_order_no": "W1", "outcome": "no_answer", "call_time": at(ago(14))},
        {"call_id": "F2", "work_order_no": "W3", "call_time": at(ago(35))},
        {"call_id": "F3", "call_type": "campaign_notice", "campaign_id": "A1", "call_time": at(ago(11))},
    ]
    common = {
        "dealers": [{}],
        "vehicles": [{}, {"vin": "VIN3", "customer_id": "C3"}],
        "campaigns": [{"start_date": ago(0), "end_date": ago(-3)}],
    }
    on_that_day = due_items(
        warehouse(
            **common,
            customers=[{}, {"customer_id": "C3"}],
            service_visits=visits_then,
            follow_up_calls=calls_then,
            complaints=[{"complaint_id": "P1", "received_date": ago(12)}],
        ),
        then,
    )
    now = warehouse(
        **common,
        customers=[{}, {"customer_id": "C3"}, {"customer_id": "C2", "valid_from": ago(4)}],
        service_visits=[
            visits_then[0],
            visits_then[1] | {"pickup_date": ago(3)},
            visits_then[2],
            {"work_order_no": "W4", "intake_date": ago(2), "pickup_date": ago(1)},
        ],
        follow_up_calls=[
            *calls_then,
            {"call_id": "F4", "work_order_no": "W1", "call_time": at(ago(9))},
            {
                "call_id": "F5",
                "call_type": "maintenance_reminder",
                "work_order_no": "W3",
                "call_time": at(ago(8)),
            },
            {
                "call_id": "F6",
                "call_type": "second_follow_up",
                "work_order_no": "W3",
                "call_time": at(ago(5)),
            },
            {
                "call_id": "F7",
                "call_type": "campaign_notice",
                "campaign_id": "A1",
                "customer_id": "C3",
                "call_time": at(ago(5)),
            },
        ],
        complaints=[
            {
                "complaint_id": "P1",
                "received_date": ago(12),
                "escalated_date": ago(8),
                "resolved_date": ago(4),
                "resolution": "已处理",
            },
            {"complaint_id": "P2", "received_date": ago(3)},
        ],
        letters=[{"campaign_id": "A1", "sent_date": ago(9)}],
    )
    assert due_items(now, then) == on_that_day
    assert {i["kind"] for i in on_that_day} == set(KIND.codes) - {"complaint_callback"}
    assert due_items(now) != on_that_day

"""The work orders' follow-up state (mart.due_work_orders): refreshed from what the loader wrote, never stale.

Each story loads real parsed files through the loader (which stamps every row it writes), stores a day's
list (which refreshes the state first), sends a correction, and checks three things on every day
asked: the list computed before the refresh (the state stale: the query recomputes on the spot), the
list stored after it, and the list computed with the state thrown away are the same rows.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

import pytest
from parsed_builders import parsed_file, parsed_sheet

from dealersync.transforms.due_list import due_list_sql
from dealersync.warehouse.due_lists import COLUMNS, refresh_due_state, store_due_list
from dealersync.warehouse.load import load_file

TODAY = date(2024, 3, 20)
LEAD_DAYS = 7
VIN1, VIN2 = "LSVAB4BR5EN000001", "LSVAB4BR5EN000002"


def dealer(code: str = "D001") -> dict:
    return {"dealer_code": code, "name": f"Dealer {code}", "region": "East", "active": True}


def customer(customer_id: str = "C1", vin: str = VIN1, **more) -> dict:
    row = {"dealer_code": "D001", "customer_id": customer_id, "name": "Wang Wei", "phone": "13812345678"}
    return row | {"vin": vin, "model": "EV-3", "warranty_end": date(2023, 1, 1), **more}


def visit(work_order_no: str = "W1", customer_id: str = "C1", vin: str = VIN1, **more) -> dict:
    row = {"dealer_code": "D001", "work_order_no": work_order_no, "customer_id": customer_id, "vin": vin}
    dates = {"intake_date": date(2024, 3, 1), "pickup_date": date(2024, 3, 2)}
    return row | dates | {"visit_type": "repair", "mileage_km": 1000, **more}


def call(call_id: str, when: date, **more) -> dict:
    row = {
        "dealer_code": "D001",
        "call_id": call_id,
        "call_time": datetime(when.year, when.month, when.day, 10),
    }
    row |= {"call_type": "first_follow_up", "customer_id": "C1", "work_order_no": "W1", "staff": "Li"}
    return row | {"outcome": "reached", **more}


class Nights:
    """Loads one file per run, as the nightly flow does (run 1 is the reference data)."""

    def __init__(self, con):
        self.con = con
        self.run = 1
        load_file(
            con,
            parsed_file(parsed_sheet("dealers", [dealer()]), name="reference.xlsx"),
            run_id=1,
            as_of=TODAY,
        )

    def load(self, as_of: date = TODAY, **sheets: list[dict]) -> None:
        self.run += 1
        parsed = [parsed_sheet(kind, rows) for kind, rows in sheets.items()]
        load_file(self.con, parsed_file(*parsed, name=f"night{self.run}.xlsx"), run_id=self.run, as_of=as_of)


@pytest.fixture
def nights(con):
    return Nights(con)


def items(con, day: date = TODAY, kind: str | None = None) -> list[tuple]:
    """(kind, ref, status, priority, attempts) of the day's list (of one kind), checked three ways."""
    before = con.sql(f"SELECT {COLUMNS} FROM ({due_list_sql(day, LEAD_DAYS)}) ORDER BY ALL").fetchall()
    store_due_list(con, day, LEAD_DAYS)
    stored = con.execute(
        f"SELECT {COLUMNS} FROM mart.due_list WHERE as_of = ? ORDER BY ALL", [day]
    ).fetchall()
    con.begin()
    con.execute("DELETE FROM mart.due_work_orders_refresh")  # no state to trust: everything from core
    from_core = con.sql(f"SELECT {COLUMNS} FROM ({due_list_sql(day, LEAD_DAYS)}) ORDER BY ALL").fetchall()
    con.rollback()
    assert before == stored == from_core
    names = COLUMNS.split(", ")
    return [
        tuple(row[names.index(c)] for c in ("kind", "ref", "status", "priority", "attempts"))
        for row in stored
        if row[names.index("kind")] == kind or (kind is None and row[names.index("kind")] != "customer_file")
    ]


def last_refresh(con) -> tuple:
    return con.execute("SELECT work_orders_recomputed, rebuilt FROM mart.due_work_orders_refresh").fetchall()[
        0
    ]


def test_a_call_corrected_from_reached_to_no_answer_reopens_the_first_follow_up(nights):
    nights.load(
        customers=[customer()],
        service_visits=[visit("W1")],
        follow_up_calls=[call("K1", date(2024, 3, 6))],
    )
    assert items(nights.con) == [("second_follow_up", "W1", "due", "normal", 0)]  # 3-6 + 7, last day 3-20
    assert items(nights.con, date(2024, 3, 5)) == [("first_follow_up", "W1", "due", "normal", 0)]
    nights.load(follow_up_calls=[call("K1", date(2024, 3, 6), outcome="no_answer")])
    assert items(nights.con) == [("first_follow_up", "W1", "overdue", "high", 1)]
    assert last_refresh(nights.con) == (1, False)  # only the work order of the corrected call
    assert items(nights.con, date(2024, 3, 5)) == [("first_follow_up", "W1", "due", "normal", 0)]


def test_a_call_moved_to_another_work_order_reopens_the_one_it_closed(nights):
    nights.load(
        customers=[customer()],
        service_visits=[visit("W1"), visit("W2")],
        follow_up_calls=[call("K1", date(2024, 3, 18), work_order_no="W1")],
    )
    assert items(nights.con) == [("first_follow_up", "W2", "overdue", "high", 0)]
    nights.load(follow_up_calls=[call("K1", date(2024, 3, 18), work_order_no="W2")])
    assert items(nights.con) == [("first_follow_up", "W1", "overdue", "high", 0)]
    assert last_refresh(nights.con) == (2, False)  # the new work order, and the old one the call had closed


def test_an_unanswered_call_moved_to_another_work_order_takes_its_attempt_along(nights):
    unanswered = {"outcome": "no_answer", "work_order_no": "W1"}
    nights.load(
        customers=[customer()],
        service_visits=[visit("W1"), visit("W2")],
        follow_up_calls=[
            call("K1", date(2024, 3, 6), **unanswered),
            call("K2", date(2024, 3, 7), **unanswered),
        ],
    )
    first = "first_follow_up"
    assert items(nights.con, kind=first) == [
        (first, "W1", "overdue", "high", 2),
        (first, "W2", "overdue", "high", 0),
    ]
    assert items(nights.con, date(2024, 3, 6), first) == [
        (first, "W1", "due", "normal", 1),
        (first, "W2", "due", "normal", 0),
    ]
    nights.load(follow_up_calls=[call("K1", date(2024, 3, 6), outcome="no_answer", work_order_no="W2")])
    assert items(nights.con, kind=first) == [
        (first, "W1", "overdue", "high", 1),
        (first, "W2", "overdue", "high", 1),
    ]
    nights.load(follow_up_calls=[call("K2", date(2024, 3, 7))])  # K2 did reach the customer after all
    assert items(nights.con, kind=first) == [(first, "W2", "overdue", "high", 1)]
    assert last_refresh(nights.con) == (1, False)  # W1, whose attempt K2 was


def test_a_maintenance_reminder_follows_the_latest_dated_visit_of_the_vehicle(nights):
    earlier = {"visit_type": "maintenance", "intake_date": date(2023, 9, 1), "pickup_date": date(2023, 9, 1)}
    later = {
        "intake_date": date(2024, 3, 10),
        "pickup_date": None,
        "next_maintenance_date": date(2024, 9, 10),
    }
    reminders = "maintenance_reminder"
    nights.load(
        customers=[customer(), customer("C1", VIN2)],
        service_visits=[visit("W1", **earlier, next_maintenance_date=date(2024, 3, 12))],
    )
    assert items(nights.con, kind=reminders) == [(reminders, "W1", "overdue", "high", 0)]
    nights.load(service_visits=[visit("W2", **later)])  # a later visit of the vehicle, with its own date
    assert items(nights.con, kind=reminders) == []  # from 3-10 on, the vehicle's reminder is W2's
    assert items(nights.con, date(2024, 3, 9), reminders) == [(reminders, "W1", "due", "normal", 0)]
    nights.load(service_visits=[visit("W2", "C1", VIN2, **later)])  # corrected: W2 was the other vehicle's
    assert items(nights.con, kind=reminders) == [(reminders, "W1", "overdue", "high", 0)]


def test_a_reminder_without_work_order_closes_the_customers_reminder_until_it_is_corrected(nights):
    due = {"visit_type": "maintenance", "intake_date": date(2023, 9, 1), "pickup_date": date(2023, 9, 1)}
    reminders = "maintenance_reminder"
    nights.load(
        customers=[customer(), customer("C2", VIN2)],
        service_visits=[visit("W1", **due, next_maintenance_date=date(2024, 3, 25))],
    )
    assert items(nights.con, kind=reminders) == [(reminders, "W1", "due", "normal", 0)]
    reminder_call = {"call_type": "maintenance_reminder", "work_order_no": None}
    nights.load(follow_up_calls=[call("M1", date(2024, 3, 19), **reminder_call)])  # for the customer
    assert items(nights.con, kind=reminders) == []
    nights.load(follow_up_calls=[call("M1", date(2024, 3, 19), **reminder_call, customer_id="C2")])
    assert items(nights.con, kind=reminders) == [(reminders, "W1", "due", "normal", 0)]


def test_items_closed_the_next_day_are_read_from_the_stored_state_on_the_day_before(nights):
    """The day's list reads a stored work order up to its open_through, the day before its last closing."""
    next_day = TODAY + timedelta(days=1)
    dated = {"visit_type": "maintenance", "intake_date": date(2023, 9, 1), "pickup_date": date(2023, 9, 1)}
    nights.load(
        as_of=next_day,
        customers=[customer(), customer("C1", VIN2)],
        service_visits=[
            visit("W1"),  # its first follow-up is closed the next day
            visit("W2"),  # its second follow-up is closed the next day
            visit("W3", vin=VIN2, **dated, next_maintenance_date=date(2024, 3, 25)),  # its reminder too
            visit("W4", **dated, next_maintenance_date=date(2024, 3, 25)),  # superseded the next day by W5
            visit("W5", intake_date=next_day, pickup_date=None, next_maintenance_date=date(2024, 9, 21)),
        ],
        follow_up_calls=[
            call("K1", next_day, outcome="refused"),  # closes, reaches no one: no second follow-up
            call("K2", date(2024, 3, 6), work_order_no="W2"),
            call("K3", next_day, work_order_no="W2", call_type="second_follow_up"),
            call("K4", next_day, work_order_no="W3", call_type="maintenance_reminder"),
            call("K5", date(2023, 9, 5), work_order_no="W3", outcome="refused"),
            call("K6", date(2023, 9, 5), work_order_no="W4", outcome="refused"),
        ],
    )

    def refs(day: date, kind: str) -> list[str]:
        return sorted(ref for _, ref, *_ in items(nights.con, day, kind))

    assert refs(TODAY, "first_follow_up") == ["W1"]
    assert refs(TODAY, "second_follow_up") == ["W2"]
    assert refs(TODAY, "maintenance_reminder") == ["W3", "W4"]
    assert refs(next_day, "first_follow_up") == refs(next_day, "second_follow_up") == []
    assert refs(next_day, "maintenance_reminder") == []


def test_a_follow_up_shows_the_customer_file_of_its_day(nights):
    """The state keeps the current file; a day before a later one shows that day's."""

    def phone(day: date) -> str:
        assert [ref for _, ref, *_ in items(nights.con, day, "first_follow_up")] == ["W1"]
        found = nights.con.execute("SELECT phone FROM mart.due_list WHERE as_of = ? AND ref = 'W1'", [day])
        return found.fetchall()[0][0]

    nights.load(as_of=date(2024, 3, 1), customers=[customer()], service_visits=[visit("W1")])
    assert phone(TODAY) == "13812345678"
    nights.load(as_of=date(2024, 3, 15), customers=[customer(phone="13900001111")])
    assert phone(TODAY) == "13900001111"
    assert phone(date(2024, 3, 12)) == "13812345678"  # the file of that day
    assert phone(TODAY) == "13900001111"


def test_the_warranty_filled_in_when_the_customer_file_arrives_makes_the_follow_up_urgent(nights):
    nights.load(service_visits=[visit("W1", "C2", VIN2, pickup_date=date(2024, 3, 16))])
    assert items(nights.con) == [("first_follow_up", "W1", "due", "normal", 0)]  # vehicle unknown yet
    nights.load(customers=[customer("C2", VIN2, warranty_end=date(2026, 1, 1), plate_no="沪A12345")])
    assert items(nights.con) == [("first_follow_up", "W1", "due", "high", 0)]
    plate = nights.con.execute("SELECT plate_no FROM mart.due_list WHERE as_of = ? AND ref = 'W1'", [TODAY])
    assert plate.fetchall() == [("沪A12345",)]


def test_a_warranty_known_only_from_a_later_customer_file_leaves_the_earlier_days_list_as_it_was(nights):
    """The list of 3-18 stays as it was made on 3-18 when the customer file arrives on 3-20.

    The visit left 是否保修期内 blank, so its warranty comes from the vehicle in the customer file; before
    the file came, nobody could know the visit was in the warranty period. A warranty written on the
    visit counts from the visit on.
    """
    day = date(2024, 3, 18)
    pickup = {"intake_date": date(2024, 3, 13), "pickup_date": date(2024, 3, 14)}
    first = [("first_follow_up", "W1", "due", "normal", 0)]
    nights.load(
        service_visits=[
            visit("W1", "C2", VIN2, **pickup),
            visit("W2", "C2", VIN2, under_warranty=True, **pickup),
        ]
    )
    assert items(nights.con, day) == [*first, ("first_follow_up", "W2", "due", "high", 0)]
    load_file(
        nights.con,
        parsed_file(parsed_sheet("customers", [customer("C2", VIN2, warranty_end=date(2026, 1, 1))])),
        run_id=9,
        as_of=TODAY,
    )
    assert items(nights.con, day) == [*first, ("first_follow_up", "W2", "due", "high", 0)]
    assert items(nights.con, TODAY) == [
        ("first_follow_up", "W1", "due", "high", 0),
        ("first_follow_up", "W2", "due", "high", 0),
    ]


def campaign_vehicles(con, day: date = TODAY) -> list[tuple]:
    """(customer_id, vin, plate_no) of the day's campaign calls, checked three ways as by items()."""
    items(con, day, "campaign_call")
    return con.execute(
        "SELECT customer_id, vin, plate_no FROM mart.due_list WHERE as_of = ? AND kind = 'campaign_call' "
        "ORDER BY customer_id",
        [day],
    ).fetchall()


def test_a_campaign_call_shows_the_vehicle_the_customer_had_that_day(nights):
    """The smallest VIN of the customer's vehicles bought by the day; a vehicle that changes hands goes along."""
    nights.load(date(2024, 3, 10), campaigns=[campaign("A1")])  # head office's reference workbook
    vin3 = "LSVAB4BR5EN000003"
    nights.load(
        date(2024, 3, 10),
        customers=[
            customer("C1", VIN2, purchase_date=date(2023, 1, 1), plate_no="沪A00002"),
            customer("C2", vin3, purchase_date=date(2023, 1, 1), plate_no="沪A00003"),
        ],
    )
    bought = {"purchase_date": date(2024, 3, 18), "plate_no": "沪A00001"}
    nights.load(customers=[customer("C1", VIN1, **bought)])  # C1 bought a second car on 3-18
    assert campaign_vehicles(nights.con) == [("C1", VIN1, "沪A00001"), ("C2", vin3, "沪A00003")]
    assert campaign_vehicles(nights.con, date(2024, 3, 15))[0] == ("C1", VIN2, "沪A00002")  # not bought yet
    nights.con.execute("UPDATE mart.due_campaign_pairs SET plate_no = 'stored' WHERE customer_id = 'C2'")
    listed = nights.con.sql(
        f"SELECT customer_id, plate_no FROM ({due_list_sql(TODAY, LEAD_DAYS)}) ORDER BY 1"
    )
    assert listed.fetchall() == [("C1", "沪A00001"), ("C2", "stored")]  # the state is read, not core
    nights.load(customers=[customer("C2", VIN1, **bought)])  # corrected: the second car was C2's
    assert campaign_vehicles(nights.con) == [("C1", VIN2, "沪A00002"), ("C2", VIN1, "沪A00001")]
    assert campaign_vehicles(nights.con, date(2024, 3, 15)) == [
        ("C1", VIN2, "沪A00002"),
        ("C2", vin3, "沪A00003"),
    ]


def test_a_vehicle_first_named_later_is_not_in_an_earlier_days_campaign_call(nights):
    """Bought long ago, but no file named it before 3-20: the list of 3-15 shows what its night knew."""
    nights.load(date(2024, 3, 10), campaigns=[campaign("A1")])
    nights.load(date(2024, 3, 10), customers=[customer("C1", VIN2, plate_no="沪A00002")])
    second_car = customer("C1", VIN1, purchase_date=date(2023, 6, 1), plate_no="沪A00001")
    nights.load(customers=[second_car])

    def first_seen() -> list[tuple]:
        return nights.con.execute("SELECT vin, first_seen FROM core.vehicles ORDER BY vin").fetchall()

    assert first_seen() == [(VIN1, TODAY), (VIN2, date(2024, 3, 10))]
    assert campaign_vehicles(nights.con) == [("C1", VIN1, "沪A00001")]
    assert campaign_vehicles(nights.con, date(2024, 3, 15)) == [("C1", VIN2, "沪A00002")]
    nights.load(customers=[second_car])
    assert first_seen() == [(VIN1, TODAY), (VIN2, date(2024, 3, 10))]  # named again: still known since 3-20
    nights.load(date(2024, 3, 12), customers=[second_car])
    assert first_seen() == [(VIN1, date(2024, 3, 12)), (VIN2, date(2024, 3, 10))]  # a late file of 3-12
    assert campaign_vehicles(nights.con, date(2024, 3, 15)) == [("C1", VIN1, "沪A00001")]


def campaign_items(con, day: date = TODAY) -> list[tuple]:
    """(kind, ref, customer_id, attempts) of the day's campaign calls and letters, checked three ways."""
    items(con, day)
    return con.execute(
        "SELECT kind, ref, customer_id, attempts FROM mart.due_list "
        "WHERE as_of = ? AND kind IN ('campaign_call', 'campaign_letter') ORDER BY ALL",
        [day],
    ).fetchall()


def campaign(campaign_id: str, **more) -> dict:
    row = {"campaign_id": campaign_id, "name": campaign_id, "campaign_type": "free_check"}
    return row | {"start_date": date(2024, 3, 25), "end_date": date(2024, 3, 31), **more}


def test_a_dealer_that_moves_region_takes_its_customers_to_the_other_regions_campaigns(nights):
    """A customer file without a region takes the dealer's region of the day asked."""
    nights.load(date(2024, 3, 10), campaigns=[campaign("E1", region="East"), campaign("N1", region="North")])
    nights.load(date(2024, 3, 10), customers=[customer("C1")])
    assert campaign_items(nights.con) == [("campaign_call", "E1", "C1", 0)]
    moved = date(2024, 3, 22)
    nights.load(moved, dealers=[dealer() | {"region": "North"}])  # head office moves the dealer
    assert campaign_items(nights.con, moved) == [("campaign_call", "N1", "C1", 0)]
    # the state now holds the dealer's new region: a day before the move still lists the East campaign
    assert campaign_items(nights.con, moved - timedelta(days=1)) == [("campaign_call", "E1", "C1", 0)]


def test_a_notice_call_corrected_to_another_customer_reopens_the_first_ones_call(nights):
    notice = {"call_type": "campaign_notice", "campaign_id": "A1", "work_order_no": None}
    nights.load(date(2024, 3, 10), campaigns=[campaign("A1")])
    nights.load(
        date(2024, 3, 10),
        customers=[customer("C1"), customer("C2", VIN2)],
        follow_up_calls=[
            call("K1", date(2024, 3, 15), customer_id="C1", **notice),
            call("K2", date(2024, 3, 16), customer_id="C2", **notice | {"outcome": "no_answer"}),
        ],
    )
    assert campaign_items(nights.con) == [
        ("campaign_call", "A1", "C2", 1),
        ("campaign_letter", "A1", "C1", 0),  # reached on 3-15: the letter follows
    ]
    nights.load(follow_up_calls=[call("K1", date(2024, 3, 15), customer_id="C2", **notice)])
    assert campaign_items(nights.con) == [
        ("campaign_call", "A1", "C1", 0),
        ("campaign_letter", "A1", "C2", 0),
    ]
    letter = {"dealer_code": "D001", "letter_id": "L1", "customer_id": "C2", "sent_date": date(2024, 3, 17)}
    nights.load(letters=[letter | {"letter_type": "notice", "campaign_id": "A1"}])
    assert campaign_items(nights.con) == [("campaign_call", "A1", "C1", 0)]
    assert campaign_items(nights.con, date(2024, 3, 16)) == [
        ("campaign_call", "A1", "C1", 0),
        ("campaign_letter", "A1", "C2", 0),  # not sent yet
    ]


def test_a_customer_file_corrected_back_to_its_earlier_region_takes_that_regions_campaigns(nights):
    """The corrected file drops the customer's version of its day (it equals the one before), and the loader
    writes the version before it again under its own lineage: no row of the customer is newly stamped, and
    the new customer of the same file keeps the table's count as it was."""
    nights.load(date(2024, 3, 1), campaigns=[campaign("E1", region="East"), campaign("N1", region="North")])
    nights.load(date(2024, 3, 10), customers=[customer("C1", region="East")])
    moved = date(2024, 3, 20)
    nights.load(moved, customers=[customer("C1", region="North")])
    assert campaign_items(nights.con, moved) == [("campaign_call", "N1", "C1", 0)]
    nights.load(moved, customers=[customer("C1", region="East"), customer("C2", VIN2, region="North")])
    assert nights.con.execute("SELECT count(*) FROM core.customers").fetchall() == [(2,)]
    assert campaign_items(nights.con, moved) == [
        ("campaign_call", "E1", "C1", 0),
        ("campaign_call", "N1", "C2", 0),
    ]


def test_a_dealer_corrected_back_to_its_earlier_region_takes_its_customers_back(nights):
    nights.load(date(2024, 3, 1), campaigns=[campaign("E1", region="East"), campaign("N1", region="North")])
    nights.load(date(2024, 3, 10), customers=[customer("C1")])
    moved = date(2024, 3, 22)
    nights.load(moved, dealers=[dealer() | {"region": "North"}])
    assert campaign_items(nights.con, moved) == [("campaign_call", "N1", "C1", 0)]
    nights.load(moved, dealers=[dealer(), dealer("D002")])  # corrected, with a new dealer
    assert nights.con.execute("SELECT count(*) FROM core.dealers").fetchall() == [(2,)]
    assert campaign_items(nights.con, moved) == [("campaign_call", "E1", "C1", 0)]


def test_a_night_that_changes_nothing_recomputes_nothing(nights):
    sheets = {
        "customers": [customer()],
        "service_visits": [visit("W1")],
        "follow_up_calls": [call("K1", date(2024, 3, 6))],
    }
    nights.load(**sheets)
    first = items(nights.con)
    nights.load(**sheets)  # the same rows again: the loader writes nothing
    assert items(nights.con) == first
    assert last_refresh(nights.con) == (0, False)
    assert refresh_due_state(nights.con, TODAY) == 0


def test_the_state_is_written_again_in_open_through_order_once_a_fifth_of_it_was_appended(nights):
    def stored() -> tuple[list[str], int, bool]:
        """The work orders in the order the table holds them, the rows appended since it was sorted, and
        whether the table is in open_through order."""
        rows = nights.con.execute(
            "SELECT work_order_no, open_through FROM mart.due_work_orders ORDER BY rowid"
        )
        order = rows.fetchall()
        unsorted = nights.con.execute("SELECT work_orders_unsorted FROM mart.due_work_orders_refresh")
        return (
            [w for w, _ in order],
            unsorted.fetchall()[0][0],
            [d for _, d in order] == sorted(d for _, d in order),
        )

    visits = [visit(f"W{i}", pickup_date=date(2024, 3, 2 + i)) for i in range(10)]
    closing = [
        call(f"K{i}", date(2024, 3, 12 - i), work_order_no=f"W{i}", outcome="refused") for i in range(10)
    ]
    nights.load(customers=[customer()], service_visits=visits, follow_up_calls=closing[3:])
    items(
        nights.con
    )  # the state built whole, in open_through order: W9 (closed 3-3) first, W0..W2 (open) last
    assert stored() == (["W9", "W8", "W7", "W6", "W5", "W4", "W3", "W0", "W1", "W2"], 0, True)
    nights.load(follow_up_calls=[closing[1]])  # W1 closed on 3-11: recomputed, appended after the others
    listed = items(nights.con)
    assert stored() == (["W9", "W8", "W7", "W6", "W5", "W4", "W3", "W0", "W2", "W1"], 1, False)
    nights.load(follow_up_calls=[closing[0]])
    items(nights.con)
    assert stored()[1:] == (2, False)
    nights.load(follow_up_calls=[closing[2]])  # three of ten appended: more than a fifth
    assert items(nights.con) == [item for item in listed if item[1] != "W0" and item[1] != "W2"]
    assert stored() == (["W9", "W8", "W7", "W6", "W5", "W4", "W3", "W2", "W1", "W0"], 0, True)


def test_rows_written_by_hand_without_new_lineage_make_the_state_rebuilt(nights):
    nights.load(customers=[customer()], service_visits=[visit("W1")])
    assert items(nights.con) == [("first_follow_up", "W1", "overdue", "high", 0)]
    nights.con.execute(  # stamped as an old run: the lineage does not show it
        "INSERT INTO core.follow_up_calls (dealer_code, call_id, call_time, call_type, customer_id, work_order_no,"
        " staff, outcome, run_id, file_sha256, sheet, excel_row, loaded_at) VALUES ('D001', 'K9',"
        " TIMESTAMP '2024-03-06 10:00', 'first_follow_up', 'C1', 'W1', 'Li', 'reached', 1, 'sha', 'hand', 2,"
        " TIMESTAMPTZ '2000-01-01 00:00:00+00')"
    )
    assert items(nights.con) == [("second_follow_up", "W1", "due", "normal", 0)]
    assert last_refresh(nights.con) == (1, True)


def test_a_state_made_by_another_duckdb_version_is_rebuilt(nights):
    nights.load(customers=[customer()], service_visits=[visit("W1")])
    items(nights.con)
    nights.con.execute("UPDATE mart.due_work_orders_refresh SET duckdb_version = 'v0.0.1'")
    assert items(nights.con) == [("first_follow_up", "W1", "overdue", "high", 0)]
    assert last_refresh(nights.con) == (1, True)


def test_a_vehicle_that_leaves_the_shop_gets_its_first_follow_up(nights):
    nights.load(customers=[customer()], service_visits=[visit("W1", pickup_date=None)])
    assert items(nights.con) == []  # still in the shop
    nights.load(service_visits=[visit("W1", pickup_date=date(2024, 3, 15))])
    assert items(nights.con) == [("first_follow_up", "W1", "due", "normal", 0)]
    assert items(nights.con, date(2024, 3, 17)) == []


# --- random nights: the refreshed state always gives the lists computed from core alone ---------------

STAMP = ("run_id", "file_sha256", "sheet", "excel_row", "loaded_at")
CALL_TYPES = ["first_follow_up", "second_follow_up", "maintenance_reminder", "campaign_notice"]
CAMPAIGNS = ["A1", "A2", "A3", "A4"]
CHANGES = ("visits", "calls", "letters", "files", "dealer", "campaigns", "vehicles", "taken back")
MODELS = ["M1", "M2", " m2 "]


def stamp(night: int) -> dict:
    """The lineage the loader writes on the rows night `night` changes (later nights, later stamps)."""
    values = (night + 1, f"night{night}", "random", 2, datetime(2024, 4, 1, night))
    return dict(zip(STAMP, values, strict=True))


def insert(con, table: str, row: dict, night: int) -> None:
    """A row of `table` (core's unless named with its schema) with the night's lineage."""
    row = row | stamp(night)
    marks = ", ".join("?" for _ in row)
    table = table if "." in table else f"core.{table}"
    con.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({marks})", list(row.values()))


def update(con, table: str, key: dict, values: dict, night: int) -> None:
    values = values | stamp(night)
    assignments = ", ".join(f"{name} = ?" for name in values)
    where = " AND ".join(f"{name} = ?" for name in key)
    con.execute(f"UPDATE core.{table} SET {assignments} WHERE {where}", [*values.values(), *key.values()])


def new_version(con, table: str, key: dict, values: dict, night: int) -> None:
    """A new version of a customer file or dealer from `values["valid_from"]` on, as the loader writes
    history: the version it replaces ends that day (or it comes before the others and ends at the next)."""
    where = " AND ".join(f"{name} = ?" for name in key)
    versions = (
        con.sql(f"SELECT * FROM core.{table} WHERE {where} ORDER BY valid_from", params=list(key.values()))
        .pl()
        .to_dicts()
    )
    start = values["valid_from"]
    if any(v["valid_from"] == start for v in versions):
        update(
            con,
            table,
            key | {"valid_from": start},
            {k: v for k, v in values.items() if k != "valid_from"},
            night,
        )
        return
    before = [v for v in versions if v["valid_from"] < start]
    after = [v for v in versions if v["valid_from"] > start]
    base = before[-1] if before else after[0] if after else {}
    kept = ("name", "phone", "address", "region", "preferred_services", "active")  # the attributes written
    row = {k: v for k, v in base.items() if k in kept} | key | values
    insert(con, table, row | {"valid_to": after[0]["valid_from"] if after else None}, night)
    if before:
        update(con, table, key | {"valid_from": before[-1]["valid_from"]}, {"valid_to": start}, night)


def take_back(con, rng: random.Random, night: int) -> None:
    """The loader taking back a customer's or the dealer's latest version (a file saying again what held
    before that day): the version goes, the one before is current again with its row as it was (no new
    lineage), and a new customer or dealer of the same file keeps the row count. Only the file's raw rows,
    which name them, are new."""
    for table, key, new in (
        (
            "customers",
            ("dealer_code", "customer_id"),
            {"customer_id": f"N{night}", "name": "新客户", "phone": "13800138000"},
        ),
        ("dealers", ("dealer_code",), {"dealer_code": f"E{night}", "name": "新店", "region": "华北"}),
    ):
        columns = ", ".join(key)
        keys = con.execute(
            f"SELECT {columns} FROM core.{table} GROUP BY ALL HAVING count(*) > 1 ORDER BY ALL"
        ).fetchall()
        if not keys:
            continue
        taken = dict(zip(key, rng.choice(keys), strict=True))
        where = " AND ".join(f"{name} = ?" for name in key)
        latest = con.execute(
            f"SELECT max(valid_from) FROM core.{table} WHERE {where}", list(taken.values())
        ).fetchall()[0][0]
        con.execute(f"DELETE FROM core.{table} WHERE {where} AND valid_from = ?", [*taken.values(), latest])
        con.execute(
            f"UPDATE core.{table} SET valid_to = NULL WHERE {where} AND valid_to = ?",
            [*taken.values(), latest],
        )
        new_row = {"dealer_code": "D1"} | new
        insert(con, table, new_row | {"valid_from": date(2024, 3, 1)}, night)
        for named in (taken, new_row):
            insert(con, f"raw.{table}", {name: named[name] for name in key}, night)


def random_night(con, rng: random.Random, night: int) -> None:
    """A night of random new rows and corrections, as the loader writes them.

    Vehicles change hands, model, purchase day and plate: campaign calls show the customer's vehicle of
    the campaign's model with the smallest VIN among those bought by the day (mart.due_customer_vehicles).
    Customer files and the dealer get new versions (another region, phone), campaigns change region,
    model and dates, and notice calls and letters move between customers and campaigns: the campaign
    state (mart.due_campaign_pairs) follows.
    """

    def day() -> date:
        return date(2024, 2, 1) + timedelta(days=rng.randrange(55))

    def when() -> datetime:
        return datetime.combine(day(), time(rng.randrange(8, 20)))

    # a night changes one to three kinds of rows (every kind on the first), so that a change the state
    # misses is not hidden by another that makes the same customer stale
    kinds = set(CHANGES) if night == 0 else set(rng.sample(CHANGES, rng.randrange(1, 4)))
    orders = [w for (w,) in con.execute("SELECT work_order_no FROM core.service_visits").fetchall()]
    calls = [c for (c,) in con.execute("SELECT call_id FROM core.follow_up_calls").fetchall()]
    vins = [f"V{i}" for i in range(8)]
    if "visits" in kinds:
        for i in range(rng.randrange(3, 8)):  # new visits, some of a vehicle not known yet (V9)
            intake = day()
            visit_row = {
                "dealer_code": "D1",
                "work_order_no": f"N{night}-{i}",
                "customer_id": f"C{rng.randrange(5)}",
            }
            visit_row |= {"vin": rng.choice([*vins, "V9"]), "intake_date": intake, "has_customer_file": True}
            visit_row |= {
                "pickup_date": rng.choice([None, intake, intake + timedelta(days=2)]),
                "visit_type": rng.choice(["maintenance", "repair", "warranty", "consultation"]),
                "next_maintenance_date": rng.choice([None, date(2024, 3, 15), date(2024, 3, 28)]),
                "under_warranty": rng.choice([None, True, False]),
            }
            insert(con, "service_visits", visit_row, night)
    if "calls" in kinds:
        for i in range(rng.randrange(5, 12)):  # new calls
            call_row = {"dealer_code": "D1", "call_id": f"K{night}-{i}", "call_time": when(), "staff": "Li"}
            call_type = rng.choice(
                [*CALL_TYPES, "campaign_notice", "campaign_notice"]
            )  # half about campaigns
            call_row |= {"call_type": call_type, "customer_id": f"C{rng.randrange(6)}"}
            if call_type == "campaign_notice":
                call_row |= {"campaign_id": rng.choice(CAMPAIGNS)}
            else:
                call_row |= {"work_order_no": rng.choice([None, *orders[-12:]])}
            call_row |= {"outcome": rng.choice(["reached", "reached", "refused", "no_answer"])}
            insert(con, "follow_up_calls", call_row, night)
    if "calls" in kinds:
        for call_id in rng.sample(calls, min(len(calls), rng.randrange(6))):  # corrected calls
            change = rng.choice(
                [
                    {"outcome": rng.choice(["reached", "no_answer", "refused", "wrong_number"])},
                    {"work_order_no": rng.choice([None, *orders])},
                    {"customer_id": f"C{rng.randrange(5)}"},
                    {"call_time": when()},
                    {"call_type": rng.choice(CALL_TYPES)},
                    {"campaign_id": rng.choice(CAMPAIGNS)},
                ]
            )
            update(con, "follow_up_calls", {"call_id": call_id}, change, night)
    if "letters" in kinds:
        # mostly for a customer and campaign a notice call reached, whose letter they close or reopen
        reached = con.execute(
            "SELECT DISTINCT customer_id, campaign_id FROM core.follow_up_calls "
            "WHERE call_type = 'campaign_notice' AND outcome = 'reached' ORDER BY ALL"
        ).fetchall()

        def addressee() -> dict:
            if reached and rng.random() < 0.7:
                return dict(zip(("customer_id", "campaign_id"), rng.choice(reached), strict=True))
            return {"customer_id": f"C{rng.randrange(6)}", "campaign_id": rng.choice(CAMPAIGNS)}

        letters = [k for (k,) in con.execute("SELECT letter_id FROM core.letters ORDER BY 1").fetchall()]
        for i in range(rng.randrange(1, 4)):  # new letters
            letter = {
                "dealer_code": "D1",
                "letter_id": f"L{night}-{i}",
                "sent_date": day(),
                "letter_type": "notice",
            }
            insert(con, "letters", letter | addressee(), night)
        for letter_id in rng.sample(letters, min(len(letters), rng.randrange(3))):  # corrected letters
            change = rng.choice([addressee(), {"sent_date": day()}])
            update(con, "letters", {"letter_id": letter_id}, change, night)
    if "files" in kinds:
        for customer_id in rng.sample([f"C{i}" for i in range(6)], rng.randrange(3)):  # customer files
            file = {"valid_from": day(), "name": f"客户{customer_id}", "phone": "13800138000"}
            file |= rng.choice(
                [{"region": rng.choice([None, "华东", "华北 "])}, {"phone": rng.choice(["13900139000", "6"])}]
            )
            new_version(con, "customers", {"dealer_code": "D1", "customer_id": customer_id}, file, night)
    if "dealer" in kinds and rng.random() < 0.3:  # the dealer moves region
        version = {"valid_from": day(), "name": "一号店", "region": rng.choice(["华东", "华北"])}
        new_version(con, "dealers", {"dealer_code": "D1"}, version, night)
    if "campaigns" in kinds:
        for campaign_id in rng.sample(CAMPAIGNS, rng.randrange(2)):  # head office corrects a campaign
            change = rng.choice(
                [
                    {"region": rng.choice([None, "华东", "华北"])},
                    {"model": rng.choice([None, "M1", "m2"])},
                    {
                        "start_date": day() + timedelta(days=20),
                        "end_date": day() + timedelta(days=rng.randrange(20, 40)),
                    },
                ]
            )
            update(con, "campaigns", {"campaign_id": campaign_id}, change, night)
    if "visits" in kinds:
        for order in rng.sample(orders, min(len(orders), rng.randrange(4))):  # corrected visits
            change = rng.choice(
                [
                    {"vin": rng.choice(vins)},
                    {"intake_date": day(), "pickup_date": None},
                    {"next_maintenance_date": rng.choice([None, date(2024, 3, 20), date(2024, 4, 2)])},
                    {"customer_id": f"C{rng.randrange(5)}"},
                ]
            )
            update(con, "service_visits", {"work_order_no": order}, change, night)
    if "vehicles" in kinds:
        vehicles = [v for (v,) in con.execute("SELECT vin FROM core.vehicles").fetchall()]
        for vin in rng.sample(vehicles, min(len(vehicles), rng.randrange(3))):  # corrected customer files
            change = rng.choice(
                [
                    {"customer_id": f"C{rng.randrange(5)}"},  # the vehicle is another customer's
                    {"model": rng.choice(MODELS)},
                    {"purchase_date": rng.choice([None, day()])},
                    {"first_seen": rng.choice([None, day()])},
                    {"plate_no": f"沪A{rng.randrange(10000):05d}"},
                ]
            )
            update(con, "vehicles", {"vin": vin}, change, night)
    if "taken back" in kinds:
        take_back(con, rng, night)
    if "vehicles" in kinds and rng.random() < 0.3:  # a new vehicle, bought on a random day
        vehicle = {"dealer_code": "D1", "vin": f"W{night}", "customer_id": f"C{rng.randrange(5)}"}
        vehicle |= {"model": rng.choice(MODELS), "purchase_date": day(), "first_seen": day()}
        insert(con, "vehicles", vehicle, night)
    if (
        "vehicles" in kinds and rng.random() < 0.5
    ):  # a customer file brings vehicle V9, and the loader fills in the warranty
        warranty_end = day()
        if con.execute("SELECT count(*) FROM core.vehicles WHERE vin = 'V9'").fetchall()[0][0]:
            update(con, "vehicles", {"vin": "V9"}, {"warranty_end": warranty_end}, night)
        else:
            vehicle = {"dealer_code": "D1", "vin": "V9", "customer_id": "C1", "model": "M1"}
            insert(con, "vehicles", vehicle | {"warranty_end": warranty_end}, night)
        con.execute(
            "UPDATE core.service_visits SET under_warranty = intake_date <= ? "
            "WHERE vin = 'V9' AND under_warranty IS NULL",
            [warranty_end],
        )


@pytest.mark.parametrize("as_written", ["C1", " c1 ", "Ｃ１", "\u00a0C1\u200b"])
def test_a_version_taken_back_is_seen_from_the_raw_row_whatever_its_spaces_and_width(con, as_written):
    """The file that takes back C1's North version names C1 only in its raw rows, as the cell was written:
    the state must still see C1 (read as the reader reads codes) and list it for the East campaign."""
    insert(
        con,
        "dealers",
        {"dealer_code": "D1", "name": "一号店", "region": "华北", "valid_from": date(2020, 1, 1)},
        0,
    )
    insert(con, "vehicles", {"dealer_code": "D1", "vin": "V1", "customer_id": "C1", "model": "M1"}, 0)
    east = {"campaign_id": "E1", "name": "E1", "start_date": date(2024, 3, 25), "region": "华东"}
    insert(con, "campaigns", east, 0)
    file = {"dealer_code": "D1", "customer_id": "C1", "name": "客户1", "phone": "13800138000"}
    new_version(
        con,
        "customers",
        {"dealer_code": "D1", "customer_id": "C1"},
        file | {"valid_from": date(2024, 3, 1), "region": "华东"},
        0,
    )
    new_version(
        con,
        "customers",
        {"dealer_code": "D1", "customer_id": "C1"},
        file | {"valid_from": date(2024, 3, 10), "region": "华北"},
        1,
    )
    assert items(con, TODAY, "campaign_call") == []
    con.execute("DELETE FROM core.customers WHERE valid_from = DATE '2024-03-10'")  # taken back, unstamped
    con.execute("UPDATE core.customers SET valid_to = NULL")
    insert(con, "customers", file | {"customer_id": "C2", "valid_from": date(2024, 3, 10)}, 2)  # same count
    insert(con, "raw.customers", {"dealer_code": "D1", "customer_id": as_written}, 2)
    assert items(con, TODAY, "campaign_call") == [("campaign_call", "E1", "due", "normal", 0)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_nights_give_the_lists_computed_from_core(con, seed):
    rng = random.Random(seed)
    dealer_row = {"dealer_code": "D1", "name": "一号店", "region": "华东", "valid_from": date(2020, 1, 1)}
    insert(con, "dealers", dealer_row, 0)
    for i in range(5):
        customer_row = {
            "dealer_code": "D1",
            "customer_id": f"C{i}",
            "name": f"客户{i}",
            "phone": "13800138000",
        }
        insert(con, "customers", customer_row | {"valid_from": date(2020, 1, 1)}, 0)
    for i in range(8):
        vehicle_row = {
            "dealer_code": "D1",
            "vin": f"V{i}",
            "customer_id": f"C{i % 5}",
            "model": MODELS[i % 3],
        }
        vehicle_row |= {"purchase_date": rng.choice([None, date(2023, 5, 1), date(2024, 3, 20)])}
        insert(con, "vehicles", vehicle_row | {"warranty_end": date(2024, 3, 1)}, 0)
    campaigns = (  # campaign calls show a vehicle of the model; A4 ends between the days asked
        ("A1", None, None, date(2024, 3, 28), date(2024, 4, 3)),
        ("A2", "M2", None, date(2024, 3, 28), date(2024, 4, 3)),
        ("A3", None, "华东", date(2024, 3, 25), None),
        ("A4", "M1", "华北", date(2024, 3, 18), date(2024, 3, 21)),
    )
    for campaign_id, model, region, start, end in campaigns:
        campaign = {"campaign_id": campaign_id, "name": campaign_id, "campaign_type": "free_check"}
        campaign |= {"start_date": start, "end_date": end, "model": model, "region": region}
        insert(con, "campaigns", campaign, 0)
    for night in range(8):
        random_night(con, rng, night)
        for day in (date(2024, 3, 16), date(2024, 3, 26), date(2024, 3, 12)):
            items(con, day)  # checks the stale, the refreshed and the thrown-away state give the same rows

"""History of customers and dealers: a version per change, on the run's day, intervals that never overlap."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from parsed_builders import parsed_file, parsed_sheet

from dealersync.warehouse.load import load_file
from dealersync.warehouse.runs import start_run

VIN1, VIN2 = "LSVAB4BR5EN000001", "LSVAB4BR5EN000002"


def customer_row(customer_id="C1", phone="13812345678", vin=VIN1, **more) -> dict:
    row = {"dealer_code": "D001", "customer_id": customer_id, "name": "Wang Wei", "phone": phone}
    return row | {"vin": vin, "model": "EV-3", "region": "East", **more}


def customer_file(phone="13812345678", sheet="customers", **more):
    """A customer file; the same arguments give the same content (a file loaded again, run --force), another
    `sheet` another file saying the same."""
    return parsed_file(parsed_sheet("customers", [customer_row(phone=phone, **more)], sheet=sheet))


def versions(con, table="customers", key="customer_id") -> list[tuple]:
    return con.execute(
        f"SELECT {key}, phone, valid_from, valid_to, is_current FROM core.{table} ORDER BY {key}, valid_from"
    ).fetchall()


def test_a_changed_phone_gives_a_second_version_that_starts_where_the_first_ends(con):
    load_file(con, customer_file("13812345678"), run_id=1, as_of=date(2024, 3, 1))
    load_file(con, customer_file("13900000000"), run_id=2, as_of=date(2024, 4, 1))
    assert versions(con) == [
        ("C1", "13812345678", date(2024, 3, 1), date(2024, 4, 1), False),
        ("C1", "13900000000", date(2024, 4, 1), None, True),
    ]
    assert con.execute("SELECT phone, run_id FROM core.customers_current").fetchall() == [("13900000000", 2)]


def test_unchanged_attributes_make_no_version(con):
    load_file(con, customer_file(), run_id=1, as_of=date(2024, 3, 1))
    load_file(
        con, customer_file(plate_no="沪A12345"), run_id=2, as_of=date(2024, 4, 1)
    )  # a vehicle attribute
    assert versions(con) == [("C1", "13812345678", date(2024, 3, 1), None, True)]
    assert con.execute("SELECT run_id FROM core.customers").fetchall() == [(1,)]
    assert con.execute("SELECT plate_no FROM core.vehicles").fetchall() == [("沪A12345",)]


def test_two_changes_on_one_day_update_the_current_version(con):
    load_file(con, customer_file("13812345678"), run_id=1, as_of=date(2024, 3, 1))
    load_file(con, customer_file("13900000000"), run_id=2, as_of=date(2024, 4, 1))
    load_file(con, customer_file("13700000000"), run_id=2, as_of=date(2024, 4, 1))
    assert versions(con) == [
        ("C1", "13812345678", date(2024, 3, 1), date(2024, 4, 1), False),
        ("C1", "13700000000", date(2024, 4, 1), None, True),
    ]


def test_a_change_undone_on_the_same_day_leaves_no_empty_version(con):
    load_file(con, customer_file("13812345678"), run_id=1, as_of=date(2024, 3, 1))
    load_file(con, customer_file("13900000000"), run_id=2, as_of=date(2024, 4, 1))
    load_file(con, customer_file("13812345678", sheet="客户档案"), run_id=2, as_of=date(2024, 4, 1))
    assert versions(con) == [("C1", "13812345678", date(2024, 3, 1), None, True)]


def test_a_backfill_for_an_earlier_day_slots_in_before_the_later_versions(con):
    load_file(con, customer_file("13812345678"), run_id=1, as_of=date(2024, 3, 1))
    load_file(con, customer_file("13900000000"), run_id=2, as_of=date(2024, 5, 1))
    load_file(con, customer_file("13700000000"), run_id=3, as_of=date(2024, 4, 1))  # re-run of a past night
    assert versions(con) == [
        ("C1", "13812345678", date(2024, 3, 1), date(2024, 4, 1), False),
        ("C1", "13700000000", date(2024, 4, 1), date(2024, 5, 1), False),
        ("C1", "13900000000", date(2024, 5, 1), None, True),
    ]


def test_a_late_file_for_an_earlier_day_holds_only_until_a_later_file_said_the_customer_again(con):
    # The 24th's file arrived after the 25th's and 26th's, which repeated the first phone unchanged:
    # the late phone became the current one, though the newest file says otherwise.
    def night(day: date, phone: str) -> None:
        parsed = customer_file(phone, sheet=f"night of {day}")
        load_file(con, parsed, run_id=start_run(con, as_of=day, inbox=None), as_of=day)

    night(date(2026, 11, 23), "18091250518")
    night(date(2026, 11, 25), "18091250518")
    night(date(2026, 11, 26), "18091250518")
    night(date(2026, 11, 24), "13911112222")
    assert versions(con) == [
        ("C1", "18091250518", date(2026, 11, 23), date(2026, 11, 24), False),
        ("C1", "13911112222", date(2026, 11, 24), date(2026, 11, 25), False),
        ("C1", "18091250518", date(2026, 11, 25), None, True),
    ]


def test_a_sheet_first_skipped_then_loaded_again_is_not_a_later_file_saying_its_customers(con):
    # run --force after adding an alias: the sheet's raw rows arrive under the forced run, a later day's
    def night(day: date, parsed) -> None:
        load_file(con, parsed, run_id=start_run(con, as_of=day, inbox=None), as_of=day)

    night(date(2024, 3, 1), customer_file("13812345678", sheet="客户"))
    customers = parsed_sheet("customers", [customer_row(phone="13900000000")], sheet="客户资料")
    letter = {"dealer_code": "D001", "letter_id": "L1", "customer_id": "C1", "sent_date": date(2024, 3, 1)}
    letters = parsed_sheet("letters", [letter | {"letter_type": "notice"}])
    whole = parsed_file(customers, letters)
    night(date(2024, 3, 2), dataclasses.replace(whole, sheets=[letters], skipped_sheets=[("客户资料", "?")]))
    night(date(2024, 3, 5), whole)
    assert versions(con) == [
        ("C1", "13812345678", date(2024, 3, 1), date(2024, 3, 2), False),
        ("C1", "13900000000", date(2024, 3, 2), None, True),
    ]


def test_other_customers_in_the_file_keep_their_versions(con):
    two = parsed_file(
        parsed_sheet("customers", [customer_row("C1"), customer_row("C2", "13812345679", VIN2)])
    )
    load_file(con, two, run_id=1, as_of=date(2024, 3, 1))
    load_file(con, customer_file("13900000000"), run_id=2, as_of=date(2024, 4, 1))
    assert [(c, p, f, t) for c, p, f, t, _ in versions(con)] == [
        ("C1", "13812345678", date(2024, 3, 1), date(2024, 4, 1)),
        ("C1", "13900000000", date(2024, 4, 1), None),
        ("C2", "13812345679", date(2024, 3, 1), None),
    ]


def test_dealers_keep_history_too(con):
    def dealers(phone):
        row = {"dealer_code": "D001", "name": "Dealer One", "region": "East", "phone": phone, "active": True}
        return parsed_file(parsed_sheet("dealers", [row]), name="reference.xlsx")

    load_file(con, dealers("021-1"), run_id=1, as_of=date(2024, 3, 1))
    load_file(con, dealers("021-1"), run_id=2, as_of=date(2024, 3, 5))
    load_file(con, dealers("021-2"), run_id=3, as_of=date(2024, 3, 9))
    assert versions(con, "dealers", "dealer_code") == [
        ("D001", "021-1", date(2024, 3, 1), date(2024, 3, 9), False),
        ("D001", "021-2", date(2024, 3, 9), None, True),
    ]
    assert con.execute("SELECT phone FROM core.dealers_current").fetchall() == [("021-2",)]


PHONES = st.sampled_from(["13800000001", "13800000002", "13800000003"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(loads=st.lists(st.tuples(st.integers(0, 3), PHONES), min_size=1, max_size=6))
def test_nightly_loads_give_contiguous_versions_that_say_what_the_latest_file_said(migrated_file, loads):
    """Runs in day order (gaps and repeats allowed): versions tile time from the first day, never overlap,
    differ from their neighbour, and on every day hold the phone of the last file loaded on or before it."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "warehouse.duckdb"
        shutil.copyfile(migrated_file, path)
        con = duckdb.connect(str(path))
        day = date(2024, 1, 1)
        said: dict[date, str] = {}
        for run_id, (gap, phone) in enumerate(loads, start=1):
            day += timedelta(days=gap)
            load_file(con, customer_file(phone, sheet=f"night {run_id}"), run_id=run_id, as_of=day)
            said[day] = phone
        history = versions(con)
        con.close()
    assert history[0][2] == min(said)
    assert history[-1][3] is None
    for (_, phone, _, valid_to, _), (_, next_phone, next_from, _, _) in pairwise(history):
        assert valid_to == next_from  # contiguous, no overlap
        assert phone != next_phone  # a version only when something changed
    for day in said:
        expected = said[max(d for d in said if d <= day)]
        (covering,) = [p for _, p, f, t, _ in history if f <= day and (t is None or day < t)]
        assert covering == expected


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(loads=st.lists(st.tuples(st.integers(0, 4), PHONES), min_size=1, max_size=6))
def test_files_for_any_days_in_any_order_give_each_day_what_its_latest_file_said(migrated_file, loads):
    """Files loaded in any day order (late files, backfills): versions tile time from the first day,
    never overlap, differ from their neighbour, and on every day a file was loaded for hold the phone of
    the file of the latest day on or before it (of that day's files, the one loaded last)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "warehouse.duckdb"
        shutil.copyfile(migrated_file, path)
        con = duckdb.connect(str(path))
        said: dict[date, str] = {}
        for number, (offset, phone) in enumerate(loads):
            day = date(2024, 1, 1) + timedelta(days=offset)
            run_id = start_run(con, as_of=day, inbox=None)
            load_file(con, customer_file(phone, sheet=f"file {number}"), run_id=run_id, as_of=day)
            said[day] = phone
        history = versions(con)
        con.close()
    assert history[0][2] == min(said)
    assert history[-1][3] is None
    for (_, phone, _, valid_to, _), (_, next_phone, next_from, _, _) in pairwise(history):
        assert valid_to == next_from
        assert phone != next_phone
    for day in said:
        (covering,) = [p for _, p, f, t, _ in history if f <= day and (t is None or day < t)]
        assert covering == said[day]


def test_an_old_file_loaded_again_does_not_reopen_what_a_later_file_changed(con):
    # run --force after adding an alias loads the same content again: it says what it said the day it
    # first loaded, not the day of the forced run (before: the old phone came back as a new version)
    old, new = customer_file("13812345678"), customer_file("13900000000")
    for day, parsed in ((date(2024, 3, 1), old), (date(2024, 4, 1), new), (date(2024, 5, 1), old)):
        load_file(con, parsed, run_id=start_run(con, as_of=day, inbox=None), as_of=day)
    assert versions(con) == [
        ("C1", "13812345678", date(2024, 3, 1), date(2024, 4, 1), False),
        ("C1", "13900000000", date(2024, 4, 1), None, True),
    ]


def test_an_old_file_loaded_again_keeps_a_correction_sent_later_the_same_night(con):
    first_night, later = date(2024, 3, 1), date(2024, 3, 5)
    old, fixed = customer_file("13812345678"), customer_file("13900000000", plate_no="沪A1")
    night = start_run(con, as_of=first_night, inbox=None)
    load_file(con, old, run_id=night, as_of=first_night)
    load_file(con, fixed, run_id=night, as_of=first_night)
    load_file(con, old, run_id=start_run(con, as_of=later, inbox=None), as_of=later)  # run --force
    assert versions(con) == [("C1", "13900000000", first_night, None, True)]


def test_a_closed_version_keeps_the_run_that_loaded_it_as_its_comment_says(con):
    # before: the comment said "Run that last changed the row", but closing a version leaves run_id alone
    load_file(con, customer_file("13812345678"), run_id=1, as_of=date(2024, 3, 1))
    load_file(con, customer_file("13900000000"), run_id=2, as_of=date(2024, 4, 1))
    assert con.execute("SELECT run_id FROM core.customers WHERE NOT is_current").fetchall() == [(1,)]
    for table in ("customers", "dealers"):
        (comment,) = con.execute(
            "SELECT comment FROM duckdb_columns() WHERE schema_name = 'core' AND table_name = ? AND column_name = 'run_id'",
            [table],
        ).fetchone()
        assert "loaded this version" in comment and "valid_to" in comment

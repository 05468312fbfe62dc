"""The steward's list of quarantine entries: oldest first, per dealer, with how long each has been open."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest
from faults import DiskFullAtCommit
from parsed_builders import parsed_file, parsed_sheet, rejection, warning

from dealersync.warehouse.load import load_file
from dealersync.warehouse.quarantine import UnknownEntries, close_entries, open_entries

DAY = date(2024, 3, 1)


def letter(dealer_code: str, letter_id: str) -> dict:
    row = {"dealer_code": dealer_code, "letter_id": letter_id, "customer_id": "C1"}
    return row | {"sent_date": date(2024, 2, 1), "letter_type": "notice"}


def known_dealers(con, *codes: str) -> None:
    dealers = [{"dealer_code": code, "name": code, "region": "East"} for code in codes]
    load_file(con, parsed_file(parsed_sheet("dealers", dealers)), run_id=1, as_of=DAY)


def test_entries_oldest_first_per_dealer_open_or_all(con):
    known_dealers(con, "D001", "D002")
    first = parsed_sheet(
        "letters",
        [],
        rejected=[letter("D001", "W1"), letter("D002", "W2")],
        problems=[rejection(2, "sent_date", "in_future"), rejection(3, "sent_date", "in_future")],
    )
    load_file(con, parsed_file(first, name="first.xlsx"), run_id=1, as_of=DAY)
    con.execute("UPDATE quarantine.rejected_rows SET first_seen_at = first_seen_at - INTERVAL 3 DAY")
    second = parsed_sheet(
        "letters",
        [letter("D001", "W1"), letter("D001", "W3")],
        problems=[warning(3, "campaign_id", "unknown_campaign")],
    )
    load_file(con, parsed_file(second, name="second.xlsx"), run_id=2, as_of=DAY)

    listed = open_entries(con, "D001")
    assert listed.select("severity", "business_key", "rule", "file_name", "days_open").rows() == [
        ("warning", "D001|W3", "unknown_campaign", "second.xlsx", 0)
    ]
    everything = open_entries(con, "D001", only_open=False)
    assert everything.select("business_key", "resolved_by_run", "days_open").rows() == [
        ("D001|W1", 2, 3),  # open for three days, until run 2 fixed it
        ("D001|W3", None, 0),
    ]
    assert open_entries(con).get_column("dealer_code").to_list() == ["D002", "D001"]
    assert open_entries(con, file_name="first.xlsx").get_column("business_key").to_list() == ["D002|W2"]


def test_a_dealers_entries_include_its_rows_that_name_no_known_dealer(con):
    """A mistyped dealer code in D001's file is D001's to fix, not a dealer nobody looks after."""
    known_dealers(con, "D001")
    sheet = parsed_sheet(
        "letters",
        [letter("D001", "W1"), letter("D001", "W2")],
        rejected=[letter("D010", "W3")],
        problems=[rejection(4, "dealer_code", "unknown_dealer")],
    )
    load_file(con, parsed_file(sheet, name="D001.xlsx"), run_id=2, as_of=DAY)
    # The parts warehouse's file ships mostly to D001, but its mistakes are the warehouse's, not D001's.
    shipment = {"shipment_line_id": "S1", "order_no": "O1", "dealer_code": "D001", "part_no": "P1"}
    shipment |= {"qty_ordered": 2, "qty_shipped": 2, "ship_date": DAY}
    shipments = parsed_sheet(
        "part_shipments",
        [shipment, shipment | {"shipment_line_id": "S2"}],
        rejected=[shipment | {"shipment_line_id": "S3", "dealer_code": "D0O1"}],
        problems=[rejection(4, "dealer_code", "unknown_dealer")],
    )
    load_file(con, parsed_file(shipments, name="warehouse.xlsx"), run_id=3, as_of=DAY)
    assert open_entries(con, "D001").select("dealer_code", "rule").rows() == [("D010", "unknown_dealer")]
    assert open_entries(con, "D002").is_empty()


def entry_with_a_wrong_key(con) -> int:
    """Load a letter naming an unknown dealer (D999); return its open entry's id."""
    wrong_key = parsed_sheet(
        "letters",
        [],
        rejected=[letter("D999", "L1")],
        problems=[rejection(2, "dealer_code", "unknown_dealer")],
    )
    load_file(con, parsed_file(wrong_key), run_id=1, as_of=DAY)
    (entry_id,) = open_entries(con).get_column("entry_id").to_list()
    return entry_id


def test_a_steward_closes_an_entry_whose_key_was_wrong(con):
    entry_id = entry_with_a_wrong_key(con)
    with pytest.raises(UnknownEntries, match="no quarantine entry 12345"):  # a typo closes nothing
        close_entries(con, [entry_id, 12345])
    assert close_entries(con, [entry_id]) == 1
    assert close_entries(con, [entry_id]) == 0
    assert open_entries(con).height == 0
    assert open_entries(con, only_open=False).select("resolved_by_run", "days_open").rows() == [(None, 0)]


def test_a_dealers_steward_closes_only_that_dealers_entries(con):
    """`quarantine --dealer D002 --close ID` with an id of D001's (a typo, another dealer's list) closes nothing."""
    known_dealers(con, "D001", "D002")
    sheet = parsed_sheet(
        "letters",
        [],
        rejected=[letter("D001", "W1"), letter("D002", "W2")],
        problems=[rejection(2, "sent_date", "in_future"), rejection(3, "sent_date", "in_future")],
    )
    load_file(con, parsed_file(sheet), run_id=1, as_of=DAY)
    entries = dict(open_entries(con).select("dealer_code", "entry_id").rows())
    with pytest.raises(UnknownEntries, match=f"no quarantine entry {entries['D001']} of dealer D002"):
        close_entries(con, [entries["D002"], entries["D001"]], "D002")
    assert open_entries(con).height == 2
    assert close_entries(con, [entries["D002"]], "D002") == 1
    assert open_entries(con).get_column("dealer_code").to_list() == ["D001"]


def test_closing_an_entry_that_cannot_be_committed_says_the_disk_is_full_and_leaves_it_open(con):
    entry_id = entry_with_a_wrong_key(con)
    with pytest.raises(duckdb.TransactionException, match="No space left on device"):
        close_entries(DiskFullAtCommit(con), [entry_id])
    assert open_entries(con).get_column("entry_id").to_list() == [entry_id]

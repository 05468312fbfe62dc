"""mart.due_list: a day's list is computed from core and replaces that day's rows in one transaction."""

from __future__ import annotations

from datetime import date

import duckdb
import openpyxl
import pytest
from faults import DiskFullAtCommit

from dealersync.exports.due_list import CSV, OVERVIEW, XLSX, UnknownScope, due_list_folder, exported_due_lists
from dealersync.transforms.due_list import DUE_LIST_COLUMNS
from dealersync.warehouse import due_lists
from dealersync.warehouse.due_lists import due_list_items, store_due_list

DAY = date(2024, 3, 20)
LINEAGE = "1, 'sha', 'test', 2, TIMESTAMPTZ '2024-01-01 00:00:00+00'"


@pytest.fixture
def core(con):
    """Two dealers in two regions; D1 has an overdue and a due first follow-up, D2 a complaint."""
    con.execute(f"""
    INSERT INTO core.dealers (dealer_code, name, region, valid_from, run_id, file_sha256, sheet, excel_row, loaded_at)
    VALUES ('D1', '一号店', '华东', DATE '2020-01-01', {LINEAGE}), ('D2', '二号店', '华北', DATE '2020-01-01', {LINEAGE});
    INSERT INTO core.customers (dealer_code, customer_id, name, phone, valid_from, run_id, file_sha256, sheet, excel_row, loaded_at)
    VALUES ('D1', 'C1', '张三', '13800138000', DATE '2020-01-01', {LINEAGE}),
           ('D2', 'C1', '李四', '13900139000', DATE '2020-01-01', {LINEAGE});
    INSERT INTO core.service_visits (dealer_code, work_order_no, customer_id, vin, intake_date, pickup_date,
                                     visit_type, has_customer_file, run_id, file_sha256, sheet, excel_row, loaded_at)
    VALUES ('D1', 'W1', 'C1', 'VIN1', DATE '2024-03-01', DATE '2024-03-02', 'repair', true, {LINEAGE}),
           ('D1', 'W2', 'C1', 'VIN1', DATE '2024-03-15', DATE '2024-03-16', 'maintenance', true, {LINEAGE});
    INSERT INTO core.complaints (dealer_code, complaint_id, received_date, customer_id, category, description,
                                 run_id, file_sha256, sheet, excel_row, loaded_at)
    VALUES ('D2', 'P1', DATE '2024-03-19', 'C1', 'other', '等待时间太长', {LINEAGE});
    """)
    return con


def rows(con, day: date) -> list[tuple]:
    return con.execute(
        "SELECT dealer_code, kind, ref, status FROM mart.due_list WHERE as_of = ? ORDER BY ALL", [day]
    ).fetchall()


def test_mart_columns_are_the_transforms(con):
    names = [
        name
        for (name,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'mart' AND table_name = 'due_list' "
            "ORDER BY column_index"
        ).fetchall()
    ]
    assert names == [c.name for c in DUE_LIST_COLUMNS] + ["computed_at"]


def test_a_day_is_stored_and_recomputing_it_replaces_its_rows(core):
    assert store_due_list(core, DAY, 7) == 3
    first = rows(core, DAY)
    assert first == [
        ("D1", "first_follow_up", "W1", "overdue"),
        ("D1", "first_follow_up", "W2", "due"),
        ("D2", "complaint_escalation", "P1", "due"),
    ]
    assert store_due_list(core, DAY, 7) == 3
    assert rows(core, DAY) == first  # same rows again, no duplicates
    assert core.execute("SELECT as_of, items FROM mart.due_list_days").fetchall() == [(DAY, 3)]


def test_recomputing_a_day_leaves_the_other_days_alone(core):
    store_due_list(core, DAY, 7)
    store_due_list(core, date(2024, 3, 18), 7)
    core.execute(
        "INSERT INTO core.follow_up_calls (dealer_code, call_id, call_time, call_type, customer_id, work_order_no,"
        " staff, outcome, run_id, file_sha256, sheet, excel_row, loaded_at)"
        f" VALUES ('D1', 'K1', TIMESTAMP '2024-03-20 09:00:00', 'first_follow_up', 'C1', 'W1', '王五', 'reached', {LINEAGE})"
    )
    assert store_due_list(core, DAY, 7) == 2
    assert [r[2] for r in rows(core, DAY)] == ["W2", "P1"]
    assert rows(core, date(2024, 3, 18)) == [("D1", "first_follow_up", "W1", "overdue")]
    days = core.execute("SELECT as_of, items FROM mart.due_list_days ORDER BY as_of").fetchall()
    assert days == [(date(2024, 3, 18), 1), (DAY, 2)]


def test_a_failed_recompute_keeps_the_days_rows(core, monkeypatch):
    store_due_list(core, DAY, 7)
    monkeypatch.setattr(due_lists, "due_list_sql", lambda *_, **__: "SELECT * FROM no_such_table")
    with pytest.raises(Exception, match="no_such_table"):
        store_due_list(core, DAY, 7)
    assert len(rows(core, DAY)) == 3


def test_computing_a_list_leaves_the_order_of_other_queries_as_it_was(core, monkeypatch):
    """The writer's list may come out in any order; what the connection does next keeps insertion order."""
    order = "SELECT current_setting('preserve_insertion_order')"
    store_due_list(core, DAY, 7)
    assert core.execute(order).fetchall() == [(True,)]
    monkeypatch.setattr(due_lists, "due_list_sql", lambda *_, **__: "SELECT * FROM no_such_table")
    with pytest.raises(Exception, match="no_such_table"):
        store_due_list(core, DAY, 7)
    assert core.execute(order).fetchall() == [(True,)]


def test_a_list_that_cannot_be_committed_says_the_disk_is_full_and_keeps_the_days_rows(core):
    store_due_list(core, DAY, 7)
    with pytest.raises(duckdb.TransactionException, match="No space left on device"):
        store_due_list(DiskFullAtCommit(core), DAY, 7)
    assert len(rows(core, DAY)) == 3


def test_items_of_a_dealer_or_region_in_working_order(core):
    store_due_list(core, DAY, 7)
    everything = due_list_items(core, DAY)
    assert everything.columns == [c.name for c in DUE_LIST_COLUMNS]
    # by kind, then overdue first
    assert everything["ref"].to_list() == ["W1", "W2", "P1"]
    assert due_list_items(core, DAY, dealer=" d1 ")["ref"].to_list() == ["W1", "W2"]
    assert due_list_items(core, DAY, region="华北")["ref"].to_list() == ["P1"]
    assert due_list_items(core, date(2024, 3, 21)).height == 0  # not computed: nothing stored


def test_exported_files_for_every_dealer_and_region_or_one(core, tmp_path):
    folder = due_list_folder(tmp_path, DAY)
    paths = exported_due_lists(core, DAY, folder, 7)
    assert sorted(p.name for p in paths) == sorted(
        f"{scope}.{ext}"
        for scope in ("dealer_D1", "dealer_D2", "region_华东", "region_华北")
        for ext in ("xlsx", "csv")
    )
    assert [p.name for p in exported_due_lists(core, DAY, tmp_path / "one", 7, [CSV], dealer="d2")] == [
        "dealer_D2.csv"
    ]
    assert [p.name for p in exported_due_lists(core, DAY, tmp_path / "one", 7, [XLSX], region="华北")] == [
        "region_华北.xlsx"
    ]


def test_a_region_asked_for_in_another_case_or_with_spaces_is_the_region(core, tmp_path):
    """A dealer code is taken in any case; so is a region, and its file has the warehouse's spelling."""
    core.execute("UPDATE core.dealers SET region = 'North' WHERE dealer_code = 'D2'")
    paths = exported_due_lists(core, DAY, tmp_path, 7, [CSV], region=" north ")
    assert [p.name for p in paths] == ["region_North.csv"]
    assert "P1" in paths[0].read_text(encoding="utf-8-sig")


@pytest.mark.parametrize(("dealer", "region"), [("D9", None), (None, "西藏")])
def test_an_unknown_dealer_or_region_is_an_error_not_an_empty_file(core, tmp_path, dealer, region):
    with pytest.raises(UnknownScope):
        exported_due_lists(core, DAY, tmp_path / "lists", 7, dealer=dealer, region=region)
    assert not (tmp_path / "lists").exists()


def test_an_active_dealer_with_nothing_due_gets_an_empty_list(core, tmp_path):
    core.execute(
        "INSERT INTO core.dealers (dealer_code, name, region, active, valid_from, run_id, file_sha256, sheet,"
        f" excel_row, loaded_at) VALUES ('D3', '三号店', '华南', true, DATE '2020-01-01', {LINEAGE}),"
        f" ('D4', '四号店', '华南', false, DATE '2020-01-01', {LINEAGE})"
    )
    names = {p.name for p in exported_due_lists(core, DAY, tmp_path, 7, [CSV])}
    assert {"dealer_D3.csv", "region_华南.csv"} <= names
    assert "dealer_D4.csv" not in names  # inactive
    assert (tmp_path / "dealer_D3.csv").read_text(encoding="utf-8-sig").count("\n") == 1  # the header


def test_a_regions_overview_lists_its_active_dealers_with_nothing_due(core, tmp_path):
    """The supervisor reads 0 for a dealer with nothing to do; a dealer left out would say nothing."""
    core.execute(
        "INSERT INTO core.dealers (dealer_code, name, region, active, valid_from, run_id, file_sha256, sheet,"
        f" excel_row, loaded_at) VALUES ('D3', '三号店', '华东', true, DATE '2020-01-01', {LINEAGE}),"
        f" ('D4', '四号店', '华东', false, DATE '2020-01-01', {LINEAGE})"
    )
    for paths in (
        exported_due_lists(core, DAY, tmp_path / "all", 7, [XLSX]),
        exported_due_lists(core, DAY, tmp_path / "one", 7, [XLSX], region="华东"),
    ):
        [path] = [p for p in paths if p.name == "region_华东.xlsx"]
        overview = openpyxl.load_workbook(path)[OVERVIEW].iter_rows(values_only=True)
        assert [row[:3] for row in overview if row[0] in ("D1", "D3", "D4")] == [
            ("D1", "一号店", 2),
            ("D3", "三号店", 0),  # active, nothing due
        ]


def test_a_past_days_files_list_the_dealers_as_they_stood_that_day(core, tmp_path):
    """D3 was in 华东 and had nothing due on DAY, then moved to 华北 and was closed down later: the files
    of DAY, written again now, list it as that day's night did (华东's overview, its own empty file)."""
    core.execute(
        "INSERT INTO core.dealers (dealer_code, name, region, active, valid_from, valid_to, run_id, file_sha256,"
        f" sheet, excel_row, loaded_at) VALUES ('D3', '三号店', '华东', true, DATE '2020-01-01', DATE '2024-03-25',"
        f" {LINEAGE}), ('D3', '三号店', '华北', false, DATE '2024-03-25', NULL, {LINEAGE})"
    )
    paths = {p.name: p for p in exported_due_lists(core, DAY, tmp_path, 7, [XLSX])}
    assert "dealer_D3.xlsx" in paths  # active on DAY

    def overview_dealers(name: str) -> list[tuple]:
        overview = openpyxl.load_workbook(paths[name])[OVERVIEW].iter_rows(values_only=True)
        return [row[:3] for row in overview if row[0] in ("D1", "D2", "D3")]

    assert overview_dealers("region_华东.xlsx") == [("D1", "一号店", 2), ("D3", "三号店", 0)]
    assert overview_dealers("region_华北.xlsx") == [("D2", "二号店", 1)]

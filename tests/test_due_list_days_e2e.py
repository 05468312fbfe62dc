"""Nights over consecutive days, then the past days written again: each file equals the one its night wrote.

A small hand-made desk: three dealers, a customer and a visit each. On the third night head office moves
D2 from 华东 to 华北 and closes D3. Each night's list is checked against the first follow-up's rule by
hand (pickup + 2 not yet, + 3 due, + 7 due, + 8 overdue), then the first two days are computed again,
as `dealersync due-list --date` and the web page do, and compared file by file with what their nights
wrote (the items, and the dealers each region's overview names).
"""

from __future__ import annotations

import os
import time
from datetime import date, timedelta

import duckdb
import openpyxl
import pytest
from workbooks import write_xlsx

from dealersync.exports.due_list import due_list_folder, exported_due_lists
from dealersync.samples import vin_with_check_digit
from dealersync.schemas.contract import SHEETS

FIRST = date(2026, 11, 2)
DAYS = [FIRST + timedelta(days=n) for n in range(3)]


def sheet(kind: str, rows: list[dict]) -> list[list]:
    columns = SHEETS[kind].columns
    return [[c.zh for c in columns]] + [[row.get(c.name) for c in columns] for row in rows]


def dealers(moved: bool) -> list[dict]:
    return [
        {"dealer_code": "D1", "name": "一号店", "region": "华东"},
        {"dealer_code": "D2", "name": "二号店", "region": "华北" if moved else "华东"},
        {"dealer_code": "D3", "name": "三号店", "region": "华北", "active": "否" if moved else "是"},
    ]


def dealer_book(code: str, customer: str, serial: int, pickup: date) -> dict[str, list[list]]:
    vin = vin_with_check_digit("LZYTBGBW", 2024, "H", serial)
    customer_row = {"dealer_code": code, "customer_id": customer, "name": "王一", "phone": "13800000001",
                    "vin": vin, "model": "EV-A", "warranty_end": date(2028, 1, 1)}  # fmt: skip
    visit = {"dealer_code": code, "work_order_no": f"W{serial}", "customer_id": customer, "vin": vin,
             "intake_date": pickup - timedelta(days=1), "pickup_date": pickup, "visit_type": "维修",
             "under_warranty": "否"}  # fmt: skip
    return {"客户档案": sheet("customers", [customer_row]), "维修保养记录": sheet("service_visits", [visit])}


def send(inbox, name: str, sheets: dict, order: int) -> None:
    path = write_xlsx(inbox / name, sheets)
    stamp = time.time() - 1000 + order  # head office's file first
    os.utime(path, (stamp, stamp))


def first_follow_ups(folder, code: str) -> list[tuple]:
    header, *rows = openpyxl.load_workbook(folder / f"dealer_{code}.xlsx")["首次回访"].iter_rows(
        values_only=True
    )
    items = [dict(zip(header, row, strict=True)) for row in rows]
    return [(i["单号"], i["应办日期"].date(), i["截止日期"].date(), i["状态"]) for i in items]


def contents(folder) -> dict[str, object]:
    """Every file of a day's folder: an xlsx as its sheets' cell values, a csv as its text."""
    found = {}
    for path in sorted(folder.iterdir()):
        if path.suffix == ".csv":
            found[path.name] = path.read_text(encoding="utf-8-sig")
        else:
            book = openpyxl.load_workbook(path)
            found[path.name] = {s.title: list(s.iter_rows(values_only=True)) for s in book.worksheets}
    return found


@pytest.mark.slow
@pytest.mark.xdist_group("prefect")
def test_past_days_written_again_equal_what_their_nights_wrote(tmp_path, monkeypatch, prefect_harness):
    from prefect.task_runners import ThreadPoolTaskRunner

    from dealersync.flows.nightly import nightly

    exports = tmp_path / "exports"
    monkeypatch.setenv("DEALERSYNC_EXPORTS", str(exports))
    monkeypatch.setenv("DEALERSYNC_SETTLE_SECONDS", "0")
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse.duckdb"
    inbox.mkdir()
    night = nightly.with_options(task_runner=ThreadPoolTaskRunner(max_workers=2))
    send(inbox, "总部基础资料.xlsx", {"经销商": sheet("dealers", dealers(moved=False))}, 0)
    send(inbox, "D1.xlsx", dealer_book("D1", "C1", 1, FIRST - timedelta(days=3)), 1)  # due on the first day
    send(inbox, "D2.xlsx", dealer_book("D2", "C2", 2, FIRST - timedelta(days=2)), 2)  # due on the second
    send(inbox, "D3.xlsx", dealer_book("D3", "C3", 3, FIRST - timedelta(days=8)), 3)  # overdue from the first
    for day in DAYS:
        if day == DAYS[-1]:
            send(inbox, "总部基础资料_更新.xlsx", {"经销商": sheet("dealers", dealers(moved=True))}, 4)
        assert night(inbox=inbox, warehouse=warehouse, today=day).exit_code == 0

    nights = {day: due_list_folder(exports, day) for day in DAYS}
    assert first_follow_ups(nights[DAYS[0]], "D1") == [("W1", DAYS[0], DAYS[0] + timedelta(days=4), "待办")]
    assert first_follow_ups(nights[DAYS[0]], "D2") == []  # pickup + 2
    assert first_follow_ups(nights[DAYS[1]], "D2") == [("W2", DAYS[1], DAYS[1] + timedelta(days=4), "待办")]
    assert first_follow_ups(nights[DAYS[0]], "D3") == [("W3", DAYS[0] - timedelta(days=5), DAYS[0] + timedelta(days=-1), "逾期")]  # fmt: skip

    con = duckdb.connect(str(warehouse))
    try:
        for day in DAYS[:2]:
            again = tmp_path / "again" / day.isoformat()
            exported_due_lists(con, day, again, 7)
            assert contents(again) == contents(nights[day]), day
    finally:
        con.close()

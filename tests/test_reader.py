"""Reader: header rows, aliases, excel_row, blank/total rows, _extra, cells as text, and every refusal."""

from __future__ import annotations

import json
import struct
import zipfile
from datetime import date, datetime, time
from pathlib import Path
from time import perf_counter

import openpyxl
import polars as pl
import pytest
import xlsxwriter
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900
from workbooks import Formatted, Formula, at, ole2_container, rewrite_part, write_xlsx, xls_bytes

from dealersync.reader import (
    TOTAL_CELL,
    FileRefused,
    _merged_ranges,
    _number_cell_styles,
    read_workbook,
)
from dealersync.schemas.contract import SHEETS

CUSTOMER_HEADERS = ["经销商代码", "客户编号", "客户名称", "联系电话", "车架号", "车型"]
CUSTOMER_ROW = ["D0001", "C00001", "王建国", "13812345678", "LFV2A21K6G3053421", "DS-100"]
VISIT_HEADERS = ["经销商代码", "工单号", "客户编号", "车架号", "进厂日期", "类型", "金额"]


def visit(n: int, amount: object = 100) -> list[object]:
    return ["D0001", f"WO{n:04d}", "C00001", "LFV2A21K6G3053421", date(2024, 3, n % 28 + 1), "保养", amount]


def read_one(path: Path, aliases, **limits):
    workbook = read_workbook(path, aliases, **limits)
    assert len(workbook.sheets) == 1, workbook.skipped_sheets
    return workbook.sheets[0]


def refusal(path: Path, aliases, **limits) -> str:
    with pytest.raises(FileRefused) as refused:
        read_workbook(path, aliases, **limits)
    return refused.value.reason


# --- header row, positions, aliases ---------------------------------------------------------------


def test_header_found_under_merged_banner_and_blank_rows(tmp_path, aliases):
    rows = [
        ["某某汽车销售服务有限公司 维修保养记录（2024年3月）"],
        ["填报人：张敏"],
        [],
        VISIT_HEADERS,
        visit(1),
    ]
    path = write_xlsx(tmp_path / "v.xlsx", {"维修保养记录": rows}, merged={"维修保养记录": "A1:G1"})
    sheet = read_one(path, aliases)
    assert sheet.kind == "service_visits"
    assert sheet.header_row == 4
    assert sheet.frame["excel_row"].to_list() == [5]
    assert sheet.frame["work_order_no"].to_list() == ["WO0001"]


def test_excel_row_exact_when_data_starts_at_c5(tmp_path, aliases):
    rows = at([VISIT_HEADERS, visit(1), visit(2)], top=4, left=2)  # header in C5, data from C6
    sheet = read_one(write_xlsx(tmp_path / "v.xlsx", {"维修记录": rows}), aliases)
    assert sheet.header_row == 5
    assert sheet.frame["excel_row"].to_list() == [6, 7]
    assert sheet.frame.schema["excel_row"] == pl.Int64


def test_excel_row_exact_after_leading_blank_rows_in_xls(tmp_path, aliases):
    rows = at([VISIT_HEADERS, visit(1), [], visit(2)], top=3, left=1)
    path = tmp_path / "v.xls"
    path.write_bytes(xls_bytes({"维修记录": rows}))
    sheet = read_one(path, aliases)
    assert (sheet.header_row, sheet.frame["excel_row"].to_list(), sheet.blank_rows) == (4, [5, 7], 1)
    assert sheet.frame["intake_date"].to_list() == ["2024-03-02 00:00:00", "2024-03-03 00:00:00"]


@pytest.mark.parametrize(
    "header, field",
    [
        ("工单号", "work_order_no"),  # the contract's own Chinese header
        ("work_order_no", "work_order_no"),  # the canonical name
        ("Work Order", "work_order_no"),  # an English alias, any case
        ("委托书号", "work_order_no"),  # an alias from aliases.toml
        ("進廠日期", "intake_date"),  # traditional Chinese
        ("ＶＩＮ", "vin"),  # full-width
        (" 工 单 号 ", "work_order_no"),  # stray spaces
        ("进厂\n日期", "intake_date"),  # a line break inside the header
        ("里程(km)", "mileage_km"),  # a unit in brackets
        ("金额（元）", "amount"),  # a unit in full-width brackets
        ("保养周期（天）", "maintenance_cycle_days"),
        ("是否保修期内：", "under_warranty"),  # punctuation
    ],
)
def test_every_header_form_maps_to_its_field(tmp_path, aliases, header, field):
    headers = ["经销商代码", "客户编号", header]
    sheet = read_one(write_xlsx(tmp_path / "v.xlsx", {"维修记录": [headers, ["D1", "C1", "x"]]}), aliases)
    assert sheet.headers[field] == header.strip()
    assert sheet.frame[field].to_list() == ["x"]


@pytest.mark.parametrize(
    "sheet_name, kind",
    [
        ("客户档案基本资料表", "customers"),  # the seed's form name
        ("客戶檔案基本資料表", "customers"),  # the same in traditional Chinese
        ("ＣＵＳＴＯＭＥＲＳ", "customers"),  # full-width English
        (" 维修 记录 ", "service_visits"),  # spaces
        ("Service Visits", "service_visits"),
        ("跟踪服务电话登记表", "follow_up_calls"),
        ("跟蹤服務信函登記表", "letters"),
        ("投诉", "complaints"),
        ("出库(2024年3月)", "part_shipments"),  # a note in brackets
        ("经销商", "dealers"),
    ],
)
def test_sheet_names_in_every_form(tmp_path, aliases, sheet_name, kind):
    headers = [SHEETS[kind].columns[0].zh, SHEETS[kind].columns[1].zh]
    sheet = read_one(write_xlsx(tmp_path / "w.xlsx", {sheet_name: [headers, ["a", "b"]]}), aliases)
    assert (sheet.sheet, sheet.kind) == (sheet_name, kind)


@pytest.mark.parametrize("kind", list(SHEETS))
def test_sheet_recognised_by_its_headers_when_its_name_is_unknown(tmp_path, aliases, kind):
    required = [c.zh for c in SHEETS[kind].columns if c.required]
    rows = [["月报"], [], required, ["x"] * len(required)]
    sheet = read_one(write_xlsx(tmp_path / "w.xlsx", {"Sheet1": rows}), aliases)
    assert (sheet.kind, sheet.header_row) == (kind, 3)


def test_columns_in_any_order_come_out_in_contract_order(tmp_path, aliases):
    headers = list(reversed(CUSTOMER_HEADERS))
    sheet = read_one(
        write_xlsx(tmp_path / "c.xlsx", {"客户档案": [headers, list(reversed(CUSTOMER_ROW))]}), aliases
    )
    assert sheet.frame.columns == [
        "excel_row",
        "dealer_code",
        "customer_id",
        "name",
        "phone",
        "vin",
        "model",
        "_extra",
    ]
    assert sheet.frame.row(0)[1:7] == tuple(CUSTOMER_ROW)


# --- rows and columns that are not data ---------------------------------------------------------


def test_blank_and_total_rows_dropped_and_reported(tmp_path, aliases):
    rows = [
        VISIT_HEADERS,
        visit(1),  # row 2
        [],  # row 3: blank
        visit(2),  # row 4
        ["  ", None, "　"],  # row 5: only spaces (ASCII and ideographic) counts as blank
        ["小计", None, None, None, None, None, 200],  # row 6: a subtotal between data
        visit(3),  # row 7
        [None, "合 計", None, None, None, None, 300],  # row 8: traditional, spaced, not in the first column
        ["Total:", None, None, None, None, None, 300],  # row 9: English
        ["合计：1,234.50元"],  # row 10: the label and its figure in one cell
    ]
    sheet = read_one(write_xlsx(tmp_path / "v.xlsx", {"维修记录": rows}), aliases)
    assert sheet.frame["excel_row"].to_list() == [2, 4, 7]
    assert sheet.blank_rows == 2
    assert sheet.total_rows == [6, 8, 9, 10]


def test_a_total_row_counting_households_or_vehicles_is_a_total_row(tmp_path, aliases):
    rows = [VISIT_HEADERS, visit(1), ["合计：3户"], ["总计", "12辆"], ["合计 3户5辆"], ["合计3户左右"]]
    sheet = read_one(write_xlsx(tmp_path / "v.xlsx", {"维修记录": rows}), aliases)
    assert sheet.total_rows == [3, 4, 5]  # row 6 says more than a count: data (and rejected as such)
    assert sheet.frame["excel_row"].to_list() == [2, 6]


def test_the_total_row_of_a_chinese_excel_table_is_a_total_row(tmp_path, aliases):
    """Chinese Excel labels a table's total row (Table Design > Total Row) 汇总, beside its SUBTOTAL figures:
    read as a visit it was quarantined for a blank work order, customer, VIN, date and type."""
    subtotal = Formula("=SUBTOTAL(109,G2:G3)", 200.5)
    rows = [
        VISIT_HEADERS,
        visit(1),
        visit(2),
        ["汇总", None, None, None, None, None, subtotal],
        ["匯總", "2辆"],
    ]
    sheet = read_one(write_xlsx(tmp_path / "v.xlsx", {"维修记录": rows}), aliases)
    assert sheet.total_rows == [4, 5]
    assert sheet.frame["excel_row"].to_list() == [2, 3]


def test_a_total_row_whose_formula_failed_is_still_a_total_row(tmp_path, aliases):
    # A 金额 of text above makes the SUM show #VALUE!: the row is still the total, not a visit to reject
    # for a blank work order, customer, VIN, date and type.
    rows = [
        VISIT_HEADERS,
        visit(1, amount="abc"),
        ["合计", None, None, None, None, None, Formula("=SUM(G2:G2)", "#VALUE!")],
        [None, "WO9", None, None, None, None, Formula("=1/0", "#DIV/0!")],  # no total label: data
    ]
    sheet = read_one(write_xlsx(tmp_path / "v.xlsx", {"维修记录": rows}), aliases)
    assert sheet.total_rows == [3]
    assert sheet.frame["excel_row"].to_list() == [2, 4]


CALL_HEADERS = ["经销商代码", "记录编号", "通话类型", "客户编号", "业务员", "结果"]
CALL = ["D0012", "K1", "首次回访", "C1", "小李", "接通"]


def test_a_call_written_as_a_date_column_and_a_time_column_is_one_call_time(tmp_path, aliases):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "电话回访记录"
    sheet.append([*CALL_HEADERS, "通话时间", "通话日期"])  # the time first: order does not matter
    sheet.append([*CALL, time(10, 30), date(2026, 11, 20)])  # real Excel time and date
    sheet.append([*CALL, "14:05", "2026/11/21"])  # both typed as text
    sheet.append([*CALL, None, date(2026, 11, 22)])  # no time: the date alone
    sheet.append([*CALL, time(9, 0), None])  # no date: blank, which the checks reject
    book.save(tmp_path / "calls.xlsx")
    read = read_one(tmp_path / "calls.xlsx", aliases)
    assert read.headers["call_time"] == "通话日期"  # problems are shown and marked under the date column
    assert "通话时间" not in read.extra_headers
    assert read.frame["call_time"].to_list() == [
        "2026-11-20 10:30:00",
        "2026/11/21 14:05",
        "2026-11-22 00:00:00",
        None,
    ]


def test_a_mac_workbook_of_the_1904_date_system_joins_its_date_and_time_columns(tmp_path, aliases):
    """Mac Excel's 1904 date system: calamine hands a time alone over on 1904-01-01, not 1899-12-31."""
    book = openpyxl.Workbook()
    book.epoch = CALENDAR_MAC_1904
    sheet = book.active
    sheet.title = "电话回访记录"
    sheet.append([*CALL_HEADERS, "通话日期", "通话时间"])
    sheet.append([*CALL, date(2026, 11, 20), time(10, 30)])
    book.save(tmp_path / "calls.xlsx")
    assert read_one(tmp_path / "calls.xlsx", aliases).frame["call_time"].to_list() == ["2026-11-20 10:30:00"]


@pytest.mark.parametrize("epoch", [CALENDAR_WINDOWS_1900, CALENDAR_MAC_1904])
def test_a_time_alone_reads_as_the_time_excel_shows_not_as_a_day_of_1899(tmp_path, aliases, epoch):
    """A call time typed as 10:30 is a time without a day: read as calamine's day zero it loaded a call of
    1899 (or 1904), which even counted as a timely return visit; as written it is rejected as no datetime."""
    book = openpyxl.Workbook()
    book.epoch = epoch
    sheet = book.active
    sheet.title = "电话回访记录"
    sheet.append([*CALL_HEADERS, "通话时间", "备注"])
    sheet.append([*CALL, time(10, 30), time(9, 5, 30)])
    sheet.append([*CALL, datetime(2026, 11, 20, 10, 30), "9:05"])
    book.save(tmp_path / "calls.xlsx")
    frame = read_one(tmp_path / "calls.xlsx", aliases).frame
    assert frame["call_time"].to_list() == ["10:30:00", "2026-11-20 10:30:00"]
    assert frame["notes"].to_list() == ["09:05:30", "9:05"]


def test_a_legacy_xls_of_the_1904_date_system_reads_a_time_alone_as_the_time(tmp_path, aliases):
    """An .xls says its date system in its DATEMODE record; a time alone is then on 1904-01-01."""
    data = xls_bytes({"电话回访记录": [[*CALL_HEADERS, "通话时间"], [*CALL, date(2026, 11, 20)]]})
    serial_1900 = (datetime(2026, 11, 20) - datetime(1899, 12, 30)).days
    data = data.replace(struct.pack("<Hd", 1, serial_1900), struct.pack("<Hd", 1, 0.4375))  # a time alone
    data = data.replace(b"\x22\x00\x02\x00\x00\x00", b"\x22\x00\x02\x00\x01\x00", 1)  # DATEMODE: 1904
    (tmp_path / "calls.xls").write_bytes(data)
    assert read_one(tmp_path / "calls.xls", aliases).frame["call_time"].to_list() == ["10:30:00"]


def test_chinese_excels_own_date_and_time_formats_read_as_the_day_and_time_shown(tmp_path, aliases):
    """Chinese Excel's built-in formats (2024年3月5日 is id 31, 10时30分 id 32) carry no format code, and
    calamine knows only the English ones: read as serials, the date and time columns refused the file."""
    book = xlsxwriter.Workbook(tmp_path / "calls.xlsx")
    day, clock = book.add_format({"num_format": 31}), book.add_format({"num_format": 32})
    sheet = book.add_worksheet("电话回访记录")
    sheet.write_row(0, 0, [*CALL_HEADERS, "通话日期", "通话时间", "备注"])
    sheet.write_row(1, 0, CALL)
    sheet.write_number(1, 6, 46346, day)  # shows 2026年11月20日
    sheet.write_number(1, 7, 0.4375, clock)  # shows 10时30分
    sheet.write_string(1, 8, "45000", day)  # a text cell keeps its text, whatever its format
    book.close()
    frame = read_one(tmp_path / "calls.xlsx", aliases).frame
    assert frame.select("call_time", "notes").row(0) == ("2026-11-20 10:30:00", "45000")


def test_a_number_shown_with_leading_zeros_reads_as_shown(tmp_path, aliases):
    """Excel drops a typed number's leading zeros, so a customer number 00123 or a landline 01088886666 is
    kept by a format of zeros (00000): read as stored, the number matched no other file's 00123 and the
    landline was rejected as 1088886666, a number the steward cannot find in the sheet."""
    book = xlsxwriter.Workbook(tmp_path / "customers.xlsx")
    sheet = book.add_worksheet("客户档案")
    sheet.write_row(0, 0, CUSTOMER_HEADERS)
    sheet.write_row(1, 0, CUSTOMER_ROW)
    sheet.write_number(1, 1, 123, book.add_format({"num_format": "00000"}))
    sheet.write_number(1, 3, 1088886666, book.add_format({"num_format": "00000000000"}))
    sheet.write_row(2, 0, CUSTOMER_ROW)
    sheet.write_number(2, 1, 123456, book.add_format({"num_format": "00000"}))  # wider than its format
    book.close()
    frame = read_one(tmp_path / "customers.xlsx", aliases).frame
    assert frame.select("customer_id", "phone").rows() == [
        ("00123", "01088886666"),
        ("123456", "13812345678"),
    ]


def test_a_legacy_xls_reads_its_numbers_as_its_formats_show_them(tmp_path, aliases):
    """An .xls keeps its formats in FORMAT and XF records, and a whole number in an RK record: read as
    stored, 00123 and the landline lost their zeros, and Chinese Excel's own date and time formats gave
    serials, as in an .xlsx."""
    customers = [
        CUSTOMER_HEADERS,
        [
            "D0001",
            Formatted(123, "00000", rk=True),
            "王建国",
            Formatted(1088886666, "00000000000"),
            *CUSTOMER_ROW[4:],
        ],
        ["D0001", Formatted(123456, "00000", rk=True), *CUSTOMER_ROW[2:]],  # wider than its format
    ]
    calls = [
        [*CALL_HEADERS, "通话日期", "通话时间", "备注"],
        [*CALL, Formatted(46346, 31, rk=True), Formatted(0.4375, 32), "45000"],
    ]
    (tmp_path / "book.xls").write_bytes(xls_bytes({"客户档案": customers, "电话回访记录": calls}))
    read = read_workbook(tmp_path / "book.xls", aliases)
    frames = {sheet.kind: sheet.frame for sheet in read.sheets}
    assert frames["customers"].select("customer_id", "phone").rows() == [
        ("00123", "01088886666"),
        ("123456", "13812345678"),
    ]
    assert frames["follow_up_calls"].select("call_time", "notes").row(0) == ("2026-11-20 10:30:00", "45000")


def test_a_legacy_xls_defining_chinese_excels_built_in_formats_again_reads_the_day_and_time_shown(
    tmp_path, aliases
):
    """Some writers put a FORMAT record for a built-in id (31: 2024年3月5日) in the file; calamine takes
    such records only for the ids Excel writes them for, so these dates and times were read as serials.
    A workbook that gives a built-in id a format of zeros of its own (1C's 000000000000 at 50) keeps it."""
    calls = [
        [*CALL_HEADERS, "通话日期", "通话时间", "备注"],
        [
            *CALL,
            Formatted(46346, (31, 'yyyy"年"m"月"d"日"'), rk=True),
            Formatted(0.4375, (32, 'h"时"mm"分"')),
            Formatted(123, (50, "00000"), rk=True),
        ],
    ]
    (tmp_path / "calls.xls").write_bytes(xls_bytes({"电话回访记录": calls}))
    frame = read_one(tmp_path / "calls.xls", aliases).frame
    assert frame.select("call_time", "notes").row(0) == ("2026-11-20 10:30:00", "00123")


def test_the_numbers_of_a_row_of_rk_cells_and_of_formulas_are_found_with_their_styles():
    """Excel writes adjacent whole numbers as one MULRK record, and a formula's cached number in FORMULA;
    a formula that gives text (0xFFFF in its value's last bytes) holds no number."""
    mulrk = (
        struct.pack("<HH", 4, 2) + struct.pack("<HI", 7, 0) + struct.pack("<HI", 8, 0) + struct.pack("<H", 3)
    )
    number_formula = struct.pack("<HHH", 4, 5, 9) + struct.pack("<d", 123.0) + b"\0" * 6
    text_formula = struct.pack("<HHH", 4, 6, 9) + b"\0" * 6 + b"\xff\xff" + b"\0" * 6
    assert list(_number_cell_styles(0x00BD, mulrk)) == [(2, 7), (3, 8)]
    assert list(_number_cell_styles(0x0006, number_formula)) == [(5, 9)]
    assert list(_number_cell_styles(0x0006, text_formula)) == []


def test_a_number_past_excels_last_day_in_a_chinese_date_format_stays_as_written(tmp_path, aliases):
    book = xlsxwriter.Workbook(tmp_path / "visits.xlsx")
    sheet = book.add_worksheet("维修记录")
    sheet.write_row(0, 0, VISIT_HEADERS)
    sheet.write_row(1, 0, visit(1))
    sheet.write_number(1, 4, 9e15, book.add_format({"num_format": 31}))
    book.close()
    assert read_one(tmp_path / "visits.xlsx", aliases).frame["intake_date"].to_list() == ["9000000000000000"]


def test_a_date_column_beside_a_column_of_whole_datetimes_is_not_joined(tmp_path, aliases):
    """Joined, 2026-11-20 and 2026-11-20 10:30 would make a value no cell holds: the file is refused."""
    rows = [[*CALL_HEADERS, "日期", "通话时间"], [*CALL, "2026-11-20", "2026-11-20 10:30"]]
    with pytest.raises(FileRefused, match="read as one when one holds dates alone and the other times alone"):
        read_workbook(write_xlsx(tmp_path / "calls.xlsx", {"电话回访记录": rows}), aliases)


def test_two_columns_meaning_one_field_otherwise_refuse_the_file(tmp_path, aliases):
    rows = [[*CALL_HEADERS, "通话日期", "回访日期"], [*CALL, "2026-11-20", "2026-11-21"]]
    with pytest.raises(
        FileRefused, match="'通话日期' \\(column G\\) and '回访日期' \\(column H\\) both mean call_time"
    ):
        read_workbook(write_xlsx(tmp_path / "calls.xlsx", {"电话回访记录": rows}), aliases)


@pytest.mark.parametrize("loose_first", [True, False])
def test_a_keys_own_header_wins_over_a_looser_alias_beside_it(tmp_path, aliases, loose_first):
    """序号 (a row number) is also an alias of call_id: beside 记录编号 it is kept aside, not a refusal."""
    headers, call = [h for h in CALL_HEADERS if h != "记录编号"], [c for c in CALL if c != "K1"]
    numbered = ["序号", "记录编号"] if loose_first else ["记录编号", "序号"]
    values = ["1", "K1"] if loose_first else ["K1", "1"]
    rows = [[*numbered, *headers, "通话时间"], [*values, *call, "2026-11-20 10:30"]]
    read = read_one(write_xlsx(tmp_path / "calls.xlsx", {"电话回访记录": rows}), aliases)
    assert read.headers["call_id"] == "记录编号"
    assert read.frame["call_id"].to_list() == ["K1"]
    assert read.extra_headers == ["序号"]
    assert json.loads(read.frame["_extra"][0]) == {"序号": "1"}


def test_two_loose_aliases_of_one_field_still_refuse_the_file(tmp_path, aliases):
    rows = [["序号", "编号", *CALL_HEADERS, "通话时间"], ["1", "2", *CALL, "2026-11-20 10:30"]]
    with pytest.raises(
        FileRefused, match="'序号' \\(column A\\) and '编号' \\(column B\\) both mean call_id"
    ):
        read_workbook(write_xlsx(tmp_path / "calls.xlsx", {"电话回访记录": rows}), aliases)


def test_a_two_level_header_is_read_from_its_lower_row_with_the_merged_cells_above(tmp_path, aliases):
    """The seed's forms group columns (联系方式 over phone and address); single columns span both rows."""
    with xlsxwriter.Workbook(tmp_path / "two.xlsx") as book:
        sheet = book.add_worksheet("客户档案")
        for column, header in enumerate(["经销商代码", "客户编号", "客户名称"]):
            sheet.merge_range(0, column, 1, column, header)
        sheet.merge_range(0, 3, 0, 4, "联系方式")
        sheet.write_row(1, 3, ["联系电话", "地址"])
        sheet.merge_range(0, 5, 0, 6, "车辆")
        sheet.write_row(1, 5, ["车架号", "车型"])
        sheet.write_row(
            2, 0, ["D0001", "C00001", "王建国", "13812345678", "某路1号", "LFV2A21K6G3053421", "DS-100"]
        )
    sheet = read_one(tmp_path / "two.xlsx", aliases)
    assert sheet.header_row == 2
    assert set(sheet.headers) == {"dealer_code", "customer_id", "name", "phone", "address", "vin", "model"}
    assert sheet.frame.select("dealer_code", "customer_id", "address").rows() == [
        ("D0001", "C00001", "某路1号")
    ]


def test_section_title_rows_merged_across_are_dropped_and_reported(tmp_path, aliases):
    """A month written once across the columns between a ledger's rows is no record: no rejections."""
    with xlsxwriter.Workbook(tmp_path / "titles.xlsx") as book:
        sheet = book.add_worksheet("维修记录")
        sheet.merge_range(0, 0, 0, 6, "维修记录 2026年")  # a banner above the header
        sheet.write_row(1, 0, VISIT_HEADERS)
        sheet.merge_range(2, 0, 2, 6, "2026年10月")  # row 3: a section title
        sheet.write_row(3, 0, visit(1))
        sheet.merge_range(4, 0, 4, 6, "2026年11月")  # row 5
        sheet.write_row(5, 0, visit(2))
        sheet.write(6, 0, "D0001")  # row 7: one cell, not merged: a row with blanks, not a title
    sheet = read_one(tmp_path / "titles.xlsx", aliases)
    assert sheet.header_row == 2
    assert sheet.title_rows == [3, 5]
    assert sheet.frame["excel_row"].to_list() == [4, 6, 7]


def test_a_repeated_header_row_is_dropped_and_reported(tmp_path, aliases):
    """A ledger kept in monthly blocks copies the header above each: no record, not four rejections."""
    rows = [
        VISIT_HEADERS,
        visit(1),
        [],
        [*VISIT_HEADERS[:-1], " " + VISIT_HEADERS[-1]],  # row 4: the header again (a stray space)
        visit(2),
        [VISIT_HEADERS[0], "WO9"],  # row 6: one header word and data: a row to check, not a header
    ]
    sheet = read_one(write_xlsx(tmp_path / "blocks.xlsx", {"维修记录": rows}), aliases)
    assert sheet.header_row == 1
    assert sheet.title_rows == [4]
    assert sheet.frame["excel_row"].to_list() == [2, 5, 6]


def test_a_cell_mentioning_total_in_a_sentence_is_data(tmp_path, aliases):
    rows = [
        [*VISIT_HEADERS, "备注"],
        [*visit(1), "total loss, 合计两次"],
        [*visit(2), "总计划"],
        [*visit(3), "小计算器"],
        [*visit(4), "合计2张"],  # a total's words, but after the row's data: a note
    ]
    sheet = read_one(write_xlsx(tmp_path / "v.xlsx", {"维修记录": rows}), aliases)
    assert sheet.total_rows == [] and sheet.frame.height == 4


def test_a_long_cell_is_judged_at_once():
    started = perf_counter()
    assert TOTAL_CELL.match("合计" + "1" * 32_000 + "x") is None
    assert perf_counter() - started < 1  # a digit run is tried once, not split between loops


def test_unknown_columns_kept_in_extra_and_empty_unnamed_columns_ignored(tmp_path, aliases):
    headers = [*CUSTOMER_HEADERS, "录入人", None, None, "录入人", '备注"2"']
    rows = [
        headers,
        [*CUSTOMER_ROW, "张敏", None, "x", None, None],  # column I has no header but data
        [*CUSTOMER_ROW[:1], "C00002", *CUSTOMER_ROW[2:], None, None, None, "李娜", 'say "hi"'],
        [*CUSTOMER_ROW[:1], "C00003", *CUSTOMER_ROW[2:]],
    ]
    sheet = read_one(write_xlsx(tmp_path / "c.xlsx", {"客户档案": rows}), aliases)
    assert sheet.extra_headers == ["录入人", "column I", "录入人 (J)", '备注"2"']
    extras = [json.loads(e) if e else None for e in sheet.frame["_extra"].to_list()]
    assert extras == [
        {"录入人": "张敏", "column I": "x"},
        {"录入人 (J)": "李娜", '备注"2"': 'say "hi"'},
        None,
    ]
    assert "column H" not in sheet.extra_headers  # empty and unnamed: ignored


def test_frame_without_unknown_columns_has_a_null_extra(tmp_path, aliases):
    sheet = read_one(write_xlsx(tmp_path / "c.xlsx", {"客户档案": [CUSTOMER_HEADERS, CUSTOMER_ROW]}), aliases)
    assert sheet.extra_headers == []
    assert sheet.frame.schema["_extra"] == pl.Utf8 and sheet.frame["_extra"].to_list() == [None]


# --- every cell as text -----------------------------------------------------------------------------


def test_a_column_of_dates_then_text_is_read_as_text_without_loss(tmp_path, aliases):
    dates = [[f"WO{i:04d}", "D1", date(2024, 1, 1 + i % 28)] for i in range(200)]
    texts = [["WO9000", "D1", "2024年3月5日"], ["WO9001", "D1", "20240305"], ["WO9002", "D1", 45356]]
    rows = [["工单号", "经销商代码", "进厂日期"], *dates, *texts]
    sheet = read_one(write_xlsx(tmp_path / "v.xlsx", {"维修记录": rows}), aliases)
    intake = sheet.frame["intake_date"].to_list()
    assert intake[0] == "2024-01-01 00:00:00"
    assert intake[-3:] == ["2024年3月5日", "20240305", "45356"]


def test_long_digit_strings_booleans_times_and_errors_stay_as_written(tmp_path, aliases):
    headers = ["经销商代码", "记录编号", "通话时间", "客户编号", "业务员", "是否需处理", "备注"]
    rows = [
        headers,
        ["D1", 13812345678, datetime(2024, 3, 5, 14, 30), "0012345678901234567", "李", True, 1.5],
        ["D1", "LFV2A21K6G3053421", "2024/3/5 9:05", 12345678901, "李", False, Formula("=1/0", "#DIV/0!")],
    ]
    path = write_xlsx(tmp_path / "c.xlsx", {"电话记录": rows})
    frame = read_one(path, aliases).frame
    assert frame["call_id"].to_list() == ["13812345678", "LFV2A21K6G3053421"]
    assert frame["customer_id"].to_list() == ["0012345678901234567", "12345678901"]
    assert frame["call_time"].to_list() == ["2024-03-05 14:30:00", "2024/3/5 9:05"]
    assert frame["needs_action"].to_list() == ["true", "false"]
    assert frame["notes"].to_list() == ["1.5", "#DIV/0!"]


def test_surrounding_spaces_of_a_value_are_kept(tmp_path, aliases):
    rows = [CUSTOMER_HEADERS, [" d0001 ", *CUSTOMER_ROW[1:]]]
    frame = read_one(write_xlsx(tmp_path / "c.xlsx", {"客户档案": rows}), aliases).frame
    assert frame["dealer_code"].to_list() == [" d0001 "]


# --- formats ----------------------------------------------------------------------------------------


def test_xlsm_is_accepted(tmp_path, aliases):
    vba = ole2_container({"VBA": b"Attribute VB_Name", "PROJECT": b"ID="})
    path = write_xlsx(tmp_path / "c.xlsm", {"客户档案": [CUSTOMER_HEADERS, CUSTOMER_ROW]}, vba_project=vba)
    assert b"macroEnabled" in zipfile.ZipFile(path).read("[Content_Types].xml")
    assert read_one(path, aliases).frame.height == 1


def test_legacy_xls_is_read_like_xlsx(tmp_path, aliases):
    rows = [
        ["客户档案"],
        [*CUSTOMER_HEADERS, "购车日期"],
        [*CUSTOMER_ROW[:3], 13812345678, *CUSTOMER_ROW[4:], date(2023, 5, 6)],
    ]
    path = tmp_path / "c.xls"
    path.write_bytes(xls_bytes({"客戶檔案": rows, "说明": [["随便写写"]]}))
    workbook = read_workbook(path, aliases)
    sheet = workbook.sheets[0]
    assert (sheet.kind, sheet.header_row, sheet.frame["excel_row"].to_list()) == ("customers", 2, [3])
    assert sheet.frame.row(0)[1:] == (*CUSTOMER_ROW, "2023-05-06 00:00:00", None)
    assert [name for name, _ in workbook.skipped_sheets] == ["说明"]


def test_workbook_with_the_wrong_extension_is_read_by_its_content(tmp_path, aliases):
    path = tmp_path / "c.xlsx"
    path.write_bytes(xls_bytes({"客户档案": [CUSTOMER_HEADERS, CUSTOMER_ROW]}))
    assert read_one(path, aliases).frame.height == 1


def test_workbook_identity_and_source(tmp_path, aliases):
    sheets = {"客户档案": [CUSTOMER_HEADERS, CUSTOMER_ROW], "维修记录": [VISIT_HEADERS, visit(1)]}
    path = write_xlsx(tmp_path / "d.xlsx", sheets)
    workbook = read_workbook(path, aliases)
    assert (workbook.file_name, workbook.size_bytes) == ("d.xlsx", path.stat().st_size)
    assert workbook.source == "dealer"
    mixed = write_xlsx(
        tmp_path / "m.xlsx",
        {**sheets, "出库": [["出库单行号", "订单号", "经销商代码", "配件编号"], ["L1", "O1", "D1", "P1"]]},
    )
    assert read_workbook(mixed, aliases).source == "mixed"


def test_a_reference_list_beside_a_dealers_sheets_is_a_lookup_copy_and_skipped(tmp_path, aliases):
    # A dealer keeps the dealer list and the parts list in its workbook for VLOOKUPs; loaded, its stale copy
    # moved dealers to other regions, made up dealer codes and changed parts' components.
    sheets = {
        "客户档案": [CUSTOMER_HEADERS, CUSTOMER_ROW],
        "经销商": [
            ["经销商代码", "经销商名称", "区域"],
            ["D0001", "一号店(旧)", "华南"],
            ["D0099", "我的分店", "华南"],
        ],
        "配件目录": [["配件编号", "配件名称", "部件类别"], ["P1", "n", "其他"]],
    }
    workbook = read_workbook(write_xlsx(tmp_path / "d.xlsx", sheets), aliases)
    assert [s.kind for s in workbook.sheets] == ["customers"] and workbook.source == "dealer"
    skipped = dict(workbook.skipped_sheets)
    assert set(skipped) == {"经销商", "配件目录"}
    assert "only from head office's reference workbook" in skipped["经销商"]
    reference = {name: rows for name, rows in sheets.items() if name != "客户档案"}
    head_office = read_workbook(write_xlsx(tmp_path / "总部.xlsx", reference), aliases)
    assert [s.kind for s in head_office.sheets] == ["dealers", "parts"] and head_office.source == "reference"


# --- sheets skipped ------------------------------------------------------------------------------


def test_unknown_sheets_are_skipped_with_a_reason_and_a_hint(tmp_path, aliases):
    sheets = {
        "客户档案": [CUSTOMER_HEADERS, CUSTOMER_ROW],
        "客户档桉": [["随便"]],  # a typo of a known name
        "Sheet9": [["客户编号", "客户名称", "x"], ["C1", "n", "y"]],  # headers resemble customers only
        "Sheet2": [],
        "统计": [["月份", "台次"], ["3月", 12]],
    }
    workbook = read_workbook(write_xlsx(tmp_path / "w.xlsx", sheets), aliases)
    reasons = dict(workbook.skipped_sheets)
    assert [s.sheet for s in workbook.sheets] == ["客户档案"]
    assert "did you mean 客户档案 (customers)" in reasons["客户档桉"]
    assert "did you mean 客户档案 (customers)" in reasons["Sheet9"]
    assert reasons["Sheet2"] == "the sheet has no cells (empty, or a chart)"
    assert "not a sheet name we know" in reasons["统计"] and "did you mean" not in reasons["统计"]


def test_chart_sheet_is_skipped_not_fatal(tmp_path, aliases):
    with xlsxwriter.Workbook(tmp_path / "chart.xlsx") as book:
        book.add_worksheet("客户档案").write_row(0, 0, CUSTOMER_HEADERS)
        book.get_worksheet_by_name("客户档案").write_row(1, 0, CUSTOMER_ROW)
        chart = book.add_chart({"type": "column"})
        chart.add_series({"values": "=客户档案!$A$2:$A$2"})
        book.add_chartsheet("图表").set_chart(chart)
    workbook = read_workbook(tmp_path / "chart.xlsx", aliases)
    assert [s.sheet for s in workbook.sheets] == ["客户档案"] and dict(workbook.skipped_sheets)["图表"]


def test_headers_that_fit_two_kinds_equally_are_not_guessed(tmp_path, aliases):
    headers = ["经销商代码", "客户编号", "车架号", "配件编号"]
    sheets = {"客户档案": [CUSTOMER_HEADERS, CUSTOMER_ROW], "Sheet1": [headers, ["D1", "C1", "V", "P"]]}
    reasons = dict(read_workbook(write_xlsx(tmp_path / "w.xlsx", sheets), aliases).skipped_sheets)
    assert "did you mean" not in reasons["Sheet1"]


def test_named_sheet_without_a_header_row_is_skipped(tmp_path, aliases):
    sheets = {"客户档案": [CUSTOMER_HEADERS, CUSTOMER_ROW], "维修记录": [["说明：本表暂缺"], ["x", "y"]]}
    reasons = dict(read_workbook(write_xlsx(tmp_path / "w.xlsx", sheets), aliases).skipped_sheets)
    assert "its name says 维修保养记录 (service_visits)" in reasons["维修记录"]


def test_hidden_sheets_are_skipped_with_a_reason(tmp_path, aliases):
    """An old copy kept hidden must not load over what the steward sees (or under it)."""
    with xlsxwriter.Workbook(tmp_path / "hidden.xlsx") as book:
        for name, state in (("客户档案", None), ("旧客户档案", "hide"), ("客户档案备份", "very_hidden")):
            sheet = book.add_worksheet(name)
            sheet.write_row(0, 0, CUSTOMER_HEADERS)
            sheet.write_row(1, 0, CUSTOMER_ROW)
            if state == "hide":
                sheet.hide()
            elif state == "very_hidden":
                sheet.very_hidden()
    workbook = read_workbook(tmp_path / "hidden.xlsx", aliases)
    reasons = dict(workbook.skipped_sheets)
    assert [s.sheet for s in workbook.sheets] == ["客户档案"]
    assert set(reasons) == {"旧客户档案", "客户档案备份"}
    assert all("hidden in Excel" in reason and "unhide it" in reason for reason in reasons.values())


def test_a_range_merged_down_a_column_gives_its_value_to_every_row(tmp_path, aliases):
    """One customer over the rows of two vehicles, one dealer code over the list: as Excel shows them."""
    with xlsxwriter.Workbook(tmp_path / "merged.xlsx") as book:
        sheet = book.add_worksheet("客户档案")
        sheet.merge_range(0, 0, 0, 5, "客户档案 2026年11月")  # a banner across the columns
        sheet.write_row(1, 0, CUSTOMER_HEADERS)
        sheet.merge_range(2, 0, 4, 0, "D0001")
        for column, value in ((1, "C00001"), (2, "王建国"), (3, "13812345678")):
            sheet.merge_range(2, column, 3, column, value)
        sheet.write_row(2, 4, ["LFV2A21K6G3053421", "DS-100"])
        sheet.write_row(3, 4, ["LFV2A21K6G3053422", "DS-200"])
        sheet.merge_range(4, 1, 4, 2, "C00002")  # across two columns: which one it fills is not clear
        sheet.write_row(4, 3, ["13812345679", "LFV2A21K6G3053423", "DS-100"])
    sheet = read_one(tmp_path / "merged.xlsx", aliases)
    assert sheet.header_row == 2
    frame = sheet.frame.select("excel_row", "dealer_code", "customer_id", "name", "phone", "vin")
    assert frame.rows() == [
        (3, "D0001", "C00001", "王建国", "13812345678", "LFV2A21K6G3053421"),
        (4, "D0001", "C00001", "王建国", "13812345678", "LFV2A21K6G3053422"),
        (5, "D0001", "C00002", None, "13812345679", "LFV2A21K6G3053423"),
    ]


def test_a_range_merged_down_a_column_of_a_legacy_xls_gives_its_value_to_every_row(tmp_path, aliases):
    """An .xls keeps its merged ranges in MERGEDCELLS records: read as stored, the rows under a customer
    merged over their vehicles were rejected for a blank customer, name and phone that Excel shows."""
    rows = [
        ["客户档案"],  # a banner merged across the columns: not a merge down one column
        CUSTOMER_HEADERS,
        ["D0001", "C00001", "王建国", "13812345678", "LFV2A21K6G3053421", "DS-100"],
        [None, None, None, None, "LFV2A21K6G3053422", "DS-200"],
    ]
    merges = [(0, 0, 0, 5), *((2, 3, column, column) for column in range(4))]
    data = xls_bytes({"说明": [["随便写写"]], "客户档案": rows}, merged={"客户档案": merges})
    (tmp_path / "c.xls").write_bytes(data)
    sheet = read_one(tmp_path / "c.xls", aliases)
    frame = sheet.frame.select("excel_row", "dealer_code", "customer_id", "name", "phone", "vin")
    assert frame.rows() == [
        (3, "D0001", "C00001", "王建国", "13812345678", "LFV2A21K6G3053421"),
        (4, "D0001", "C00001", "王建国", "13812345678", "LFV2A21K6G3053422"),
    ]


# --- refusals ------------------------------------------------------------------------------------


def test_duplicate_field_mapping_refuses_the_file_naming_both_headers(tmp_path, aliases):
    headers = ["经销商代码", "客户编号", "手机", "客户名称", "联系电话", "车架号"]
    path = write_xlsx(tmp_path / "c.xlsx", {"客户档案": [headers, ["D1", "C1", "1", "n", "2", "v"]]})
    reason = refusal(path, aliases)
    assert "'客户档案'" in reason and "'手机' (column C)" in reason and "'联系电话' (column E)" in reason
    assert "phone (联系电话)" in reason and "delete or rename one of them" in reason


def test_workbook_without_a_known_sheet_is_refused(tmp_path, aliases):
    path = write_xlsx(tmp_path / "w.xlsx", {"Sheet1": [["月份", "台次"], ["3月", 12]]})
    assert "no sheet of this workbook is one we know" in refusal(path, aliases)


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"dealer_code,customer_id\nD1,C1\n", "not an Excel workbook (.xlsx, .xlsm or .xls) but a text file"),
        (b"", "but empty"),
        (b"%PDF-1.7 ...", "but a PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "but another kind of file"),
        (b"PK\x03\x04\x14\x00\x00\x00broken", "damaged or incomplete"),
    ],
)
def test_files_that_are_not_spreadsheets_are_refused(tmp_path, aliases, content, expected):
    path = tmp_path / "x.xlsx"
    path.write_bytes(content)
    assert expected in refusal(path, aliases)


def test_truncated_workbook_is_refused(tmp_path, aliases):
    whole = write_xlsx(tmp_path / "whole.xlsx", {"客户档案": [CUSTOMER_HEADERS, CUSTOMER_ROW]}).read_bytes()
    path = tmp_path / "cut.xlsx"
    path.write_bytes(whole[: len(whole) // 2])
    assert "damaged or incomplete" in refusal(path, aliases)


def test_zip_that_is_not_a_workbook_is_refused(tmp_path, aliases):
    path = tmp_path / "letter.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    assert "not an Excel .xlsx/.xlsm workbook" in refusal(path, aliases)


def test_corrupt_sheet_xml_is_refused_not_raised(tmp_path, aliases):
    path = write_xlsx(tmp_path / "c.xlsx", {"客户档案": [CUSTOMER_HEADERS, CUSTOMER_ROW]})
    rewrite_part(path, "xl/worksheets/sheet1.xml", lambda xml: xml[: len(xml) // 2])
    assert "cannot be read" in refusal(path, aliases)


def test_password_protected_xlsx_is_refused_before_calamine(tmp_path, aliases):
    path = tmp_path / "secret.xlsx"  # what Excel writes for an .xlsx saved with a password
    path.write_bytes(
        ole2_container({"EncryptionInfo": b"\x04\x00\x04\x00", "EncryptedPackage": b"\x17" * 6000})
    )
    assert "protected with a password" in refusal(path, aliases)


def test_password_protected_xls_is_refused(tmp_path, aliases):
    path = tmp_path / "secret.xls"
    path.write_bytes(xls_bytes({"客户档案": [CUSTOMER_HEADERS, CUSTOMER_ROW]}, encrypted=True))
    assert "protected with a password" in refusal(path, aliases)


def test_office_file_that_is_not_a_workbook_is_refused(tmp_path, aliases):
    path = tmp_path / "letter.xls"
    path.write_bytes(ole2_container({"WordDocument": b"\xec\xa5"}))
    assert "Office document but not an Excel workbook" in refusal(path, aliases)


def test_zip_bomb_is_refused_by_its_compression_ratio(tmp_path, aliases):
    path = write_xlsx(tmp_path / "bomb.xlsx", {"客户档案": [CUSTOMER_HEADERS, CUSTOMER_ROW]})
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/image1.bin", b"\0" * (4 * 1024 * 1024))
    assert "xl/media/image1.bin" in (reason := refusal(path, aliases)) and "zip bombs" in reason


def test_part_declaring_less_than_it_holds_is_refused(tmp_path, aliases):
    path = write_xlsx(tmp_path / "lie.xlsx", {"客户档案": [CUSTOMER_HEADERS, CUSTOMER_ROW]})
    with zipfile.ZipFile(path, "a", zipfile.ZIP_STORED) as archive:  # a zip bomb hiding its real size
        archive.writestr("xl/media/image1.bin", bytes(range(256)) * 64)
    data = bytearray(path.read_bytes())
    info = zipfile.ZipFile(path).getinfo("xl/media/image1.bin")
    central = data.rfind(b"PK\x01\x02\x14\x03", 0, data.rfind(b"PK\x05\x06"))  # its central directory entry
    struct.pack_into("<I", data, info.header_offset + 22, 100)  # uncompressed size in the local header ...
    struct.pack_into("<I", data, central + 24, 100)  # ... and in the central directory
    path.write_bytes(bytes(data))
    assert "declares 100 bytes but holds 16,384 compressed" in refusal(path, aliases)


def test_workbook_unpacking_beyond_the_limit_is_refused(tmp_path, aliases):
    path = write_xlsx(tmp_path / "big.xlsx", {"客户档案": [CUSTOMER_HEADERS, CUSTOMER_ROW]})
    with zipfile.ZipFile(path, "a", zipfile.ZIP_STORED) as archive:
        archive.writestr("xl/media/image1.bin", b"\1" * (2 * 1024 * 1024))
    assert "would unpack to" in refusal(path, aliases, max_unpacked_mb=1)


def test_file_larger_than_the_limit_is_refused(tmp_path, aliases):
    path = write_xlsx(tmp_path / "c.xlsx", {"客户档案": [CUSTOMER_HEADERS, CUSTOMER_ROW]})
    assert "more than the 0 MB a workbook may have" in refusal(path, aliases, max_file_mb=0)


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/workbook.xml", "[Content_Types].xml"])
def test_xml_entity_declarations_are_refused(tmp_path, aliases, part):
    path = write_xlsx(tmp_path / "c.xlsx", {"客户档案": [CUSTOMER_HEADERS, CUSTOMER_ROW]})
    laughs = b'?>\n<!-- <a> -->\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
    rewrite_part(path, part, lambda xml: xml.replace(b"?>", laughs, 1))
    assert "declares an XML document type" in refusal(path, aliases)


def test_sheet_with_too_many_rows_or_columns_is_refused(tmp_path, aliases):
    rows = [CUSTOMER_HEADERS] + [[*CUSTOMER_ROW[:1], f"C{i}", *CUSTOMER_ROW[2:]] for i in range(20)]
    path = write_xlsx(tmp_path / "c.xlsx", {"客户档案": rows})
    assert "has 21 rows, more than the 10" in refusal(path, aliases, max_rows=10)
    assert "has 6 columns, more than the 5" in refusal(path, aliases, max_columns=5)
    assert read_one(path, aliases, max_rows=21, max_columns=6).frame.height == 20


def test_declared_dimension_refuses_before_loading_only_when_the_part_could_hold_it(tmp_path, aliases):
    rows = [CUSTOMER_HEADERS] + [[*CUSTOMER_ROW[:1], f"C{i}", *CUSTOMER_ROW[2:]] for i in range(20)]
    path = write_xlsx(tmp_path / "c.xlsx", {"客户档案": rows})
    rewrite_part(
        path, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(b'ref="A1:F21"', b'ref="A1:F90000"')
    )
    # 20 real rows: the dimension is believed when the part is big enough for more than max_rows rows ...
    assert "has 90,000 rows" in refusal(path, aliases, max_rows=20)
    # ... and not when formatting alone could have stretched it (calamine then counts the real rows).
    assert read_one(path, aliases, max_rows=1000).frame.height == 20


def _rows_of_plain_cells(first: int, last: int) -> bytes:
    """Sheet rows `first`..`last` of three plain number cells each (about 80 bytes of XML a row)."""
    return b"".join(
        b'<row r="%d"><c r="A%d"><v>1</v></c><c r="B%d"><v>2</v></c><c r="C%d"><v>3</v></c></row>'
        % (i, i, i, i)
        for i in range(first, last + 1)
    )


def _with_lying_part(path: Path, name: str, declared: int, *, first: bool) -> None:
    """Rewrite a workbook with one more part, first or last, that inflates to more than the `declared`
    size its headers give."""
    with zipfile.ZipFile(path) as source:
        parts = [(info.filename, source.read(info)) for info in source.infolist()]
    parts = [(name, b"\0" * 100_000), *parts] if first else [*parts, (name, b"\0" * 100_000)]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for part, content in parts:
            target.writestr(part, content)
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, zipfile.ZipFile(path).getinfo(name).header_offset + 22, declared)
    entry = data.rfind(b"PK\x05\x06")
    entry = struct.unpack_from("<I", data, entry + 16)[0]  # the central directory, entry by entry
    while data[entry + 46 : entry + 46 + len(name)] != name.encode():
        entry += 46 + sum(struct.unpack_from("<HHH", data, entry + 28))
    struct.pack_into("<I", data, entry + 24, declared)
    path.write_bytes(bytes(data))


def test_a_far_cell_after_megabytes_of_plain_rows_is_refused_before_calamine(tmp_path, aliases):
    path = write_xlsx(tmp_path / "c.xlsx", {"客户档案": [CUSTOMER_HEADERS, CUSTOMER_ROW]})
    far = b'<row r="90001"><c r="BDWGN90001"><v>1</v></c></row>'  # after more than 7 MB of rows
    rewrite_part(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b"</sheetData>", _rows_of_plain_cells(3, 90_000) + far + b"</sheetData>"),
    )
    assert "has 1,000,000 columns, more than the 500" in refusal(path, aliases)


def _with_a_far_cell(path: Path) -> Path:
    """A customers workbook with one more cell, in column BDWGN (1,000,000)."""
    write_xlsx(path, {"客户档案": [CUSTOMER_HEADERS, CUSTOMER_ROW]})
    rewrite_part(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b"</sheetData>", b'<row r="3"><c r="BDWGN3"><v>1</v></c></row></sheetData>'),
    )
    return path


def test_a_far_cell_is_found_beside_a_part_that_is_not_text(tmp_path, aliases):
    path = _with_a_far_cell(tmp_path / "c.xlsx")
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:  # not UTF-8: read as Latin-1
        archive.writestr("xl/media/image1.png", bytes(range(256)) * 64)
    assert "has 1,000,000 columns, more than the 500" in refusal(path, aliases)


def test_a_file_is_refused_for_the_first_thing_wrong_in_the_order_of_its_parts(tmp_path, aliases):
    path = _with_a_far_cell(tmp_path / "c.xlsx")
    original = path.read_bytes()
    _with_lying_part(path, "xl/media/image1.bin", 50_000, first=False)  # the sheet's column is met first
    assert "has 1,000,000 columns, more than the 500" in refusal(path, aliases)
    path.write_bytes(original)
    _with_lying_part(path, "xl/media/image1.bin", 50_000, first=True)  # the lying part's size is met first
    assert "declares 50,000 bytes but holds more than" in refusal(path, aliases)


def test_merged_ranges_are_found_whatever_comes_before_them():
    text = (
        b'<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>mergeCell</x:t></x:is></x:c></x:row>'
        b'</x:sheetData><x:mergeCells count="2"><x:mergeCell ref="A2:A4"/><mergeCell ref="B1:C1"/>'
        b"</x:mergeCells>"
    )
    assert list(_merged_ranges(text)) == [(2, 0, 4, 0), (1, 1, 1, 2)]
    assert list(_merged_ranges(b'<mergeCell ref="A2:A4"/>')) == [(2, 0, 4, 0)]
    assert list(_merged_ranges(b"<row/>")) == []


def test_openpyxl_reads_workbook_xml_through_defusedxml():
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML  # installed with the project, so openpyxl parses untrusted files safely

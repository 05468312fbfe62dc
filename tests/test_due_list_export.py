"""Due-list files: the xlsx layout the service desk works from, and the csv Excel opens in Chinese."""

from __future__ import annotations

import csv
from datetime import date, datetime

import openpyxl
import polars as pl
import pytest

from dealersync.exports.due_list import (
    CSV,
    DEALER,
    OVERVIEW,
    REGION,
    UNREACHABLE,
    XLSX,
    due_list_folder,
    write_due_list_files,
)
from dealersync.transforms.due_list import DUE_LIST_COLUMNS, KIND

DAY = date(2024, 3, 20)
SCHEMA = {
    c.name: {"date": pl.Date, "datetime": pl.Datetime("us"), "int": pl.Int32}.get(c.type, pl.Utf8)
    for c in DUE_LIST_COLUMNS
}


def item(**values) -> dict:
    return {
        "as_of": DAY,
        "dealer_code": "D1",
        "dealer_name": "一号店",
        "region": "华东",
        "kind": "first_follow_up",
        "customer_id": "C1",
        "customer_name": "张三",
        "phone": "13800138000",
        "address": "上海市长宁路1号",
        "vin": "LSVAA4182E2100001",
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
        "talking_points": "2024-03-14 保养：更换机油；2024-03-15 出厂",
    } | values


ITEMS = pl.DataFrame(
    [
        item(),
        item(
            ref="W0",
            customer_id="C2",
            phone="01088886666",  # a landline: the leading 0 must survive
            status="overdue",
            priority="high",
            due_date=date(2024, 3, 10),
            window_end=date(2024, 3, 14),
            attempts=2,
            last_attempt_at=datetime(2024, 3, 19, 15, 30),
        ),
        item(
            kind="campaign_letter", ref="A1", vin=None, talking_points="春季免费检测 2024-04-01 至 2024-04-07"
        ),
        item(
            kind="first_follow_up", ref="W3", customer_id="C3", phone=None, contact_problem="no_customer_file"
        ),
        item(kind="complaint_escalation", ref="P1", talking_points='=HYPERLINK("http://x","点我")'),
        item(dealer_code="D2", dealer_name="二号店", ref="W9", customer_id="C9"),
    ],
    schema=SCHEMA,
    orient="row",
)


@pytest.fixture
def workbook(tmp_path):
    """The dealer D1's files written, and its xlsx opened with openpyxl."""
    paths = write_due_list_files(ITEMS.filter(pl.col("dealer_code") == "D1"), DAY, tmp_path, DEALER, "D1")
    assert [p.name for p in paths] == ["dealer_D1.xlsx", "dealer_D1.csv"]
    return openpyxl.load_workbook(paths[0])


def sheet_rows(sheet) -> list[dict]:
    header = [cell.value for cell in sheet[1]]
    return [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)]


def test_sheets_are_an_overview_one_per_kind_and_the_unreachable(workbook):
    assert workbook.sheetnames == [OVERVIEW, *(zh for _, zh in KIND.labels), UNREACHABLE]


def test_a_kind_sheet_lists_its_reachable_items_overdue_first(workbook):
    rows = sheet_rows(workbook["首次回访"])
    assert [(r["单号"], r["状态"], r["优先级"], r["未接通次数"]) for r in rows] == [
        ("W1", "待办", "普通", 0),
        ("W0", "逾期", "高", 2),
    ]
    assert rows[1]["最近尝试时间"] == datetime(2024, 3, 19, 15, 30)
    assert rows[0]["应办日期"] == datetime(2024, 3, 18)
    # a dealer's own file does not repeat the dealer's name and region; only letters show the address
    assert "经销商名称" not in rows[0] and "区域" not in rows[0] and "地址" not in rows[0]
    assert "地址" in sheet_rows(workbook["活动信函"])[0]


def test_list_sheets_have_a_frozen_header_and_filters(workbook):
    for name in workbook.sheetnames[1:]:
        sheet = workbook[name]
        assert sheet.freeze_panes == "A2", name
        assert sheet.auto_filter.ref is not None and sheet.auto_filter.ref.startswith("A1:"), name
    assert workbook["首次回访"].auto_filter.ref.endswith("3")  # header and two rows


def test_overdue_rows_are_highlighted(workbook):
    sheet = workbook["首次回访"]
    due_row, overdue_row = sheet[2], sheet[3]
    assert all(cell.fill.fgColor.rgb == "FFFFC7CE" for cell in overdue_row)
    assert all(cell.fill.fill_type is None for cell in due_row)


def test_phones_and_codes_are_text(workbook):
    sheet = workbook["首次回访"]
    header = [cell.value for cell in sheet[1]]
    phone = sheet.cell(3, header.index("联系电话") + 1)
    assert (phone.value, phone.data_type, phone.number_format) == ("01088886666", "s", "@")
    assert sheet.cell(2, header.index("客户编号") + 1).data_type == "s"


def test_widths_fit_the_content(workbook):
    sheet = workbook["首次回访"]
    header = [cell.value for cell in sheet[1]]
    width = {
        name: sheet.column_dimensions[openpyxl.utils.get_column_letter(i + 1)].width
        for i, name in enumerate(header)
    }
    assert width["联系电话"] >= 11
    assert width["车架号"] >= 17
    assert 6 <= width["状态"] <= 10
    assert width["沟通要点"] <= 62


def test_unreachable_customers_are_listed_separately_with_the_reason(workbook):
    assert [r["单号"] for r in sheet_rows(workbook["首次回访"])] == ["W1", "W0"]  # W3 is not there
    rows = sheet_rows(workbook[UNREACHABLE])
    assert [(r["类型"], r["无法联系原因"], r["单号"]) for r in rows] == [("首次回访", "无客户档案", "W3")]


def test_formula_like_text_is_a_string_cell_shown_as_written(workbook):
    [row] = sheet_rows(workbook["投诉上报"])
    assert row["沟通要点"] == '=HYPERLINK("http://x","点我")'
    cell = next(c for c in workbook["投诉上报"][2] if c.value == row["沟通要点"])
    assert cell.data_type == "s"  # a string cell: no spreadsheet evaluates it


def test_overview_counts_per_kind(workbook):
    rows = list(workbook[OVERVIEW].iter_rows(values_only=True))
    assert rows[0][0] == "到期清单 2024-03-20"
    assert rows[1][0] == "经销商 D1"
    table = {r[0]: r[1:5] for r in rows[4:] if r[0]}
    assert table["首次回访"] == (3, 1, 1, 1)  # items, overdue, high priority, unreachable
    assert table["活动信函"] == (1, 0, 0, 0)
    assert table["二次回访"] == (0, 0, 0, 0)
    assert table["合计"] == (5, 1, 1, 1)


def test_a_regions_file_shows_the_dealers(tmp_path):
    [path] = write_due_list_files(ITEMS, DAY, tmp_path, REGION, "华东", formats=[XLSX])
    assert path.name == "region_华东.xlsx"
    book = openpyxl.load_workbook(path)
    rows = sheet_rows(book["首次回访"])
    assert {(r["经销商代码"], r["经销商名称"], r["区域"]) for r in rows} == {
        ("D1", "一号店", "华东"),
        ("D2", "二号店", "华东"),
    }
    overview = [r for r in book[OVERVIEW].iter_rows(values_only=True) if r[0] in ("D1", "D2")]
    assert [(r[0], r[1], r[2]) for r in overview] == [("D1", "一号店", 5), ("D2", "二号店", 1)]


def test_csv_is_utf8_with_bom_and_chinese_headers(tmp_path):
    [path] = write_due_list_files(ITEMS, DAY, tmp_path, DEALER, "D1", formats=[CSV])
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert len(rows) == ITEMS.height
    first = rows[1]
    assert (first["类型"], first["状态"], first["联系电话"], first["应办日期"], first["最近尝试时间"]) == (
        "首次回访",
        "逾期",
        "01088886666",
        "2024-03-10",
        "2024-03-19 15:30",
    )
    assert rows[3]["无法联系原因"] == "无客户档案"
    assert rows[4]["沟通要点"].startswith("'=")  # formula-like text neutralised


def test_file_names_are_safe_and_the_folder_is_per_day(tmp_path):
    assert due_list_folder(tmp_path, DAY) == tmp_path / "due_lists" / "2024-03-20"
    [path] = write_due_list_files(ITEMS.head(1), DAY, tmp_path, REGION, "华东/华北 *", formats=[CSV])
    assert (path.parent, path.name) == (tmp_path, "region_华东_华北.csv")


def test_a_chinese_character_counts_two_in_a_width_as_excel_shows_it():
    """The widths' character class is exactly what unicodedata calls wide or full-width, over all of Unicode."""
    import unicodedata

    from dealersync.exports.due_list import _wide_characters

    every = pl.Series([chr(code) for code in range(0x110000) if not 0xD800 <= code <= 0xDFFF])
    counted = every.str.count_matches(_wide_characters()).cast(pl.Boolean)
    assert counted.to_list() == [unicodedata.east_asian_width(ch) in "WF" for ch in every]


def test_a_dealers_list_in_memory_and_a_long_one_streamed_write_the_same_cells(tmp_path, monkeypatch):
    import dealersync.exports.due_list as module

    rows = pl.DataFrame(
        [item(customer_id=f"C{i}", status="overdue" if i % 3 else "due") for i in range(40)], schema=SCHEMA
    )
    small = write_due_list_files(rows, DAY, tmp_path / "memory", DEALER, "D1", (XLSX,))[0]
    monkeypatch.setattr(module, "IN_MEMORY_ITEMS", 10)
    streamed = write_due_list_files(rows, DAY, tmp_path / "streamed", DEALER, "D1", (XLSX,))[0]

    def cells(path):
        book = openpyxl.load_workbook(path)
        return {
            name: [
                [(c.value, c.number_format, c.fill.fgColor.rgb) for c in row]
                for row in book[name].iter_rows()
            ]
            for name in book.sheetnames
        }

    assert cells(small) == cells(streamed)
    assert len(cells(small)["首次回访"]) == 41

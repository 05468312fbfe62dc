"""A night stopped while it writes a workbook (killed, or the disk full) leaves the file it was replacing, or
none: never a truncated file under the name the web page offers and the stewards open."""

from __future__ import annotations

import zipfile
from datetime import date

import polars as pl
import pytest
from faults import disk_full_while_writing

from dealersync.exports.due_list import DEALER, write_due_list_files
from dealersync.exports.quality_report import write_quality_report
from dealersync.exports.steward import write_steward_report
from dealersync.pipeline import process_file
from dealersync.samples import generate_inbox
from dealersync.settings import Settings
from dealersync.transforms.due_list import DUE_LIST_COLUMNS
from dealersync.transforms.quality_summary import Period
from dealersync.transforms.validate import Refs
from dealersync.warehouse.db import open_warehouse

DAY = date(2026, 11, 20)


def whole(path) -> bool:
    """Whether a written file is complete: an xlsx opens as a zip with every part, a csv ends its last line."""
    if path.suffix == ".csv":
        return path.read_bytes().endswith(b"\n")
    with zipfile.ZipFile(path) as archive:
        return archive.testzip() is None and "[Content_Types].xml" in archive.namelist()


def due_list(base, folder, aliases):
    types = {"date": pl.Date, "datetime": pl.Datetime("us"), "int": pl.Int32}
    nothing_due = pl.DataFrame(schema={c.name: types.get(c.type, pl.Utf8) for c in DUE_LIST_COLUMNS})
    return write_due_list_files(nothing_due, DAY, folder, DEALER, "D0001")


def quality_report(base, folder, aliases):
    con = open_warehouse(base / "warehouse.duckdb")
    try:
        return [write_quality_report(con, Period.parse("2026-W47"), folder / "quality_2026-W47.xlsx")]
    finally:
        con.close()


def steward_copy(base, folder, aliases):
    sources = sorted((base / "inbox").glob("D0001*.xlsx")) or [
        generate_inbox(base / "inbox", today=DAY, dealers=1, visits_per_dealer=20, seed=1, bad_cell_rate=0.1,
                       with_warehouse=False).dealer_files["D0001"]
    ]  # fmt: skip
    source = sources[0]
    report = write_steward_report(
        process_file(source, today=DAY, aliases=aliases, refs=Refs(), settings=Settings()), source, folder
    )
    return [report.workbook, report.problems_csv]


@pytest.mark.parametrize("write", [due_list, quality_report, steward_copy])
def test_a_file_cut_short_leaves_the_one_before_or_none(write, tmp_path, monkeypatch, aliases):
    before = write(tmp_path, tmp_path / "before", aliases)
    assert before and all(whole(path) for path in before)
    kept = {path.name: path.read_bytes() for path in before}

    # Before: the writers wrote straight to the file's own name, so the first part of a workbook stayed
    # there (a zip Excel cannot open), and the web page served it as the night's list.
    with monkeypatch.context() as failing:
        disk_full_while_writing(failing)
        with pytest.raises(Exception, match="No space left"):
            write(tmp_path, tmp_path / "first", aliases)
        with pytest.raises(Exception, match="No space left"):
            write(tmp_path, tmp_path / "before", aliases)
    assert [p.name for p in (tmp_path / "first").iterdir()] == []
    assert {p.name: p.read_bytes() for p in (tmp_path / "before").iterdir()} == kept

"""The steward's loop through the real flow: the night marks a copy, the steward fixes some cells and sends it back."""

from __future__ import annotations

import csv
import io
import os
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner
from workbooks import write_xlsx

from dealersync.flows.cli import app
from dealersync.samples import generate_inbox
from dealersync.warehouse.db import connect

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect")]

TODAY = date(2026, 11, 20)
# What a steward writes over a bad cell, by (field, rule) of the generated bad cells; the other bad
# cells (a VIN, a phone, dates) are left as they are, so their entries must stay open.
FIXES = {
    ("name", "required"): "张三",
    ("visit_type", "not_in_list"): "维修",
    ("visit_type", "required"): "维修",
    ("staff", "required"): "李四",
    ("letter_type", "not_in_list"): "通知",
    ("category", "not_in_list"): "其他",
    ("description", "required"): "客户反映的问题",
    ("severity", "not_in_list"): "一般",
    ("outcome", "not_in_list"): "未接通",
    ("under_warranty", "not_yes_no"): "否",
}


def run_night(tmp: Path):
    from prefect.task_runners import ThreadPoolTaskRunner

    from dealersync.flows.nightly import nightly

    return nightly.with_options(task_runner=ThreadPoolTaskRunner(max_workers=2))(
        inbox=tmp / "inbox", warehouse=tmp / "warehouse.duckdb", today=TODAY
    )


def rows(warehouse: Path, query: str, **params) -> list[tuple]:
    con = connect(warehouse, read_only=True)
    try:
        return con.sql(query, params=params or None).fetchall()
    finally:
        con.close()


def header_column(sheet, header_row: int, header: str) -> int:
    return next(c.column for c in sheet[header_row] if c.value is not None and str(c.value).strip() == header)


def test_a_corrected_copy_sent_again_resolves_exactly_what_it_fixes(tmp_path, monkeypatch, prefect_harness):
    monkeypatch.setenv("DEALERSYNC_DATA_DIR", str(tmp_path))
    warehouse = tmp_path / "warehouse.duckdb"
    manifest = generate_inbox(
        tmp_path / "inbox", today=TODAY, dealers=2, visits_per_dealer=60, seed=21, bad_cell_rate=0.08
    )
    first = run_night(tmp_path)

    # The night wrote a marked copy for every file with problems, in its dealer's folder.
    steward_dir = tmp_path / "exports" / "steward" / TODAY.isoformat()
    assert first.outputs["Steward workbooks"] == str(steward_dir)
    with_bad_cells = {b.file for b in manifest.bad_cells}
    expected_folders = {code for code, path in manifest.dealer_files.items()}  # every dealer has warnings
    if manifest.warehouse_file.name in with_bad_cells:
        expected_folders.add("warehouse")
    assert {p.name for p in steward_dir.iterdir()} == expected_folders  # the clean reference file has none

    dealer, source = next(iter(manifest.dealer_files.items()))
    bad_cells = [b for b in manifest.bad_cells if b.file == source.name]
    fixed = [b for b in bad_cells if (b.field, b.rule) in FIXES]
    left = [b for b in bad_cells if (b.field, b.rule) not in FIXES]
    assert fixed and left
    marked_copy = steward_dir / dealer / f"{source.stem}.annotated.xlsx"
    assert (steward_dir / dealer / f"{source.stem}.problems.csv").is_file()

    entry_of = {
        (sheet, row, field, rule): entry_id
        for entry_id, sheet, row, field, rule in rows(
            warehouse,
            "SELECT entry_id, sheet, excel_row, field, rule FROM quarantine.rejected_rows WHERE file_name = $f",
            f=source.name,
        )
    }
    fixed_entries = {entry_of[(b.sheet, b.excel_row, b.field, b.rule)] for b in fixed}
    left_entries = {entry_of[(b.sheet, b.excel_row, b.field, b.rule)] for b in left}

    # The steward opens the marked copy, overwrites some red cells, and sends it back under its name.
    book = openpyxl.load_workbook(marked_copy)
    header_rows = {s.sheet: s.header_row for s in manifest.sheets if s.file == source.name}
    for bad in fixed:
        sheet = book[bad.sheet]
        cell = sheet.cell(bad.excel_row, header_column(sheet, header_rows[bad.sheet], bad.column_name))
        assert cell.fill.fgColor.rgb.endswith("FFC7CE") and cell.comment is not None
        cell.value = FIXES[(bad.field, bad.rule)]
    book.save(tmp_path / "inbox" / source.name)
    before = {o.file_name: o for o in first.files}[source.name]

    second = run_night(tmp_path)
    (after,) = second.files
    assert after.status == "loaded"
    assert after.rows_loaded == before.rows_loaded + len(fixed)
    assert after.rows_rejected == before.rows_rejected - len(fixed)
    # The resent file's own copy sits beside the first one (named after its place in processed/).
    resent_copy = steward_dir / dealer / f"{Path(after.stored_as).stem}.annotated.xlsx"
    assert resent_copy != marked_copy and resent_copy.is_file() and marked_copy.is_file()

    # Exactly the fixed rejections are resolved, by the second run; the others stay open.
    resolved = rows(
        warehouse, "SELECT entry_id FROM quarantine.rejected_rows WHERE resolved_by_run = $r", r=second.run_id
    )
    assert {entry_id for (entry_id,) in resolved} == fixed_entries
    still_open = rows(warehouse, "SELECT entry_id FROM quarantine.rejected_rows WHERE resolved_at IS NULL")
    assert left_entries <= {entry_id for (entry_id,) in still_open}
    # A warning resolved on the way can only be a visit whose customer's file just arrived (a fixed name).
    fixed_customers = {
        key.split("|")[1]
        for (key,) in rows(
            warehouse,
            "SELECT business_key FROM quarantine.rejected_rows WHERE resolved_by_run = $r AND kind = 'customers'",
            r=second.run_id,
        )
    }
    for rule, customer in rows(
        warehouse,
        "SELECT rule, upper(trim(cell_value)) FROM quarantine.warnings WHERE resolved_by_run = $r",
        r=second.run_id,
    ):
        assert rule == "no_customer_file" and customer in fixed_customers

    # `dealersync quarantine` lists what is still open for the dealer, oldest first, with days open.
    listed = CliRunner().invoke(
        app, ["quarantine", "-w", str(warehouse), "--dealer", dealer.lower(), "--csv"], catch_exceptions=False
    )
    assert listed.exit_code == 0, listed.output
    entries = list(csv.DictReader(io.StringIO(listed.output)))
    assert entries and {e["dealer_code"] for e in entries} == {dealer}
    assert not {int(e["entry_id"]) for e in entries} & fixed_entries
    assert left_entries <= {int(e["entry_id"]) for e in entries}
    assert [e["first_seen_at"] for e in entries] == sorted(e["first_seen_at"] for e in entries)
    assert all(e["days_open"] == "0" and e["resolved_at"] == "" for e in entries)

    # An entry the file cannot resolve (say its key itself was wrong) is closed by hand.
    one = min(left_entries)
    closed = CliRunner().invoke(app, ["quarantine", "-w", str(warehouse), "--close", str(one)])
    assert closed.exit_code == 0 and "closed 1 of 1" in closed.output
    assert rows(
        warehouse, "SELECT resolved_by_run FROM quarantine.rejected_rows WHERE entry_id = $e", e=one
    ) == [(None,)]
    table = CliRunner().invoke(app, ["quarantine", "-w", str(warehouse), "--dealer", dealer])
    assert table.exit_code == 0 and "oldest first" in table.output


def test_each_file_of_a_night_gets_the_warnings_the_loader_gave_it(tmp_path, monkeypatch, prefect_harness):
    """Two ledgers of one dealer the same night, each with the visit of a customer without a file.

    The second refreshed the warning's entry to point at itself, and the first file's copy, made from the
    entries once the night's files were loaded, lost its yellow cell (its run table said 1 warned).
    """
    monkeypatch.setenv("DEALERSYNC_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DEALERSYNC_SETTLE_SECONDS", "0")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_xlsx(
        inbox / "总部基础资料.xlsx",
        {"经销商": [("经销商代码", "经销商名称", "区域"), ("D0001", "太原", "华北")]},
    )
    header = ("经销商代码", "工单号", "客户编号", "车架号", "进厂日期", "类型")
    visit = ("D0001", "WO1", "C9", "LJ1DS15A8PC050605", date(2026, 11, 16), "咨询")
    for order, name in enumerate(("D0001_周一.xlsx", "D0001_周二.xlsx")):
        rows = [header, visit] + [
            ("D0001", "WO2", "C9", "LJ1DS15A8PC050605", date(2026, 11, 17), "咨询")
        ] * order
        write_xlsx(inbox / name, {"维修保养记录": rows})
        os.utime(inbox / name, (1_700_000_000 + order, 1_700_000_000 + order))
    run_night(tmp_path)
    folder = tmp_path / "exports" / "steward" / TODAY.isoformat() / "D0001"
    for name in ("D0001_周一", "D0001_周二"):
        problems = list(csv.DictReader(io.StringIO((folder / f"{name}.problems.csv").read_text("utf-8-sig"))))
        assert ("C2", "no_customer_file") in {(p["cell"], p["rule"]) for p in problems}, name

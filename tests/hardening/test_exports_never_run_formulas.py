"""Formula injection: every export writes a cell that begins with =, +, -, @, tab or CR as text no spreadsheet
evaluates. Hostile values go in through a real night (names, addresses, visit items, complaint texts, call
notes, cells that fail a rule as written) and every xlsx and csv the pipeline writes is opened and checked.
"""

from __future__ import annotations

import csv
import re
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from contract_books import contract_workbook
from typer.testing import CliRunner

from dealersync.exports.cells import FORMULA_TRIGGERS

TODAY = date(2026, 3, 9)  # a Monday: last week's (2026-W10) quality report is written tonight
HYPERLINK = '=HYPERLINK("http://evil.example/steal","点我查看")'
DDE = "@SUM(1+1)*cmd|' /C calc'!A0"
PLUS = "+1 (555) Evil Road"
MINUS = "-2+3+cmd|' /C notepad'!A1"
TAB = "\t=1+2"
CR = "\r=3+4"
PAYLOADS = ("HYPERLINK", "cmd|", "Evil Road", "=1+2", "=3+4")


def hostile_inbox(inbox: Path) -> None:
    """A reference workbook and one dealer's workbook whose texts are formula payloads."""
    inbox.mkdir(parents=True)
    dealer = {"dealer_code": "D0001", "name": "宏达服务站", "region": "华东", "contact_person": MINUS}
    contract_workbook(inbox / "总部基础资料.xlsx", {"dealers": [dealer]})
    customers = [
        {"dealer_code": "D0001", "customer_id": "C1", "name": HYPERLINK, "phone": "13812345678",
         "address": PLUS, "vin": "LFV2A21K6G3053421", "model": "DS-100", "preferred_services": DDE},
        {"dealer_code": "D0001", "customer_id": "C2", "name": MINUS, "phone": "13812345679",
         "vin": "LFV2A21K8G3053422", "model": "DS-100"},
    ]  # fmt: skip
    visits = [
        {"dealer_code": "D0001", "work_order_no": "WO1", "customer_id": "C1", "vin": "LFV2A21K6G3053421",
         "intake_date": date(2026, 3, 1), "pickup_date": date(2026, 3, 3), "visit_type": "保养",
         "service_items": DDE, "advisor": HYPERLINK},
        {"dealer_code": "D0001", "work_order_no": "WO2", "customer_id": "C2", "vin": "LFV2A21K8G3053422",
         "intake_date": date(2026, 3, 2), "pickup_date": date(2026, 3, 2), "visit_type": "维修",
         "service_items": MINUS},
        {"dealer_code": "D0001", "work_order_no": "WO3", "customer_id": "C2", "vin": "LFV2A21K8G3053422",
         "intake_date": TAB, "visit_type": "维修"},  # fails the date rule: the cell goes to the problem list as written
        {"dealer_code": "D0001", "work_order_no": "WO4", "customer_id": "C2", "vin": "LFV2A21K8G3053422",
         "intake_date": date(2026, 3, 4), "pickup_date": CR, "visit_type": "维修"},
    ]  # fmt: skip
    calls = [
        {"dealer_code": "D0001", "call_id": "K1", "call_time": datetime(2026, 3, 4, 10, 0),
         "call_type": "首次回访", "customer_id": "C2", "work_order_no": "WO2", "staff": PLUS,
         "outcome": "接通", "satisfaction": "不满意", "customer_request": HYPERLINK, "notes": MINUS},
    ]  # fmt: skip
    complaints = [
        {"dealer_code": "D0001", "complaint_id": "P1", "received_date": date(2026, 3, 7), "customer_id": "C1",
         "category": "服务态度", "description": DDE, "resolution": HYPERLINK},
    ]  # fmt: skip
    contract_workbook(
        inbox / "D0001_客服台账.xlsx",
        {
            "customers": customers,
            "service_visits": visits,
            "follow_up_calls": calls,
            "complaints": complaints,
        },
    )


def formulas_and_links(path: Path) -> list[str]:
    """Every cell of an xlsx stored as a formula, and every hyperlink to the hostile site."""
    found = []
    book = openpyxl.load_workbook(path)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    found.append(f"{sheet.title}!{cell.coordinate} formula {cell.value!r}")
                if cell.hyperlink is not None and "evil" in str(cell.hyperlink.target or ""):
                    found.append(f"{sheet.title}!{cell.coordinate} link {cell.hyperlink.target}")
    return found


def xlsx_texts(path: Path) -> str:
    book = openpyxl.load_workbook(path)
    return "\n".join(
        str(cell.value)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value
    )


def live_csv_fields(text: str) -> list[str]:
    """Fields of a CSV that a spreadsheet would evaluate on opening."""
    return [
        field
        for row in csv.reader(text.splitlines())
        for field in row
        if field.startswith(FORMULA_TRIGGERS)
        and not re.fullmatch(r"[-+][0-9]+(\.[0-9]+)?", field)  # -5: a number
    ]


@pytest.mark.slow
@pytest.mark.xdist_group("prefect")
def test_every_export_writes_formula_payloads_as_inert_text(tmp_path, prefect_harness, monkeypatch):
    from dealersync.flows.cli import app
    from dealersync.flows.nightly import nightly

    hostile_inbox(tmp_path / "inbox")
    warehouse = tmp_path / "warehouse.duckdb"
    nightly(inbox=tmp_path / "inbox", warehouse=warehouse, today=TODAY)
    exports = tmp_path / "exports"
    # The commands a person runs by hand write through the same writers; run them too, into exports/.
    runner = CliRunner()
    for command in (
        [
            "due-list",
            "--date",
            TODAY.isoformat(),
            "--format",
            "csv",
            "-w",
            str(warehouse),
            "--out",
            str(exports / "cli"),
        ],
        ["summary", "--week", "2026-W10", "-w", str(warehouse), "--out", str(exports / "cli" / "w10.xlsx")],
    ):
        assert runner.invoke(app, command).exit_code == 0, command
    quarantine = runner.invoke(app, ["quarantine", "-w", str(warehouse), "--csv", "--limit", "0"])
    assert quarantine.exit_code == 0 and "=1+2" in quarantine.stdout

    written = sorted(p for p in exports.rglob("*") if p.suffix in (".xlsx", ".csv"))
    families = {
        "due list xlsx": [p for p in written if "due_lists" in p.parts and p.suffix == ".xlsx"],
        "due list csv": [
            p for p in written if p.suffix == ".csv" and ("due_lists" in p.parts or "cli" in p.parts)
        ],
        "quality report": [p for p in written if "quality" in p.parts or p.name == "w10.xlsx"],
        "steward copy": [p for p in written if "steward" in p.parts and p.suffix == ".xlsx"],
        "steward problem list": [p for p in written if "steward" in p.parts and p.suffix == ".csv"],
    }
    assert all(families.values()), {name: len(paths) for name, paths in families.items()}
    problems = [
        f"{p.relative_to(exports)}: {f}"
        for p in written
        if p.suffix == ".xlsx"
        for f in formulas_and_links(p)
    ]
    problems += [
        f"{p.relative_to(exports)}: {f!r}"
        for p in written
        if p.suffix == ".csv"
        for f in live_csv_fields(p.read_text(encoding="utf-8-sig"))
    ]
    problems += [f"quarantine --csv: {f!r}" for f in live_csv_fields(quarantine.stdout)]
    assert problems == []
    # The payloads did reach every kind of export, as text: the check above was not vacuous.
    for name, paths in families.items():
        texts = "\n".join(
            xlsx_texts(p) if p.suffix == ".xlsx" else p.read_text(encoding="utf-8-sig") for p in paths
        )
        assert any(payload in texts for payload in PAYLOADS), name


def test_csv_text_that_would_run_is_prefixed_and_a_plain_number_is_not():
    import polars as pl

    from dealersync.exports.cells import safe_frame

    written = [
        "-5",
        "+86",
        "-0.5",
        "-1+1",
        "=1+2",
        "@SUM(A1)",
        "+86 138",
        "-2+3+cmd|' /C calc'!A0",
        "\tx",
        "ok",
    ]
    assert safe_frame(pl.DataFrame({"cell": written}))["cell"].to_list() == [
        "-5",
        "+86",
        "-0.5",
        "'-1+1",
        "'=1+2",
        "'@SUM(A1)",
        "'+86 138",
        "'-2+3+cmd|' /C calc'!A0",
        "'\tx",
        "ok",
    ]

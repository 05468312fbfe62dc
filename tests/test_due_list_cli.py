"""`dealersync due-list`: compute any day's list and write it, with clean errors for user mistakes."""

from __future__ import annotations

from datetime import date

import pytest
from typer.testing import CliRunner

from dealersync.flows.cli import UserError, app
from dealersync.warehouse.db import open_warehouse

LINEAGE = "1, 'sha', 'test', 2, TIMESTAMPTZ '2024-01-01 00:00:00+00'"


@pytest.fixture
def warehouse(tmp_path):
    """A warehouse with one dealer, one customer and a visit whose first follow-up is overdue."""
    path = tmp_path / "warehouse.duckdb"
    con = open_warehouse(path)
    con.execute(f"""
    INSERT INTO core.dealers (dealer_code, name, region, valid_from, run_id, file_sha256, sheet, excel_row, loaded_at)
    VALUES ('D1', '一号店', '华东', DATE '2020-01-01', {LINEAGE});
    INSERT INTO core.customers (dealer_code, customer_id, name, phone, valid_from, run_id, file_sha256, sheet, excel_row, loaded_at)
    VALUES ('D1', 'C1', '张三', '13800138000', DATE '2020-01-01', {LINEAGE});
    INSERT INTO core.service_visits (dealer_code, work_order_no, customer_id, vin, intake_date, pickup_date,
                                     visit_type, has_customer_file, run_id, file_sha256, sheet, excel_row, loaded_at)
    VALUES ('D1', 'W1', 'C1', 'VIN1', DATE '2024-03-01', DATE '2024-03-02', 'repair', true, {LINEAGE});
    """)
    con.close()
    return path


def run(*args: str):
    return CliRunner().invoke(app, ["due-list", *args])


def test_one_dealers_list_as_csv(warehouse, tmp_path):
    result = run(
        "--date",
        "2024-03-20",
        "--dealer",
        "d1",
        "--format",
        "csv",
        "--out",
        str(tmp_path / "out"),
        "-w",
        str(warehouse),
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "dealer_D1.csv").read_text(encoding="utf-8-sig").count("W1") == 1
    con = open_warehouse(warehouse)
    assert con.execute("SELECT as_of, count(*) FROM mart.due_list GROUP BY ALL").fetchall() == [
        (date(2024, 3, 20), 1)
    ]
    con.close()


def test_every_dealer_and_region_in_the_default_folder(warehouse, tmp_path, monkeypatch):
    monkeypatch.setenv("DEALERSYNC_EXPORTS", str(tmp_path / "exports"))
    result = run("--date", "2024-03-20", "-w", str(warehouse))
    assert result.exit_code == 0, result.output
    folder = tmp_path / "exports" / "due_lists" / "2024-03-20"
    assert sorted(p.name for p in folder.iterdir()) == ["dealer_D1.xlsx", "region_华东.xlsx"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dealer", "D9"], "no dealer 'D9'"),
        (["--region", "西藏"], "no region '西藏'"),
        (["--dealer", "D1", "--region", "华东"], "not both"),
        (["--format", "pdf"], "xlsx or csv"),
        (["--date", "2024-02-30"], "not a date"),
        # a typo for a day to come would store a list of calls "not made" that the web page then offers
        (["--date", "2999-01-01"], "after today"),
    ],
)
def test_user_mistakes_are_clear_errors(warehouse, tmp_path, args, message):
    result = run(*args, "--out", str(tmp_path / "out"), "-w", str(warehouse))
    assert isinstance(result.exception, UserError)
    assert message in str(result.exception)


def test_no_warehouse_is_a_clear_error(tmp_path):
    result = run("-w", str(tmp_path / "none.duckdb"))
    assert isinstance(result.exception, UserError)
    assert "no warehouse" in str(result.exception)

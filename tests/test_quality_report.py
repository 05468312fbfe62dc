"""Quality marts refreshed from a real warehouse, and the xlsx report read back with openpyxl."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import openpyxl
import polars as pl
import pytest

from dealersync.exports.quality_report import (
    HEADLINE,
    SHEETS,
    change_arrow,
    nightly_quality_reports,
    refreshed_report,
    report_path,
    write_quality_report,
)
from dealersync.settings import Settings
from dealersync.transforms.quality_summary import FIGURES, Period, chart_periods
from dealersync.warehouse.db import open_warehouse
from dealersync.warehouse.summaries import (
    alert_levels,
    nightly_periods,
    record_report,
    refresh_for_report,
    refresh_summaries,
    refreshed_periods,
    reports_due,
)

W47 = Period.parse("2026-W47")  # 2026-11-16 .. 2026-11-22
LEVELS = alert_levels(Settings(_env_file=None))
FILLER = {"VARCHAR": "x", "DATE": date(2026, 1, 1), "BOOLEAN": False, "BIGINT": 0, "INTEGER": 1}


def insert(con, table: str, rows: list[dict]) -> None:
    """Insert rows, filling the NOT NULL columns a test does not care about (lineage, names)."""
    schema, name = table.split(".")
    required = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE schema_name = ? AND table_name = ? AND NOT is_nullable",
        [schema, name],
    ).fetchall()
    for row in rows:
        filled = {c: FILLER.get(t, datetime(2026, 11, 17, 12)) for c, t in required} | row
        columns = ", ".join(filled)
        marks = ", ".join("?" for _ in filled)
        con.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(filled.values()))


@pytest.fixture
def warehouse(tmp_path):
    con = open_warehouse(tmp_path / "warehouse.duckdb")
    insert(con, "etl.runs", [{"run_id": 1, "as_of": date(2026, 11, 17), "status": "succeeded"}])
    insert(
        con,
        "core.dealers",
        [
            {"dealer_code": "D1", "region": "North", "valid_to": None},
            {"dealer_code": "D2", "region": "South", "valid_to": None},
        ],
    )
    insert(con, "core.parts", [{"part_no": "P-MOTOR", "component": "motor", "critical": True}])
    insert(
        con,
        "core.service_visits",
        [
            # window ends 11-17 (week 47), reached on the 14th
            {"dealer_code": "D1", "work_order_no": "V1", "intake_date": date(2026, 11, 9),
             "pickup_date": date(2026, 11, 10), "visit_type": "warranty", "under_warranty": True},
            # window ends 11-10 (week 46), never reached
            {"dealer_code": "D1", "work_order_no": "V2", "intake_date": date(2026, 11, 2),
             "pickup_date": date(2026, 11, 3), "visit_type": "repair", "under_warranty": True},
        ],
    )  # fmt: skip
    insert(
        con,
        "core.follow_up_calls",
        [
            {"dealer_code": "D1", "call_id": "K1", "call_time": datetime(2026, 11, 14, 10),
             "call_type": "first_follow_up", "work_order_no": "V1", "outcome": "reached", "satisfaction": "satisfied"},
            {"dealer_code": "D2", "call_id": "K2", "call_time": datetime(2026, 11, 18, 15),
             "call_type": "inquiry", "outcome": "reached", "satisfaction": "dissatisfied",
             "customer_request": '=HYPERLINK("http://x","waited two hours")', "needs_action": True},
        ],
    )  # fmt: skip
    insert(
        con,
        "core.complaints",
        [
            {
                "dealer_code": "D2",
                "complaint_id": "Q1",
                "received_date": date(2026, 11, 16),
                "category": "timeliness",
            }
        ],
    )
    insert(
        con,
        "core.part_shipments",
        [
            {"shipment_line_id": "L1", "dealer_code": "D1", "ship_date": date(2026, 11, 16), "shipped_correct": True},
            {"shipment_line_id": "L2", "dealer_code": "D2", "ship_date": date(2026, 11, 17),
             "shipped_correct": False, "error_type": "wrong_qty"},
        ],
    )  # fmt: skip
    batches = {
        "B1": date(2026, 8, 1),
        "B2": date(2026, 8, 15),
        "B3": date(2026, 9, 1),
        "B4": date(2026, 9, 15),
    }
    batches["B5"] = date(2026, 10, 20)
    insert(
        con,
        "core.part_batches",
        [
            {"part_no": "P-MOTOR", "batch_no": b, "production_date": d, "quantity": 1000}
            for b, d in batches.items()
        ],
    )
    usual = [
        {"feedback_id": f"F{b}{n}", "report_date": d + timedelta(days=20 + 9 * n), "dealer_code": "D1",
         "vin": f"VIN{b}{n}", "part_no": "P-MOTOR", "component": "motor", "batch_no": b}
        for b, d in list(batches.items())[:4]
        for n in range(2)
    ]  # fmt: skip
    surge = [
        {"feedback_id": f"S{n}", "report_date": date(2026, 11, 16 + n % 7), "dealer_code": f"D{1 + n % 2}",
         "vin": f"VINS{n}", "part_no": "P-MOTOR", "component": "motor", "batch_no": "B5"}
        for n in range(10)
    ]  # fmt: skip
    insert(con, "core.part_failures", usual + surge)
    insert(
        con,
        "raw.service_visits",
        [
            {"run_id": 1, "file_sha256": "f1", "sheet": "维修", "dealer_code": " d1 ", "excel_row": n}
            for n in range(2, 12)
        ],
    )
    # The parts warehouse's rows name the dealer shipped to: they are the warehouse's, not D1's.
    insert(
        con,
        "raw.part_shipments",
        [
            {"run_id": 1, "file_sha256": "f2", "sheet": "出库", "dealer_code": "D1", "excel_row": n}
            for n in range(2, 7)
        ],
    )
    insert(
        con,
        "etl.file_sheets",
        [
            {"run_id": 1, "file_sha256": "f1", "sheet": "维修", "kind": "service_visits", "rows_read": 10,
             "rows_rejected": 1},
            {"run_id": 1, "file_sha256": "f2", "sheet": "出库", "kind": "part_shipments", "rows_read": 5,
             "rows_rejected": 1},
        ],
    )  # fmt: skip
    insert(
        con,
        "quarantine.rejected_rows",
        [
            {"entry_id": 1, "run_id": 1, "dealer_code": "D1", "kind": "service_visits", "rule": "not_a_date",
             "file_sha256": "f1", "sheet": "维修", "excel_row": 5},
            {"entry_id": 2, "run_id": 1, "dealer_code": "D1", "kind": "part_shipments", "rule": "not_yes_no",
             "file_sha256": "f2", "sheet": "出库", "excel_row": 3},
        ],
    )  # fmt: skip
    yield con
    con.close()


def mart(con, sql: str, params=()) -> pl.DataFrame:
    return con.sql(sql, params=list(params)).pl()


def test_refresh_fills_every_mart_for_the_period(warehouse):
    written = refresh_summaries(warehouse, [W47], LEVELS)
    assert all(written.values()), written
    kpi = mart(warehouse, "SELECT * FROM mart.quality_kpi WHERE scope_type = 'company' AND item = 'all'")
    rate = kpi.filter(pl.col("figure") == "return_visit_rate").row(0, named=True)
    assert (rate["numerator"], rate["denominator"], rate["value"], rate["previous_value"]) == (1, 1, 1.0, 0.0)
    assert (rate["period_start"], rate["period_end"]) == (W47.start, W47.end)
    received = mart(
        warehouse, "SELECT value FROM mart.quality_kpi WHERE figure = 'rows_received' AND scope = 'D1'"
    )
    assert received.item() == 10  # raw rows of the run of 11-17, dealer code as read, normalised
    alerts = mart(
        warehouse, "SELECT test, batch_no, observed, dealers FROM mart.batch_alerts WHERE level = 'red'"
    )
    assert sorted(alerts["test"]) == ["batch_exposure", "component"]
    assert alerts.filter(pl.col("test") == "batch_exposure").row(0) == (
        "batch_exposure",
        "B5",
        10,
        ["D1", "D2"],
    )
    calls = mart(warehouse, "SELECT call_id, region FROM mart.dissatisfied_calls")
    assert calls.rows() == [("K2", "South")]
    rules = mart(warehouse, "SELECT dealer_code, rule, rank FROM mart.data_quality_rules")
    assert sorted(rules.rows(), key=str) == [("D1", "not_a_date", 1), (None, "not_yes_no", 1)]
    assert mart(warehouse, "SELECT count(*) FROM mart.quality_figures").item() == len(FIGURES)


def test_refreshing_again_replaces_the_period_without_duplicates(warehouse):
    count_per_period = "SELECT period, count(*) AS n FROM mart.quality_kpi GROUP BY 1 ORDER BY 1"
    refresh_summaries(warehouse, [W47, W47.previous()], LEVELS)
    first = mart(warehouse, count_per_period).rows()
    refresh_summaries(warehouse, [W47], LEVELS)
    refresh_summaries(warehouse, [W47], LEVELS)
    assert mart(warehouse, count_per_period).rows() == first
    keys = "period_type, period, scope_type, scope, figure, item"
    distinct = mart(warehouse, f"SELECT count(*) FROM (SELECT DISTINCT {keys} FROM mart.quality_kpi)").item()
    assert distinct == sum(n for _, n in first)
    stamps = mart(
        warehouse, "SELECT week, count(DISTINCT refreshed_at) FROM mart.failure_watch GROUP BY 1 ORDER BY 1"
    )
    assert stamps.rows() == [("2026-W46", 1), ("2026-W47", 1)]


def test_refresh_for_report_fills_the_chart_periods_once(warehouse):
    refreshed = refresh_for_report(warehouse, W47, LEVELS)
    assert refreshed[0] == W47 and set(refreshed) == set(chart_periods(W47))
    november = refresh_for_report(warehouse, Period.parse("2026-11"), LEVELS)
    # weeks ending in November: W44 (Sunday 1st) .. W48; all but W48 were charted for W47
    assert [p.label for p in november if p.type == "week"] == ["2026-W48"]
    assert refreshed_periods(warehouse, chart_periods(W47)) == set(chart_periods(W47))
    # only its own period and the one before (charted beside its 'previous') are recomputed
    assert refresh_for_report(warehouse, W47, LEVELS) == [W47, W47.previous()]


def test_reports_are_due_once_per_finished_period(warehouse, tmp_path):
    monday = date(2026, 11, 23)
    assert [p.label for p in reports_due(warehouse, monday)] == ["2026-W47", "2026-10", "2025"]
    record_report(warehouse, W47, tmp_path / "w47.xlsx")
    assert [p.label for p in reports_due(warehouse, monday + timedelta(days=1))] == ["2026-10", "2025"]


def test_the_first_night_of_a_week_writes_last_weeks_report_once(warehouse, tmp_path):
    monday = date(2026, 11, 23)
    written = nightly_quality_reports(warehouse, monday, tmp_path, LEVELS)
    assert {p.label: path.name for p, path in written.items()} == {
        "2026-W47": "quality_2026-W47.xlsx",
        "2026-10": "quality_2026-10.xlsx",
        "2025": "quality_2025.xlsx",
    }
    assert all(path.is_file() and path.parent == tmp_path / "quality" for path in written.values())
    assert refreshed_periods(warehouse, nightly_periods(monday)) == set(nightly_periods(monday))
    assert nightly_quality_reports(warehouse, monday + timedelta(days=1), tmp_path, LEVELS) == {}
    recorded = mart(warehouse, "SELECT period, path FROM mart.quality_reports ORDER BY period")
    assert recorded.rows() == sorted((p.label, str(path)) for p, path in written.items())


def test_nightly_periods_are_the_current_and_previous_of_each_type():
    labels = [p.label for p in nightly_periods(date(2027, 1, 2))]
    assert sorted(labels) == sorted(["2026-W53", "2026-W52", "2027-01", "2026-12", "2027", "2026"])


@pytest.fixture
def report(warehouse, tmp_path):
    refresh_for_report(warehouse, W47, LEVELS)
    path = write_quality_report(warehouse, W47, report_path(tmp_path / "exports", W47))
    return openpyxl.load_workbook(path)


def test_the_report_has_its_sheets_and_charts(report):
    assert report.sheetnames == list(SHEETS)
    assert report.active.title == "KPIs"
    trends = report["Trends"]
    assert len(trends._charts) == 8  # one per charted figure
    rate_chart = trends._charts[0]
    assert len(rate_chart.series) == 2  # the figure and its target line
    assert len(report["Component failures"]._charts) == 1
    periods = [trends.cell(row=r, column=1).value for r in range(4, 16)]
    assert periods == [p.label for p in chart_periods(W47)]


def test_the_kpi_sheet_shows_the_mart_numbers(report, warehouse):
    kpi = mart(
        warehouse,
        "SELECT figure, value, target, previous_value, change, numerator, denominator FROM mart.quality_kpi "
        "WHERE period = '2026-W47' AND scope_type = 'company' AND item = 'all'",
    )
    sheet = report["KPIs"]
    shown = {sheet.cell(row=r, column=1).value: r for r in range(5, 5 + len(HEADLINE))}
    for row in kpi.iter_rows(named=True):
        r = shown[FIGURES[row["figure"]].label]
        cells = [sheet.cell(row=r, column=c).value for c in (2, 3, 5, 6, 8, 9)]
        expected = [
            row[k] for k in ("value", "target", "previous_value", "change", "numerator", "denominator")
        ]
        # xlsx keeps 15-16 significant digits
        assert [c if c is None else pytest.approx(c, rel=1e-12) for c in cells] == expected, row
        assert sheet.cell(row=r, column=7).value == (change_arrow(row["change"]) or None)
    shipment = shown[FIGURES["shipment_accuracy"].label]
    assert sheet.cell(row=shipment, column=2).value == 0.5
    assert sheet.cell(row=shipment, column=4).value == "NO"
    assert sheet.cell(row=shipment, column=2).number_format == "0.0%"


def test_the_other_sheets_show_the_mart_rows(report, warehouse):
    alerts = report["Batch alerts"]
    header = [c.value for c in alerts[3]]
    red = [dict(zip(header, [c.value for c in row], strict=True)) for row in alerts.iter_rows(min_row=4)]
    mart_alerts = mart(
        warehouse, "SELECT batch_no, observed, q_value FROM mart.batch_alerts ORDER BY q_value"
    )
    assert sorted(r["observed"] for r in red) == sorted(mart_alerts["observed"])
    assert {r["batch_no"] for r in red} == set(mart_alerts["batch_no"])
    calls = report["Dissatisfied calls"]
    header = [c.value for c in calls[3]]
    request = calls.cell(row=4, column=header.index("customer_request") + 1)
    assert request.value == '=HYPERLINK("http://x","waited two hours")' and request.data_type == "s"
    complaints = report["Complaints"]
    by_category = {
        complaints.cell(row=r, column=1).value: complaints.cell(row=r, column=2).value for r in range(4, 11)
    }
    assert by_category["timeliness"] == 1 and by_category["all"] == 1 and by_category["other"] == 0
    quality = report["Data quality"]
    header = [c.value for c in quality[3]]
    rows = {row[1].value: [c.value for c in row] for row in quality.iter_rows(min_row=4)}
    d1 = dict(zip(header, rows["D1"], strict=True))
    assert (d1["rows_received"], d1["rows_rejected"], d1["rejection_rate"]) == (10, 1, 0.1)
    assert d1["top_rules"] == "not_a_date (rejected, 1)"


@pytest.mark.parametrize(
    ("label", "alert_weeks"),
    [
        # B5 stays red after week 47: its failures since production stay far above its exposure
        ("2026-11", ["2026-W47", "2026-W48"]),
        ("2026", [f"2026-W{w}" for w in range(47, 53)]),  # 2026-W53 ends on 2027-01-03
    ],
)
def test_monthly_and_yearly_reports_are_written_the_same_way(warehouse, tmp_path, label, alert_weeks):
    period = Period.parse(label)
    refresh_for_report(warehouse, period, LEVELS)
    book = openpyxl.load_workbook(write_quality_report(warehouse, period, tmp_path / f"{label}.xlsx"))
    assert book.sheetnames == list(SHEETS)
    trends = book["Trends"]
    assert trends.cell(row=3 + len(chart_periods(period)), column=1).value == label
    alerts = book["Batch alerts"]
    assert sorted({row[0].value for row in alerts.iter_rows(min_row=4)}) == alert_weeks
    kpis = book["KPIs"]
    labels = [kpis.cell(row=r, column=1).value for r in range(5, 5 + len(HEADLINE))]
    failures = kpis.cell(row=5 + labels.index(FIGURES["critical_failures"].label), column=2).value
    assert failures == (10 if label == "2026-11" else 18)


@pytest.mark.parametrize(("change", "arrow"), [(0.02, "▲"), (-1.0, "▼"), (0.0, "▶"), (None, "")])
def test_change_arrows(change, arrow):
    assert change_arrow(change) == arrow


@pytest.fixture
def warehouse_file(warehouse, tmp_path):
    warehouse.close()
    return tmp_path / "warehouse.duckdb"


@pytest.mark.parametrize(
    ("args", "written"),
    [
        (["--week", "2026-W47"], "quality_2026-W47.xlsx"),
        (["--month", "2026-11"], "quality_2026-11.xlsx"),
        (["--year", "2026"], "quality_2026.xlsx"),
        (["--today", "2026-11-25"], "quality_2026-W47.xlsx"),  # no period: last week
    ],
)
def test_the_summary_command_writes_any_period(warehouse_file, tmp_path, monkeypatch, args, written):
    from typer.testing import CliRunner

    from dealersync.flows.cli import app

    monkeypatch.setenv("DEALERSYNC_EXPORTS", str(tmp_path / "exports"))
    result = CliRunner().invoke(app, ["summary", *args, "--warehouse", str(warehouse_file)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "exports" / "quality" / written).is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--week", "2026-11"], "is a month"),
        (["--week", "2026-W47", "--year", "2026"], "give one period"),
        (["--month", "nov"], "'nov' is not a period"),
    ],
)
def test_the_summary_command_explains_a_wrong_period(warehouse_file, args, message):
    from typer.testing import CliRunner

    from dealersync.flows.cli import UserError, app

    result = CliRunner().invoke(app, ["summary", *args, "--warehouse", str(warehouse_file)])
    assert isinstance(result.exception, UserError) and message in str(result.exception)


def test_a_warehouse_without_dealers_yet_still_gets_a_report(tmp_path):
    """The first nights may load only customer files: the report is written, with empty figures."""
    con = open_warehouse(tmp_path / "empty.duckdb")
    path = refreshed_report(con, W47, tmp_path / "empty.xlsx", LEVELS)
    con.close()
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == list(SHEETS)
    data_quality = workbook[SHEETS[6]]
    assert [c.value for c in data_quality[3]][:7] == [
        "region",
        "dealer_code",
        "rows_received",
        "rows_warned",
        "rows_rejected",
        "rejection_rate",
        "top_rules",
    ]


def column_width(sheet, header: str) -> float:
    """The width Excel gives the column headed `header` (row 3), from the column ranges xlsxwriter writes."""
    index = [c.value for c in sheet[3]].index(header) + 1
    ranges = [d for d in sheet.column_dimensions.values() if d.min <= index <= d.max]
    return ranges[0].width


def test_the_dissatisfied_call_times_fit_their_column(report):
    """A date and time (2026-11-22 23:59, 16 characters) in a narrower column shows as ##### in Excel."""
    calls = report["Dissatisfied calls"]
    assert calls.cell(row=4, column=3).number_format == "yyyy-mm-dd hh:mm"
    assert column_width(calls, "call_time") >= len("2026-11-22 23:59") + 1


def test_an_empty_alert_or_call_list_says_so_under_its_header(tmp_path):
    """No alert and no dissatisfied call: the sentence is shown, not overwritten by the table's header."""
    con = open_warehouse(tmp_path / "empty.duckdb")
    book = openpyxl.load_workbook(refreshed_report(con, W47, tmp_path / "empty.xlsx", LEVELS))
    con.close()
    for sheet, header, message in (
        ("Batch alerts", "week", "No alert."),
        ("Dissatisfied calls", "region", "No dissatisfied call."),
    ):
        assert book[sheet].cell(row=3, column=1).value == header
        assert book[sheet].cell(row=4, column=1).value == message


def test_the_trend_shows_the_same_previous_period_as_the_kpi_sheet(warehouse, tmp_path):
    """A call for week 46 logged after week 46 was charted: the W47 report's chart and its 'previous' agree."""
    refresh_for_report(warehouse, W47, LEVELS)  # charts weeks 36..46 once
    insert(
        warehouse,
        "core.follow_up_calls",
        [
            {"dealer_code": "D1", "call_id": "K3", "call_time": datetime(2026, 11, 8, 10),
             "call_type": "first_follow_up", "work_order_no": "V2", "outcome": "reached"},
        ],
    )  # fmt: skip
    book = openpyxl.load_workbook(refreshed_report(warehouse, W47, tmp_path / "w47.xlsx", LEVELS))
    kpis = book["KPIs"]
    row = next(
        r for r in range(5, 5 + len(HEADLINE)) if kpis.cell(row=r, column=1).value.startswith("Return")
    )
    trends = book["Trends"]
    w46 = next(r for r in range(4, 16) if trends.cell(row=r, column=1).value == "2026-W46")
    assert kpis.cell(row=row, column=5).value == 1.0  # V2, reached on the 8th, by its window end
    assert trends.cell(row=w46, column=2).value == 1.0


def shown_percent(cell) -> str:
    """The text Excel shows for a cell of a 0.0…% format."""
    decimals = len(cell.number_format.split(".")[1]) - 1 if "." in cell.number_format else 0
    return f"{cell.value * 100:.{decimals}f}%"


def test_a_rate_just_below_its_target_does_not_show_as_the_target(warehouse, tmp_path):
    """2,499 of 2,500 warranty visits reached is 99.96%: shown as '100.0%' beside 'NO' it read as a contradiction."""
    refresh_for_report(warehouse, W47, LEVELS)
    warehouse.execute(
        "UPDATE mart.quality_kpi SET numerator = 2499, denominator = 2500, value = 2499 / 2500 "
        "WHERE period = '2026-W47' AND scope_type = 'company' AND figure = 'return_visit_rate'"
    )
    sheet = openpyxl.load_workbook(write_quality_report(warehouse, W47, tmp_path / "w47.xlsx"))["KPIs"]
    row = next(
        r for r in range(5, 5 + len(HEADLINE)) if sheet.cell(row=r, column=1).value.startswith("Return")
    )
    assert sheet.cell(row=row, column=4).value == "NO"
    assert shown_percent(sheet.cell(row=row, column=2)) == "99.96%"
    assert shown_percent(sheet.cell(row=row, column=3)) == "100.0%"
    satisfaction = row + 2
    assert sheet.cell(row=satisfaction, column=2).number_format == "0.0%"  # 0% of 98%: one decimal, as usual


def test_a_week_without_any_night_still_gets_its_report(warehouse, tmp_path):
    """The nightly run stopped from the Monday of week 46 to the Sunday of week 47 (a holiday, an outage).

    Week 46's report fell due during week 47 and was never written: the first night of week 48 writes
    it with week 47's. Only the periods after the last report written are caught up, oldest first.
    """
    record_report(warehouse, Period.parse("2026-W45"), tmp_path / "w45.xlsx")
    record_report(warehouse, Period.parse("2026-10"), tmp_path / "oct.xlsx")
    record_report(warehouse, Period.parse("2025"), tmp_path / "2025.xlsx")
    due = reports_due(warehouse, date(2026, 11, 23))
    assert [p.label for p in due] == ["2026-W46", "2026-W47"]

"""The quality report of a week, month or year as an xlsx workbook with charts, read from the quality marts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from dealersync.exports.cells import xlsx_written_whole
from dealersync.transforms.batch_alerts import AlertLevels
from dealersync.transforms.quality_summary import (
    ALL,
    BREAKDOWN_ITEMS,
    COMPANY,
    DEALER,
    FIGURES,
    RATE,
    REGION,
    Period,
    chart_periods,
)
from dealersync.warehouse.summaries import (
    nightly_periods,
    record_report,
    refresh_for_report,
    refresh_summaries,
    reports_due,
)

# Figures of the first sheet, in the order of the meeting; then the 12-period charts.
HEADLINE = (
    "return_visit_rate",
    "first_call_timeliness",
    "satisfaction_rate",
    "satisfaction_rate_strict",
    "dissatisfied_calls",
    "shipment_accuracy",
    "shipment_errors",
    "complaints_received",
    "complaints_escalated_on_time",
    "complaints_resolved",
    "complaints_open",
    "complaints_overdue",
    "critical_failures",
    "rows_received",
    "rows_warned",
    "rows_rejected",
    "rejection_rate",
)
CHARTED = (
    "return_visit_rate",
    "first_call_timeliness",
    "satisfaction_rate",
    "shipment_accuracy",
    "complaints_escalated_on_time",
    "complaints_received",
    "critical_failures",
    "rejection_rate",
)
COMPLAINT_FIGURES = (
    "complaints_received",
    "complaints_escalated_on_time",
    "complaints_resolved",
    "complaints_open",
    "complaints_overdue",
)
DEALER_FIGURES = ("return_visit_rate", "first_call_timeliness", "satisfaction_rate", "shipment_accuracy")
SHEETS = (
    "KPIs",
    "Trends",
    "Component failures",
    "Batch alerts",
    "Complaints",
    "Dissatisfied calls",
    "Data quality",
    "Regions and dealers",
)
UP, DOWN, FLAT = "▲", "▼", "▶"
TOP_RULES = 3


def change_arrow(change: float | None) -> str:
    """▲ up, ▼ down, ▶ unchanged, blank when the change is unknown."""
    if change is None:
        return ""
    return UP if change > 0 else DOWN if change < 0 else FLAT


def _kpi(con: duckdb.DuckDBPyConnection, periods: list[Period], scope_type: str = COMPANY) -> pl.DataFrame:
    labels = [p.label for p in periods]
    return con.sql(
        "SELECT * FROM mart.quality_kpi WHERE period_type = ? AND period IN (SELECT unnest(?)) AND scope_type = ?",
        params=[periods[0].type, labels, scope_type],
    ).pl()


class _Writer:
    """Formats and helpers shared by the sheets of one workbook."""

    def __init__(self, workbook) -> None:
        self.workbook = workbook
        self.title = workbook.add_format({"bold": True, "font_size": 14})
        self.header = workbook.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True}
        )
        self.percent = workbook.add_format({"num_format": "0.0%"})
        self.percents = {1: self.percent}
        self.number = workbook.add_format({"num_format": "#,##0"})
        self.decimal = workbook.add_format({"num_format": "0.00"})
        self.small = workbook.add_format({"num_format": "0.0000"})
        self.date = workbook.add_format({"num_format": "yyyy-mm-dd"})
        self.datetime = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
        self.red = workbook.add_format({"bold": True, "font_color": "#C00000"})
        self.amber = workbook.add_format({"bold": True, "font_color": "#C65911"})
        self.good = workbook.add_format({"font_color": "#375623"})

    def value_format(self, figure: str):
        return self.percent if FIGURES[figure].kind == RATE else self.number

    def rate_against_target(self, value: float | None, target: float | None):
        """0.0%, or as many more decimals as a rate below its target needs not to show as the target.

        2,499 of 2,500 is 99.96%: at one decimal it would read 100.0% beside "meets target: NO".
        """
        decimals = 1
        if value is not None and target is not None and value < target:
            while decimals < 6 and round(value * 100, decimals) >= round(target * 100, decimals):
                decimals += 1
        if decimals not in self.percents:
            self.percents[decimals] = self.workbook.add_format({"num_format": f"0.{'0' * decimals}%"})
        return self.percents[decimals]

    def table(self, sheet, row: int, frame: pl.DataFrame, formats: dict | None = None) -> int:
        """Write a frame with a header row at `row`; return the next free row."""
        formats = formats or {}
        for col, name in enumerate(frame.columns):
            sheet.write_string(row, col, name, self.header)
        for r, values in enumerate(frame.iter_rows(), start=row + 1):
            for col, (name, value) in enumerate(zip(frame.columns, values, strict=True)):
                if value is None:
                    sheet.write_blank(r, col, None)
                elif isinstance(value, str):
                    sheet.write_string(r, col, value, formats.get(name))
                elif hasattr(value, "year"):
                    sheet.write_datetime(r, col, value, formats.get(name) or self.date)
                else:
                    sheet.write_number(r, col, value, formats.get(name))
        return row + frame.height + 2


def _kpi_sheet(w: _Writer, con, period: Period) -> None:
    sheet = w.workbook.add_worksheet(SHEETS[0])
    sheet.write_string(0, 0, f"Quality summary {period.label} ({period.start} to {period.end})", w.title)
    sheet.write_string(
        1, 0, "Company as a whole; the change is against the period before. Empty = no data to rate."
    )
    kpi = _kpi(con, [period]).filter(pl.col("item") == ALL)
    by_figure = {row["figure"]: row for row in kpi.iter_rows(named=True)}
    headers = (
        "figure",
        "value",
        "target",
        "meets target",
        "previous",
        "change",
        "trend",
        "numerator",
        "denominator",
    )
    for col, name in enumerate(headers):
        sheet.write_string(3, col, name, w.header)
    for r, figure in enumerate(HEADLINE, start=4):
        row = by_figure.get(figure, {})
        fmt = w.value_format(figure)
        sheet.write_string(r, 0, FIGURES[figure].label)
        rate = FIGURES[figure].kind == RATE
        _number(
            sheet,
            r,
            1,
            row.get("value"),
            w.rate_against_target(row.get("value"), row.get("target")) if rate else fmt,
        )
        _number(sheet, r, 2, row.get("target"), fmt)
        if row.get("target") is not None and row.get("value") is not None:
            met = row["value"] >= row["target"]
            sheet.write_string(r, 3, "yes" if met else "NO", w.good if met else w.red)
        _number(sheet, r, 4, row.get("previous_value"), fmt)
        _number(sheet, r, 5, row.get("change"), w.percent if FIGURES[figure].kind == RATE else w.number)
        if arrow := change_arrow(row.get("change")):
            sheet.write_string(r, 6, arrow)
        _number(sheet, r, 7, row.get("numerator"), w.number)
        _number(sheet, r, 8, row.get("denominator"), w.number)
    errors = (
        _kpi(con, [period])
        .filter((pl.col("figure") == "shipment_errors") & (pl.col("item") != ALL))
        .select(pl.col("item").alias("shipment error type"), pl.col("numerator").alias("lines"))
        .sort("shipment error type")
    )
    next_row = 4 + len(HEADLINE) + 1
    sheet.write_string(next_row, 0, "Shipment errors by type", w.title)
    w.table(sheet, next_row + 1, errors, {"lines": w.number})
    sheet.set_column(0, 0, 52)
    sheet.set_column(1, 8, 12)
    sheet.activate()


def _number(sheet, row: int, col: int, value, fmt) -> None:
    if value is None:
        sheet.write_blank(row, col, None, fmt)
    else:
        sheet.write_number(row, col, value, fmt)


def _trend_sheet(w: _Writer, con, period: Period, chart_periods: list[Period]) -> None:
    """A table of the last periods per charted figure, and a line chart per figure with its target."""
    sheet = w.workbook.add_worksheet(SHEETS[1])
    sheet.write_string(0, 0, f"Last {len(chart_periods)} {period.type}s, company as a whole", w.title)
    kpi = _kpi(con, chart_periods).filter(pl.col("item") == ALL)
    values = {(row["period"], row["figure"]): row["value"] for row in kpi.iter_rows(named=True)}
    sheet.write_string(2, 0, "period", w.header)
    for col, figure in enumerate(CHARTED, start=1):
        sheet.write_string(2, 2 * col - 1, figure, w.header)
        sheet.write_string(2, 2 * col, f"{figure} target", w.header)
    first, last = 3, 3 + len(chart_periods) - 1
    for r, p in enumerate(chart_periods, start=first):
        sheet.write_string(r, 0, p.label)
        for col, figure in enumerate(CHARTED, start=1):
            fmt = w.value_format(figure)
            _number(sheet, r, 2 * col - 1, values.get((p.label, figure)), fmt)
            _number(sheet, r, 2 * col, FIGURES[figure].target, fmt)
    for i, figure in enumerate(CHARTED):
        col = 2 * i + 1
        chart = w.workbook.add_chart({"type": "line"})
        chart.add_series(
            {
                "name": FIGURES[figure].label,
                "categories": [sheet.name, first, 0, last, 0],
                "values": [sheet.name, first, col, last, col],
                "marker": {"type": "circle"},
            }
        )
        if FIGURES[figure].target is not None:
            chart.add_series(
                {
                    "name": "target",
                    "categories": [sheet.name, first, 0, last, 0],
                    "values": [sheet.name, first, col + 1, last, col + 1],
                    "line": {"dash_type": "dash", "color": "#C00000"},
                }
            )
        chart.set_title({"name": FIGURES[figure].label})
        chart.set_legend({"position": "bottom"})
        if FIGURES[figure].kind == RATE:
            chart.set_y_axis({"num_format": "0%"})
        chart.show_blanks_as("gap")
        sheet.insert_chart(last + 3 + 16 * (i // 2), 9 * (i % 2), chart, {"x_scale": 1.1, "y_scale": 1.0})
    sheet.set_column(0, 2 * len(CHARTED), 14)


def _component_sheet(w: _Writer, con, period: Period, chart_periods: list[Period]) -> None:
    """Critical-component failures per period (the last periods), with a stacked column chart."""
    sheet = w.workbook.add_worksheet(SHEETS[2])
    sheet.write_string(0, 0, f"Critical-component failures by {period.type}", w.title)
    kpi = _kpi(con, chart_periods).filter(pl.col("figure") == "critical_failures")
    counts = {(row["period"], row["item"]): row["numerator"] for row in kpi.iter_rows(named=True)}
    components = [*BREAKDOWN_ITEMS["component"]]
    components += sorted({item for _, item in counts if item not in components and item != ALL})
    sheet.write_string(2, 0, "period", w.header)
    for col, component in enumerate([*components, ALL], start=1):
        sheet.write_string(2, col, component, w.header)
    first, last = 3, 3 + len(chart_periods) - 1
    for r, p in enumerate(chart_periods, start=first):
        sheet.write_string(r, 0, p.label)
        for col, component in enumerate([*components, ALL], start=1):
            sheet.write_number(r, col, counts.get((p.label, component), 0), w.number)
    chart = w.workbook.add_chart({"type": "column", "subtype": "stacked"})
    for col in range(1, len(components) + 1):
        chart.add_series(
            {
                "name": [sheet.name, 2, col],
                "categories": [sheet.name, first, 0, last, 0],
                "values": [sheet.name, first, col, last, col],
            }
        )
    chart.set_title({"name": "Critical-component failures"})
    chart.set_legend({"position": "bottom"})
    sheet.insert_chart(last + 3, 0, chart, {"x_scale": 1.6, "y_scale": 1.2})
    sheet.set_column(0, len(components) + 1, 13)


def _alert_sheet(w: _Writer, con, period: Period) -> None:
    """The batch and component alerts (red, amber) of the weeks ending in the period, with evidence."""
    sheet = w.workbook.add_worksheet(SHEETS[3])
    sheet.write_string(0, 0, f"Batch-defect alerts, weeks ending in {period.label}", w.title)
    alerts = con.sql(
        "SELECT week, level, test, component, part_no, batch_no, window_start, window_end, observed, expected, "
        "ratio, exposure_unit_months, p_value, q_value, tests_in_week, array_to_string(dealers, ', ') AS dealers, "
        "array_to_string(vins, ', ') AS vins FROM mart.batch_alerts WHERE week IN (SELECT unnest(?)) "
        "ORDER BY week, CASE level WHEN 'red' THEN 0 ELSE 1 END, q_value",
        params=[[week.label for week in period.weeks()]],
    ).pl()
    formats = {
        "expected": w.decimal,
        "ratio": w.decimal,
        "exposure_unit_months": w.number,
        "p_value": w.small,
        "q_value": w.small,
    }
    w.table(sheet, 2, alerts, formats)
    if alerts.is_empty():
        sheet.write_string(3, 0, "No alert.")
    for r, level in enumerate(alerts["level"], start=3):
        sheet.write_string(r, 1, level, w.red if level == "red" else w.amber)
    sheet.set_column(0, 15, 12)
    sheet.set_column(16, 16, 60)


def _complaint_sheet(w: _Writer, con, period: Period) -> None:
    """Complaints received, escalated on time, resolved, open and overdue, by category."""
    sheet = w.workbook.add_worksheet(SHEETS[4])
    sheet.write_string(0, 0, f"Complaints by category, {period.label}", w.title)
    kpi = _kpi(con, [period]).filter(pl.col("figure").is_in(COMPLAINT_FIGURES))
    cells = {(row["figure"], row["item"]): row for row in kpi.iter_rows(named=True)}
    sheet.write_string(2, 0, "category", w.header)
    for col, figure in enumerate(COMPLAINT_FIGURES, start=1):
        sheet.write_string(2, col, FIGURES[figure].label, w.header)
    for r, item in enumerate([*BREAKDOWN_ITEMS["category"], ALL], start=3):
        sheet.write_string(r, 0, item)
        for col, figure in enumerate(COMPLAINT_FIGURES, start=1):
            row = cells.get((figure, item))
            if FIGURES[figure].kind == RATE:
                _number(sheet, r, col, row and row["value"], w.percent)
            else:
                sheet.write_number(r, col, row["numerator"] if row else 0, w.number)
    sheet.set_column(0, 0, 20)
    sheet.set_column(1, len(COMPLAINT_FIGURES), 18)
    sheet.set_row(2, 45)


def _dissatisfied_sheet(w: _Writer, con, period: Period) -> None:
    """The dissatisfied calls of the period with the customer's words."""
    sheet = w.workbook.add_worksheet(SHEETS[5])
    sheet.write_string(0, 0, f"Dissatisfied calls (不满意), {period.label}", w.title)
    calls = con.sql(
        "SELECT region, dealer_code, call_time, call_id, call_type, customer_id, work_order_no, staff, "
        "customer_request, needs_action, notes FROM mart.dissatisfied_calls WHERE period_type = ? AND period = ? "
        "ORDER BY region, dealer_code, call_time, call_id",
        params=[period.type, period.label],
    ).pl()
    calls = calls.with_columns(
        pl.col("needs_action").replace_strict({True: "yes", False: "no"}, default=None, return_dtype=pl.Utf8)
    )
    w.table(sheet, 2, calls, {"call_time": w.datetime, "customer_request": w.wrap, "notes": w.wrap})
    if calls.is_empty():
        sheet.write_string(3, 0, "No dissatisfied call.")
    sheet.set_column(0, 7, 13)
    sheet.set_column(2, 2, 17)  # call_time: yyyy-mm-dd hh:mm, shown as ##### when narrower
    sheet.set_column(8, 8, 60)
    sheet.set_column(10, 10, 40)


def _data_quality_sheet(w: _Writer, con, period: Period) -> None:
    """Per dealer: rows received, warned and rejected, the rejected share and the top failing rules."""
    sheet = w.workbook.add_worksheet(SHEETS[6])
    sheet.write_string(0, 0, f"Data quality per dealer, {period.label}", w.title)
    figures = ["rows_received", "rows_warned", "rows_rejected", "rejection_rate"]
    kpi = _kpi(con, [period], DEALER).filter(pl.col("figure").is_in(figures))
    cell = (
        pl.when(pl.col("figure") == "rejection_rate")
        .then("value")
        .otherwise(pl.col("numerator").cast(pl.Float64))
    )
    wide = (
        kpi.with_columns(cell.alias("cell"))
        .pivot(on="figure", index=["region", "scope"], values="cell")
        .rename({"scope": "dealer_code"})
    )
    # No dealer yet (a first night of customer files only): the pivot has no figure columns at all.
    wide = wide.with_columns(pl.lit(None, pl.Float64).alias(f) for f in figures if f not in wide.columns)
    rules = con.sql(
        "SELECT dealer_code, string_agg(rule || ' (' || severity || ', ' || entries || ')', '; ' ORDER BY rank) "
        "AS top_rules FROM mart.data_quality_rules WHERE period_type = ? AND period = ? AND rank <= ? GROUP BY 1",
        params=[period.type, period.label, TOP_RULES],
    ).pl()
    scorecard = (
        wide.join(rules, on="dealer_code", how="left")
        .select(
            "region",
            "dealer_code",
            pl.col("rows_received").cast(pl.Int64),
            pl.col("rows_warned").cast(pl.Int64),
            pl.col("rows_rejected").cast(pl.Int64),
            "rejection_rate",
            "top_rules",
        )
        .sort("rows_rejected", "rows_warned", "dealer_code", descending=[True, True, False])
    )
    w.table(
        sheet,
        2,
        scorecard,
        {
            "rows_received": w.number,
            "rows_warned": w.number,
            "rows_rejected": w.number,
            "rejection_rate": w.percent,
        },
    )
    sheet.set_column(0, 5, 14)
    sheet.set_column(6, 6, 70)


def _dealer_sheet(w: _Writer, con, period: Period) -> None:
    """The headline rates per region and per dealer, with numerator and denominator."""
    sheet = w.workbook.add_worksheet(SHEETS[7])
    sheet.write_string(0, 0, f"Regions and dealers, {period.label}", w.title)
    row = 2
    for scope_type in (REGION, DEALER):
        kpi = _kpi(con, [period], scope_type).filter(
            pl.col("figure").is_in(DEALER_FIGURES) & (pl.col("item") == ALL)
        )
        per_figure = []
        for figure in DEALER_FIGURES:
            pick = pl.col("figure") == figure
            per_figure += [
                pl.col("value").filter(pick).first().alias(figure),
                pl.col("numerator").filter(pick).first().alias(f"{figure} n"),
                pl.col("denominator").filter(pick).first().alias(f"{figure} of"),
            ]
        wide = kpi.group_by("region", "scope").agg(per_figure).sort("region", "scope")
        wide = wide.drop("scope") if scope_type == REGION else wide.rename({"scope": "dealer_code"})
        row = w.table(sheet, row, wide, {figure: w.percent for figure in DEALER_FIGURES})
    sheet.set_column(0, 1 + 3 * len(DEALER_FIGURES), 12)


def write_quality_report(con: duckdb.DuckDBPyConnection, period: Period, path: Path) -> Path:
    """The period's quality report as xlsx, from the marts (refresh them first); returns `path`.

    Sheets: KPIs against targets with arrows for the change; the last periods' trend per figure with
    its target line; critical-component failures by period; batch alerts; complaints by category;
    dissatisfied calls with the customer's words; data quality per dealer; regions and dealers.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    recent = chart_periods(period)
    with xlsx_written_whole(path) as workbook:
        w = _Writer(workbook)
        _kpi_sheet(w, con, period)
        _trend_sheet(w, con, period, recent)
        _component_sheet(w, con, period, recent)
        _alert_sheet(w, con, period)
        _complaint_sheet(w, con, period)
        _dissatisfied_sheet(w, con, period)
        _data_quality_sheet(w, con, period)
        _dealer_sheet(w, con, period)
    return path


def report_path(exports_dir: Path, period: Period) -> Path:
    """Where a period's report goes by default: exports/quality/quality_2026-W47.xlsx."""
    return Path(exports_dir) / "quality" / f"quality_{period.label}.xlsx"


def refreshed_report(con: duckdb.DuckDBPyConnection, period: Period, path: Path, levels: AlertLevels) -> Path:
    """Refresh the period's marts (and its charts' periods not yet refreshed), then write its report."""
    refresh_for_report(con, period, levels)
    return write_quality_report(con, period, path)


def nightly_quality_reports(
    con: duckdb.DuckDBPyConnection, as_of: date, exports_dir: Path, levels: AlertLevels
) -> dict[Period, Path]:
    """The night's quality step: refresh this and last week, month and year; write the reports due.

    "Weekly report": on the first run of a week (month, year), last week's (month's, year's) report
    is written to exports/quality/ and recorded in mart.quality_reports, so it is written once.
    """
    refresh_summaries(con, nightly_periods(as_of), levels)
    written = {}
    for period in reports_due(con, as_of):
        written[period] = refreshed_report(con, period, report_path(exports_dir, period), levels)
        record_report(con, period, written[period])
    return written

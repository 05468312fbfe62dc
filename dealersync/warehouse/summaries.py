"""Refresh the quality-summary marts of the warehouse for given periods, each refresh in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl

from dealersync.schemas.contract import DEALER, SHEETS, SOURCES
from dealersync.settings import Settings
from dealersync.transforms.batch_alerts import WATCH_SCHEMA, AlertLevels, failure_watch
from dealersync.transforms.quality_summary import (
    FIGURES,
    KPI_COLUMNS,
    PERIOD_TYPES,
    WEEK,
    Period,
    chart_periods,
    data_quality_rules,
    dissatisfied_calls,
    quality_kpis,
    summary_facts,
    with_previous,
)
from dealersync.warehouse.db import transaction

# Sheet kinds with a raw.<kind> table, and those whose rows name a dealer. A dealer's data quality is
# that of the sheets it sends: a parts-warehouse row naming the dealer it shipped to is the warehouse's.
RAW_KINDS = tuple(SHEETS)
RAW_WITH_DEALER = tuple(kind for kind, sheet in SHEETS.items() if "dealer_code" in sheet.names)
DEALERS_OWN = SOURCES[DEALER]


def alert_levels(settings: Settings) -> AlertLevels:
    """The batch-defect watch's thresholds from the settings."""
    return AlertLevels(
        red_q=settings.alert_red_q,
        amber_q=settings.alert_amber_q,
        min_failures=settings.alert_min_failures,
        min_ratio=settings.alert_min_ratio,
        service_months=settings.alert_service_months,
        window_weeks=settings.alert_window_weeks,
        baseline_weeks=settings.alert_baseline_weeks,
    )


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pl.LazyFrame:
    return con.sql(sql, params=params or []).pl().lazy()


def _received_rows_sql() -> str:
    """Rows read, warned and rejected per dealer and run day, as each run counted them (etl.file_sheets).

    A quarantine entry keeps only the run that saw its problem last, so a past run's counts come from
    etl.file_sheets. A sheet of a dealer's own kinds counts for the dealer most of its rows name (its
    rows are all counted together, so a dealer never has more rows rejected than received); any other
    sheet counts for the company only. Raw rows are stored once per content, under the run that first
    loaded it: the owner is the content's, whichever run read it (run --force reads it again).
    """
    dealer = "NULLIF(upper(trim(dealer_code)), '')"
    named = [
        f"SELECT file_sha256, sheet, {dealer} AS dealer_code FROM raw.{kind} SEMI JOIN contents USING (file_sha256)"
        for kind in DEALERS_OWN
    ]
    return f"""
        WITH runs AS (SELECT run_id, as_of FROM etl.runs WHERE as_of BETWEEN ? AND ?),
        contents AS (SELECT DISTINCT file_sha256 FROM etl.file_sheets JOIN runs USING (run_id)),
        named AS ({" UNION ALL ".join(named)}),
        owners AS (
            SELECT file_sha256, sheet, first(dealer_code ORDER BY rows DESC, dealer_code) AS dealer_code
            FROM (SELECT file_sha256, sheet, dealer_code, count(*) AS rows FROM named
                  WHERE dealer_code IS NOT NULL GROUP BY ALL)
            GROUP BY ALL
        )
        SELECT o.dealer_code, runs.as_of AS day, sum(s.rows_read)::BIGINT AS rows,
               sum(s.rows_warned)::BIGINT AS warned, sum(s.rows_rejected)::BIGINT AS rejected
        FROM etl.file_sheets AS s JOIN runs USING (run_id) LEFT JOIN owners AS o USING (file_sha256, sheet)
        WHERE s.kind IS NOT NULL
        GROUP BY ALL
    """


PROBLEM_ROWS_SQL = f"""
SELECT CASE WHEN q.kind IN ({", ".join(f"'{kind}'" for kind in DEALERS_OWN)}) THEN NULLIF(q.dealer_code, '') END
           AS dealer_code, runs.as_of AS day, q.severity, q.rule,
       q.file_sha256, q.sheet, q.excel_row::BIGINT AS excel_row
FROM quarantine.entries AS q JOIN etl.runs AS runs USING (run_id)
WHERE runs.as_of BETWEEN ? AND ?
"""


def summary_inputs(
    con: duckdb.DuckDBPyConnection, first_day: date, last_day: date
) -> dict[str, pl.LazyFrame]:
    """The core and quarantine rows the summaries of days `first_day`..`last_day` need, as LazyFrames."""
    window = [first_day - timedelta(days=7), last_day]
    days = [first_day, last_day]
    return {
        "visits": _frame(
            con,
            "SELECT dealer_code, work_order_no, intake_date, pickup_date, visit_type, under_warranty "
            "FROM core.service_visits WHERE coalesce(pickup_date, intake_date) BETWEEN ? AND ?",
            window,
        ),
        "calls": _frame(
            con,
            "SELECT dealer_code, call_id, call_time, call_type, customer_id, work_order_no, staff, outcome, "
            "satisfaction, customer_request, needs_action, notes FROM core.follow_up_calls "
            "WHERE (call_time >= ? AND call_time < ?) OR (call_type = 'first_follow_up' AND outcome = 'reached')",
            [first_day, last_day + timedelta(days=1)],
        ),
        "complaints": _frame(
            con,
            "SELECT dealer_code, complaint_id, received_date, category, escalated_date, resolved_date "
            "FROM core.complaints WHERE received_date <= ?",
            [last_day],
        ),
        "shipments": _frame(
            con,
            "SELECT shipment_line_id, dealer_code, ship_date, shipped_correct, error_type "
            "FROM core.part_shipments WHERE ship_date BETWEEN ? AND ?",
            days,
        ),
        "failures": _frame(
            con,
            "SELECT feedback_id, report_date, dealer_code, vin, part_no, component, batch_no "
            "FROM core.part_failures WHERE report_date <= ?",
            [last_day],
        ),
        "parts": _frame(con, "SELECT part_no, component, critical FROM core.parts"),
        "batches": _frame(con, "SELECT part_no, batch_no, production_date, quantity FROM core.part_batches"),
        "dealers": _frame(con, "SELECT dealer_code, region, active FROM core.dealers_current"),
        "received_rows": _frame(con, _received_rows_sql(), days),
        "problem_rows": _frame(con, PROBLEM_ROWS_SQL, days),
    }


def _replace(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, where: str, keys: list) -> None:
    con.execute(f"DELETE FROM {table} WHERE {where}", keys)
    if frame.height:
        con.register("refreshed_rows", frame)
        try:
            columns = ", ".join(frame.columns)
            con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM refreshed_rows")
        finally:
            con.unregister("refreshed_rows")


def refresh_summaries(
    con: duckdb.DuckDBPyConnection, periods: Sequence[Period], levels: AlertLevels
) -> dict[str, int]:
    """Recompute the marts of the periods and replace their rows, all in one transaction.

    Writes mart.quality_kpi, mart.dissatisfied_calls and mart.data_quality_rules for every period, and
    mart.failure_watch for every week among them; mart.quality_figures from the code. Returns the rows
    written per table.
    """
    periods = list(dict.fromkeys(periods))
    computed = with_previous(periods)
    inputs = summary_inputs(con, min(p.start for p in computed), max(p.end for p in periods))
    facts = summary_facts(
        inputs["visits"],
        inputs["calls"],
        inputs["complaints"],
        inputs["shipments"],
        inputs["failures"],
        inputs["parts"],
        inputs["received_rows"],
        periods,
    )
    bounds = pl.DataFrame(
        {
            "period_type": [p.type for p in periods],
            "period": [p.label for p in periods],
            "period_start": [p.start for p in periods],
            "period_end": [p.end for p in periods],
        }
    )
    now = datetime.now().astimezone()
    stamp = pl.lit(now).alias("refreshed_at")
    kpi = (
        quality_kpis(facts, inputs["dealers"], periods)
        .join(bounds.lazy(), on=["period_type", "period"])
        .select(*KPI_COLUMNS, "period_start", "period_end", stamp)
        .collect()
    )
    calls = dissatisfied_calls(inputs["calls"], inputs["dealers"], periods).with_columns(stamp).collect()
    rules = (
        data_quality_rules(inputs["problem_rows"], inputs["dealers"], periods).with_columns(stamp).collect()
    )
    weeks = [p for p in periods if p.type == WEEK]
    watch = pl.concat(
        [pl.DataFrame(schema=WATCH_SCHEMA)]
        + [
            failure_watch(inputs["failures"], inputs["parts"], inputs["batches"], week, levels)
            for week in weeks
        ]
    ).with_columns(pl.lit(now).alias("refreshed_at"))
    figures = pl.DataFrame(
        [(f.name, f.label, f.kind, f.target, f.breakdown, f.definition) for f in FIGURES.values()],
        schema=["figure", "label", "kind", "target", "breakdown", "definition"],
        orient="row",
    )
    with transaction(con):
        for period in periods:
            key = [period.type, period.label]
            _replace(con, "mart.quality_kpi", kpi.filter(_is(period)), "period_type = ? AND period = ?", key)
            _replace(
                con,
                "mart.dissatisfied_calls",
                calls.filter(_is(period)),
                "period_type = ? AND period = ?",
                key,
            )
            _replace(
                con,
                "mart.data_quality_rules",
                rules.filter(_is(period)),
                "period_type = ? AND period = ?",
                key,
            )
        for week in weeks:
            _replace(
                con,
                "mart.failure_watch",
                watch.filter(pl.col("week") == week.label),
                "week = ?",
                [week.label],
            )
        _replace(con, "mart.quality_figures", figures, "true", [])
    return {
        "mart.quality_kpi": kpi.height,
        "mart.dissatisfied_calls": calls.height,
        "mart.data_quality_rules": rules.height,
        "mart.failure_watch": watch.height,
    }


def _is(period: Period) -> pl.Expr:
    return (pl.col("period_type") == period.type) & (pl.col("period") == period.label)


def refreshed_periods(con: duckdb.DuckDBPyConnection, periods: Sequence[Period]) -> set[Period]:
    """Those of the periods that have rows in mart.quality_kpi."""
    labels = {(p.type, p.label): p for p in periods}
    found = con.execute("SELECT DISTINCT period_type, period FROM mart.quality_kpi").fetchall()
    return {labels[key] for key in found if key in labels}


def nightly_periods(as_of: date) -> list[Period]:
    """What a night refreshes: the week, month and year holding `as_of`, and the one before each.

    The period before is refreshed too because calls and files for it keep arriving after it ends.
    """
    current = [Period.containing(period_type, as_of) for period_type in PERIOD_TYPES]
    return with_previous(current)


def refresh_for_report(con: duckdb.DuckDBPyConnection, period: Period, levels: AlertLevels) -> list[Period]:
    """Refresh the period and the one before; the chart periods and weeks (batch alerts) not yet refreshed.

    The period before is always recomputed: the report shows it twice (the KPIs' previous value, computed
    afresh, and the trend's last but one point), and both must say the same. Returns the periods
    refreshed, the report's own first.
    """
    own = [period, period.previous()]
    others = [p for p in (*chart_periods(period)[:-1], *period.weeks()) if p not in own]
    stale = [*own, *(p for p in others if p not in refreshed_periods(con, others))]
    refresh_summaries(con, stale, levels)
    return stale


def reports_due(con: duckdb.DuckDBPyConnection, as_of: date) -> list[Period]:
    """Finished periods whose report has not been written: last week, month and year as of `as_of`.

    "The weekly report": on the first run of a week, last week's report is written (likewise months and
    years); a period whose report is recorded in mart.quality_reports is not written again. A period
    finished since the last report of its type and missed (no night ran while it was the last one) is
    written too, oldest first.
    """
    written = set(con.execute("SELECT DISTINCT period_type, period FROM mart.quality_reports").fetchall())
    due = []
    for period_type in PERIOD_TYPES:
        starts = [Period.parse(label).start for kind, label in written if kind == period_type]
        last_written = max(starts, default=None)
        period, missed = Period.containing(period_type, as_of).previous(), []
        while (period.type, period.label) not in written:
            missed.append(period)
            period = period.previous()
            if last_written is None or period.start <= last_written:
                break
        due += missed[::-1]
    return due


def record_report(con: duckdb.DuckDBPyConnection, period: Period, path: Path) -> None:
    """Remember that the report of `period` was written to `path`."""
    con.execute(
        "INSERT INTO mart.quality_reports (period_type, period, path, written_at) VALUES (?, ?, ?, now())",
        [period.type, period.label, str(path)],
    )

"""Read-only queries behind the service-desk portal: due lists, quality figures, steward files and runs.

Every value a caller passes reaches DuckDB as a bound parameter; callers narrow what they read with
`dealers` (a list of dealer codes) or `region`, and None means no narrowing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import duckdb
import polars as pl

from dealersync.transforms.due_list import dealers_on_sql, due_list_sql
from dealersync.warehouse.db import applied_migrations, migrations
from dealersync.warehouse.due_lists import COLUMNS, WORK_ORDER, due_list_computed_at
from dealersync.warehouse.summaries import RAW_WITH_DEALER


def outdated(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse lacks a migration this code ships: made by an older version (or empty), it
    misses tables or columns the pages read until the next night migrates it (the page is read-only)."""
    return not {m.version for m in migrations()} <= applied_migrations(con).keys()


# --- due lists -------------------------------------------------------------------------------------


def stored_due_list_days(con: duckdb.DuckDBPyConnection, limit: int = 90) -> list[date]:
    """Days whose due list is stored in mart.due_list, newest first."""
    return [
        day
        for (day,) in con.execute(
            "SELECT as_of FROM mart.due_list_days ORDER BY as_of DESC LIMIT ?", [limit]
        ).fetchall()
    ]


def _items_source(con: duckdb.DuckDBPyConnection, day: date, maintenance_lead_days: int) -> str:
    """The relation of the day's items: the stored rows, or the list computed now from the core tables."""
    if due_list_computed_at(con, day) is not None:
        return "(SELECT * FROM mart.due_list WHERE as_of = $day)"
    return f"(SELECT * FROM ({due_list_sql(day, maintenance_lead_days)}) WHERE as_of = $day)"


def due_list_rows(
    con: duckdb.DuckDBPyConnection,
    day: date,
    maintenance_lead_days: int,
    *,
    dealers: Sequence[str] | None = None,
    region: str | None = None,
    kind: str | None = None,
    status: str | None = None,
) -> pl.DataFrame:
    """The items of `day` in the order the desk works them (stored, or computed now for a day never stored).

    Narrowed to `dealers` and/or `region` (the dealer's region on that day) and to one kind or status.
    """
    return con.sql(
        f"""
        SELECT {COLUMNS} FROM {_items_source(con, day, maintenance_lead_days)}
        WHERE ($dealers IS NULL OR list_contains($dealers, dealer_code))
          AND ($region IS NULL OR region = $region)
          AND ($kind IS NULL OR kind = $kind)
          AND ($status IS NULL OR status = $status)
        ORDER BY {WORK_ORDER}
        """,
        params={
            "day": day,
            "dealers": None if dealers is None else list(dealers),
            "region": region,
            "kind": kind,
            "status": status,
        },
    ).pl()


def due_list_counts(
    con: duckdb.DuckDBPyConnection,
    day: date,
    maintenance_lead_days: int,
    *,
    dealers: Sequence[str] | None = None,
    region: str | None = None,
) -> pl.DataFrame:
    """Per dealer: region, name, items per kind, overdue, high priority and unreachable items of `day`.

    Every dealer of the scope active on `day` (in its region of that day) is listed, with zeros when
    nothing is due (an empty row says "nothing to do", a missing one would say nothing).
    """
    return con.sql(
        f"""
        WITH items AS (
            SELECT * FROM {_items_source(con, day, maintenance_lead_days)}
            WHERE ($dealers IS NULL OR list_contains($dealers, dealer_code))
              AND ($region IS NULL OR region = $region)
        ),
        scope_dealers AS (
            SELECT DISTINCT dealer_code, dealer_name, region FROM items
            UNION ALL
            SELECT dealer_code, name, region FROM ({dealers_on_sql(day)})
            WHERE coalesce(active, true)
              AND ($dealers IS NULL OR list_contains($dealers, dealer_code))
              AND ($region IS NULL OR region = $region)
              AND dealer_code NOT IN (SELECT dealer_code FROM items)
        )
        SELECT d.region, d.dealer_code, any_value(d.dealer_name) AS dealer_name,
               count(i.kind)::BIGINT AS items,
               count(i.kind) FILTER (i.status = 'overdue')::BIGINT AS overdue,
               count(i.kind) FILTER (i.priority = 'high')::BIGINT AS high,
               count(i.kind) FILTER (i.contact_problem IS NOT NULL)::BIGINT AS unreachable,
               count(i.kind) FILTER (i.kind = 'first_follow_up')::BIGINT AS first_follow_up,
               count(i.kind) FILTER (i.kind = 'second_follow_up')::BIGINT AS second_follow_up,
               count(i.kind) FILTER (i.kind = 'maintenance_reminder')::BIGINT AS maintenance_reminder,
               count(i.kind) FILTER (i.kind = 'campaign_call')::BIGINT AS campaign_call,
               count(i.kind) FILTER (i.kind = 'campaign_letter')::BIGINT AS campaign_letter,
               count(i.kind) FILTER (i.kind = 'complaint_escalation')::BIGINT AS complaint_escalation,
               count(i.kind) FILTER (i.kind = 'complaint_callback')::BIGINT AS complaint_callback,
               count(i.kind) FILTER (i.kind = 'customer_file')::BIGINT AS customer_file
        FROM scope_dealers AS d
        LEFT JOIN items AS i ON i.dealer_code = d.dealer_code AND i.region IS NOT DISTINCT FROM d.region
        GROUP BY d.region, d.dealer_code
        ORDER BY d.region NULLS LAST, d.dealer_code
        """,
        params={
            "day": day,
            "dealers": None if dealers is None else list(dealers),
            "region": region,
        },
    ).pl()


# --- dealers and regions ---------------------------------------------------------------------------


def dealers_of_region(con: duckdb.DuckDBPyConnection, region: str) -> list[str]:
    """Codes of the dealers whose current version is in `region`."""
    return [
        code
        for (code,) in con.execute(
            "SELECT dealer_code FROM core.dealers_current WHERE region = ? ORDER BY dealer_code", [region]
        ).fetchall()
    ]


def active_dealers_of_region(con: duckdb.DuckDBPyConnection, region: str, day: date) -> list[tuple[str, str]]:
    """(dealer_code, name) of the dealers active and in `region` on `day` (the region's file of that day lists them)."""
    return con.execute(
        f"SELECT dealer_code, name FROM ({dealers_on_sql(day)}) WHERE region = ? AND coalesce(active, true) "
        "ORDER BY dealer_code",
        [region],
    ).fetchall()


def known_dealer(con: duckdb.DuckDBPyConnection, dealer: str) -> bool:
    """Whether any version of the dealer is known."""
    return (
        con.execute("SELECT count(*) FROM core.dealers WHERE dealer_code = ?", [dealer]).fetchall()[0][0] > 0
    )


def known_region(con: duckdb.DuckDBPyConnection, region: str) -> bool:
    """Whether any dealer (any version) is in the region."""
    return con.execute("SELECT count(*) FROM core.dealers WHERE region = ?", [region]).fetchall()[0][0] > 0


def regions(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The regions of the current dealers, sorted."""
    return [
        r for (r,) in con.execute("SELECT DISTINCT region FROM core.dealers_current ORDER BY 1").fetchall()
    ]


# --- quality summaries -----------------------------------------------------------------------------


def kpi_rows(
    con: duckdb.DuckDBPyConnection, period_type: str, periods: Sequence[str], scope_type: str, scope: str
) -> pl.DataFrame:
    """mart.quality_kpi rows of the periods for one scope (company `all`, a region or a dealer)."""
    return con.sql(
        "SELECT period, figure, item, numerator, denominator, value, target, previous_value, change "
        "FROM mart.quality_kpi WHERE period_type = ? AND list_contains(?, period) AND scope_type = ? AND scope = ? "
        "ORDER BY period, figure, item",
        params=[period_type, list(periods), scope_type, scope],
    ).pl()


def quality_periods(con: duckdb.DuckDBPyConnection, period_type: str, limit: int = 60) -> list[str]:
    """Labels of the periods of a type that have figures, newest first."""
    return [
        p
        for (p,) in con.execute(
            "SELECT DISTINCT period FROM mart.quality_kpi WHERE period_type = ? ORDER BY period DESC LIMIT ?",
            [period_type, limit],
        ).fetchall()
    ]


def batch_alerts(
    con: duckdb.DuckDBPyConnection, weeks: Sequence[str], dealers: Sequence[str] | None = None
) -> pl.DataFrame:
    """Red and amber alerts of the weeks, red first; with `dealers`, only alerts those dealers reported in."""
    return con.sql(
        """
        SELECT week, level, test, component, part_no, batch_no, window_start, window_end, observed,
               expected, ratio, q_value, dealers, vins
        FROM mart.batch_alerts
        WHERE list_contains($weeks, week)
          AND ($dealers IS NULL OR len(list_intersect(dealers, $dealers)) > 0)
        ORDER BY week DESC, CASE level WHEN 'red' THEN 0 ELSE 1 END, q_value, component, part_no, batch_no
        """,
        params={"weeks": list(weeks), "dealers": None if dealers is None else list(dealers)},
    ).pl()


def quality_report_paths(con: duckdb.DuckDBPyConnection, period_type: str, period: str) -> list[str]:
    """Paths recorded in mart.quality_reports for the period, latest first."""
    return [
        path
        for (path,) in con.execute(
            "SELECT path FROM mart.quality_reports WHERE period_type = ? AND period = ? ORDER BY written_at DESC",
            [period_type, period],
        ).fetchall()
    ]


# --- files, problems and runs ----------------------------------------------------------------------


def file_dealers(con: duckdb.DuckDBPyConnection, hashes: Sequence[str]) -> dict[str, list[str]]:
    """File sha256 -> the dealer codes its rows name (raw rows and quarantine entries), sorted."""
    if not hashes:
        return {}
    dealer = "NULLIF(upper(trim(dealer_code)), '')"
    parts = [
        f"SELECT file_sha256, {dealer} AS dealer_code FROM raw.{kind} WHERE list_contains($hashes, file_sha256)"
        for kind in RAW_WITH_DEALER
    ]
    parts.append(
        "SELECT file_sha256, NULLIF(dealer_code, '') FROM quarantine.entries WHERE list_contains($hashes, file_sha256)"
    )
    rows = con.execute(
        f"SELECT file_sha256, list(DISTINCT dealer_code ORDER BY dealer_code) FILTER (dealer_code IS NOT NULL) "
        f"FROM ({' UNION ALL '.join(parts)}) GROUP BY 1",
        {"hashes": list(hashes)},
    ).fetchall()
    found = {sha: sorted(codes or []) for sha, codes in rows}
    return {sha: found.get(sha, []) for sha in hashes}


def files_with_problems(
    con: duckdb.DuckDBPyConnection, dealers: Sequence[str] | None = None, limit: int = 200
) -> pl.DataFrame:
    """The latest record of each file (by content) that was refused, failed, or had rows rejected or warned.

    With the run's as-of day and the entries of the file still open. Newest first; given `dealers`, only
    the files whose rows name one of them (as file_dealers), the newest `limit` of those.
    """
    named = " UNION ALL ".join(
        [
            *(
                f"SELECT file_sha256, upper(trim(dealer_code)) AS dealer_code FROM raw.{kind}"
                for kind in RAW_WITH_DEALER
            ),
            "SELECT file_sha256, dealer_code FROM quarantine.entries",
        ]
    )
    return con.sql(
        f"""
        WITH latest AS (
            SELECT f.*, r.as_of
            FROM etl.files AS f JOIN etl.runs AS r USING (run_id)
            WHERE (f.status IN ('refused', 'failed') OR f.rows_rejected > 0 OR f.rows_warned > 0)
              AND ($dealers IS NULL
                   OR f.sha256 IN (SELECT file_sha256 FROM ({named}) WHERE list_contains($dealers, dealer_code)))
            QUALIFY row_number() OVER (PARTITION BY f.sha256 ORDER BY f.processed_at DESC) = 1
        ),
        open_entries AS (
            SELECT file_sha256,
                   count(*) FILTER (severity = 'rejected' AND resolved_at IS NULL) AS open_rejected,
                   count(*) FILTER (severity = 'warning' AND resolved_at IS NULL) AS open_warnings
            FROM quarantine.entries GROUP BY 1
        )
        SELECT l.run_id, l.as_of, l.file_name, l.sha256, l.source, l.status, l.reason, l.rows_read,
               l.rows_loaded, l.rows_warned, l.rows_rejected, l.processed_at,
               coalesce(o.open_rejected, 0)::BIGINT AS open_rejected,
               coalesce(o.open_warnings, 0)::BIGINT AS open_warnings
        FROM latest AS l LEFT JOIN open_entries AS o ON o.file_sha256 = l.sha256
        ORDER BY l.processed_at DESC, l.file_name
        LIMIT $limit
        """,
        params={"dealers": None if dealers is None else list(dealers), "limit": limit},
    ).pl()


def file_record(con: duckdb.DuckDBPyConnection, sha256: str) -> dict | None:
    """The latest etl.files record of a file content, with its run's as-of day; None when unknown."""
    relation = con.sql(
        "SELECT f.*, r.as_of FROM etl.files AS f JOIN etl.runs AS r USING (run_id) WHERE f.sha256 = ? "
        "ORDER BY f.processed_at DESC LIMIT 1",
        params=[sha256],
    )
    rows = relation.fetchall()
    return dict(zip(relation.columns, rows[0], strict=True)) if rows else None


def file_sheets(con: duckdb.DuckDBPyConnection, sha256: str) -> pl.DataFrame:
    """The sheets of a loaded file as the reader found them (etl.file_sheets)."""
    return con.sql(
        "SELECT sheet, kind, header_row, rows_read, rows_loaded, rows_warned, rows_rejected, blank_rows, "
        "total_rows, coalesce(title_rows, 0) AS title_rows, skipped_reason FROM etl.file_sheets "
        "WHERE file_sha256 = ? "
        "QUALIFY row_number() OVER (PARTITION BY sheet ORDER BY run_id DESC) = 1 ORDER BY sheet",
        params=[sha256],
    ).pl()


def file_problems(
    con: duckdb.DuckDBPyConnection, sha256: str, dealers: Sequence[str] | None = None, limit: int = 2000
) -> pl.DataFrame:
    """Quarantine entries last seen in a file (open and resolved), by sheet and row; narrowed to `dealers`."""
    return con.sql(
        """
        SELECT entry_id, severity, dealer_code, sheet, excel_row, column_name, cell_value, rule, message,
               message_zh, resolved_at
        FROM quarantine.entries
        WHERE file_sha256 = $sha AND ($dealers IS NULL OR list_contains($dealers, dealer_code))
        ORDER BY sheet, excel_row, column_name, rule
        LIMIT $limit
        """,
        params={"sha": sha256, "dealers": None if dealers is None else list(dealers), "limit": limit},
    ).pl()


def recent_runs(con: duckdb.DuckDBPyConnection, limit: int = 20) -> pl.DataFrame:
    """The last runs, newest first."""
    return con.sql(
        "SELECT run_id, started_at, finished_at, as_of, status, files_seen, files_loaded, files_refused, "
        "files_skipped, files_failed, rows_read, rows_loaded, rows_warned, rows_rejected, error "
        "FROM etl.runs ORDER BY run_id DESC LIMIT ?",
        params=[limit],
    ).pl()


def run_files(con: duckdb.DuckDBPyConnection, run_ids: Sequence[int]) -> pl.DataFrame:
    """The files of the runs with their per-file results (etl.files), in the order they were processed."""
    return con.sql(
        "SELECT run_id, file_name, sha256, source, status, reason, rows_read, rows_loaded, rows_warned, "
        "rows_rejected, seconds, processed_at FROM etl.files WHERE list_contains(?, run_id) "
        "ORDER BY run_id DESC, processed_at, file_name",
        params=[list(run_ids)],
    ).pl()

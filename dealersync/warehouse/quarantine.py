"""What stewards have to fix: the quarantine entries (rejections and warnings), oldest first."""

from __future__ import annotations

import duckdb
import polars as pl

from dealersync.warehouse.db import transaction
from dealersync.warehouse.summaries import DEALERS_OWN


def open_entries(
    con: duckdb.DuckDBPyConnection,
    dealer: str | None = None,
    only_open: bool = True,
    *,
    file_name: str | None = None,
) -> pl.DataFrame:
    """Quarantine entries, oldest first, with the days each has been open (until now, or until resolved).

    `dealer` keeps one dealer's entries: those naming it, and those of its files that name no known
    dealer (a mistyped or blank dealer code: the dealer who sent the file has to fix it). A dealer
    workbook is the dealer's whose code most of its rows carry (the smallest code on a tie), as for its
    steward copy (exports.steward.file_owner); the parts warehouse's and head office's are nobody's. `only_open=False` adds the
    resolved ones; `file_name` keeps the entries last seen in one file.
    """
    dealer_rows = " UNION ALL ".join(
        f"SELECT file_sha256, upper(trim(dealer_code)) AS dealer_code FROM raw.{kind} "
        "WHERE file_sha256 IN (SELECT file_sha256 FROM unowned)"
        for kind in DEALERS_OWN
    )
    return con.sql(
        f"""
        WITH unowned AS (
            SELECT DISTINCT file_sha256 FROM quarantine.entries AS e
            WHERE $dealer IS NOT NULL
              AND (e.dealer_code IS NULL OR e.dealer_code NOT IN (SELECT dealer_code FROM core.dealers))
        ),
        owners AS (
            SELECT file_sha256, first(dealer_code ORDER BY rows DESC, dealer_code) AS owner
            FROM (SELECT file_sha256, dealer_code, count(*) AS rows FROM ({dealer_rows})
                  WHERE dealer_code <> '' GROUP BY ALL)
            GROUP BY ALL
        )
        SELECT entry_id, severity, dealer_code, file_name, sheet, excel_row, column_name, cell_value, rule,
               message, message_zh, kind, field, business_key, first_seen_at, last_seen_at, resolved_at,
               resolved_by_run, date_diff('day', first_seen_at, coalesce(resolved_at, now())) AS days_open
        FROM quarantine.entries AS e
        WHERE ($dealer IS NULL OR dealer_code = $dealer
               OR (file_sha256 IN (SELECT file_sha256 FROM unowned)
                   AND (dealer_code IS NULL OR dealer_code NOT IN (SELECT dealer_code FROM core.dealers))
                   AND file_sha256 IN (SELECT file_sha256 FROM owners WHERE owner = $dealer)))
          AND (NOT $only_open OR resolved_at IS NULL)
          AND ($file_name IS NULL OR file_name = $file_name)
        ORDER BY first_seen_at, entry_id
        """,
        params={"dealer": dealer, "only_open": only_open, "file_name": file_name},
    ).pl()


class UnknownEntries(ValueError):
    """Entry ids the quarantine never held (a typo): nothing is closed."""


def close_entries(con: duckdb.DuckDBPyConnection, entry_ids: list[int], dealer: str | None = None) -> int:
    """Close open entries by hand (e.g. a row whose key itself was wrong, sent again under the right key).

    They are resolved now, by no run; returns how many were open. Raises UnknownEntries, closing
    nothing, when an id is no entry at all, or, given a `dealer`, none of that dealer's (open_entries).
    """
    if not entry_ids:
        return 0
    if dealer is None:
        known = {
            entry_id
            for (entry_id,) in con.execute(
                "SELECT entry_id FROM quarantine.entries WHERE entry_id IN (SELECT unnest(?))",
                [list(entry_ids)],
            ).fetchall()
        }
    else:
        known = set(open_entries(con, dealer, only_open=False).get_column("entry_id").to_list())
    if unknown := sorted(set(entry_ids) - known):
        whose = f" of dealer {dealer}" if dealer else ""
        listing = f" --dealer {dealer}" if dealer else ""
        raise UnknownEntries(
            f"no quarantine entry {', '.join(map(str, unknown))}{whose}; nothing was closed. "
            f"`dealersync quarantine{listing} --all` lists the entries with their ids"
        )
    closed = 0
    with transaction(con):
        for table in ("quarantine.rejected_rows", "quarantine.warnings"):
            closed += con.execute(
                f"UPDATE {table} SET resolved_at = now() WHERE resolved_at IS NULL AND entry_id IN (SELECT unnest(?))",
                [list(entry_ids)],
            ).fetchall()[0][0]
    return closed

"""Compute a day's due list from the core tables and keep it in mart.due_list (one transaction per day)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from time import perf_counter

import duckdb
import polars as pl

from dealersync.transforms.due_list import (
    DUE_LIST_COLUMNS,
    KIND,
    STATE_SOURCES,
    campaign_pairs_sql,
    campaign_sources_sql,
    campaigns_sql,
    customer_vehicles_state_sql,
    dealers_on_sql,
    due_list_sql,
    stale_state_ctes,
    work_order_sources_sql,
    work_order_state_sql,
)
from dealersync.warehouse.db import transaction

COLUMNS = ", ".join(c.name for c in DUE_LIST_COLUMNS)

# The order the desk works a list in: by kind, overdue first, high priority first, oldest first.
WORK_ORDER = (
    "list_position([" + ", ".join(f"'{k}'" for k in KIND.codes) + "], kind), "
    "status = 'overdue' DESC, priority = 'high' DESC, due_date, dealer_code, customer_id, ref"
)


@contextmanager
def unordered(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Let DuckDB give a query's rows in any order while in the block (preserve_insertion_order off).

    A due list is stored, and every reader sorts it (WORK_ORDER), so the order DuckDB produces it in is of
    no use; keeping it makes the joins and the result hand their rows over in sequence (about a tenth of
    the day's query). The setting is the database's: the one writer sets it around its own work and puts
    back what was there (outside any transaction: an aborted one takes no SET).
    """
    before = con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0]
    con.execute("SET preserve_insertion_order = false")
    try:
        yield con
    finally:
        con.execute(f"SET preserve_insertion_order = {'true' if before else 'false'}")


# The refresh appends the work orders it recomputes; once those are more than a fifth of mart.due_work_orders,
# it writes the table whole again in open_through order (a few seconds for a million work orders).
SORTED_SHARE = 5


def _write_in_open_through_order(con: duckdb.DuckDBPyConnection) -> None:
    """Write mart.due_work_orders whole again in open_through order, within the caller's transaction.

    A day's list reads the rows with open_through on or after its day. DuckDB keeps each column's min and
    max per block of rows and skips the blocks that cannot match, so in that order the rows long closed,
    most of them, are not read. The rows appended by each refresh come after, in no such order.
    """
    con.execute("CREATE OR REPLACE TEMP TABLE due_work_orders_whole AS SELECT * FROM mart.due_work_orders")
    con.execute("DELETE FROM mart.due_work_orders")
    con.execute("INSERT INTO mart.due_work_orders SELECT * FROM due_work_orders_whole ORDER BY open_through")
    con.execute("DROP TABLE due_work_orders_whole")


def refresh_due_state(con: duckdb.DuckDBPyConnection, as_of: date) -> int:
    """Bring the due lists' state (mart.due_work_orders, mart.due_customer_vehicles, mart.due_campaign_pairs)
    up to date with core for the lists from `as_of` on; return the number of work orders recomputed.

    Only the work orders, customers and campaigns stale since the last refresh are recomputed
    (transforms.due_list stale_state_ctes: the rows written since, by their lineage), or all of them
    when the state cannot be trusted. The campaign state holds the campaigns ending on or after `as_of`:
    those newly held, or written since, are computed for every customer. One transaction; the marks of
    what was seen are kept in mart.due_work_orders_refresh. A day's list is right without it (the query
    recomputes what is stale on the spot), only slower.
    """
    with transaction(con):
        return _refresh(con, as_of)


def _refresh(con: duckdb.DuckDBPyConnection, as_of: date) -> int:
    """refresh_due_state's work, within the caller's transaction."""
    started = perf_counter()
    day = f"DATE '{as_of.isoformat()}'"
    # the stale work orders, customers and campaigns, found in one pass over what was written since the marks
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE due_stale AS WITH {stale_state_ctes()} "
        "SELECT r.rebuild, k.dealer_code, k.work_order_no, NULL::VARCHAR AS customer_id, "
        "NULL::VARCHAR AS campaign_customer_id, NULL::VARCHAR AS campaign_id "
        "FROM state_rebuild AS r LEFT JOIN stale_work_orders AS k ON true "
        "UNION ALL SELECT NULL, dealer_code, NULL, customer_id, NULL, NULL FROM stale_customers "
        "UNION ALL SELECT NULL, dealer_code, NULL, NULL, customer_id, NULL FROM stale_campaign_customers "
        "UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, campaign_id FROM changed_campaigns"
    )
    work_orders = "(SELECT dealer_code, work_order_no FROM due_stale WHERE work_order_no IS NOT NULL)"
    customers = "(SELECT dealer_code, customer_id FROM due_stale WHERE customer_id IS NOT NULL)"
    campaign_customers = (
        "(SELECT dealer_code, campaign_customer_id AS customer_id FROM due_stale "
        "WHERE campaign_customer_id IS NOT NULL)"
    )
    stale, rebuild = con.execute("SELECT count(work_order_no), bool_or(rebuild) FROM due_stale").fetchall()[0]
    held_from, unsorted = con.execute(
        "SELECT max(campaigns_from), max(work_orders_unsorted) FROM mart.due_work_orders_refresh"
    ).fetchall()[0]
    # the campaigns held from now on, and those of them to compute for every customer
    held = f"({campaigns_sql(f'coalesce(end_date, start_date) >= {day}')})"
    whole = (
        "true"
        if rebuild or held_from is None
        else (
            f"end_date < DATE '{held_from.isoformat()}' "
            "OR campaign_id IN (SELECT campaign_id FROM due_stale WHERE campaign_id IS NOT NULL)"
        )
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE due_whole_campaigns AS SELECT * FROM {held} WHERE {whole}")
    # each state table, with the stale keys whose rows go (None: every row goes)
    stale_rows = {
        "due_work_orders": (work_orders, "work_order_no"),
        "due_work_order_sources": (work_orders, "work_order_no"),
        "due_customer_vehicles": (customers, "customer_id"),
        "due_campaign_pairs": (campaign_customers, "customer_id"),
        "due_campaign_sources": (campaign_customers, "customer_id"),
    }
    for table, (keys, key) in stale_rows.items():
        if rebuild:
            con.execute(f"DELETE FROM mart.{table}")
            continue
        if table.startswith("due_campaign"):  # the campaigns no longer held, or to compute for every customer
            con.execute(
                f"DELETE FROM mart.{table} WHERE campaign_id NOT IN (SELECT campaign_id FROM {held}) "
                "OR campaign_id IN (SELECT campaign_id FROM due_whole_campaigns)"
            )
        con.execute(
            f"DELETE FROM mart.{table} AS s USING {keys} AS k "
            f"WHERE s.dealer_code = k.dealer_code AND s.{key} = k.{key}"
        )
    if stale:
        con.execute(
            f"INSERT INTO mart.due_work_orders BY NAME {work_order_state_sql(work_orders)} ORDER BY open_through"
        )
        con.execute(f"INSERT INTO mart.due_work_order_sources BY NAME {work_order_sources_sql(work_orders)}")
    unsorted = 0 if rebuild else (unsorted or 0) + stale
    if unsorted * SORTED_SHARE > con.execute("SELECT count(*) FROM mart.due_work_orders").fetchall()[0][0]:
        _write_in_open_through_order(con)
        unsorted = 0
    vehicles = (
        f"(SELECT * FROM core.vehicles AS ve SEMI JOIN {customers} AS k "
        "ON k.dealer_code = ve.dealer_code AND k.customer_id = ve.customer_id)"
    )
    con.execute(f"INSERT INTO mart.due_customer_vehicles BY NAME {customer_vehicles_state_sql(vehicles)}")
    # the campaign state: the stale customers for the campaigns held already, every customer for the others
    current = (
        "(SELECT * FROM core.customers WHERE valid_to IS NULL)",
        "(SELECT dealer_code, region FROM core.dealers WHERE valid_to IS NULL)",
        "mart.due_customer_vehicles",
    )
    for campaigns, scope in (
        (f"(SELECT * FROM {held} ANTI JOIN due_whole_campaigns USING (campaign_id))", campaign_customers),
        ("due_whole_campaigns", None),
    ):
        con.execute(
            f"INSERT INTO mart.due_campaign_pairs BY NAME {campaign_pairs_sql(*current, campaigns, scope)}"
        )
        con.execute(f"INSERT INTO mart.due_campaign_sources BY NAME {campaign_sources_sql(campaigns, scope)}")
    con.execute("DELETE FROM mart.due_work_orders_refresh")
    marks = ", ".join(
        f"(SELECT max(loaded_at) AS loaded_at, max(run_id) AS run_id, count(*) AS n FROM {table}) AS {name}"
        for name, (table, _) in STATE_SOURCES.items()
    )
    con.execute(
        f"""
        INSERT INTO mart.due_work_orders_refresh BY NAME
        SELECT now() AS refreshed_at,
               greatest({", ".join(f"{name}.loaded_at" for name in STATE_SOURCES)}) AS loaded_at_mark,
               greatest({", ".join(f"{name}.run_id" for name in STATE_SOURCES)}) AS run_id_mark,
               {", ".join(f"{name}.n AS {name}" for name in STATE_SOURCES)},
               ? AS work_orders_recomputed, version() AS duckdb_version, ? AS rebuilt, ? AS seconds,
               {day} AS campaigns_from, ? AS work_orders_unsorted
        FROM {marks}
        """,
        [stale, rebuild, perf_counter() - started, unsorted],
    )
    con.execute("DROP TABLE due_stale")
    con.execute("DROP TABLE due_whole_campaigns")
    return stale


def store_due_list(con: duckdb.DuckDBPyConnection, as_of: date, maintenance_lead_days: int) -> int:
    """Recompute the due list of `as_of` and replace that day's rows of mart.due_list; return its items.

    One transaction: the due lists' state is refreshed (refresh_due_state), so the list is computed from
    it without looking for anything stale; the day's old rows go, the new ones come, and
    mart.due_list_days records the day. A reader sees either the old list or the new one, and
    recomputing a day gives the same rows.
    """
    with unordered(con), transaction(con):
        _refresh(con, as_of)
        started = perf_counter()
        con.execute("DELETE FROM mart.due_list WHERE as_of = ?", [as_of])
        con.execute(
            f"INSERT INTO mart.due_list ({COLUMNS}, computed_at) "
            f"SELECT {COLUMNS}, now() FROM ({due_list_sql(as_of, maintenance_lead_days, fresh=True)})"
        )
        items = con.execute("SELECT count(*) FROM mart.due_list WHERE as_of = ?", [as_of]).fetchall()[0][0]
        con.execute(
            "INSERT OR REPLACE INTO mart.due_list_days (as_of, computed_at, items, seconds) "
            "VALUES (?, now(), ?, ?)",
            [as_of, items, perf_counter() - started],
        )
    return items


def due_list_items(
    con: duckdb.DuckDBPyConnection, as_of: date, dealer: str | None = None, region: str | None = None
) -> pl.DataFrame:
    """The stored items of `as_of`, of one dealer or one region when given, in the order the desk works them."""
    where, params = ["as_of = ?"], [as_of]
    if dealer is not None:
        where.append("dealer_code = ?")
        params.append(dealer.strip().upper())
    if region is not None:
        where.append("region = ?")
        params.append(region.strip())
    return con.sql(
        f"SELECT {COLUMNS} FROM mart.due_list WHERE {' AND '.join(where)} ORDER BY {WORK_ORDER}",
        params=params,
    ).pl()


def is_known_scope(
    con: duckdb.DuckDBPyConnection, dealer: str | None = None, region: str | None = None
) -> bool:
    """Whether the warehouse knows the dealer, or the region, a list is asked for (any version)."""
    if dealer is not None:
        sql = "SELECT count(*) FROM core.dealers WHERE dealer_code = ?"
        return con.execute(sql, [dealer.strip().upper()]).fetchall()[0][0] > 0
    if region is not None:
        return region_as_known(con, region) is not None
    return True


def region_as_known(con: duckdb.DuckDBPyConnection, region: str) -> str | None:
    """The region as the warehouse spells it, for one asked for in any case or with stray spaces; None if unknown.

    Regions are matched that way elsewhere too (a campaign's region against the dealers').
    """
    found = con.execute(
        "SELECT min(region) FROM core.dealers WHERE upper(trim(region)) = upper(trim(?))", [region]
    ).fetchall()
    return found[0][0]


def listed_dealers(con: duckdb.DuckDBPyConnection, as_of: date) -> list[tuple[str, str | None]]:
    """(dealer_code, region) of every dealer with an item in the stored list of `as_of`."""
    return con.execute(
        "SELECT DISTINCT dealer_code, region FROM mart.due_list WHERE as_of = ?", [as_of]
    ).fetchall()


def due_list_computed_at(con: duckdb.DuckDBPyConnection, as_of: date) -> datetime | None:
    """When the stored due list of `as_of` was computed; None when the day was never computed."""
    found = con.execute("SELECT computed_at FROM mart.due_list_days WHERE as_of = ?", [as_of]).fetchall()
    return found[0][0] if found else None


def active_dealers(con: duckdb.DuckDBPyConnection, as_of: date) -> list[tuple[str, str, str]]:
    """(dealer_code, name, region) of every dealer active on `as_of` (blank counts as active), in its region of that day."""
    return con.execute(
        f"SELECT dealer_code, name, region FROM ({dealers_on_sql(as_of)}) WHERE coalesce(active, true) "
        "ORDER BY dealer_code"
    ).fetchall()

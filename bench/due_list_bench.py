"""Benchmark: the due list of one day over 1M service visits with their calls (target ≤ 0.5 s).

Builds the core tables directly in a temporary warehouse file (the real migrations, no xlsx) at realistic
ratios: 1,000 dealers, 300k customers, 330k vehicles, 1M visits over two years, their first and
second follow-up calls with unreached attempts and a small never-reached backlog, maintenance
reminders, 10k complaints, 21 campaigns (mostly regional) with notice calls and letters.

The day's query reads the follow-up state of the work orders (mart.due_work_orders), the vehicle each
customer's campaign calls show (mart.due_customer_vehicles) and the campaign state per customer and
campaign (mart.due_campaign_pairs), which store_due_list refreshes in the list's transaction. So the
benchmark times, each
with wall seconds and the CPU seconds of the process (the machine is shared: the load average is printed
beside them):

1. building the state from scratch (once, when the migration arrives);
2. then, for each of a few nights: a checkpoint (the nightly flow's backup takes one before loading),
   the loader's work of a night (1% of the calls new or changed, new and corrected visits; not timed,
   it is the loader's), the refresh of the state after it, and the
   day's list computed with the state refreshed, as store_due_list computes it in the refresh's
   transaction (best of a few runs; the target is for each night);
3. the day's list as the web page computes a day never stored: looking for what was written since the
   refresh, with the state refreshed and with it left stale by a night (it recomputes the stale work
   orders, customers and campaigns on the spot: right, only slower); and computing and storing the
   list in mart.due_list;
4. with --files, the night's files: every dealer's and every region's xlsx and csv, as the nightly flow
   writes them (minutes at the default size: a thousand dealers).

    .venv/bin/python bench/due_list_bench.py [--visits 1000000] [--runs 5] [--nights 3] [--threads 2] [--files]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb

from dealersync.exports.due_list import exported_due_lists
from dealersync.transforms.due_list import due_list_sql
from dealersync.warehouse.db import migrate
from dealersync.warehouse.due_lists import refresh_due_state, store_due_list, unordered

TODAY = date(2024, 6, 30)
LINEAGE = "1 AS run_id, 'bench' AS file_sha256, 'bench' AS sheet, 1 AS excel_row, now() AS loaded_at"


def build_core(con: duckdb.DuckDBPyConnection, visits: int) -> dict[str, int]:
    """Fill the core tables with `visits` visits and everything that goes with them; return row counts."""
    customers = visits * 3 // 10
    day = f"DATE '{TODAY.isoformat()}'"
    con.execute(f"""
    INSERT INTO core.dealers BY NAME
    SELECT printf('D%04d', i) AS dealer_code, printf('经销商%04d', i) AS name,
           ['华东', '华北', '华南', '华中', '西南', '西北', '东北'][i % 7 + 1] AS region,
           true AS active, DATE '2020-01-01' AS valid_from, {LINEAGE}
    FROM range(1000) AS t(i);

    INSERT INTO core.customers BY NAME
    SELECT printf('D%04d', i % 1000) AS dealer_code, printf('C%07d', i) AS customer_id,
           '客户' || i AS name, '13' || lpad(CAST(hash(i) % 1000000000 AS VARCHAR), 9, '0') AS phone,
           CASE WHEN i % 10 < 8 THEN '某市某路' || i || '号' END AS address,
           CASE WHEN i % 50 = 0 THEN '华北' END AS region,
           DATE '2020-01-01' + CAST(hash(i, 'file') % 1500 AS INTEGER) AS valid_from, {LINEAGE}
    FROM range({customers}) AS t(i);

    INSERT INTO core.vehicles BY NAME
    SELECT printf('D%04d', c % 1000) AS dealer_code, printf('V%016d', i) AS vin,
           printf('C%07d', c) AS customer_id, printf('沪A%05d', i % 100000) AS plate_no,
           ['M1', 'M2', 'M3', 'M4', 'M5'][CAST(hash(i) % 5 AS INTEGER) + 1] AS model,
           DATE '2019-01-01' + CAST(hash(i, 'buy') % 1800 AS INTEGER) AS purchase_date, {LINEAGE}
    FROM (SELECT i, CASE WHEN i < {customers} THEN i ELSE CAST(hash(i) % {customers} AS INTEGER) END AS c
          FROM range({customers + customers // 10}) AS t(i));

    INSERT INTO core.service_visits BY NAME
    SELECT printf('D%04d', c % 1000) AS dealer_code, printf('W%08d', i) AS work_order_no,
           printf('C%07d', c) AS customer_id, printf('V%016d', c) AS vin,
           intake_date,
           CASE WHEN visit_type = 'consultation' OR (intake_date > {day} - 3 AND i % 3 = 0) THEN NULL
                ELSE intake_date + CAST(hash(i, 'pick') % 3 AS INTEGER) END AS pickup_date,
           visit_type, '更换机油、机滤' AS service_items, 10000 + i % 90000 AS mileage_km,
           CASE WHEN visit_type = 'maintenance' THEN 180 END AS maintenance_cycle_days,
           CASE WHEN visit_type = 'maintenance' THEN intake_date + 180 END AS next_maintenance_date,
           i % 5 < 2 AS under_warranty, true AS has_customer_file, {LINEAGE}
    FROM (
        SELECT i, CAST(hash(i, 'who') % {customers} AS INTEGER) AS c,
               {day} - CAST(hash(i, 'when') % 730 AS INTEGER) AS intake_date,
               ['maintenance', 'maintenance', 'repair', 'repair', 'warranty', 'consultation']
                   [CAST(hash(i, 'type') % 6 AS INTEGER) + 1] AS visit_type
        FROM range({visits}) AS t(i)
    );

    CREATE TEMP TABLE first_calls AS
    SELECT v.dealer_code, v.work_order_no, v.customer_id, r AS roll,
           coalesce(v.pickup_date, v.intake_date) + 3 + CAST(hash(v.work_order_no) % 5 AS INTEGER) AS call_date
    FROM core.service_visits AS v, (SELECT CAST(hash(v.work_order_no, 'roll') % 1000 AS INTEGER) AS r)
    WHERE coalesce(v.pickup_date, v.intake_date) + 3 <= {day};

    INSERT INTO core.follow_up_calls BY NAME
    SELECT dealer_code, printf('K%s-%d', work_order_no, n) AS call_id,
           call_date + n + INTERVAL 10 HOUR AS call_time, 'outbound' AS direction, call_type,
           customer_id, work_order_no, '王五' AS staff, outcome,
           CASE WHEN outcome = 'reached' THEN 'satisfied' END AS satisfaction, {LINEAGE}
    FROM (
        -- an unreached attempt first for 15% of visits
        SELECT *, 0 AS n, 'first_follow_up' AS call_type, 'no_answer' AS outcome
        FROM first_calls WHERE roll < 150
        UNION ALL
        -- then reached (97%), refused (1%) or never reached (2%, the backlog)
        SELECT *, 1 AS n, 'first_follow_up' AS call_type,
               CASE WHEN roll < 970 THEN 'reached' WHEN roll < 980 THEN 'refused' ELSE 'wrong_number' END
        FROM first_calls
        UNION ALL
        -- a second follow-up a week after a reached first call, for 90% of them
        SELECT *, 8 AS n, 'second_follow_up' AS call_type, 'reached' AS outcome
        FROM first_calls WHERE roll < 900 AND call_date + 9 <= {day}
    );

    INSERT INTO core.follow_up_calls BY NAME
    SELECT dealer_code, 'M' || work_order_no AS call_id,
           next_maintenance_date - 5 + INTERVAL 9 HOUR AS call_time, 'maintenance_reminder' AS call_type,
           customer_id, work_order_no, '王五' AS staff,
           CASE WHEN CAST(hash(work_order_no, 'm') % 10 AS INTEGER) < 9 THEN 'reached' ELSE 'no_answer' END AS outcome,
           {LINEAGE}
    FROM core.service_visits
    WHERE next_maintenance_date - 5 <= {day};

    INSERT INTO core.campaigns BY NAME
    SELECT printf('A%03d', i) AS campaign_id, '活动' || i AS name,
           ['social', 'discount', 'free_check'][i % 3 + 1] AS campaign_type,
           {day} - 710 + CAST(i AS INTEGER) * 36 AS start_date, {day} - 710 + CAST(i AS INTEGER) * 36 + 6 AS end_date,
           CASE WHEN i % 4 > 0 THEN ['华东', '华北', '华南', '华中', '西南', '西北', '东北'][i % 7 + 1] END AS region,
           CASE WHEN i % 3 = 0 THEN 'M' || (i % 5 + 1) END AS model, {LINEAGE}
    FROM range(21) AS t(i);

    CREATE TEMP TABLE notices AS
    SELECT k.campaign_id, c.dealer_code, c.customer_id,
           k.start_date - 12 + CAST(hash(c.customer_id) % 5 AS INTEGER) AS call_date
    FROM core.campaigns AS k
    JOIN core.customers AS c ON true
    JOIN core.dealers AS d ON d.dealer_code = c.dealer_code
    WHERE k.start_date - 12 <= {day} AND CAST(hash(c.customer_id, k.campaign_id) % 10 AS INTEGER) < 8
      AND (k.region IS NULL OR k.region = coalesce(c.region, d.region));

    INSERT INTO core.follow_up_calls BY NAME
    SELECT dealer_code, 'N' || campaign_id || customer_id AS call_id, call_date + INTERVAL 11 HOUR AS call_time,
           'campaign_notice' AS call_type, customer_id, campaign_id, '王五' AS staff,
           CASE WHEN CAST(hash(customer_id, campaign_id, 'o') % 10 AS INTEGER) < 9 THEN 'reached' ELSE 'no_answer' END AS outcome,
           {LINEAGE}
    FROM notices WHERE call_date <= {day};

    INSERT INTO core.letters BY NAME
    SELECT dealer_code, 'L' || campaign_id || customer_id AS letter_id, customer_id,
           call_date + 1 AS sent_date, 'notice' AS letter_type, campaign_id, {LINEAGE}
    FROM notices WHERE call_date + 1 <= {day} AND CAST(hash(customer_id, campaign_id, 'l') % 10 AS INTEGER) < 9;

    INSERT INTO core.complaints BY NAME
    SELECT dealer_code, 'P' || work_order_no AS complaint_id, intake_date + 5 AS received_date,
           customer_id, vin, 'repair_quality' AS category, '维修后仍有异响' AS description, 'medium' AS severity,
           CASE WHEN r < 90 THEN intake_date + 6 END AS escalated_date,
           CASE WHEN r < 80 THEN intake_date + 10 END AS resolved_date,
           CASE WHEN r < 80 THEN '已返修' END AS resolution, {LINEAGE}
    FROM (SELECT *, CAST(hash(work_order_no, 'p') % 100 AS INTEGER) AS r FROM core.service_visits)
    WHERE CAST(hash(work_order_no, 'complaint') % 100 AS INTEGER) = 0 AND intake_date + 5 <= {day};

    INSERT INTO core.follow_up_calls BY NAME
    SELECT dealer_code, 'B' || complaint_id AS call_id, resolved_date + 1 + INTERVAL 14 HOUR AS call_time,
           'complaint_callback' AS call_type, customer_id, complaint_id, '王五' AS staff, 'reached' AS outcome,
           {LINEAGE}
    FROM core.complaints WHERE resolved_date + 1 <= {day} AND CAST(hash(complaint_id) % 10 AS INTEGER) < 9;
    """).fetchall()
    tables = (
        "dealers",
        "customers",
        "vehicles",
        "service_visits",
        "follow_up_calls",
        "letters",
        "complaints",
        "campaigns",
    )
    return {t: con.execute(f"SELECT count(*) FROM core.{t}").fetchall()[0][0] for t in tables}


def simulate_night(con: duckdb.DuckDBPyConnection, night: int, visits: int) -> dict[str, int]:
    """Write what the loader writes in a night, stamped as run `night` + 1: return the rows written.

    About 0.3% of the vehicles are new or corrected (customer files: a second car, a plate). About 1% of
    the calls are new or changed: first follow-up calls for visits picked up a few days ago,
    campaign notices, reminders without a work order, and corrections of earlier calls (an outcome
    reached that was really no answer, a wrong call time, a mistyped work order, which takes the call
    away from the work order it closed). About 0.5% of the visits are new, and the vehicles that left
    the shop get their pickup day. MERGE updates rows in place and appends new ones, as done here.
    """
    day = f"DATE '{TODAY.isoformat()}'"
    stamp = f"{night + 1} AS run_id, 'night{night}' AS file_sha256, 'bench' AS sheet, 1 AS excel_row, now() AS loaded_at"
    stamped = f"run_id = {night + 1}, file_sha256 = 'night{night}', loaded_at = now()"
    picked = f"CAST(hash(call_id, 'night', {night}) % 1000 AS INTEGER)"
    customers = visits * 3 // 10
    written = {}

    def run(label: str, sql: str) -> None:
        written[label] = con.execute(sql).fetchall()[0][0]

    run(
        "visits new",
        f"""
        INSERT INTO core.service_visits BY NAME
        SELECT printf('D%04d', c % 1000) AS dealer_code, printf('N%d-%07d', {night}, i) AS work_order_no,
               printf('C%07d', c) AS customer_id, printf('V%016d', c) AS vin, {day} - 1 AS intake_date,
               CASE WHEN i % 4 > 0 THEN {day} END AS pickup_date,
               ['maintenance', 'repair', 'warranty', 'consultation'][i % 4 + 1] AS visit_type,
               '更换刹车片' AS service_items, 20000 + i AS mileage_km,
               CASE WHEN i % 4 = 0 THEN {day} + 179 END AS next_maintenance_date,
               i % 3 = 0 AS under_warranty, true AS has_customer_file, {stamp}
        FROM (SELECT i, CAST(hash(i, 'night who', {night}) % {customers} AS INTEGER) AS c
              FROM range({visits // 200}) AS t(i))""",
    )
    run(
        "vehicles new",
        f"""
        INSERT INTO core.vehicles BY NAME
        SELECT printf('D%04d', c % 1000) AS dealer_code, printf('N%d-%014d', {night}, i) AS vin,
               printf('C%07d', c) AS customer_id, printf('沪N%05d', i) AS plate_no,
               ['M1', 'M2', 'M3', 'M4', 'M5'][i % 5 + 1] AS model, {day} - 1 AS purchase_date, {stamp}
        FROM (SELECT i, CAST(hash(i, 'night car', {night}) % {customers} AS INTEGER) AS c
              FROM range({visits // 1500}) AS t(i))""",
    )
    run(
        "vehicles corrected",
        f"""
        UPDATE core.vehicles SET plate_no = plate_no || 'X', {stamped}
        WHERE hash(vin, 'night plate', {night}) % 1000 < 1""",
    )
    run(
        "visits picked up",
        f"""
        UPDATE core.service_visits SET pickup_date = intake_date + 1, {stamped}
        WHERE pickup_date IS NULL AND visit_type <> 'consultation' AND intake_date < {day} - 1""",
    )
    run(
        "calls reached → no answer",
        f"""
        UPDATE core.follow_up_calls SET outcome = 'no_answer', satisfaction = NULL, {stamped}
        WHERE call_type = 'first_follow_up' AND outcome = 'reached' AND {picked} < 2""",
    )
    run(
        "calls time corrected",
        f"""
        UPDATE core.follow_up_calls SET call_time = call_time - INTERVAL 1 DAY, {stamped}
        WHERE {picked} BETWEEN 2 AND 3""",
    )
    run(
        "calls work order mistyped",
        f"""
        UPDATE core.follow_up_calls SET work_order_no = work_order_no || 'X', {stamped}
        WHERE work_order_no IS NOT NULL AND {picked} = 4""",
    )
    run(
        "calls new: first follow-ups",
        f"""
        INSERT INTO core.follow_up_calls BY NAME
        SELECT v.dealer_code, printf('F%d-%s', {night}, v.work_order_no) AS call_id,
               {day} + INTERVAL 10 HOUR AS call_time, 'first_follow_up' AS call_type, v.customer_id,
               v.work_order_no, '王五' AS staff,
               CASE WHEN hash(v.work_order_no, {night}) % 5 = 0 THEN 'no_answer' ELSE 'reached' END AS outcome,
               {stamp}
        FROM core.service_visits AS v
        WHERE coalesce(v.pickup_date, v.intake_date) BETWEEN {day} - 7 AND {day} - 3
          AND hash(v.work_order_no, 'called', {night}) % 2 = 0""",
    )
    run(
        "calls new: campaign notices",
        f"""
        INSERT INTO core.follow_up_calls BY NAME
        SELECT c.dealer_code, printf('A%d-%s', {night}, c.customer_id) AS call_id,
               {day} + INTERVAL 15 HOUR AS call_time, 'campaign_notice' AS call_type, c.customer_id,
               k.campaign_id, '王五' AS staff, 'reached' AS outcome, {stamp}
        FROM core.customers AS c, core.campaigns AS k
        WHERE k.start_date - 14 <= {day} AND {day} <= k.end_date
          AND hash(c.customer_id, 'notice', {night}) % 100 < 5""",
    )
    run(
        "calls new: reminders without a work order",
        f"""
        INSERT INTO core.follow_up_calls BY NAME
        SELECT c.dealer_code, printf('R%d-%s', {night}, c.customer_id) AS call_id,
               {day} + INTERVAL 16 HOUR AS call_time, 'maintenance_reminder' AS call_type, c.customer_id,
               '王五' AS staff, 'reached' AS outcome, {stamp}
        FROM core.customers AS c
        WHERE hash(c.customer_id, 'reminder', {night}) % 1000 < 5""",
    )
    return written


def seconds(work) -> tuple[float, float, object]:
    """Wall and CPU seconds of one call of `work` (CPU of the whole process: every DuckDB thread), and its result."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def best_seconds(runs: int, work) -> tuple[float, float, list[float], object]:
    """The fastest wall time of `runs` calls of `work`, the least CPU time, every wall time, the last result."""
    timings = [seconds(work) for _ in range(runs)]
    return (
        min(wall for wall, _, _ in timings),
        min(cpu for _, cpu, _ in timings),
        [wall for wall, _, _ in timings],
        timings[-1][2],
    )


def load() -> str:
    """The machine's load average over the last minute (others' work shares the cores)."""
    return f"load {os.getloadavg()[0]:.1f}"


def peak_query_memory_mb(con: duckdb.DuckDBPyConnection, query: str) -> float:
    """DuckDB's peak buffer memory while running `query` once (from its JSON profile)."""
    with tempfile.TemporaryDirectory() as folder:
        profile = Path(folder) / "profile.json"
        con.execute("SET enable_profiling = 'json'")
        con.execute(f"SET profiling_output = '{profile}'")
        con.sql(query).to_arrow_table()
        con.execute("SET enable_profiling = 'no_output'")
        return json.loads(profile.read_text())["system"]["peak_buffer_memory"] / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--nights", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--files", action="store_true", help="also write every dealer's and region's files")
    args = parser.parse_args()

    folder = tempfile.TemporaryDirectory()
    con = duckdb.connect(str(Path(folder.name) / "warehouse.duckdb"))  # a file, as the warehouse is
    con.execute(f"SET threads = {args.threads}")
    migrate(con)
    started = time.perf_counter()
    counts = build_core(con, args.visits)
    con.execute("CHECKPOINT")
    print(
        f"built in {time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{t} {n:,}" for t, n in counts.items())
        + f"; threads {args.threads}, {os.cpu_count()} cores"
    )

    wall, cpu, recomputed = seconds(lambda: refresh_due_state(con, TODAY))
    print(
        f"state built from scratch (once): {recomputed:,} work orders, {wall:.3f} s wall, {cpu:.3f} s CPU; {load()}"
    )

    # as store_due_list computes it, in the transaction of its refresh; and as the web page computes a day
    # never stored, looking for whatever was written since the last refresh
    query = due_list_sql(TODAY, maintenance_lead_days=7, fresh=True)
    checking = due_list_sql(TODAY, maintenance_lead_days=7)

    def the_days_list(sql: str = query):
        """The day's list, computed as store_due_list computes it (in no particular order)."""
        with unordered(con):
            return con.sql(sql).to_arrow_table()

    lists, refreshes = [], []
    for night in range(1, args.nights + 1):
        con.execute("CHECKPOINT")  # as the nightly flow's backup does before it loads anything
        written = simulate_night(con, night, args.visits)
        calls = sum(n for label, n in written.items() if label.startswith("calls"))
        visits = sum(n for label, n in written.items() if label.startswith("visits"))
        vehicles = sum(n for label, n in written.items() if label.startswith("vehicles"))
        total = con.execute("SELECT count(*) FROM core.follow_up_calls").fetchall()[0][0]
        if night == args.nights:
            stale_wall, stale_cpu, _, _ = best_seconds(args.runs, lambda: the_days_list(checking))
        wall, refresh_cpu, recomputed = seconds(lambda: refresh_due_state(con, TODAY))
        best, cpu, timings, items = best_seconds(args.runs, the_days_list)
        lists.append((best, cpu))
        refreshes.append((wall, refresh_cpu))
        print(
            f"night {night}: {calls:,} calls new or changed ({calls / total:.1%}), {visits:,} visits, "
            f"{vehicles:,} vehicles; "
            f"refresh {recomputed:,} work orders: {wall:.3f} s wall, {refresh_cpu:.3f} s CPU; "
            f"the day's list: {best:.3f} s wall (best of {args.runs}; runs "
            f"{', '.join(f'{t:.3f}' for t in timings)}), {cpu:.3f} s CPU; {load()}"
        )
    by_kind = con.sql("SELECT kind, count(*) FROM items GROUP BY kind ORDER BY kind").fetchall()
    rows = counts["service_visits"] + counts["follow_up_calls"]
    print(f"due list for {TODAY}: {items.num_rows:,} items ({', '.join(f'{k} {n:,}' for k, n in by_kind)})")
    best, cpu = min(wall for wall, _ in lists), min(cpu for _, cpu in lists)
    print(
        f"compute with the state refreshed, best of {args.runs} runs x {args.nights} nights: {best:.3f} s wall, "
        f"{cpu:.3f} s CPU ({counts['service_visits'] / best:,.0f} visits/s, {rows / best:,.0f} visit+call rows/s); "
        f"the slowest night's best {max(wall for wall, _ in lists):.3f} s (target 0.5 s)"
    )
    checked, checked_cpu, _, _ = best_seconds(args.runs, lambda: the_days_list(checking))
    print(
        f"the same list looking for what was written since the refresh (a day the web page computes), best of "
        f"{args.runs}: {checked:.3f} s wall, {checked_cpu:.3f} s CPU"
    )
    print(
        f"refresh after a night, {args.nights} nights: {min(w for w, _ in refreshes):.3f} to "
        f"{max(w for w, _ in refreshes):.3f} s wall, {min(c for _, c in refreshes):.3f} to "
        f"{max(c for _, c in refreshes):.3f} s CPU"
    )
    print(
        f"compute with the state stale by one night (recomputed on the spot), best of {args.runs}: "
        f"{stale_wall:.3f} s wall, {stale_cpu:.3f} s CPU"
    )
    stored, stored_cpu, _, _ = best_seconds(
        args.runs, lambda: store_due_list(con, TODAY, maintenance_lead_days=7)
    )
    print(
        f"refresh (nothing new), compute and store in mart.due_list (one transaction), best of {args.runs}: "
        f"{stored:.3f} s wall, {stored_cpu:.3f} s CPU; {load()}"
    )
    if args.files:
        wall, cpu, written = seconds(
            lambda: exported_due_lists(con, TODAY, Path(folder.name) / "due_lists", maintenance_lead_days=7)
        )
        print(
            f"the night's files (compute, store, then every dealer's and region's xlsx and csv): {len(written):,} "
            f"files of {items.num_rows:,} items in {wall:.1f} s wall, {cpu:.1f} s CPU "
            f"({items.num_rows / wall:,.0f} items/s); {load()}"
        )
    print(
        f"peak memory: DuckDB buffers {peak_query_memory_mb(con, query):,.0f} MB during the query, process "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB (building the tables included)"
    )


if __name__ == "__main__":
    main()

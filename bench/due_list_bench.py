"""Benchmark: the due list of one day over 1M service visits with their calls (target ≤ 0.5 s).

Builds the core tables directly in a temporary warehouse file (the real migrations, no xlsx) at realistic
ratios: 1,000 dealers, 300k customers, 330k vehicles, 1M visits over two years, their first and
second follow-up calls with unreached attempts and a small never-reached backlog, maintenance
reminders, 10k complaints, 21 campaigns (mostly regional) with notice calls and letters. Then times computing the list
for one day (best of a few runs), and computing and storing it in mart.due_list, and prints
seconds, rows/s and peak memory.

    .venv/bin/python bench/due_list_bench.py [--visits 1000000] [--runs 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb

from dealersync.transforms.due_list import due_list_sql
from dealersync.warehouse.db import migrate
from dealersync.warehouse.due_lists import store_due_list

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


def best_seconds(runs: int, work) -> tuple[float, list[float], object]:
    """The fastest of `runs` calls of `work`, every timing, and the last result."""
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        timings.append(time.perf_counter() - started)
    return min(timings), timings, result


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
    parser.add_argument("--threads", type=int, default=2)
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
    )

    query = due_list_sql(TODAY, maintenance_lead_days=7)
    best, timings, items = best_seconds(args.runs, lambda: con.sql(query).to_arrow_table())
    stored, _, _ = best_seconds(args.runs, lambda: store_due_list(con, TODAY, maintenance_lead_days=7))
    by_kind = con.sql("SELECT kind, count(*) FROM items GROUP BY kind ORDER BY kind").fetchall()
    rows = counts["service_visits"] + counts["follow_up_calls"]
    print(f"due list for {TODAY}: {items.num_rows:,} items ({', '.join(f'{k} {n:,}' for k, n in by_kind)})")
    print(
        f"compute, best of {args.runs}: {best:.3f} s ({counts['service_visits'] / best:,.0f} visits/s, "
        f"{rows / best:,.0f} visit+call rows/s); runs {', '.join(f'{t:.3f}' for t in timings)}"
    )
    print(f"compute and store in mart.due_list (one transaction), best of {args.runs}: {stored:.3f} s")
    print(
        f"peak memory: DuckDB buffers {peak_query_memory_mb(con, query):,.0f} MB during the query, process "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB (building the tables included); "
        f"threads {args.threads}"
    )


if __name__ == "__main__":
    main()

"""Benchmark: how long the service-desk portal's pages and downloads take over a warehouse of 1M visits.

Builds the core tables as bench/due_list_bench.py does (1,000 dealers in 7 regions, 1M visits with their
calls), stores the due list of one day and refreshes that week's quality marts, then asks the portal
(in-process, FastAPI's TestClient: each request opens the warehouse read-only and closes it) for each
page a few times and prints the median seconds and the response size. No export files are written
beforehand, so downloads are exported on demand, the slowest case.

    .venv/bin/python bench/portal_bench.py [--visits 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from due_list_bench import TODAY, build_core
from fastapi.testclient import TestClient

from dealersync.portal.app import create_app
from dealersync.settings import Settings
from dealersync.transforms.quality_summary import WEEK, Period
from dealersync.warehouse.db import open_warehouse
from dealersync.warehouse.due_lists import store_due_list
from dealersync.warehouse.summaries import alert_levels, refresh_summaries

TOKEN = "bench-token-0123456789abcdef"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="portal-bench-") as folder:
        warehouse = Path(folder) / "warehouse.duckdb"
        started = time.perf_counter()
        con = open_warehouse(warehouse)
        counts = build_core(con, args.visits)
        store_due_list(con, TODAY, 7)
        week = Period.containing(WEEK, TODAY)
        settings = Settings(
            warehouse=warehouse, exports=Path(folder) / "exports", portal_tokens={TOKEN: "all"}
        )
        refresh_summaries(con, [week], alert_levels(settings))
        items = con.execute("SELECT count(*) FROM mart.due_list WHERE as_of = ?", [TODAY]).fetchall()[0][0]
        con.close()
        print(
            f"warehouse: {counts.get('service_visits', args.visits):,} visits, {items:,} items due on {TODAY} "
            f"(built in {time.perf_counter() - started:.0f} s)"
        )
        client = TestClient(create_app(settings), headers={"authorization": f"Bearer {TOKEN}"})
        unstored = TODAY - timedelta(days=1)
        pages = {
            "overview by region (stored day)": f"/due-lists?date={TODAY}",
            "one region's dealers (143)": f"/due-lists?date={TODAY}&region=华东",
            "one dealer's table": f"/due-lists/{TODAY}/dealer/D0001",
            "one region's table (first 2,000 rows)": f"/due-lists/{TODAY}/region/华东",
            "dealer xlsx, exported on demand": f"/due-lists/{TODAY}/dealer/D0001/download?format=xlsx",
            "region xlsx, exported on demand": f"/due-lists/{TODAY}/region/华东/download?format=xlsx",
            "region csv, exported on demand": f"/due-lists/{TODAY}/region/华东/download?format=csv",
            "overview of a day never stored (computed live)": f"/due-lists?date={unstored}",
            "dealer table of a day never stored": f"/due-lists/{unstored}/dealer/D0001",
            "weekly summary with charts": f"/summary?period={week.label}",
            "runs": "/runs",
        }
        print(f"{'page':50} {'median s':>9} {'size':>10}")
        for label, url in pages.items():
            seconds, size = [], 0
            for _ in range(args.runs):
                tick = time.perf_counter()
                response = client.get(url)
                seconds.append(time.perf_counter() - tick)
                assert response.status_code == 200, (url, response.status_code)
                size = len(response.content)
            print(f"{label:50} {statistics.median(seconds):9.2f} {size / 1024:8.0f} kB")


if __name__ == "__main__":
    main()

"""Benchmark: generating a ~200k-row sample inbox, and reading a 200k-row workbook against calamine alone.

Writes one dealer workbook of about 200k rows (customers, visits, calls, letters, complaints; messy) with
dealersync.samples, then times, best of `--runs`: plain fastexcel (every sheet loaded as text and turned
into polars) and reader.read_workbook (container checks, header rows, aliases, _extra, blank and total
rows). Prints seconds and rows/s of each, and the reader's overhead. With `--inbox`, also times writing
a whole inbox of that size (40 dealers, warehouse included).

    .venv/bin/python bench/read_bench.py [--visits 60000] [--runs 3] [--inbox] [--dir /tmp/read_bench]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

import fastexcel

from dealersync.reader import read_workbook
from dealersync.samples import generate_inbox
from dealersync.schemas.aliases import load_aliases

TODAY = date(2024, 6, 30)


def calamine_alone(path: Path) -> int:
    """Every sheet as text through fastexcel alone; rows loaded."""
    reader = fastexcel.read_excel(path)
    return sum(
        reader.load_sheet(i, header_row=None, dtypes="string", skip_rows=0).to_polars().height
        for i in range(len(reader.sheet_names))
    )


def best_of(runs: int, read) -> tuple[float, int]:
    """The fastest of `runs` calls of `read` and what it returned."""
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        rows = read()
        timings.append(time.perf_counter() - started)
    return min(timings), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--visits", type=int, default=60_000, help="visits in the one workbook (~3.3 rows each)"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--inbox", action="store_true", help="also time writing a 40-dealer inbox")
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    directory = args.dir or Path(tempfile.mkdtemp(prefix="read_bench_"))
    aliases = load_aliases()

    started = time.perf_counter()
    manifest = generate_inbox(
        directory / "one", today=TODAY, dealers=1, visits_per_dealer=args.visits, with_warehouse=False
    )
    written = sum(s.rows for s in manifest.sheets if s.file == manifest.dealer_files["D0001"].name)
    print(f"wrote {written:,} rows in one workbook in {time.perf_counter() - started:.1f} s")
    path = manifest.dealer_files["D0001"]

    plain, raw_rows = best_of(args.runs, lambda: calamine_alone(path))
    ours, rows = best_of(args.runs, lambda: sum(s.frame.height for s in read_workbook(path, aliases).sheets))
    print(f"calamine alone: {plain:.2f} s, {raw_rows / plain:,.0f} rows/s ({raw_rows:,} rows with headers)")
    print(f"read_workbook:  {ours:.2f} s, {rows / ours:,.0f} rows/s ({rows:,} data rows)")
    print(f"reader overhead: {100 * (ours / plain - 1):+.0f}%")

    if args.inbox:
        started = time.perf_counter()
        inbox = generate_inbox(directory / "inbox", today=TODAY, dealers=40, visits_per_dealer=1500, seed=1)
        seconds = time.perf_counter() - started
        total = sum(s.rows for s in inbox.sheets)
        print(
            f"inbox: {total:,} rows in {len(inbox.files)} files in {seconds:.1f} s ({total / seconds:,.0f} rows/s)"
        )


if __name__ == "__main__":
    main()

"""Benchmark: generating a ~200k-row sample inbox, and reading a 200k-row workbook against calamine alone.

Writes one dealer workbook of about 200k rows (customers, visits, calls, letters, complaints; messy) with
dealersync.samples, then times, best of `--runs` taken in turns: plain fastexcel (every sheet loaded as
text and turned into polars, by to_polars and by to_arrow) and reader.read_workbook (container checks,
header rows, aliases, _extra, blank and total rows). Prints seconds and rows/s of each, and the reader's
overhead. With `--inbox`, also times writing a whole inbox of that size (40 dealers, warehouse included).

    .venv/bin/python bench/read_bench.py [--visits 60000] [--runs 5] [--inbox] [--dir /tmp/read_bench]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import fastexcel
import polars as pl

from dealersync.reader import read_workbook
from dealersync.samples import generate_inbox
from dealersync.schemas.aliases import load_aliases

TODAY = date(2024, 6, 30)


def calamine_alone(path: Path, *, via_arrow: bool) -> int:
    """Every sheet as text through fastexcel alone, into polars (to_polars, or to_arrow + from_arrow)."""
    reader = fastexcel.read_excel(path)
    sheets = (
        reader.load_sheet(i, header_row=None, dtypes="string", skip_rows=0)
        for i in range(len(reader.sheet_names))
    )
    return sum((pl.from_arrow(s.to_arrow()) if via_arrow else s.to_polars()).height for s in sheets)


def best_of(runs: int, **reads: Callable[[], int]) -> dict[str, tuple[float, int]]:
    """Per named read, the fastest of `runs` calls and the rows it gave; the reads take turns, so that a
    busy machine slows them alike."""
    timings: dict[str, list[float]] = {name: [] for name in reads}
    rows: dict[str, int] = {}
    for _ in range(runs):
        for name, read in reads.items():
            started = time.perf_counter()
            rows[name] = read()
            timings[name].append(time.perf_counter() - started)
    return {name: (min(timings[name]), rows[name]) for name in reads}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--visits", type=int, default=60_000, help="visits in the one workbook (~3.5 rows each)"
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--inbox", action="store_true", help="also time writing a 40-dealer inbox")
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    directory = args.dir or Path(tempfile.mkdtemp(prefix="read_bench_"))
    aliases = load_aliases()

    started, cpu = time.perf_counter(), time.process_time()
    manifest = generate_inbox(
        directory / "one", today=TODAY, dealers=1, visits_per_dealer=args.visits, with_warehouse=False
    )
    path = manifest.dealer_files["D0001"]
    written = sum(s.rows for s in manifest.sheets if s.file == path.name)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"wrote {written:,} rows in one workbook in {seconds:.1f} s ({cpu:.1f} s CPU)")

    timed = best_of(
        args.runs,
        to_polars=lambda: calamine_alone(path, via_arrow=False),
        to_arrow=lambda: calamine_alone(path, via_arrow=True),
        read_workbook=lambda: sum(s.frame.height for s in read_workbook(path, aliases).sheets),
    )
    for name, (seconds, rows) in timed.items():
        print(f"{name:>14}: {seconds:.2f} s, {rows / seconds:,.0f} rows/s ({rows:,} rows)")
    fastest_plain = min(timed["to_polars"][0], timed["to_arrow"][0])
    print(
        f"reader against the faster plain read: {100 * (timed['read_workbook'][0] / fastest_plain - 1):+.0f}%"
    )

    if args.inbox:
        started, cpu = time.perf_counter(), time.process_time()
        inbox = generate_inbox(directory / "inbox", today=TODAY, dealers=40, visits_per_dealer=1500, seed=1)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        total = sum(s.rows for s in inbox.sheets)
        print(f"inbox: {total:,} rows in {len(inbox.files)} files in {seconds:.1f} s ({cpu:.1f} s CPU)")


if __name__ == "__main__":
    main()

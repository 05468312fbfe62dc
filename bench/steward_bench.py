"""Benchmark: the steward's marked copy of one big dealer workbook (openpyxl load, mark, save) and its peak memory.

Generates one messy dealer workbook with `samples.generate_inbox` (about 3.7 rows per visit), checks it
as the night does, then times `exports.steward.write_steward_report`: opening the whole workbook with
openpyxl, filling and commenting the bad cells, adding the problem list and saving. Each size runs in
a fresh process so that the peak resident memory printed is that of one copy.

    .venv/bin/python bench/steward_bench.py [--visits 5000 25000] [--bad 0.01 0.05]
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

TODAY = date(2026, 11, 20)


def one(visits: int, bad: float, folder: str) -> str:
    from dealersync.exports.steward import write_steward_report
    from dealersync.pipeline import process_file
    from dealersync.samples import generate_inbox
    from dealersync.schemas.aliases import load_aliases
    from dealersync.settings import Settings
    from dealersync.transforms.validate import Refs

    manifest = generate_inbox(
        Path(folder) / "inbox", today=TODAY, dealers=1, visits_per_dealer=visits, seed=1, bad_cell_rate=bad
    )
    source = next(iter(manifest.dealer_files.values()))
    parsed = process_file(source, today=TODAY, aliases=load_aliases(), refs=Refs(), settings=Settings())
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    report = write_steward_report(parsed, source, Path(folder) / "out")
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return (
        f"{parsed.rows_read:>8,} rows {source.stat().st_size / 1e6:6.1f} MB  bad {bad:4.0%}  "
        f"problems {report.problems:>6,}  cells marked {report.cells_marked:>6,}  "
        f"{'marked copy' if report.cells_marked else 'problem list only'} {seconds:6.1f} s  "
        f"({parsed.rows_read / seconds:,.0f} rows/s)  "
        f"peak RSS {peak / 1024:,.0f} MB (before the copy {before / 1024:,.0f} MB)  "
        f"copy {report.workbook.stat().st_size / 1e6:.1f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, nargs="+", default=[5000, 25000])
    parser.add_argument("--bad", type=float, nargs="+", default=[0.01, 0.05])
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    for visits in args.visits:
        for bad in args.bad:
            with tempfile.TemporaryDirectory() as folder, context.Pool(1) as pool:
                print(pool.apply(one, (visits, bad, folder)), flush=True)


if __name__ == "__main__":
    main()

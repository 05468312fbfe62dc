"""Benchmark: the whole ingest (read, validate, load) of ~200k rows against reading the same files with calamine alone.

Generates `--dealers` dealer workbooks (plus the reference and warehouse workbooks) with dealersync.samples,
cached under bench/out/ so later runs skip generation, then times in one process:
  floor    every sheet of every file loaded as text with fastexcel alone (no checks),
  stored   the same, each sheet's cells then stored as read in a fresh DuckDB file (a table per sheet name,
           one transaction, the checkpoint): the least an ingest keeping its rows as read could take in one
           process, with no header search, checks, typed copy, history or lineage,
  read     pipeline.read_file: reader.read_workbook (container checks, header rows, aliases) of each file,
  validate pipeline.check_files_read: the sheets of the dealer and warehouse workbooks checked together,
           kind by kind (normalise, pandera rules, duplicates, refs), as a worker checks its batch,
  load     warehouse.load.load_files into a fresh DuckDB file, the dealer workbooks in the groups the nightly
           flow loads together (load_groups: one transaction each; commits included, and the last
           checkpoint when the warehouse is closed).
Prints seconds and rows/s of each stage, the ingest's speed as a share of the floor (target >= 0.5), the
same share for `stored`, the ingest's CPU time (and its share were that time spread evenly over the
cores), and the peak memory of the process. No Prefect: see bench/run_bench.py for the full flow in each mode.

    .venv/bin/python bench/ingest_bench.py [--dealers 40] [--visits 1500] [--bad 0.02] [--out bench/out]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import fastexcel
import polars as pl

from dealersync.pipeline import check_files_read, read_file
from dealersync.samples import generate_inbox
from dealersync.schemas.aliases import load_aliases
from dealersync.settings import Settings
from dealersync.warehouse.db import open_warehouse
from dealersync.warehouse.load import load_files, load_groups
from dealersync.warehouse.refs import read_refs

TODAY = date(2026, 11, 20)


def corpus(out: Path, dealers: int, visits: int, bad: float) -> list[Path]:
    """The sample inbox for these parameters, generated once and reused."""
    folder = out / f"ingest-{dealers}x{visits}-{bad}"
    done = folder / ".complete"
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        started = time.perf_counter()
        generate_inbox(
            folder, today=TODAY, dealers=dealers, visits_per_dealer=visits, seed=1, bad_cell_rate=bad
        )
        print(f"generated {dealers} dealer workbooks in {time.perf_counter() - started:.1f} s")
        done.touch()
    reference = [p for p in folder.glob("*.xlsx") if p.name.startswith("总部")]
    return reference + sorted(p for p in folder.glob("*.xlsx") if p not in reference)


def calamine_sheets(files: list[Path]) -> Iterator[tuple[str, pl.DataFrame]]:
    """Every sheet of every file as text, loaded with fastexcel alone: (sheet name, cells)."""
    for path in files:
        reader = fastexcel.read_excel(path)
        for index, name in enumerate(reader.sheet_names):
            yield name, reader.load_sheet(index, header_row=None, dtypes="string", skip_rows=0).to_polars()


def floor(files: list[Path]) -> tuple[float, int]:
    """Seconds and rows to load every sheet of every file as text with fastexcel alone."""
    started = time.perf_counter()
    rows = sum(cells.height for _, cells in calamine_sheets(files))
    return time.perf_counter() - started, rows


def stored(files: list[Path], warehouse: Path) -> float:
    """Seconds to load every sheet as text with fastexcel and store its cells as read in a new DuckDB file:
    the sheets of one name stacked into one table, in one transaction, then checkpointed on closing."""
    started = time.perf_counter()
    by_name: dict[str, list[pl.DataFrame]] = {}
    for name, cells in calamine_sheets(files):
        by_name.setdefault(name, []).append(cells)
    con = duckdb.connect(str(warehouse))
    con.begin()
    for number, frames in enumerate(by_name.values()):
        con.register(
            "cells", pl.concat(frames, how="diagonal").to_arrow(compat_level=pl.CompatLevel.newest())
        )
        con.execute(f"CREATE TABLE sheet_{number} AS FROM cells")
        con.unregister("cells")
    con.commit()
    con.close()
    return time.perf_counter() - started


def ingest(files: list[Path], warehouse: Path) -> dict[str, float | int]:
    """Seconds per stage of the real ingest, in one process: every file read, the reference workbook
    checked and loaded first, then the dealer and warehouse workbooks checked together against the
    references it loaded (as one worker checks its batch in the nightly flow) and loaded in the groups
    the nightly flow loads together (load_groups); and the CPU time of those stages."""
    settings = Settings(_env_file=None)
    aliases = load_aliases()
    con = open_warehouse(warehouse)
    seconds = {"read": 0.0, "validate": 0.0, "load": 0.0}
    rows = {"rows read": 0, "rows loaded": 0, "rows rejected": 0}
    cpu = cpu_seconds()
    started = time.perf_counter()
    read = [read_file(path, aliases=aliases, settings=settings) for path in files]
    seconds["read"] = time.perf_counter() - started
    for batch in (read[:1], read[1:]):  # the reference workbook (files[0]), then the others
        started = time.perf_counter()
        parsed_files = check_files_read(
            batch, today=TODAY, aliases=aliases, refs=read_refs(con), settings=settings
        )
        seconds["validate"] += time.perf_counter() - started
        started = time.perf_counter()
        for group in load_groups(con, parsed_files, as_of=TODAY):
            for loaded in load_files(con, group, run_id=1, as_of=TODAY):
                rows["rows read"] += loaded.rows_read
                rows["rows loaded"] += loaded.rows_loaded
                rows["rows rejected"] += loaded.rows_rejected
        seconds["load"] += time.perf_counter() - started
    started = time.perf_counter()
    con.close()  # folds what is left of the write-ahead log into the file: part of loading
    seconds["load"] += time.perf_counter() - started
    return seconds | rows | {"cpu": cpu_seconds() - cpu}


def cpu_seconds() -> float:
    """CPU time this process has used so far, on every core (user and system)."""
    used = os.times()
    return used.user + used.system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dealers", type=int, default=40, help="dealer workbooks (default 40: ~200k rows)")
    parser.add_argument("--visits", type=int, default=1500, help="service visits per dealer")
    parser.add_argument("--bad", type=float, default=0.02, help="share of rows with one bad cell")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("out"))
    args = parser.parse_args()

    files = corpus(args.out, args.dealers, args.visits, args.bad)
    floor_seconds, floor_rows = floor(files)
    bare = args.out / "ingest_bench_stored.duckdb"
    bare.unlink(missing_ok=True)
    stored_seconds = stored(files, bare)
    bare.unlink()
    warehouse = args.out / "ingest_bench.duckdb"
    warehouse.unlink(missing_ok=True)
    figures = ingest(files, warehouse)
    total = figures["read"] + figures["validate"] + figures["load"]
    rows = figures["rows read"]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(
        f"{len(files)} files, {rows:,} data rows ({figures['rows loaded']:,} loaded, {figures['rows rejected']:,} rejected)"
    )
    print(f"{'stage':<22}{'seconds':>9}{'rows/s':>12}")
    print(f"{'calamine alone (floor)':<22}{floor_seconds:>9.2f}{floor_rows / floor_seconds:>12,.0f}")
    print(f"{'calamine + stored':<22}{stored_seconds:>9.2f}{floor_rows / stored_seconds:>12,.0f}")
    for stage in ("read", "validate", "load"):
        print(f"{stage:<22}{figures[stage]:>9.2f}{rows / figures[stage]:>12,.0f}")
    print(f"{'whole ingest':<22}{total:>9.2f}{rows / total:>12,.0f}")
    print(f"ingest speed / calamine floor: {floor_seconds / total:.2f} (target >= 0.50)")
    print(
        f"calamine + stored / calamine floor: {floor_seconds / stored_seconds:.2f} "
        "(the rows kept as read and nothing else)"
    )
    print(
        f"CPU time of the ingest: {figures['cpu']:.2f} s; spread evenly over {os.cpu_count()} cores, "
        f"{figures['cpu'] / os.cpu_count():.2f} s, {floor_seconds * os.cpu_count() / figures['cpu']:.2f} of calamine's speed"
    )
    print(f"peak memory: {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()

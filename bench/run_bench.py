"""Benchmark: the nightly flow over a large inbox in each mode, against the calamine floor and a naive pipeline.

Generates once (cached under bench/out/) an inbox of `--dealers` dealer workbooks with `--visits` service visits
each, their customers, calls, letters and complaints, plus the reference and parts-warehouse workbooks (default
200 x 2,500 = 500k visits, about 1.9M rows; `--bad` of the rows with one bad cell). Then, in one go:

  (a) floor    every sheet of every file read as text by calamine (fastexcel) alone, in one process;
  (b) night    the whole nightly flow (read, check, load, due lists, summaries, reports, steward copies) into a
               fresh warehouse, in each of `--modes`: thread (one process), process (a pool of `--workers`),
               dask (a LocalCluster of `--workers` processes, its start-up timed apart);
  (c) rerun    the same night again right after, with nothing new in the inbox (and an empty flow, to show what
               Prefect's own start-up of a flow run costs);
  (d) naive    pandas.read_excel (openpyxl) of every sheet + a DuckDB insert, in one process.

Prints seconds, rows/s, the ratio to (a) and the speed-up over (d) of each (for a night, also of its ingest
alone: listing the inbox, the backup, checking and loading), the flow's seconds per step, and the peak memory
(RSS) of the whole process tree (workers included, the temporary Prefect server not), sampled every 0.1 s.
Targets: a night >= 15x faster than naive, <= 1.3x the floor with the process pool, a rerun <= 1 s beyond
Prefect's start-up, peak memory <= 1.5 GB.

    .venv/bin/python bench/run_bench.py [--dealers 200] [--visits 2500] [--bad 0.01] [--modes thread,process,dask]
                                        [--workers 2] [--skip-naive] [--out bench/out]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import psutil

TODAY = date(2026, 11, 20)
MODES = ("thread", "process", "dask")
# The steps of a night that read, check and load (the rest writes exports and refreshes marts).
INGEST_STEPS = ("inbox", "backup", "check", "load")


@contextmanager
def peak_memory() -> Iterator[dict[str, float]]:
    """Sample the RSS of this process and all its children every 0.1 s; the peak (MB) is in ["mb"]."""
    peak = {"mb": 0.0}
    done = threading.Event()
    me = psutil.Process()

    def sample() -> None:
        while not done.is_set():
            total = 0
            for process in [me, *me.children(recursive=True)]:
                with suppress(psutil.Error):
                    if not is_prefect_server(process):
                        total += process.memory_info().rss
            peak["mb"] = max(peak["mb"], total / 2**20)
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        done.set()
        sampler.join()


def is_prefect_server(process: psutil.Process) -> bool:
    """The temporary Prefect server `dealersync run` starts: not part of the pipeline's memory."""
    return any("uvicorn" in part or "prefect.server" in part for part in process.cmdline())


def corpus(out: Path, dealers: int, visits: int, bad: float) -> Path:
    """The generated inbox for these parameters (written once, then reused)."""
    from dealersync.samples import generate_inbox

    folder = out / f"run-{dealers}x{visits}-{bad}" / "inbox"
    done = folder.parent / ".complete"
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        started = time.perf_counter()
        generate_inbox(
            folder, today=TODAY, dealers=dealers, visits_per_dealer=visits, seed=1, bad_cell_rate=bad
        )
        print(
            f"generated {dealers} dealer workbooks in {time.perf_counter() - started:.0f} s (cached in {folder})"
        )
        done.touch()
    return folder


def floor(files: list[Path]) -> int:
    """(a) Every sheet of every workbook as text with calamine alone; the rows read."""
    from ingest_bench import calamine_sheets  # beside this file

    return sum(cells.height for _, cells in calamine_sheets(files))


def naive(files: list[Path], warehouse: Path) -> int:
    """(d) What a first script would do: pandas + openpyxl for every sheet, each inserted into DuckDB."""
    warehouse.unlink(missing_ok=True)
    con = duckdb.connect(str(warehouse))
    rows = 0
    for path in files:
        for name, frame in pd.read_excel(path, sheet_name=None, dtype=str, engine="openpyxl").items():
            table = "sheet_" + hashlib.md5(f"{path.name}/{name}".encode()).hexdigest()[:12]
            frame.columns = [f"c{i}" for i in range(frame.shape[1])]
            con.register("frame", frame)
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM frame")
            con.unregister("frame")
            rows += len(frame)
    con.close()
    return rows


def night(source: Path, folder: Path, mode: str, workers: int, dask_address: str | None = None):
    """(b) The nightly flow over a fresh copy of the inbox into a fresh warehouse; (seconds, result, copy)."""
    from dealersync.flows.nightly import nightly, task_runner_for
    from dealersync.settings import get_settings

    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(source, folder / "inbox")
    os.environ.update(
        DEALERSYNC_DATA_DIR=str(folder), DEALERSYNC_TASK_RUNNER=mode, DEALERSYNC_WORKERS=str(workers)
    )
    if dask_address:
        os.environ["DEALERSYNC_DASK_ADDRESS"] = dask_address
    settings = get_settings()
    flow = nightly.with_options(task_runner=task_runner_for(settings))
    started = time.perf_counter()
    result = flow(inbox=settings.inbox_dir, warehouse=settings.warehouse_path, today=TODAY)
    return time.perf_counter() - started, result, flow


class Figures(list):
    """The figures so far; each printed as it is added (a long run shows its progress)."""

    def append(self, figure: tuple[str, float, float, int]) -> None:
        super().append(figure)
        what, seconds, mb, rows = figure
        speed = f", {rows / seconds:,.0f} rows/s" if rows and seconds else ""
        print(f"{what}: {seconds:.1f} s{speed}, peak {mb:,.0f} MB", flush=True)


def timed(step: Callable[[], object]) -> tuple[float, float, object]:
    """(seconds, peak MB of the process tree, what the step returned)."""
    with peak_memory() as peak:
        started = time.perf_counter()
        value = step()
        seconds = time.perf_counter() - started
    return seconds, peak["mb"], value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dealers", type=int, default=200)
    parser.add_argument("--visits", type=int, default=2500, help="service visits per dealer")
    parser.add_argument("--bad", type=float, default=0.01, help="share of rows with one bad cell")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated: thread, process, dask")
    parser.add_argument(
        "--workers", type=int, default=2, help="processes of the pool and of the Dask cluster"
    )
    parser.add_argument("--skip-naive", action="store_true", help="leave out (d), the slowest part")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("out"))
    args = parser.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")

    source = corpus(args.out, args.dealers, args.visits, args.bad)
    files = sorted(p for p in source.iterdir() if p.suffix == ".xlsx")
    size_mb = sum(p.stat().st_size for p in files) / 2**20
    print(
        f"{len(files)} workbooks, {size_mb:.0f} MB; load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores"
    )

    lines = Figures()  # (what, seconds, peak MB, rows), printed as they come
    steps: dict[str, dict[str, float]] = {}  # what -> the flow's own seconds per step
    seconds, mb, rows = timed(lambda: floor(files))
    lines.append(("(a) calamine alone (floor)", seconds, mb, rows))
    floor_seconds = seconds

    from prefect import flow

    from dealersync.flows.runtime import prefect_api

    started = time.perf_counter()
    with prefect_api():
        print(f"Prefect: temporary server started in {time.perf_counter() - started:.1f} s")
        for mode in modes:
            folder = args.out / f"run-{mode}"
            if mode == "dask":
                from distributed import LocalCluster

                started = time.perf_counter()
                with LocalCluster(
                    n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
                ) as cluster:
                    print(
                        f"Dask: LocalCluster of {args.workers} workers started in {time.perf_counter() - started:.1f} s"
                    )
                    seconds, mb, (_, result, nightly_flow) = timed(
                        lambda f=folder: night(source, f, "dask", args.workers, cluster.scheduler_address)
                    )
            else:
                seconds, mb, (_, result, nightly_flow) = timed(
                    lambda f=folder, m=mode: night(source, f, m, args.workers)
                )
            loaded = sum(f.rows_read for f in result.files)
            lines.append((f"(b) night, {mode}", seconds, mb, loaded))
            steps[f"(b) night, {mode}"] = result.seconds
            ingest = sum(result.seconds.get(step, 0.0) for step in INGEST_STEPS)
            lines.append((f"    of which ingest ({mode})", ingest, mb, loaded))
            if mode == modes[0]:
                seconds, mb, rerun = timed(
                    lambda nf=nightly_flow, f=folder: nf(
                        inbox=f / "inbox", warehouse=f / "warehouse.duckdb", today=TODAY
                    )
                )
                lines.append(("(c) rerun, nothing new", seconds, mb, 0))
                steps["(c) rerun, nothing new"] = rerun.seconds

        @flow(name="empty")
        def empty() -> None:
            """Nothing: what starting and finishing a flow run costs."""

        seconds, mb, _ = timed(empty)
        lines.append(("    an empty flow (Prefect alone)", seconds, mb, 0))

    if not args.skip_naive:
        seconds, mb, rows = timed(lambda: naive(files, args.out / "naive.duckdb"))
        lines.append(("(d) naive pandas+openpyxl+DuckDB", seconds, mb, rows))
    naive_seconds = next((s for what, s, _, _ in lines if what.startswith("(d)")), None)

    print(f"\n{'':<36}{'seconds':>9}{'rows/s':>11}{'x floor':>9}{'vs naive':>10}{'peak MB':>9}")
    for what, seconds, mb, rows in lines:
        speed = f"{rows / seconds:,.0f}" if rows else ""
        versus = f"{naive_seconds / seconds:.1f}x" if naive_seconds and rows else ""
        print(f"{what:<36}{seconds:>9.1f}{speed:>11}{seconds / floor_seconds:>9.2f}{versus:>10}{mb:>9.0f}")
    names = list(dict.fromkeys(step for spent in steps.values() for step in spent))
    print(f"\nthe flow's own seconds per step\n{'':<36}" + "".join(f"{n[:14]:>15}" for n in names))
    for what, spent in steps.items():
        print(f"{what:<36}" + "".join(f"{spent.get(n, 0.0):>15.1f}" for n in names))
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

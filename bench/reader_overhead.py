"""Benchmark: reader.read_workbook over the ingest benchmark's inbox against loading its sheets with fastexcel alone.

Uses the inbox of bench/ingest_bench.py (generated once, cached under bench/out/), then times in one process,
best of `--runs` taken in turns (the machine's speed drifts, so only figures of one run compare):
  floor    every sheet of every file loaded as text with fastexcel alone (no checks),
  reader   reader.read_workbook of every file,
  REV      with `--against REV`, read_workbook of dealersync/reader.py as it is at git revision REV
           (e.g. HEAD~3), imported from a temporary copy: an A/B of a change to the reader.
Prints the seconds of each and the reader's overhead over the floor.

    .venv/bin/python bench/reader_overhead.py [--runs 3] [--against REV] [--dealers 40] [--visits 1500]
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ingest_bench import calamine_sheets, corpus  # beside this file

from dealersync import reader
from dealersync.schemas.aliases import load_aliases


def floor(files: list[Path]) -> None:
    """Every sheet of every file as text, with fastexcel alone."""
    for _ in calamine_sheets(files):
        pass


def read_all(module, files: list[Path], aliases) -> None:
    """Every file through a reader module's read_workbook."""
    for path in files:
        module.read_workbook(path, aliases)


def reader_at(revision: str, folder: Path):
    """dealersync/reader.py as it is at a git revision, imported as a module of its own."""
    root = Path(__file__).resolve().parent.parent
    source = subprocess.run(
        ["git", "show", f"{revision}:dealersync/reader.py"], cwd=root, check=True, capture_output=True
    ).stdout
    path = folder / "reader_at_revision.py"
    path.write_bytes(source)
    spec = importlib.util.spec_from_file_location("reader_at_revision", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--against", help="a git revision whose reader is timed too")
    parser.add_argument("--dealers", type=int, default=40)
    parser.add_argument("--visits", type=int, default=1500)
    parser.add_argument("--bad", type=float, default=0.02)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    args = parser.parse_args()
    files = corpus(args.out, args.dealers, args.visits, args.bad)
    aliases = load_aliases()
    with tempfile.TemporaryDirectory() as folder:
        reads: dict[str, Callable[[], None]] = {
            "floor": lambda: floor(files),
            "reader": lambda: read_all(reader, files, aliases),
        }
        if args.against:
            other = reader_at(args.against, Path(folder))
            reads[args.against] = lambda: read_all(other, files, aliases)
        timings: dict[str, list[float]] = {name: [] for name in reads}
        for _ in range(args.runs):
            for name, read in reads.items():
                started = time.perf_counter()
                read()
                timings[name].append(time.perf_counter() - started)
    best = {name: min(seconds) for name, seconds in timings.items()}
    print(f"{len(files)} workbooks, best of {args.runs}:")
    for name, seconds in best.items():
        overhead = "" if name == "floor" else f"  (overhead over the floor {seconds - best['floor']:.2f} s)"
        print(f"  {name:>10}  {seconds:.2f} s{overhead}")


if __name__ == "__main__":
    main()

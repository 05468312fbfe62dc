"""Seconds and peak memory of refusing each hostile file, measured in a process of its own.

    .venv/bin/python tests/hardening/refusal_costs.py            # builds the hostile files, one process each
    .venv/bin/python tests/hardening/refusal_costs.py FOLDER     # every file of FOLDER, in this one process

Prints one JSON line per file: name, status, seconds, peak_mb (peak resident memory of the process above
its peak before the file; in one process a file's own peak shows only when it is the highest yet).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(folder: Path) -> list[dict]:
    """Refuse every file of `folder` (after one small valid file, so imports and caches are warm)."""
    from workbooks import write_xlsx

    from dealersync.pipeline import process_file
    from dealersync.schemas.aliases import load_aliases
    from dealersync.settings import Settings
    from dealersync.transforms.validate import Refs

    aliases, settings, refs = load_aliases(), Settings(), Refs()
    with tempfile.TemporaryDirectory() as warm:
        sample = write_xlsx(
            Path(warm) / "warm.xlsx", {"客户档案": [["经销商代码", "客户编号"], ["D1", "C1"]]}
        )
        process_file(sample, today=date(2026, 3, 2), aliases=aliases, refs=refs, settings=settings)
    results = []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        before = peak_mb()
        started = time.perf_counter()
        parsed = process_file(path, today=date(2026, 3, 2), aliases=aliases, refs=refs, settings=settings)
        results.append(
            {
                "name": parsed.file_name,
                "status": parsed.status,
                "seconds": round(time.perf_counter() - started, 3),
                "peak_mb": round(max(0.0, peak_mb() - before), 1),
                "reason": parsed.reason,
            }
        )
    return results


def main() -> None:
    sys.path[:0] = [str(HERE.parent), str(HERE)]
    if len(sys.argv) > 1:
        for result in measure(Path(sys.argv[1])):
            print(json.dumps(result, ensure_ascii=False))
        return
    from hostile_files import HOSTILE

    with tempfile.TemporaryDirectory() as base:
        for hostile in HOSTILE:
            folder = Path(base) / str(HOSTILE.index(hostile))
            folder.mkdir()
            hostile.build(folder)
            shown = subprocess.run(
                [sys.executable, __file__, str(folder)], capture_output=True, text=True, check=True
            ).stdout
            result = json.loads(shown)
            print(
                f"{hostile.label:40} {result['status']:8} {result['seconds']:6.3f} s {result['peak_mb']:7.1f} MB"
            )


if __name__ == "__main__":
    main()

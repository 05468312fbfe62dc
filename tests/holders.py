"""Another process holding the warehouse file, as the nightly run (writing) or an analyst's query (reading) would."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_HOLD = (
    "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == 'read'); "
    "print('held', flush=True); sys.stdin.readline()"
)


@contextmanager
def warehouse_held(path: Path, *, read_only: bool = False) -> Iterator[subprocess.Popen]:
    """The warehouse open in another process until the block ends (it lets go when told, then exits)."""
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(path), "read" if read_only else "write"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "held"
        yield process
    finally:
        process.communicate("\n", timeout=30)

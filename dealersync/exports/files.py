"""Export files appear whole or not at all: written under a hidden name beside their own, then renamed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def written_whole(path: Path) -> Iterator[Path]:
    """A hidden path beside `path` to write the file to; renamed onto `path` once written, else removed.

    A night killed, or a disk filling up, while a workbook is written leaves the file it replaces (or
    none), never a truncated one under the name the web page offers and the stewards open. The hidden
    name (`.<name>.part`) is never listed nor served; a killed writer's is overwritten the next time.
    """
    path = Path(path)
    partial = path.with_name(f".{path.name}.part")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)

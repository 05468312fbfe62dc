"""The inbox folder: which files a night takes, and where they go afterwards (processed/ or rejected/)."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


def safe_name(name: str) -> str:
    """A file name with control characters and path separators replaced, safe to show and to store."""
    cleaned = _UNSAFE.sub("_", name).strip(" .")
    return cleaned[:200] or "unnamed"


def inbox_files(inbox: Path) -> list[Path]:
    """Files waiting in the inbox, oldest first (so a later correction wins over an earlier file).

    Hidden files and Excel's own lock files (`~$name.xlsx`, written while a workbook is open) are not
    submissions and are left alone.
    """
    if not inbox.is_dir():
        return []
    files = [
        p
        for p in inbox.iterdir()
        if p.is_file() and not p.name.startswith((".", "~$")) and not p.is_symlink()
    ]
    return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))


def _free_target(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / safe_name(name)
    counter = 1
    while target.exists():
        target = folder / f"{Path(safe_name(name)).stem}.{counter}{Path(name).suffix}"
        counter += 1
    return target


def processed_place(path: Path, inbox: Path, as_of: date) -> Path:
    """Where a loaded file goes: `processed/<as_of>/` beside the inbox, under a name not yet taken."""
    return _free_target(inbox.parent / "processed" / as_of.isoformat(), path.name)


def move(path: Path, target: Path) -> Path:
    """Move a file to the place chosen for it."""
    shutil.move(str(path), target)
    return target


def move_rejected(path: Path, inbox: Path, as_of: date, reason: str) -> Path:
    """Set a refused file aside in `rejected/<as_of>/` beside the inbox, with `<name>.reason.txt` beside it."""
    target = _free_target(inbox.parent / "rejected" / as_of.isoformat(), path.name)
    shutil.move(str(path), target)
    target.with_name(target.name + ".reason.txt").write_text(reason + "\n", encoding="utf-8")
    return target

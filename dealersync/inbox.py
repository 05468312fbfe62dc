"""The inbox folder: which files a night takes, and where they go afterwards (processed/ or rejected/)."""

from __future__ import annotations

import errno
import os
import re
import shutil
import unicodedata
from datetime import date
from pathlib import Path

_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")
# Characters no submitted file name may hold: control characters (an escape sequence rewrites the
# terminal that shows it), invisible format characters (U+202E turns `报表\u202excod.xlsx` into what looks
# like another extension), line separators, bytes that are not UTF-8 (Python keeps them as lone
# surrogates, which the warehouse cannot store) and path separators.
_HOSTILE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
PATH_SEPARATORS = "/\\"


def _is_hostile(character: str) -> bool:
    return character in PATH_SEPARATORS or unicodedata.category(character) in _HOSTILE_CATEGORIES


def printable_name(name: str) -> str:
    """A file name as text that can be shown and stored: hostile characters written as escapes (`\\x1b`)."""
    if not any(_is_hostile(c) for c in name):
        return name
    original = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(
        c if c == "\\" or not _is_hostile(c) else c.encode("unicode_escape").decode("ascii") for c in original
    )


def name_problem(name: str) -> str | None:
    """Why a file's name is refused (control or invisible characters, path separators), or None."""
    if not any(_is_hostile(c) for c in name):
        return None
    return (
        f"the file name {printable_name(name)!r} holds control characters, invisible characters or path "
        "separators (\\ /), which can hide what a file is or where it goes; rename it using letters, "
        "digits, spaces, - and _ only, and send it again"
    )


def safe_name(name: str) -> str:
    """A file name with control characters and path separators replaced, safe to show and to store."""
    cleaned = "".join("_" if _is_hostile(c) else c for c in _UNSAFE.sub("_", name)).strip(" .")
    return cleaned[:200] or "unnamed"


class InboxMissing(ValueError):
    """The inbox folder does not exist: a run would find no file and look as if nothing had been sent."""


def require_inbox(inbox: Path) -> None:
    """Raise InboxMissing unless `inbox` is a folder."""
    if not Path(inbox).is_dir():
        raise InboxMissing(
            f"no inbox folder at {inbox}: give the folder the workbooks arrive in "
            "(--inbox or DEALERSYNC_INBOX), or create it"
        )


# What upload tools name a file while they are still writing it (WinSCP, browsers, rsync-like copies).
UPLOADING_SUFFIXES = (".part", ".partial", ".filepart", ".crdownload", ".download", ".tmp")


def inbox_files(inbox: Path) -> list[Path]:
    """Files waiting in the inbox, oldest first (so a later correction wins over an earlier file).

    Hidden files, Excel's own lock files (`~$name.xlsx`, written while a workbook is open) and files an
    upload is still writing under a temporary name (`name.xlsx.filepart`) are not submissions and are
    left alone.
    """
    if not inbox.is_dir():
        return []
    files = [
        p
        for p in inbox.iterdir()
        if p.is_file()
        and not p.name.startswith((".", "~$"))
        and not p.name.lower().endswith(UPLOADING_SUFFIXES)
        and not p.is_symlink()
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
    """Move a file to the place chosen for it; it appears there whole or not at all, and leaves the inbox after.

    Within one file system a move is a rename. From an inbox on another one (a mounted share) it is a
    copy: written under a hidden name first, so a run killed while copying leaves the file in the inbox
    and no cut-off copy under the name etl.files records.
    """
    try:
        os.rename(path, target)
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
        partial = target.with_name(f".{target.name}.part")
        shutil.copy2(path, partial)
        os.replace(partial, target)
        os.unlink(path)
    return target


def rejected_place(path: Path, inbox: Path, as_of: date) -> Path:
    """Where a refused file goes: `rejected/<as_of>/` beside the inbox, under a name not yet taken."""
    return _free_target(inbox.parent / "rejected" / as_of.isoformat(), path.name)


def move_rejected(path: Path, inbox: Path, as_of: date, reason: str, target: Path | None = None) -> Path:
    """Set a refused file aside in `rejected/<as_of>/` beside the inbox, with `<name>.reason.txt` beside it.

    The reason is written first: a process killed in between leaves the file in the inbox (refused again
    next time, into the same place), never a file in rejected/ without its reason.
    """
    target = target or rejected_place(path, inbox, as_of)
    target.with_name(target.name + ".reason.txt").write_text(reason + "\n", encoding="utf-8")
    return move(path, target)

"""Warehouse backups: a consistent copy before a run loads anything, the newest N kept, and restore."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from dealersync.warehouse.db import (
    READERS_GRACE_SECONDS,
    WarehouseBusy,
    WarehouseError,
    applied_migrations,
    connect,
    migrations,
)

BEFORE_RESTORE = "before-restore"
DAMAGED = "damaged"  # a warehouse a restore replaced that DuckDB could not open, kept as it was
_STAMP = "%Y%m%d-%H%M%S"


@dataclass(frozen=True)
class Backup:
    """One backup file of a warehouse."""

    path: Path
    taken_at: datetime  # local time the copy was taken (from its name)
    label: str  # "" for the backup before a run, BEFORE_RESTORE (or DAMAGED) for the warehouse a restore replaced
    size_bytes: int


def _pattern(warehouse: Path) -> re.Pattern[str]:
    return re.compile(
        rf"^{re.escape(warehouse.stem)}-(\d{{8}}-\d{{6}})(?:-([a-z-]+?))?(?:\.(\d+))?{re.escape(warehouse.suffix)}$"
    )


def list_backups(warehouse: Path, backups_dir: Path) -> list[Backup]:
    """The backups of this warehouse in `backups_dir`, newest first."""
    if not backups_dir.is_dir():
        return []
    pattern = _pattern(warehouse)
    found = []
    for path in backups_dir.iterdir():
        if match := pattern.match(path.name):
            taken_at = datetime.strptime(match.group(1), _STAMP)
            order = (taken_at, int(match.group(3) or 0))  # a second copy within the same second is .1
            found.append((order, Backup(path, taken_at, match.group(2) or "", path.stat().st_size)))
    return [backup for _, backup in sorted(found, key=lambda item: item[0], reverse=True)]


def _new_copy(warehouse: Path, backups_dir: Path, label: str = "") -> Path:
    """Where a new copy of the warehouse goes: stamped now; a second copy within the same second, whatever
    its label, is numbered .1, then .2, after any copy still there, so newest first is the order taken."""
    stamp = f"{datetime.now():{_STAMP}}"
    taken = [
        int(match.group(3) or 0)
        for path in backups_dir.iterdir()
        if (match := _pattern(warehouse).match(path.name)) and match.group(1) == stamp
    ]
    counter = f".{max(taken) + 1}" if taken else ""
    return backups_dir / f"{warehouse.stem}-{stamp}{'-' + label if label else ''}{counter}{warehouse.suffix}"


def back_up(
    con: duckdb.DuckDBPyConnection,
    warehouse: Path,
    backups_dir: Path,
    *,
    keep: int | None,
    label: str = "",
) -> Path:
    """Copy the warehouse into `backups_dir` as it is now; then keep only the newest `keep` (None: all).

    The caller holds the one writer connection `con`: CHECKPOINT writes the write-ahead log into the
    file, and nothing writes while the file is copied, so the copy is consistent. The copy appears
    under its final name only when complete. The caller still holds the warehouse afterwards
    (_copy_from_another_process).
    """
    con.execute("CHECKPOINT")
    backups_dir.mkdir(parents=True, exist_ok=True)
    target = _new_copy(warehouse, backups_dir, label)
    # A copy a killed run left half-made (as big as the warehouse, and hidden): the caller is the one
    # writer, so no other backup of this warehouse is being made.
    for left in backups_dir.glob(".*.part"):
        if _pattern(warehouse).match(left.name[1 : -len(".part")]):
            left.unlink(missing_ok=True)
    partial = backups_dir / f".{target.name}.part"
    _copy_from_another_process(warehouse, partial)
    os.replace(partial, target)
    if keep is not None:
        for old in list_backups(warehouse, backups_dir)[keep:]:
            old.path.unlink(missing_ok=True)
    return target


def _copy_from_another_process(source: Path, target: Path) -> None:
    """Copy `source` to `target` in a child process; OSError saying why when it cannot.

    DuckDB holds the warehouse with a POSIX record lock, and POSIX drops every such lock a process holds
    on a file when that process closes any descriptor of the file: copying it here (open, read, close)
    would leave the writer's connection unlocked for the rest of the night, letting readers and a
    second writer open the file while the night writes it. The child's descriptors are its own.
    """
    copy = "import shutil, sys; shutil.copyfile(sys.argv[1], sys.argv[2])"
    done = subprocess.run(
        [sys.executable, "-I", "-c", copy, str(source), str(target)], capture_output=True, text=True
    )
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        raise OSError(f"could not copy {source} to {target}: {why}")


def find_backup(name: str | Path, warehouse: Path, backups_dir: Path) -> Path:
    """A backup named on the command line: a path, or a file name in `backups_dir`."""
    path = Path(name)
    if path.is_file():
        return path
    if (backups_dir / path.name).is_file():
        return backups_dir / path.name
    known = ", ".join(b.path.name for b in list_backups(warehouse, backups_dir)[:5]) or "none yet"
    raise WarehouseError(f"no backup {name} (in {backups_dir}: {known})")


def check_backup(backup: Path) -> int:
    """Refuse a file that is not a warehouse this version can open; return its newest migration."""
    try:
        con = connect(backup, read_only=True)
    except WarehouseError as error:
        raise WarehouseError(f"{backup} is not a warehouse backup: {error}") from None
    try:
        applied = applied_migrations(con)
    finally:
        con.close()
    if not applied:
        raise WarehouseError(f"{backup} is a DuckDB file but not a dealersync warehouse")
    unknown = sorted(set(applied) - {m.version for m in migrations()})
    if unknown:
        raise WarehouseError(
            f"{backup} has migrations {unknown} that this version of dealersync does not know; upgrade it first"
        )
    return max(applied)


def restore(backup: Path, warehouse: Path, backups_dir: Path) -> Path | None:
    """Put `backup` in place of the warehouse; return where the replaced warehouse was saved (None if none).

    The caller holds the run lock (warehouse.lock.warehouse_lock). The backup is checked and copied
    beside the warehouse first; the current warehouse is backed up (label before-restore, never pruned
    by a restore) and then replaced in one rename, so a crash leaves either the old or the restored file.
    """
    check_backup(backup)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    incoming = warehouse.with_name(f".{warehouse.name}.restoring")
    shutil.copyfile(backup, incoming)
    try:
        saved = _keep_replaced(warehouse, backups_dir) if warehouse.exists() else None
        # A write-ahead log left beside the old file belongs to it, not to the restored one.
        warehouse.with_name(warehouse.name + ".wal").unlink(missing_ok=True)
        os.replace(incoming, warehouse)
    finally:
        incoming.unlink(missing_ok=True)
    return saved


def _keep_replaced(warehouse: Path, backups_dir: Path) -> Path:
    """Back up the warehouse a restore replaces (label before-restore); one DuckDB cannot open, damaged
    (what the restore is for), is kept byte for byte with its write-ahead log (label damaged).

    Readers (the web page, a query) are given time to let go of it, as by a run; one that does not is
    WarehouseBusy, and nothing is replaced.
    """
    try:
        con = connect(warehouse, wait_seconds=READERS_GRACE_SECONDS)
    except WarehouseBusy:
        raise
    except WarehouseError:
        backups_dir.mkdir(parents=True, exist_ok=True)
        target = _new_copy(warehouse, backups_dir, DAMAGED)
        wal = warehouse.with_name(warehouse.name + ".wal")
        if wal.exists():
            shutil.copyfile(wal, target.with_name(target.name + ".wal"))
        shutil.copyfile(warehouse, target)
        return target
    try:
        return back_up(con, warehouse, backups_dir, keep=None, label=BEFORE_RESTORE)
    finally:
        con.close()

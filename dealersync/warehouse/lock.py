"""One run at a time per warehouse: an advisory lock file beside it, held for the whole run.

DuckDB already refuses a second writer, but only while a connection is open; a run (and a restore)
needs the warehouse for longer than one connection: listing the inbox, backing up, loading, writing
exports, or swapping the file for a backup. The lock file `<warehouse>.lock` is held with `flock`
for that whole time; the operating system releases it when the holder exits, even after a crash.
Readers (`sql`, the portal) never take it.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import duckdb

from dealersync.warehouse.db import (
    READERS_GRACE_SECONDS,
    WarehouseBusy,
    WarehouseError,
    open_warehouse,
    require_warehouse_file,
)

POLL_SECONDS = 0.2


def lock_path(warehouse: Path) -> Path:
    """The lock file of a warehouse: `<name>.lock` beside it."""
    return warehouse.with_name(warehouse.name + ".lock")


def holder(warehouse: Path) -> dict | None:
    """What the lock file says about its holder (pid, what, since), or None when it says nothing."""
    try:
        return json.loads(lock_path(warehouse).read_text(encoding="utf-8") or "null")
    except (OSError, ValueError):
        return None


@contextmanager
def warehouse_lock(warehouse: Path, *, what: str, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the warehouse's run lock; wait up to `wait_seconds` for another holder, else WarehouseBusy.

    `what` says what the holder does (e.g. "nightly run as of 2026-11-26"), for the message another
    run shows while it waits or gives up.
    """
    require_warehouse_file(Path(warehouse))  # no lock file beside something else (/etc/passwd.lock)
    path = lock_path(Path(warehouse))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:  # a read-only or full folder: one line, not a traceback
        raise WarehouseError(
            f"cannot create the run lock {path}: {error.strerror or error}; the warehouse's folder must be "
            "writable"
        ) from None
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(_busy_message(Path(warehouse), wait_seconds)) from None
                time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
        note = {"pid": os.getpid(), "what": what, "since": datetime.now().astimezone().isoformat()}
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, json.dumps(note).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(descriptor, 0)
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


@contextmanager
def locked_warehouse(
    warehouse: Path, *, what: str, wait_seconds: float = 0.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse opened for writing under the run lock (waiting `wait_seconds` for another run).

    Holding the lock, a run has no other writer to wait for, only readers (a portal page, an analyst's
    read-only query), which are given at least READERS_GRACE_SECONDS to let go of the file.
    """
    with warehouse_lock(warehouse, what=what, wait_seconds=wait_seconds):
        con = open_warehouse(warehouse, wait_seconds=max(wait_seconds, READERS_GRACE_SECONDS))
        try:
            yield con
        finally:
            con.close()


def _busy_message(warehouse: Path, waited: float) -> str:
    note = holder(warehouse) or {}
    by = (
        f" by {note.get('what', 'another run')} (process {note.get('pid', '?')}, since {note.get('since', '?')})"
        if note
        else " by another run"
    )
    waited_text = f" after waiting {waited:g} s" if waited else ""
    return (
        f"the warehouse {warehouse} is in use{by}; nothing was done{waited_text}. "
        "Run again when it has finished, or set DEALERSYNC_LOCK_TIMEOUT_SECONDS to wait for it"
    )

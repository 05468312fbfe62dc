"""Kill a real night with SIGKILL at a chosen step: every statement sent to the warehouse and every inbox move
is a numbered event, and the process kills itself just before event N happens.

Runs in a child forked from a forkserver that has already imported the flow, so each kill costs the night's
own work, not Python's start-up. Event 0 is the flow being called; nothing of it has run.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from datetime import date
from pathlib import Path

import duckdb

from dealersync import inbox

DATABASE_CALLS = frozenset({"execute", "executemany", "sql", "query", "begin", "commit", "rollback", "checkpoint", "close", "register", "unregister"})  # fmt: skip


class Events:
    """Numbered events of one night; at `kill_at` the process dies (after `delay` seconds when given)."""

    def __init__(self, kill_at: int | None, delay: float | None = None):
        self.kill_at, self.delay = kill_at, delay
        self.labels: list[str] = []

    def __call__(self, label: str) -> None:
        self.labels.append(label)
        if len(self.labels) - 1 == self.kill_at:
            if self.delay is None:
                os.kill(os.getpid(), signal.SIGKILL)
            threading.Timer(self.delay, os.kill, (os.getpid(), signal.SIGKILL)).start()


class Connection:
    """A warehouse connection whose statements are events (everything else passes through)."""

    def __init__(self, real: duckdb.DuckDBPyConnection, events: Events):
        self._real, self._events = real, events

    def __getattr__(self, name: str):
        attribute = getattr(self._real, name)
        if name not in DATABASE_CALLS:
            return attribute

        def call(*args, **kwargs):
            text = " ".join(str(args[0]).split())[:70] if args and isinstance(args[0], str) else ""
            self._events(f"{name} {text}".strip())
            return attribute(*args, **kwargs)

        return call

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def install(events: Events, warehouse: Path) -> None:
    """Route the warehouse's connections and the inbox's moves through `events`."""
    connect, move, move_rejected = duckdb.connect, inbox.move, inbox.move_rejected

    def watched_connect(database=":memory:", *args, **kwargs):
        real = connect(database, *args, **kwargs)
        return Connection(real, events) if Path(str(database)) == warehouse else real

    def watched_move(path, target):
        events(f"move {Path(path).name} -> {Path(target).parent.parent.name}")
        moved = move(path, target)
        events(f"moved {Path(path).name}")
        return moved

    def watched_move_rejected(path, *args, **kwargs):
        events(f"move_rejected {Path(path).name}")
        moved = move_rejected(path, *args, **kwargs)
        events(f"moved_rejected {Path(path).name}")
        return moved

    duckdb.connect, inbox.move, inbox.move_rejected = watched_connect, watched_move, watched_move_rejected


def night(root: Path, today: date, api_url: str, kill_at: int | None, delay: float | None = None) -> None:
    """The nightly flow over root/inbox into root/warehouse.duckdb, killed at event `kill_at` (None: never).

    Writes the events it saw to root/events.json when it finishes.
    """
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from dealersync.flows.nightly import nightly

    events = Events(kill_at, delay)
    install(events, root / "warehouse.duckdb")
    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        events("flow called")
        nightly(inbox=root / "inbox", warehouse=root / "warehouse.duckdb", today=today)
    (root / "events.json").write_text(json.dumps(events.labels, ensure_ascii=False), encoding="utf-8")

"""The DuckDB warehouse file: open it, and bring its schema up to date with the versioned migrations."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

import duckdb

MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
READERS_GRACE_SECONDS = 30.0  # how long a run waits for readers to let go of the file (lock.locked_warehouse)
# A writer folds the write-ahead log into the file once the log passes this, not at DuckDB's 16 MB. A night
# commits once per file, and at 16 MB every few files paid a checkpoint of up to 0.6 s: loading the first
# 61 workbooks of bench/run_bench.py's 200-dealer inbox took 12% less time at 64 MB, for 45 MB more
# memory. The log is durable either way, and a backup checkpoints first.
CHECKPOINT_THRESHOLD = "64MB"


class WarehouseError(Exception):
    """A problem with the warehouse a person can act on: locked, not a DuckDB file, missing, out of date."""


class WarehouseBusy(WarehouseError):
    """Another process holds the warehouse (a run or a restore, or the night writing while a query
    reads); nothing was done, try again later."""


def interrupted(error: BaseException) -> bool:
    """Whether DuckDB stopped a statement because a signal arrived (SIGTERM from a scheduler, Ctrl-C).

    The signal's handler raises inside DuckDB's call, and DuckDB raises its own RuntimeError('Query
    interrupted') in its place: to the caller a stop asked for looks like any failed statement.
    """
    return isinstance(error, duckdb.InterruptException) or (
        isinstance(error, RuntimeError) and "Query interrupted" in str(error)
    )


@dataclass(frozen=True)
class Migration:
    """One versioned SQL file of `warehouse/migrations/`."""

    version: int
    name: str
    sql: str

    @property
    def sha256(self) -> str:
        """Digest of the text with normalised line endings (a Windows checkout applies the same migration)."""
        return hashlib.sha256(self.sql.replace("\r\n", "\n").encode()).hexdigest()


DUCKDB_MAGIC = (8, b"DUCK")  # a DuckDB file says DUCK after its 8-byte checksum


def require_warehouse_file(path: Path) -> None:
    """WarehouseError unless `path` is missing (a new warehouse) or a DuckDB file: nothing is written beside it."""
    if path.is_dir():
        raise WarehouseError(f"{path} is a folder, not a DuckDB warehouse file")
    if not path.exists():
        return
    offset, magic = DUCKDB_MAGIC
    try:
        with path.open("rb") as stream:
            stream.seek(offset)
            found = stream.read(len(magic))
    except OSError as error:
        raise WarehouseError(f"cannot read the warehouse {path}: {error}") from None
    if found != magic:
        raise WarehouseError(f"{path} is not a DuckDB warehouse file")


def connect(
    path: Path | str, read_only: bool = False, *, wait_seconds: float = 0.0
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file; wait up to `wait_seconds` while another process holds it.

    One process may write at a time; readers open it read-only. Raises WarehouseError with a message
    for a person (locked, not a DuckDB file, missing) rather than DuckDB's own.
    """
    path = Path(path)
    if read_only and not path.exists():
        raise WarehouseError(f"no warehouse at {path}")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as error:
            message = str(error)
            if "Could not set lock" in message:
                if time.monotonic() < deadline:
                    time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
                    continue
                holder = re.search(r"PID (\d+)", message)
                by = f" (process {holder.group(1)})" if holder else ""
                if read_only:  # a writer holds it: most likely the nightly run
                    raise WarehouseBusy(
                        f"the warehouse {path} is being written by another process{by}, most likely the "
                        "nightly run; try again when it has finished"
                    ) from error
                raise WarehouseBusy(
                    f"the warehouse {path} is in use by another process{by}; "
                    "wait until it finishes, or raise DEALERSYNC_LOCK_TIMEOUT_SECONDS to wait for it"
                ) from error
            if "not a valid DuckDB database file" in message:
                raise WarehouseError(f"{path} is not a DuckDB warehouse file") from error
            if "Cannot open file" in message:  # the file system's refusal (read-only, permissions)
                raise WarehouseError(f"cannot open the warehouse {path}: {message}") from error
            raise WarehouseError(
                f"cannot open the warehouse {path}: {message}; the file looks damaged: `dealersync restore` "
                "lists the backups to put back in its place"
            ) from error


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """BEGIN, then COMMIT; on any error ROLLBACK, and the error raised is the one that happened.

    A COMMIT that fails (no space left for the write-ahead log) has already ended the transaction:
    rolling back again raises "no transaction is active", which would hide the reason.
    """
    con.begin()
    try:
        yield
        con.commit()
    except BaseException:
        with suppress(duckdb.TransactionException):  # a failed COMMIT ended it already
            con.rollback()
        raise


def migrations() -> list[Migration]:
    """The migrations shipped with the package, in version order."""
    folder = resources.files("dealersync.warehouse") / "migrations"
    found = [
        Migration(int(match.group(1)), entry.name, entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if (match := MIGRATION_NAME.match(entry.name))
    ]
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        clashes = sorted(m.name for m in found if versions.count(m.version) > 1)
        raise WarehouseError(f"two migrations share a version number: {', '.join(clashes)}")
    return found


def applied_migrations(con: duckdb.DuckDBPyConnection) -> dict[int, str]:
    """Version -> sha256 of the migrations already applied to this warehouse (empty for a new file)."""
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() "
        "WHERE schema_name = 'etl' AND table_name = 'schema_migrations' AND database_name = current_database()"
    ).fetchall()[0][0]
    if not exists:
        return {}
    return dict(con.execute("SELECT version, sha256 FROM etl.schema_migrations").fetchall())


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the pending migrations in order, each in its own transaction; return the names applied.

    Idempotent. Refuses a warehouse whose applied migrations were edited since, or that is newer than
    this code (a migration applied that the package does not ship).
    """
    shipped = migrations()
    applied = applied_migrations(con)
    unknown = sorted(set(applied) - {m.version for m in shipped})
    if unknown:
        raise WarehouseError(
            f"the warehouse has migrations {unknown} that this version of dealersync does not know; upgrade it"
        )
    done: list[str] = []
    for migration in shipped:
        if migration.version in applied:
            if applied[migration.version] != migration.sha256:
                raise WarehouseError(
                    f"migration {migration.name} was edited after it was applied to this warehouse; "
                    "restore it and put the change in a new migration"
                )
            continue
        with transaction(con):
            con.execute(migration.sql)
            con.execute(
                "INSERT INTO etl.schema_migrations (version, name, sha256, applied_at) VALUES (?, ?, ?, now())",
                [migration.version, migration.name, migration.sha256],
            )
        done.append(migration.name)
    return done


def upgraded_since(con: duckdb.DuckDBPyConnection, since: datetime) -> list[str]:
    """The migrations applied at or after `since`, when the warehouse had some before: an upgrade (a new
    warehouse, which got them all, is not one), for ops to see in the run's summary."""
    rows = con.execute(
        "SELECT name, applied_at >= ? FROM etl.schema_migrations ORDER BY version", [since]
    ).fetchall()
    return [] if all(new for _, new in rows) else [name for name, new in rows if new]


def open_warehouse(path: Path | str, *, wait_seconds: float = 0.0) -> duckdb.DuckDBPyConnection:
    """Open the warehouse for writing and bring its schema up to date."""
    con = connect(path, wait_seconds=wait_seconds)
    try:
        con.execute(f"SET checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
        migrate(con)
    except BaseException:
        con.close()
        raise
    return con

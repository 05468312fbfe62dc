"""Faults a writer meets that a test cannot cause for real on this machine."""

from __future__ import annotations

import duckdb

NO_SPACE = 'Could not write file "warehouse.duckdb.wal": No space left on device'


class DiskFullAtCommit:
    """A connection whose COMMIT fails as DuckDB's does when the write-ahead log cannot be written:
    the transaction is over (rolled back) and the error says why."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self._con = con

    def __getattr__(self, name):
        return getattr(self._con, name)

    def commit(self):
        self._con.rollback()
        raise duckdb.TransactionException(f"TransactionContext Error: Failed to commit: {NO_SPACE}")

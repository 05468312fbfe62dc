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


def disk_full_while_writing(monkeypatch) -> None:
    """Every xlsx or csv write from now on fails part way, as on a full disk (or a writer killed mid-file):
    a workbook gets its first part and no more, a csv its first bytes."""
    import errno
    import zipfile

    import polars as pl

    def full() -> OSError:
        return OSError(errno.ENOSPC, "No space left on device")

    def first_part_only(method):
        def write(archive, *args, **kwargs):
            if archive.filelist:
                raise full()
            return method(archive, *args, **kwargs)

        return write

    def first_bytes_only(frame, path, *args, **kwargs):
        with open(path, "wb") as partial:
            partial.write("\ufeff经销商".encode())
        raise full()

    monkeypatch.setattr(zipfile.ZipFile, "write", first_part_only(zipfile.ZipFile.write))
    monkeypatch.setattr(zipfile.ZipFile, "writestr", first_part_only(zipfile.ZipFile.writestr))
    monkeypatch.setattr(pl.DataFrame, "write_csv", first_bytes_only)

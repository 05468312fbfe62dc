"""A COMMIT that fails (the disk is full) is reported as itself, and leaves the warehouse as it was."""

from __future__ import annotations

import duckdb
import pytest
from faults import DiskFullAtCommit

from dealersync.settings import Settings
from dealersync.transforms.quality_summary import Period
from dealersync.warehouse.db import migrate, open_warehouse
from dealersync.warehouse.summaries import alert_levels, refresh_summaries


def test_summaries_that_cannot_be_committed_say_the_disk_is_full(tmp_path):
    # Before: the rollback after the failed COMMIT raised "cannot rollback - no transaction is
    # active", and that was all ops saw of a full disk.
    con = open_warehouse(tmp_path / "warehouse.duckdb")
    with pytest.raises(duckdb.TransactionException, match="No space left on device"):
        refresh_summaries(DiskFullAtCommit(con), [Period.parse("2026-W47")], alert_levels(Settings()))
    assert con.execute("SELECT count(*) FROM mart.quality_kpi").fetchall() == [(0,)]
    con.close()


def test_a_migration_that_cannot_be_committed_says_the_disk_is_full():
    con = duckdb.connect()
    with pytest.raises(duckdb.TransactionException, match="No space left on device"):
        migrate(DiskFullAtCommit(con))
    con.close()

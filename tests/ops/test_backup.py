"""Backups before a run, the newest N kept, and restore bringing a warehouse back exactly."""

from __future__ import annotations

import shutil
import subprocess
import sys

import duckdb
import pytest
from ops_helpers import warehouse_digest

from dealersync.warehouse.backup import BEFORE_RESTORE, DAMAGED, back_up, find_backup, list_backups, restore
from dealersync.warehouse.db import WarehouseError, connect, open_warehouse

HEADERS = 16384  # the bytes of a DuckDB file before its first block: its file and database headers


@pytest.fixture
def warehouse(loaded_warehouse, tmp_path):
    """A loaded warehouse of this test's own."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(loaded_warehouse, path)
    return path


def test_a_restored_backup_equals_the_warehouse_it_was_taken_from(warehouse, tmp_path):
    original = warehouse_digest(warehouse)
    con = open_warehouse(warehouse)
    backup = back_up(con, warehouse, tmp_path / "backups", keep=3)
    # The night goes on: a change after the backup...
    con.execute(
        "DELETE FROM core.follow_up_calls WHERE call_id IN (SELECT call_id FROM core.follow_up_calls LIMIT 5)"
    )
    con.execute("UPDATE core.service_visits SET amount = amount + 1")
    con.close()
    assert warehouse_digest(warehouse) != original
    # ...which the restore undoes exactly, row for row.
    saved = restore(backup, warehouse, tmp_path / "backups")
    assert warehouse_digest(warehouse) == original
    assert [b.label for b in list_backups(warehouse, tmp_path / "backups") if b.path == saved] == [
        BEFORE_RESTORE
    ]
    assert warehouse_digest(saved) != original  # the replaced warehouse is kept, changes and all


def test_a_backup_taken_while_the_writer_holds_uncheckpointed_changes_has_them(warehouse, tmp_path):
    con = open_warehouse(warehouse)
    con.execute("SET checkpoint_threshold = '1GB'")  # keep the change in the write-ahead log
    con.execute("UPDATE core.dealers SET city = 'changed before the backup'")
    backup = back_up(con, warehouse, tmp_path / "backups", keep=3)
    con.close()
    copy = connect(backup, read_only=True)
    assert copy.execute("SELECT DISTINCT city FROM core.dealers").fetchall() == [
        ("changed before the backup",)
    ]
    copy.close()


def test_the_writer_still_holds_the_warehouse_after_taking_a_backup(warehouse, tmp_path):
    # Copying the file in the writer's own process closed a descriptor of it, and POSIX then dropped
    # DuckDB's lock: for the rest of the night another process could open the warehouse and write it.
    con = open_warehouse(warehouse)
    back_up(con, warehouse, tmp_path / "backups", keep=3)
    second_writer = subprocess.run(
        [sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1])", str(warehouse)],
        capture_output=True,
        text=True,
    )
    con.close()
    assert second_writer.returncode != 0
    assert "Could not set lock" in second_writer.stderr


def test_a_copy_a_killed_run_left_half_made_is_removed_by_the_next_backup(warehouse, tmp_path):
    # Before: a run killed while copying left a hidden .part file as big as the warehouse, forever.
    folder = tmp_path / "backups"
    folder.mkdir()
    left = folder / ".warehouse-20261126-020001.duckdb.part"
    left.write_bytes(b"half a warehouse")
    other = folder / ".warehouse-test-20261126-020001.duckdb.part"  # another warehouse's, being made
    other.write_bytes(b"not ours")
    con = open_warehouse(warehouse)
    back_up(con, warehouse, folder, keep=3)
    con.close()
    assert not left.exists()
    assert other.exists()


def test_a_restore_waits_for_a_reader_to_let_go_as_a_run_does(warehouse, tmp_path):
    # Before: a query open for a moment made the restore give up at once (exit 3), though readers are
    # promised the same grace as by a run.
    con = open_warehouse(warehouse)
    backup = back_up(con, warehouse, tmp_path / "backups", keep=3)
    con.close()
    reading = (
        "import duckdb, sys, time; con = duckdb.connect(sys.argv[1], read_only=True); "
        "print(flush=True); time.sleep(1)"
    )
    reader = subprocess.Popen([sys.executable, "-c", reading, str(warehouse)], stdout=subprocess.PIPE)
    reader.stdout.readline()  # the reader has the warehouse open
    saved = restore(backup, warehouse, tmp_path / "backups")
    reader.wait()
    assert saved is not None and saved.exists()


def test_only_the_newest_backups_are_kept(warehouse, tmp_path):
    folder = tmp_path / "backups"
    con = open_warehouse(warehouse)
    taken = [back_up(con, warehouse, folder, keep=2) for _ in range(4)]
    con.close()
    kept = list_backups(warehouse, folder)
    assert [b.path for b in kept] == [taken[3], taken[2]]
    assert not any(p.name.endswith(".part") for p in folder.iterdir())


def test_backups_of_another_warehouse_in_the_same_folder_are_left_alone(warehouse, tmp_path):
    folder = tmp_path / "backups"
    other = tmp_path / "other.duckdb"
    shutil.copyfile(warehouse, other)
    con = open_warehouse(other)
    theirs = back_up(con, other, folder, keep=1)
    con.close()
    con = open_warehouse(warehouse)
    for _ in range(3):
        back_up(con, warehouse, folder, keep=1)
    con.close()
    assert theirs.exists()
    assert len(list_backups(warehouse, folder)) == 1


def test_restore_refuses_a_file_that_is_not_a_warehouse_and_changes_nothing(warehouse, tmp_path):
    before = warehouse_digest(warehouse)
    text = tmp_path / "notes.duckdb"
    text.write_text("not a database")
    with pytest.raises(WarehouseError, match="not a warehouse backup"):
        restore(text, warehouse, tmp_path / "backups")
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(WarehouseError, match="not a dealersync warehouse"):
        restore(empty, warehouse, tmp_path / "backups")
    assert warehouse_digest(warehouse) == before
    assert not (tmp_path / "backups").exists()


def test_restore_into_a_missing_warehouse_puts_the_backup_there(warehouse, tmp_path):
    con = open_warehouse(warehouse)
    backup = back_up(con, warehouse, tmp_path / "backups", keep=1)
    con.close()
    target = tmp_path / "new" / "warehouse.duckdb"
    assert restore(backup, target, tmp_path / "backups") is None
    assert warehouse_digest(target) == warehouse_digest(warehouse)


def test_a_backup_is_found_by_its_name_or_its_path(warehouse, tmp_path):
    folder = tmp_path / "backups"
    con = open_warehouse(warehouse)
    backup = back_up(con, warehouse, folder, keep=1)
    con.close()
    assert find_backup(backup.name, warehouse, folder) == backup
    assert find_backup(str(backup), warehouse, folder) == backup
    with pytest.raises(WarehouseError, match=backup.name):  # the message lists what there is
        find_backup("warehouse-19990101-000000.duckdb", warehouse, folder)


def test_a_damaged_warehouse_is_replaced_by_its_backup_and_kept_as_it_was(warehouse, tmp_path):
    con = open_warehouse(warehouse)
    backup = back_up(con, warehouse, tmp_path / "backups", keep=1)
    con.close()
    original = warehouse_digest(warehouse)
    # The disk lost all but the file's headers (a crash of the machine, a copy cut short): DuckDB cannot
    # open it.
    damaged = warehouse.read_bytes()[:HEADERS]
    warehouse.write_bytes(damaged)
    with pytest.raises(WarehouseError, match="cannot open the warehouse"):
        connect(warehouse, read_only=True)

    # Before, the restore opened the damaged warehouse to back it up first, and stopped there: the one
    # command that puts a warehouse right refused to, exactly when it was needed.
    saved = restore(backup, warehouse, tmp_path / "backups")
    assert warehouse_digest(warehouse) == original
    assert [b.label for b in list_backups(warehouse, tmp_path / "backups") if b.path == saved] == [DAMAGED]
    assert saved.read_bytes() == damaged
    assert [b.label for b in list_backups(warehouse, tmp_path / "backups")] == [DAMAGED, ""]


def test_the_message_of_a_warehouse_that_cannot_be_opened_names_the_restore(warehouse):
    warehouse.write_bytes(warehouse.read_bytes()[:HEADERS])
    with pytest.raises(WarehouseError, match="dealersync restore"):
        connect(warehouse, read_only=True)


def test_copies_taken_within_one_second_list_in_the_order_they_were_taken(warehouse, tmp_path, monkeypatch):
    # The backup before a run and the damaged warehouse a restore sets aside, in the same second: both
    # were stamped alike and listed in whatever order the folder gave them.
    from datetime import datetime

    import dealersync.warehouse.backup as module

    class FrozenClock(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 11, 27, 2, 0, 1)

    monkeypatch.setattr(module, "datetime", FrozenClock)
    folder = tmp_path / "backups"
    con = open_warehouse(warehouse)
    backup = back_up(con, warehouse, folder, keep=None)
    again = back_up(con, warehouse, folder, keep=None)
    con.close()
    warehouse.write_bytes(warehouse.read_bytes()[:HEADERS])
    damaged = restore(backup, warehouse, folder)
    assert [b.path for b in list_backups(warehouse, folder)] == [damaged, again, backup]
    assert (backup.name, again.name, damaged.name) == (
        "warehouse-20261127-020001.duckdb",
        "warehouse-20261127-020001.1.duckdb",
        "warehouse-20261127-020001-damaged.2.duckdb",
    )

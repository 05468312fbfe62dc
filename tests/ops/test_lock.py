"""One run at a time: the warehouse's run lock."""

from __future__ import annotations

import threading
import time

import pytest

from dealersync.warehouse.db import WarehouseError, open_warehouse
from dealersync.warehouse.lock import WarehouseBusy, holder, warehouse_lock


def test_a_second_holder_is_refused_with_who_holds_it(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with (
        warehouse_lock(warehouse, what="the nightly run as of 2026-11-20"),
        pytest.raises(WarehouseBusy) as busy,
        warehouse_lock(warehouse, what="a backfill"),
    ):
        pytest.fail("two holders at once")
    message = str(busy.value)
    assert "the nightly run as of 2026-11-20" in message
    assert "nothing was done" in message
    assert "DEALERSYNC_LOCK_TIMEOUT_SECONDS" in message


def test_the_lock_is_free_again_once_released(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with warehouse_lock(warehouse, what="first"):
        assert holder(warehouse)["what"] == "first"
    assert holder(warehouse) is None
    with warehouse_lock(warehouse, what="second"):
        assert holder(warehouse)["what"] == "second"


def test_a_waiting_holder_gets_the_lock_when_it_is_released_in_time(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    taken = threading.Event()

    def first_run():
        with warehouse_lock(warehouse, what="first"):
            taken.set()
            time.sleep(0.6)

    thread = threading.Thread(target=first_run)
    thread.start()
    taken.wait(5)
    started = time.monotonic()
    with warehouse_lock(warehouse, what="second", wait_seconds=10):
        waited = time.monotonic() - started
    thread.join()
    assert 0.2 < waited < 10


def test_waiting_gives_up_after_the_timeout(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with warehouse_lock(warehouse, what="first"):
        started = time.monotonic()
        with (
            pytest.raises(WarehouseBusy, match=r"after waiting 0\.5 s"),
            warehouse_lock(warehouse, what="second", wait_seconds=0.5),
        ):
            pass
        assert time.monotonic() - started >= 0.5


@pytest.mark.parametrize("what", ["a text file", "a folder"])
def test_no_lock_file_is_made_beside_something_that_is_not_a_warehouse(tmp_path, what):
    """`-w /etc/passwd` must not leave /etc/passwd.lock, the lock file of other tools."""
    target = tmp_path / "passwd"
    if what == "a folder":
        target.mkdir()
    else:
        target.write_text("root:x:0:0::/root:/bin/bash\n")
    with (
        pytest.raises(WarehouseError, match="not a DuckDB warehouse file"),
        warehouse_lock(target, what="a run"),
    ):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["passwd"]


def test_a_new_warehouse_and_a_real_one_are_locked(tmp_path):
    with warehouse_lock(tmp_path / "new.duckdb", what="a run"):
        pass
    open_warehouse(tmp_path / "w.duckdb").close()
    with warehouse_lock(tmp_path / "w.duckdb", what="a run"):
        assert (tmp_path / "w.duckdb.lock").exists()

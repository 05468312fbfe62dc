"""The ops commands as ops meet them: restore, backfill; one line and an exit code for every mistake."""

from __future__ import annotations

import shutil
import socket
from datetime import date, timedelta

import pytest
from cli_main import run_main as dealersync
from ops_helpers import TODAY, warehouse_digest

from dealersync.warehouse.backup import back_up, list_backups
from dealersync.warehouse.db import connect, open_warehouse
from dealersync.warehouse.lock import warehouse_lock


@pytest.fixture
def warehouse(loaded_warehouse, tmp_path, monkeypatch):
    monkeypatch.setenv("DEALERSYNC_DATA_DIR", str(tmp_path))
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(loaded_warehouse, path)
    return path


def test_restore_lists_the_backups_then_brings_one_back(warehouse, capsys, monkeypatch):
    original = warehouse_digest(warehouse)
    con = open_warehouse(warehouse)
    backup = back_up(con, warehouse, warehouse.parent / "backups", keep=7)
    con.execute("DELETE FROM core.service_visits")
    con.close()

    code, out, _ = dealersync(["restore", "-w", warehouse], capsys, monkeypatch)
    assert code == 0 and backup.name in out

    code, out, err = dealersync(["restore", backup.name, "-w", warehouse], capsys, monkeypatch)
    assert code == 0, err
    assert warehouse_digest(warehouse) == original
    (replaced,) = [b for b in list_backups(warehouse, warehouse.parent / "backups") if b.label]
    assert replaced.path.name in " ".join(out.split())


NEXT_WEEK = date.today() + timedelta(days=7)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["restore", "warehouse-20200101-000000.duckdb"], "no backup warehouse-20200101-000000.duckdb"),
        (["backfill", "--from", "2026-11-20", "--to", "2026-11-01"], "ends (2026-11-01) before it starts"),
        (["backfill", "--from", "2026-11-01", "--to", "2026/11/20"], "is not a date"),
        (
            ["backfill", "--from", str(NEXT_WEEK - timedelta(days=3)), "--to", str(NEXT_WEEK)],
            "is after today",
        ),
        (
            ["backfill", "--from", "2026-11-01", "--to", "2026-11-02", "-w", "nowhere.duckdb"],
            "no warehouse at",
        ),
        (["run", "--inbox", "nowhere"], "no inbox folder at nowhere"),
        (["run", "--inbox", ".", "--today", str(NEXT_WEEK)], "is after today"),  # a typo in the year, say
    ],
)
def test_ops_mistakes_end_in_one_line_and_exit_2(args, message, warehouse, capsys, monkeypatch):
    code, _, err = dealersync(args, capsys, monkeypatch)
    assert code == 2
    assert message in " ".join(err.split())
    assert "Traceback" not in err


def test_a_warehouse_folder_where_the_run_lock_cannot_be_made_is_one_line_and_exit_2(
    warehouse, capsys, monkeypatch
):
    # A read-only (or full) warehouse folder: the run lock's OSError came out of restore, backfill and
    # run as a traceback, with exit code 1 ("rows rejected") from backfill and restore.
    not_a_folder = warehouse.parent / "afile"
    not_a_folder.touch()
    code, _, err = dealersync(
        ["restore", warehouse, "-w", not_a_folder / "warehouse.duckdb"], capsys, monkeypatch
    )
    assert code == 2
    assert "cannot create the run lock" in " ".join(err.split())
    assert "Traceback" not in err


def test_deploy_with_no_inbox_folder_is_one_line_and_exit_2_before_serving(warehouse, capsys, monkeypatch):
    # Before: the deployment was registered and served, and the mistyped inbox surfaced as a failed run at
    # 02:00 the next night.
    served = []
    monkeypatch.setattr("dealersync.flows.deploy.serve_nightly", served.append)
    code, _, err = dealersync(["deploy", "--inbox", "nowhere", "-w", warehouse], capsys, monkeypatch)
    assert code == 2 and "no inbox folder at nowhere" in " ".join(err.split()) and "Traceback" not in err
    assert served == []


def test_prefect_server_on_a_port_in_use_is_one_line_and_exit_2(capsys, monkeypatch):
    # Before: Prefect said so itself and exited 1, which tells a scheduler "success with rejected rows".
    started = []
    monkeypatch.setattr("os.execve", lambda *args: started.append(args))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = dealersync(["prefect-server", "--port", port], capsys, monkeypatch)
    assert code == 2 and f"cannot listen on 127.0.0.1:{port}" in " ".join(err.split())
    assert started == []


def test_an_out_path_that_cannot_be_written_is_one_line(warehouse, capsys, monkeypatch):
    a_file = warehouse.parent / "afile"
    a_file.touch()
    for args, message in (
        (["due-list", "--dealer", "D0001", "--out", a_file], "is a file; give the folder"),
        (["due-list", "--dealer", "D0001", "--out", a_file / "sub"], "cannot write to"),
        (["summary", "--week", "2026-W47", "--out", warehouse.parent], "is a folder; give the file to write"),
    ):
        code, _, err = dealersync([*args, "--today", TODAY.isoformat()], capsys, monkeypatch)
        assert code == 2 and message in " ".join(err.split()) and "Traceback" not in err, (args, err)


def test_a_restore_while_a_run_holds_the_warehouse_waits_for_nothing_and_exits_3(
    warehouse, capsys, monkeypatch
):
    con = open_warehouse(warehouse)
    backup = back_up(con, warehouse, warehouse.parent / "backups", keep=7)
    con.close()
    before = warehouse_digest(warehouse)
    with warehouse_lock(warehouse, what="the nightly run as of 2026-11-20"):
        code, _, err = dealersync(["restore", backup.name], capsys, monkeypatch)
    assert code == 3
    assert "in use by the nightly run as of 2026-11-20" in " ".join(err.split())
    assert warehouse_digest(warehouse) == before


@pytest.mark.slow
@pytest.mark.xdist_group("prefect")
def test_backfill_recomputes_the_range_and_says_what_it_did(warehouse, capsys, monkeypatch, prefect_harness):
    first = TODAY - timedelta(days=6)
    night_files = warehouse.with_name("exports") / "due_lists" / str(first)  # a night's files of that day
    night_files.mkdir(parents=True)
    (night_files / "dealer_D0001.xlsx").write_bytes(b"as the night wrote it")
    args = ["backfill", "--from", first, "--to", TODAY, "-w", warehouse]
    code, out, err = dealersync(args, capsys, monkeypatch)
    assert code == 0, err
    assert "Recomputed 7 day(s)" in out and "2026-W47" in out
    said = " ".join(out.split())
    assert f"files written before for 1 of these day(s) ({first})" in said
    assert "dealersync due-list --date DAY" in said
    con = connect(warehouse, read_only=True)
    days = con.execute("SELECT count(*) FROM mart.due_list_days WHERE as_of BETWEEN ? AND ?", [first, TODAY])
    assert days.fetchall() == [(7,)]
    con.close()
    once = warehouse_digest(warehouse)
    assert dealersync(args, capsys, monkeypatch)[0] == 0
    assert warehouse_digest(warehouse) == once


@pytest.mark.parametrize("command", [["due-list", "--date", "2026-11-20"], ["summary", "--week", "2026-W47"]])
def test_a_due_list_or_report_waits_for_the_run_lock_not_only_the_file(
    command, warehouse, capsys, monkeypatch
):
    # A restore holds the run lock while it swaps the file: a due list written then would go to the file
    # being replaced. Like backfill, these commands take the run lock.
    with warehouse_lock(warehouse, what="a restore"):
        code, _, err = dealersync([*command, "-w", warehouse], capsys, monkeypatch)
    assert code == 3
    assert "in use by a restore" in " ".join(err.split())
    assert not warehouse.with_name("exports").exists()

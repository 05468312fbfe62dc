"""Crash safety: a real night killed with SIGKILL at any of many points, then run again, leaves the warehouse
exactly as one uninterrupted night does: the same rows in every raw, core, quarantine and mart table, every
file recorded as loaded once and only if its rows are there, every file moved out of the inbox once.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import time
from datetime import date
from pathlib import Path

import pytest
import warehouse_state
from contract_books import contract_workbook

NIGHT_1, NIGHT_2 = date(2026, 3, 2), date(2026, 3, 3)
ENOUGH_POINTS = 24


def _mtime_order(paths: list[Path]) -> None:
    """Give files increasing modification times, so the inbox takes them in this order."""
    for offset, path in enumerate(paths):
        os.utime(path, (1_700_000_000 + offset, 1_700_000_000 + offset))


def two_nights(base: Path) -> Path:
    """A warehouse after night 1, and night 2's inbox: a corrected resend, a duplicate, a new dealer, changed
    customers (history), and a file to refuse. Returns the folder holding warehouse.duckdb and inbox/."""
    from dealersync.flows.nightly import nightly
    from dealersync.samples import generate_inbox

    bad = generate_inbox(
        base / "bad", today=NIGHT_1, dealers=3, visits_per_dealer=8, seed=5, bad_cell_rate=0.08
    )
    fixed = generate_inbox(base / "fixed", today=NIGHT_1, dealers=3, visits_per_dealer=8, seed=5)
    root = base / "root"
    inbox = root / "inbox"
    inbox.mkdir(parents=True)
    first = [bad.reference_file, bad.dealer_files["D0001"], bad.dealer_files["D0002"], bad.warehouse_file]
    _mtime_order([Path(shutil.copy2(p, inbox / p.name)) for p in first])
    nightly(inbox=inbox, warehouse=root / "warehouse.duckdb", today=NIGHT_1)

    second = [
        shutil.copy2(
            fixed.dealer_files["D0001"], inbox / fixed.dealer_files["D0001"].name
        ),  # corrected resend
        shutil.copy2(bad.dealer_files["D0002"], inbox / "D0002_客服台账(重发).xlsx"),  # the same bytes again
        shutil.copy2(bad.dealer_files["D0003"], inbox / bad.dealer_files["D0003"].name),  # a new dealer
    ]
    customers = [
        {"dealer_code": "D0002", "customer_id": c, "name": "改名客户", "phone": f"1390000000{i}", "vin": v,
         "model": "DS-100"}
        for i, (c, v) in enumerate(_customers(root / "warehouse.duckdb", "D0002", 3))
    ]  # fmt: skip
    second.append(contract_workbook(inbox / "D0002_客户变更.xlsx", {"customers": customers}))
    refused = inbox / "D0001_导出.xlsx"
    refused.write_text("经销商代码,客户编号\nD0001,C00001\n", encoding="utf-8")
    _mtime_order([Path(p) for p in [*second, refused]])
    shutil.rmtree(base / "bad"), shutil.rmtree(base / "fixed")
    return root


def _customers(warehouse: Path, dealer: str, count: int) -> list[tuple[str, str]]:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "SELECT customer_id, vin FROM core.customer_vehicles WHERE dealer_code = ? ORDER BY 1 LIMIT ?",
            [dealer, count],
        ).fetchall()


def copy_of(baseline: Path, target: Path) -> Path:
    shutil.copytree(baseline, target, ignore=shutil.ignore_patterns("backups", "*.lock"))
    return target


def kill_points(labels: list[str]) -> list[tuple[int, float | None]]:
    """(event, delay): 24 kills spread over the night, each before the event it names.

    Before the run; during the backup's checkpoint; before and after the skipped file's move and the refused
    file's move (it is recorded before it moves); in the first file's transaction (first statement, middle,
    commit), between its commit and its move, and after its move; in the next two loading transactions (a
    file's, or a group's of dealer files) the first statement, the middle, the commit, the step after it
    and every move after; the due list's and the summaries' commits; the close; and kills that land 2 ms
    into each of the three commits.
    HARDENING_CRASH_EVERY=N kills at every Nth event besides (1: at all of them, a long run).
    """
    commits = [i for i, label in enumerate(labels) if label.startswith("commit")]
    begins = [i for i, label in enumerate(labels) if label.startswith("begin")]
    moves = [i for i, label in enumerate(labels) if label.startswith(("move", "moved"))]
    transactions = list(zip(begins, commits, strict=False))[:3]
    (begin1, commit1), *later = transactions
    loads = [m for m in moves if m > commit1]
    points = {0, len(labels) - 1, *[m for m in moves if m < begin1]}
    points.update(i for i, label in enumerate(labels) if "CHECKPOINT" in label.upper())
    points.update({begin1 + 1, (begin1 + commit1) // 2, commit1, commit1 + 1, loads[0], loads[1]})
    for begin, commit in later:  # a group of dealer files loads in one transaction: the night has fewer
        points.update({begin + 1, (begin + commit) // 2, commit, commit + 1})
        points.update(m for m in loads if m > commit)
    points.update(commits[3:5])
    every = int(os.environ.get("HARDENING_CRASH_EVERY", 0))
    if every:
        points.update(range(0, len(labels), every))
    chosen = [(p, None) for p in sorted(p for p in points if 0 <= p < len(labels))]
    return chosen + [(commit, 0.002) for _, commit in transactions]


@pytest.mark.slow
@pytest.mark.xdist_group("prefect")
def test_a_night_killed_at_any_point_then_run_again_equals_an_uninterrupted_night(tmp_path, prefect_harness):
    import killswitch
    from prefect.settings import PREFECT_API_URL

    from dealersync.flows.nightly import nightly

    baseline = two_nights(tmp_path / "baseline")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["killswitch", "dealersync.flows.nightly"])
    api_url = PREFECT_API_URL.value()

    def child_night(root: Path, kill_at: int | None, delay: float | None = None) -> int:
        process = context.Process(target=killswitch.night, args=(root, NIGHT_2, api_url, kill_at, delay))
        process.start()
        process.join(timeout=300)
        return process.exitcode

    # The uninterrupted night, through the same kill switch (never firing): its events and its warehouse.
    reference = copy_of(baseline, tmp_path / "reference")
    assert child_night(reference, None) == 0
    labels = json.loads((reference / "events.json").read_text(encoding="utf-8"))
    expected = warehouse_state.content(reference / "warehouse.duckdb")
    expected_files = warehouse_state.files(reference / "warehouse.duckdb")
    loaded = {(name, sha) for name, sha, status, _ in expected_files if status == "loaded"}
    refused = {(name, sha, reason) for name, sha, status, reason in expected_files if status == "refused"}
    assert len(loaded) == 7 and len(refused) == 1  # night 1: 4 files; night 2: resend, new dealer, changes
    resolved = [r for r in expected["quarantine.rejected_rows"] if r[-1]]  # resolved_by_run comes last
    assert resolved, "the corrected resend resolves entries"

    points = kill_points(labels)
    assert len(points) >= ENOUGH_POINTS
    report = []
    for number, (kill_at, delay) in enumerate(points):
        root = copy_of(baseline, tmp_path / f"kill{number}")
        started = time.perf_counter()
        exit_code = child_night(root, kill_at, delay)
        assert exit_code == -9, (kill_at, labels[kill_at], exit_code)
        killed = time.perf_counter()
        nightly(inbox=root / "inbox", warehouse=root / "warehouse.duckdb", today=NIGHT_2)
        warehouse = root / "warehouse.duckdb"
        took = f"{killed - started:4.1f} s + {time.perf_counter() - killed:4.1f} s"
        report.append(f"{kill_at:4} {'+' + str(delay) if delay else '':7} {took}  {labels[kill_at]}")
        assert warehouse_state.differences(expected, warehouse_state.content(warehouse)) == [], report[-1]
        files = warehouse_state.files(warehouse)
        assert {(n, s) for n, s, status, _ in files if status == "loaded"} == loaded, report[-1]
        assert sorted(s for _, s, status, _ in files if status == "loaded") == sorted(s for _, s in loaded)
        assert {(n, s, r) for n, s, status, r in files if status == "refused"} == refused, report[-1]
        assert not [f for f in files if f[2] == "failed"], report[-1]
        assert warehouse_state.loaded_without_data(warehouse) == [], report[-1]
        assert warehouse_state.unfinished_runs(warehouse) == [], report[-1]
        placed = sorted(p.name for p in (root / "processed").rglob("*") if p.is_file())
        rejected = sorted(p.name for p in (root / "rejected").rglob("*") if p.is_file())
        assert not [p for p in (root / "inbox").iterdir() if p.is_file()], report[-1]
        assert placed == sorted(p.name for p in (reference / "processed").rglob("*") if p.is_file()), report[
            -1
        ]
        assert rejected == sorted(p.name for p in (reference / "rejected").rglob("*") if p.is_file()), report[
            -1
        ]
        shutil.rmtree(root)
    print(f"\n{len(labels)} events; killed at {len(points)} points:\n" + "\n".join(report))

"""Hostile files are refused with a reason, quickly and in bounded memory, and the rest of the night loads."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
from hostile_files import CUSTOMER_HEADERS, CUSTOMER_ROW, HOSTILE, Hostile
from workbooks import write_xlsx

from dealersync.inbox import printable_name, safe_name
from dealersync.pipeline import process_file
from dealersync.settings import Settings
from dealersync.transforms.validate import Refs

TODAY = date(2026, 3, 2)
HERE = Path(__file__).resolve().parent
MEMORY_LIMIT_MB = 200  # generous: the measured refusals stay under 50 MB (refusal_costs.py)


def refused(path: Path, aliases, **limits):
    return process_file(path, today=TODAY, aliases=aliases, refs=Refs(), settings=Settings(**limits))


@pytest.mark.parametrize("hostile", HOSTILE, ids=lambda h: h.label)
def test_each_hostile_file_is_refused_with_a_reason_a_steward_can_act_on(tmp_path, aliases, hostile: Hostile):
    parsed = refused(hostile.build(tmp_path), aliases)
    assert parsed.status == "refused"
    assert hostile.reason in parsed.reason
    assert (
        "send it again" in parsed.reason
        or "send the file again" in parsed.reason
        or "send them again" in parsed.reason
    )
    assert parsed.file_name.isprintable()  # what is recorded and shown holds no escape sequence or odd byte


def test_a_sheet_with_more_rows_than_the_configured_limit_is_refused(tmp_path, aliases):
    rows = [CUSTOMER_HEADERS] + [[*CUSTOMER_ROW[:1], f"C{i:05d}", *CUSTOMER_ROW[2:]] for i in range(12)]
    path = write_xlsx(tmp_path / "customers.xlsx", {"客户档案": rows})
    assert "has 13 rows, more than the 10" in refused(path, aliases, max_rows=10).reason
    assert refused(path, aliases, max_rows=13).status == "parsed"


def test_hostile_files_are_refused_in_bounded_memory(tmp_path):
    for hostile in HOSTILE:
        hostile.build(tmp_path)
    shown = subprocess.run(
        [sys.executable, str(HERE / "refusal_costs.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    results = [json.loads(line) for line in shown.splitlines()]
    assert len(results) == len(HOSTILE)
    for result in results:
        print(f"{result['name']:45} {result['seconds']:6.3f} s {result['peak_mb']:6.1f} MB")
        assert result["status"] == "refused", result
        assert result["peak_mb"] < MEMORY_LIMIT_MB, result


@pytest.mark.slow
@pytest.mark.xdist_group("prefect")
def test_a_night_refuses_every_hostile_file_and_loads_the_others(tmp_path, prefect_harness):
    from dealersync.flows.nightly import nightly
    from dealersync.samples import generate_inbox

    inbox = tmp_path / "inbox"
    manifest = generate_inbox(inbox, today=TODAY, dealers=2, visits_per_dealer=20, seed=3)
    hostile_names = {hostile.build(inbox).name: hostile for hostile in HOSTILE}
    result = nightly(inbox=inbox, warehouse=tmp_path / "warehouse.duckdb", today=TODAY)

    statuses = {f.file_name: f.status for f in result.files}
    assert {statuses[p.name] for p in manifest.files} == {"loaded"}
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        recorded = dict(
            con.execute("SELECT file_name, reason FROM etl.files WHERE status = 'refused'").fetchall()
        )
        assert con.execute("SELECT count(*) FROM core.service_visits").fetchone()[0] > 0
    rejected = tmp_path / "rejected" / TODAY.isoformat()
    assert len(recorded) == len(HOSTILE)
    for name, hostile in hostile_names.items():
        reason = recorded[printable_name(name)]
        assert hostile.reason in reason
        assert (rejected / safe_name(name)).is_file(), name
        assert (rejected / f"{safe_name(name)}.reason.txt").read_text(encoding="utf-8").strip() == reason
    assert not [p for p in inbox.iterdir() if p.is_file()]
    assert result.exit_code == 1

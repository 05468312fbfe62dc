"""The run report in Prefect: files, quarantine and outputs are there; no customer's phone or address is."""

from __future__ import annotations

import json
import re
from uuid import UUID

import pytest
from ops_helpers import TODAY, copy_inbox

from dealersync.flows.nightly import nightly
from dealersync.warehouse.db import connect

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect")]


def readable(data) -> str:
    """An artifact's data as a person reads it (a table's JSON without \\u escapes)."""
    try:
        return json.dumps(json.loads(data), ensure_ascii=False)
    except (TypeError, ValueError):
        return str(data)


def what_prefect_holds(flow_run_id: str) -> tuple[dict[str, str], str]:
    """The run's artifacts (key -> their data as text) and all its logs (flow and tasks) as one text."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, LogFilter, LogFilterFlowRunId

    with get_client(sync_client=True) as client:
        runs = FlowRunFilter(id=FlowRunFilterId(any_=[UUID(flow_run_id)]))
        artifacts = {a.key: readable(a.data) for a in client.read_artifacts(flow_run_filter=runs)}
        logs = client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[UUID(flow_run_id)]))
        )
    return artifacts, "\n".join(log.message for log in logs)


def test_the_report_has_the_files_and_counts_and_no_phone_or_address(
    sample_inbox, tmp_path, monkeypatch, prefect_harness
):
    monkeypatch.setenv("DEALERSYNC_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DEALERSYNC_TASK_RUNNER", "thread")
    inbox = copy_inbox(sample_inbox, tmp_path / "inbox")
    result = nightly(inbox=inbox, warehouse=tmp_path / "warehouse.duckdb", today=TODAY)

    con = connect(tmp_path / "warehouse.duckdb", read_only=True)
    (flow_run_id,) = con.execute("SELECT flow_run_id FROM etl.runs").fetchone()
    written = {
        value
        for (value,) in con.execute(
            "SELECT phone FROM raw.customers UNION SELECT address FROM raw.customers "
            "UNION SELECT phone FROM core.customers UNION SELECT address FROM core.customers "
            "UNION SELECT cell_value FROM quarantine.entries WHERE field IN ('phone', 'address')"
        ).fetchall()
        if value and len(value.strip()) >= 6
    }
    con.close()
    artifacts, logs = what_prefect_holds(flow_run_id)

    assert {"nightly-files", "nightly-quarantine", "nightly-exports", "nightly-progress"} <= set(artifacts)
    for outcome in result.files:
        assert outcome.file_name in artifacts["nightly-files"]
    assert "Due lists" in artifacts["nightly-exports"] and "check" in artifacts["nightly-exports"]
    assert "rejected" in artifacts["nightly-quarantine"]

    shown = "\n".join([*artifacts.values(), logs])
    digits_shown = re.sub(r"\D", " ", shown)
    assert written, "the sample has phones and addresses"
    for value in written:
        assert value.strip() not in shown
        digits = re.sub(r"\D", "", value)
        if len(digits) >= 7:
            assert digits not in digits_shown.split()

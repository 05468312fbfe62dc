"""A night killed after loading files: the next night writes the marked copies the killed one owed."""

from __future__ import annotations

import pytest
from ops_helpers import TODAY, copy_inbox

from dealersync.flows import nightly as nightly_module
from dealersync.flows.nightly import nightly

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect")]


def steward_files(root) -> list[str]:
    folder = root / "exports" / "steward"
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_the_night_after_a_killed_one_writes_the_marked_copies_it_owed(
    sample_inbox, tmp_path, monkeypatch, prefect_harness
):
    monkeypatch.setenv("DEALERSYNC_TASK_RUNNER", "thread")
    uninterrupted = tmp_path / "uninterrupted"
    nightly(
        inbox=copy_inbox(sample_inbox, uninterrupted / "inbox"),
        warehouse=uninterrupted / "warehouse.duckdb",
        today=TODAY,
    )
    owed = steward_files(uninterrupted)
    assert owed

    # What SIGKILL leaves once the files are loaded: the run still 'running', no marked copy written yet
    # (they are written after the last file loads). Before, the next night never wrote them.
    killed = tmp_path / "killed"
    with monkeypatch.context() as kill:
        kill.setattr(nightly_module, "_start_steward_copies", lambda *args: [])
        kill.setattr(nightly_module, "finish_run", lambda *args, **kwargs: None)
        nightly(
            inbox=copy_inbox(sample_inbox, killed / "inbox"),
            warehouse=killed / "warehouse.duckdb",
            today=TODAY,
        )
    assert not (killed / "exports" / "steward").exists()

    nightly(inbox=killed / "inbox", warehouse=killed / "warehouse.duckdb", today=TODAY)
    assert steward_files(killed) == owed

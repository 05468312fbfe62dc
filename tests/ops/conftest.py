"""Ops fixtures: a generated inbox and a warehouse loaded from it without Prefect."""

from __future__ import annotations

from pathlib import Path

import pytest
from ops_helpers import TODAY, load_without_prefect

from dealersync.samples import generate_inbox


@pytest.fixture(scope="session")
def sample_inbox(tmp_path_factory) -> Path:
    """A small generated inbox (3 dealers, the warehouse and reference workbooks, 2% bad cells, a bad file)."""
    folder = tmp_path_factory.mktemp("sample") / "inbox"
    generate_inbox(
        folder, today=TODAY, dealers=3, visits_per_dealer=60, seed=5, bad_cell_rate=0.02, with_bad_file=True
    )
    return folder


@pytest.fixture(scope="session")
def loaded_warehouse(sample_inbox, tmp_path_factory) -> Path:
    """A warehouse holding the sample inbox (copy it before changing it)."""
    path = tmp_path_factory.mktemp("loaded") / "warehouse.duckdb"
    load_without_prefect(sample_inbox, path)
    return path

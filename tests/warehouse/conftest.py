"""Warehouse fixtures: a freshly migrated warehouse per test (copied from one migrated once per session)."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from dealersync.warehouse.db import open_warehouse


@pytest.fixture(scope="session")
def migrated_file(tmp_path_factory):
    """A warehouse file with every migration applied, to copy from."""
    path = tmp_path_factory.mktemp("template") / "warehouse.duckdb"
    open_warehouse(path).close()
    return path


@pytest.fixture
def con(migrated_file, tmp_path):
    """A migrated warehouse of its own for one test."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(migrated_file, path)
    connection = duckdb.connect(str(path))
    yield connection
    connection.close()

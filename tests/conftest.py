"""Shared test fixtures: settings isolated from the developer's environment."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@pytest.fixture(scope="session")
def aliases():
    """The shipped alias tables (contract names + aliases.toml)."""
    from dealersync.schemas.aliases import load_aliases

    return load_aliases()

"""Shared test fixtures: an isolated Prefect home, one Prefect harness per session, the alias tables."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import pytest

# Prefect reads these when it is first imported: give the tests their own home and a quiet server.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="dealersync-prefect-")
atexit.register(shutil.rmtree, os.environ["PREFECT_HOME"], ignore_errors=True)
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# The developer's own .env or environment must not steer the tests.
for _name in [n for n in os.environ if n.startswith("DEALERSYNC_") and n != "DEALERSYNC_REQUIRE_BROWSER"]:
    del os.environ[_name]
# Tests write their inboxes moments before each night: no file is still arriving (one test says otherwise).
os.environ["DEALERSYNC_SETTLE_SECONDS"] = "0"


@pytest.fixture(scope="session")
def aliases():
    """The shipped alias tables (contract names + aliases.toml)."""
    from dealersync.schemas.aliases import load_aliases

    return load_aliases()


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect server for the whole session (tests that run real flows use it).

    Mark such tests `@pytest.mark.xdist_group("prefect")` so they share one worker and one server.
    """
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield

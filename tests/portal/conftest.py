"""Fixtures of the portal's HTTP tests: the literal warehouse once per session, and clients with each token."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from portal_seed import ALL_TOKEN, TOKENS, portal_settings, seeded_warehouse


@pytest.fixture(scope="session")
def portal_data(tmp_path_factory):
    """(warehouse, exports) of the literal warehouse, shared read-only by the tests."""
    return seeded_warehouse(tmp_path_factory.mktemp("portal"))


@pytest.fixture(scope="session")
def portal(portal_data):
    """A TestClient factory: `portal(token)` sends that bearer token; `portal(None)` sends none."""
    from dealersync.portal.app import create_app

    app = create_app(portal_settings(*portal_data, TOKENS))

    def client(token: str | None = ALL_TOKEN, **options) -> TestClient:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return TestClient(app, headers=headers, follow_redirects=False, **options)

    return client

"""`dealersync serve`: safe by default, with one clear line for every mistake (never a traceback)."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from dealersync.flows.cli import UserError, app

TOKEN = "a-long-enough-portal-token-0123"


def serve(*args: str, env: dict | None = None):
    return CliRunner().invoke(app, ["serve", *args], env=env)


def test_beyond_loopback_without_a_token_is_refused(tmp_path):
    result = serve("--host", "0.0.0.0", "-w", str(tmp_path / "w.duckdb"))
    assert isinstance(result.exception, UserError)
    assert "DEALERSYNC_PORTAL_TOKENS" in str(result.exception)


@pytest.mark.parametrize(
    ("tokens", "says"),
    [
        ('{"tiny-secret": "all"}', "shorter than 16"),
        (f'{{"{TOKEN}": "dealers:D1"}}', "not a scope"),
        (f'["{TOKEN}"]', "DEALERSYNC_PORTAL_TOKENS: Input should be a valid dictionary"),  # not a JSON object
    ],
)
def test_unusable_token_settings_are_named_without_the_token(tmp_path, tokens, says):
    result = serve("-w", str(tmp_path / "w.duckdb"), env={"DEALERSYNC_PORTAL_TOKENS": tokens})
    assert isinstance(result.exception, UserError)
    assert says in str(result.exception)
    assert TOKEN not in str(result.exception) and "tiny-secret" not in str(result.exception)


def test_a_port_in_use_is_a_clear_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = serve("--port", str(port), "-w", str(tmp_path / "w.duckdb"))
    assert isinstance(result.exception, UserError)
    assert f"127.0.0.1:{port}" in str(result.exception) and "--port" in str(result.exception)


def test_a_host_that_is_not_an_address_is_a_clear_error(tmp_path):
    result = serve("--host", "my laptop", "-w", str(tmp_path / "w.duckdb"))
    assert isinstance(result.exception, UserError) and "--host" in str(result.exception)


def test_serve_starts_uvicorn_on_loopback_with_the_host_check(tmp_path, monkeypatch):
    started = {}

    def run(portal, **options):
        started.update(options, middleware=[m.cls.__name__ for m in portal.user_middleware])

    monkeypatch.setattr("uvicorn.run", run)
    result = serve("-w", str(tmp_path / "w.duckdb"), "--port", "0")
    assert result.exit_code == 0, result.output
    assert started["host"] == "127.0.0.1" and "TrustedHostMiddleware" in started["middleware"]
    assert "no warehouse" in result.output

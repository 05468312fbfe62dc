"""Where flows report to: the configured Prefect server, or one temporary server shared by every worker."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Quiet defaults for a command-line run; an operator's own environment wins.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@contextmanager
def prefect_api(startup_timeout: int = 120, api_url: str | None = None) -> Iterator[str]:
    """The API URL flows use; without PREFECT_API_URL, a temporary local server for the duration.

    `api_url` (settings.prefect_api_url) wins over PREFECT_API_URL. Prefect starts its temporary
    server inside the flow's process only, so worker processes of a process pool would each start
    their own; exporting the URL lets them all report to this one.
    """
    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

    if api_url:
        previous = os.environ.get("PREFECT_API_URL")
        os.environ["PREFECT_API_URL"] = api_url
        try:
            with temporary_settings(updates={PREFECT_API_URL: api_url}):
                yield api_url
        finally:
            if previous is None:
                os.environ.pop("PREFECT_API_URL", None)
            else:
                os.environ["PREFECT_API_URL"] = previous
        return
    configured = get_current_settings().api.url
    if configured:
        yield configured
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    with _stopped_cleanly_on_sigterm():
        try:
            server.start(timeout=startup_timeout)
            os.environ["PREFECT_API_URL"] = server.api_url
            with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
                yield server.api_url
        finally:
            try:  # a second signal while draining must not skip stopping the server
                if server.server_process is not None:
                    _drain_to(server.api_url)
            finally:
                os.environ.pop("PREFECT_API_URL", None)
                server.stop()


@contextmanager
def _stopped_cleanly_on_sigterm() -> Iterator[None]:
    """SIGTERM (kill, timeout, a scheduler giving up) exits through `finally`, so the server stops with us.

    Python's default for SIGTERM ends the process on the spot, and so does Prefect: its flow engine
    marks the run crashed, then sends SIGTERM again under the handler it found. Under this one that
    second signal raises SystemExit (exit code 143, as a killed process has), which unwinds the
    command and stops its temporary server instead of leaving it running.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def exit_now(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.getsignal(signal.SIGTERM)
    if previous is not signal.SIG_DFL:
        yield  # someone else (a test runner, a served flow) already decides what SIGTERM does
        return
    signal.signal(signal.SIGTERM, exit_now)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _drain_to(api_url: str) -> None:
    """Send the logs and events still queued while the server is up (else they retry for minutes at exit)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10)
    EventsWorker.drain_all(timeout=10)

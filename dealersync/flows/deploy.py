"""The nightly schedule: serve the `nightly` flow as a Prefect deployment with a cron schedule.

A schedule needs a real Prefect server (`dealersync prefect-server` or `prefect server start`): the
temporary server `dealersync run` starts lives only as long as that command. The served flow polls the
server, starts each scheduled run in a subprocess and pauses its schedule when stopped (SIGTERM): stop
it before the server.
"""

from __future__ import annotations

import os

import httpx
from prefect.schedules import Cron

from dealersync.flows.nightly import nightly, task_runner_for
from dealersync.settings import Settings

START_A_SERVER = (
    "start one with `dealersync prefect-server` (or `prefect server start`), then set "
    "PREFECT_API_URL=http://127.0.0.1:4200/api (or DEALERSYNC_PREFECT_API_URL) and run `dealersync deploy` again"
)


class NoServer(Exception):
    """No Prefect server to hold the schedule; the message says how to start one."""


def server_url(settings: Settings) -> str:
    """The API URL of the configured Prefect server, checked to answer; NoServer when there is none."""
    from prefect.settings import get_current_settings

    url = settings.prefect_api_url or get_current_settings().api.url
    if not url:
        raise NoServer(f"a schedule needs a Prefect server and none is configured; {START_A_SERVER}")
    try:
        answer = httpx.get(f"{url.rstrip('/')}/health", timeout=10)
        answer.raise_for_status()
    except httpx.HTTPError as error:
        raise NoServer(f"no Prefect server answers at {url} ({error}); {START_A_SERVER}") from None
    return url


def nightly_schedule(settings: Settings) -> Cron:
    """The cron schedule of the deployment, in the department's time zone (a known one: Settings checks
    it); ValueError saying what is wrong."""
    try:
        return Cron(settings.schedule_cron, timezone=settings.timezone)
    except ValueError:
        raise ValueError(
            f"{settings.schedule_cron!r} is not a cron schedule (DEALERSYNC_SCHEDULE_CRON); "
            "e.g. '0 2 * * *' is every day at 02:00"
        ) from None


def serve_nightly(settings: Settings) -> None:
    """Register the nightly deployment on the server and run its scheduled runs until stopped."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    schedule = nightly_schedule(settings)
    url = server_url(settings)
    os.environ["PREFECT_API_URL"] = url  # the subprocess of each run, and its worker processes
    with temporary_settings(updates={PREFECT_API_URL: url}):
        nightly.with_options(task_runner=task_runner_for(settings)).serve(
            name=settings.deployment_name,
            schedule=schedule,
            parameters={"inbox": str(settings.inbox_dir), "warehouse": str(settings.warehouse_path)},
            description=(
                f"Load {settings.inbox_dir} into {settings.warehouse_path}, then refresh the due lists "
                "and summaries"
            ),
            tags=["dealersync"],
            pause_on_shutdown=True,
        )

"""Backfill: recompute the marts (due lists, quality summaries) for a range of days from the warehouse.

Nothing is read from files: every figure comes from what the warehouse holds, so a backfill after a
late file, a restore or a rule change gives each day exactly what a night on that day would give now.
Each day's due list and the summaries are replaced, never added to: running it twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from time import perf_counter

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.states import Failed

from dealersync.settings import Settings, get_settings
from dealersync.transforms.quality_summary import PERIOD_TYPES, Period
from dealersync.warehouse.db import WarehouseError
from dealersync.warehouse.due_lists import store_due_list
from dealersync.warehouse.lock import locked_warehouse
from dealersync.warehouse.summaries import alert_levels, refresh_summaries, refreshed_periods

MAX_DAYS = 3660  # ten years: a longer range is a typo


@dataclass
class BackfillResult:
    """What a backfill recomputed: due-list items per day, and the summary periods refreshed."""

    first_day: date
    last_day: date
    warehouse: Path
    items: dict[date, int] = field(default_factory=dict)
    periods: list[str] = field(default_factory=list)
    seconds: float = 0.0


def days_between(first_day: date, last_day: date) -> list[date]:
    """Every day from `first_day` to `last_day`, both included; ValueError for a reversed or huge range."""
    if last_day < first_day:
        raise ValueError(f"the range ends ({last_day}) before it starts ({first_day})")
    count = (last_day - first_day).days + 1
    if count > MAX_DAYS:
        raise ValueError(f"{count} days is more than a backfill covers ({MAX_DAYS}); split the range")
    return [first_day + timedelta(days=offset) for offset in range(count)]


def periods_of(days: list[date]) -> list[Period]:
    """The weeks, months and years the days fall in, each once, in order."""
    return list(dict.fromkeys(Period.containing(kind, day) for kind in PERIOD_TYPES for day in days))


def recompute(con, days: list[date], settings: Settings, on_day=None) -> tuple[dict[date, int], list[Period]]:
    """Store each day's due list, then refresh the summaries of every period the days touch.

    The period just after each of them is refreshed too when the warehouse has its summaries: its
    change is measured from the period before, whose figures may just have changed.
    """
    items = {}
    for day in days:
        items[day] = store_due_list(con, day, settings.maintenance_lead_days)
        if on_day is not None:
            on_day(day, items[day])
    periods = periods_of(days)
    following = list(dict.fromkeys(p.following() for p in periods if p.following() not in periods))
    periods += [p for p in following if p in refreshed_periods(con, following)]
    refresh_summaries(con, periods, alert_levels(settings))
    return items, periods


@flow(name="backfill", log_prints=True)
def backfill(first_day: date, last_day: date, warehouse: Path | None = None) -> BackfillResult:
    """Recompute the due lists and quality summaries of every day from `first_day` to `last_day`."""
    logger = get_run_logger()
    settings = get_settings(warehouse=warehouse)
    days = days_between(first_day, last_day)
    started = perf_counter()
    try:
        with locked_warehouse(
            settings.warehouse_path,
            what=f"a backfill from {first_day} to {last_day}",
            wait_seconds=settings.lock_timeout_seconds,
        ) as con:
            items, periods = recompute(
                con, days, settings, on_day=lambda day, n: logger.info("due list of %s: %d item(s)", day, n)
            )
    except WarehouseError as error:  # busy or locked: one line, no traceback
        logger.error("%s", error)
        return Failed(message=str(error), data=error)
    result = BackfillResult(
        first_day,
        last_day,
        settings.warehouse_path,
        items,
        [p.label for p in periods],
        perf_counter() - started,
    )
    logger.info("refreshed the summaries of %s", ", ".join(result.periods))
    create_table_artifact(
        [{"day": str(day), "due-list items": n} for day, n in items.items()],
        key="backfill-days",
        description=f"Backfill {first_day} to {last_day}: summaries of {', '.join(result.periods)} refreshed",
    )
    return result

"""Backfill: a range of days' marts recomputed from the warehouse alone, the same however often it runs."""

from __future__ import annotations

import shutil
from datetime import date, timedelta

import pytest
from ops_helpers import TODAY, warehouse_digest

from dealersync.flows.backfill import days_between, periods_of, recompute
from dealersync.settings import Settings
from dealersync.warehouse.db import open_warehouse
from dealersync.warehouse.due_lists import store_due_list


@pytest.fixture
def warehouse(loaded_warehouse, tmp_path):
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(loaded_warehouse, path)
    return path


def test_every_day_of_the_range_gets_its_due_list_and_its_periods_their_summaries(warehouse):
    first, last = TODAY - timedelta(days=9), TODAY
    con = open_warehouse(warehouse)
    items, periods = recompute(con, days_between(first, last), Settings(warehouse=warehouse))
    days = [d for (d,) in con.execute("SELECT as_of FROM mart.due_list_days ORDER BY as_of").fetchall()]
    stored = dict(con.execute("SELECT as_of, count(*) FROM mart.due_list GROUP BY 1").fetchall())
    refreshed = set(con.execute("SELECT DISTINCT period FROM mart.quality_kpi").fetchall())
    con.close()
    assert days == days_between(first, last)
    assert items == {day: stored.get(day, 0) for day in days}
    assert sum(items.values()) > 0, "the sample data has items due in the range"
    # 2026-11-11..20: weeks 46 and 47, November, 2026 (and the period before each, for the change).
    assert {p.label for p in periods} == {"2026-W46", "2026-W47", "2026-11", "2026"}
    assert {(p.label,) for p in periods} <= refreshed


def test_a_backfilled_day_is_the_day_computed_on_its_own(warehouse, tmp_path):
    day = TODAY - timedelta(days=3)
    alone = tmp_path / "alone.duckdb"
    shutil.copyfile(warehouse, alone)
    con = open_warehouse(alone)
    store_due_list(con, day, Settings().maintenance_lead_days)
    expected = con.sql("SELECT * EXCLUDE (computed_at) FROM mart.due_list ORDER BY ALL").fetchall()
    con.close()
    con = open_warehouse(warehouse)
    recompute(con, days_between(day - timedelta(days=2), day + timedelta(days=2)), Settings())
    got = con.sql(
        "SELECT * EXCLUDE (computed_at) FROM mart.due_list WHERE as_of = ? ORDER BY ALL", params=[day]
    ).fetchall()
    con.close()
    assert got == expected


def test_the_period_after_the_range_measures_its_change_from_the_backfilled_figures(warehouse):
    # Late calls backfilled into week 46 left week 47's previous value and change as they were.
    con = open_warehouse(warehouse)
    recompute(con, days_between(date(2026, 11, 9), date(2026, 11, 22)), Settings())  # weeks 46 and 47
    con.execute(
        "UPDATE core.follow_up_calls SET satisfaction = 'dissatisfied' WHERE satisfaction IS NOT NULL "
        "AND call_time >= '2026-11-09' AND call_time < '2026-11-16'"
    )
    recompute(con, days_between(date(2026, 11, 9), date(2026, 11, 15)), Settings())  # week 46 only
    weeks = {
        period: (value, previous)
        for period, value, previous in con.execute(
            "SELECT period, value, previous_value FROM mart.quality_kpi WHERE period_type = 'week' "
            "AND figure = 'satisfaction_rate' AND scope_type = 'company' AND item = 'all'"
        ).fetchall()
    }
    con.close()
    assert weeks["2026-W46"][0] == 0
    assert weeks["2026-W47"][1] == weeks["2026-W46"][0]


def test_backfilling_twice_changes_nothing(warehouse):
    days = days_between(date(2026, 10, 28), date(2026, 11, 3))  # across a month's end
    con = open_warehouse(warehouse)
    recompute(con, days, Settings())
    con.close()
    once = warehouse_digest(warehouse)
    con = open_warehouse(warehouse)
    recompute(con, days, Settings())
    con.close()
    assert warehouse_digest(warehouse) == once


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        (date(2026, 11, 20), date(2026, 11, 1), "ends"),  # reversed
        (date(2000, 1, 1), date(2026, 1, 1), "split the range"),  # a typo in the year
    ],
)
def test_a_range_that_cannot_be_meant_is_refused(first, last, message):
    with pytest.raises(ValueError, match=message):
        days_between(first, last)


def test_periods_are_each_week_month_and_year_once():
    labels = [p.label for p in periods_of(days_between(date(2026, 12, 28), date(2027, 1, 4)))]
    assert labels == ["2026-W53", "2027-W01", "2026-12", "2027-01", "2026", "2027"]

"""The weekly batch-defect watch: a bad batch is alerted, ordinary random failures are not."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from dealersync.settings import Settings
from dealersync.transforms.batch_alerts import (
    AMBER,
    COMPONENT,
    EXPOSURE,
    NONE,
    RED,
    SHARE,
    WATCH_SCHEMA,
    AlertLevels,
    failure_watch,
)
from dealersync.transforms.quality_summary import Period

SETTINGS = Settings(_env_file=None)
LEVELS = AlertLevels(
    red_q=SETTINGS.alert_red_q,
    amber_q=SETTINGS.alert_amber_q,
    min_failures=SETTINGS.alert_min_failures,
    min_ratio=SETTINGS.alert_min_ratio,
    service_months=SETTINGS.alert_service_months,
    window_weeks=SETTINGS.alert_window_weeks,
    baseline_weeks=SETTINGS.alert_baseline_weeks,
)
WEEK = Period.parse("2026-W47")  # 2026-11-16 .. 2026-11-22
FAILURE_SCHEMA = {
    "feedback_id": pl.Utf8,
    "report_date": pl.Date,
    "dealer_code": pl.Utf8,
    "vin": pl.Utf8,
    "part_no": pl.Utf8,
    "component": pl.Utf8,
    "batch_no": pl.Utf8,
}
BATCH_SCHEMA = {"part_no": pl.Utf8, "batch_no": pl.Utf8, "production_date": pl.Date, "quantity": pl.Int64}
PART_SCHEMA = {"part_no": pl.Utf8, "component": pl.Utf8, "critical": pl.Boolean}


def history(seed: int, parts: int, batches: int, hazard: float, bad: dict | None = None):
    """Failures of `parts` motor parts, a 1000-unit batch every 2 weeks, constant hazard per unit-month.

    `bad` maps (part_no, batch_no) to a hazard multiplier.
    """
    rng = np.random.default_rng(seed)
    first = WEEK.end - timedelta(weeks=2 * batches)
    failure_rows, batch_rows = [], []
    for p in range(parts):
        part_no = f"P{p:02d}"
        for b in range(batches):
            batch_no = f"B{b:02d}"
            produced = first + timedelta(weeks=2 * b)
            batch_rows.append((part_no, batch_no, produced, 1000))
            months = (WEEK.end - produced).days / 30.4375
            rate = hazard * (bad or {}).get((part_no, batch_no), 1.0)
            for n in range(rng.poisson(rate * 1000 * months)):
                day = produced + timedelta(days=int(rng.integers(0, (WEEK.end - produced).days + 1)))
                vin = f"VIN{p:02d}{b:02d}{n:04d}"
                failure_rows.append((f"F{p}-{b}-{n}", day, f"D{n % 7}", vin, part_no, "motor", batch_no))
    parts_frame = pl.LazyFrame(
        [(f"P{p:02d}", "motor", True) for p in range(parts)], schema=PART_SCHEMA, orient="row"
    )
    return (
        pl.LazyFrame(failure_rows, schema=FAILURE_SCHEMA, orient="row"),
        parts_frame,
        pl.LazyFrame(batch_rows, schema=BATCH_SCHEMA, orient="row"),
    )


NO_BATCHES = pl.LazyFrame(schema=BATCH_SCHEMA)


def test_one_batch_failing_far_above_its_part_is_red_with_its_evidence():
    failures, parts, batches = history(seed=7, parts=3, batches=10, hazard=0.002, bad={("P01", "B08"): 8.0})
    watch = failure_watch(failures, parts, batches, WEEK, LEVELS)
    alert = watch.filter(pl.col("level") == RED).row(0, named=True)
    assert (alert["test"], alert["part_no"], alert["batch_no"], alert["component"]) == (
        EXPOSURE,
        "P01",
        "B08",
        "motor",
    )
    assert alert["observed"] >= 3 and alert["observed"] / alert["expected"] >= 2
    assert alert["q_value"] < 0.01 and alert["p_value"] <= alert["q_value"]
    assert alert["exposure_unit_months"] == pytest.approx(1000 * 28 / 30.4375)  # produced 4 weeks ago
    assert alert["window_start"] == WEEK.end - timedelta(weeks=4) and alert["window_end"] == WEEK.end
    assert len(alert["vins"]) == alert["observed"] and alert["dealers"]
    assert watch.filter(pl.col("level") == RED).height == 1
    assert alert["tests_in_week"] == watch.height


def test_ordinary_random_failures_raise_no_alert_at_the_default_levels():
    for seed in range(3):
        failures, parts, batches = history(seed=seed, parts=10, batches=12, hazard=0.002)
        watch = failure_watch(failures, parts, batches, WEEK, LEVELS)
        assert watch.height > 50  # many batches were tested
        assert watch.filter(pl.col("level") != NONE).is_empty(), watch.filter(pl.col("level") != NONE)


def test_without_batch_sizes_a_batch_holding_far_more_than_its_share_is_red():
    # five batches in service before the 8-week window (a failure 70 days ago); B0 has 20 in the window
    in_window = [
        (f"F{b}-{n}", WEEK.end - timedelta(days=n % 40), "D1", f"V{b}{n}", "P01", "rear_axle", f"B{b}")
        for b in range(5)
        for n in range(4 if b else 20)
    ]
    before = [
        (f"E{b}", WEEK.end - timedelta(days=70), "D1", None, "P01", "rear_axle", f"B{b}") for b in range(5)
    ]
    # a batch first seen inside the window is tested but does not lower the others' share
    new = [("N1", WEEK.end, "D3", "VN1", "P01", "rear_axle", "B9")]
    parts = pl.LazyFrame([("P01", "rear_axle", True)], schema=PART_SCHEMA, orient="row")
    failures = pl.LazyFrame(in_window + before + new, schema=FAILURE_SCHEMA, orient="row")
    watch = failure_watch(failures, parts, NO_BATCHES, WEEK, LEVELS)
    alert = watch.filter((pl.col("level") == RED) & (pl.col("test") == SHARE)).row(0, named=True)
    assert (alert["test"], alert["batch_no"], alert["observed"], alert["component"]) == (
        SHARE,
        "B0",
        20,
        "rear_axle",
    )
    assert alert["expected"] == pytest.approx((16 + 0.5) / 4)  # the 4 other batches' mean
    assert alert["window_start"] == WEEK.end - timedelta(weeks=8, days=-1)
    assert alert["exposure_unit_months"] is None
    others = watch.filter((pl.col("test") == SHARE) & (pl.col("batch_no") != "B0")).sort("batch_no")
    assert others["level"].to_list() == [NONE] * 5
    assert others.filter(pl.col("batch_no") == "B9")["expected"].to_list() == [pytest.approx((36 + 0.5) / 5)]


def test_a_component_far_above_its_usual_weekly_count_is_alerted():
    usual = [
        (f"U{w}-{n}", WEEK.start - timedelta(weeks=w) + timedelta(days=n), "D1", None, "P09", "frame", None)
        for w in range(1, 13)
        for n in range(2)
    ]
    surge = [
        (f"S{n}", WEEK.start + timedelta(days=n % 7), "D2", f"V{n}", "P09", "frame", None) for n in range(12)
    ]
    parts = pl.LazyFrame([("P09", "frame", True)], schema=PART_SCHEMA, orient="row")
    failures = pl.LazyFrame(usual + surge, schema=FAILURE_SCHEMA, orient="row")
    watch = failure_watch(failures, parts, NO_BATCHES, WEEK, LEVELS)
    alert = watch.row(0, named=True)
    assert (alert["test"], alert["component"], alert["level"], alert["observed"]) == (
        COMPONENT,
        "frame",
        RED,
        12,
    )
    assert alert["expected"] == pytest.approx((24 + 0.5) / 12)
    assert alert["dealers"] == ["D2"]
    # last week looked like any other week: nothing to say
    quiet = failure_watch(failures, parts, NO_BATCHES, WEEK.previous(), LEVELS)
    assert quiet.filter(pl.col("level") != NONE).is_empty()


def test_amber_needs_only_q_below_the_amber_level():
    levels = AlertLevels(
        0.01, 0.10, min_failures=50, min_ratio=2.0, service_months=6, window_weeks=8, baseline_weeks=12
    )
    failures, parts, batches = history(seed=7, parts=3, batches=10, hazard=0.002, bad={("P01", "B08"): 8.0})
    watch = failure_watch(failures, parts, batches, WEEK, levels)
    assert watch.filter(pl.col("batch_no") == "B08").filter(pl.col("part_no") == "P01")[
        "level"
    ].to_list() == [AMBER]


def test_a_week_without_failures_has_no_tests():
    empty = pl.LazyFrame(schema=FAILURE_SCHEMA)
    watch = failure_watch(empty, pl.LazyFrame(schema=PART_SCHEMA), NO_BATCHES, WEEK, LEVELS)
    assert watch.is_empty() and watch.schema == pl.Schema(WATCH_SCHEMA)

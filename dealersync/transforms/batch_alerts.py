"""The weekly batch-defect watch: each critical part's batches and each critical component, O against E."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import polars as pl
from scipy.stats import poisson
from statsmodels.stats.multitest import multipletests

from dealersync.transforms.quality_summary import Period, critical_failures

MONTH_DAYS = 30.4375  # an average month, to turn days in service into months
HALF_FAILURE = 0.5  # added to a baseline count so that an empty baseline still gives a finite E
MIN_BASELINE_WEEKS = 4  # a component is compared with its usual level only once that has weeks of data
EXPOSURE, SHARE, COMPONENT = "batch_exposure", "batch_share", "component"
RED, AMBER, NONE = "red", "amber", "none"
LEVEL_ORDER = {RED: 0, AMBER: 1, NONE: 2}

WATCH_SCHEMA = {
    "week": pl.Utf8,
    "test": pl.Utf8,
    "component": pl.Utf8,
    "part_no": pl.Utf8,
    "batch_no": pl.Utf8,
    "window_start": pl.Date,
    "window_end": pl.Date,
    "observed": pl.Int64,
    "expected": pl.Float64,
    "exposure_unit_months": pl.Float64,
    "ratio": pl.Float64,
    "p_value": pl.Float64,
    "q_value": pl.Float64,
    "level": pl.Utf8,
    "tests_in_week": pl.Int64,
    "vins": pl.List(pl.Utf8),
    "dealers": pl.List(pl.Utf8),
}


@dataclass(frozen=True)
class AlertLevels:
    """Thresholds of the watch (defaults live in `dealersync.settings`)."""

    red_q: float  # red when q < red_q and observed >= min_failures and observed / expected >= min_ratio
    amber_q: float  # amber when q < amber_q
    min_failures: int
    min_ratio: float
    service_months: float  # exposure counts a batch's first months in service, capped here
    window_weeks: int  # without batch sizes: the window a batch is compared with its part's other batches
    baseline_weeks: int  # a component's week is compared with the mean of this many weeks before it


def _evidence(failures: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    return failures.group_by(keys).agg(
        pl.len().cast(pl.Int64).alias("observed"),
        pl.col("component").drop_nulls().mode().first().alias("component"),
        pl.col("vin").drop_nulls().unique().sort().alias("vins"),
        pl.col("dealer_code").drop_nulls().unique().sort().alias("dealers"),
    )


def exposure_tests(
    failures: pl.LazyFrame, batches: pl.LazyFrame, week: Period, levels: AlertLevels
) -> pl.LazyFrame:
    """Batches with a known size: O failures in the batch's first months against E = rate × exposure.

    E = the part's historical failure rate × exposure, exposure = units of the batch × months in service
    (from its production date to the week's end, capped at `service_months`). The part's rate is its
    other sized batches' failures within their own capped service / their exposure (the batch itself is
    left out so that a bad batch does not raise its own baseline). A batch is watched while its capped
    service overlaps the week; only failures reported within that service count.
    """
    cap_days = round(levels.service_months * MONTH_DAYS)
    end = pl.lit(week.end)
    sized = (
        batches.filter(pl.col("production_date") < week.end)
        .with_columns((pl.col("production_date") + pl.duration(days=cap_days)).alias("service_end"))
        .with_columns(pl.min_horizontal("service_end", end).alias("window_end"))
        .with_columns(
            (
                pl.col("quantity").cast(pl.Float64)
                * (pl.col("window_end") - pl.col("production_date")).dt.total_days()
                / MONTH_DAYS
            ).alias("exposure_unit_months")
        )
    )
    in_service = failures.join(sized, on=["part_no", "batch_no"], how="inner").filter(
        pl.col("report_date") <= pl.col("window_end")
    )
    observed = sized.join(
        _evidence(in_service, ["part_no", "batch_no"]), on=["part_no", "batch_no"], how="left"
    )
    observed = observed.with_columns(pl.col("observed").fill_null(0))
    part_totals = observed.group_by("part_no").agg(
        pl.col("observed").sum().alias("part_failures"),
        pl.col("exposure_unit_months").sum().alias("part_exposure"),
    )
    other_exposure = pl.col("part_exposure") - pl.col("exposure_unit_months")
    rate = (pl.col("part_failures") - pl.col("observed") + HALF_FAILURE) / other_exposure
    return (
        observed.join(part_totals, on="part_no")
        .filter((other_exposure > 0) & (pl.col("service_end") >= week.start) & (pl.col("observed") > 0))
        .select(
            pl.lit(EXPOSURE).alias("test"),
            "component",
            "part_no",
            "batch_no",
            pl.col("production_date").alias("window_start"),
            "window_end",
            "observed",
            (rate * pl.col("exposure_unit_months")).alias("expected"),
            "exposure_unit_months",
            "vins",
            "dealers",
        )
    )


def exposure_testable(batches: pl.LazyFrame, week: Period) -> pl.LazyFrame:
    """(part_no, batch_no) of sized batches whose part has another sized batch in service by the week's end."""
    produced = batches.filter(pl.col("production_date") < week.end)
    return produced.filter(pl.len().over("part_no") > 1).select("part_no", "batch_no")


def share_tests(
    failures: pl.LazyFrame, batches: pl.LazyFrame, week: Period, levels: AlertLevels
) -> pl.LazyFrame:
    """Batches without a usable size: O failures in the window against their share of the part's others.

    "A batch should not hold far more than its share": E = (the failures in the same window of the
    part's other batches in service + 0.5) / the number of those batches. A batch counts as in service
    over the window when it had a failure report in the `service_months` before the window starts (a
    batch first seen inside the window would lower its part's share). Untestable without such a batch.
    """
    window_start = week.end - timedelta(days=7 * levels.window_weeks - 1)
    seen_since = window_start - timedelta(days=round(levels.service_months * MONTH_DAYS))
    with_batch = failures.filter(pl.col("batch_no").is_not_null())
    in_service = (
        with_batch.filter((pl.col("report_date") >= seen_since) & (pl.col("report_date") < window_start))
        .select("part_no", "batch_no")
        .unique()
        .with_columns(pl.lit(True).alias("in_service"))
    )
    observed = _evidence(
        with_batch.filter(pl.col("report_date").is_between(window_start, week.end)), ["part_no", "batch_no"]
    ).join(in_service, on=["part_no", "batch_no"], how="left")
    in_reference = pl.col("in_service").fill_null(False)
    reference = (
        in_service.join(
            observed.select("part_no", "batch_no", "observed"), on=["part_no", "batch_no"], how="left"
        )
        .group_by("part_no")
        .agg(
            pl.col("observed").fill_null(0).sum().alias("reference_failures"),
            pl.len().alias("reference_batches"),
        )
    )
    others = pl.col("reference_batches") - in_reference.cast(pl.Int64)
    others_failures = pl.col("reference_failures") - pl.when(in_reference).then("observed").otherwise(0)
    return (
        observed.join(exposure_testable(batches, week), on=["part_no", "batch_no"], how="anti")
        .join(reference, on="part_no")
        .filter(others > 0)
        .select(
            pl.lit(SHARE).alias("test"),
            "component",
            "part_no",
            "batch_no",
            pl.lit(window_start).alias("window_start"),
            pl.lit(week.end).alias("window_end"),
            "observed",
            ((others_failures + HALF_FAILURE) / others).alias("expected"),
            pl.lit(None, pl.Float64).alias("exposure_unit_months"),
            "vins",
            "dealers",
        )
    )


def component_tests(failures: pl.LazyFrame, week: Period, levels: AlertLevels) -> pl.LazyFrame:
    """Each critical component's failures in the week against its usual level.

    E = (failures in the `baseline_weeks` weeks before + 0.5) / those weeks, counting only weeks since
    the first failure report on record; untested before `MIN_BASELINE_WEEKS` weeks of record.
    """
    first_report = failures.select(pl.col("report_date").min().alias("first_report"))
    weeks_of_record = pl.min_horizontal(
        pl.lit(levels.baseline_weeks, pl.Int64),
        ((pl.lit(week.start) - pl.col("first_report")).dt.total_days() // 7).cast(pl.Int64),
    ).alias("baseline_weeks")
    with_record = failures.join(first_report, how="cross").with_columns(weeks_of_record)
    baseline_start = pl.lit(week.start) - pl.duration(weeks=pl.col("baseline_weeks"))
    in_baseline = (pl.col("report_date") >= baseline_start) & (pl.col("report_date") < week.start)
    baseline = with_record.group_by("component").agg(
        in_baseline.sum().cast(pl.Int64).alias("baseline_failures"), pl.col("baseline_weeks").first()
    )
    observed = _evidence(
        failures.filter(pl.col("report_date").is_between(week.start, week.end)).with_columns(
            pl.col("component").alias("watched")
        ),
        ["watched"],
    ).drop("component")
    return (
        observed.join(baseline, left_on="watched", right_on="component")
        .filter(pl.col("baseline_weeks") >= MIN_BASELINE_WEEKS)
        .select(
            pl.lit(COMPONENT).alias("test"),
            pl.col("watched").alias("component"),
            pl.lit(None, pl.Utf8).alias("part_no"),
            pl.lit(None, pl.Utf8).alias("batch_no"),
            pl.lit(week.start).alias("window_start"),
            pl.lit(week.end).alias("window_end"),
            "observed",
            ((pl.col("baseline_failures") + HALF_FAILURE) / pl.col("baseline_weeks")).alias("expected"),
            pl.lit(None, pl.Float64).alias("exposure_unit_months"),
            "vins",
            "dealers",
        )
    )


def failure_watch(
    failures: pl.LazyFrame,
    parts: pl.LazyFrame,
    batches: pl.LazyFrame,
    week: Period,
    levels: AlertLevels,
) -> pl.DataFrame:
    """Every test of the week's watch with its evidence and level (red, amber or none).

    Tested: each (part, batch) of a critical part with at least one failure in its window, by exposure
    when part_batches gives sizes, else by share; and each critical component's week. p = P(X >= O |
    Poisson(E)); q = Benjamini-Hochberg over all tests of the week. Red when q < red_q and O >=
    min_failures and O/E >= min_ratio; amber when q < amber_q.
    """
    reported = critical_failures(failures, parts).filter(pl.col("report_date") <= week.end)
    tests = pl.concat(
        [
            exposure_tests(reported, batches, week, levels),
            share_tests(reported, batches, week, levels),
            component_tests(reported, week, levels),
        ]
    ).collect()
    if tests.is_empty():
        return pl.DataFrame(schema=WATCH_SCHEMA)
    observed = tests["observed"].to_numpy()
    expected = tests["expected"].to_numpy()
    p_values = poisson.sf(observed - 1, expected)
    q_values = multipletests(p_values, method="fdr_bh")[1]
    ratio = observed / expected
    red = (q_values < levels.red_q) & (observed >= levels.min_failures) & (ratio >= levels.min_ratio)
    level = np.where(red, RED, np.where(q_values < levels.amber_q, AMBER, NONE))
    return (
        tests.with_columns(
            pl.lit(week.label).alias("week"),
            pl.Series("ratio", ratio),
            pl.Series("p_value", p_values),
            pl.Series("q_value", q_values),
            pl.Series("level", level),
            pl.lit(tests.height, pl.Int64).alias("tests_in_week"),
        )
        .select(list(WATCH_SCHEMA))
        .cast(WATCH_SCHEMA)
        .sort(
            pl.col("level").replace_strict(LEVEL_ORDER),
            "q_value",
            "test",
            "component",
            "part_no",
            "batch_no",
            nulls_last=True,
        )
    )

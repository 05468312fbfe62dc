"""Backtest of the weekly batch-defect watch: false alarms on clean history, weeks to flag a bad batch.

Generates failure history for 21 critical parts (3 per critical component), each producing a batch of
500-1,500 units every two weeks, failing at a constant hazard per unit-month (0.1%-0.4% a month,
varying by part) for two years of service. Replays one year week by week through
`transforms.batch_alerts.failure_watch` at the default settings, after a year of history:

- clean: every red and amber alert is a false alarm (counted per distinct batch or component, and
  per alert-week);
- injected: one batch of a random part, produced in the replayed year's 10th week, fails at x2 or x5
  its part's rate; the weeks from its production to its first red (and first amber-or-red) alert.

Both with batch sizes (part_batches: exposure model) and without (share model). Averaged over seeds.

    .venv/bin/python bench/alert_backtest.py [--seeds 5] [--weeks 52]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from datetime import timedelta
from statistics import mean

import numpy as np
import polars as pl

from dealersync.schemas.contract import CRITICAL_COMPONENTS
from dealersync.settings import Settings
from dealersync.transforms.batch_alerts import AMBER, RED, AlertLevels, failure_watch
from dealersync.transforms.quality_summary import WEEK, Period
from dealersync.warehouse.summaries import alert_levels

REPLAY_START = Period.parse("2026-W01")
HISTORY_WEEKS = 52  # batches produced and failing before the replayed year
SERVICE_DAYS = 730  # failures are generated over two years of service
MONTH_DAYS = 30.4375
INJECTED_WEEK = 10  # the injected batch is produced in this week of the replayed year
WATCH_WEEKS = 26  # how long an injected batch is followed


@dataclass
class History:
    failures: pl.DataFrame
    batches: pl.DataFrame
    parts: pl.DataFrame


def generated_history(seed: int, weeks: int, bad_batch: tuple[str, str] | None, multiplier: float) -> History:
    """Failures, batch sizes and parts of a synthetic fleet; `bad_batch` fails at `multiplier` x its rate."""
    rng = np.random.default_rng(seed)
    first_batch = REPLAY_START.start - timedelta(weeks=HISTORY_WEEKS)
    last_day = REPLAY_START.start + timedelta(weeks=weeks)
    parts, batches, failures = [], [], []
    for component in CRITICAL_COMPONENTS:
        for k in range(3):
            part_no = f"{component.upper()}-{k}"
            hazard = rng.uniform(0.001, 0.004)  # failures per unit-month
            parts.append((part_no, component, True))
            produced = first_batch
            b = 0
            while produced < last_day:
                batch_no = f"{part_no}-B{b:03d}"
                units = int(rng.integers(500, 1501))
                batches.append((part_no, batch_no, produced, units))
                rate = hazard * (multiplier if (part_no, batch_no) == bad_batch else 1.0)
                count = rng.poisson(rate * units * SERVICE_DAYS / MONTH_DAYS)
                ages = rng.integers(0, SERVICE_DAYS, size=count)
                for n, age in enumerate(ages):
                    day = produced + timedelta(days=int(age))
                    if day < last_day:
                        failures.append(
                            (
                                f"{batch_no}-{n}",
                                day,
                                f"D{n % 40:03d}",
                                f"V{batch_no}{n}",
                                part_no,
                                component,
                                batch_no,
                            )
                        )
                produced += timedelta(weeks=2)
                b += 1
    return History(
        failures=pl.DataFrame(
            failures,
            schema=["feedback_id", "report_date", "dealer_code", "vin", "part_no", "component", "batch_no"],
            orient="row",
        ),
        batches=pl.DataFrame(
            batches, schema=["part_no", "batch_no", "production_date", "quantity"], orient="row"
        ),
        parts=pl.DataFrame(parts, schema=["part_no", "component", "critical"], orient="row"),
    )


def injected_batch(seed: int) -> tuple[str, str]:
    """The batch a seed's injection run makes bad: a random part's batch of the replayed year's 10th week."""
    rng = np.random.default_rng(seed + 1000)
    component = CRITICAL_COMPONENTS[int(rng.integers(len(CRITICAL_COMPONENTS)))]
    part_no = f"{component.upper()}-{int(rng.integers(3))}"
    batch_index = (HISTORY_WEEKS + INJECTED_WEEK) // 2
    return part_no, f"{part_no}-B{batch_index:03d}"


def weekly_watch(history: History, week: Period, levels: AlertLevels, sizes: bool) -> pl.DataFrame:
    batches = history.batches if sizes else history.batches.clear()
    return failure_watch(history.failures.lazy(), history.parts.lazy(), batches.lazy(), week, levels)


def false_alarms(seed: int, weeks: int, levels: AlertLevels, sizes: bool) -> dict[str, int]:
    """Alerts raised over `weeks` replayed weeks of clean history (all of them false)."""
    history = generated_history(seed, weeks, None, 1.0)
    week, alerts = REPLAY_START, []
    for _ in range(weeks):
        watch = weekly_watch(history, week, levels, sizes)
        alerts.append(watch.filter(pl.col("level").is_in([RED, AMBER])))
        week = week.following()
    raised = pl.concat(alerts)
    counts = {}
    for level in (RED, AMBER):
        at_level = raised.filter(pl.col("level") == level)
        for test in ("batch", "component"):
            of_test = at_level.filter(pl.col("test").str.starts_with(test))
            counts[f"{level} {test} alert-weeks"] = of_test.height
            counts[f"{level} {test}s flagged"] = (
                of_test.select("component", "part_no", "batch_no").unique().height
            )
    return counts


def weeks_to_flag(seed: int, multiplier: float, levels: AlertLevels, sizes: bool) -> dict[str, int | None]:
    """Weeks from the bad batch's production to its first red, and first amber-or-red, alert."""
    bad = injected_batch(seed)
    history = generated_history(seed, INJECTED_WEEK + WATCH_WEEKS + 1, bad, multiplier)
    produced = Period.containing(WEEK, REPLAY_START.start + timedelta(weeks=INJECTED_WEEK))
    first: dict[str, int | None] = {RED: None, AMBER: None}
    week = produced
    for weeks_since in range(1, WATCH_WEEKS + 1):
        watch = weekly_watch(history, week, levels, sizes)
        level = watch.filter((pl.col("part_no") == bad[0]) & (pl.col("batch_no") == bad[1]))["level"]
        if first[AMBER] is None and level.is_in([RED, AMBER]).any():
            first[AMBER] = weeks_since
        if level.is_in([RED]).any():
            first[RED] = weeks_since
            break
        week = week.following()
    return {"red": first[RED], "amber or red": first[AMBER]}


def summary(values: list[int | None]) -> str:
    found = [v for v in values if v is not None]
    if not found:
        return f"not flagged within {WATCH_WEEKS} weeks (0/{len(values)})"
    return f"{mean(found):.1f} weeks (flagged {len(found)}/{len(values)}; range {min(found)}-{max(found)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--weeks", type=int, default=52)
    args = parser.parse_args()
    levels = alert_levels(Settings(_env_file=None))
    print(f"levels: {levels}")
    started = time.perf_counter()
    for sizes in (True, False):
        model = "with batch sizes (exposure model)" if sizes else "without batch sizes (share model)"
        print(f"\n## {model}")
        clean = [false_alarms(seed, args.weeks, levels, sizes) for seed in range(args.seeds)]
        print(f"clean history, {args.weeks} weeks, mean over {args.seeds} seeds (per year):")
        for key in clean[0]:
            per_year = mean(c[key] for c in clean) * 52 / args.weeks
            print(f"  {key:28} {per_year:6.2f}   per seed: {[c[key] for c in clean]}")
        for multiplier in (2.0, 5.0):
            runs = [weeks_to_flag(seed, multiplier, levels, sizes) for seed in range(args.seeds)]
            print(f"batch injected at x{multiplier:g} its rate, weeks from production to alert:")
            for key in ("red", "amber or red"):
                print(f"  {key:12} {summary([r[key] for r in runs])}")
    print(f"\n({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()

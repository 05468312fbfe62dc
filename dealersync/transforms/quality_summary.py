"""Quality summary figures per ISO week, month or year and per company, region and dealer (DESIGN.md)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from dealersync.schemas.contract import COMPLAINT_CATEGORY, CRITICAL_COMPONENTS, ERROR_TYPE

WEEK, MONTH, YEAR = "week", "month", "year"
PERIOD_TYPES = (WEEK, MONTH, YEAR)
COMPANY, REGION, DEALER = "company", "region", "dealer"
ALL = "all"  # the item of a figure's total (no breakdown) and the scope of the company
NO_REGION = "(none)"  # region of a dealer the dealers table does not know
UNSPECIFIED = "unspecified"  # error type of an incorrect shipment line that gives none
FIRST_CALL_FROM_DAYS, FIRST_CALL_TO_DAYS = 3, 7  # first follow-up: 3 days to 1 week after pickup
ESCALATION_DAYS = 2  # complaints: to the supervisor within two days

RATE, COUNT = "rate", "count"


@dataclass(frozen=True)
class Period:
    """One ISO week (`2026-W47`), calendar month (`2026-11`) or year (`2026`), both ends included."""

    type: str
    label: str
    start: date
    end: date

    @classmethod
    def parse(cls, text: str) -> Period:
        """The period a label names: `2026-W47`, `2026-11` or `2026`."""
        label = text.strip().upper()
        try:
            if m := re.fullmatch(r"(\d{4})-W(\d{1,2})", label):
                return cls.containing(WEEK, date.fromisocalendar(int(m[1]), int(m[2]), 1))
            if m := re.fullmatch(r"(\d{4})-(\d{1,2})", label):
                return cls.containing(MONTH, date(int(m[1]), int(m[2]), 1))
            if re.fullmatch(r"\d{4}", label):
                return cls.containing(YEAR, date(int(label), 1, 1))
        except ValueError:
            pass  # a week or month number out of range: the same message as any other bad label
        raise ValueError(f"{text!r} is not a period: write 2026-W47, 2026-11 or 2026")

    @classmethod
    def containing(cls, period_type: str, day: date) -> Period:
        """The week, month or year that holds `day`."""
        if period_type == WEEK:
            iso = day.isocalendar()
            start = day - timedelta(days=iso.weekday - 1)
            return cls(WEEK, f"{iso.year}-W{iso.week:02d}", start, start + timedelta(days=6))
        if period_type == MONTH:
            start = day.replace(day=1)
            following = (start + timedelta(days=32)).replace(day=1)
            return cls(MONTH, f"{start:%Y-%m}", start, following - timedelta(days=1))
        if period_type == YEAR:
            return cls(YEAR, f"{day.year}", date(day.year, 1, 1), date(day.year, 12, 31))
        raise ValueError(f"unknown period type {period_type!r}")

    def previous(self) -> Period:
        """The period of the same type just before this one."""
        return Period.containing(self.type, self.start - timedelta(days=1))

    def following(self) -> Period:
        """The period of the same type just after this one."""
        return Period.containing(self.type, self.end + timedelta(days=1))

    def weeks(self) -> list[Period]:
        """The ISO weeks whose Sunday falls in this period (a week's batch watch belongs to where it ends)."""
        week = Period.containing(WEEK, self.start)
        weeks = []
        while week.start <= self.end:
            if self.start <= week.end <= self.end:
                weeks.append(week)
            week = week.following()
        return weeks

    def recent(self, count: int) -> list[Period]:
        """The `count` periods ending with this one, oldest first."""
        periods = [self]
        while len(periods) < count:
            periods.append(periods[-1].previous())
        return periods[::-1]


@dataclass(frozen=True)
class Figure:
    """One figure of the summary: how it is aggregated, its target and its precise definition."""

    name: str
    label: str
    kind: str  # RATE: numerator / denominator; COUNT: the numerator itself
    definition: str
    target: float | None = None
    breakdown: str | None = None  # what `item` holds besides "all"


FIGURES: dict[str, Figure] = {
    f.name: f
    for f in (
        Figure(
            "return_visit_rate",
            "Return-visit rate, warranty period (保修期内客户回访率)",
            RATE,
            "Denominator: visits under warranty whose first follow-up window ends (base + 7 days) in the "
            "period, base = pickup date, or intake date for a consultation; a vehicle still in the shop "
            "has no window yet. Numerator: those with a reached first follow-up call for the work order "
            "dated on or before the window end. Refused, unanswered and wrong-number calls do not count.",
            target=1.0,
        ),
        Figure(
            "first_call_timeliness",
            "First-call timeliness (首次回访及时率)",
            RATE,
            "Of the return-visit rate's visits, those whose earliest reached first follow-up call is "
            "dated within the window: base + 3 to base + 7 days, both included.",
        ),
        Figure(
            "satisfaction_rate",
            "Service satisfaction (服务满意率)",
            RATE,
            "Reached calls dated in the period with a satisfaction answer; 满意 (satisfied) and 基本满意 "
            "(fair) count as satisfied.",
            target=0.98,
        ),
        Figure(
            "satisfaction_rate_strict",
            "Service satisfaction, strict (满意 only)",
            RATE,
            "As satisfaction_rate, counting only 满意 (satisfied) as satisfied.",
        ),
        Figure(
            "dissatisfied_calls",
            "Dissatisfied calls (不满意)",
            COUNT,
            "Reached calls dated in the period answered 不满意 (dissatisfied); listed in mart.dissatisfied_calls.",
        ),
        Figure(
            "shipment_accuracy",
            "Parts shipped correctly (配件出货正确率)",
            RATE,
            "Shipment lines with a ship date in the period; a line counts as correct unless 'shipped "
            "correctly' is false (blank = correct).",
            target=0.98,
        ),
        Figure(
            "shipment_errors",
            "Shipment errors (发货差错)",
            COUNT,
            "Shipment lines with a ship date in the period marked not shipped correctly, by error type "
            "('unspecified' when the line gives none).",
            breakdown="error_type",
        ),
        Figure(
            "complaints_received",
            "Complaints received (受理投诉)",
            COUNT,
            "Complaints with a received date in the period, by category.",
            breakdown="category",
        ),
        Figure(
            "complaints_escalated_on_time",
            "Complaints escalated on time (两日内上报)",
            RATE,
            "Of the complaints received in the period, those escalated to the supervisor or resolved on "
            "or before received date + 2 days, by category.",
            breakdown="category",
        ),
        Figure(
            "complaints_resolved",
            "Complaints resolved (已解决)",
            COUNT,
            "Complaints with a resolved date in the period, by category.",
            breakdown="category",
        ),
        Figure(
            "complaints_open",
            "Complaints open at period end (未结投诉)",
            COUNT,
            "Complaints received on or before the period's last day and not resolved by then, by category.",
            breakdown="category",
        ),
        Figure(
            "complaints_overdue",
            "Complaints overdue at period end (逾期未上报)",
            COUNT,
            "Open complaints at the period's last day that were neither escalated nor resolved by then "
            "although received date + 2 days had passed, by category.",
            breakdown="category",
        ),
        Figure(
            "critical_failures",
            "Critical-component failures (关键件故障)",
            COUNT,
            "Part-quality feedback reports dated in the period for a critical component (motor, "
            "controller, rear axle, differential, frame, front shock, rim weld) or a part marked "
            "critical, by component.",
            breakdown="component",
        ),
        Figure(
            "rows_received",
            "Rows received (接收行数)",
            COUNT,
            "Data rows read by runs whose as-of day is in the period: a dealer's are those of its own "
            "sheets (customers, visits, calls, letters, complaints), a sheet counting for the dealer most "
            "of its rows name; the company's, every workbook's.",
        ),
        Figure(
            "rows_warned",
            "Rows with warnings (警告行数)",
            COUNT,
            "Rows of those sheets loaded with at least one warning (distinct rows, as each run counted "
            "them in etl.file_sheets).",
        ),
        Figure(
            "rows_rejected",
            "Rows rejected (拒收行数)",
            COUNT,
            "Rows of those sheets rejected (distinct rows, as each run counted them in etl.file_sheets: "
            "a row rejected again in a later run still counts for the earlier one).",
        ),
        Figure(
            "rejection_rate",
            "Rejected share of rows (拒收率)",
            RATE,
            "rows_rejected / rows_received for the same runs.",
        ),
    )
}

KPI_KEY = ("period_type", "period", "scope_type", "scope", "figure", "item")
KPI_COLUMNS = (
    *KPI_KEY,
    "region",
    "numerator",
    "denominator",
    "value",
    "target",
    "previous_value",
    "change",
)
FACT_SCHEMA = {
    "period_type": pl.Utf8,
    "period": pl.Utf8,
    "dealer_code": pl.Utf8,
    "figure": pl.Utf8,
    "item": pl.Utf8,
    "numerator": pl.Int64,
    "denominator": pl.Int64,
}


# How many periods a report's trend charts show, ending with the report's own.
CHART_PERIODS = {WEEK: 12, MONTH: 12, YEAR: 5}


def chart_periods(period: Period) -> list[Period]:
    """The periods a report's charts show: the last CHART_PERIODS of its type, ending with it."""
    return period.recent(CHART_PERIODS[period.type])


def period_label(day: pl.Expr, period_type: str) -> pl.Expr:
    """The label of the week (ISO `%G-W%V`), month or year holding each day."""
    return day.dt.strftime({WEEK: "%G-W%V", MONTH: "%Y-%m", YEAR: "%Y"}[period_type])


def with_previous(periods: Iterable[Period]) -> list[Period]:
    """The periods and the one before each, without repeats (to compute the change)."""
    wanted = {p: None for p in periods}
    return list(wanted | {p.previous(): None for p in wanted})


def _fact(
    frame: pl.LazyFrame, day: pl.Expr, figure: str, item: pl.Expr, numerator: pl.Expr, denominator: pl.Expr
) -> pl.LazyFrame:
    return frame.select(
        day.alias("day"),
        pl.col("dealer_code"),
        pl.lit(figure).alias("figure"),
        item.cast(pl.Utf8).alias("item"),
        numerator.cast(pl.Int64).alias("numerator"),
        denominator.cast(pl.Int64).alias("denominator"),
    )


def _date_of(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.Date)


def first_follow_up_windows(visits: pl.LazyFrame, calls: pl.LazyFrame) -> pl.LazyFrame:
    """Warranty-period visits with their first follow-up window and earliest reached first call.

    "Call 3 days to 1 week after the vehicle left the shop (pickup) or after a consultation": base =
    pickup date, or intake date for a consultation without pickup; still in the shop = no window yet.
    Only reached calls count; a refused call closes the due item but is not a completed return visit.
    """
    earliest_reached = (
        calls.filter(
            (pl.col("call_type") == "first_follow_up")
            & (pl.col("outcome") == "reached")
            & pl.col("work_order_no").is_not_null()
        )
        .group_by("dealer_code", "work_order_no")
        .agg(pl.col("call_time").cast(pl.Date).min().alias("first_reached_call"))
    )
    base = (
        pl.when(pl.col("pickup_date").is_not_null())
        .then(pl.col("pickup_date"))
        .when(pl.col("visit_type") == "consultation")
        .then(pl.col("intake_date"))
    )
    return (
        visits.filter(pl.col("under_warranty").fill_null(False))
        .with_columns(base.alias("base_date"))
        .filter(pl.col("base_date").is_not_null())
        .select(
            "dealer_code",
            "work_order_no",
            "base_date",
            (pl.col("base_date") + pl.duration(days=FIRST_CALL_FROM_DAYS)).alias("window_start"),
            (pl.col("base_date") + pl.duration(days=FIRST_CALL_TO_DAYS)).alias("window_end"),
        )
        .join(earliest_reached, on=["dealer_code", "work_order_no"], how="left")
    )


def return_visit_facts(visits: pl.LazyFrame, calls: pl.LazyFrame) -> pl.LazyFrame:
    """return_visit_rate and first_call_timeliness, one fact per visit, dated on its window end."""
    windows = first_follow_up_windows(visits, calls)
    reached = pl.col("first_reached_call")
    return pl.concat(
        [
            _fact(
                windows,
                pl.col("window_end"),
                "return_visit_rate",
                pl.lit(ALL),
                (reached <= pl.col("window_end")).fill_null(False),
                pl.lit(1),
            ),
            _fact(
                windows,
                pl.col("window_end"),
                "first_call_timeliness",
                pl.lit(ALL),
                reached.is_between(pl.col("window_start"), pl.col("window_end")).fill_null(False),
                pl.lit(1),
            ),
        ]
    )


def satisfaction_facts(calls: pl.LazyFrame) -> pl.LazyFrame:
    """Satisfaction rates: reached calls with an answer; 满意 and 基本满意 satisfied (strict: 满意 only)."""
    answered = calls.filter((pl.col("outcome") == "reached") & pl.col("satisfaction").is_not_null())
    day = _date_of("call_time")
    answer = pl.col("satisfaction")
    return pl.concat(
        [
            _fact(
                answered,
                day,
                "satisfaction_rate",
                pl.lit(ALL),
                answer.is_in(["satisfied", "fair"]),
                pl.lit(1),
            ),
            _fact(answered, day, "satisfaction_rate_strict", pl.lit(ALL), answer == "satisfied", pl.lit(1)),
            _fact(
                answered.filter(answer == "dissatisfied"),
                day,
                "dissatisfied_calls",
                pl.lit(ALL),
                pl.lit(1),
                pl.lit(None),
            ),
        ]
    )


def shipment_facts(shipments: pl.LazyFrame) -> pl.LazyFrame:
    """Shipment accuracy (blank 'shipped correctly' = correct) and errors by type, by ship date."""
    wrong = pl.col("shipped_correct").fill_null(True).not_()
    errors = shipments.filter(wrong)
    return pl.concat(
        [
            _fact(shipments, pl.col("ship_date"), "shipment_accuracy", pl.lit(ALL), wrong.not_(), pl.lit(1)),
            _fact(errors, pl.col("ship_date"), "shipment_errors", pl.lit(ALL), pl.lit(1), pl.lit(None)),
            _fact(
                errors,
                pl.col("ship_date"),
                "shipment_errors",
                pl.col("error_type").fill_null(UNSPECIFIED),
                pl.lit(1),
                pl.lit(None),
            ),
        ]
    )


def _by_category_and_total(
    frame: pl.LazyFrame, day: pl.Expr, figure: str, numerator: pl.Expr, denominator: pl.Expr
) -> list[pl.LazyFrame]:
    return [
        _fact(frame, day, figure, item, numerator, denominator) for item in (pl.lit(ALL), pl.col("category"))
    ]


def complaint_flow_facts(complaints: pl.LazyFrame) -> pl.LazyFrame:
    """Complaints received, escalated on time (escalated or resolved by received + 2) and resolved."""
    deadline = pl.col("received_date") + pl.duration(days=ESCALATION_DAYS)
    on_time = (pl.col("escalated_date") <= deadline).fill_null(False) | (
        pl.col("resolved_date") <= deadline
    ).fill_null(False)
    resolved = complaints.filter(pl.col("resolved_date").is_not_null())
    received = pl.col("received_date")
    return pl.concat(
        [
            *_by_category_and_total(complaints, received, "complaints_received", pl.lit(1), pl.lit(None)),
            *_by_category_and_total(complaints, received, "complaints_escalated_on_time", on_time, pl.lit(1)),
            *_by_category_and_total(
                resolved, pl.col("resolved_date"), "complaints_resolved", pl.lit(1), pl.lit(None)
            ),
        ]
    )


def complaint_stock_facts(complaints: pl.LazyFrame, periods: Sequence[Period]) -> pl.LazyFrame:
    """Complaints open and overdue at each period's last day (overdue: not escalated by received + 2)."""
    ends = pl.LazyFrame(
        {
            "period_type": [p.type for p in periods],
            "period": [p.label for p in periods],
            "period_end": [p.end for p in periods],
        },
        schema={"period_type": pl.Utf8, "period": pl.Utf8, "period_end": pl.Date},
    )
    end = pl.col("period_end")
    open_at_end = complaints.join(ends, how="cross").filter(
        (pl.col("received_date") <= end)
        & ((pl.col("resolved_date") > end) | pl.col("resolved_date").is_null())
    )
    overdue = open_at_end.filter(
        ((pl.col("escalated_date") > end) | pl.col("escalated_date").is_null())
        & (end > pl.col("received_date") + pl.duration(days=ESCALATION_DAYS))
    )
    stock = [
        (frame, figure, item)
        for frame, figure in ((open_at_end, "complaints_open"), (overdue, "complaints_overdue"))
        for item in (pl.lit(ALL), pl.col("category"))
    ]
    return pl.concat(
        [
            frame.select(
                "period_type",
                "period",
                "dealer_code",
                pl.lit(figure).alias("figure"),
                item.cast(pl.Utf8).alias("item"),
                pl.lit(1, pl.Int64).alias("numerator"),
                pl.lit(None, pl.Int64).alias("denominator"),
            )
            for frame, figure, item in stock
        ]
    )


def critical_failures(failures: pl.LazyFrame, parts: pl.LazyFrame) -> pl.LazyFrame:
    """Failure reports of a critical component (the seed's seven) or of a part marked critical."""
    flagged = parts.select("part_no", pl.col("critical").alias("part_critical"))
    return (
        failures.join(flagged, on="part_no", how="left")
        .filter(pl.col("component").is_in(CRITICAL_COMPONENTS) | pl.col("part_critical").fill_null(False))
        .drop("part_critical")
    )


def critical_failure_facts(failures: pl.LazyFrame, parts: pl.LazyFrame) -> pl.LazyFrame:
    """Critical-component failures by report date, in total and by component."""
    critical = critical_failures(failures, parts)
    return pl.concat(
        [
            _fact(critical, pl.col("report_date"), "critical_failures", item, pl.lit(1), pl.lit(None))
            for item in (pl.lit(ALL), pl.col("component").fill_null("other"))
        ]
    )


def data_quality_facts(received_rows: pl.LazyFrame) -> pl.LazyFrame:
    """Rows received, warned and rejected per dealer and run day, and the rejected share.

    `received_rows`: dealer_code, day (the run's as-of day), rows, warned, rejected (distinct rows, as
    each run counted them).
    """
    facts = (
        ("rows_received", pl.col("rows"), pl.lit(None)),
        ("rows_warned", pl.col("warned"), pl.lit(None)),
        ("rows_rejected", pl.col("rejected"), pl.lit(None)),
        ("rejection_rate", pl.col("rejected"), pl.col("rows")),
    )
    return pl.concat(
        [_fact(received_rows, pl.col("day"), figure, pl.lit(ALL), n, d) for figure, n, d in facts]
    )


def facts_in_periods(dated_facts: pl.LazyFrame, periods: Sequence[Period]) -> pl.LazyFrame:
    """Each dated fact tagged with the requested periods that hold its day (one per period type)."""
    tagged = []
    for period_type in dict.fromkeys(p.type for p in periods):
        of_type = [p for p in periods if p.type == period_type]
        labels = [p.label for p in of_type]
        in_range = pl.col("day").is_between(min(p.start for p in of_type), max(p.end for p in of_type))
        tagged.append(
            dated_facts.filter(in_range)
            .with_columns(
                pl.lit(period_type).alias("period_type"),
                period_label(pl.col("day"), period_type).alias("period"),
            )
            .filter(pl.col("period").is_in(labels))
        )
    return pl.concat(tagged).select(list(FACT_SCHEMA))


def _scopes(dealers: pl.LazyFrame) -> pl.LazyFrame:
    dealers = dealers.filter(pl.col("active").fill_null(True))
    regions = dealers.select(pl.col("region").fill_null(NO_REGION)).unique()
    return pl.concat(
        [
            pl.LazyFrame(
                {"scope_type": [COMPANY], "scope": [ALL], "region": [None]},
                schema_overrides={"region": pl.Utf8},
            ),
            regions.select(pl.lit(REGION).alias("scope_type"), pl.col("region").alias("scope"), "region"),
            dealers.select(
                pl.lit(DEALER).alias("scope_type"),
                pl.col("dealer_code").alias("scope"),
                pl.col("region").fill_null(NO_REGION),
            ),
        ]
    )


def _aggregated(facts: pl.LazyFrame, dealers: pl.LazyFrame) -> pl.LazyFrame:
    regions = dealers.select("dealer_code", pl.col("region"))
    located = facts.join(regions, on="dealer_code", how="left").with_columns(
        pl.col("region").fill_null(NO_REGION)
    )
    sums = [pl.col("numerator").sum(), pl.col("denominator").sum()]
    keys = ["period_type", "period", "figure", "item"]
    with_dealer = located.filter(pl.col("dealer_code").is_not_null())
    return pl.concat(
        [
            located.group_by(keys)
            .agg(sums)
            .with_columns(
                pl.lit(COMPANY).alias("scope_type"),
                pl.lit(ALL).alias("scope"),
                pl.lit(None, pl.Utf8).alias("region"),
            ),
            with_dealer.group_by([*keys, "region"])
            .agg(sums)
            .with_columns(pl.lit(REGION).alias("scope_type"), pl.col("region").alias("scope")),
            with_dealer.group_by([*keys, "dealer_code", "region"])
            .agg(sums)
            .select(
                *keys,
                "region",
                "numerator",
                "denominator",
                pl.lit(DEALER).alias("scope_type"),
                pl.col("dealer_code").alias("scope"),
            ),
        ],
        how="diagonal",
    )


def quality_kpis(facts: pl.LazyFrame, dealers: pl.LazyFrame, periods: Sequence[Period]) -> pl.LazyFrame:
    """Every figure for the periods, per company, region and dealer, with target and change.

    `facts` holds period-tagged facts (FACT_SCHEMA) for the periods and the one before each (see
    `with_previous`). A rate's value is numerator / denominator, NULL when the denominator is 0 (an
    empty period is unknown, never 0% or 100%); a count's value is its numerator and its denominator is
    NULL. Every active dealer of `dealers` (dealer_code, region, active), its region and the company
    get each figure's total, even when empty; an inactive dealer appears only with rows of its own.
    `change` = value - previous period's value (in rate points for rates).
    """
    computed = with_previous(periods)
    period_frame = pl.LazyFrame(
        {
            "period_type": [p.type for p in computed],
            "period": [p.label for p in computed],
            "previous_period": [p.previous().label for p in computed],
        }
    )
    figures = pl.LazyFrame(
        {
            "figure": list(FIGURES),
            "kind": [f.kind for f in FIGURES.values()],
            "target": [f.target for f in FIGURES.values()],
        },
        schema={"figure": pl.Utf8, "kind": pl.Utf8, "target": pl.Float64},
    )
    scaffold = (
        period_frame.select("period_type", "period")
        .join(_scopes(dealers), how="cross")
        .join(figures.select("figure"), how="cross")
        .with_columns(
            pl.lit(ALL).alias("item"),
            pl.lit(0, pl.Int64).alias("numerator"),
            pl.lit(0, pl.Int64).alias("denominator"),
        )
    )
    totals = (
        pl.concat([_aggregated(facts, dealers), scaffold], how="diagonal")
        .group_by([*KPI_KEY])
        .agg(pl.col("region").first(), pl.col("numerator").sum(), pl.col("denominator").sum())
        .join(figures, on="figure", how="left")
        .with_columns(
            pl.when(pl.col("kind") == RATE).then(pl.col("denominator")).alias("denominator"),
        )
        .with_columns(
            pl.when(pl.col("kind") == COUNT)
            .then(pl.col("numerator").cast(pl.Float64))
            .when(pl.col("denominator") > 0)
            .then(pl.col("numerator") / pl.col("denominator"))
            .alias("value")
        )
    )
    previous = totals.select(
        *(pl.col(k) for k in KPI_KEY if k != "period"),
        pl.col("period").alias("previous_period"),
        pl.col("value").alias("previous_value"),
    )
    wanted = pl.LazyFrame(
        {"period_type": [p.type for p in periods], "period": [p.label for p in periods]},
        schema={"period_type": pl.Utf8, "period": pl.Utf8},
    )
    return (
        totals.join(wanted, on=["period_type", "period"], how="semi")
        .join(period_frame, on=["period_type", "period"], how="left")
        .join(
            previous,
            on=["period_type", "previous_period", "scope_type", "scope", "figure", "item"],
            how="left",
        )
        .with_columns((pl.col("value") - pl.col("previous_value")).alias("change"))
        .select(KPI_COLUMNS)
        .sort(KPI_KEY)
    )


def summary_facts(
    visits: pl.LazyFrame,
    calls: pl.LazyFrame,
    complaints: pl.LazyFrame,
    shipments: pl.LazyFrame,
    failures: pl.LazyFrame,
    parts: pl.LazyFrame,
    received_rows: pl.LazyFrame,
    periods: Sequence[Period],
) -> pl.LazyFrame:
    """Every fact of every figure for the periods and the one before each, tagged with its period."""
    computed = with_previous(periods)
    dated = pl.concat(
        [
            return_visit_facts(visits, calls),
            satisfaction_facts(calls),
            shipment_facts(shipments),
            complaint_flow_facts(complaints),
            critical_failure_facts(failures, parts),
            data_quality_facts(received_rows),
        ]
    )
    return pl.concat([facts_in_periods(dated, computed), complaint_stock_facts(complaints, computed)])


DISSATISFIED_COLUMNS = (
    "period_type",
    "period",
    "dealer_code",
    "region",
    "call_id",
    "call_time",
    "call_type",
    "customer_id",
    "work_order_no",
    "staff",
    "customer_request",
    "needs_action",
    "notes",
)


def dissatisfied_calls(calls: pl.LazyFrame, dealers: pl.LazyFrame, periods: Sequence[Period]) -> pl.LazyFrame:
    """Reached calls answered 不满意 dated in the periods, with the customer's words, for the meeting."""
    dissatisfied = calls.filter((pl.col("outcome") == "reached") & (pl.col("satisfaction") == "dissatisfied"))
    tagged = [
        dissatisfied.with_columns(
            pl.lit(p.type).alias("period_type"), pl.lit(p.label).alias("period")
        ).filter(_date_of("call_time").is_between(p.start, p.end))
        for p in periods
    ]
    return (
        pl.concat(tagged)
        .join(dealers.select("dealer_code", "region"), on="dealer_code", how="left")
        .with_columns(pl.col("region").fill_null(NO_REGION))
        .select(DISSATISFIED_COLUMNS)
        .sort("period_type", "period", "dealer_code", "call_time", "call_id")
    )


def data_quality_rules(
    problem_rows: pl.LazyFrame, dealers: pl.LazyFrame, periods: Sequence[Period]
) -> pl.LazyFrame:
    """Per period and dealer, each failing rule with its entries and distinct rows, ranked by entries."""
    tagged = [
        problem_rows.with_columns(
            pl.lit(p.type).alias("period_type"), pl.lit(p.label).alias("period")
        ).filter(pl.col("day").is_between(p.start, p.end))
        for p in periods
    ]
    return (
        pl.concat(tagged)
        .group_by("period_type", "period", "dealer_code", "severity", "rule")
        .agg(
            pl.len().cast(pl.Int64).alias("entries"),
            pl.struct("file_sha256", "sheet", "excel_row").n_unique().cast(pl.Int64).alias("rows"),
        )
        .join(dealers.select("dealer_code", "region"), on="dealer_code", how="left")
        .sort(
            "period_type",
            "period",
            "dealer_code",
            pl.col("entries"),
            "rule",
            descending=[False, False, False, True, False],
            nulls_last=True,
        )
        .with_columns(
            pl.col("region").fill_null(NO_REGION),
            (pl.int_range(pl.len()).over("period_type", "period", "dealer_code") + 1)
            .cast(pl.Int64)
            .alias("rank"),
        )
    )


# The vocabularies a breakdown can take, for reports that list every item even when it is zero.
BREAKDOWN_ITEMS: dict[str, tuple[str, ...]] = {
    "category": COMPLAINT_CATEGORY.codes,
    "error_type": (*ERROR_TYPE.codes, UNSPECIFIED),
    "component": CRITICAL_COMPONENTS,
}

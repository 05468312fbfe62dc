"""Every figure of the weekly quality summary on small literal data (DESIGN.md, "Weekly quality summary")."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from dealersync.transforms.quality_summary import (
    ALL,
    FIGURES,
    Period,
    data_quality_rules,
    dissatisfied_calls,
    quality_kpis,
    summary_facts,
)

D = date
W47 = Period.parse("2026-W47")  # Monday 2026-11-16 .. Sunday 2026-11-22

DEALERS = pl.DataFrame(
    {
        "dealer_code": ["D1", "D2", "D3", "D4"],
        "region": ["North", "North", "South", "East"],
        "active": [True, None, True, False],  # D4 has closed: no empty rows for it or its region
    }
)
VISIT_COLUMNS = {
    "dealer_code": pl.Utf8,
    "work_order_no": pl.Utf8,
    "customer_id": pl.Utf8,
    "intake_date": pl.Date,
    "pickup_date": pl.Date,
    "visit_type": pl.Utf8,
    "under_warranty": pl.Boolean,
}
CALL_COLUMNS = {
    "dealer_code": pl.Utf8,
    "call_id": pl.Utf8,
    "call_time": pl.Datetime("us"),
    "call_type": pl.Utf8,
    "customer_id": pl.Utf8,
    "work_order_no": pl.Utf8,
    "staff": pl.Utf8,
    "outcome": pl.Utf8,
    "satisfaction": pl.Utf8,
    "customer_request": pl.Utf8,
    "needs_action": pl.Boolean,
    "notes": pl.Utf8,
}
COMPLAINT_COLUMNS = {
    "dealer_code": pl.Utf8,
    "complaint_id": pl.Utf8,
    "received_date": pl.Date,
    "category": pl.Utf8,
    "escalated_date": pl.Date,
    "resolved_date": pl.Date,
}
SHIPMENT_COLUMNS = {
    "shipment_line_id": pl.Utf8,
    "dealer_code": pl.Utf8,
    "ship_date": pl.Date,
    "shipped_correct": pl.Boolean,
    "error_type": pl.Utf8,
}
FAILURE_COLUMNS = {
    "feedback_id": pl.Utf8,
    "report_date": pl.Date,
    "dealer_code": pl.Utf8,
    "part_no": pl.Utf8,
    "component": pl.Utf8,
}
PART_COLUMNS = {"part_no": pl.Utf8, "component": pl.Utf8, "critical": pl.Boolean}
RECEIVED_COLUMNS = {
    "dealer_code": pl.Utf8,
    "day": pl.Date,
    "rows": pl.Int64,
    "warned": pl.Int64,
    "rejected": pl.Int64,
}
PROBLEM_COLUMNS = {
    "dealer_code": pl.Utf8,
    "day": pl.Date,
    "severity": pl.Utf8,
    "rule": pl.Utf8,
    "file_sha256": pl.Utf8,
    "sheet": pl.Utf8,
    "excel_row": pl.Int64,
}


def frame(rows: list[tuple], schema: dict) -> pl.LazyFrame:
    return pl.DataFrame(rows, schema=schema, orient="row").lazy()


def visit(dealer, wo, intake, pickup, visit_type="warranty", under_warranty=True):
    return (dealer, wo, "C" + wo, intake, pickup, visit_type, under_warranty)


def call(
    dealer,
    call_id,
    when,
    wo=None,
    call_type="first_follow_up",
    outcome="reached",
    satisfaction=None,
    request=None,
):
    return (dealer, call_id, when, call_type, "C1", wo, "Li", outcome, satisfaction, request, None, None)


# Week 2026-W47: D1's warranty visits whose window (base + 7) ends in the week.
VISITS = [
    visit("D1", "V1", D(2026, 11, 9), D(2026, 11, 10)),  # ends 11-17, reached 11-14: counted, timely
    visit("D1", "V2", D(2026, 11, 12), D(2026, 11, 12)),  # ends 11-19, reached only 11-20: late
    visit("D1", "V3", D(2026, 11, 11), D(2026, 11, 11)),  # ends 11-18, refused: not a return visit
    visit(
        "D1", "V4", D(2026, 11, 13), D(2026, 11, 13)
    ),  # ends 11-20, reached 11-14 (early): counted, not timely
    visit("D1", "V5", D(2026, 11, 9), None, "consultation"),  # consultation: base intake, ends 11-16
    visit("D1", "V6", D(2026, 11, 9), None, "repair"),  # still in the shop: no window yet
    visit("D1", "V7", D(2026, 11, 9), D(2026, 11, 10), "repair", False),  # not under warranty
    visit("D1", "V8", D(2026, 11, 4), D(2026, 11, 5)),  # ends 11-12: week 46, reached 11-08
]
CALLS = [
    call("D1", "K1", datetime(2026, 11, 14, 10), "V1"),
    call("D1", "K2", datetime(2026, 11, 20, 9), "V2"),
    call("D2", "K2B", datetime(2026, 11, 15, 9), "V2"),  # another dealer's V2: matching is within a dealer
    call("D1", "K3", datetime(2026, 11, 14, 9), "V3", outcome="refused"),
    call("D1", "K4", datetime(2026, 11, 14, 11), "V4"),
    call("D1", "K4N", datetime(2026, 11, 13, 11), "V4", outcome="no_answer"),
    call("D1", "K5", datetime(2026, 11, 12, 0), "V5"),
    call("D1", "K8", datetime(2026, 11, 8, 16), "V8"),
    # satisfaction answers dated in week 47
    call("D1", "S1", datetime(2026, 11, 16, 10), call_type="inquiry", satisfaction="satisfied"),
    call("D1", "S2", datetime(2026, 11, 17, 10), call_type="inquiry", satisfaction="fair"),
    call(
        "D2",
        "S3",
        datetime(2026, 11, 22, 23, 59),
        call_type="second_follow_up",
        satisfaction="dissatisfied",
        request="=waited two hours",
    ),
    call("D2", "S4", datetime(2026, 11, 18, 10), call_type="inquiry", outcome="no_answer"),
    call(
        "D2", "S5", datetime(2026, 11, 23, 0, 1), call_type="inquiry", satisfaction="dissatisfied"
    ),  # week 48
]
COMPLAINTS = [
    ("D1", "Q1", D(2026, 11, 16), "product_quality", D(2026, 11, 18), None),  # escalated on time, open
    ("D1", "Q2", D(2026, 11, 17), "service_attitude", None, D(2026, 11, 21)),  # late, resolved in week
    ("D1", "Q3", D(2026, 11, 10), "repair_quality", None, None),  # open and overdue at 11-22
    ("D3", "Q4", D(2026, 11, 21), "timeliness", None, None),  # open, not yet overdue (deadline 11-23)
    ("D3", "Q5", D(2026, 11, 1), "timeliness", None, D(2026, 11, 3)),  # closed before the week
]
SHIPMENTS = [
    ("L1", "D1", D(2026, 11, 16), True, None),
    ("L2", "D1", D(2026, 11, 17), None, None),  # blank = correct
    ("L3", "D3", D(2026, 11, 18), False, "wrong_part"),
    ("L4", "D3", D(2026, 11, 22), False, None),  # error without a type
    ("L5", "D3", D(2026, 11, 23), False, "damaged"),  # week 48
]
FAILURES = [
    ("F1", D(2026, 11, 16), "D1", "P-MOTOR", "motor"),
    ("F2", D(2026, 11, 20), "D3", "P-MOTOR", "motor"),
    ("F3", D(2026, 11, 20), "D3", "P-BOLT", "other"),  # not critical
    ("F4", D(2026, 11, 21), "D3", "P-SEAT", "other"),  # a part marked critical
]
PARTS = [("P-MOTOR", "motor", True), ("P-BOLT", "other", False), ("P-SEAT", "other", True)]
# Rows read, warned and rejected per dealer and run day (as the runs counted them)
RECEIVED = [
    ("D1", D(2026, 11, 17), 100, 1, 2),
    ("D3", D(2026, 11, 18), 50, 0, 0),
    ("D1", D(2026, 11, 24), 10, 0, 1),
]
PROBLEMS = [
    ("D1", D(2026, 11, 17), "rejected", "not_a_date", "f1", "维修记录", 5),
    ("D1", D(2026, 11, 17), "rejected", "required", "f1", "维修记录", 5),  # same row, second rule
    ("D1", D(2026, 11, 17), "rejected", "not_a_date", "f1", "维修记录", 9),
    ("D1", D(2026, 11, 17), "warning", "vin_check_digit", "f1", "客户档案", 3),
]


def kpis(periods, visits=(), calls=(), complaints=(), shipments=(), failures=(), received=()):
    periods = [Period.parse(p) if isinstance(p, str) else p for p in periods]
    facts = summary_facts(
        frame(list(visits), VISIT_COLUMNS),
        frame(list(calls), CALL_COLUMNS),
        frame(list(complaints), COMPLAINT_COLUMNS),
        frame(list(shipments), SHIPMENT_COLUMNS),
        frame(list(failures), FAILURE_COLUMNS),
        frame(PARTS, PART_COLUMNS),
        frame(list(received), RECEIVED_COLUMNS),
        periods,
    )
    return quality_kpis(facts, DEALERS.lazy(), periods).collect()


@pytest.fixture(scope="module")
def week47():
    return kpis(["2026-W47"], VISITS, CALLS, COMPLAINTS, SHIPMENTS, FAILURES, RECEIVED)


def kpi(table, figure, scope=ALL, item=ALL, period=None):
    rows = table.filter((pl.col("figure") == figure) & (pl.col("scope") == scope) & (pl.col("item") == item))
    if period:
        rows = rows.filter(pl.col("period") == period)
    assert rows.height == 1, (figure, scope, item, rows)
    return rows.row(0, named=True)


def test_return_visit_rate_counts_reached_first_calls_by_the_window_end(week47):
    # V1, V4, V5 reached by their window end; V2 late, V3 refused; V6 in the shop, V7 out of warranty.
    row = kpi(week47, "return_visit_rate", "D1")
    assert (row["numerator"], row["denominator"], row["value"]) == (3, 5, 0.6)
    assert row["target"] == 1.0
    # week 46 held only V8, reached: change is measured in rate points
    assert row["previous_value"] == 1.0
    assert row["change"] == pytest.approx(-0.4)


def test_first_call_timeliness_needs_the_earliest_reached_call_inside_base_plus_3_to_7(week47):
    # V1 (day 4) and V5 (consultation, day 3) in the window; V4 reached on day 1: too early.
    row = kpi(week47, "first_call_timeliness", "D1")
    assert (row["numerator"], row["denominator"], row["value"]) == (2, 5, 0.4)
    assert row["target"] is None


def test_a_dealer_with_no_warranty_visits_has_an_empty_rate_not_0_or_100_percent(week47):
    row = kpi(week47, "return_visit_rate", "D2")
    assert (row["numerator"], row["denominator"], row["value"]) == (0, 0, None)
    assert row["change"] is None


def test_scopes_add_up_company_region_dealer(week47):
    assert kpi(week47, "return_visit_rate", "North")["denominator"] == 5
    assert kpi(week47, "return_visit_rate", "South")["value"] is None
    company = kpi(week47, "return_visit_rate")
    assert (company["scope_type"], company["region"], company["value"]) == ("company", None, 0.6)
    dealer = kpi(week47, "return_visit_rate", "D3")
    assert (dealer["scope_type"], dealer["region"]) == ("dealer", "South")
    assert week47.filter(pl.col("scope").is_in(["D4", "East"])).is_empty()


def test_satisfaction_counts_fair_as_satisfied_and_strict_does_not(week47):
    # S1 satisfied, S2 fair, S3 dissatisfied (the week's last minute); S4 no answer; S5 is week 48.
    row = kpi(week47, "satisfaction_rate")
    assert (row["numerator"], row["denominator"], row["target"]) == (2, 3, 0.98)
    strict = kpi(week47, "satisfaction_rate_strict")
    assert (strict["numerator"], strict["denominator"]) == (1, 3)
    assert kpi(week47, "dissatisfied_calls")["value"] == 1
    assert kpi(week47, "dissatisfied_calls", "D2")["denominator"] is None


def test_refused_calls_are_not_satisfaction_answers():
    refused = call(
        "D1", "R1", datetime(2026, 11, 17), call_type="inquiry", outcome="refused", satisfaction="satisfied"
    )
    row = kpi(kpis(["2026-W47"], calls=[refused]), "satisfaction_rate")
    assert (row["denominator"], row["value"]) == (0, None)


def test_shipment_accuracy_treats_blank_as_correct_and_lists_errors_by_type(week47):
    row = kpi(week47, "shipment_accuracy")
    assert (row["numerator"], row["denominator"], row["value"], row["target"]) == (2, 4, 0.5, 0.98)
    assert kpi(week47, "shipment_errors")["value"] == 2
    assert kpi(week47, "shipment_errors", item="wrong_part")["value"] == 1
    assert kpi(week47, "shipment_errors", item="unspecified")["value"] == 1
    assert week47.filter(pl.col("item") == "damaged").is_empty()
    assert kpi(week47, "shipment_accuracy", "D1")["value"] == 1.0


@pytest.mark.parametrize(
    ("figure", "item", "expected"),
    [
        ("complaints_received", ALL, 3),  # Q1, Q2, Q4
        ("complaints_received", "timeliness", 1),
        ("complaints_escalated_on_time", ALL, pytest.approx(1 / 3)),  # Q1 by received + 2
        ("complaints_escalated_on_time", "product_quality", 1.0),
        ("complaints_escalated_on_time", "service_attitude", 0.0),  # resolved on day 4: late
        ("complaints_resolved", ALL, 1),  # Q2
        ("complaints_open", ALL, 3),  # Q1 (escalated, unresolved), Q3, Q4
        ("complaints_open", "repair_quality", 1),
        ("complaints_overdue", ALL, 1),  # Q3; Q4's two days are not over on the 22nd
        ("complaints_overdue", "repair_quality", 1),
    ],
)
def test_complaints_by_category(week47, figure, item, expected):
    assert kpi(week47, figure, item=item)["value"] == expected


def test_critical_failures_by_component_include_parts_marked_critical(week47):
    assert kpi(week47, "critical_failures")["value"] == 3  # F1, F2, F4; F3 is an ordinary bolt
    assert kpi(week47, "critical_failures", item="motor")["value"] == 2
    assert kpi(week47, "critical_failures", "D3", item="motor")["value"] == 1


def test_data_quality_counts_the_rows_of_the_runs_of_the_period_per_dealer(week47):
    assert kpi(week47, "rows_received", "D1")["value"] == 100  # the run of the 24th is week 48
    assert kpi(week47, "rows_rejected", "D1")["value"] == 2
    assert kpi(week47, "rows_warned", "D1")["value"] == 1
    rate = kpi(week47, "rejection_rate", "D1")
    assert (rate["numerator"], rate["denominator"], rate["value"]) == (2, 100, 0.02)
    assert kpi(week47, "rejection_rate", "D2")["value"] is None
    assert kpi(week47, "rows_received")["value"] == 150


def test_top_failing_rules_are_ranked_per_dealer():
    rules = data_quality_rules(frame(PROBLEMS, PROBLEM_COLUMNS), DEALERS.lazy(), [W47]).collect()
    top = rules.filter(pl.col("rank") == 1).row(0, named=True)
    assert (top["dealer_code"], top["rule"], top["entries"], top["rows"], top["region"]) == (
        "D1",
        "not_a_date",
        2,
        2,
        "North",
    )
    assert rules.height == 3


def test_dissatisfied_calls_are_listed_with_the_customers_words():
    listed = dissatisfied_calls(frame(CALLS, CALL_COLUMNS), DEALERS.lazy(), [W47]).collect()
    assert listed["call_id"].to_list() == ["S3"]
    assert listed["customer_request"].to_list() == ["=waited two hours"]
    assert listed["region"].to_list() == ["North"]


def test_an_empty_period_has_empty_rates_and_zero_counts():
    table = kpis(["2026-W30"], VISITS, CALLS, COMPLAINTS, SHIPMENTS, FAILURES, RECEIVED)
    for figure in FIGURES.values():
        row = kpi(table, figure.name)
        if figure.kind == "rate":
            assert (row["denominator"], row["value"]) == (0, None), figure.name
        else:
            assert row["value"] == 0, figure.name
    assert kpi(table, "complaints_open")["value"] == 0  # nothing received before week 30


def test_a_week_crossing_the_year_boundary():
    visits = [
        visit("D1", "Y1", D(2026, 12, 27), D(2026, 12, 27)),  # window ends Sunday 2027-01-03: 2026-W53
        visit("D1", "Y2", D(2026, 12, 28), D(2026, 12, 28)),  # ends Monday 2027-01-04: 2027-W01
    ]
    calls = [call("D1", "K", datetime(2026, 12, 31), "Y1")]
    table = kpis(["2026-W53", "2027-W01", "2026-12", "2027-01", "2026", "2027"], visits, calls)
    by_period = {
        row["period"]: (row["numerator"], row["denominator"])
        for row in table.filter(
            (pl.col("figure") == "return_visit_rate") & (pl.col("scope") == ALL)
        ).iter_rows(named=True)
    }
    assert by_period == {
        "2026-W53": (1, 1),
        "2027-W01": (0, 1),
        "2026-12": (0, 0),
        "2027-01": (1, 2),
        "2026": (0, 0),
        "2027": (1, 2),
    }
    w01 = kpi(table, "return_visit_rate", period="2027-W01")
    assert (w01["value"], w01["previous_value"], w01["change"]) == (0.0, 1.0, -1.0)


@pytest.mark.parametrize(
    ("label", "start", "end", "previous", "following"),
    [
        ("2026-W53", D(2026, 12, 28), D(2027, 1, 3), "2026-W52", "2027-W01"),
        ("2027-W01", D(2027, 1, 4), D(2027, 1, 10), "2026-W53", "2027-W02"),
        ("2026-W01", D(2025, 12, 29), D(2026, 1, 4), "2025-W52", "2026-W02"),
        ("2026-02", D(2026, 2, 1), D(2026, 2, 28), "2026-01", "2026-03"),
        ("2026-01", D(2026, 1, 1), D(2026, 1, 31), "2025-12", "2026-02"),
        ("2026", D(2026, 1, 1), D(2026, 12, 31), "2025", "2027"),
    ],
)
def test_periods(label, start, end, previous, following):
    period = Period.parse(label)
    assert (period.start, period.end) == (start, end)
    assert (period.previous().label, period.following().label) == (previous, following)
    assert Period.containing(period.type, end) == period


def test_recent_periods_end_with_the_period():
    assert [p.label for p in Period.parse("2027-W02").recent(3)] == ["2026-W53", "2027-W01", "2027-W02"]


@pytest.mark.parametrize("label", ["week 47", "2026-W54", "2027-W53", "2026-13", "26"])
def test_a_period_label_that_is_not_one_is_refused(label):
    with pytest.raises(ValueError, match="not a period"):
        Period.parse(label)


def test_company_and_regions_re_aggregate_from_dealers(week47):
    # numerators and denominators add up across scopes, so analysts can roll up any way they like
    keys = ["figure", "item"]
    sums = [pl.col("numerator").sum(), pl.col("denominator").sum()]

    def totals(scope_type):
        return week47.filter(pl.col("scope_type") == scope_type).group_by(keys).agg(sums).sort(keys)

    dealers, regions = totals("dealer"), totals("region")
    company = (
        week47.filter(pl.col("scope_type") == "company").select(*keys, "numerator", "denominator").sort(keys)
    )
    assert dealers.equals(regions)
    assert dealers.with_columns(pl.col("denominator").cast(pl.Int64)).equals(
        company.with_columns(pl.col("denominator").fill_null(0))
    )

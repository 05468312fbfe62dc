"""Generated workbooks → nightly flow → the due-list xlsx files hold exactly the expected items.

The expected items come from a deliberately plain row-by-row reading of DESIGN.md's rules over the
core rows the night loaded — written apart from the SQL of transforms/due_list.py, on purpose.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, timedelta

import duckdb
import openpyxl
import pytest

from dealersync.exports.due_list import UNREACHABLE, due_list_folder
from dealersync.transforms.due_list import CONTACT_PROBLEM, KIND, PRIORITY, STATUS

TODAY = date(2026, 11, 26)
LEAD_DAYS = 7  # the default of settings.maintenance_lead_days

DAYS = timedelta(days=1)
CLOSES, MISSED = ("reached", "refused"), ("no_answer", "wrong_number")
PHONE_KINDS = {
    "first_follow_up",
    "second_follow_up",
    "maintenance_reminder",
    "campaign_call",
    "complaint_callback",
}


def core_rows(con: duckdb.DuckDBPyConnection, table: str) -> list[dict]:
    relation = con.sql(f"SELECT * FROM core.{table}")
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def expected_items(con: duckdb.DuckDBPyConnection, today: date) -> set[tuple]:
    """(dealer, kind, customer, ref, due, window end, status, priority, attempts, contact problem)."""
    visits = [v for v in core_rows(con, "service_visits") if v["intake_date"] <= today]
    for v in visits:
        if v["pickup_date"] is not None and v["pickup_date"] > today:
            v["pickup_date"] = None
    calls = [c for c in core_rows(con, "follow_up_calls") if c["call_time"].date() <= today]
    letters = [x for x in core_rows(con, "letters") if x["sent_date"] <= today]
    complaints = [p for p in core_rows(con, "complaints") if p["received_date"] <= today]
    files = {
        (c["dealer_code"], c["customer_id"]): c
        for c in core_rows(con, "customers")
        if c["valid_from"] <= today and (c["valid_to"] is None or c["valid_to"] > today)
    }
    dealers = {}
    for d in sorted(core_rows(con, "dealers"), key=lambda d: d["valid_from"]):
        if d["dealer_code"] not in dealers or d["valid_from"] <= today:
            dealers[d["dealer_code"]] = d
    vehicles = [
        v for v in core_rows(con, "vehicles") if v["purchase_date"] is None or v["purchase_date"] <= today
    ]
    campaigns = core_rows(con, "campaigns")
    items = []

    def add(dealer, kind, customer, ref, due, end, attempts=0, urgent=False):
        if due > today:
            return
        overdue = today > end
        problem = None
        file = files.get((dealer, customer))
        if kind in PHONE_KINDS:
            if file is None:
                problem = "no_customer_file"
            elif not file["phone"]:
                problem = "no_phone"
            elif not re.fullmatch(r"1\d{10}|0\d{9,11}", file["phone"]):
                problem = "invalid_phone"
        elif kind == "campaign_letter":
            if file is None:
                problem = "no_customer_file"
            elif not (file["address"] or "").strip():
                problem = "no_address"
        status = "overdue" if overdue else "due"
        priority = "high" if overdue or urgent else "normal"
        items.append((dealer, kind, customer, ref, due, end, status, priority, attempts, problem))

    def work_order_calls(v, call_type, outcomes):
        return [
            c
            for c in calls
            if c["dealer_code"] == v["dealer_code"]
            and c["work_order_no"] == v["work_order_no"]
            and c["call_type"] == call_type
            and c["outcome"] in outcomes
        ]

    for v in visits:
        base = v["pickup_date"] or (v["intake_date"] if v["visit_type"] == "consultation" else None)
        if base and not work_order_calls(v, "first_follow_up", CLOSES):
            urgent = bool(v["under_warranty"]) or v["visit_type"] == "warranty"
            attempts = len(work_order_calls(v, "first_follow_up", MISSED))
            add(
                v["dealer_code"],
                "first_follow_up",
                v["customer_id"],
                v["work_order_no"],
                base + 3 * DAYS,
                base + 7 * DAYS,
                attempts,
                urgent,
            )
        reached = work_order_calls(v, "first_follow_up", ("reached",))
        if reached and not work_order_calls(v, "second_follow_up", CLOSES):
            first = min(c["call_time"] for c in reached).date()
            attempts = len(work_order_calls(v, "second_follow_up", MISSED))
            add(
                v["dealer_code"],
                "second_follow_up",
                v["customer_id"],
                v["work_order_no"],
                first + 7 * DAYS,
                first + 14 * DAYS,
                attempts,
            )

    latest = {}
    for v in visits:
        key = (v["dealer_code"], v["vin"])
        if v["next_maintenance_date"] and (
            key not in latest
            or (v["intake_date"], v["work_order_no"])
            > (latest[key]["intake_date"], latest[key]["work_order_no"])
        ):
            latest[key] = v
    for v in latest.values():
        reminders = [
            c
            for c in calls
            if c["dealer_code"] == v["dealer_code"]
            and c["call_type"] == "maintenance_reminder"
            and (
                c["work_order_no"] == v["work_order_no"]
                or (
                    c["work_order_no"] is None
                    and c["customer_id"] == v["customer_id"]
                    and c["call_time"].date() >= v["intake_date"]
                )
            )
        ]
        if not any(c["outcome"] in CLOSES for c in reminders):
            attempts = sum(c["outcome"] in MISSED for c in reminders)
            nmd = v["next_maintenance_date"]
            add(
                v["dealer_code"],
                "maintenance_reminder",
                v["customer_id"],
                v["work_order_no"],
                nmd - LEAD_DAYS * DAYS,
                nmd,
                attempts,
            )

    for k in campaigns:
        end = k["end_date"] or k["start_date"]
        if today > end:
            continue
        notices = defaultdict(list)
        for c in calls:
            if c["call_type"] == "campaign_notice" and c["campaign_id"] == k["campaign_id"]:
                notices[(c["dealer_code"], c["customer_id"])].append(c)
        region = (k["region"] or "").strip().upper()
        model = (k["model"] or "").strip().upper()
        for (dealer, customer), file in files.items():
            own = [v for v in vehicles if (v["dealer_code"], v["customer_id"]) == (dealer, customer)]
            customer_region = (file["region"] or dealers[dealer]["region"] or "").strip().upper()
            if region and region != customer_region:
                continue
            if not [v for v in own if not model or v["model"].strip().upper() == model]:
                continue
            mine = notices[(dealer, customer)]
            if not any(c["outcome"] in CLOSES for c in mine):
                attempts = sum(c["outcome"] in MISSED for c in mine)
                add(
                    dealer,
                    "campaign_call",
                    customer,
                    k["campaign_id"],
                    k["start_date"] - 14 * DAYS,
                    k["start_date"],
                    attempts,
                )
        for (dealer, customer), mine in notices.items():
            reached = [c["call_time"].date() for c in mine if c["outcome"] == "reached"]
            sent = [
                x
                for x in letters
                if (x["dealer_code"], x["customer_id"], x["campaign_id"])
                == (dealer, customer, k["campaign_id"])
            ]
            if reached and not sent:
                add(
                    dealer,
                    "campaign_letter",
                    customer,
                    k["campaign_id"],
                    min(reached),
                    min(reached) + 2 * DAYS,
                )

    for p in complaints:
        escalated = p["escalated_date"] is not None and p["escalated_date"] <= today
        resolved = p["resolved_date"] is not None and p["resolved_date"] <= today
        if not escalated and not resolved:
            add(
                p["dealer_code"],
                "complaint_escalation",
                p["customer_id"],
                p["complaint_id"],
                p["received_date"],
                p["received_date"] + 2 * DAYS,
            )
        if resolved:
            callbacks = [
                c
                for c in calls
                if c["dealer_code"] == p["dealer_code"]
                and c["call_type"] == "complaint_callback"
                and c["complaint_id"] == p["complaint_id"]
            ]
            if not any(c["outcome"] in CLOSES for c in callbacks):
                attempts = sum(c["outcome"] in MISSED for c in callbacks)
                resolved_on = p["resolved_date"]
                add(
                    p["dealer_code"],
                    "complaint_callback",
                    p["customer_id"],
                    p["complaint_id"],
                    resolved_on,
                    resolved_on + 3 * DAYS,
                    attempts,
                )

    first_visit = {}
    for v in sorted(visits, key=lambda v: (v["intake_date"], v["work_order_no"])):
        first_visit.setdefault((v["dealer_code"], v["customer_id"]), v)
    for (dealer, customer), v in first_visit.items():
        if (dealer, customer) not in files:
            add(
                dealer,
                "customer_file",
                customer,
                v["work_order_no"],
                v["intake_date"],
                v["intake_date"] + 2 * DAYS,
            )

    assert len(items) == len(set(items)), "an item twice"
    return set(items)


def exported_items(path, dealer: str) -> list[tuple]:
    """The items of a dealer's xlsx, read back from its kind sheets and its unreachable sheet."""
    kind_of = {zh: code for code, zh in KIND.labels}
    code_of = {
        column: {zh: code for code, zh in enum.labels}
        for column, enum in (("状态", STATUS), ("优先级", PRIORITY), ("无法联系原因", CONTACT_PROBLEM))
    }
    book = openpyxl.load_workbook(path)
    found = []
    for name in book.sheetnames[1:]:
        rows = list(book[name].iter_rows(values_only=True))
        header = rows[0]
        for values in rows[1:]:
            row = dict(zip(header, values, strict=True))
            kind = kind_of[row["类型"]] if name == UNREACHABLE else kind_of[name]
            problem = code_of["无法联系原因"][row["无法联系原因"]] if name == UNREACHABLE else None
            found.append(
                (
                    dealer,
                    kind,
                    row["客户编号"],
                    row["单号"],
                    row["应办日期"].date(),
                    row["截止日期"].date(),
                    code_of["状态"][row["状态"]],
                    code_of["优先级"][row["优先级"]],
                    row["未接通次数"],
                    problem,
                )
            )
    return found


@pytest.mark.slow
@pytest.mark.xdist_group("prefect")
def test_generated_workbooks_to_due_list_files(tmp_path, monkeypatch, prefect_harness):
    from prefect.task_runners import ThreadPoolTaskRunner

    from dealersync.flows.nightly import nightly
    from dealersync.samples import generate_inbox

    monkeypatch.setenv("DEALERSYNC_EXPORTS", str(tmp_path / "exports"))
    manifest = generate_inbox(tmp_path / "inbox", today=TODAY, dealers=3, visits_per_dealer=150, seed=3)
    result = nightly.with_options(task_runner=ThreadPoolTaskRunner(max_workers=2))(
        inbox=tmp_path / "inbox", warehouse=tmp_path / "warehouse.duckdb", today=TODAY
    )
    assert result.exit_code == 0
    folder = due_list_folder(tmp_path / "exports", TODAY)
    assert result.outputs["Due lists"] == str(folder)

    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    expected = expected_items(con, TODAY)
    con.close()
    assert {item[1] for item in expected} == set(KIND.codes), "the sample data should exercise every kind"
    assert any(item[9] for item in expected), "and some customers who cannot be reached"

    for dealer in manifest.dealer_files:
        found = exported_items(folder / f"dealer_{dealer}.xlsx", dealer)
        assert len(found) == len(set(found)), "an item listed twice"
        assert set(found) == {item for item in expected if item[0] == dealer}, dealer
    assert (
        (folder / f"dealer_{next(iter(manifest.dealer_files))}.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    )

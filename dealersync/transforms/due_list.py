"""Daily due lists: every call, letter or escalation still open on a given day, and why (DESIGN.md)."""

from __future__ import annotations

from datetime import date

from dealersync.schemas.contract import (
    CAMPAIGN_TYPE,
    COMPLAINT_CATEGORY,
    DATE,
    DATETIME,
    ENUM,
    INT,
    SATISFACTION,
    SEVERITY,
    STR,
    VISIT_TYPE,
    Column,
    Enum,
)

KIND = Enum(
    "due_kind",
    (
        ("first_follow_up", "首次回访"),
        ("second_follow_up", "二次回访"),
        ("maintenance_reminder", "保养提醒"),
        ("campaign_call", "活动电话通知"),
        ("campaign_letter", "活动信函"),
        ("complaint_escalation", "投诉上报"),
        ("complaint_callback", "投诉回访"),
        ("customer_file", "客户建档"),
    ),
)
STATUS = Enum("due_status", (("due", "待办"), ("overdue", "逾期")))
PRIORITY = Enum("due_priority", (("high", "高"), ("normal", "普通")))
CONTACT_PROBLEM = Enum(
    "contact_problem",
    (
        ("no_customer_file", "无客户档案"),
        ("no_phone", "无电话"),
        ("invalid_phone", "电话无效"),
        ("no_address", "无地址"),
    ),
)

# How each kind reaches the customer: the phone, a letter, or nobody (work for the desk itself).
PHONE_KINDS = (
    "first_follow_up",
    "second_follow_up",
    "maintenance_reminder",
    "campaign_call",
    "complaint_callback",
)
LETTER_KINDS = ("campaign_letter",)

# A phone the desk can dial: an 11-digit mobile starting with 1, or a landline with its area code
# (10-12 digits starting with 0), as CONTRACT.md defines it; phones are stored as digits only.
REACHABLE_PHONE = r"1\d{10}|0\d{9,11}"

# Talking points are one line: long free text (complaints, requests) is cut to this many characters.
TEXT_CUT = 40

DUE_LIST_COLUMNS: tuple[Column, ...] = (
    Column("as_of", "日期", DATE, True, doc="The day the list is for"),
    Column("dealer_code", "经销商代码", STR, True, doc="Dealer who owns the item"),
    Column("dealer_name", "经销商名称", STR, doc="Dealer name"),
    Column("region", "区域", STR, doc="Dealer's region (routing of regional lists)"),
    Column("kind", "类型", ENUM, True, KIND, doc="What to do: " + ", ".join(KIND.codes)),
    Column("customer_id", "客户编号", STR, True, doc="Customer, within the dealer"),
    Column("customer_name", "客户名称", STR, doc="Customer name from the customer file on that day"),
    Column("phone", "联系电话", STR, doc="Phone from the customer file on that day (digits)"),
    Column("address", "地址", STR, doc="Postal address from the customer file (for letters)"),
    Column("vin", "车架号", STR, doc="Vehicle concerned"),
    Column("plate_no", "车牌号", STR, doc="Licence plate of the vehicle"),
    Column("model", "车型", STR, doc="Model of the vehicle"),
    Column(
        "ref",
        "单号",
        STR,
        True,
        doc="What the item is about: work_order_no, campaign_id or complaint_id",
    ),
    Column("due_date", "应办日期", DATE, True, doc="First day the item is due"),
    Column("window_end", "截止日期", DATE, True, doc="Last day of the window; overdue after it"),
    Column("status", "状态", ENUM, True, STATUS, doc="due, or overdue when the day is after window_end"),
    Column(
        "priority",
        "优先级",
        ENUM,
        True,
        PRIORITY,
        doc="high for warranty-period first follow-ups and overdue items, else normal",
    ),
    Column("attempts", "未接通次数", INT, True, doc="Calls for this item that did not reach the customer"),
    Column("last_attempt_at", "最近尝试时间", DATETIME, doc="Time of the latest such call"),
    Column(
        "contact_problem",
        "无法联系原因",
        ENUM,
        False,
        CONTACT_PROBLEM,
        doc="Why the customer cannot be called or written to (blank = reachable): "
        + ", ".join(CONTACT_PROBLEM.codes),
    ),
    Column("talking_points", "沟通要点", STR, doc="One line of context for the caller, from the records"),
)


def _zh(expression: str, enum: Enum) -> str:
    """SQL giving the Chinese label of an enum code."""
    cases = " ".join(f"WHEN '{code}' THEN '{zh}'" for code, zh in enum.labels)
    return f"(CASE {expression} {cases} ELSE {expression} END)"


def _day(expression: str) -> str:
    return f"strftime({expression}, '%Y-%m-%d')"


def _cut(expression: str) -> str:
    """SQL shortening free text to one talking-point line."""
    return (
        f"(CASE WHEN length({expression}) > {TEXT_CUT} "
        f"THEN left({expression}, {TEXT_CUT - 1}) || '…' ELSE {expression} END)"
    )


def _visit_line(v: str) -> str:
    """'2024-03-05 保养：更换机油' — what was done at a visit and when."""
    return f"{_day(f'{v}.intake_date')} || ' ' || {_zh(f'{v}.visit_type', VISIT_TYPE)} || coalesce('：' || {_cut(f'{v}.service_items')}, '')"


def known_records_sql(today: date) -> str:
    """CTEs of the records as they stood at the end of `today`.

    Rule: "today is a parameter, so any past day can be recomputed exactly": a visit, complaint, call or
    letter dated after `today` does not exist yet; a pickup, escalation or resolution dated after it has
    not happened yet; the customer file is the version valid on `today` (a file that arrived later did
    not exist); the dealer is the version valid on `today` (else its earliest one). Calls that close an
    item are those that reached the customer or that the customer refused; the others are attempts.
    """
    day = f"DATE '{today.isoformat()}'"
    return f"""
visits AS NOT MATERIALIZED (
    SELECT dealer_code, work_order_no, customer_id, vin, intake_date,
           CASE WHEN pickup_date <= {day} THEN pickup_date END AS pickup_date,
           visit_type, service_items, mileage_km, next_maintenance_date,
           coalesce(under_warranty, false) OR visit_type = 'warranty' AS in_warranty, has_customer_file
    FROM core.service_visits
    WHERE intake_date <= {day}
),
calls AS NOT MATERIALIZED (
    SELECT dealer_code, call_type, customer_id, work_order_no, campaign_id, complaint_id, outcome,
           satisfaction, customer_request, call_time, CAST(call_time AS DATE) AS call_date,
           outcome IN ('reached', 'refused') AS closes
    FROM core.follow_up_calls
    WHERE call_time < {day} + 1
),
attempts AS (
    SELECT dealer_code, call_type, customer_id, work_order_no, campaign_id, complaint_id, call_time,
           CAST(call_time AS DATE) AS call_date
    FROM core.follow_up_calls
    -- outcome is one of four codes; NOT IN (unlike IN) is filtered inside DuckDB's scan
    WHERE call_time < {day} + 1 AND outcome NOT IN ('reached', 'refused')
),
work_order_attempts AS (
    SELECT dealer_code, work_order_no, call_type, count(*) AS attempts, max(call_time) AS last_attempt_at
    FROM attempts
    WHERE work_order_no IS NOT NULL
    GROUP BY ALL
),
complaints AS (
    SELECT dealer_code, complaint_id, customer_id, vin, received_date, category, severity, description,
           CASE WHEN escalated_date <= {day} THEN escalated_date END AS escalated_date,
           CASE WHEN resolved_date <= {day} THEN resolved_date END AS resolved_date,
           resolution
    FROM core.complaints
    WHERE received_date <= {day}
),
customers AS (
    SELECT dealer_code, customer_id, name, phone, address, region
    FROM core.customers
    WHERE valid_from <= {day} AND (valid_to IS NULL OR valid_to > {day})
),
vehicles AS (
    SELECT dealer_code, vin, customer_id, plate_no, model
    FROM core.vehicles
    WHERE purchase_date IS NULL OR purchase_date <= {day}
),
dealers AS (
    SELECT dealer_code, name, region
    FROM core.dealers
    QUALIFY row_number() OVER (
        PARTITION BY dealer_code
        ORDER BY valid_from <= {day} DESC,
                 CASE WHEN valid_from <= {day} THEN valid_from END DESC,
                 valid_from
    ) = 1
),
campaigns AS (
    SELECT campaign_id, name, campaign_type, start_date,
           coalesce(end_date, start_date) AS end_date,
           upper(nullif(trim(region), '')) AS region,
           upper(nullif(trim(model), '')) AS model
    FROM core.campaigns
    WHERE {day} <= coalesce(end_date, start_date)
),
campaign_letters_sent AS (
    SELECT l.dealer_code, l.customer_id, l.campaign_id
    FROM core.letters AS l
    SEMI JOIN campaigns AS k ON k.campaign_id = l.campaign_id
    WHERE l.sent_date <= {day}
),
campaign_notices AS (
    SELECT c.dealer_code, c.customer_id, c.campaign_id,
           bool_or(c.closes) AS closed,
           min(c.call_date) FILTER (WHERE c.outcome = 'reached') AS first_reached,
           count(*) FILTER (WHERE NOT c.closes) AS attempts,
           max(c.call_time) FILTER (WHERE NOT c.closes) AS last_attempt_at
    FROM calls AS c
    SEMI JOIN campaigns AS k ON k.campaign_id = c.campaign_id
    WHERE c.call_type = 'campaign_notice'
    GROUP BY ALL
)"""


def _closing_calls(call_type: str, ref: str = "work_order_no") -> str:
    """SQL relation (dealer_code, `ref`) of the calls of `call_type` that close an item."""
    return f"(SELECT dealer_code, {ref} FROM calls WHERE call_type = '{call_type}' AND closes)"


def first_follow_ups_sql(today: date) -> str:
    """Visits whose first return call is due or overdue on `today`.

    Rule: "call 3 days to 1 week after the vehicle left the shop (pickup) or after a consultation":
    due pickup + 3, overdue after pickup + 7; a consultation with no pickup counts from intake; a
    vehicle still in the shop has no item yet. Any reached (or refused) first follow-up call for the
    work order closes it, early or late. Warranty-period visits are priority high.
    """
    day = f"DATE '{today.isoformat()}'"
    return f"""
SELECT v.dealer_code, 'first_follow_up' AS kind, v.customer_id, v.vin, v.work_order_no AS ref,
       v.base_date + 3 AS due_date, v.base_date + 7 AS window_end,
       coalesce(a.attempts, 0) AS attempts, a.last_attempt_at, v.in_warranty AS urgent,
       concat_ws('；', {_visit_line("v")},
                 {_day("v.pickup_date")} || ' 出厂',
                 '下次保养 ' || {_day("v.next_maintenance_date")}) AS talking_points
FROM (
    SELECT *, coalesce(pickup_date, CASE WHEN visit_type = 'consultation' THEN intake_date END) AS base_date
    FROM visits
) AS v
ANTI JOIN {_closing_calls("first_follow_up")} AS c
    ON c.dealer_code = v.dealer_code AND c.work_order_no = v.work_order_no
LEFT JOIN work_order_attempts AS a
    ON a.dealer_code = v.dealer_code AND a.work_order_no = v.work_order_no
   AND a.call_type = 'first_follow_up'
WHERE v.base_date + 3 <= {day}"""


def second_follow_ups_sql(today: date) -> str:
    """Work orders whose second return call is due or overdue on `today`.

    Rule: "a second call in the 7 days after one week has passed since the first call": due first
    reached call + 7, overdue after + 14, counted from the earliest reached first follow-up call (a
    refused call starts nothing); a reached (or refused) second follow-up call for the work order
    closes it.
    """
    day = f"DATE '{today.isoformat()}'"
    return f"""
SELECT v.dealer_code, 'second_follow_up' AS kind, v.customer_id, v.vin, v.work_order_no AS ref,
       f.first_reached + 7 AS due_date, f.first_reached + 14 AS window_end,
       coalesce(a.attempts, 0) AS attempts, a.last_attempt_at, false AS urgent,
       concat_ws('；',
                 '首次回访 ' || {_day("f.first_reached")}
                     || coalesce('（' || {_zh("f.satisfaction", SATISFACTION)} || '）', '')
                     || coalesce('：' || {_cut("f.customer_request")}, ''),
                 {_visit_line("v")}) AS talking_points
FROM (
    -- the earliest reached first call; one on or before today − 7 exists exactly when it is due
    SELECT f.dealer_code, f.work_order_no, CAST(min(f.call_time) AS DATE) AS first_reached,
           arg_min(f.satisfaction, f.call_time) AS satisfaction,
           arg_min(f.customer_request, f.call_time) AS customer_request
    FROM calls AS f
    ANTI JOIN {_closing_calls("second_follow_up")} AS s
        ON s.dealer_code = f.dealer_code AND s.work_order_no = f.work_order_no
    WHERE f.call_type = 'first_follow_up' AND f.outcome = 'reached' AND f.call_date + 7 <= {day}
    GROUP BY ALL
) AS f
JOIN visits AS v ON v.dealer_code = f.dealer_code AND v.work_order_no = f.work_order_no
LEFT JOIN work_order_attempts AS a
    ON a.dealer_code = v.dealer_code AND a.work_order_no = v.work_order_no
   AND a.call_type = 'second_follow_up'"""


def maintenance_reminders_sql(today: date, lead_days: int) -> str:
    """Vehicles whose next scheduled maintenance must be announced on `today`.

    Rule: "notify the customer of the next scheduled maintenance": per vehicle, the latest visit with
    a next maintenance date; due that date − `lead_days`, overdue after the date. Closed by a reached
    (or refused) maintenance-reminder call for that work order, or one without a work order for the
    same customer on or after the visit's intake.
    """
    day = f"DATE '{today.isoformat()}'"
    due_date = f"v.next_maintenance_date - {int(lead_days)}"
    return f"""
SELECT v.dealer_code, 'maintenance_reminder' AS kind, v.customer_id, v.vin, v.work_order_no AS ref,
       {due_date} AS due_date, v.next_maintenance_date AS window_end,
       coalesce(w.attempts, 0) + coalesce(o.attempts, 0) AS attempts,
       greatest(w.last_attempt_at, o.last_attempt_at) AS last_attempt_at, false AS urgent,
       concat_ws('；', '下次保养 ' || {_day("v.next_maintenance_date")},
                 '上次 ' || {_visit_line("v")},
                 '里程 ' || v.mileage_km || ' km') AS talking_points
FROM visits AS v
ANTI JOIN {_closing_calls("maintenance_reminder")} AS c
    ON c.dealer_code = v.dealer_code AND c.work_order_no = v.work_order_no
ANTI JOIN (
    SELECT dealer_code, customer_id, call_date FROM calls
    WHERE call_type = 'maintenance_reminder' AND closes AND work_order_no IS NULL
) AS n ON n.dealer_code = v.dealer_code AND n.customer_id = v.customer_id AND n.call_date >= v.intake_date
ANTI JOIN (
    SELECT dealer_code, vin, intake_date, work_order_no FROM visits WHERE next_maintenance_date IS NOT NULL
) AS later
    ON later.dealer_code = v.dealer_code AND later.vin = v.vin
   AND (later.intake_date, later.work_order_no) > (v.intake_date, v.work_order_no)
LEFT JOIN work_order_attempts AS w
    ON w.dealer_code = v.dealer_code AND w.work_order_no = v.work_order_no
   AND w.call_type = 'maintenance_reminder'
LEFT JOIN (
    SELECT v.dealer_code, v.work_order_no, count(*) AS attempts, max(a.call_time) AS last_attempt_at
    FROM attempts AS a
    JOIN visits AS v
        ON a.dealer_code = v.dealer_code AND a.customer_id = v.customer_id AND a.call_date >= v.intake_date
    WHERE a.call_type = 'maintenance_reminder' AND a.work_order_no IS NULL
      AND v.next_maintenance_date IS NOT NULL
    GROUP BY ALL
) AS o ON o.dealer_code = v.dealer_code AND o.work_order_no = v.work_order_no
WHERE v.next_maintenance_date <= {day} + {int(lead_days)}"""


def campaign_calls_sql(today: date) -> str:
    """Customers to phone on `today` about a coming campaign.

    Rule: "phone every eligible customer two weeks before a campaign": from start − 14 (due) to the
    campaign's end (then the item drops), overdue after the start. Eligible: every customer with a
    customer file whose region (defaulting to the dealer's) and one of whose vehicles' model match the
    campaign's; a blank region or model matches everyone. One item per customer, closed by a reached
    (or refused) campaign-notice call.
    """
    day = f"DATE '{today.isoformat()}'"
    return f"""
SELECT e.dealer_code, 'campaign_call' AS kind, e.customer_id, e.vin, e.campaign_id AS ref,
       k.start_date - 14 AS due_date, k.start_date AS window_end,
       coalesce(n.attempts, 0) AS attempts, n.last_attempt_at, false AS urgent,
       {_campaign_line("k")} AS talking_points
FROM (
    SELECT k.campaign_id, cu.dealer_code, cu.customer_id, min(ve.vin) AS vin
    FROM campaigns AS k
    JOIN customers AS cu ON true
    LEFT JOIN dealers AS d ON d.dealer_code = cu.dealer_code
    JOIN vehicles AS ve ON ve.dealer_code = cu.dealer_code AND ve.customer_id = cu.customer_id
    WHERE k.start_date - 14 <= {day}
      AND (k.region IS NULL OR k.region = upper(trim(coalesce(cu.region, d.region))))
      AND (k.model IS NULL OR k.model = upper(trim(ve.model)))
    GROUP BY ALL
) AS e
JOIN campaigns AS k ON k.campaign_id = e.campaign_id
LEFT JOIN campaign_notices AS n
    ON n.dealer_code = e.dealer_code AND n.customer_id = e.customer_id AND n.campaign_id = e.campaign_id
WHERE NOT coalesce(n.closed, false)"""


def _campaign_line(k: str) -> str:
    """'春季免费检测（免费检测）2024-04-01 至 2024-04-07' — the campaign's name and dates."""
    return (
        f"{k}.name || coalesce('（' || {_zh(f'{k}.campaign_type', CAMPAIGN_TYPE)} || '）', ' ') || "
        f"{_day(f'{k}.start_date')} || ' 至 ' || {_day(f'{k}.end_date')}"
    )


def campaign_letters_sql() -> str:
    """Customers to send a campaign letter to on `today`.

    Rule: "send the letter within two days after the phone notice": due the day of the earliest reached
    notice call, overdue after + 2; closed by any letter logged for that customer and campaign; drops
    once the campaign has ended (a refused notice call starts nothing).
    """
    return f"""
SELECT n.dealer_code, 'campaign_letter' AS kind, n.customer_id, NULL AS vin, n.campaign_id AS ref,
       n.first_reached AS due_date, n.first_reached + 2 AS window_end,
       0 AS attempts, NULL::TIMESTAMP AS last_attempt_at, false AS urgent,
       {_campaign_line("k")} || '；' || {_day("n.first_reached")} || ' 已电话通知' AS talking_points
FROM campaign_notices AS n
JOIN campaigns AS k ON k.campaign_id = n.campaign_id
ANTI JOIN campaign_letters_sent AS l
    ON l.dealer_code = n.dealer_code AND l.customer_id = n.customer_id AND l.campaign_id = n.campaign_id
WHERE n.first_reached IS NOT NULL"""


def complaint_escalations_sql() -> str:
    """Complaints to report to the supervisor on `today`.

    Rule: "what cannot be answered on the call goes to the supervisor within two days": a complaint with
    neither an escalation nor a resolution date; due on receipt, overdue after received + 2.
    """
    return f"""
SELECT p.dealer_code, 'complaint_escalation' AS kind, p.customer_id, p.vin, p.complaint_id AS ref,
       p.received_date AS due_date, p.received_date + 2 AS window_end,
       0 AS attempts, NULL::TIMESTAMP AS last_attempt_at, false AS urgent,
       {_complaint_line("p")} AS talking_points
FROM complaints AS p
WHERE p.escalated_date IS NULL AND p.resolved_date IS NULL"""


def _complaint_line(p: str) -> str:
    """'2024-03-05 投诉（维修质量/较重）：…' — the complaint's day, category, severity and text."""
    return (
        f"{_day(f'{p}.received_date')} || ' 投诉（' || {_zh(f'{p}.category', COMPLAINT_CATEGORY)} || "
        f"coalesce('/' || {_zh(f'{p}.severity', SEVERITY)}, '') || '）：' || {_cut(f'{p}.description')}"
    )


def complaint_callbacks_sql() -> str:
    """Resolved complaints whose customer must be called back on `today`.

    Rule: "after resolution, call the customer again to confirm satisfaction": due on the resolution
    day, overdue after + 3; closed by a reached (or refused) complaint call-back call for the complaint
    (the complaint's own "customer satisfied" cell does not replace the call).
    """
    return f"""
SELECT p.dealer_code, 'complaint_callback' AS kind, p.customer_id, p.vin, p.complaint_id AS ref,
       p.resolved_date AS due_date, p.resolved_date + 3 AS window_end,
       coalesce(a.attempts, 0) AS attempts, a.last_attempt_at, false AS urgent,
       concat_ws('；', {_day("p.resolved_date")} || ' 已解决' || coalesce('：' || {_cut("p.resolution")}, ''),
                 {_complaint_line("p")}) AS talking_points
FROM complaints AS p
LEFT JOIN (
    SELECT dealer_code, complaint_id, count(*) AS attempts, max(call_time) AS last_attempt_at
    FROM attempts
    WHERE call_type = 'complaint_callback'
    GROUP BY ALL
) AS a ON a.dealer_code = p.dealer_code AND a.complaint_id = p.complaint_id
ANTI JOIN {_closing_calls("complaint_callback", "complaint_id")} AS c
    ON c.dealer_code = p.dealer_code AND c.complaint_id = p.complaint_id
WHERE p.resolved_date IS NOT NULL"""


def customer_files_sql(today: date) -> str:
    """Customers with visits but no customer file on `today`.

    Rule: "a customer file must exist within two days of a visit": one item per customer, anchored on
    the earliest visit (ref = that work order); due on its intake, overdue after intake + 2. Only two
    kinds of visit can lack a file on `today` (core.service_visits.has_customer_file is true once the
    customer has a file, whose versions then cover every day from the first one): those flagged false,
    and those whose customer's first file version came after `today`.
    """
    day = f"DATE '{today.isoformat()}'"
    return f"""
SELECT v.dealer_code, 'customer_file' AS kind, v.customer_id, v.vin, v.work_order_no AS ref,
       v.intake_date AS due_date, v.intake_date + 2 AS window_end,
       0 AS attempts, NULL::TIMESTAMP AS last_attempt_at, false AS urgent,
       {_visit_line("v")} || '；工单 ' || v.work_order_no || ' 尚无客户档案' AS talking_points
FROM (
    SELECT * FROM visits WHERE NOT has_customer_file
    UNION ALL
    SELECT v.* FROM visits AS v
    SEMI JOIN (
        SELECT dealer_code, customer_id FROM core.customers GROUP BY ALL HAVING min(valid_from) > {day}
    ) AS later ON later.dealer_code = v.dealer_code AND later.customer_id = v.customer_id
) AS v
ANTI JOIN customers AS cu ON cu.dealer_code = v.dealer_code AND cu.customer_id = v.customer_id
QUALIFY row_number() OVER (
    PARTITION BY v.dealer_code, v.customer_id ORDER BY v.intake_date, v.work_order_no
) = 1"""


def due_list_sql(today: date, maintenance_lead_days: int) -> str:
    """One SELECT over the `core` tables giving every open item on `today`, with DUE_LIST_COLUMNS.

    Rule: "an item is listed when due ≤ today and it is not yet satisfied; overdue when today > window
    end"; priority high for warranty-period first follow-ups and overdue items. All matching is within
    one dealer. Customers who cannot be reached (no file, no valid phone, no address for a letter) are
    kept, with the reason in `contact_problem`.
    """
    day = f"DATE '{today.isoformat()}'"
    items = "\nUNION ALL BY NAME\n".join(
        (
            first_follow_ups_sql(today),
            second_follow_ups_sql(today),
            maintenance_reminders_sql(today, maintenance_lead_days),
            campaign_calls_sql(today),
            campaign_letters_sql(),
            complaint_escalations_sql(),
            complaint_callbacks_sql(),
            customer_files_sql(today),
        )
    )
    phone_kinds = ", ".join(f"'{kind}'" for kind in PHONE_KINDS)
    letter_kinds = ", ".join(f"'{kind}'" for kind in LETTER_KINDS)
    return f"""
WITH {known_records_sql(today)},
items AS ({items}
)
SELECT {day} AS as_of, i.dealer_code, d.name AS dealer_name, d.region, i.kind, i.customer_id,
       cu.name AS customer_name, cu.phone, cu.address, i.vin, ve.plate_no, ve.model, i.ref,
       i.due_date, i.window_end,
       CASE WHEN {day} > i.window_end THEN 'overdue' ELSE 'due' END AS status,
       CASE WHEN i.urgent OR {day} > i.window_end THEN 'high' ELSE 'normal' END AS priority,
       CAST(i.attempts AS INTEGER) AS attempts, i.last_attempt_at,
       CASE
           WHEN i.kind IN ({phone_kinds}) THEN CASE
               WHEN cu.customer_id IS NULL THEN 'no_customer_file'
               WHEN coalesce(cu.phone, '') = '' THEN 'no_phone'
               WHEN NOT regexp_full_match(cu.phone, '{REACHABLE_PHONE}') THEN 'invalid_phone'
           END
           WHEN i.kind IN ({letter_kinds}) THEN CASE
               WHEN cu.customer_id IS NULL THEN 'no_customer_file'
               WHEN coalesce(trim(cu.address), '') = '' THEN 'no_address'
           END
       END AS contact_problem,
       i.talking_points
FROM items AS i
LEFT JOIN dealers AS d ON d.dealer_code = i.dealer_code
LEFT JOIN customers AS cu ON cu.dealer_code = i.dealer_code AND cu.customer_id = i.customer_id
LEFT JOIN core.vehicles AS ve ON ve.dealer_code = i.dealer_code AND ve.vin = i.vin
WHERE i.due_date <= {day}
"""

"""Daily due lists: every call, letter or escalation still open on a given day, and why (DESIGN.md)."""

from __future__ import annotations

from datetime import date

from dealersync.schemas.contract import (
    CALL_TYPE,
    CAMPAIGN_TYPE,
    COMPLAINT_CATEGORY,
    DATE,
    DATETIME,
    ENUM,
    INT,
    OUTCOME,
    SATISFACTION,
    SEVERITY,
    STR,
    VISIT_TYPE,
    Column,
    Enum,
)
from dealersync.transforms.normalise import INVISIBLE

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


def _few(select: str) -> str:
    """The rows of `select`, expected to be few, as a relation DuckDB knows to be small.

    DuckDB estimates a filtered scan as a fixed share of its table, so it may build a hash join from
    the other side (a million visits or calls) even when the filter keeps no row at all. Gathered into
    one list and unnested, the rows count as one, and joins are built from them.
    """
    return f"(SELECT unnest(list(few), recursive := true) FROM ({select}) AS few)"


# Outcomes of a call that close the item it answers: reached, or answered and refused (拒访); the
# others (no_answer, wrong_number) are attempts.
CLOSING_OUTCOMES = ("reached", "refused")
# The calls that close an item of a work order, and the state columns of the earliest one.
WORK_ORDER_CALLS = (
    ("first_follow_up", "first_closed"),
    ("second_follow_up", "second_closed"),
    ("maintenance_reminder", "maintenance_closed"),
)
# The state's columns naming the call that gave a fact (a change to that call makes the row stale).
CALL_PROVIDERS = ("first_closed_by", "first_reached_by", "second_closed_by", "maintenance_closed_by")


# The core tables the due lists' state is derived from, by the name of their count in the refresh's marks
# (mart.due_work_orders_refresh), with the CTE of stale_state_ctes holding their rows written since.
STATE_SOURCES = {
    "visits": ("core.service_visits", "changed_visits"),
    "calls": ("core.follow_up_calls", "changed_calls"),
    "vehicles": ("core.vehicles", "changed_vehicle_rows"),
    "customers": ("core.customers", "changed_customers"),
    "letters": ("core.letters", "changed_letters"),
    "dealers": ("core.dealers", "changed_dealers"),
    "campaigns": ("core.campaigns", "changed_campaigns"),
}


def _codes(codes) -> str:
    return "(" + ", ".join(f"'{code}'" for code in codes) + ")"


def _not_in(column: str, codes, enum: Enum) -> str:
    """SQL `column` is one of `codes`, written as NOT IN the enum's other codes.

    The column is NOT NULL with a CHECK on the enum, so both say the same; DuckDB filters a NOT IN while
    it scans (an IN only prunes row groups), before it reads the other columns of the row.
    """
    return f"{column} NOT IN {_codes(c for c in enum.codes if c not in codes)}"


def _key_hash(dealer_code: str, key: str) -> str:
    """SQL of a 64-bit hash of a row's key: dealer_code and call_id, or dealer_code and work_order_no.

    The state keeps it to find the rows a changed call or visit gave a fact to: integers are matched far
    faster than pairs of strings, and a collision only makes one more row be recomputed (NULL for no
    key). DuckDB's hash may change between DuckDB versions: the refresh records the version, and a state
    made by another is rebuilt.
    """
    return f"CASE WHEN ({key}) IS NOT NULL THEN hash({dealer_code}, {key}) END"


# Spaces of every kind (a no-break space, an ideographic one) and invisible characters, as the reader
# strips them from a code; its full-width forms, as it folds them (migration 025 reads raw codes so too).
_SPACES = r"[\s\x{0b}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
_HALF_WIDTH = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_ "
_FULL_WIDTH = "".join("\u3000" if c == " " else chr(ord(c) + 0xFEE0) for c in _HALF_WIDTH)


def _named(*keys: str) -> str:
    """SQL of the key columns of a raw row (`r`, cells as written) as the reader reads codes into core."""

    def folded(cell: str) -> str:
        half = f"translate({cell}, '{_FULL_WIDTH}', '{_HALF_WIDTH}')"
        visible = f"regexp_replace({half}, '{INVISIBLE}', '', 'g')"
        return f"upper(regexp_replace({visible}, '^{_SPACES}+|{_SPACES}+$', '', 'g'))"

    return ", ".join(f"{folded(f'r.{key}')} AS {key}" for key in keys)


# The last day an item of a work order can be open, from its state row (mart.due_work_orders.open_through):
# the day before its latest closing, or NO_CLOSING while one item is not closed. Each condition of
# _open_conditions implies `open_through >= day`, which DuckDB checks against each block's min/max.
NO_CLOSING = "DATE '9999-12-31'"
OPEN_THROUGH = f"""greatest(
    coalesce(first_closed_on - 1, {NO_CLOSING}),
    CASE WHEN first_reached_on IS NOT NULL THEN coalesce(second_closed_on - 1, {NO_CLOSING}) END,
    CASE WHEN next_maintenance_date IS NOT NULL
         THEN coalesce(least(maintenance_closed_on, superseded_on) - 1, {NO_CLOSING}) END)"""

# A call for a work order that did not close its item (no answer, wrong number): an attempt, counted on the list
# of each day from the call's on (mart.due_work_orders.*_attempt_times, mart.due_work_order_sources).
ATTEMPT_TIMES = {
    call_type: f"{name.removesuffix('_closed')}_attempt_times" for call_type, name in WORK_ORDER_CALLS
}
ATTEMPT_CALL = (
    f"c.work_order_no IS NOT NULL AND c.outcome NOT IN {_codes(CLOSING_OUTCOMES)} "
    f"AND c.call_type IN {_codes(t for t, _ in WORK_ORDER_CALLS)}"
)


def work_order_state_sql(work_orders: str) -> str:
    """The follow-up state (mart.due_work_orders columns) of the work orders in the relation `work_orders`.

    `work_orders` has columns (dealer_code, work_order_no). Per work order, for every kind of call that
    closes one of its items, the day of the earliest such call ever logged and which call it was: an
    item is closed on a day D exactly when that day is <= D, so the state answers for any day. Rules:
    "any reached first follow-up call for the work order satisfies it"; a refused call closes the item it
    answers; the second follow-up counts from "the earliest reached first follow-up call of the work
    order"; a maintenance reminder is satisfied by "a reached maintenance-reminder call for that work
    order, or one without a work order for the same customer on/after that visit"; the reminder belongs
    to "the latest visit that has a next maintenance date", so each dated visit records when the
    vehicle's next dated visit came in (from that day on it is no longer the latest). Earliest ties go to
    the smallest call_id (work_order_no). The calls that did not close an item (ATTEMPT_CALL) are kept
    by their times, and a day counts those up to it; `open_through` is the last day an item can be open.
    """
    first = "c.call_type = 'first_follow_up'"
    reached = f"{first} AND c.outcome = 'reached'"
    earliest = "(c.call_time, c.call_id)"
    closed = "".join(
        f"""
           min(CAST(c.call_time AS DATE)) FILTER (c.call_type = '{call_type}') AS {name}_on,
           arg_min(c.call_id, {earliest}) FILTER (c.call_type = '{call_type}') AS {name}_call,"""
        for call_type, name in WORK_ORDER_CALLS
    )
    providers = "".join(
        f"{_key_hash('o.dealer_code', 'oc.' + column.removesuffix('_by') + '_call')} AS {column}, "
        for column in CALL_PROVIDERS
        if not column.startswith("maintenance")
    )
    # the earliest maintenance-reminder call: for the work order, or for its customer without one
    by_customer = "cr.closed_on < oc.maintenance_closed_on OR oc.maintenance_closed_on IS NULL"
    maintenance_call = f"CASE WHEN {by_customer} THEN cr.closed_call ELSE oc.maintenance_closed_call END"
    closes = _not_in("c.outcome", CLOSING_OUTCOMES, OUTCOME)
    attempt_times = ",".join(
        f"""
           list(c.call_time ORDER BY c.call_time) FILTER (c.call_type = '{call_type}') AS {column}"""
        for call_type, column in ATTEMPT_TIMES.items()
    )
    return f"""
SELECT *, {OPEN_THROUGH} AS open_through FROM (
WITH orders AS MATERIALIZED (
    SELECT v.dealer_code, v.work_order_no, v.customer_id, v.vin, v.intake_date, v.pickup_date, v.visit_type,
           v.next_maintenance_date, v.under_warranty, v.service_items, v.mileage_km, ve.plate_no, ve.model
    FROM core.service_visits AS v
    SEMI JOIN {work_orders} AS k USING (dealer_code, work_order_no)
    LEFT JOIN core.vehicles AS ve ON ve.dealer_code = v.dealer_code AND ve.vin = v.vin
),
order_calls AS (
    SELECT c.dealer_code, c.work_order_no,{closed}
           min(CAST(c.call_time AS DATE)) FILTER ({reached}) AS first_reached_on,
           arg_min(c.call_id, {earliest}) FILTER ({reached}) AS first_reached_call,
           arg_min_null(c.satisfaction, {earliest}) FILTER ({reached}) AS first_satisfaction,
           arg_min_null(c.customer_request, {earliest}) FILTER ({reached}) AS first_customer_request
    FROM core.follow_up_calls AS c
    SEMI JOIN orders AS o ON o.dealer_code = c.dealer_code AND o.work_order_no = c.work_order_no
    WHERE {closes} AND {_not_in("c.call_type", [t for t, _ in WORK_ORDER_CALLS], CALL_TYPE)}
    GROUP BY ALL
),
customer_reminders AS (
    SELECT o.dealer_code, o.work_order_no, min(CAST(c.call_time AS DATE)) AS closed_on,
           arg_min(c.call_id, {earliest}) AS closed_call
    FROM orders AS o
    JOIN core.follow_up_calls AS c
        ON c.dealer_code = o.dealer_code AND c.customer_id = o.customer_id
       AND CAST(c.call_time AS DATE) >= o.intake_date
    WHERE o.next_maintenance_date IS NOT NULL AND c.call_type = 'maintenance_reminder'
      AND c.work_order_no IS NULL AND {closes}
    GROUP BY ALL
),
order_attempts AS (
    SELECT c.dealer_code, c.work_order_no,{attempt_times}
    FROM core.follow_up_calls AS c
    SEMI JOIN orders AS o ON o.dealer_code = c.dealer_code AND o.work_order_no = c.work_order_no
    WHERE {ATTEMPT_CALL}
    GROUP BY ALL
),
later_visits AS (
    SELECT o.dealer_code, o.work_order_no, min(l.intake_date) AS superseded_on,
           arg_min(l.work_order_no, (l.intake_date, l.work_order_no)) AS superseded_visit
    FROM orders AS o
    JOIN core.service_visits AS l
        ON l.dealer_code = o.dealer_code AND l.vin = o.vin
       AND (l.intake_date, l.work_order_no) > (o.intake_date, o.work_order_no)
    WHERE o.next_maintenance_date IS NOT NULL AND l.next_maintenance_date IS NOT NULL
    GROUP BY ALL
)
SELECT o.*, oc.first_closed_on, oc.first_reached_on, oc.first_satisfaction, oc.first_customer_request,
       oc.second_closed_on, {providers}
       CASE WHEN {by_customer} THEN cr.closed_on ELSE oc.maintenance_closed_on END AS maintenance_closed_on,
       {_key_hash("o.dealer_code", maintenance_call)} AS maintenance_closed_by,
       lv.superseded_on, {_key_hash("o.dealer_code", "lv.superseded_visit")} AS superseded_by,
       {", ".join(f"oa.{column}" for column in ATTEMPT_TIMES.values())}
FROM orders AS o
LEFT JOIN order_calls AS oc USING (dealer_code, work_order_no)
LEFT JOIN order_attempts AS oa USING (dealer_code, work_order_no)
LEFT JOIN customer_reminders AS cr USING (dealer_code, work_order_no)
LEFT JOIN later_visits AS lv USING (dealer_code, work_order_no)
)"""


def work_order_sources_sql(work_orders: str) -> str:
    """The attempts mart.due_work_orders counts for the work orders in the relation `work_orders`
    (mart.due_work_order_sources columns): a call corrected to another work order, or to a closing outcome,
    makes the one it left be recomputed."""
    return f"""
SELECT {_key_hash("c.dealer_code", "c.call_id")} AS source_key, c.dealer_code, c.work_order_no
FROM core.follow_up_calls AS c
SEMI JOIN {work_orders} AS k ON k.dealer_code = c.dealer_code AND k.work_order_no = c.work_order_no
WHERE {ATTEMPT_CALL}"""


# The CTEs of stale_state_ctes for a state known to be fresh: refreshed in the same transaction, nothing stale.
FRESH_STATE_CTES = """
state_mark AS (SELECT * FROM mart.due_work_orders_refresh),
state_rebuild AS (SELECT false AS rebuild),
changed_campaigns AS (SELECT NULL::VARCHAR AS campaign_id WHERE false),
stale_work_orders AS (SELECT NULL::VARCHAR AS dealer_code, NULL::VARCHAR AS work_order_no WHERE false),
stale_customers AS (SELECT NULL::VARCHAR AS dealer_code, NULL::VARCHAR AS customer_id WHERE false),
stale_campaign_customers AS (SELECT NULL::VARCHAR AS dealer_code, NULL::VARCHAR AS customer_id WHERE false)"""


def stale_state_ctes() -> str:
    """CTEs `state_rebuild` (one row: `rebuild`), `stale_work_orders` (dealer_code, work_order_no),
    `stale_customers` and `stale_campaign_customers` (dealer_code, customer_id), and `changed_campaigns`
    (campaign_id).

    `stale_work_orders` are the work orders whose row of mart.due_work_orders may be out of date. The
    loader never deletes visits or calls and stamps every row it writes with its run and load time, so
    the rows written since the last refresh are those with a newer loaded_at or run_id than its marks
    (mart.due_work_orders_refresh). Their work orders are stale: the visit's own; every visit of a
    changed vehicle (its plate and model, and the warranty the loader fills in when the customer file
    arrives); the work order a call names, and for a maintenance-reminder call without one every dated
    visit of its customer; every dated visit of the vehicle of a changed dated visit (one may now come
    after another); and every row whose earliest call, next visit or attempt (mart.due_work_order_sources)
    is a changed row (a corrected call may have left the work order it closed or was tried for). The rows
    of unchanged visits hold the visit as it is, so visits are looked up in the state.
    `stale_customers` are the customers whose rows of mart.due_customer_vehicles may be out of date: the
    customer of a changed vehicle, and every customer whose stored vehicle is a changed one (it may have
    gone to another customer, or changed model).
    `stale_campaign_customers` are those whose rows of mart.due_campaign_pairs may be: those, and the
    customer of a changed customer file, campaign-notice call or letter, every customer of a changed
    dealer (its region), and the customer a changed call or letter named at the refresh
    (mart.due_campaign_sources); the pairs of a changed campaign (`changed_campaigns`) are all stale.
    Customer files and dealers are versioned, and a file may leave no stamped row behind: one that says
    again what held before its day drops the version of that day, and the version before it, current
    again, keeps the lineage of the file that wrote its values. So the customers and dealers named by a
    file read since the marks (raw.customers, raw.dealers) count as changed too.
    `rebuild` is true, and every work order and customer stale, when the state cannot be trusted: never
    refreshed, made by another DuckDB version (its hashes may differ), or a table holding more rows than
    it held then plus the newly stamped ones, or fewer (rows written or deleted by hand, or versions of
    customer files or dealers the loader dropped).
    """

    def changed(table: str, columns: str) -> str:
        """`columns` of the rows of `table` stamped after the marks.

        The rows are found by their lineage alone (two inequality joins, each of which DuckDB can turn
        into a filter on the scan; an OR of the two it could not), then read by rowid: reading every
        column of every row to keep a few would cost more than the rest of the refresh.
        """
        stamped = _few(
            f"SELECT r.rowid AS row_id FROM {table} AS r JOIN state_mark AS m ON r.loaded_at > m.loaded_at_mark "
            f"UNION SELECT r.rowid FROM {table} AS r JOIN state_mark AS m ON r.run_id > m.run_id_mark"
        )
        return f"(SELECT {columns} FROM {table} AS r WHERE r.rowid IN (SELECT row_id FROM {stamped}))"

    providers = "".join(
        f"""
UNION
SELECT s.dealer_code, s.work_order_no FROM mart.due_work_orders AS s
SEMI JOIN changed_call_keys AS c ON c.call_key = s.{column}"""
        for column in CALL_PROVIDERS
    )
    stale = f"""
SELECT dealer_code, work_order_no FROM core.service_visits WHERE (SELECT rebuild FROM state_rebuild)
UNION
SELECT dealer_code, work_order_no FROM changed_visits
UNION
SELECT s.dealer_code, s.work_order_no FROM mart.due_work_orders AS s
SEMI JOIN changed_vehicles AS c ON c.vehicle_key = {_key_hash("s.dealer_code", "s.vin")}
UNION
SELECT dealer_code, work_order_no FROM changed_calls WHERE work_order_no IS NOT NULL
UNION
SELECT s.dealer_code, s.work_order_no FROM mart.due_work_orders AS s
SEMI JOIN dated_vehicles AS c ON c.vehicle_key = {_key_hash("s.dealer_code", "s.vin")}
WHERE s.next_maintenance_date IS NOT NULL
UNION
SELECT s.dealer_code, s.work_order_no FROM mart.due_work_orders AS s
SEMI JOIN reminded_customers AS c ON c.customer_key = {_key_hash("s.dealer_code", "s.customer_id")}
WHERE s.next_maintenance_date IS NOT NULL
UNION
SELECT s.dealer_code, s.work_order_no FROM mart.due_work_order_sources AS s
SEMI JOIN changed_call_keys AS c ON c.call_key = s.source_key
UNION
SELECT s.dealer_code, s.work_order_no FROM mart.due_work_orders AS s
SEMI JOIN changed_visit_keys AS c ON c.visit_key = s.superseded_by{providers}"""
    stale_customers = f"""
SELECT dealer_code, customer_id FROM core.vehicles WHERE (SELECT rebuild FROM state_rebuild)
UNION
SELECT dealer_code, customer_id FROM changed_vehicle_rows
UNION
SELECT s.dealer_code, s.customer_id FROM mart.due_customer_vehicles AS s
SEMI JOIN changed_vehicles AS c ON c.vehicle_key = {_key_hash("s.dealer_code", "s.vin")}"""
    # the customers whose rows of mart.due_campaign_pairs may be out of date: a changed vehicle's (above),
    # file, dealer, campaign-notice call or letter, and the customer a changed call or letter named before
    stale_campaign_customers = """
SELECT dealer_code, customer_id FROM stale_customers
UNION
SELECT dealer_code, customer_id FROM changed_customers
UNION
SELECT dealer_code, customer_id FROM named_customers
UNION
SELECT dealer_code, customer_id FROM changed_calls WHERE call_type = 'campaign_notice'
UNION
SELECT dealer_code, customer_id FROM changed_letters
UNION
SELECT c.dealer_code, c.customer_id FROM core.customers AS c
SEMI JOIN (SELECT dealer_code FROM changed_dealers UNION SELECT dealer_code FROM named_dealers) USING (dealer_code)
UNION
SELECT s.dealer_code, s.customer_id FROM mart.due_campaign_sources AS s
SEMI JOIN changed_source_keys AS c ON c.source_key = s.source_key"""
    counts = "\n        OR ".join(
        f"(SELECT count(*) FROM {table}) NOT BETWEEN m.{name} AND m.{name} + (SELECT count(*) FROM {changed})"
        for name, (table, changed) in STATE_SOURCES.items()
    )
    vehicle_key = _key_hash("dealer_code", "vin")
    dated_vehicles = f"SELECT DISTINCT {vehicle_key} AS vehicle_key FROM changed_visits WHERE next_maintenance_date IS NOT NULL"
    visit_columns = "r.dealer_code, r.work_order_no, r.vin, r.next_maintenance_date"
    call_columns = "r.dealer_code, r.call_id, r.call_type, r.customer_id, r.work_order_no"
    return f"""
state_mark AS (SELECT * FROM mart.due_work_orders_refresh),
changed_visits AS (SELECT * FROM {changed("core.service_visits", visit_columns)}),
changed_calls AS (SELECT * FROM {changed("core.follow_up_calls", call_columns)}),
changed_customers AS (SELECT * FROM {changed("core.customers", "r.dealer_code, r.customer_id")}),
changed_letters AS (SELECT * FROM {changed("core.letters", "r.dealer_code, r.letter_id, r.customer_id")}),
changed_dealers AS (SELECT * FROM {changed("core.dealers", "r.dealer_code")}),
named_customers AS (SELECT * FROM {changed("raw.customers", _named("dealer_code", "customer_id"))}),
named_dealers AS (SELECT * FROM {changed("raw.dealers", _named("dealer_code"))}),
changed_campaigns AS (SELECT * FROM {changed("core.campaigns", "r.campaign_id")}),
changed_visit_keys AS (
    SELECT * FROM {
        _few(f"SELECT {_key_hash('dealer_code', 'work_order_no')} AS visit_key FROM changed_visits")
    }
),
changed_call_keys AS (
    SELECT * FROM {_few(f"SELECT {_key_hash('dealer_code', 'call_id')} AS call_key FROM changed_calls")}
),
changed_source_keys AS (
    SELECT call_key AS source_key FROM changed_call_keys
    UNION ALL
    SELECT * FROM {_few(f"SELECT {_key_hash('dealer_code', 'letter_id')} AS source_key FROM changed_letters")}
),
changed_vehicle_rows AS (SELECT * FROM {changed("core.vehicles", "r.dealer_code, r.vin, r.customer_id")}),
changed_vehicles AS (
    SELECT * FROM {_few(f"SELECT DISTINCT {vehicle_key} AS vehicle_key FROM changed_vehicle_rows")}
),
dated_vehicles AS (SELECT * FROM {_few(dated_vehicles)}),
reminded_customers AS (
    SELECT * FROM {
        _few(
            f"SELECT DISTINCT {_key_hash('dealer_code', 'customer_id')} AS customer_key FROM changed_calls "
            "WHERE call_type = 'maintenance_reminder' AND work_order_no IS NULL"
        )
    }
),
state_rebuild AS (
    SELECT coalesce(max(
        m.duckdb_version IS DISTINCT FROM version()
        OR {counts}
    ), true) AS rebuild
    FROM state_mark AS m
),
stale_work_orders AS (SELECT * FROM {_few(stale)}),
stale_customers AS (SELECT * FROM {_few(stale_customers)}),
stale_campaign_customers AS (SELECT * FROM {_few(stale_campaign_customers)})"""


def work_orders_ctes(fresh: bool = False) -> str:
    """CTEs giving mart.due_work_orders as a refresh would leave it now (see open_work_orders_sql).

    `recomputed_work_orders` holds the stale work orders (stale_state_ctes) computed from core on
    the spot; the stored rows of the others are current. So a list is right whether or not the state
    was refreshed, and fast when it was. With `fresh` (the state was refreshed in the same transaction)
    nothing is looked for, and nothing recomputed: nothing can be stale.
    """
    if fresh:
        return FRESH_STATE_CTES
    return f"""
{stale_state_ctes()},
recomputed_work_orders AS (
    SELECT * FROM ({work_order_state_sql("stale_work_orders")}
    )
)"""


def customer_vehicles_state_sql(vehicles: str) -> str:
    """The vehicles campaign calls show (mart.due_customer_vehicles columns), from the rows of core.vehicles
    in the relation `vehicles`.

    Rule: a campaign call shows the customer's vehicle with the smallest VIN among those matching the
    campaign's model (any of them for a campaign open to every model). So per customer, one row for
    every model it has (model_key, matched as campaigns are: trimmed, upper case) and one for every model
    (model_key empty), each with its vehicle of smallest VIN, and the day from which that vehicle was the
    customer's as far as the warehouse knew (available_from: bought, and named by a file).
    """
    return f"""
SELECT dealer_code, customer_id, model_key, min(vin) AS vin, arg_min_null(plate_no, vin) AS plate_no,
       arg_min_null(model, vin) AS model,
       arg_min_null(greatest(purchase_date, first_seen), vin) AS available_from
FROM (
    SELECT dealer_code, customer_id, vin, plate_no, model, purchase_date, first_seen,
           unnest(CASE WHEN upper(trim(model)) = '' THEN [''] ELSE ['', upper(trim(model))] END) AS model_key
    FROM {vehicles}
)
GROUP BY ALL"""


def campaigns_sql(where: str) -> str:
    """The campaigns of core.campaigns matching `where`, with region and model as they are matched (trimmed,
    upper case, NULL when blank: everyone) and end_date defaulting to start_date."""
    return f"""
    SELECT campaign_id, name, campaign_type, start_date, coalesce(end_date, start_date) AS end_date,
           upper(nullif(trim(region), '')) AS region, upper(nullif(trim(model), '')) AS model
    FROM core.campaigns
    WHERE {where}"""


def _in_scope(scope: str | None, alias: str) -> str:
    """A SEMI JOIN keeping the rows of `alias` whose customer is in the relation `scope` (every row when None)."""
    if scope is None:
        return ""
    return f"SEMI JOIN {scope} AS x ON x.dealer_code = {alias}.dealer_code AND x.customer_id = {alias}.customer_id"


def campaign_pairs_sql(
    customers: str, dealers: str, vehicles: str, campaigns: str, scope: str | None = None
) -> str:
    """The campaign state (mart.due_campaign_pairs columns) of the campaigns in the relation `campaigns`.

    `customers` are the customer files to match (one version per customer), `dealers` the dealers' regions,
    `vehicles` the vehicles campaign calls show (mart.due_customer_vehicles columns), `scope` (dealer_code,
    customer_id) the customers to compute, all when None. Rule: "phone every eligible customer two weeks
    before a campaign": eligible is a customer with a file whose region (defaulting to the dealer's) and
    one of whose vehicles' model match the campaign's, a blank region or model matching everyone; the call
    is closed by a reached or refused notice call, and a reached one makes the campaign letter due, closed
    by a letter logged for that customer and campaign. Calls and letters are taken whatever their day:
    their days are kept, so one row answers for any day.
    """

    closes = f"c.outcome IN {_codes(CLOSING_OUTCOMES)}"
    dealer_code, customer_id = (
        "coalesce(a.dealer_code, n.dealer_code)",
        "coalesce(a.customer_id, n.customer_id)",
    )
    # Each join is built from the side that is empty when `campaigns` is (the campaigns, or what was
    # matched with them): a day's query computes the campaigns the state does not hold this way, and
    # there are none once it is refreshed.
    return f"""
WITH audience AS (
    SELECT k.campaign_id, cu.dealer_code, cu.customer_id, cu.name, cu.phone, cu.address, cu.preferred_services,
           v.vin, v.plate_no, v.model
    FROM {customers} AS cu
    {_in_scope(scope, "cu")}
    LEFT JOIN {dealers} AS d ON d.dealer_code = cu.dealer_code
    JOIN {campaigns} AS k ON k.region IS NULL OR k.region = upper(trim(coalesce(cu.region, d.region)))
    JOIN (
        SELECT * FROM {vehicles} AS v
        SEMI JOIN {campaigns} AS k ON coalesce(k.model, '') = v.model_key
    ) AS v ON v.dealer_code = cu.dealer_code AND v.customer_id = cu.customer_id AND v.model_key = coalesce(k.model, '')
),
notices AS (
    SELECT c.dealer_code, c.customer_id, c.campaign_id,
           min(CAST(c.call_time AS DATE)) FILTER ({closes}) AS closed_on,
           min(CAST(c.call_time AS DATE)) FILTER (c.outcome = 'reached') AS first_reached,
           list(c.call_time ORDER BY c.call_time) FILTER (NOT ({closes})) AS attempt_times
    FROM core.follow_up_calls AS c
    {_in_scope(scope, "c")}
    SEMI JOIN {campaigns} AS k ON k.campaign_id = c.campaign_id
    WHERE c.call_type = 'campaign_notice'
    GROUP BY ALL
)
SELECT {dealer_code} AS dealer_code, {customer_id} AS customer_id,
       coalesce(a.campaign_id, n.campaign_id) AS campaign_id, a.customer_id IS NOT NULL AS eligible,
       a.customer_id IS NOT NULL OR cu.customer_id IS NOT NULL AS has_customer_file,
       CASE WHEN a.customer_id IS NULL THEN cu.name ELSE a.name END AS customer_name,
       CASE WHEN a.customer_id IS NULL THEN cu.phone ELSE a.phone END AS phone,
       CASE WHEN a.customer_id IS NULL THEN cu.address ELSE a.address END AS address,
       CASE WHEN a.customer_id IS NULL THEN cu.preferred_services ELSE a.preferred_services END AS preferred_services,
       a.vin, a.plate_no, a.model, n.closed_on, n.first_reached, n.attempt_times, l.letter_on
FROM audience AS a
FULL JOIN notices AS n
    ON n.dealer_code = a.dealer_code AND n.customer_id = a.customer_id AND n.campaign_id = a.campaign_id
LEFT JOIN (
    SELECT l.dealer_code, l.customer_id, l.campaign_id, min(l.sent_date) AS letter_on
    FROM core.letters AS l
    {_in_scope(scope, "l")}
    SEMI JOIN {campaigns} AS k ON k.campaign_id = l.campaign_id
    GROUP BY ALL
) AS l ON l.dealer_code = {dealer_code} AND l.customer_id = {customer_id}
      AND l.campaign_id = coalesce(a.campaign_id, n.campaign_id)
LEFT JOIN (
    -- the customer file of those who are not in the audience but were reached about the campaign
    SELECT * FROM {customers} AS cu
    SEMI JOIN notices AS n ON n.dealer_code = cu.dealer_code AND n.customer_id = cu.customer_id
) AS cu ON cu.dealer_code = {dealer_code} AND cu.customer_id = {customer_id}
WHERE a.customer_id IS NOT NULL OR n.first_reached IS NOT NULL"""


def campaign_sources_sql(campaigns: str, scope: str | None = None) -> str:
    """The notice calls and letters campaign_pairs_sql reads for the same `campaigns` and `scope`
    (mart.due_campaign_sources columns)."""
    return "\nUNION ALL\n".join(
        f"""
SELECT {_key_hash("r.dealer_code", "r." + key)} AS source_key, r.dealer_code, r.customer_id, r.campaign_id
FROM {table} AS r
{_in_scope(scope, "r")}
SEMI JOIN {campaigns} AS k ON k.campaign_id = r.campaign_id
WHERE {where}"""
        for table, key, where in (
            ("core.follow_up_calls", "call_id", "r.call_type = 'campaign_notice'"),
            ("core.letters", "letter_id", "true"),
        )
    )


def _open_conditions(today: date, lead_days: int) -> dict[str, str]:
    """Per kind of work order item, the SQL condition on a state row for the item to be open on `today`.

    The rules of first_follow_ups_sql, second_follow_ups_sql and maintenance_reminders_sql: an item is
    open when it fell due by `today` and its earliest closing call (if any) came after `today`. Written
    as comparisons of one column with a constant, which DuckDB checks while it reads the state.
    """
    day = f"DATE '{today.isoformat()}'"
    return {
        "first_follow_up": f"""(first_closed_on > {day} OR first_closed_on IS NULL) AND intake_date <= {day}
      AND (pickup_date <= {day} - 3
           OR (visit_type = 'consultation' AND intake_date <= {day} - 3
               AND (pickup_date > {day} OR pickup_date IS NULL)))""",
        "second_follow_up": f"""first_reached_on <= {day} - 7
      AND (second_closed_on > {day} OR second_closed_on IS NULL) AND intake_date <= {day}""",
        "maintenance_reminder": f"""next_maintenance_date <= {day} + {int(lead_days)}
      AND (maintenance_closed_on > {day} OR maintenance_closed_on IS NULL)
      AND (superseded_on > {day} OR superseded_on IS NULL) AND intake_date <= {day}""",
    }


def open_work_orders_sql(today: date, lead_days: int, fresh: bool = False) -> str:
    """The work orders with a first or second follow-up or a maintenance reminder open on `today`.

    One row per item (`kind`), with the work order's state (its visit and vehicle). Most stored rows have
    nothing open: those whose open_through is before the day are not read (the refresh keeps the table
    in that order, so whole blocks of them are skipped). Stale work orders come from
    `recomputed_work_orders` instead, but for a state known to be `fresh`.
    """
    day = f"DATE '{today.isoformat()}'"
    conditions = _open_conditions(today, lead_days)
    kind_attempts = (
        "CASE o.kind "
        + " ".join(f"WHEN '{kind}' THEN o.{column}" for kind, column in ATTEMPT_TIMES.items())
        + " END"
    )

    def open_items(relation: str, where: str = "") -> str:
        return "\n    UNION ALL\n".join(
            f"SELECT '{kind}' AS kind, * FROM {relation}\n    WHERE {where}{condition}"
            for kind, condition in conditions.items()
        )

    recomputed = (
        ""
        if fresh
        else f"\n    UNION ALL BY NAME\n    SELECT * FROM ({open_items('recomputed_work_orders')})"
    )

    return f"""
SELECT o.kind, o.dealer_code, o.work_order_no, o.customer_id, o.vin, o.intake_date, o.visit_type,
       o.service_items, o.mileage_km, o.next_maintenance_date, o.plate_no, o.model, o.first_reached_on,
       o.first_satisfaction, o.first_customer_request,
       CASE WHEN o.pickup_date <= {day} THEN o.pickup_date END AS pickup_date,
       coalesce(CASE WHEN o.pickup_date <= {day} THEN o.pickup_date END,
                CASE WHEN o.visit_type = 'consultation' THEN o.intake_date END) AS base_date,
       coalesce(o.under_warranty, false) OR o.visit_type = 'warranty' AS in_warranty,
       {_attempts_by(kind_attempts, day)}
FROM (
    SELECT s.* FROM (
    {open_items("mart.due_work_orders", f"open_through >= {day} AND ")}
    ) AS s
    ANTI JOIN stale_work_orders AS x ON x.dealer_code = s.dealer_code AND x.work_order_no = s.work_order_no
    WHERE NOT (SELECT rebuild FROM state_rebuild){recomputed}
) AS o"""


def dealers_on_sql(today: date) -> str:
    """The dealers as they stood on `today` (dealer_code, name, region, active): each one's version valid
    that day, else its earliest (a day before the warehouse first heard of it).

    The items of a day take their dealer's name and region from it, and the day's files list its
    active dealers from it, so a past day written again routes and lists dealers as its night did.
    """
    day = f"DATE '{today.isoformat()}'"
    return f"""
    SELECT dealer_code, name, region, active
    FROM core.dealers
    QUALIFY row_number() OVER (
        PARTITION BY dealer_code
        ORDER BY valid_from <= {day} DESC,
                 CASE WHEN valid_from <= {day} THEN valid_from END DESC,
                 valid_from
    ) = 1"""


def known_records_sql(today: date, lead_days: int, fresh: bool = False) -> str:
    """CTEs of the records as they stood at the end of `today`.

    Rule: "today is a parameter, so any past day can be recomputed exactly": a visit, complaint, call or
    letter dated after `today` does not exist yet; a pickup, escalation or resolution dated after it has
    not happened yet; the customer file is the version valid on `today` (a file that arrived later did
    not exist), and so are the vehicles (one bought, or first named by a file, after `today` was not
    the customer's yet); the dealer is the version valid on `today` (else its earliest one). Calls that close an
    item are those that reached the customer or that the customer refused; the others are attempts.
    Work orders come from their follow-up state (work_orders_ctes), read only where an item is open;
    customers and campaigns (`campaign_pairs`) from the campaign state, but for the customers and
    campaigns it does not hold as they stood on `today`, computed on the spot.
    """
    day = f"DATE '{today.isoformat()}'"
    recomputed_customers = f"""
        SELECT dealer_code, customer_id FROM stale_customers
        UNION
        SELECT dealer_code, customer_id FROM mart.due_customer_vehicles WHERE available_from > {day}"""
    recomputed_campaign_customers = f"""
        SELECT dealer_code, customer_id FROM stale_campaign_customers
        UNION
        SELECT dealer_code, customer_id FROM recomputed_customers
        UNION
        SELECT dealer_code, customer_id FROM core.customers WHERE valid_from > {day}
        UNION
        SELECT c.dealer_code, c.customer_id FROM core.customers AS c
        SEMI JOIN (SELECT dealer_code FROM core.dealers GROUP BY ALL HAVING count(*) > 1 AND max(valid_from) > {day}) AS d
            ON d.dealer_code = c.dealer_code"""
    recomputed_vehicles = f"""(
        SELECT * FROM core.vehicles AS ve
        SEMI JOIN recomputed_customers AS x ON x.dealer_code = ve.dealer_code AND x.customer_id = ve.customer_id
        WHERE (ve.purchase_date IS NULL OR ve.purchase_date <= {day}) AND (ve.first_seen IS NULL OR ve.first_seen <= {day}))"""
    return f"""
{work_orders_ctes(fresh)},
open_work_orders AS MATERIALIZED ({open_work_orders_sql(today, lead_days, fresh)}
),
visits AS NOT MATERIALIZED (
    SELECT dealer_code, work_order_no, customer_id, vin, intake_date, visit_type, service_items,
           has_customer_file
    FROM core.service_visits
    WHERE intake_date <= {day}
),
calls AS NOT MATERIALIZED (
    SELECT dealer_code, call_type, customer_id, work_order_no, campaign_id, complaint_id, outcome,
           call_time, CAST(call_time AS DATE) AS call_date, outcome IN {_codes(CLOSING_OUTCOMES)} AS closes
    FROM core.follow_up_calls
    WHERE call_time < {day} + 1
),
attempts AS NOT MATERIALIZED (
    SELECT dealer_code, call_type, customer_id, work_order_no, campaign_id, complaint_id, call_time,
           CAST(call_time AS DATE) AS call_date
    FROM core.follow_up_calls
    -- outcome is one of four codes; NOT IN (unlike IN) is filtered inside DuckDB's scan
    WHERE call_time < {day} + 1 AND outcome NOT IN {_codes(CLOSING_OUTCOMES)}
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
    SELECT dealer_code, customer_id, name, phone, address, region, preferred_services
    FROM core.customers
    WHERE valid_from <= {day} AND (valid_to IS NULL OR valid_to > {day})
),
recomputed_customers AS (SELECT * FROM {_few(recomputed_customers)}),
customer_vehicles AS NOT MATERIALIZED (
    -- the stored vehicles of customers, but for the stale ones and those whose vehicle came after the day
    SELECT s.dealer_code, s.customer_id, s.model_key, s.vin, s.plate_no, s.model
    FROM mart.due_customer_vehicles AS s
    ANTI JOIN recomputed_customers AS x ON x.dealer_code = s.dealer_code AND x.customer_id = s.customer_id
    WHERE NOT (SELECT rebuild FROM state_rebuild)
    UNION ALL BY NAME
    SELECT dealer_code, customer_id, model_key, vin, plate_no, model
    FROM ({customer_vehicles_state_sql(recomputed_vehicles)})
),
dealers AS ({dealers_on_sql(today)}
),
campaigns AS (
    SELECT *, {_campaign_line("k")} AS line
    FROM ({campaigns_sql(f"{day} <= coalesce(end_date, start_date)")}) AS k
),
served_campaigns AS (
    -- the campaigns of the day the stored campaign state holds as they are (not written since the refresh)
    SELECT k.* FROM campaigns AS k
    JOIN state_mark AS m ON k.end_date >= m.campaigns_from
    ANTI JOIN changed_campaigns AS c ON c.campaign_id = k.campaign_id
    WHERE NOT (SELECT rebuild FROM state_rebuild)
),
recomputed_campaign_customers AS (
    -- the customers whose stored campaign state is not theirs on the day: stale, a file or dealer of that
    -- day other than the current one (a later version exists), or a vehicle recomputed for the day
    SELECT * FROM {_few(recomputed_campaign_customers)}
),
campaign_pairs AS (
    SELECT p.*
    FROM mart.due_campaign_pairs AS p
    SEMI JOIN served_campaigns AS k ON k.campaign_id = p.campaign_id
    ANTI JOIN recomputed_campaign_customers AS x ON x.dealer_code = p.dealer_code AND x.customer_id = p.customer_id
    UNION ALL BY NAME
    SELECT * FROM ({campaign_pairs_sql("customers", "dealers", "customer_vehicles", "served_campaigns", "recomputed_campaign_customers")})
    UNION ALL BY NAME
    SELECT * FROM ({campaign_pairs_sql("customers", "dealers", "customer_vehicles", "(SELECT * FROM campaigns ANTI JOIN served_campaigns USING (campaign_id))")})
)"""


def _attempts_by(times: str, day: str) -> str:
    """`attempts` and `last_attempt_at` on `day` from a list of attempts' call times (those up to that day)."""
    attempted = f"list_filter({times}, lambda t: t < {day} + 1)"
    return f"coalesce(len({attempted}), 0) AS attempts, list_max({attempted}) AS last_attempt_at"


def first_follow_ups_sql(today: date) -> str:
    """Visits whose first return call is due or overdue on `today` (from open_work_orders).

    Rule: "call 3 days to 1 week after the vehicle left the shop (pickup) or after a consultation":
    due pickup + 3, overdue after pickup + 7; a consultation with no pickup counts from intake; a
    vehicle still in the shop has no item yet. Any reached (or refused) first follow-up call for the
    work order closes it, early or late. Warranty-period visits are priority high: a warranty repair,
    or a visit written as in the warranty period; one whose sheet left that blank is in it from the day
    the customer file (with the vehicle's warranty end) arrived, as the list could not know it before.
    """
    day = f"DATE '{today.isoformat()}'"
    # the in-warranty visits whose customer had no file on `today` (few), then those of them whose
    # warranty came from the file: looked up in core.service_visits by these few keys alone
    without_file = _few(f"""
    SELECT o.dealer_code, o.work_order_no
    FROM open_work_orders AS o
    ANTI JOIN (SELECT dealer_code, customer_id FROM core.customers WHERE valid_from <= {day}) AS c
        ON c.dealer_code = o.dealer_code AND c.customer_id = o.customer_id
    WHERE o.kind = 'first_follow_up' AND o.in_warranty AND o.visit_type <> 'warranty'""")
    unknown_warranty = _few(f"""
    SELECT s.dealer_code, s.work_order_no
    FROM core.service_visits AS s
    SEMI JOIN {without_file} AS o ON o.dealer_code = s.dealer_code AND o.work_order_no = s.work_order_no
    WHERE s.under_warranty_derived""")
    return f"""
SELECT v.dealer_code, 'first_follow_up' AS kind, v.customer_id, v.vin, v.work_order_no AS ref, v.plate_no, v.model,
       v.base_date + 3 AS due_date, v.base_date + 7 AS window_end,
       v.attempts, v.last_attempt_at, v.in_warranty AND u.work_order_no IS NULL AS urgent,
       concat_ws('；', {_visit_line("v")},
                 {_day("v.pickup_date")} || ' 出厂',
                 '下次保养 ' || {_day("v.next_maintenance_date")}) AS talking_points
FROM open_work_orders AS v
LEFT JOIN {unknown_warranty} AS u ON u.dealer_code = v.dealer_code AND u.work_order_no = v.work_order_no
WHERE v.kind = 'first_follow_up'"""


def second_follow_ups_sql() -> str:
    """Work orders whose second return call is due or overdue on `today` (from open_work_orders).

    Rule: "a second call in the 7 days after one week has passed since the first call": due first
    reached call + 7, overdue after + 14, counted from the earliest reached first follow-up call (a
    refused call starts nothing); a reached (or refused) second follow-up call for the work order
    closes it.
    """
    return f"""
SELECT v.dealer_code, 'second_follow_up' AS kind, v.customer_id, v.vin, v.work_order_no AS ref, v.plate_no, v.model,
       v.first_reached_on + 7 AS due_date, v.first_reached_on + 14 AS window_end,
       v.attempts, v.last_attempt_at, false AS urgent,
       concat_ws('；',
                 '首次回访 ' || {_day("v.first_reached_on")}
                     || coalesce('（' || {_zh("v.first_satisfaction", SATISFACTION)} || '）', '')
                     || coalesce('：' || {_cut("v.first_customer_request")}, ''),
                 {_visit_line("v")}) AS talking_points
FROM open_work_orders AS v
WHERE v.kind = 'second_follow_up'"""


def maintenance_reminders_sql(lead_days: int) -> str:
    """Vehicles whose next scheduled maintenance must be announced on `today` (from open_work_orders).

    Rule: "notify the customer of the next scheduled maintenance": per vehicle, the latest visit with
    a next maintenance date; due that date − `lead_days`, overdue after the date. Closed by a reached
    (or refused) maintenance-reminder call for that work order, or one without a work order for the
    same customer on or after the visit's intake; attempts are counted the same way.
    """
    return f"""
SELECT v.dealer_code, 'maintenance_reminder' AS kind, v.customer_id, v.vin, v.work_order_no AS ref, v.plate_no, v.model,
       v.next_maintenance_date - {int(lead_days)} AS due_date, v.next_maintenance_date AS window_end,
       v.attempts + coalesce(o.attempts, 0) AS attempts,
       greatest(v.last_attempt_at, o.last_attempt_at) AS last_attempt_at, false AS urgent,
       concat_ws('；', '下次保养 ' || {_day("v.next_maintenance_date")},
                 '上次 ' || {_visit_line("v")},
                 '里程 ' || v.mileage_km || ' km') AS talking_points
FROM open_work_orders AS v
LEFT JOIN (
    SELECT v.dealer_code, v.work_order_no, count(*) AS attempts, max(a.call_time) AS last_attempt_at
    FROM attempts AS a
    JOIN open_work_orders AS v
        ON a.dealer_code = v.dealer_code AND a.customer_id = v.customer_id AND a.call_date >= v.intake_date
    WHERE a.call_type = 'maintenance_reminder' AND a.work_order_no IS NULL
      AND v.kind = 'maintenance_reminder'
    GROUP BY ALL
) AS o ON o.dealer_code = v.dealer_code AND o.work_order_no = v.work_order_no
WHERE v.kind = 'maintenance_reminder'"""


def campaign_calls_sql(today: date) -> str:
    """Customers to phone on `today` about a coming campaign, with their customer file and vehicle.

    Rule: "phone every eligible customer two weeks before a campaign": from start − 14 (due) to the
    campaign's end (then the item drops), overdue after the start. Eligible: see campaign_pairs_sql. One
    item per customer, closed by a reached (or refused) notice call by `today`; its attempts are the
    notice calls by `today` that did not reach the customer. The vehicle shown is the smallest matching
    VIN among those bought and named by a file by `today` (customer_vehicles).
    """
    day = f"DATE '{today.isoformat()}'"
    return f"""
SELECT p.dealer_code, 'campaign_call' AS kind, p.customer_id, p.vin, p.campaign_id AS ref,
       k.start_date - 14 AS due_date, k.start_date AS window_end,
       {_attempts_by("p.attempt_times", day)}, false AS urgent,
       k.line AS talking_points, p.customer_name, p.phone, p.address, p.preferred_services,
       p.has_customer_file, p.plate_no, p.model
FROM campaign_pairs AS p
JOIN campaigns AS k ON k.campaign_id = p.campaign_id AND k.start_date - 14 <= {day}
WHERE p.eligible AND (p.closed_on > {day} OR p.closed_on IS NULL)"""


def _campaign_line(k: str) -> str:
    """'春季免费检测（免费检测）2024-04-01 至 2024-04-07' — the campaign's name and dates."""
    return (
        f"{k}.name || coalesce('（' || {_zh(f'{k}.campaign_type', CAMPAIGN_TYPE)} || '）', ' ') || "
        f"{_day(f'{k}.start_date')} || ' 至 ' || {_day(f'{k}.end_date')}"
    )


def campaign_letters_sql(today: date) -> str:
    """Customers to send a campaign letter to on `today`.

    Rule: "send the letter within two days after the phone notice": due the day of the earliest reached
    notice call, overdue after + 2; closed by any letter logged for that customer and campaign by `today`;
    drops once the campaign has ended (a refused notice call starts nothing).
    """
    day = f"DATE '{today.isoformat()}'"
    return f"""
SELECT p.dealer_code, 'campaign_letter' AS kind, p.customer_id, NULL AS vin, p.campaign_id AS ref,
       p.first_reached AS due_date, p.first_reached + 2 AS window_end,
       0 AS attempts, NULL::TIMESTAMP AS last_attempt_at, false AS urgent,
       k.line || '；' || {_day("p.first_reached")} || ' 已电话通知' AS talking_points,
       p.customer_name, p.phone, p.address, p.preferred_services, p.has_customer_file,
       NULL AS plate_no, NULL AS model
FROM campaign_pairs AS p
JOIN campaigns AS k ON k.campaign_id = p.campaign_id
WHERE p.first_reached <= {day} AND (p.letter_on > {day} OR p.letter_on IS NULL)"""


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
    on or after the resolution day (the complaint's own "customer satisfied" cell does not replace the
    call, nor does a call made before there was a resolution to confirm: the seed has the solution told
    to the customer "on the day it is found"); attempts are counted from that day too.
    """
    return f"""
SELECT p.dealer_code, 'complaint_callback' AS kind, p.customer_id, p.vin, p.complaint_id AS ref,
       p.resolved_date AS due_date, p.resolved_date + 3 AS window_end,
       coalesce(a.attempts, 0) AS attempts, a.last_attempt_at, false AS urgent,
       concat_ws('；', {_day("p.resolved_date")} || ' 已解决' || coalesce('：' || {_cut("p.resolution")}, ''),
                 {_complaint_line("p")}) AS talking_points
FROM complaints AS p
LEFT JOIN (
    SELECT a.dealer_code, a.complaint_id, count(*) AS attempts, max(a.call_time) AS last_attempt_at
    FROM attempts AS a
    JOIN complaints AS p
        ON p.dealer_code = a.dealer_code AND p.complaint_id = a.complaint_id AND a.call_date >= p.resolved_date
    WHERE a.call_type = 'complaint_callback'
    GROUP BY ALL
) AS a ON a.dealer_code = p.dealer_code AND a.complaint_id = p.complaint_id
ANTI JOIN (SELECT dealer_code, complaint_id, call_date FROM calls WHERE call_type = 'complaint_callback' AND closes) AS c
    ON c.dealer_code = p.dealer_code AND c.complaint_id = p.complaint_id AND c.call_date >= p.resolved_date
WHERE p.resolved_date IS NOT NULL"""


def customer_files_sql(today: date) -> str:
    """Customers with visits but no customer file on `today`.

    Rule: "a customer file must exist within two days of a visit": one item per customer, anchored on
    the earliest visit (ref = that work order); due on its intake, overdue after intake + 2. Only two
    kinds of visit can lack a file on `today` (core.service_visits.has_customer_file is true once the
    customer has a file, whose versions then cover every day from the first one): those flagged false,
    and those whose customer's first file version came after `today` (among those with any version
    after `today`; the ones with a version valid on `today` are then dropped).
    """
    day = f"DATE '{today.isoformat()}'"
    candidates = f"""
    SELECT * FROM visits WHERE NOT has_customer_file
    UNION ALL
    SELECT v.* FROM visits AS v
    SEMI JOIN (SELECT dealer_code, customer_id FROM core.customers WHERE valid_from > {day}) AS later
        ON later.dealer_code = v.dealer_code AND later.customer_id = v.customer_id"""
    return f"""
SELECT v.dealer_code, 'customer_file' AS kind, v.customer_id, v.vin, v.work_order_no AS ref,
       v.intake_date AS due_date, v.intake_date + 2 AS window_end,
       0 AS attempts, NULL::TIMESTAMP AS last_attempt_at, false AS urgent,
       {_visit_line("v")} || '；工单 ' || v.work_order_no || ' 尚无客户档案' AS talking_points
FROM {_few(candidates)} AS v
ANTI JOIN customers AS cu ON cu.dealer_code = v.dealer_code AND cu.customer_id = v.customer_id
QUALIFY row_number() OVER (
    PARTITION BY v.dealer_code, v.customer_id ORDER BY v.intake_date, v.work_order_no
) = 1"""


def due_list_sql(today: date, maintenance_lead_days: int, fresh: bool = False) -> str:
    """One SELECT over the `core` tables giving every open item on `today`, with DUE_LIST_COLUMNS.

    Rule: "an item is listed when due ≤ today and it is not yet satisfied; overdue when today > window
    end"; priority high for warranty-period first follow-ups and overdue items. All matching is within
    one dealer. A call's talking points end with what the customer file says the customer wishes for
    (客户希望得到的服务), from which the seed has the "next" service's talking points prepared. Customers
    who cannot be reached (no file, no valid phone, no address for a letter) are kept, with the reason
    in `contact_problem`. Work orders are read through mart.due_work_orders (work_orders_ctes), and
    campaigns through mart.due_campaign_pairs: exact whether or not they were refreshed, fast when they
    were. `fresh` is for a state refreshed in the same transaction: what was written since is not looked
    for (the same rows, a tenth sooner).
    """
    day = f"DATE '{today.isoformat()}'"
    work_order_items = "\nUNION ALL BY NAME\n".join(
        (
            first_follow_ups_sql(today),
            second_follow_ups_sql(),
            maintenance_reminders_sql(maintenance_lead_days),
        )
    )
    items = "\nUNION ALL BY NAME\n".join(
        (
            complaint_escalations_sql(),
            complaint_callbacks_sql(),
            customer_files_sql(today),
        )
    )
    phone_kinds = ", ".join(f"'{kind}'" for kind in PHONE_KINDS)
    letter_kinds = ", ".join(f"'{kind}'" for kind in LETTER_KINDS)
    return f"""
WITH {known_records_sql(today, maintenance_lead_days, fresh)},
work_order_items AS ({work_order_items}
),
other_items AS ({items}
),
listed AS (
    -- campaign items come with their customer file and vehicle, work order items with their vehicle
    SELECT i.*, cu.name AS customer_name, cu.phone, cu.address, cu.preferred_services,
           cu.customer_id IS NOT NULL AS has_customer_file
    FROM (
        SELECT * FROM work_order_items
        UNION ALL BY NAME
        SELECT i.*, ve.plate_no, ve.model
        FROM other_items AS i
        LEFT JOIN core.vehicles AS ve ON ve.dealer_code = i.dealer_code AND ve.vin = i.vin
    ) AS i
    LEFT JOIN customers AS cu ON cu.dealer_code = i.dealer_code AND cu.customer_id = i.customer_id
    UNION ALL BY NAME
    {campaign_calls_sql(today)}
    UNION ALL BY NAME
    {campaign_letters_sql(today)}
)
SELECT {day} AS as_of, i.dealer_code, d.name AS dealer_name, d.region, i.kind, i.customer_id,
       i.customer_name, i.phone, i.address, i.vin, i.plate_no, i.model, i.ref,
       i.due_date, i.window_end,
       CASE WHEN {day} > i.window_end THEN 'overdue' ELSE 'due' END AS status,
       CASE WHEN i.urgent OR {day} > i.window_end THEN 'high' ELSE 'normal' END AS priority,
       CAST(i.attempts AS INTEGER) AS attempts, i.last_attempt_at,
       CASE
           WHEN i.kind IN ({phone_kinds}) THEN CASE
               WHEN NOT i.has_customer_file THEN 'no_customer_file'
               WHEN coalesce(i.phone, '') = '' THEN 'no_phone'
               WHEN NOT regexp_full_match(i.phone, '{REACHABLE_PHONE}') THEN 'invalid_phone'
           END
           WHEN i.kind IN ({letter_kinds}) THEN CASE
               WHEN NOT i.has_customer_file THEN 'no_customer_file'
               WHEN coalesce(trim(i.address), '') = '' THEN 'no_address'
           END
       END AS contact_problem,
       CASE WHEN i.preferred_services IS NULL OR i.kind NOT IN ({phone_kinds}) THEN i.talking_points
            ELSE concat_ws('；', i.talking_points, '客户希望：' || {_cut("nullif(trim(i.preferred_services), '')")})
       END AS talking_points
FROM listed AS i
LEFT JOIN dealers AS d ON d.dealer_code = i.dealer_code
WHERE i.due_date <= {day}
"""

"""The spreadsheet contract as data: every sheet, column, type, key and enum vocabulary (CONTRACT.md)."""

from __future__ import annotations

from dataclasses import dataclass, field

# Column types of the contract. `dec` is a decimal with 2 places.
STR, INT, DEC, DATE, DATETIME, BOOL, ENUM = "str", "int", "dec", "date", "datetime", "bool", "enum"

DEALER, WAREHOUSE, REFERENCE = "dealer", "warehouse", "reference"


@dataclass(frozen=True)
class Enum:
    """A closed vocabulary: canonical codes with their Chinese labels (English labels are the codes)."""

    name: str
    labels: tuple[tuple[str, str], ...]  # (code, Chinese label)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(code for code, _ in self.labels)

    def zh(self, code: str) -> str:
        return dict(self.labels)[code]


@dataclass(frozen=True)
class Column:
    """One canonical column of a sheet."""

    name: str
    zh: str
    type: str
    required: bool = False
    enum: Enum | None = None
    doc: str = ""


@dataclass(frozen=True)
class Sheet:
    """One sheet kind: its columns, its business key and the source that sends it."""

    kind: str
    zh: str
    source: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    doc: str = ""
    optional: bool = False
    column_by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column_by_name", {c.name: c for c in self.columns})

    def column(self, name: str) -> Column:
        return self.column_by_name[name]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


VISIT_TYPE = Enum(
    "visit_type",
    (("maintenance", "保养"), ("repair", "维修"), ("warranty", "保修"), ("consultation", "咨询")),
)
DIRECTION = Enum("direction", (("outbound", "呼出"), ("inbound", "呼入")))
CALL_TYPE = Enum(
    "call_type",
    (
        ("first_follow_up", "首次回访"),
        ("second_follow_up", "二次回访"),
        ("maintenance_reminder", "保养提醒"),
        ("campaign_notice", "活动通知"),
        ("complaint_callback", "投诉回访"),
        ("inquiry", "咨询"),
        ("complaint", "投诉"),
        ("other", "其他"),
    ),
)
OUTCOME = Enum(
    "outcome",
    (("reached", "接通"), ("no_answer", "未接通"), ("wrong_number", "空号/错号"), ("refused", "拒访")),
)
SATISFACTION = Enum("satisfaction", (("satisfied", "满意"), ("fair", "基本满意"), ("dissatisfied", "不满意")))
LETTER_TYPE = Enum("letter_type", (("notice", "通知"), ("invitation", "邀请函"), ("reply", "答复函")))
CHANNEL = Enum("channel", (("phone", "电话"), ("visit", "来访"), ("letter", "信函"), ("online", "网络")))
COMPLAINT_CATEGORY = Enum(
    "complaint_category",
    (
        ("product_quality", "产品质量"),
        ("repair_quality", "维修质量"),
        ("service_attitude", "服务态度"),
        ("parts_supply", "配件供应"),
        ("timeliness", "时效"),
        ("other", "其他"),
    ),
)
SEVERITY = Enum("severity", (("low", "一般"), ("medium", "较重"), ("high", "严重")))
COMPONENT = Enum(
    "component",
    (
        ("motor", "电机"),
        ("controller", "控制器"),
        ("rear_axle", "后桥"),
        ("differential", "差速器"),
        ("frame", "车架"),
        ("front_shock", "前减震"),
        ("rim_weld", "轮辋焊合"),
        ("other", "其他"),
    ),
)
ERROR_TYPE = Enum(
    "error_type",
    (("wrong_part", "错发"), ("wrong_qty", "数量差错"), ("damaged", "破损"), ("missing", "漏发")),
)
CAMPAIGN_TYPE = Enum(
    "campaign_type", (("social", "联谊活动"), ("discount", "优惠服务"), ("free_check", "免费检测"))
)

ENUMS: dict[str, Enum] = {
    e.name: e
    for e in (
        VISIT_TYPE,
        DIRECTION,
        CALL_TYPE,
        OUTCOME,
        SATISFACTION,
        LETTER_TYPE,
        CHANNEL,
        COMPLAINT_CATEGORY,
        SEVERITY,
        COMPONENT,
        ERROR_TYPE,
        CAMPAIGN_TYPE,
    )
}

# The seven components the seed names as critical ("重要零件"): watched for batch incidents.
CRITICAL_COMPONENTS: tuple[str, ...] = (
    "motor",
    "controller",
    "rear_axle",
    "differential",
    "frame",
    "front_shock",
    "rim_weld",
)

# Limits from the contract's rules.
MAX_MILEAGE_KM = 1_000_000
MAX_MAINTENANCE_CYCLE_DAYS = 730
VIN_LENGTH = 17

# Code columns: trimmed and upper-cased on reading (`d0012 ` is `D0012`). Phones: digits only; a phone the
# contract requires (the customer's, who is called) must be one number, an optional one (the dealer's, for
# reference) is kept as written when it is not (an extension, two numbers) rather than reject its row.
CODE_FIELDS = frozenset(
    {
        "dealer_code",
        "customer_id",
        "vin",
        "work_order_no",
        "call_id",
        "campaign_id",
        "complaint_id",
        "letter_id",
        "shipment_line_id",
        "order_no",
        "part_no",
        "feedback_id",
        "batch_no",
    }
)
PHONE_FIELDS = frozenset({"phone"})

# What Excel shows in a cell whose formula failed (a VLOOKUP that found nothing shows #N/A): no value, in
# any column, however the column is typed. Excel writes them upper-case; a clerk may type them lower-case.
EXCEL_ERRORS = frozenset(
    {"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#GETTING_DATA", "#SPILL!", "#CALC!"}
)
EXCEL_ERROR_CELLS = sorted(EXCEL_ERRORS | {error.lower() for error in EXCEL_ERRORS})


def is_excel_error(cell: str) -> bool:
    """Whether a (trimmed) cell shows an Excel error, as the column checks judge it (EXCEL_ERROR_CELLS)."""
    return cell.strip() in EXCEL_ERROR_CELLS


# Units a number may carry before or after it (`12,000 km`, `350元`, `¥350`, `30天`), by field; any other
# text around a number is rejected (`12万` is not guessed). Compared case-insensitively.
_MONEY_UNITS = ("元", "¥", "rmb", "cny", "yuan")
_COUNT_UNITS = ("件", "个", "套", "只", "台", "pcs", "pc")
UNITS: dict[str, tuple[str, ...]] = {
    "mileage_km": ("km", "公里", "千米"),
    "amount": _MONEY_UNITS,
    "unit_price": _MONEY_UNITS,
    "maintenance_cycle_days": ("天", "日", "days", "day"),
    "qty_ordered": _COUNT_UNITS,
    "qty_shipped": _COUNT_UNITS,
    "quantity": _COUNT_UNITS,
}

# What a blank cell stands for, by sheet kind and field ("default outbound", "blank = correct", ...).
DEFAULTS: dict[str, dict[str, str | bool]] = {
    "follow_up_calls": {"direction": "outbound"},
    "complaints": {"severity": "medium"},
    "part_shipments": {"shipped_correct": True},
    "dealers": {"active": True},
}


def _c(name: str, zh: str, type_: str, required: bool = False, enum: Enum | None = None, doc: str = ""):
    return Column(name, zh, type_, required, enum, doc)


DEALER_CODE = _c(
    "dealer_code", "经销商代码", STR, True, doc="Dealer code (a known dealer), trimmed and upper-cased"
)
CUSTOMER_ID = _c("customer_id", "客户编号", STR, True, doc="Customer number, unique within the dealer")

SHEETS: dict[str, Sheet] = {
    s.kind: s
    for s in (
        Sheet(
            "customers",
            "客户档案",
            DEALER,
            ("dealer_code", "customer_id", "vin"),
            (
                DEALER_CODE,
                CUSTOMER_ID,
                _c("name", "客户名称", STR, True, doc="Customer name (person or company)"),
                _c(
                    "phone",
                    "联系电话",
                    STR,
                    True,
                    doc="Phone, digits only: 11-digit mobile or landline with area code",
                ),
                _c("address", "地址", STR, doc="Postal address"),
                _c("region", "地区", STR, doc="Customer's region; defaults to the dealer's region"),
                _c("contact_person", "联系人", STR, doc="Contact person at the customer"),
                _c("vin", "车架号", STR, True, doc="Vehicle identification number, 17 characters, no I/O/Q"),
                _c("plate_no", "车牌号", STR, doc="Licence plate"),
                _c("model", "车型", STR, True, doc="Vehicle model"),
                _c("vehicle_type", "车种", STR, doc="Vehicle type"),
                _c("purchase_date", "购车日期", DATE, doc="Purchase date, not in the future"),
                _c(
                    "warranty_end",
                    "保修截止日期",
                    DATE,
                    doc="End of warranty; blank = purchase date + warranty months",
                ),
                _c("preferred_services", "客户希望得到的服务", STR, doc="Services the customer would like"),
            ),
            doc="Customer files (客户档案基本资料表): one row per customer and vehicle",
        ),
        Sheet(
            "service_visits",
            "维修保养记录",
            DEALER,
            ("dealer_code", "work_order_no"),
            (
                DEALER_CODE,
                _c("work_order_no", "工单号", STR, True, doc="Work order number, unique within the dealer"),
                CUSTOMER_ID,
                _c("vin", "车架号", STR, True, doc="Vehicle identification number"),
                _c(
                    "intake_date", "进厂日期", DATE, True, doc="Day the vehicle came in (or the consultation)"
                ),
                _c(
                    "pickup_date", "出厂日期", DATE, doc="Day the vehicle left the shop; blank while still in"
                ),
                _c(
                    "visit_type",
                    "类型",
                    ENUM,
                    True,
                    VISIT_TYPE,
                    doc="maintenance, repair, warranty, consultation",
                ),
                _c("service_items", "维修保养项目", STR, doc="Work done"),
                _c("parts_used", "更换配件", STR, doc="Part numbers replaced, separated by , ; 、 or spaces"),
                _c("mileage_km", "里程", INT, doc="Odometer in km, 0 to 1,000,000"),
                _c("amount", "金额", DEC, doc="Amount charged (yuan), 2 decimals, >= 0"),
                _c("maintenance_cycle_days", "保养周期(天)", INT, doc="Maintenance cycle in days, 1 to 730"),
                _c(
                    "next_maintenance_date",
                    "下次保养日期",
                    DATE,
                    doc="Next maintenance; blank = pickup/intake + cycle",
                ),
                _c(
                    "under_warranty",
                    "是否保修期内",
                    BOOL,
                    doc="Visit in the warranty period; blank = derived",
                ),
                _c("advisor", "服务顾问", STR, doc="Service advisor"),
            ),
            doc="Service visits (维修保养记录): one row per work order",
        ),
        Sheet(
            "follow_up_calls",
            "跟踪服务电话记录",
            DEALER,
            ("dealer_code", "call_id"),
            (
                DEALER_CODE,
                _c("call_id", "记录编号", STR, True, doc="Call record number, unique within the dealer"),
                _c(
                    "call_time",
                    "通话时间",
                    DATETIME,
                    True,
                    doc="When the call took place (a date alone = 00:00)",
                ),
                _c("direction", "呼入/呼出", ENUM, False, DIRECTION, doc="outbound (default) or inbound"),
                _c("call_type", "通话类型", ENUM, True, CALL_TYPE, doc="What the call was for"),
                CUSTOMER_ID,
                _c("work_order_no", "工单号", STR, doc="Work order followed up (required for follow-ups)"),
                _c("campaign_id", "活动编号", STR, doc="Campaign notified (required for campaign notices)"),
                _c(
                    "complaint_id",
                    "投诉编号",
                    STR,
                    doc="Complaint called back (required for complaint call-backs)",
                ),
                _c("staff", "业务员", STR, True, doc="Staff member who made or took the call"),
                _c("outcome", "结果", ENUM, True, OUTCOME, doc="reached, no_answer, wrong_number, refused"),
                _c("satisfaction", "满意度", ENUM, False, SATISFACTION, doc="satisfied, fair, dissatisfied"),
                _c("customer_request", "客户意见/要求", STR, doc="What the customer asked or said"),
                _c(
                    "needs_action", "是否需处理", BOOL, doc="A request that could not be answered on the call"
                ),
                _c("notes", "备注", STR, doc="Notes"),
            ),
            doc="Follow-up calls (跟踪服务电话记录/登记表), inbound and outbound",
        ),
        Sheet(
            "letters",
            "跟踪服务信函登记",
            DEALER,
            ("dealer_code", "letter_id"),
            (
                DEALER_CODE,
                _c("letter_id", "信函编号", STR, True, doc="Letter number, unique within the dealer"),
                CUSTOMER_ID,
                _c("sent_date", "寄出日期", DATE, True, doc="Day the letter was sent"),
                _c("letter_type", "信函类型", ENUM, True, LETTER_TYPE, doc="notice, invitation, reply"),
                _c("campaign_id", "活动编号", STR, doc="Campaign the letter is about (a known campaign)"),
                _c("notes", "备注", STR, doc="Notes"),
            ),
            doc="Follow-up letters (跟踪服务信函登记表)",
        ),
        Sheet(
            "complaints",
            "投诉登记",
            DEALER,
            ("dealer_code", "complaint_id"),
            (
                DEALER_CODE,
                _c("complaint_id", "投诉编号", STR, True, doc="Complaint number, unique within the dealer"),
                _c("received_date", "受理日期", DATE, True, doc="Day the complaint was received"),
                CUSTOMER_ID,
                _c("vin", "车架号", STR, doc="Vehicle concerned"),
                _c("channel", "来源", ENUM, False, CHANNEL, doc="phone, visit, letter, online"),
                _c("category", "类别", ENUM, True, COMPLAINT_CATEGORY, doc="What the complaint is about"),
                _c("component", "部件", ENUM, False, COMPONENT, doc="Critical component concerned, if any"),
                _c("description", "投诉内容", STR, True, doc="What the customer complained of"),
                _c("severity", "严重程度", ENUM, False, SEVERITY, doc="low, medium (default), high"),
                _c("escalated_date", "上报日期", DATE, doc="Day it was reported to the supervisor"),
                _c("resolved_date", "解决日期", DATE, doc="Day it was resolved"),
                _c("resolution", "处理结果", STR, doc="How it was resolved (required once resolved)"),
                _c("customer_satisfied", "客户是否满意", BOOL, doc="Customer satisfied with the resolution"),
            ),
            doc="Complaints (投诉登记)",
        ),
        Sheet(
            "part_shipments",
            "配件出库记录",
            WAREHOUSE,
            ("shipment_line_id",),
            (
                _c("shipment_line_id", "出库单行号", STR, True, doc="Shipment line number, globally unique"),
                _c("order_no", "订单号", STR, True, doc="Dealer's order number"),
                DEALER_CODE,
                _c("part_no", "配件编号", STR, True, doc="Part number (a known part)"),
                _c("qty_ordered", "订购数量", INT, True, doc="Quantity ordered, > 0"),
                _c("qty_shipped", "发货数量", INT, True, doc="Quantity shipped, >= 0"),
                _c("ship_date", "发货日期", DATE, True, doc="Day shipped"),
                _c("shipped_correct", "发货是否正确", BOOL, doc="Shipped correctly; blank = correct"),
                _c(
                    "error_type",
                    "差错类型",
                    ENUM,
                    False,
                    ERROR_TYPE,
                    doc="Kind of shipping error, when incorrect",
                ),
            ),
            doc="Parts shipped by the after-sales warehouse (配件出库记录)",
        ),
        Sheet(
            "part_failures",
            "配件质量反馈",
            WAREHOUSE,
            ("feedback_id",),
            (
                _c("feedback_id", "反馈编号", STR, True, doc="Feedback number, globally unique"),
                _c("report_date", "反馈日期", DATE, True, doc="Day the failure was reported"),
                DEALER_CODE,
                _c("vin", "车架号", STR, doc="Vehicle concerned"),
                _c("part_no", "配件编号", STR, True, doc="Part number (a known part)"),
                _c(
                    "component",
                    "部件类别",
                    ENUM,
                    False,
                    COMPONENT,
                    doc="Component; blank = the part's component",
                ),
                _c("batch_no", "批次号", STR, doc="Production batch of the part"),
                _c("production_date", "生产日期", DATE, doc="Production date of the part, <= report date"),
                _c("mileage_km", "故障里程", INT, doc="Odometer at failure, 0 to 1,000,000"),
                _c("failure_mode", "故障现象", STR, True, doc="What failed and how"),
                _c("work_order_no", "工单号", STR, doc="Work order of the repair"),
            ),
            doc="Part-quality feedback (配件质量反馈)",
        ),
        Sheet(
            "part_batches",
            "配件批次",
            WAREHOUSE,
            ("part_no", "batch_no"),
            (
                _c("part_no", "配件编号", STR, True, doc="Part number (a known part)"),
                _c("batch_no", "批次号", STR, True, doc="Production batch"),
                _c("production_date", "生产日期", DATE, True, doc="Production date of the batch"),
                _c("quantity", "批次数量", INT, True, doc="Units in the batch, > 0"),
                _c("supplier", "供应商", STR, doc="Supplier"),
            ),
            doc="Part production batches and their sizes (配件批次), optional",
            optional=True,
        ),
        Sheet(
            "dealers",
            "经销商",
            REFERENCE,
            ("dealer_code",),
            (
                DEALER_CODE,
                _c("name", "经销商名称", STR, True, doc="Dealer name"),
                _c("region", "区域", STR, True, doc="Sales region"),
                _c("province", "省份", STR, doc="Province"),
                _c("city", "城市", STR, doc="City"),
                _c("contact_person", "负责人", STR, doc="Person in charge"),
                _c(
                    "phone", "联系电话", STR, doc="Dealer phone (digits; kept as written when not one number)"
                ),
                _c("roving_staff", "巡回服务人员", STR, doc="Roving service staff for the dealer"),
                _c("has_service_shop", "是否有服务站", BOOL, doc="Dealer has its own service shop"),
                _c("active", "是否有效", BOOL, doc="Dealer is active (default true)"),
            ),
            doc="Dealers (经销商), from head office",
        ),
        Sheet(
            "parts",
            "配件目录",
            REFERENCE,
            ("part_no",),
            (
                _c("part_no", "配件编号", STR, True, doc="Part number"),
                _c("name", "配件名称", STR, True, doc="Part name"),
                _c("component", "部件类别", ENUM, True, COMPONENT, doc="Component the part belongs to"),
                _c(
                    "critical",
                    "是否关键件",
                    BOOL,
                    doc="Critical part; blank = its component is one of the seven",
                ),
                _c("unit_price", "单价", DEC, doc="Unit price (yuan), >= 0"),
            ),
            doc="Parts catalogue (配件目录), from head office",
        ),
        Sheet(
            "campaigns",
            "活动",
            REFERENCE,
            ("campaign_id",),
            (
                _c("campaign_id", "活动编号", STR, True, doc="Campaign number"),
                _c("name", "活动名称", STR, True, doc="Campaign name"),
                _c(
                    "campaign_type",
                    "活动类型",
                    ENUM,
                    False,
                    CAMPAIGN_TYPE,
                    doc="social, discount, free_check",
                ),
                _c("start_date", "开始日期", DATE, True, doc="First day of the campaign"),
                _c("end_date", "结束日期", DATE, doc="Last day of the campaign, >= start"),
                _c("region", "适用区域", STR, doc="Region the campaign is for; blank = all"),
                _c("model", "适用车型", STR, doc="Vehicle model the campaign is for; blank = all"),
            ),
            doc="Customer campaigns (联谊/优惠/免费检测活动), from head office",
        ),
    )
}

SOURCES: dict[str, tuple[str, ...]] = {
    source: tuple(k for k, s in SHEETS.items() if s.source == source)
    for source in (DEALER, WAREHOUSE, REFERENCE)
}

# The customers sheet (one row per customer and vehicle) feeds two core tables: customers (with history)
# and vehicles.
CUSTOMER_KEY = ("dealer_code", "customer_id")
CUSTOMER_ATTRIBUTES = ("name", "phone", "address", "region", "contact_person", "preferred_services")
VEHICLE_KEY = ("dealer_code", "vin")
VEHICLE_ATTRIBUTES = ("customer_id", "plate_no", "model", "vehicle_type", "purchase_date", "warranty_end")

# Excel rows are reported 1-based, as the steward sees them.
EXCEL_ROW = "excel_row"

# Columns of every problem (rejection or warning) produced by checks, in this order.
PROBLEM_COLUMNS: tuple[str, ...] = (
    "sheet",  # sheet name as in the workbook
    "kind",  # sheet kind (contract name)
    "excel_row",  # 1-based row number as the steward sees it
    "field",  # canonical column name, or "" for a row-level problem
    "column_name",  # the header as the sheet wrote it ("" for row-level problems)
    "cell_value",  # the cell as written
    "rule",  # rule identifier (see schemas.messages)
    "message",  # English message the steward can act on
    "message_zh",  # the same in Chinese
    "severity",  # "rejected" or "warning"
    "dealer_code",  # the row's dealer code as read (normalised when possible), for routing
    "business_key",  # the row's business key as text ("D0012|WO123"), "" when unreadable
)
REJECTED, WARNING = "rejected", "warning"

"""One pandera model per sheet kind (its rejection rules) and the warning models: the contract as checks."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Annotated, Any, ClassVar

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData
from pandera.engines.polars_engine import Engine as POLARS_ENGINE
from pandera.errors import SchemaErrors

from dealersync.schemas.contract import (
    CALL_TYPE,
    CAMPAIGN_TYPE,
    CHANNEL,
    COMPLAINT_CATEGORY,
    COMPONENT,
    DIRECTION,
    ERROR_TYPE,
    LETTER_TYPE,
    MAX_MAINTENANCE_CYCLE_DAYS,
    MAX_MILEAGE_KM,
    OUTCOME,
    SATISFACTION,
    SEVERITY,
    VISIT_TYPE,
    Enum,
)

Text = pl.Utf8
Int = pl.Int64
Money = Annotated[pl.Decimal, 18, 2]
Day = pl.Date
Moment = Annotated[pl.Datetime, "us", None]
Flag = pl.Boolean

VIN_PATTERN = r"^[A-HJ-NPR-Z0-9]{17}$"  # "17 characters, no I, O or Q"
# "mainland mobile = 11 digits starting with 1, or a landline with area code (10–12 digits starting with 0)"
PHONE_PATTERN = r"^(?:1[0-9]{10}|0[0-9]{9,11})$"

# ISO 3779 / North-American check digit: letters transliterated, weighted, summed, mod 11 (10 = X).
_VIN_LETTERS = {
    **dict(zip("ABCDEFGH", "12345678", strict=True)),
    **dict(zip("JKLMN", "12345", strict=True)),
    "P": "7",
    "R": "9",
    **dict(zip("STUVWXYZ", "23456789", strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)

# The column a cross-column rule compares with, named in its message.
COMPARED_WITH: dict[str, str] = {
    "pickup_before_intake": "intake_date",
    "next_maintenance_not_after_intake": "intake_date",
    "warranty_end_before_purchase": "purchase_date",
    "escalated_before_received": "received_date",
    "resolved_before_received": "received_date",
    "production_after_report": "report_date",
    "end_before_start": "start_date",
    "resolution_required": "resolved_date",
    "error_type_required": "shipped_correct",
    "error_type_on_correct_shipment": "shipped_correct",
    "work_order_required": "call_type",
    "campaign_required": "call_type",
    "complaint_required": "call_type",
    "satisfaction_without_reach": "outcome",
}

# pandera's own check names, as rule ids.
_PANDERA_RULES = {"not_nullable": "required"}


def vin_check_digit(vin: pl.Expr) -> pl.Expr:
    """The check digit a well-formed VIN should carry as its 9th character (meaningless for others)."""
    digits = vin.str.slice(0, 17).str.pad_end(17, "-").str.replace_many(_VIN_LETTERS).str.split("")
    values = digits.list.eval(pl.element().cast(pl.Int64, strict=False))
    remainder = (values * pl.lit(pl.Series([list(_VIN_WEIGHTS)]))).list.sum() % 11
    return remainder.cast(pl.Utf8).replace("10", "X")


# A frame of several sheets checked together numbers each row's sheet in this column: rows are compared
# with rows of their own sheet only.
SHEET_PART = "_part"


def highest_earlier_mileage(visits: pl.LazyFrame) -> pl.LazyFrame:
    """Per visit, in order: the highest mileage of the same VIN (in the same sheet) at visits with an
    earlier intake date."""
    vehicle = [SHEET_PART, "vin"] if SHEET_PART in visits.collect_schema().names() else ["vin"]
    by_day = (
        visits.group_by(*vehicle, "intake_date")
        .agg(pl.col("mileage_km").max().alias("day_max"))
        .filter(pl.col("day_max").is_not_null())
        .sort(*vehicle, "intake_date")
        .with_columns(pl.col("day_max").cum_max().shift(1).over(vehicle).alias("earlier_mileage_km"))
    )
    return (
        visits.select(*vehicle, "intake_date")
        .join(
            by_day.select(*vehicle, "intake_date", "earlier_mileage_km"),
            on=[*vehicle, "intake_date"],
            how="left",
            maintain_order="left",
        )
        .select("vin", "intake_date", "earlier_mileage_km")
    )


def _rule(field: str, rule: str, holds: pl.Expr) -> classmethod:
    """A check of `field` named `rule`: rows where `holds` is false break it (null = nothing to check)."""

    def check(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(holds)

    return pa.check(field, error=rule)(check)


def _one_of(field: str, enum: Enum) -> classmethod:
    return _rule(field, "not_in_list", pl.col(field).is_in(enum.codes))


def _between(field: str, rule: str, low: int, high: int) -> classmethod:
    return _rule(field, rule, pl.col(field).is_between(low, high))


def _before(field: str, rule: str, other: str) -> classmethod:
    """`field` is on or after `other` (`rule` is broken when it is before)."""
    return _rule(field, rule, pl.col(field) >= pl.col(other))


def _given_when(field: str, rule: str, condition: pl.Expr) -> classmethod:
    """`field` is required on the rows where `condition` holds."""
    return _rule(field, rule, pl.col(field).is_not_null() | condition.not_().fill_null(True))


def _vin_format() -> classmethod:
    return _rule("vin", "vin_format", pl.col("vin").str.contains(VIN_PATTERN))


def _not_in_future(field: str) -> classmethod:
    """Dates "not in the future": not after the run's as-of day (the model's `_today`)."""

    def check(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(field).cast(pl.Date) <= pl.lit(cls._today, dtype=pl.Date))

    return pa.check(field, error="in_future")(check)


def _required() -> Any:
    return pa.Field(nullable=False)


def _optional() -> Any:
    return pa.Field(nullable=True)


class SheetModel(pa.DataFrameModel):
    """A sheet's rejection rules; validate through `as_of(today)` (the plain model skips "not in the future")."""

    _today: ClassVar[date | None] = None

    class Config:
        strict = False  # excel_row and the row index ride along

    @classmethod
    @lru_cache(maxsize=128)
    def as_of(cls, today: date) -> type[SheetModel]:
        """This model with "not in the future" meaning after `today`."""
        return type(cls.__name__, (cls,), {"_today": today, "__doc__": cls.__doc__})


class Customers(SheetModel):
    """客户档案: one row per customer and vehicle."""

    dealer_code: Text = _required()
    customer_id: Text = _required()
    name: Text = _required()
    phone: Text = _required()
    address: Text = _optional()
    region: Text = _optional()
    contact_person: Text = _optional()
    vin: Text = _required()
    plate_no: Text = _optional()
    model: Text = _required()
    vehicle_type: Text = _optional()
    purchase_date: Day = _optional()
    warranty_end: Day = _optional()
    preferred_services: Text = _optional()

    phone_is_mobile_or_landline = _rule("phone", "phone_shape", pl.col("phone").str.contains(PHONE_PATTERN))
    vin_is_well_formed = _vin_format()
    purchase_not_in_future = _not_in_future("purchase_date")
    warranty_ends_after_purchase = _before("warranty_end", "warranty_end_before_purchase", "purchase_date")


class ServiceVisits(SheetModel):
    """维修保养记录: one row per work order."""

    dealer_code: Text = _required()
    work_order_no: Text = _required()
    customer_id: Text = _required()
    vin: Text = _required()
    intake_date: Day = _required()
    pickup_date: Day = _optional()
    visit_type: Text = _required()
    service_items: Text = _optional()
    parts_used: Text = _optional()
    mileage_km: Int = _optional()
    amount: Money = _optional()
    maintenance_cycle_days: Int = _optional()
    next_maintenance_date: Day = _optional()
    under_warranty: Flag = _optional()
    advisor: Text = _optional()

    vin_is_well_formed = _vin_format()
    intake_not_in_future = _not_in_future("intake_date")
    pickup_after_intake = _before("pickup_date", "pickup_before_intake", "intake_date")
    visit_type_is_known = _one_of("visit_type", VISIT_TYPE)
    mileage_in_range = _between("mileage_km", "mileage_range", 0, MAX_MILEAGE_KM)
    amount_not_negative = _rule("amount", "negative", pl.col("amount") >= 0)
    cycle_in_range = _between("maintenance_cycle_days", "cycle_range", 1, MAX_MAINTENANCE_CYCLE_DAYS)
    next_maintenance_after_intake = _rule(
        "next_maintenance_date",
        "next_maintenance_not_after_intake",
        pl.col("next_maintenance_date") > pl.col("intake_date"),
    )


class FollowUpCalls(SheetModel):
    """跟踪服务电话记录: inbound and outbound calls."""

    dealer_code: Text = _required()
    call_id: Text = _required()
    call_time: Moment = _required()
    direction: Text = _optional()
    call_type: Text = _required()
    customer_id: Text = _required()
    work_order_no: Text = _optional()
    campaign_id: Text = _optional()
    complaint_id: Text = _optional()
    staff: Text = _required()
    outcome: Text = _required()
    satisfaction: Text = _optional()
    customer_request: Text = _optional()
    needs_action: Flag = _optional()
    notes: Text = _optional()

    call_not_in_future = _not_in_future("call_time")
    direction_is_known = _one_of("direction", DIRECTION)
    call_type_is_known = _one_of("call_type", CALL_TYPE)
    outcome_is_known = _one_of("outcome", OUTCOME)
    satisfaction_is_known = _one_of("satisfaction", SATISFACTION)
    follow_up_names_work_order = _given_when(
        "work_order_no",
        "work_order_required",
        pl.col("call_type").is_in(["first_follow_up", "second_follow_up"]),
    )
    notice_names_campaign = _given_when(
        "campaign_id", "campaign_required", pl.col("call_type") == "campaign_notice"
    )
    callback_names_complaint = _given_when(
        "complaint_id", "complaint_required", pl.col("call_type") == "complaint_callback"
    )
    satisfaction_only_when_reached = _rule(
        "satisfaction",
        "satisfaction_without_reach",
        pl.col("satisfaction").is_null() | (pl.col("outcome") == "reached").fill_null(True),
    )


class Letters(SheetModel):
    """跟踪服务信函登记: letters sent to customers."""

    dealer_code: Text = _required()
    letter_id: Text = _required()
    customer_id: Text = _required()
    sent_date: Day = _required()
    letter_type: Text = _required()
    campaign_id: Text = _optional()
    notes: Text = _optional()

    letter_type_is_known = _one_of("letter_type", LETTER_TYPE)


class Complaints(SheetModel):
    """投诉登记: customer complaints."""

    dealer_code: Text = _required()
    complaint_id: Text = _required()
    received_date: Day = _required()
    customer_id: Text = _required()
    vin: Text = _optional()
    channel: Text = _optional()
    category: Text = _required()
    component: Text = _optional()
    description: Text = _required()
    severity: Text = _optional()
    escalated_date: Day = _optional()
    resolved_date: Day = _optional()
    resolution: Text = _optional()
    customer_satisfied: Flag = _optional()

    received_not_in_future = _not_in_future("received_date")
    channel_is_known = _one_of("channel", CHANNEL)
    category_is_known = _one_of("category", COMPLAINT_CATEGORY)
    component_is_known = _one_of("component", COMPONENT)
    severity_is_known = _one_of("severity", SEVERITY)
    escalated_after_received = _before("escalated_date", "escalated_before_received", "received_date")
    resolved_after_received = _before("resolved_date", "resolved_before_received", "received_date")
    resolved_says_how = _given_when(
        "resolution", "resolution_required", pl.col("resolved_date").is_not_null()
    )


class PartShipments(SheetModel):
    """配件出库记录: parts shipped by the after-sales warehouse."""

    shipment_line_id: Text = _required()
    order_no: Text = _required()
    dealer_code: Text = _required()
    part_no: Text = _required()
    qty_ordered: Int = _required()
    qty_shipped: Int = _required()
    ship_date: Day = _required()
    shipped_correct: Flag = _optional()
    error_type: Text = _optional()

    ordered_positive = _rule("qty_ordered", "not_positive", pl.col("qty_ordered") > 0)
    shipped_not_negative = _rule("qty_shipped", "negative", pl.col("qty_shipped") >= 0)
    ship_not_in_future = _not_in_future("ship_date")
    error_type_is_known = _one_of("error_type", ERROR_TYPE)
    wrong_shipment_says_how = _given_when(
        "error_type", "error_type_required", pl.col("shipped_correct").not_()
    )


class PartFailures(SheetModel):
    """配件质量反馈: part-quality feedback."""

    feedback_id: Text = _required()
    report_date: Day = _required()
    dealer_code: Text = _required()
    vin: Text = _optional()
    part_no: Text = _required()
    component: Text = _optional()
    batch_no: Text = _optional()
    production_date: Day = _optional()
    mileage_km: Int = _optional()
    failure_mode: Text = _required()
    work_order_no: Text = _optional()

    report_not_in_future = _not_in_future("report_date")
    component_is_known = _one_of("component", COMPONENT)
    produced_before_report = _rule(
        "production_date",
        "production_after_report",
        pl.col("production_date") <= pl.col("report_date"),
    )
    mileage_in_range = _between("mileage_km", "mileage_range", 0, MAX_MILEAGE_KM)


class PartBatches(SheetModel):
    """配件批次: production batches and their sizes."""

    part_no: Text = _required()
    batch_no: Text = _required()
    production_date: Day = _required()
    quantity: Int = _required()
    supplier: Text = _optional()

    production_not_in_future = _not_in_future("production_date")
    quantity_positive = _rule("quantity", "not_positive", pl.col("quantity") > 0)


class Dealers(SheetModel):
    """经销商: the dealer list from head office."""

    dealer_code: Text = _required()
    name: Text = _required()
    region: Text = _required()
    province: Text = _optional()
    city: Text = _optional()
    contact_person: Text = _optional()
    phone: Text = _optional()
    roving_staff: Text = _optional()
    has_service_shop: Flag = _optional()
    active: Flag = _optional()


class Parts(SheetModel):
    """配件目录: the parts catalogue from head office."""

    part_no: Text = _required()
    name: Text = _required()
    component: Text = _required()
    critical: Flag = _optional()
    unit_price: Money = _optional()

    component_is_known = _one_of("component", COMPONENT)
    price_not_negative = _rule("unit_price", "negative", pl.col("unit_price") >= 0)


class Campaigns(SheetModel):
    """活动: customer campaigns from head office."""

    campaign_id: Text = _required()
    name: Text = _required()
    campaign_type: Text = _optional()
    start_date: Day = _required()
    end_date: Day = _optional()
    region: Text = _optional()
    model: Text = _optional()

    campaign_type_is_known = _one_of("campaign_type", CAMPAIGN_TYPE)
    ends_after_start = _before("end_date", "end_before_start", "start_date")


class VinWarnings(pa.DataFrameModel):
    """Warnings on a sheet with VINs: "a wrong check digit (9th character) is a warning"."""

    vin: Text = _optional()

    check_digit_matches = _rule(
        "vin",
        "vin_check_digit",
        pl.col("vin").str.contains(VIN_PATTERN).not_()
        | (pl.col("vin").str.slice(8, 1) == vin_check_digit(pl.col("vin"))),
    )

    class Config:
        strict = False


class ServiceVisitWarnings(VinWarnings):
    """Warnings on visits: VIN check digit; "mileage lower than an earlier visit of the same VIN"."""

    intake_date: Day = _optional()
    mileage_km: Int = _optional()

    @pa.check("mileage_km", error="mileage_backwards")
    def mileage_not_lower_than_before(cls, data: PolarsData) -> pl.LazyFrame:
        earlier = highest_earlier_mileage(data.lazyframe)
        return pl.concat([data.lazyframe.select("mileage_km"), earlier], how="horizontal").select(
            pl.col("mileage_km") >= pl.col("earlier_mileage_km")
        )


class PartShipmentWarnings(pa.DataFrameModel):
    """Warnings on shipments: an error type on a line not marked wrong ("shipped_correct: blank = correct").

    The line counts as shipped correctly, as the contract says; the steward is told, since one of the two
    cells is wrong and the shipping-accuracy figure depends on which.
    """

    shipped_correct: Flag = _optional()
    error_type: Text = _optional()

    error_type_on_a_correct_line = _rule(
        "error_type",
        "error_type_on_correct_shipment",
        pl.col("error_type").is_null() | (pl.col("shipped_correct").fill_null(True).not_()),
    )

    class Config:
        strict = False


MODELS: dict[str, type[SheetModel]] = {
    "customers": Customers,
    "service_visits": ServiceVisits,
    "follow_up_calls": FollowUpCalls,
    "letters": Letters,
    "complaints": Complaints,
    "part_shipments": PartShipments,
    "part_failures": PartFailures,
    "part_batches": PartBatches,
    "dealers": Dealers,
    "parts": Parts,
    "campaigns": Campaigns,
}
WARNING_MODELS: dict[str, type[pa.DataFrameModel]] = {
    "customers": VinWarnings,
    "service_visits": ServiceVisitWarnings,
    "part_shipments": PartShipmentWarnings,
}


def rejection_model(kind: str, today: date) -> type[SheetModel]:
    """The rejection model of a sheet kind for a run whose as-of day is `today`."""
    return MODELS[kind].as_of(today)


def broken_rules(model: type[pa.DataFrameModel], rows: pl.DataFrame) -> pl.DataFrame:
    """Every (row position, field, rule) the collected `rows` break: what pandera's `validate` reports.

    pandera runs each check of each column as its own query, about 2 ms apiece whatever the sheet's
    size. This evaluates the model's own schema (its columns' types and nullability, and the same check
    functions with pandera's null handling) in one query. `broken_rules_by_pandera` is pandera's own
    verdict, and tests/schemas/test_models.py holds the two equal on every model.
    """
    schema = model.to_schema()
    misfits = [
        name
        for name, column in schema.columns.items()
        if name not in rows.columns or not column.dtype.check(POLARS_ENGINE.dtype(rows.schema[name]))
    ]
    if misfits:
        raise TypeError(f"{model.__name__}: the frame does not fit the model (columns {', '.join(misfits)})")
    unsupported = [name for name, column in schema.columns.items() if column.unique or column.regex]
    unsupported += [c.error for column in schema.columns.values() for c in column.checks if c.element_wise]
    if schema.checks or schema.unique or unsupported:
        raise TypeError(
            f"{model.__name__}: broken_rules evaluates column checks over whole columns only; "
            f"not frame-wide checks, unique or regex columns, or element-wise checks ({', '.join(unsupported)})"
        )
    frame = rows.lazy()
    verdicts: list[tuple[str, str, pl.LazyFrame]] = []  # (field, rule, one column: the row passes)
    for name, column in schema.columns.items():
        if not column.nullable:
            verdicts.append((name, _PANDERA_RULES["not_nullable"], frame.select(pl.col(name).is_not_null())))
        for check in column.checks:
            holds = check._check_fn(PolarsData(frame, name), **check._check_kwargs)
            if not isinstance(holds, pl.LazyFrame):
                raise TypeError(f"{model.__name__}.{check.error}: a check must give one boolean per row")
            passes = pl.all_horizontal(pl.all()).fill_null(check.ignore_na)
            verdicts.append((name, check.error or check.name, holds.select(passes)))
    if not verdicts:
        return _NO_BROKEN_RULES
    passed = pl.concat(
        [verdict.select(pl.all().alias(str(i))) for i, (_, _, verdict) in enumerate(verdicts)],
        how="horizontal",
    ).collect(engine="in-memory")  # a sheet in memory: cheaper than polars 2's default streaming engine
    broken = [
        pl.DataFrame({"index": passed[str(i)].not_().arg_true().cast(pl.UInt32)}).with_columns(
            field=pl.lit(field), rule=pl.lit(rule)
        )
        for i, (field, rule, _) in enumerate(verdicts)
        if not passed[str(i)].all()
    ]
    return pl.concat([_NO_BROKEN_RULES, *broken]) if broken else _NO_BROKEN_RULES


_NO_BROKEN_RULES = pl.DataFrame(schema={"index": pl.UInt32, "field": pl.Utf8, "rule": pl.Utf8})


def broken_rules_by_pandera(model: type[pa.DataFrameModel], rows: pl.DataFrame) -> pl.DataFrame:
    """What `broken_rules` gives, from pandera's `validate` and its failure cases (the slow reference)."""
    try:
        model.validate(rows, lazy=True)
    except SchemaErrors as errors:
        cases = errors.failure_cases
        unexpected = cases.filter(pl.col("index").is_null())
        if unexpected.height:
            raise TypeError(f"{model.__name__}: the frame does not fit the model: {errors}") from errors
        return cases.select(
            pl.col("index").cast(pl.UInt32),
            pl.col("column").alias("field"),
            pl.col("check").replace(_PANDERA_RULES).alias("rule"),
        )
    return _NO_BROKEN_RULES

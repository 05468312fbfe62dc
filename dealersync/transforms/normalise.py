"""Pure polars normalisers: a sheet's text cells to typed values, with a rejection reason when unreadable."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import NamedTuple

import polars as pl

from dealersync.schemas.aliases import Aliases
from dealersync.schemas.contract import (
    BOOL,
    CODE_FIELDS,
    CRITICAL_COMPONENTS,
    DATE,
    DATETIME,
    DEC,
    DEFAULTS,
    ENUM,
    INT,
    PHONE_FIELDS,
    STR,
    UNITS,
    Column,
)

DECIMAL = pl.Decimal(18, 2)
DATETIME_US = pl.Datetime("us")
# The polars type of each contract type in a clean frame (docs/ARCHITECTURE.md, "Typed values").
DTYPES: dict[str, pl.DataType] = {
    STR: pl.Utf8,
    ENUM: pl.Utf8,
    INT: pl.Int64,
    DEC: DECIMAL,
    DATE: pl.Date,
    DATETIME: DATETIME_US,
    BOOL: pl.Boolean,
}

# Excel counts days from 1899-12-30 (the 1900 leap-year bug included). Serials are accepted for days
# from 1950 to 2099 only: a bare number outside that range in a date column is not guessed at.
EXCEL_EPOCH = datetime(1899, 12, 30)
SERIAL_FIRST = (date(1950, 1, 1) - EXCEL_EPOCH.date()).days
SERIAL_LAST = (date(2099, 12, 31) - EXCEL_EPOCH.date()).days

_CALENDAR = (
    r"^(?<year>[0-9]{4})\s*[-/.年]\s*(?<month>[0-9]{1,2})\s*[-/.月]\s*(?<day>[0-9]{1,2})\s*[日号]?"
    r"(?:(?:\s+|T)(?<hour>[0-9]{1,2}):(?<minute>[0-9]{2})(?::(?<second>[0-9]{2})(?<fraction>\.[0-9]{1,9})?)?)?$"
)
_COMPACT = r"^(?<year>[0-9]{4})(?<month>[0-9]{2})(?<day>[0-9]{2})$"
_SERIAL = r"^([0-9]{1,5}(?:\.[0-9]+)?)$"
_NUMBER = r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?"
_SCORE = re.compile(r"^([1-5])(?:\.0+)?分?$")
# "a 1–5 score is accepted (5,4 satisfied; 3 fair; 2,1 dissatisfied)"
SATISFACTION_SCORES = {
    "5": "satisfied",
    "4": "satisfied",
    "3": "fair",
    "2": "dissatisfied",
    "1": "dissatisfied",
}


class Normalised(NamedTuple):
    """A column as read: the typed value (null when blank or unreadable) and the rule broken, if any."""

    value: pl.Series
    problem: pl.Series


def folded(text: pl.Expr, *, ascii_only: bool = False) -> pl.Expr:
    """The cell with full-width characters folded (NFKC) and surrounding spaces removed; blank is null.

    NFKC leaves ASCII as it is: a column known to be ASCII only skips it (most code and number columns).
    """
    cell = (text if ascii_only else text.str.normalize("NFKC")).str.strip_chars()
    return pl.when(cell != "").then(cell)


def _read(
    cells: pl.Series, reader: Callable[[pl.LazyFrame], pl.LazyFrame], *, cheap: bool = False
) -> Normalised:
    """`reader` (text, folded cell -> value, problem) on the cells, or on the distinct ones when they repeat.

    A `cheap` reader (trimming, upper-casing) costs less per row than finding the distinct cells.
    """
    text = cells.cast(pl.Utf8).rename("text")
    repeated = not cheap and text.approx_n_unique() * 2 < text.len()
    rows = pl.DataFrame({"text": text.unique() if repeated else text})
    ascii_only = not rows["text"].str.contains(r"[^\x00-\x7F]").any()
    cell = folded(pl.col("text"), ascii_only=ascii_only)
    read = reader(rows.lazy().with_columns(cell=cell)).select("text", "value", "problem").collect()
    if repeated:
        read = text.to_frame().join(read, on="text", how="left", maintain_order="left", nulls_equal=True)
    return Normalised(read["value"].rename(cells.name), read["problem"].rename(cells.name))


def _unreadable(rule: str) -> pl.Expr:
    return pl.when(pl.col("cell").is_not_null() & pl.col("value").is_null()).then(pl.lit(rule))


def _no_problem() -> pl.Expr:
    return pl.lit(None, dtype=pl.Utf8)


def as_text(cells: pl.Series) -> Normalised:
    """Free text, kept as written but for surrounding spaces; blank is null."""
    value = pl.col("text").str.strip_chars()
    return _read(
        cells,
        lambda rows: rows.with_columns(value=pl.when(value != "").then(value), problem=_no_problem()),
        cheap=True,
    )


def as_code(cells: pl.Series) -> Normalised:
    """A code: "codes with surrounding spaces or lower case (`d0012 ` is `D0012`)"."""
    return _read(
        cells,
        lambda rows: rows.with_columns(value=pl.col("cell").str.to_uppercase(), problem=_no_problem()),
        cheap=True,
    )


def as_phone(cells: pl.Series) -> Normalised:
    """Digits only: "phone numbers with spaces, dashes, `+86` or a leading `0086`"; `13812345678.0` too.

    Dialled from abroad a landline drops its trunk 0 (`+86 10 8888 6666` is `010 8888 6666`): after the
    country code, a number that is not an 11-digit mobile gets its 0 back.
    """
    written = pl.col("cell").str.replace(r"^([0-9]+)\.0+$", "$1").str.replace_all(r"[\s\-()]", "")
    national = written.str.replace(r"^(?:\+86|0086)", "")
    abroad_landline = (
        written.str.contains(r"^(?:\+86|0086)")
        & national.str.contains(r"^[1-9]")
        & national.str.contains(r"^1[0-9]{10}$").not_()
    )
    digits = pl.when(abroad_landline).then(pl.lit("0") + national).otherwise(national)
    return _read(
        cells,
        lambda rows: (
            rows.with_columns(digits=digits)
            .with_columns(value=pl.when(pl.col("digits").str.contains(r"^[0-9]+$")).then(pl.col("digits")))
            .with_columns(problem=_unreadable("not_a_phone"))
        ),
    )


def _part(name: str) -> pl.Expr:
    return pl.coalesce(pl.col("written").struct.field(name), pl.col("compact").struct.field(name))


def _time_part(name: str, blank: str) -> pl.Expr:
    return pl.col("written").struct.field(name).fill_null(blank)


def _moments(rows: pl.LazyFrame) -> pl.LazyFrame:
    """Adds `moment`: "`2024-03-05`, `2024/3/5`, `2024.3.5`, `20240305`, `2024年3月5日`", times, serials."""
    iso = pl.concat_str(
        _part("year"),
        pl.lit("-"),
        _part("month").str.zfill(2),
        pl.lit("-"),
        _part("day").str.zfill(2),
        pl.lit(" "),
        _time_part("hour", "0").str.zfill(2),
        pl.lit(":"),
        _time_part("minute", "00"),
        pl.lit(":"),
        _time_part("second", "00"),
        _time_part("fraction", ""),
    )
    serial = pl.col("serial")
    milliseconds = (serial * 86_400_000).round().cast(pl.Int64)
    from_serial = pl.when(serial.is_between(SERIAL_FIRST, SERIAL_LAST + 1, closed="left")).then(
        pl.lit(EXCEL_EPOCH, dtype=DATETIME_US) + pl.duration(milliseconds=milliseconds)
    )
    return rows.with_columns(
        written=pl.col("cell").str.extract_groups(_CALENDAR),
        compact=pl.col("cell").str.extract_groups(_COMPACT),
        serial=pl.col("cell").str.extract(_SERIAL, 1).cast(pl.Float64),
    ).with_columns(
        moment=pl.coalesce(iso.str.strptime(DATETIME_US, "%Y-%m-%d %H:%M:%S%.f", strict=False), from_serial)
    )


def as_date(cells: pl.Series) -> Normalised:
    """A date in any listed form (a time with it is dropped); 2024-02-30 or 03/05/2024 is rejected."""
    return _read(
        cells,
        lambda rows: (
            _moments(rows)
            .with_columns(value=pl.col("moment").dt.date())
            .with_columns(problem=_unreadable("not_a_date"))
        ),
    )


def as_datetime(cells: pl.Series) -> Normalised:
    """A date and time, `HH:MM[:SS]` after any accepted date form; "a date alone is accepted (time 00:00)"."""
    return _read(
        cells,
        lambda rows: (
            _moments(rows)
            .with_columns(value=pl.col("moment"))
            .with_columns(problem=_unreadable("not_a_datetime"))
        ),
    )


def _numbers(rows: pl.LazyFrame, units: Iterable[str]) -> pl.LazyFrame:
    """Adds `number`: the number's text without thousands separators or unit (`12,000 km` is `12000`)."""
    unit = "|".join(re.escape(u) for u in sorted(units, key=len, reverse=True))
    pattern = rf"(?i)^(?:(?:{unit})\s*)?({_NUMBER})(?:\s*(?:{unit}))?$" if unit else rf"^({_NUMBER})$"
    return rows.with_columns(number=pl.col("cell").str.extract(pattern, 1).str.replace_all(",", ""))


def _number_problem(imprecise: pl.Expr, rule: str) -> pl.Expr:
    """`rule` for a number written more precisely than the column holds, else "not a number"."""
    return (
        pl.when(pl.col("cell").is_null())
        .then(_no_problem())
        .when(pl.col("number").is_not_null() & imprecise)
        .then(pl.lit(rule))
        .when(pl.col("value").is_null())
        .then(pl.lit("not_a_number"))
    )


def as_int(cells: pl.Series, units: Iterable[str] = ()) -> Normalised:
    """A whole number: `12.0` is 12, `12.5` is rejected; separators, full-width digits and units tolerated."""
    whole = pl.col("number").str.contains(r"^[+-]?[0-9]+(?:\.0+)?$")
    value = pl.col("number").str.replace(r"\.0+$", "").cast(pl.Int64, strict=False)
    return _read(
        cells,
        lambda rows: (
            _numbers(rows, units)
            .with_columns(whole=whole)
            .with_columns(value=pl.when(pl.col("whole")).then(value))
            .with_columns(problem=_number_problem(pl.col("whole").not_(), "not_whole_number"))
        ),
    )


def as_decimal(cells: pl.Series, units: Iterable[str] = ()) -> Normalised:
    """A decimal to the cent: 12.345 is rejected, not rounded; float noise (`0.30000000000000004`) is 0.30."""
    places = pl.col("number").str.extract(r"\.([0-9]+)$", 1).str.len_chars().fill_null(0)
    cents = pl.col("number").cast(pl.Float64, strict=False) * 100
    rounded = cents.round().cast(pl.Int64, strict=False).cast(DECIMAL, strict=False) / 100
    value = (
        pl.when(pl.col("places") <= 2)
        .then(pl.col("number").cast(DECIMAL, strict=False))
        .when(pl.col("noise_only"))
        .then(rounded.cast(DECIMAL))
    )
    return _read(
        cells,
        lambda rows: (
            _numbers(rows, units)
            .with_columns(places=places, noise_only=(cents - cents.round()).abs() <= 1e-6)
            .with_columns(value=value)
            .with_columns(
                problem=_number_problem(
                    (pl.col("places") > 2) & pl.col("noise_only").not_(), "too_many_decimals"
                )
            )
        ),
    )


def _looked_up(
    cells: pl.Series, lookup: Callable[[str], object], dtype: pl.DataType, rule: str
) -> Normalised:
    """`lookup` on each distinct folded cell (a label table, so per-value Python is fine)."""

    def reader(rows: pl.LazyFrame) -> pl.LazyFrame:
        labels = rows.select("cell").collect().to_series().drop_nulls().unique().to_list()
        mapping = {label: lookup(label) for label in labels}
        value = pl.col("cell").replace_strict(mapping, default=None, return_dtype=dtype)
        return rows.with_columns(value=value).with_columns(problem=_unreadable(rule))

    return _read(cells, reader)


def as_bool(cells: pl.Series, aliases: Aliases) -> Normalised:
    """Yes/no as `是/否`, `Y/N`, `yes/no`, `true/false`, `1/0`, `√/×` (the alias table's booleans)."""

    def lookup(label: str) -> bool | None:
        return aliases.boolean(re.sub(r"^([01])\.0+$", r"\1", label))

    return _looked_up(cells, lookup, pl.Boolean, "not_yes_no")


def as_enum(cells: pl.Series, enum_name: str, aliases: Aliases) -> Normalised:
    """The canonical code of a label in Chinese, English or a listed synonym (`Aliases.enum_code`)."""
    return _looked_up(cells, lambda label: aliases.enum_code(enum_name, label), pl.Utf8, "not_in_list")


def as_satisfaction(cells: pl.Series, aliases: Aliases) -> Normalised:
    """Satisfaction as a label, or "a 1–5 score (5,4 satisfied; 3 fair; 2,1 dissatisfied)"."""

    def lookup(label: str) -> str | None:
        score = _SCORE.match(label)
        return SATISFACTION_SCORES[score.group(1)] if score else aliases.enum_code("satisfaction", label)

    return _looked_up(cells, lookup, pl.Utf8, "not_in_list")


def as_part_numbers(cells: pl.Series) -> pl.Series:
    """The part numbers of a `parts_used` cell: "separated by `,` `;` `、` or spaces", as codes."""
    return (
        cells.cast(pl.Utf8)
        .to_frame("text")
        .select(
            folded(pl.col("text"))
            .str.to_uppercase()
            .str.replace_all(r"[,;、\s]+", " ")
            .str.strip_chars()
            .str.split(" ")
        )
        .to_series()
        .rename(cells.name)
    )


def as_column(column: Column, cells: pl.Series, aliases: Aliases) -> Normalised:
    """The normaliser the contract's type of `column` calls for."""
    units = UNITS.get(column.name, ())
    if column.type == DATE:
        return as_date(cells)
    if column.type == DATETIME:
        return as_datetime(cells)
    if column.type == INT:
        return as_int(cells, units)
    if column.type == DEC:
        return as_decimal(cells, units)
    if column.type == BOOL:
        return as_bool(cells, aliases)
    if column.type == ENUM and column.enum is not None:
        if column.enum.name == "satisfaction":
            return as_satisfaction(cells, aliases)
        return as_enum(cells, column.enum.name, aliases)
    if column.name in CODE_FIELDS:
        return as_code(cells)
    if column.name in PHONE_FIELDS:
        return as_phone(cells)
    return as_text(cells)


def with_derived_fields(
    kind: str, rows: pl.DataFrame, *, warranty_months: int, parts: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Blank cells given their default, and the fields derived from the row itself (or the parts list).

    - customers: "warranty_end, when blank, purchase_date + the configured warranty months"
    - service_visits: "next_maintenance_date, when blank and a cycle is given, pickup (or intake) + cycle"
    - parts: "the seven named components are critical by default"
    - part_failures: "component, when blank, the part's component in `parts`" (when parts are given)
    - DEFAULTS: direction outbound, severity medium, shipped_correct true, active true
    """
    filled = [pl.col(name).fill_null(pl.lit(default)) for name, default in DEFAULTS.get(kind, {}).items()]
    if kind == "customers":
        warranty_end = pl.col("purchase_date").dt.offset_by(f"{warranty_months}mo")
        filled.append(pl.col("warranty_end").fill_null(warranty_end))
    elif kind == "service_visits":
        base = pl.coalesce("pickup_date", "intake_date")
        next_date = base + pl.duration(days=pl.col("maintenance_cycle_days"))
        filled.append(pl.col("next_maintenance_date").fill_null(next_date))
    elif kind == "parts":
        filled.append(pl.col("critical").fill_null(pl.col("component").is_in(CRITICAL_COMPONENTS)))
    elif kind == "part_failures" and parts is not None:
        components = pl.DataFrame(
            {"part_no": as_code(parts["part_no"]).value, "_part_component": parts["component"]}
        ).unique("part_no", keep="first")
        rows = rows.join(components, on="part_no", how="left", maintain_order="left")
        filled.append(pl.col("component").fill_null(pl.col("_part_component")))
        return rows.with_columns(filled).drop("_part_component")
    return rows.with_columns(filled) if filled else rows

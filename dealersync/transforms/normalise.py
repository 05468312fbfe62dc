"""Pure polars normalisers: a sheet's text cells to typed values, with a rejection reason when unreadable."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
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
    EXCEL_ERROR_CELLS,
    INT,
    PHONE_FIELDS,
    STR,
    UNITS,
    Column,
    is_excel_error,
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

# Excel counts days from 1899-12-30 (the 1900 leap-year bug included), or from 1904-01-01 in a workbook
# of the 1904 date system (an old Mac one). A date is accepted from 1950 to 2099 only, in any form: a bare
# number outside that range in a date column is not guessed at, and a date written outside it is a typo
# (0224-03-05, 2204-03-05) that no after-sales record holds; year 0 would not even reach Python.
EXCEL_EPOCH = datetime(1899, 12, 30)
EXCEL_EPOCH_1904 = datetime(1904, 1, 1)
DATE_RANGE = (datetime(1950, 1, 1), datetime(2100, 1, 1))

# A date, alone or followed by a time after a space, a T, or straight after its 日 (2024年3月5日14:30).
_CALENDAR = (
    r"^(?<year>[0-9]{4})\s*[-/.年]\s*(?<month>[0-9]{1,2})\s*[-/.月]\s*(?<day>[0-9]{1,2})"
    r"(?:\s*[日号]?|(?:\s*[日号]?(?:\s+|T)|\s*[日号])(?<meridiem>上午|下午|晚上|中午|凌晨|早上)?\s*(?<hour>[0-9]{1,2})\s*(?::|时|點|点)\s*(?<minute>[0-9]{2})"
    r"(?::(?<second>[0-9]{2})(?<fraction>\.[0-9]{1,9})?|\s*分(?:\s*(?<second_zh>[0-9]{2})\s*秒)?)?"
    r"(?:\s*(?<ampm>[AaPp][Mm]))?)$"
)
# Hours written on a 12-hour clock: "下午3:30" (Excel's and WPS's Chinese display) and "3:30 PM" are 15:30.
_AFTERNOON, _MORNING = ("下午", "晚上", "PM"), ("上午", "凌晨", "早上", "AM")
_AS_EXCEL_SHOWS = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"  # a date cell, from calamine
_ISO = "%Y-%m-%d %H:%M:%S%.f"
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


# A column's working values inside `read_columns`, by local name: "text" (as written), "cell" (folded,
# blank as null), whatever a reader computes on the way, and the "value" and "problem" it ends with.
Local = Callable[[str], pl.Expr]
# A reader: the steps that compute a column's "value" and "problem", each step a set of named expressions
# over the locals the earlier steps made (polars does not reliably share a repeated sub-expression, so a
# regex whose groups are used several times is a step of its own).
Reader = Callable[[Local], list[dict[str, pl.Expr]]]


class LookedUp(NamedTuple):
    """A column read through a label table: `lookup` runs once per distinct cell, in Python."""

    lookup: Callable[[str], object]
    dtype: pl.DataType
    rule: str


_NON_ASCII = r"[^\x00-\x7F]"
PROBLEM = "problem:"  # prefix of a column's problem in `read_columns`' result


# Characters that show as nothing, pasted along from web pages and chat apps: soft hyphen, zero-width
# spaces and joiners, direction marks, word joiner, byte-order mark. Nobody means them; NFKC keeps them.
INVISIBLE = "[\u00ad\u200b-\u200f\u2060-\u2064\ufeff]"


def folded(text: pl.Expr, *, ascii_only: bool = False) -> pl.Expr:
    """The cell with full-width characters folded (NFKC), invisible characters and surrounding spaces
    removed; blank is null.

    NFKC leaves ASCII as it is: a column known to be ASCII only skips it (most code and number columns).
    """
    if not ascii_only:
        text = text.str.normalize("NFKC").str.replace_all(INVISIBLE, "")
    cell = text.str.strip_chars()
    return pl.when(cell != "").then(cell)


def read_columns(frame: pl.DataFrame, readers: dict[str, Reader | LookedUp]) -> pl.DataFrame:
    """Each named column of `frame` read by its reader: its value under its name, its problem as PROBLEM+name.

    Two queries in all, however many columns: the first finds which columns are ASCII only and the
    distinct cells of looked-up columns; the second reads every column at once, step by step.
    """
    if not readers:
        return pl.DataFrame()
    text = {name: pl.col(name).cast(pl.Utf8) for name in readers}
    looked_up = {name: reader for name, reader in readers.items() if isinstance(reader, LookedUp)}
    facts = frame.select(
        *(text[name].str.contains(_NON_ASCII).any().alias(name) for name in readers if name not in looked_up),
        *(
            pl.struct(
                text=text[name].unique(maintain_order=True),
                cell=folded(text[name].unique(maintain_order=True)),
            )
            .implode()
            .alias(name)
            for name in looked_up
        ),
    ).row(0, named=True)

    steps: list[list[pl.Expr]] = []
    for name, reader in readers.items():

        def local(part: str, name: str = name) -> pl.Expr:
            return pl.col(f"{name}\x00{part}")

        if isinstance(reader, LookedUp):
            own = [{"text": text[name]}, _looked_up(local, reader, facts[name])]
        else:
            own = [
                {"text": text[name]},
                {"cell": folded(local("text"), ascii_only=not facts[name])},
                *reader(local),
                _excel_error(local),
            ]
        for position, step in enumerate(own):
            if position == len(steps):
                steps.append([])
            steps[position] += [expr.alias(f"{name}\x00{part}") for part, expr in step.items()]
    rows = frame.lazy()
    for step in steps:
        rows = rows.with_columns(step)
    # polars 2 runs a query on its streaming engine unless told otherwise; for one sheet's columns, read
    # whole in memory, the in-memory engine costs less (checking a night's files takes a tenth less time)
    return rows.select(
        *(pl.col(f"{name}\x00value").alias(name) for name in readers),
        *(pl.col(f"{name}\x00problem").alias(PROBLEM + name) for name in readers),
    ).collect(engine="in-memory")


def _excel_error(local: Local) -> dict[str, pl.Expr]:
    """A cell showing an Excel error (`#N/A` of a failed VLOOKUP) has no value, whatever the column holds.

    Read as text it would load `#N/A` as a customer number or a name: "what cannot be read unambiguously
    is not guessed".
    """
    error = local("cell").is_in(EXCEL_ERROR_CELLS)  # as written: far cheaper than upper-casing every cell
    return {
        "value": pl.when(error.not_()).then(local("value")),
        "problem": pl.when(error).then(pl.lit("excel_error")).otherwise(local("problem")),
    }


def _looked_up(local: Local, reader: LookedUp, distinct: list[dict]) -> dict[str, pl.Expr]:
    """A label table's reading: each distinct text mapped to its value, the unreadable ones to the rule."""
    cells = {d["text"]: d["cell"] for d in distinct if d["cell"] is not None}
    values = {
        written: None if is_excel_error(cell) else reader.lookup(cell) for written, cell in cells.items()
    }
    problems = {
        written: "excel_error" if is_excel_error(cells[written]) else reader.rule
        for written, value in values.items()
        if value is None
    }
    return {
        "value": local("text").replace_strict(values, default=None, return_dtype=reader.dtype),
        "problem": local("text").replace_strict(problems, default=None, return_dtype=pl.Utf8),
    }


def _read(cells: pl.Series, reader: Reader | LookedUp) -> Normalised:
    """One column read on its own (`read_columns` reads a sheet's columns together)."""
    read = read_columns(cells.cast(pl.Utf8).to_frame("cell"), {"cell": reader})
    return Normalised(read["cell"].rename(cells.name), read[PROBLEM + "cell"].rename(cells.name))


def _unreadable(local: Local, rule: str) -> dict[str, pl.Expr]:
    cell, value = local("cell"), local("value")
    return {"problem": pl.when(cell.is_not_null() & value.is_null()).then(pl.lit(rule))}


def _no_problem() -> pl.Expr:
    return pl.lit(None, dtype=pl.Utf8)


def text_reader(local: Local) -> list[dict[str, pl.Expr]]:
    """Free text, kept as written but for surrounding spaces and invisible characters; blank is null."""
    value = local("text").str.replace_all(INVISIBLE, "").str.strip_chars()
    return [{"value": pl.when(value != "").then(value), "problem": _no_problem()}]


def code_reader(local: Local) -> list[dict[str, pl.Expr]]:
    """A code: "codes with surrounding spaces or lower case (`d0012 ` is `D0012`)"."""
    return [{"value": local("cell").str.to_uppercase(), "problem": _no_problem()}]


def phone_reader(local: Local) -> list[dict[str, pl.Expr]]:
    """Digits only: "phone numbers with spaces, dashes, `+86` or a leading `0086`"; `13812345678.0` too.

    Dialled from abroad a landline drops its trunk 0 (`+86 10 8888 6666` is `010 8888 6666`): after the
    country code, a number that is not an 11-digit mobile gets its 0 back.
    """
    written = local("cell").str.replace(r"^([0-9]+)\.0+$", "$1").str.replace_all(r"[\s\-()]", "")
    national = local("written").str.replace(r"^(?:\+86|0086)", "")
    abroad_landline = (
        local("written").str.contains(r"^(?:\+86|0086)")
        & national.str.contains(r"^[1-9]")
        & national.str.contains(r"^1[0-9]{10}$").not_()
    )
    digits = pl.when(abroad_landline).then(pl.lit("0") + national).otherwise(national)
    return [
        {"written": written},
        {"digits": digits},
        {"value": pl.when(local("digits").str.contains(r"^[0-9]+$")).then(local("digits"))},
        _unreadable(local, "not_a_phone"),
    ]


def contact_phone_reader(local: Local) -> list[dict[str, pl.Expr]]:
    """An optional phone for reference (a dealer's): its digits when it is one number, else as written.

    `0512-66668888转8001` or two numbers in one cell are still a dealer's phone; rejecting them would
    reject the dealer, and with it every row of the dealer's own files.
    """
    return [
        *phone_reader(local)[:-1],
        {"value": pl.coalesce(local("value"), local("cell")), "problem": _no_problem()},
    ]


def _moment(local: Local, epoch: datetime) -> list[dict[str, pl.Expr]]:
    """Adds "moment": "`2024-03-05`, `2024/3/5`, `2024.3.5`, `20240305`, `2024年3月5日`", times, serials
    (days since the workbook's `epoch`)."""

    def part(name: str) -> pl.Expr:
        return pl.coalesce(local("written").struct.field(name), local("compact").struct.field(name))

    def time_part(name: str, blank: str) -> pl.Expr:
        return local("written").struct.field(name).fill_null(blank)

    written = local("written")
    half = pl.coalesce(written.struct.field("meridiem"), written.struct.field("ampm").str.to_uppercase())
    hour = time_part("hour", "0").cast(pl.Int32)
    hour = (
        pl.when(half.is_in(_AFTERNOON) & (hour < 12))
        .then(hour + 12)
        .when(half.is_in(_MORNING) & (hour == 12))
        .then(0)
        .when((half == "中午") & (hour < 11))  # 中午1点 is 13:00, 中午11点半 11:30
        .then(hour + 12)
        .otherwise(hour)
    )

    iso = pl.concat_str(
        part("year"),
        pl.lit("-"),
        part("month").str.zfill(2),
        pl.lit("-"),
        part("day").str.zfill(2),
        pl.lit(" "),
        hour.cast(pl.Utf8).str.zfill(2),
        pl.lit(":"),
        time_part("minute", "00"),
        pl.lit(":"),
        pl.coalesce(written.struct.field("second"), written.struct.field("second_zh")).fill_null("00"),
        time_part("fraction", ""),
    )
    serial = local("serial")
    milliseconds = (serial * 86_400_000).round().cast(pl.Int64)
    from_serial = pl.lit(epoch, dtype=DATETIME_US) + pl.duration(milliseconds=milliseconds)
    # A date Excel holds comes from calamine as `2024-03-05 00:00:00`: most cells. Such a cell is the text
    # the calendar's groups would make of it, and is read at once; only the others go through the
    # patterns (a regex skips a null cell): a column of such dates reads four times as fast.
    cell, shown = local("cell"), local("shown")
    rest = pl.when(shown.is_null()).then(cell)
    return [
        {
            "shown": pl.when(cell.str.contains(_AS_EXCEL_SHOWS)).then(
                cell.str.strptime(DATETIME_US, _ISO, strict=False)
            )
        },
        {
            "written": rest.str.extract_groups(_CALENDAR),
            "compact": rest.str.extract_groups(_COMPACT),
            "serial": rest.str.extract(_SERIAL, 1).cast(pl.Float64),
        },
        {"read": pl.coalesce(shown, iso.str.strptime(DATETIME_US, _ISO, strict=False), from_serial)},
        {"moment": pl.when(local("read").is_between(*DATE_RANGE, closed="left")).then(local("read"))},
    ]


def date_reader(epoch: datetime = EXCEL_EPOCH) -> Reader:
    """A date in any listed form (a time with it is dropped); 2024-02-30 or 03/05/2024 is rejected."""

    def reader(local: Local) -> list[dict[str, pl.Expr]]:
        return [
            *_moment(local, epoch),
            {"value": local("moment").dt.date()},
            _unreadable(local, "not_a_date"),
        ]

    return reader


def datetime_reader(epoch: datetime = EXCEL_EPOCH) -> Reader:
    """A date and time, `HH:MM[:SS]` after any accepted date form; "a date alone is accepted (time 00:00)"."""

    def reader(local: Local) -> list[dict[str, pl.Expr]]:
        return [*_moment(local, epoch), {"value": local("moment")}, _unreadable(local, "not_a_datetime")]

    return reader


def _number(local: Local, units: Iterable[str]) -> dict[str, pl.Expr]:
    """Adds "number": the number's text without thousands separators or unit (`12,000 km` is `12000`)."""
    unit = "|".join(re.escape(u) for u in sorted(units, key=len, reverse=True))
    pattern = rf"(?i)^(?:(?:{unit})\s*)?({_NUMBER})(?:\s*(?:{unit}))?$" if unit else rf"^({_NUMBER})$"
    return {"number": local("cell").str.extract(pattern, 1).str.replace_all(",", "")}


def _number_problem(local: Local, imprecise: pl.Expr, rule: str) -> dict[str, pl.Expr]:
    """`rule` for a number written more precisely than the column holds, else "not a number"."""
    problem = (
        pl.when(local("cell").is_null())
        .then(_no_problem())
        .when(local("number").is_not_null() & imprecise)
        .then(pl.lit(rule))
        .when(local("value").is_null())
        .then(pl.lit("not_a_number"))
    )
    return {"problem": problem}


def int_reader(units: Iterable[str] = ()) -> Reader:
    """A whole number: `12.0` is 12, `12.5` is rejected; separators, full-width digits and units tolerated."""

    def reader(local: Local) -> list[dict[str, pl.Expr]]:
        number = local("number")
        value = number.str.replace(r"\.0+$", "").cast(pl.Int64, strict=False)
        return [
            _number(local, units),
            {"whole": number.str.contains(r"^[+-]?[0-9]+(?:\.0+)?$")},
            {"value": pl.when(local("whole")).then(value)},
            _number_problem(local, local("whole").not_(), "not_whole_number"),
        ]

    return reader


def decimal_reader(units: Iterable[str] = ()) -> Reader:
    """A decimal to the cent: 12.345 is rejected, not rounded; float noise (`0.30000000000000004`) is 0.30."""

    def reader(local: Local) -> list[dict[str, pl.Expr]]:
        number = local("number")
        cents = number.cast(pl.Float64, strict=False) * 100
        rounded = cents.round().cast(pl.Int64, strict=False).cast(DECIMAL, strict=False) / 100
        places, noise_only = local("places"), local("noise_only")
        value = (
            pl.when(places <= 2)
            .then(number.cast(DECIMAL, strict=False))
            .when(noise_only)
            .then(rounded.cast(DECIMAL))
        )
        return [
            _number(local, units),
            {
                "places": number.str.extract(r"\.([0-9]+)$", 1).str.len_chars().fill_null(0),
                "noise_only": (cents - cents.round()).abs() <= 1e-6,
            },
            {"value": value},
            _number_problem(local, (places > 2) & noise_only.not_(), "too_many_decimals"),
        ]

    return reader


def bool_reader(aliases: Aliases) -> LookedUp:
    """Yes/no as `是/否`, `Y/N`, `yes/no`, `true/false`, `1/0`, `√/×` (the alias table's booleans)."""

    def lookup(label: str) -> bool | None:
        return aliases.boolean(re.sub(r"^([01])\.0+$", r"\1", label))

    return LookedUp(lookup, pl.Boolean, "not_yes_no")


def enum_reader(enum_name: str, aliases: Aliases) -> LookedUp:
    """The canonical code of a label in Chinese, English or a listed synonym (`Aliases.enum_code`)."""
    return LookedUp(lambda label: aliases.enum_code(enum_name, label), pl.Utf8, "not_in_list")


def satisfaction_reader(aliases: Aliases) -> LookedUp:
    """Satisfaction as a label, or "a 1–5 score (5,4 satisfied; 3 fair; 2,1 dissatisfied)"."""

    def lookup(label: str) -> str | None:
        score = _SCORE.match(label)
        return SATISFACTION_SCORES[score.group(1)] if score else aliases.enum_code("satisfaction", label)

    return LookedUp(lookup, pl.Utf8, "not_in_list")


def column_reader(column: Column, aliases: Aliases, *, date1904: bool = False) -> Reader | LookedUp:
    """The reader the contract's type of `column` calls for (`date1904`: the workbook counts days from 1904)."""
    units = UNITS.get(column.name, ())
    epoch = EXCEL_EPOCH_1904 if date1904 else EXCEL_EPOCH
    if column.type == DATE:
        return date_reader(epoch)
    if column.type == DATETIME:
        return datetime_reader(epoch)
    if column.type == INT:
        return int_reader(units)
    if column.type == DEC:
        return decimal_reader(units)
    if column.type == BOOL:
        return bool_reader(aliases)
    if column.type == ENUM and column.enum is not None:
        if column.enum.name == "satisfaction":
            return satisfaction_reader(aliases)
        return enum_reader(column.enum.name, aliases)
    if column.name in CODE_FIELDS:
        return code_reader
    if column.name in PHONE_FIELDS:
        return phone_reader if column.required else contact_phone_reader
    return text_reader


# One column on its own, by its type (a sheet's columns are read together by `read_columns`).
def as_text(cells: pl.Series) -> Normalised:
    return _read(cells, text_reader)


def as_code(cells: pl.Series) -> Normalised:
    return _read(cells, code_reader)


def as_phone(cells: pl.Series) -> Normalised:
    return _read(cells, phone_reader)


def as_date(cells: pl.Series) -> Normalised:
    return _read(cells, date_reader())


def as_datetime(cells: pl.Series) -> Normalised:
    return _read(cells, datetime_reader())


def as_int(cells: pl.Series, units: Iterable[str] = ()) -> Normalised:
    return _read(cells, int_reader(units))


def as_decimal(cells: pl.Series, units: Iterable[str] = ()) -> Normalised:
    return _read(cells, decimal_reader(units))


def as_bool(cells: pl.Series, aliases: Aliases) -> Normalised:
    return _read(cells, bool_reader(aliases))


def as_enum(cells: pl.Series, enum_name: str, aliases: Aliases) -> Normalised:
    return _read(cells, enum_reader(enum_name, aliases))


def as_satisfaction(cells: pl.Series, aliases: Aliases) -> Normalised:
    return _read(cells, satisfaction_reader(aliases))


def as_column(column: Column, cells: pl.Series, aliases: Aliases) -> Normalised:
    """The column read as the contract's type of `column` calls for."""
    return _read(cells, column_reader(column, aliases))


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


def with_derived_fields(
    kind: str, rows: pl.DataFrame, *, warranty_months: int, parts: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Blank cells given their default, and the fields derived from the row itself (or the parts list).

    - customers: "warranty_end, when blank, purchase_date + the configured warranty months"
    - service_visits: "next_maintenance_date, when blank and a cycle is given, pickup (or intake) + cycle"
    - parts: "the seven named components are critical by default"
    - part_failures: "component, when blank, the part's component in `parts`" (when parts are given, their part_no read as codes: `Refs` does that)
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
        components = parts.select("part_no", _part_component="component").unique("part_no", keep="first")
        rows = rows.join(components, on="part_no", how="left", maintain_order="left")
        filled.append(pl.col("component").fill_null(pl.col("_part_component")))
        return rows.with_columns(filled).drop("_part_component")
    return rows.with_columns(filled) if filled else rows

"""Check sheets: normalise their cells, apply their models, key and reference lists; clean rows and problems."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from dealersync.schemas.aliases import Aliases
from dealersync.schemas.contract import (
    CUSTOMER_ATTRIBUTES,
    CUSTOMER_KEY,
    EXCEL_ROW,
    PROBLEM_COLUMNS,
    REFERENCE,
    SHEETS,
    VEHICLE_KEY,
    Column,
    Sheet,
)
from dealersync.schemas.messages import RULES, message_expr
from dealersync.schemas.models import (
    COMPARED_WITH,
    SHEET_PART,
    WARNING_MODELS,
    broken_rules,
    highest_earlier_mileage,
    rejection_model,
)
from dealersync.transforms.normalise import (
    DTYPES,
    PROBLEM,
    as_code,
    as_part_numbers,
    column_reader,
    read_columns,
    with_derived_fields,
)

_INDEX = "_index"
_PART = SHEET_PART  # which sheet a row is of (its position among those checked together)
_FILE = "_file"  # which file a row is of (ToCheck.file)
# One problem before it is put into words: the row (its position in the sheet frame), the field
# ("" for the row as a whole), the rule, and what the message shows when it is not the cell itself.
_ISSUE_SCHEMA = {
    _INDEX: pl.UInt32,
    "field": pl.Utf8,
    "rule": pl.Utf8,
    "value": pl.Utf8,
    "other_value": pl.Utf8,
    "row": pl.Utf8,
}
_NO_ISSUES = pl.DataFrame(schema=_ISSUE_SCHEMA)
# An issue in words (with its index), before the row's own facts join it.
_WORDED = ("field", "rule", "column_name", "cell_value", "message", "message_zh")


@dataclass(frozen=True)
class Refs:
    """Known reference codes; a None member means "that check is skipped".

    Codes are normalised as a sheet's are (`d0012 ` is `D0012`) once, here, not for every sheet checked.
    """

    dealers: pl.DataFrame | None = None  # columns dealer_code, region
    parts: pl.DataFrame | None = None  # columns part_no, component
    campaigns: pl.DataFrame | None = None  # column campaign_id

    def __post_init__(self) -> None:
        for member, code in (("dealers", "dealer_code"), ("parts", "part_no"), ("campaigns", "campaign_id")):
            codes = getattr(self, member)
            if codes is not None:
                object.__setattr__(self, member, codes.with_columns(as_code(codes[code]).value))


@dataclass
class SheetChecked:
    """A checked sheet: the rows that load, typed, and every rejection and warning."""

    clean: pl.DataFrame  # excel_row + every contract column of the kind, typed, derived fields filled
    problems: pl.DataFrame  # schemas.contract.PROBLEM_COLUMNS, rejections and warnings


@dataclass(frozen=True)
class ToCheck:
    """One sheet as the reader hands it over (text cells + excel_row), with what its messages name."""

    frame: pl.DataFrame
    sheet: str
    headers: dict[str, str]  # field -> the column's header as the sheet wrote it
    date1904: bool = False  # the workbook counts its date serials from 1904
    file: int = 0  # the sheets of one file share its business keys


def check_sheet(
    kind: str,
    frame: pl.DataFrame,
    *,
    sheet: str,
    headers: dict[str, str],
    today: date,
    aliases: Aliases,
    refs: Refs = Refs(),
    warranty_months: int = 24,
    date1904: bool = False,
) -> SheetChecked:
    """Normalise, validate and key-check one sheet as the reader hands it over (text cells + excel_row)."""
    (checked,) = check_sheets(
        kind,
        [ToCheck(frame, sheet, headers, date1904)],
        today=today,
        aliases=aliases,
        refs=refs,
        warranty_months=warranty_months,
    )
    return checked


def check_sheets(
    kind: str,
    sheets: Sequence[ToCheck],
    *,
    today: date,
    aliases: Aliases,
    refs: Refs = Refs(),
    warranty_months: int = 24,
) -> list[SheetChecked]:
    """Check sheets of one kind, of one or many files, in one pass over all their rows; one result each.

    A sheet is checked as if alone (its messages name its own headers, rows are compared with rows of
    the same sheet), but for its business keys, which are its file's: a row repeating a key of an
    earlier sheet of the same file (in the order given) is rejected as a key repeated inside one sheet
    is. Checking a night's sheets together costs a fraction of checking them one by one: each polars
    query has a fixed cost of milliseconds, paid here once per kind rather than once per sheet.
    """
    if not sheets:
        return []
    by_system = {system: [s for s in sheets if s.date1904 == system] for system in (False, True)}
    if by_system[False] and by_system[True]:  # a workbook's date system is its own: files never mix
        checked = {
            id(sheet): result
            for group in by_system.values()
            for sheet, result in zip(
                group,
                check_sheets(
                    kind, group, today=today, aliases=aliases, refs=refs, warranty_months=warranty_months
                ),
                strict=True,
            )
        }
        return [checked[id(sheet)] for sheet in sheets]
    spec = SHEETS[kind]
    raw = _stacked(spec, sheets)
    present = [column.name for column in spec.columns if column.name in raw.columns]
    typed, read_issues = _normalised(spec, raw, present, aliases, sheets[0].date1904)

    missing_issues = [
        _issues(raw.filter(pl.col(_PART) == part).select(_INDEX), field=name, rule="missing_column")
        for part, sheet in enumerate(sheets)
        for name in spec.required
        if name not in sheet.frame.columns
    ]
    model_issues = _positions(broken_rules(rejection_model(kind, today), typed), typed).join(
        pl.concat([read_issues, *missing_issues]).select(_INDEX, "field"),
        on=[_INDEX, "field"],
        how="anti",
    )
    business_key = typed.select(_INDEX, _business_key(spec).alias("key"))
    rejections = pl.concat(
        [
            read_issues,
            *missing_issues,
            _issues(model_issues),
            _duplicates(business_key, typed, sheets),
            *_vehicles_of_two_customers(kind, typed),
            *_unknown_references(spec, typed, refs),
        ]
    )
    rejected = rejections[_INDEX].unique()
    clean = typed.filter(pl.col(_INDEX).is_in(rejected.implode()).not_())
    warnings = _warnings(kind, clean, raw, refs)

    problems = _problems(
        pl.concat([rejections, warnings]),
        spec,
        raw=raw,
        typed=typed,
        business_key=business_key,
        sheets=sheets,
        today=today,
    )
    clean_rows = with_derived_fields(
        kind, clean.drop(_INDEX, _FILE), warranty_months=warranty_months, parts=refs.parts
    )
    return [
        SheetChecked(clean=clean_part, problems=problems_part)
        for clean_part, problems_part in zip(
            _by_part(clean_rows, len(sheets)), _by_part(problems, len(sheets)), strict=True
        )
    ]


def _stacked(spec: Sheet, sheets: Sequence[ToCheck]) -> pl.DataFrame:
    """The sheets' contract columns as text, one under the other, each row with its sheet's position
    (_PART) and file, and its position in the whole (_INDEX); a column a sheet lacks is null there."""
    frames = [
        sheet.frame.select(
            pl.col(EXCEL_ROW).cast(pl.Int64),
            *(
                pl.col(column.name).cast(pl.Utf8)
                for column in spec.columns
                if column.name in sheet.frame.columns
            ),
            pl.lit(part, dtype=pl.UInt32).alias(_PART),
            pl.lit(sheet.file, dtype=pl.Int64).alias(_FILE),
        )
        for part, sheet in enumerate(sheets)
    ]
    return pl.concat(frames, how="diagonal").with_row_index(_INDEX)


def _by_part(frame: pl.DataFrame, parts: int) -> list[pl.DataFrame]:
    """`frame` split by its _PART column (dropped) into `parts` frames, empty ones included, in order."""
    split = frame.partition_by(_PART, as_dict=True, include_key=False, maintain_order=True)
    empty = frame.drop(_PART).clear()
    return [split.get((part,), empty) for part in range(parts)]


def _issues(rows: pl.DataFrame, **values: str) -> pl.DataFrame:
    """Issues for `rows` (an index column, and perhaps some issue columns), the rest given or null."""
    return rows.select(
        *(
            pl.col(name).cast(dtype)
            if name in rows.columns
            else pl.lit(values.get(name), dtype=dtype).alias(name)
            for name, dtype in _ISSUE_SCHEMA.items()
        )
    )


def _positions(broken: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """Broken rules with pandera's row position (in `rows`) turned into the sheet frame's index."""
    return broken.select(rows[_INDEX].gather(broken["index"]).alias(_INDEX), "field", "rule")


def _normalised(
    spec: Sheet, raw: pl.DataFrame, present: list[str], aliases: Aliases, date1904: bool
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every contract column typed (absent ones null), and the cells that could not be read."""
    readers = {name: column_reader(spec.column(name), aliases, date1904=date1904) for name in present}
    read = read_columns(raw, readers)
    typed = raw.select(_INDEX, EXCEL_ROW, _PART, _FILE).with_columns(
        read[column.name]
        if column.name in present
        else pl.lit(None, dtype=DTYPES[column.type]).alias(column.name)
        for column in spec.columns
    )
    unreadable = (
        pl.concat([raw.select(_INDEX), read.select(pl.col(f"^{PROBLEM}.*$"))], how="horizontal")
        .unpivot(index=_INDEX, variable_name="field", value_name="rule")
        .filter(pl.col("rule").is_not_null())
        .with_columns(pl.col("field").str.strip_prefix(PROBLEM))
    )
    return typed, _issues(unreadable)


def _business_key(spec: Sheet) -> pl.Expr:
    """The key fields as read, joined with `|`; null when any part is blank or unreadable."""
    return pl.concat_str([pl.col(name) for name in spec.key], separator="|")


def _duplicates(business_key: pl.DataFrame, typed: pl.DataFrame, sheets: Sequence[ToCheck]) -> pl.DataFrame:
    """Repeated keys: "the first row loads, each later copy is rejected (naming the row it repeats)".

    The first row is the file's, in sheet order: a key an earlier sheet of the same file holds is
    rejected in this one (naming that sheet and row); otherwise every copy after the sheet's first is.
    """
    keyed = business_key.join(typed.select(_INDEX, _PART, _FILE), on=_INDEX).filter(
        pl.col("key").is_not_null()
    )
    repeated = keyed.with_columns(first=pl.col(_INDEX).min().over(_FILE, "key")).filter(
        pl.col(_INDEX) != pl.col("first")
    )
    first_part = typed[_PART].gather(repeated["first"])
    in_file = repeated[_PART] != first_part
    return _issues(
        repeated.select(
            _INDEX,
            pl.col("key").alias("value"),
            typed[EXCEL_ROW].gather(repeated["first"]).cast(pl.Utf8).alias("row"),
            rule=pl.when(in_file).then(pl.lit("duplicate_key_in_file")).otherwise(pl.lit("duplicate_key")),
            other_value=pl.when(in_file).then(_per_sheet([s.sheet for s in sheets], first_part)),
        ),
        field="",
    )


def _vehicles_of_two_customers(kind: str, typed: pl.DataFrame) -> list[pl.DataFrame]:
    """customers: "vin … key": a VIN given again for another customer is rejected, naming the first row.

    The same VIN for the same customer is a repeated key (`_duplicates`); here the rows disagree on
    whose vehicle it is, and only the steward can say which is right.
    """
    if kind != "customers":
        return []
    owned = typed.filter(pl.all_horizontal(pl.col(*VEHICLE_KEY, "customer_id").is_not_null()))
    return [
        _unlike_the_first(
            owned, (_PART, *VEHICLE_KEY), "customer_id", field="vin", rule="vehicle_of_another_customer"
        )
    ]


def _customers_differing(clean: pl.DataFrame) -> pl.DataFrame:
    """customers: rows of one customer that give an attribute another value than the first row giving it.

    The loader keeps the first value given (load_customers); each other value is a warning on its cell.
    """
    return pl.concat(
        [
            _NO_ISSUES,
            *(
                _unlike_the_first(
                    clean.filter(pl.col(name).is_not_null()),
                    (_PART, *CUSTOMER_KEY),
                    name,
                    field=name,
                    rule="customer_differs",
                )
                for name in CUSTOMER_ATTRIBUTES
            ),
        ]
    )


def _unlike_the_first(
    rows: pl.DataFrame, by: tuple[str, ...], column: str, *, field: str, rule: str
) -> pl.DataFrame:
    """Issues on the rows whose `column` differs from the first row of their `by` group: its row and value named."""
    unlike = rows.with_columns(
        first_row=pl.col(EXCEL_ROW).first().over(by, order_by=_INDEX),
        first_value=pl.col(column).first().over(by, order_by=_INDEX),
    ).filter(pl.col(column) != pl.col("first_value"))
    return _issues(
        unlike.select(
            _INDEX,
            pl.col("first_value").cast(pl.Utf8).alias("other_value"),
            pl.col("first_row").cast(pl.Utf8).alias("row"),
        ),
        field=field,
        rule=rule,
    )


def _known(codes: pl.DataFrame, column: str) -> pl.Series:
    """The distinct codes of a reference list."""
    return codes[column].drop_nulls().unique()


def _unknown(typed: pl.DataFrame, field: str, known: pl.Series, rule: str) -> pl.DataFrame:
    """Rows whose `field` is given but not among the `known` codes."""
    value = pl.col(field)
    return _issues(
        typed.filter(value.is_not_null() & value.is_in(known.implode()).not_()).select(_INDEX),
        field=field,
        rule=rule,
    )


def _unknown_references(spec: Sheet, typed: pl.DataFrame, refs: Refs) -> list[pl.DataFrame]:
    """Codes that must be known: dealers on dealer and warehouse sheets, parts, campaigns."""
    names = spec.column_by_name
    checks = [
        ("dealer_code", refs.dealers, spec.source != REFERENCE, "unknown_dealer"),
        ("part_no", refs.parts, spec.kind != "parts", "unknown_part"),
        ("campaign_id", refs.campaigns, spec.kind != "campaigns", "unknown_campaign"),
    ]
    return [
        _unknown(typed, field, _known(codes, field), rule)
        for field, codes, applies, rule in checks
        if field in names and codes is not None and applies
    ]


def _warnings(kind: str, clean: pl.DataFrame, raw: pl.DataFrame, refs: Refs) -> pl.DataFrame:
    """Warnings on the rows that load: the warning model, and parts used that the catalogue lacks."""
    found = [_NO_ISSUES]
    model = WARNING_MODELS.get(kind)
    if model is not None:
        broken = _positions(broken_rules(model, clean), clean)
        if (broken["rule"] == "mileage_backwards").any():
            earlier = highest_earlier_mileage(clean.lazy()).collect()
            broken = broken.join(
                clean.select(_INDEX, other_value=earlier["earlier_mileage_km"].cast(pl.Utf8)), on=_INDEX
            ).with_columns(
                other_value=pl.when(pl.col("rule") == "mileage_backwards").then(pl.col("other_value"))
            )
        found.append(_issues(broken))
    if kind == "customers":
        found.append(_customers_differing(clean))
    if kind == "service_visits" and refs.parts is not None and "parts_used" in raw.columns:
        known = _known(refs.parts, "part_no")
        listed = raw.filter(
            pl.col("parts_used").is_not_null() & pl.col(_INDEX).is_in(clean[_INDEX].implode())
        )
        used = (
            listed.select(_INDEX, part=as_part_numbers(listed["parts_used"]))
            .explode("part")
            .filter(pl.col("part").is_not_null() & pl.col("part").is_in(known.implode()).not_())
            .group_by(_INDEX, maintain_order=True)
            .agg(pl.col("part").unique(maintain_order=True).str.join(", ").alias("value"))
        )
        found.append(_issues(used, field="parts_used", rule="unknown_part_used"))
    return pl.concat(found)


def _as_text(values: pl.Series) -> pl.Series:
    """Typed values as a message shows them: dates as 2024-03-05, times to the second."""
    if values.dtype == pl.Date:
        return values.dt.to_string("%Y-%m-%d")
    if isinstance(values.dtype, pl.Datetime):
        return values.dt.to_string("%Y-%m-%d %H:%M:%S")
    return values.cast(pl.Utf8)


def _accepted(column: Column) -> str:
    """What an enum column accepts, as the `not_in_list` and `*_required` messages list it."""
    if column.enum is None:
        return ""
    labels = ", ".join(f"{zh} ({code})" for code, zh in column.enum.labels)
    return labels + (", 1–5" if column.enum.name == "satisfaction" else "")


def _problems(
    issues: pl.DataFrame,
    spec: Sheet,
    *,
    raw: pl.DataFrame,
    typed: pl.DataFrame,
    business_key: pl.DataFrame,
    sheets: Sequence[ToCheck],
    today: date,
) -> pl.DataFrame:
    """Issues put into words, one per (row, column, rule), with the cells and keys the loader matches on;
    in each sheet's order (by _PART, then row)."""
    headers = [
        {name: sheet.headers.get(name) or spec.column(name).zh for name in spec.names} for sheet in sheets
    ]
    worded = [pl.DataFrame(schema={_INDEX: pl.UInt32, **dict.fromkeys(_WORDED, pl.Utf8)})]
    for (field, rule), group in issues.partition_by("field", "rule", as_dict=True).items():
        worded.append(_worded(group, field, rule, spec, raw=raw, typed=typed, headers=headers, today=today))
    rows = issues[_INDEX].unique().implode()
    row_facts = (
        typed.filter(pl.col(_INDEX).is_in(rows))
        .select(
            _INDEX,
            _PART,
            EXCEL_ROW,
            (pl.col("dealer_code") if "dealer_code" in spec.names else pl.lit(None, dtype=pl.Utf8)).alias(
                "dealer_code"
            ),
        )
        .join(business_key.rename({"key": "business_key"}), on=_INDEX)
    )
    order = {name: position for position, name in enumerate(spec.names)}
    return (
        pl.concat(worded)
        .join(row_facts, on=_INDEX)
        .with_columns(
            sheet=_per_sheet([sheet.sheet for sheet in sheets]),
            kind=pl.lit(spec.kind),
            severity=pl.col("rule").replace_strict(
                {rule: entry.severity for rule, entry in RULES.items()}, return_dtype=pl.Utf8
            ),
            _order=pl.col("field").replace_strict(order, default=-1, return_dtype=pl.Int64),
        )
        .sort(_PART, EXCEL_ROW, "_order", "rule", maintain_order=True)
        .select(
            _PART,
            *(
                pl.col(name).cast(pl.Int64) if name == EXCEL_ROW else pl.col(name).cast(pl.Utf8).fill_null("")
                for name in PROBLEM_COLUMNS
            ),
        )
    )


def _per_sheet(texts: list[str], part: pl.Series | None = None) -> pl.Expr:
    """Per row, the text of its sheet (`part`, by default the row's own; `texts` in _PART order)."""
    if len(set(texts)) == 1:
        return pl.lit(texts[0], dtype=pl.Utf8)
    parts = pl.col(_PART) if part is None else pl.lit(part)
    return parts.replace_strict(range(len(texts)), texts, return_dtype=pl.Utf8)


def _worded(
    issues: pl.DataFrame,
    field: str,
    rule: str,
    spec: Sheet,
    *,
    raw: pl.DataFrame,
    typed: pl.DataFrame,
    headers: list[dict[str, str]],
    today: date,
) -> pl.DataFrame:
    """The issues of one (field, rule): the cells they name, and the message in both languages (each
    naming the columns as the row's sheet does: `headers` in _PART order)."""
    rows = issues[_INDEX]
    other = COMPARED_WITH.get(rule)

    def cells(name: str | None) -> pl.Series | pl.Expr:
        if name == "":
            key = [pl.col(part).fill_null("") if part in raw.columns else pl.lit("") for part in spec.key]
            return raw[rows].select(pl.concat_str(key, separator="|")).to_series()
        return raw[name].gather(rows) if name in raw.columns else pl.lit(None, dtype=pl.Utf8)

    def values(name: str | None) -> pl.Series | pl.Expr:
        return _as_text(typed[name].gather(rows)) if name else pl.lit(None, dtype=pl.Utf8)

    run_day = today.isoformat() if rule == "in_future" else None

    def header(name: str | None) -> pl.Expr:
        return _per_sheet([h.get(name, "") if name else "" for h in headers])

    in_words = issues.with_columns(
        typed[_PART].gather(rows),
        cell_value=cells(field),
        value=pl.coalesce("value", values(field)),
        other_cell=cells(other),
        other_value=pl.coalesce("other_value", pl.lit(run_day, dtype=pl.Utf8), values(other)),
    )
    placeholders = {
        "column": header(field)
        if field
        else _per_sheet(["/".join(h[name] for name in spec.key) for h in headers]),
        "cell": pl.col("cell_value"),
        "value": pl.col("value"),
        "other_column": header(other),
        "other_cell": pl.col("other_cell"),
        "other_value": pl.col("other_value"),
        "row": pl.col("row"),
        "accepted": _accepted(spec.column(field)) if field else "",
    }
    return in_words.select(
        _INDEX,
        "field",
        "rule",
        column_name=header(field),
        cell_value=pl.col("cell_value").fill_null(""),
        message=message_expr(rule, "en", **placeholders),
        message_zh=message_expr(rule, "zh", **placeholders),
    )

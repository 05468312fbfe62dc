"""Property tests for every normaliser, beyond tests/transforms/test_normalise.py: any spelling the contract
tolerates reads to its value, the impossible is rejected (never rolled over or guessed), header and sheet
aliases reach one canonical name whatever their width, case, spacing or script, and no cell makes a
normaliser or a whole sheet check raise.
"""

from __future__ import annotations

import calendar
import re
import tomllib
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from functools import cache

import opencc
import polars as pl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dealersync.schemas.aliases import DEFAULT_ALIASES_FILE
from dealersync.schemas.contract import PROBLEM_COLUMNS, SHEETS, UNITS
from dealersync.schemas.models import PHONE_PATTERN
from dealersync.transforms import normalise as n
from dealersync.transforms.validate import check_sheet

PROPERTY = settings(
    deadline=None, max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
DAYS = st.dates(min_value=date(1950, 1, 1), max_value=date(2099, 12, 31))
FULL_WIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)} | {" ": "\u3000"})
SPACES = st.sampled_from(["", " ", "  ", "\u3000", "\t", "\n", " \n"])


def read(normaliser, *cells, **options):
    result = normaliser(pl.Series("cell", list(cells), dtype=pl.Utf8), **options)
    return list(zip(result.value.to_list(), result.problem.to_list(), strict=True))


def maybe_full_width(draw, text: str) -> str:
    return text.translate(FULL_WIDTH) if draw(st.booleans()) else text


# --- dates ------------------------------------------------------------------------------------------


@st.composite
def date_spellings(draw, day: date) -> str:
    """One of the contract's date forms, with any padding, separators, spacing and width it tolerates."""
    year, month, dom = str(day.year), str(day.month), str(day.day)
    if draw(st.booleans()):
        month, dom = month.zfill(2), dom.zfill(2)
    form = draw(st.sampled_from(["-", "/", ".", "年", "compact", "serial"]))
    if form == "compact":
        text = f"{day:%Y%m%d}"
    elif form == "serial":
        serial = (day - n.EXCEL_EPOCH.date()).days
        text = draw(st.sampled_from([str(serial), f"{serial}.0", f"{serial}.{draw(st.integers(0, 99999))}"]))
    elif form == "年":
        gap = draw(SPACES.filter(lambda s: "\n" not in s and "\t" not in s))
        text = f"{year}{gap}年{gap}{month}{gap}月{gap}{dom}{gap}{draw(st.sampled_from(['日', '号', '']))}"
    else:
        text = f"{year}{form}{month}{form}{dom}"
    if form not in ("compact", "serial") and draw(st.booleans()):
        text += draw(st.sampled_from([" 00:00:00", " 14:30", "T08:05:59", " 9:07", " 23:59:59.123"]))
    return draw(SPACES) + maybe_full_width(draw, text) + draw(SPACES)


@PROPERTY
@given(st.data(), DAYS)
def test_any_accepted_spelling_of_a_date_reads_as_that_date(data, day):
    spellings = [data.draw(date_spellings(day)) for _ in range(6)]
    assert read(n.as_date, *spellings) == [(day, None)] * len(spellings), spellings


@PROPERTY
@given(st.integers(1950, 2099), st.integers(1, 12), st.data(), st.sampled_from(["-", "/", ".", "年"]))
def test_a_day_past_the_end_of_its_month_is_rejected_never_rolled_over(year, month, data, separator):
    dom = data.draw(st.integers(calendar.monthrange(year, month)[1] + 1, 32))
    cell = f"{year}年{month}月{dom}日" if separator == "年" else f"{year}{separator}{month}{separator}{dom}"
    assert read(n.as_date, cell, f"{year}{month:02d}{dom:02d}") == [(None, "not_a_date")] * 2
    assert read(n.as_datetime, cell + " 10:00") == [(None, "not_a_datetime")]


@PROPERTY
@given(DAYS, st.integers(0, 23), st.integers(0, 59), st.integers(0, 59), st.data())
def test_a_datetime_in_any_accepted_spelling_keeps_its_minute(day, hour, minute, second, data):
    moment = datetime(day.year, day.month, day.day, hour, minute, second)
    date_part = data.draw(
        st.sampled_from([f"{day:%Y-%m-%d}", f"{day.year}/{day.month}/{day.day}", f"{day:%Y.%m.%d}"])
    )
    time_part = data.draw(
        st.sampled_from([f"{hour}:{minute:02d}:{second:02d}", f"{hour:02d}:{minute:02d}:{second:02d}"])
    )
    joint = data.draw(st.sampled_from([" ", "T", "  "]))
    cell = data.draw(SPACES) + maybe_full_width(data.draw, f"{date_part}{joint}{time_part}")
    assert read(n.as_datetime, cell) == [(moment, None)]


# --- numbers ----------------------------------------------------------------------------------------

UNIT_FIELDS = sorted(UNITS)


@st.composite
def written_number(draw, text: str, field: str) -> str:
    unit = draw(st.sampled_from(UNITS[field]))
    unit = draw(st.sampled_from([unit, unit.upper()]))
    before = unit in ("¥", "rmb", "cny", "RMB", "CNY") and draw(st.booleans())
    space = draw(st.sampled_from(["", " "]))
    body = f"{unit}{space}{text}" if before else f"{text}{space}{unit}" if draw(st.booleans()) else text
    return draw(SPACES) + maybe_full_width(draw, body) + draw(SPACES)


@PROPERTY
@given(st.integers(0, 10**12), st.sampled_from(UNIT_FIELDS), st.data())
def test_a_whole_number_with_its_unit_separators_or_width_round_trips(number, field, data):
    text = data.draw(st.sampled_from([str(number), f"{number:,}", f"{number}.0", f"{number:,}.00"]))
    cell = data.draw(written_number(text, field))
    assert read(n.as_int, cell, units=UNITS[field]) == [(number, None)], cell


@PROPERTY
@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False), st.data())
def test_an_amount_to_the_cent_round_trips_and_its_float_noise_is_ignored(amount, data):
    cell = data.draw(written_number(data.draw(st.sampled_from([str(amount), f"{amount:,}"])), "amount"))
    noisy = repr(float(amount) + float(amount) * 1e-15) if amount < 10**6 else str(amount)
    assert read(n.as_decimal, cell, noisy, units=UNITS["amount"]) == [(amount, None)] * 2, (cell, noisy)


@PROPERTY
@given(st.decimals(min_value=0, max_value=10**6, places=4, allow_nan=False))
def test_an_amount_finer_than_a_cent_is_rejected_not_rounded(amount):
    assume(amount != amount.quantize(Decimal("0.01")))
    assert read(n.as_decimal, str(amount)) == [(None, "too_many_decimals")]


# --- phones and codes -------------------------------------------------------------------------------

AREA_CODES = st.sampled_from(["010", "020", "021", "027", "0311", "0371", "0531", "0539", "0771", "0991"])


@st.composite
def landlines(draw) -> tuple[str, str]:
    """(digits, a way of writing them): area code with its trunk 0, local number of 7 or 8 digits."""
    area = draw(AREA_CODES)
    local = draw(st.from_regex(r"[2-9][0-9]{6,7}", fullmatch=True))
    national = area[1:]
    written = draw(
        st.sampled_from(
            [
                f"{area}-{local}",
                f"({area}){local}",
                f"（{area}）{local[:4]}-{local[4:]}",
                f"{area} {local}",
                f"+86 {national} {local[:4]} {local[4:]}",  # dialled from abroad: the trunk 0 goes
                f"+86-{national}-{local}",
                f"0086 {national} {local}",
                f"+86 (0){national} {local}",
            ]
        )
    )
    return area + local, written


@PROPERTY
@given(landlines())
def test_a_landline_in_any_written_form_reads_as_its_digits_and_passes_the_phone_shape(landline):
    digits, written = landline
    assert read(n.as_phone, written) == [(digits, None)], written
    assert re.fullmatch(PHONE_PATTERN, digits)


def test_a_plus_86_landline_gets_its_trunk_zero_back():
    assert read(n.as_phone, "+86 10 8888 6666", "+86 531 8888 6666", "+86 138 1234 5678") == [
        ("01088886666", None),
        ("053188886666", None),
        ("13812345678", None),
    ]


@PROPERTY
@given(st.from_regex(r"[A-Z][A-Z0-9]{2,16}", fullmatch=True), st.data())
def test_a_code_in_any_case_width_or_spacing_reads_as_one_code(code, data):
    written = "".join(c.lower() if data.draw(st.booleans()) else c for c in code)
    cell = data.draw(SPACES) + maybe_full_width(data.draw, written) + data.draw(SPACES)
    assert read(n.as_code, cell) == [(code, None)], cell


# --- header, sheet and label aliases -----------------------------------------------------------------


@cache
def _s2t() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


@cache
def header_labels() -> list[tuple[str, str, str]]:
    """(kind, header as listed, field): the contract's names and Chinese headers and aliases.toml's aliases."""
    listed = tomllib.loads(DEFAULT_ALIASES_FILE.read_text(encoding="utf-8"))["headers"]
    labels = []
    for kind, sheet in SHEETS.items():
        for column in sheet.columns:
            labels += [(kind, column.name, column.name), (kind, column.zh, column.name)]
            for scope in ("common", kind):
                labels += [(kind, alias, column.name) for alias in listed.get(scope, {}).get(column.name, [])]
    return labels


@cache
def sheet_labels() -> list[tuple[str, str]]:
    listed = tomllib.loads(DEFAULT_ALIASES_FILE.read_text(encoding="utf-8"))["sheets"]
    return [
        (kind, name) for kind, sheet in SHEETS.items() for name in (kind, sheet.zh, *listed.get(kind, []))
    ]


@st.composite
def as_written(draw, label: str) -> str:
    """A label as someone might type it: case, full width, traditional script, spaces, breaks, a unit."""
    if draw(st.booleans()):
        label = _s2t().convert(label)
    label = draw(st.sampled_from([label, label.upper(), label.lower(), label.title(), label.swapcase()]))
    pieces = [draw(st.sampled_from(["", "", "", " ", "\n", "_", "\u3000"])) + c for c in label]
    label = maybe_full_width(draw, "".join(pieces))
    if draw(st.booleans()):
        label += draw(st.sampled_from(["(km)", "（元）", "【必填】", "(YYYY-MM-DD)", "（次）"]))
    return draw(SPACES) + label + draw(SPACES)


@PROPERTY
@given(st.sampled_from(header_labels()), st.data())
def test_a_header_alias_maps_to_its_one_field_whatever_its_width_case_spacing_or_script(
    aliases, listed, data
):
    kind, label, field = listed
    written = data.draw(as_written(label))
    assert aliases.field_for(kind, written) == field, (kind, label, written)


@PROPERTY
@given(st.sampled_from(sheet_labels()), st.data())
def test_a_sheet_name_maps_to_its_one_kind_whatever_its_width_case_spacing_or_script(aliases, listed, data):
    kind, name = listed
    written = data.draw(as_written(name))
    assert aliases.sheet_kind(written) == kind, (name, written)


@PROPERTY
@given(st.sampled_from(sorted(n.SATISFACTION_SCORES.items())), st.data())
def test_a_yes_no_or_enum_label_reads_whatever_its_width_case_or_spacing(aliases, score, data):
    yes = data.draw(st.sampled_from(["是", "Y", "yes", "True", "√", "1"]))
    no = data.draw(st.sampled_from(["否", "N", "No", "FALSE", "×", "0"]))
    noisy = [
        data.draw(SPACES) + maybe_full_width(data.draw, label) + data.draw(SPACES) for label in (yes, no)
    ]
    assert read(n.as_bool, *noisy, aliases=aliases) == [(True, None), (False, None)], noisy
    label, code = score
    assert read(n.as_satisfaction, maybe_full_width(data.draw, label), aliases=aliases) == [(code, None)]


# --- nothing raises ---------------------------------------------------------------------------------

NEAR_MISSES = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="0123456789-/.年月日号: T,元kmKM¥+()（）\u3000 ", max_size=30),
    st.from_regex(r"[0-9]{1,25}(\.[0-9]{0,12})?", fullmatch=True),
    st.from_regex(r"\+?(86|0086)?[0-9 ()\-]{0,20}", fullmatch=True),
    st.sampled_from(["9" * 400, "-0", "+", ".", "1e308", "NaN", "inf", "\x00", "\u202e", "#N/A", "=1/0"]),
)


@settings(deadline=None, max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.none(), NEAR_MISSES), min_size=1, max_size=12))
def test_no_cell_makes_any_normaliser_raise_each_gives_a_value_or_a_reason(aliases, cells):
    for normaliser, options in [
        (n.as_date, {}),
        (n.as_datetime, {}),
        (n.as_int, {"units": UNITS["mileage_km"]}),
        (n.as_decimal, {"units": UNITS["amount"]}),
        (n.as_bool, {"aliases": aliases}),
        (n.as_enum, {"enum_name": "call_type", "aliases": aliases}),
        (n.as_satisfaction, {"aliases": aliases}),
        (n.as_code, {}),
        (n.as_phone, {}),
        (n.as_text, {}),
    ]:
        for (value, problem), cell in zip(read(normaliser, *cells, **options), cells, strict=True):
            assert value is None or problem is None
            # blank, as the normalisers see it: nothing left but spaces and invisible characters
            written = (
                None if cell is None else re.sub(n.INVISIBLE, "", unicodedata.normalize("NFKC", cell)).strip()
            )
            if written and normaliser is not n.as_text:
                assert (value is None) != (problem is None), (normaliser.__name__, cell)


@pytest.mark.parametrize("kind", sorted(SHEETS))
@settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_sheet_of_text_gets_a_verdict_for_every_row_and_never_raises(aliases, kind, data):
    spec = SHEETS[kind]
    fields = data.draw(st.lists(st.sampled_from(spec.names), min_size=1, unique=True))
    height = data.draw(st.integers(1, 6))
    frame = pl.DataFrame(
        {"excel_row": pl.Series(range(2, 2 + height), dtype=pl.Int64)}
        | {
            f: pl.Series([data.draw(st.one_of(st.none(), NEAR_MISSES)) for _ in range(height)], dtype=pl.Utf8)
            for f in fields
        }
        | {"_extra": pl.Series([None] * height, dtype=pl.Utf8)}
    )
    checked = check_sheet(
        kind, frame, sheet=kind, headers={f: f for f in fields}, today=date(2026, 3, 2), aliases=aliases
    )
    rejected = set(checked.problems.filter(pl.col("severity") == "rejected")["excel_row"].to_list())
    loaded = set(checked.clean["excel_row"].to_list())
    assert loaded | rejected == set(frame["excel_row"].to_list())  # every row has a verdict ...
    assert not loaded & rejected  # ... and only one
    assert set(PROBLEM_COLUMNS) <= set(checked.problems.columns)
    assert checked.problems.filter(pl.col("message").is_null()).is_empty()  # each problem says why

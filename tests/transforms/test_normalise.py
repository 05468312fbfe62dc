"""Normalisers: every tolerated spelling reads to its value, everything else is a rejection, nothing raises."""

from __future__ import annotations

import string
from datetime import date, datetime, timedelta
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dealersync.schemas.contract import SHEETS
from dealersync.transforms import normalise as n

KM = ("km", "公里", "千米")
YUAN = ("元", "¥", "rmb", "cny", "yuan")


def read(normaliser, *cells, **options):
    """(value, problem) per cell."""
    result = normaliser(pl.Series("cell", list(cells), dtype=pl.Utf8), **options)
    return list(zip(result.value.to_list(), result.problem.to_list(), strict=True))


def one(normaliser, cell, **options):
    return read(normaliser, cell, **options)[0]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2024-03-05", date(2024, 3, 5)),  # ISO
        ("1950-01-01", date(1950, 1, 1)),  # the first day read
        ("2099-12-31 23:59:59", date(2099, 12, 31)),  # the last
        ("2024/3/5", date(2024, 3, 5)),  # slashes, no zero padding
        ("2024.3.5", date(2024, 3, 5)),  # dots
        ("20240305", date(2024, 3, 5)),  # compact
        ("2024年3月5日", date(2024, 3, 5)),  # Chinese
        ("2024年3月5号", date(2024, 3, 5)),  # Chinese, 号 for 日
        ("2024 年 3 月 5 日", date(2024, 3, 5)),  # Chinese with spaces
        ("２０２４／３／５", date(2024, 3, 5)),  # full-width digits and slashes
        ("2024-03-05 00:00:00", date(2024, 3, 5)),  # a real Excel date, as the reader hands it over
        ("2024-03-05 14:30", date(2024, 3, 5)),  # a time in a date column is dropped
        ("45356", date(2024, 3, 5)),  # Excel serial number
        ("45356.0", date(2024, 3, 5)),  # Excel serial number as a float
        ("45356.75", date(2024, 3, 5)),  # serial with a time of day
        (" 2024-03-05\n", date(2024, 3, 5)),  # surrounding spaces and line breaks
    ],
)
def test_date_spellings(cell, expected):
    assert one(n.as_date, cell) == (expected, None)


@pytest.mark.parametrize(
    "cell",
    [
        "2024-02-30",  # impossible day: rejected, never rolled over to March
        "2023-02-29",  # not a leap year
        "2024-13-01",  # month 13
        "03/05/2024",  # day-month or month-day: ambiguous
        "24-3-5",  # two-digit year
        "5/3/24",  # two-digit year, ambiguous order
        "2024",  # a year alone (and not a plausible serial)
        "18263",  # serial before 1950: not guessed
        "73051",  # serial after 2099: not guessed
        "-45356",  # negative serial
        "2024-03",  # no day
        "2024-03-05 25:00",  # impossible time
        "yesterday",  # text
        "2024-03-05x",  # trailing text
        "0224-03-05",  # a typo: before 1950, as a serial would be
        "2204-03-05",  # a typo: from 2100 on
        "1949年12月31日",
        "21000101",
        "0000-01-01 00:00:00",  # year 0, as calamine would show it
    ],
)
def test_unreadable_dates_are_rejected(cell):
    assert one(n.as_date, cell) == (None, "not_a_date")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2024-03-05 14:30", datetime(2024, 3, 5, 14, 30)),  # HH:MM
        ("2024/3/5 9:05:07", datetime(2024, 3, 5, 9, 5, 7)),  # H:MM:SS
        ("2024-03-05T14:30:00", datetime(2024, 3, 5, 14, 30)),  # ISO with T
        ("2024-03-05 14:30:15.500", datetime(2024, 3, 5, 14, 30, 15, 500000)),  # real Excel datetime
        ("2024年3月5日 14:30", datetime(2024, 3, 5, 14, 30)),  # Chinese date with a time
        ("2024-03-05", datetime(2024, 3, 5)),  # a date alone is 00:00
        ("45356.5", datetime(2024, 3, 5, 12)),  # serial with a fraction
        ("２０２４－０３－０５　１４：３０", datetime(2024, 3, 5, 14, 30)),  # full-width throughout
        ("2024/3/5 下午3:30", datetime(2024, 3, 5, 15, 30)),  # Excel's and WPS's Chinese display
        ("2024/3/5 上午12:05", datetime(2024, 3, 5, 0, 5)),  # 12-hour clock: 上午12 is midnight
        ("2024-03-05 中午1点30", datetime(2024, 3, 5, 13, 30)),
        ("2024年3月5日 15时30分", datetime(2024, 3, 5, 15, 30)),  # hours and minutes in Chinese
        ("2024年3月5日15时30分", datetime(2024, 3, 5, 15, 30)),  # 日 ends the date: no space needed
        ("2024年3月5日14:30", datetime(2024, 3, 5, 14, 30)),
        ("2024年3月5日下午3点30", datetime(2024, 3, 5, 15, 30)),
        ("2024-03-05 3:30:10 PM", datetime(2024, 3, 5, 15, 30, 10)),
    ],
)
def test_datetime_spellings(cell, expected):
    assert one(n.as_datetime, cell) == (expected, None)


@pytest.mark.parametrize(
    "cell",
    [
        "2024-03-05 24:00",
        "2024-03-05 14:60",
        "03/05/2024 14:30",
        "14:30",
        "10:30:00",  # a time alone, as the reader hands over a cell formatted h:mm
        "2024-03-05 下午",
        "2024-03-05 14:3045",
        "2024-03-0514:30",  # the time runs into the day
    ],
)
def test_unreadable_datetimes_are_rejected(cell):
    assert one(n.as_datetime, cell) == (None, "not_a_datetime")


@pytest.mark.parametrize("cell", [None, "", "   ", "\n"])
def test_blank_is_null_without_problem(cell):
    for normaliser in (n.as_date, n.as_datetime, n.as_int, n.as_decimal, n.as_code, n.as_phone, n.as_text):
        assert one(normaliser, cell) == (None, None)


@pytest.mark.parametrize(
    ("cell", "units", "expected"),
    [
        ("12000", (), 12000),  # plain
        ("12,000", (), 12000),  # thousands separator
        ("1,234,567", (), 1234567),  # several separators
        ("１２０００", (), 12000),  # full-width digits
        ("１２，０００", (), 12000),  # full-width comma
        ("12.0", (), 12),  # a number cell read as float
        ("12.00", (), 12),
        ("-3", (), -3),  # sign kept (the model rejects negatives)
        ("12,000 km", KM, 12000),  # unit suffix
        ("12000KM", KM, 12000),  # unit in capitals, no space
        ("12000公里", KM, 12000),  # Chinese unit
        ("30天", ("天",), 30),  # days
    ],
)
def test_int_spellings(cell, units, expected):
    assert one(n.as_int, cell, units=units) == (expected, None)


@pytest.mark.parametrize(
    ("cell", "units", "rule"),
    [
        ("12.5", (), "not_whole_number"),  # a fraction in a whole-number column
        ("12,000.5 km", KM, "not_whole_number"),
        ("1,2000", (), "not_a_number"),  # misplaced separator: not guessed
        ("12万", KM, "not_a_number"),  # an unlisted unit (ten-thousands) is not guessed
        ("12000 km", (), "not_a_number"),  # a unit the column does not take
        ("30 km", ("天",), "not_a_number"),
        ("twelve", (), "not_a_number"),
        ("1e5", (), "not_a_number"),  # scientific notation
        ("100000000000000000000", (), "not_a_number"),  # beyond a 64-bit integer
    ],
)
def test_unreadable_ints_are_rejected(cell, units, rule):
    assert one(n.as_int, cell, units=units) == (None, rule)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("350", Decimal("350.00")),
        ("350元", Decimal("350.00")),  # unit suffix
        ("¥350.5", Decimal("350.50")),  # currency sign before
        ("￥1,234.56", Decimal("1234.56")),  # full-width yen sign and separator
        ("RMB 99", Decimal("99.00")),
        ("0.30000000000000004", Decimal("0.30")),  # floating-point noise of a spreadsheet cell
        ("-5", Decimal("-5.00")),  # sign kept (the model rejects negatives)
    ],
)
def test_decimal_spellings(cell, expected):
    assert one(n.as_decimal, cell, units=YUAN) == (expected, None)


@pytest.mark.parametrize(
    ("cell", "rule"),
    [
        ("12.345", "too_many_decimals"),  # rejected, not rounded
        ("0.125", "too_many_decimals"),
        ("12.3.4", "not_a_number"),
        ("12 dollars", "not_a_number"),
    ],
)
def test_unreadable_decimals_are_rejected(cell, rule):
    assert one(n.as_decimal, cell, units=YUAN) == (None, rule)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        *((cell, True) for cell in ["是", "Y", "y", "yes", "YES", "true", "TRUE", "1", "1.0", "√", "T"]),
        *((cell, False) for cell in ["否", "N", "no", "false", "FALSE", "0", "0.0", "×", "F"]),
    ],
)
def test_yes_no_spellings(aliases, cell, expected):
    assert one(n.as_bool, cell, aliases=aliases) == (expected, None)


@pytest.mark.parametrize("cell", ["maybe", "2", "是的吧"])
def test_unreadable_yes_no_is_rejected(aliases, cell):
    assert one(n.as_bool, cell, aliases=aliases) == (None, "not_yes_no")


@pytest.mark.parametrize(
    ("enum", "cell", "code"),
    [
        ("visit_type", "保养", "maintenance"),  # Chinese label
        ("visit_type", "maintenance", "maintenance"),  # English code
        ("visit_type", "MAINTENANCE ", "maintenance"),  # case and spaces
        ("visit_type", "定期保养", "maintenance"),  # synonym from aliases.toml
        ("visit_type", "保養", "maintenance"),  # traditional Chinese
        ("call_type", "First Follow Up", "first_follow_up"),  # English words for the code
        ("outcome", "空号", "wrong_number"),  # one half of 空号/错号
        ("outcome", "空号/错号", "wrong_number"),  # the full label
        ("component", "前减震器", "front_shock"),
    ],
)
def test_enum_labels(aliases, enum, cell, code):
    assert one(n.as_enum, cell, enum_name=enum, aliases=aliases) == (code, None)


def test_unknown_enum_label_is_rejected(aliases):
    assert one(n.as_enum, "大修", enum_name="visit_type", aliases=aliases) == (None, "not_in_list")


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("满意", "satisfied"),
        ("基本满意", "fair"),
        ("不满意", "dissatisfied"),
        ("5", "satisfied"),  # "5,4 satisfied"
        ("4", "satisfied"),
        ("3", "fair"),  # "3 fair"
        ("2", "dissatisfied"),  # "2,1 dissatisfied"
        ("1.0", "dissatisfied"),  # a score in a number cell
        ("5分", "satisfied"),  # score with 分
        ("５", "satisfied"),  # full-width score
    ],
)
def test_satisfaction_labels_and_scores(aliases, cell, code):
    assert one(n.as_satisfaction, cell, aliases=aliases) == (code, None)


@pytest.mark.parametrize("cell", ["0", "6", "4.5", "meh"])
def test_satisfaction_out_of_scale_is_rejected(aliases, cell):
    assert one(n.as_satisfaction, cell, aliases=aliases) == (None, "not_in_list")


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("d0012 ", "D0012"),  # trailing space, lower case
        (" D0012", "D0012"),
        ("Ｄ００１２", "D0012"),  # full-width
        ("lfph4acb6a1234567", "LFPH4ACB6A1234567"),
    ],
)
def test_codes_trimmed_and_upper_cased(cell, code):
    assert one(n.as_code, cell) == (code, None)


def test_free_text_kept_as_written_but_trimmed():
    assert one(n.as_text, "  张三 Zhang  ") == ("张三 Zhang", None)


@pytest.mark.parametrize(
    ("cell", "digits"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),  # spaces
        ("138-1234-5678", "13812345678"),  # dashes
        ("+86 138 1234 5678", "13812345678"),  # country code
        ("+86-13812345678", "13812345678"),
        ("008613812345678", "13812345678"),  # leading 0086
        ("(0531) 8888-6666", "053188886666"),  # landline with area code in brackets
        ("（0531）88886666", "053188886666"),  # full-width brackets
        ("13812345678.0", "13812345678"),  # a phone the cell stored as a number
        ("１３８１２３４５６７８", "13812345678"),  # full-width digits
    ],
)
def test_phone_spellings(cell, digits):
    assert one(n.as_phone, cell) == (digits, None)


@pytest.mark.parametrize("cell", ["abc", "138-1234-5678 ext 3", "0531-88886666转8", "+44 20 7946 0958x"])
def test_unreadable_phones_are_rejected(cell):
    assert one(n.as_phone, cell) == (None, "not_a_phone")


@pytest.mark.parametrize(
    ("cell", "parts"),
    [
        ("P1, P2", ["P1", "P2"]),  # comma
        ("P1;P2；P3", ["P1", "P2", "P3"]),  # semicolons, full-width too
        ("P1、p2", ["P1", "P2"]),  # Chinese enumeration comma, lower case
        ("P1  P2\nP3", ["P1", "P2", "P3"]),  # spaces and line breaks
        ("P1，P2", ["P1", "P2"]),  # full-width comma
        ("", None),
    ],
)
def test_part_numbers_split(cell, parts):
    assert n.as_part_numbers(pl.Series([cell])).to_list() == [parts]


def test_repeated_and_distinct_cells_read_alike():
    # The distinct-cells path (a repeating column) and the row path give the same answers in order.
    cells = ["2024-03-05", "bad", None, "2024/3/6"]
    repeated = read(n.as_date, *(cells * 50))
    assert repeated == read(n.as_date, *cells) * 50


@pytest.mark.parametrize("cell", ["#N/A", "#DIV/0!", "#VALUE!", "#REF!", " #n/a "])
@pytest.mark.parametrize(
    ("kind", "field"),
    [
        ("service_visits", "customer_id"),  # a code: a failed VLOOKUP is no customer number
        ("customers", "name"),  # free text
        ("customers", "phone"),
        ("service_visits", "intake_date"),
        ("follow_up_calls", "call_time"),
        ("service_visits", "mileage_km"),
        ("service_visits", "amount"),
        ("service_visits", "under_warranty"),  # looked up in the yes/no table
        ("service_visits", "visit_type"),  # looked up in an enum's labels
        ("follow_up_calls", "satisfaction"),
    ],
)
def test_an_excel_error_is_no_value_in_any_column(aliases, kind, field, cell):
    # The reader hands an error cell over as Excel shows it; read as text it would load `#N/A` as a value.
    column = SHEETS[kind].column(field)
    read = n.as_column(column, pl.Series([cell, None]), aliases)
    assert read.value.to_list() == [None, None]
    assert read.problem.to_list() == ["excel_error", None]


def test_as_column_follows_the_contract_type(aliases):
    visits = SHEETS["service_visits"]
    assert n.as_column(visits.column("mileage_km"), pl.Series(["12,000 km"]), aliases).value.item() == 12000
    assert n.as_column(visits.column("amount"), pl.Series(["350元"]), aliases).value.dtype == n.DECIMAL
    assert n.as_column(visits.column("visit_type"), pl.Series(["维修"]), aliases).value.item() == "repair"
    assert n.as_column(visits.column("work_order_no"), pl.Series(["wo1 "]), aliases).value.item() == "WO1"
    assert n.as_column(visits.column("advisor"), pl.Series(["li "]), aliases).value.item() == "li"
    customers = SHEETS["customers"]
    assert n.as_column(customers.column("phone"), pl.Series(["+86 138 1234 5678"]), aliases).value.item() == (
        "13812345678"
    )


# Property tests (no deadline: a first polars call, or a busy machine, can take a while).

DAYS = st.dates(min_value=date(1950, 1, 1), max_value=date(2099, 12, 31))


def _spellings(day: date) -> list[str]:
    serial = (day - n.EXCEL_EPOCH.date()).days
    return [
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}.{day.month}.{day.day}",
        f"{day:%Y%m%d}",
        f"{day.year}年{day.month}月{day.day}日",
        f"{day:%Y-%m-%d} 00:00:00",
        str(serial),
        f"{serial}.0",
    ]


@settings(deadline=None)
@given(DAYS)
def test_any_accepted_spelling_of_a_date_reads_as_that_date(day):
    assert read(n.as_date, *_spellings(day)) == [(day, None)] * len(_spellings(day))


@settings(deadline=None)
@given(DAYS, st.integers(0, 23), st.integers(0, 59), st.integers(0, 59))
def test_any_accepted_spelling_of_a_datetime_reads_as_it(day, hour, minute, second):
    moment = datetime(day.year, day.month, day.day, hour, minute, second)
    cells = [
        f"{moment:%Y-%m-%d %H:%M:%S}",
        f"{day.year}/{day.month}/{day.day} {hour}:{minute:02d}:{second:02d}",
        f"{day.year}年{day.month}月{day.day}日 {moment:%H:%M:%S}",
        f"{day.year}年{day.month}月{day.day}日 {hour}时{minute:02d}分{second:02d}秒",
        f"{day:%Y/%m/%d} {'上午' if hour < 12 else '下午'}{hour % 12 or 12}:{minute:02d}:{second:02d}",
        f"{day:%Y-%m-%d} {hour % 12 or 12}:{minute:02d}:{second:02d} {'AM' if hour < 12 else 'PM'}",
        repr((moment - n.EXCEL_EPOCH) / timedelta(days=1)),  # a serial with its fraction
    ]
    assert read(n.as_datetime, *cells) == [(moment, None)] * len(cells)


# Text near the shape calamine gives a date cell (2024-03-05 00:00:00): signs, one digit or five, valid or
# not (2023-02-29, 24:00:00, second 60, year 0).
NEAR_EXCEL_DATES = st.from_regex(
    r"[+-]?[0-9]{1,5}-[0-9]{1,2}-[0-9]{1,2} [0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}", fullmatch=True
)


@settings(deadline=None)
@given(NEAR_EXCEL_DATES)
def test_a_cell_shaped_as_excel_shows_dates_reads_as_the_patterns_read_it(cell):
    """A cell in calamine's shape is read at once, the others through the calendar's patterns: the same text
    with slashes (only the patterns read it) gives the same value and the same problem."""
    for reader in (n.as_date, n.as_datetime):
        assert read(reader, cell) == read(reader, cell.replace("-", "/"))


@settings(deadline=None)
@given(st.integers(-(10**15), 10**15))
def test_whole_numbers_round_trip(number):
    full_width = str(number).translate(str.maketrans(string.digits + "-", "０１２３４５６７８９－"))
    cells = [str(number), f"{number:,}", f"{number}.0", full_width, f"{number:,} km"]
    assert read(n.as_int, *cells, units=KM) == [(number, None)] * len(cells)


@settings(deadline=None)
@given(st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False))
def test_decimals_to_the_cent_round_trip(amount):
    cells = [str(amount), f"{amount:,}", f"{amount}元", f"¥{amount}"]
    assert read(n.as_decimal, *cells, units=YUAN) == [(amount, None)] * len(cells)


@settings(deadline=None)
@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_mobile_phones_round_trip(mobile):
    cells = [
        mobile,
        f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}",
        f"+86-{mobile}",
        f"0086{mobile}",
        f"{mobile}.0",
    ]
    assert read(n.as_phone, *cells) == [(mobile, None)] * len(cells)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text()), max_size=8))
def test_no_input_makes_a_normaliser_raise(aliases, cells):
    for normaliser, options in [
        (n.as_date, {}),
        (n.as_datetime, {}),
        (n.as_int, {"units": KM}),
        (n.as_decimal, {"units": YUAN}),
        (n.as_bool, {"aliases": aliases}),
        (n.as_enum, {"enum_name": "visit_type", "aliases": aliases}),
        (n.as_satisfaction, {"aliases": aliases}),
        (n.as_code, {}),
        (n.as_phone, {}),
        (n.as_text, {}),
    ]:
        results = read(normaliser, *cells, **options)
        assert len(results) == len(cells)
        for (value, problem), cell in zip(results, cells, strict=True):
            # A value or a reason, never both; a blank cell has neither.
            assert value is None or problem is None
            if cell is None:
                assert (value, problem) == (None, None)
    assert len(n.as_part_numbers(pl.Series(cells, dtype=pl.Utf8))) == len(cells)

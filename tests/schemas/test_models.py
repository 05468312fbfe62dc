"""The pandera models: one per sheet kind, faithful to the contract, with the run's day passed in."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pandera.polars as pa
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dealersync.schemas.contract import SHEETS
from dealersync.schemas.models import (
    MODELS,
    WARNING_MODELS,
    ServiceVisitWarnings,
    VinWarnings,
    broken_rules,
    broken_rules_by_pandera,
    rejection_model,
    vin_check_digit,
)
from dealersync.transforms.normalise import DTYPES

TODAY = date(2024, 6, 30)


def typed(kind: str, rows: list[dict]) -> pl.DataFrame:
    """Literal typed rows of a sheet kind: every contract column, null where not given."""
    schema = {column.name: DTYPES[column.type] for column in SHEETS[kind].columns}
    return pl.DataFrame([{name: row.get(name) for name in schema} for row in rows], schema=schema)


def test_one_model_per_sheet_kind():
    assert set(MODELS) == set(SHEETS)


@pytest.mark.parametrize("kind", sorted(SHEETS))
def test_model_columns_types_and_required_follow_the_contract(kind):
    columns = rejection_model(kind, TODAY).to_schema().columns
    sheet = SHEETS[kind]
    assert list(columns) == list(sheet.names)
    for column in sheet.columns:
        assert columns[column.name].dtype.type == DTYPES[column.type], column.name
        assert columns[column.name].nullable is not column.required, column.name


def test_as_of_gives_one_model_per_day():
    assert rejection_model("customers", TODAY) is rejection_model("customers", TODAY)
    assert rejection_model("customers", TODAY) is not rejection_model("customers", date(2024, 7, 1))


def test_not_in_the_future_is_relative_to_the_run_day():
    visit = typed("service_visits", [{"intake_date": date(2024, 7, 1)}])
    # On 2024-06-30 an intake on 2024-07-01 is in the future; on a re-run dated 2024-07-01 it is not.
    broken = broken_rules(rejection_model("service_visits", TODAY), visit).filter(
        pl.col("rule") == "in_future"
    )
    assert broken.rows() == [(0, "intake_date", "in_future")]
    later = broken_rules(rejection_model("service_visits", date(2024, 7, 1)), visit)
    assert later.filter(pl.col("rule") == "in_future").is_empty()


def test_a_datetime_on_the_run_day_is_not_in_the_future():
    calls = typed("follow_up_calls", [{"call_time": datetime(2024, 6, 30, 23, 59)}])
    broken = broken_rules(rejection_model("follow_up_calls", TODAY), calls)
    assert broken.filter(pl.col("rule") == "in_future").is_empty()


def test_broken_rules_names_positions_fields_and_rules():
    rows = typed(
        "part_batches",
        [
            {"part_no": "P1", "batch_no": "B1", "production_date": date(2024, 1, 1), "quantity": 5},
            {"part_no": None, "batch_no": "B2", "production_date": date(2024, 1, 1), "quantity": 0},
        ],
    )
    assert sorted(broken_rules(rejection_model("part_batches", TODAY), rows).rows()) == [
        (1, "part_no", "required"),
        (1, "quantity", "not_positive"),
    ]


def test_broken_rules_refuses_a_frame_that_does_not_fit():
    with pytest.raises(TypeError, match="does not fit"):
        broken_rules(rejection_model("parts", TODAY), pl.DataFrame({"part_no": [1]}))


@pytest.mark.parametrize(
    ("vin", "digit"),
    [
        ("1HGCM82633A004352", "3"),  # a textbook example
        ("1M8GDM9AXKP042788", "X"),  # remainder 10 is X
        ("11111111111111111", "1"),
        ("LFPH4ACB6A1234567", "6"),
    ],
)
def test_vin_check_digit(vin, digit):
    assert pl.select(vin_check_digit(pl.lit(vin))).item() == digit


def test_vin_check_digit_is_a_warning_only_for_well_formed_vins():
    rows = pl.DataFrame({"vin": ["1HGCM82633A004352", "1HGCM82633A004353", "SHORT", None]})
    assert broken_rules(VinWarnings, rows).rows() == [(1, "vin", "vin_check_digit")]


def test_mileage_lower_than_an_earlier_visit_of_the_same_vin_is_a_warning():
    visits = pl.DataFrame(
        {
            "vin": ["V1", "V1", "V1", "V1", "V2", "V1"],
            "intake_date": [date(2024, 1, d) for d in (1, 10, 5, 10, 20, 30)],
            "mileage_km": [1000, 900, 1200, 1300, 10, None],
        }
    )
    # Row 1 (900 on the 10th) is below 1200 on the 5th; row 3 (1300, same day) is not compared with
    # row 1; V2 is another vehicle; a blank mileage is not compared.
    assert broken_rules(ServiceVisitWarnings, visits).rows() == [(1, "mileage_km", "mileage_backwards")]


def test_warning_models_only_where_the_contract_warns():
    # part_shipments: an error type on a line the contract counts as correct (one of the two cells is wrong)
    assert set(WARNING_MODELS) == {"customers", "service_visits", "part_shipments"}


def _cells(dtype: pl.DataType, codes: list[str]) -> st.SearchStrategy:
    """Values of a column's type, near the contract's boundaries, or null."""
    if dtype == pl.Utf8:
        values = st.sampled_from(
            [
                *codes,
                "1HGCM82633A004352",
                "1HGCM82633A004353",
                "LFPH4ACB6A1234567",
                "13812345678",
                "0108888666",
                "x",
            ]
        )
    elif dtype == pl.Int64:
        values = st.sampled_from([-1, 0, 1, 30, 1_000, 2_000_000, 10**9])
    elif dtype == pl.Date:
        values = st.dates(date(2024, 6, 1), date(2024, 7, 31))
    elif isinstance(dtype, pl.Datetime):
        values = st.datetimes(datetime(2024, 6, 29), datetime(2024, 7, 2))
    elif isinstance(dtype, pl.Decimal):
        values = st.sampled_from([Decimal("-0.01"), Decimal("0"), Decimal("12.50")])
    else:
        values = st.booleans()
    return st.one_of(st.none(), values)


_CODES = sorted({code for sheet in SHEETS.values() for c in sheet.columns if c.enum for code in c.enum.codes})
_ALL_MODELS = [
    *((f"{kind}", MODELS[kind].as_of(TODAY)) for kind in sorted(MODELS)),
    *((f"{kind} warnings", model) for kind, model in sorted(WARNING_MODELS.items())),
]


@pytest.mark.parametrize(("name", "model"), _ALL_MODELS, ids=[name for name, _ in _ALL_MODELS])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_broken_rules_are_what_pandera_validate_reports(name, model, data):
    schema = {field: column.dtype.type for field, column in model.to_schema().columns.items()}
    height = data.draw(st.integers(0, 12))
    rows = pl.DataFrame(
        {
            field: data.draw(st.lists(_cells(dtype, _CODES), min_size=height, max_size=height))
            for field, dtype in schema.items()
        },
        schema=schema,
    )
    ours = broken_rules(model, rows).sort(pl.all())
    assert ours.rows() == broken_rules_by_pandera(model, rows).sort(pl.all()).rows()


def test_broken_rules_refuses_a_model_feature_it_would_otherwise_skip():
    class UniqueCodes(pa.DataFrameModel):
        code: pl.Utf8 = pa.Field(unique=True)

    with pytest.raises(TypeError, match="unique"):
        broken_rules(UniqueCodes, pl.DataFrame({"code": ["A", "A"]}))


def test_broken_rules_of_a_model_with_nothing_to_check_is_empty():
    class Notes(pa.DataFrameModel):
        note: pl.Utf8 = pa.Field(nullable=True)

    assert broken_rules(Notes, pl.DataFrame({"note": ["x", None]})).is_empty()

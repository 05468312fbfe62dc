"""The message catalogue: every rule has an English and a Chinese message that name the same things."""

from __future__ import annotations

import string

import polars as pl
import pytest

from dealersync.schemas.contract import REJECTED, WARNING
from dealersync.schemas.messages import PLACEHOLDERS, RULES, message, message_expr
from dealersync.schemas.models import MODELS, WARNING_MODELS


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_both_languages_fill_the_same_known_placeholders(rule):
    entry = RULES[rule]
    assert entry.severity in (REJECTED, WARNING)
    assert _placeholders(entry.en) == _placeholders(entry.zh)
    assert _placeholders(entry.en) <= set(PLACEHOLDERS)


def test_every_rule_of_the_models_has_a_message():
    checks = {
        check.error
        for model in [*MODELS.values(), *WARNING_MODELS.values()]
        for column in model.to_schema().columns.values()
        for check in column.checks
    }
    assert checks <= set(RULES)
    assert "required" in RULES  # pandera's not_nullable


def test_warnings_are_the_contract_warnings():
    warnings = {rule for rule, entry in RULES.items() if entry.severity == WARNING}
    # no_customer_file is the loader's: a visit whose customer has no file in the warehouse.
    # customer_differs: "never a silent change" when a customer's rows give two phones (the first loads).
    assert warnings == {
        "vin_check_digit",
        "mileage_backwards",
        "mileage_above_later",  # the loader's: a late visit with more km than a later one already loaded
        "unknown_part_used",
        "no_customer_file",
        "customer_differs",
        "vehicle_changed_owner",  # the loader's: a vehicle the warehouse knew as another customer's
        "error_type_on_correct_shipment",  # 差错类型 on a line whose 发货是否正确 is 是 or blank (= correct)
    }


def test_a_message_names_the_column_as_written_and_says_what_is_accepted():
    text = message("not_a_date", column="出厂日期", cell="2024-02-30")
    assert text == (
        '出厂日期 "2024-02-30" is not a date from 1950 to 2099; write it as 2024-03-05, 2024/3/5, 2024年3月5日 or an Excel date'
    )
    assert message(
        "pickup_before_intake",
        "zh",
        column="出厂日期",
        value="2024-03-01",
        other_column="进厂日期",
        other_value="2024-03-04",
    ) == ("出厂日期 2024-03-01 早于进厂日期 2024-03-04，应不早于进厂日期（车辆未出厂时留空）")


def test_the_expression_gives_the_same_text_per_row():
    frame = pl.DataFrame({"cell": ["x", None]})
    texts = frame.select(message_expr("not_a_number", "en", column="里程", cell=pl.col("cell"))).to_series()
    assert texts.to_list() == [message("not_a_number", column="里程", cell=cell) for cell in ("x", "")]

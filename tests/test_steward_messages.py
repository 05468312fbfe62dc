"""The message catalogue as a steward reads it: each rule names the column, shows the value, says what to write."""

from __future__ import annotations

import string

import duckdb
import pytest

from dealersync.schemas.messages import PLACEHOLDERS, RULES, message, message_sql

# Rules about a cell left blank: there is no value to show.
BLANK_CELL_RULES = {
    "missing_column",
    "required",
    "resolution_required",
    "error_type_required",
    "work_order_required",
    "campaign_required",
    "complaint_required",
}
SAMPLE = {
    "column": "出厂日期",
    "cell": "2024/2/30",
    "value": "2024-03-01",
    "other_column": "进厂日期",
    "other_cell": "2024/3/4",
    "other_value": "2024-03-04",
    "row": "7",
    "accepted": "保养 (maintenance), 维修 (repair)",
}


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_every_message_names_the_column_shows_the_value_and_says_what_to_write(rule):
    for language, template in (("en", RULES[rule].en), ("zh", RULES[rule].zh)):
        used = _placeholders(template)
        assert "column" in used, (rule, language)
        if rule not in BLANK_CELL_RULES:
            assert used & {"cell", "value"}, (rule, language)
        # After saying what is wrong, each message says what to do: "...; write ..." / "...，请..."
        advice = template.split("{column}", 1)[1]
        assert any(mark in advice for mark in (";", ": ", "，", "：")), (rule, language)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_the_sql_form_gives_the_same_text_as_the_catalogue(rule):
    """The loader writes its warehouse warnings with message_sql: same words as message()."""
    for language in ("en", "zh"):
        expected = message(rule, language, **SAMPLE)
        literal = {name: "'" + value.replace("'", "''") + "'" for name, value in SAMPLE.items()}
        (found,) = duckdb.sql(f"SELECT {message_sql(rule, language, **literal)}").fetchall()[0]
        assert found == expected


def test_an_optional_placeholder_may_be_left_out():
    assert set(PLACEHOLDERS) >= {"earlier"}
    plain = message("mileage_backwards", column="里程", value="3000", other_value="5000")
    assert plain.startswith("里程 3000 is lower than 5000 km at an earlier visit of the same VIN;")
    (found,) = duckdb.sql(
        "SELECT " + message_sql("mileage_backwards", "zh", column="'里程'", value="3000", other_value="5000")
    ).fetchall()[0]
    assert found == message("mileage_backwards", "zh", column="里程", value="3000", other_value="5000")


def test_the_warehouse_warnings_come_from_the_catalogue():
    """The loader's warnings (mileage_backwards and mileage_above_later, no_customer_file,
    vehicle_changed_owner) use the catalogue's texts."""
    from pathlib import Path

    import dealersync.warehouse.load as load

    source = Path(load.__file__).read_text(encoding="utf-8")
    assert "message_sql(rule, language" in source
    for rule in ("NO_CUSTOMER_FILE", "VEHICLE_CHANGED_OWNER"):
        assert f"rule={rule}," in source
    assert "(MILEAGE_BACKWARDS, False," in source and "(MILEAGE_ABOVE_LATER, True," in source
    assert set(load.LOADER_RULES) <= set(RULES)
    assert "format('" not in source

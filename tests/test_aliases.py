"""Aliases as data: the shipped synonyms, a steward's own aliases.toml picked up without a release, clear refusals."""

from __future__ import annotations

from datetime import date

import pytest
from cli_main import run_main
from typer.testing import CliRunner
from workbooks import write_xlsx

from dealersync.flows.cli import app
from dealersync.pipeline import process_file
from dealersync.reader import FileRefused, read_workbook
from dealersync.schemas.aliases import AliasError, clean_label, load_aliases
from dealersync.settings import Settings
from dealersync.steward import alias_suggestions, sheet_kind_suggestions
from dealersync.transforms.validate import Refs

TODAY = date(2026, 11, 20)
VIN = "LJ1DS10A7RA000123"
UNKNOWN_PHONE_HEADER = "车主联系手机"  # not in the shipped list; closest to 联系手机 (phone)


def customers_sheet(phone_header: str, *extra: tuple[str, str]) -> dict[str, list[list[object]]]:
    headers = ["经销商代码", "客户编号", "客户名称", phone_header, "车架号", "车型", *(h for h, _ in extra)]
    row = ["D0001", "C0001", "张敏", "13812345678", VIN, "DS-100", *(v for _, v in extra)]
    return {"客户档案": [headers, row]}


@pytest.mark.parametrize(
    ("kind", "header", "field"),
    [
        # The issue's own examples, then some of the broader list.
        ("customers", "手机", "phone"),
        ("customers", "电话", "phone"),
        ("customers", "联系方式", "phone"),
        ("customers", "客户姓名", "name"),
        ("customers", "VIN码", "vin"),
        ("customers", "车辆识别代号", "vin"),
        ("service_visits", "是否保修期内？", "under_warranty"),  # a full-width question mark
        ("service_visits", "是否保修期内?", "under_warranty"),
        ("service_visits", "进站日期", "intake_date"),
        ("service_visits", "维修性质", "visit_type"),
        ("follow_up_calls", "回访员", "staff"),
        ("follow_up_calls", "回訪狀態", "outcome"),  # traditional Chinese folds to 回访状态
        ("complaints", "投诉事由", "description"),
        ("part_shipments", "实发数", "qty_shipped"),
        ("dealers", "服务商代码", "dealer_code"),
    ],
)
def test_dealers_headers_map_to_their_fields(aliases, kind, header, field):
    assert aliases.field_for(kind, header) == field


@pytest.mark.parametrize(
    ("enum", "label", "code"),
    [
        ("outcome", "已回访", "reached"),
        ("outcome", "回访成功", "reached"),
        ("outcome", "无法接通", "no_answer"),
        ("call_type", "交车回访", "first_follow_up"),
        ("visit_type", "三包维修", "warranty"),
    ],
)
def test_dealers_labels_map_to_their_codes(aliases, enum, label, code):
    assert aliases.enum_code(enum, label) == code


def test_question_marks_are_punctuation_when_comparing_labels():
    assert clean_label("是否保修期内？") == clean_label("是否保修期内") == "是否保修期内"
    assert clean_label("Warranty?!") == "warranty"


def test_a_header_with_a_question_mark_is_read(tmp_path, aliases):
    headers = ["经销商代码", "工单号", "客户编号", "车架号", "进厂日期", "类型", "是否保修期内？"]
    row = ["D0001", "WO1", "C0001", VIN, date(2026, 3, 1), "维修", "是"]
    path = write_xlsx(tmp_path / "v.xlsx", {"维修记录": [headers, row]})
    (sheet,) = read_workbook(path, aliases).sheets
    assert sheet.headers["under_warranty"] == "是否保修期内？"
    assert sheet.extra_headers == []


def test_a_stewards_alias_that_would_mean_two_fields_is_refused(tmp_path):
    steward = tmp_path / "aliases.toml"
    steward.write_text('[headers.customers]\nphone = ["客户名称"]\n', encoding="utf-8")
    with pytest.raises(AliasError) as refused:
        load_aliases(steward)
    assert str(steward) in str(refused.value)
    assert "'name'" in str(refused.value) and "'phone'" in str(refused.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[headers.customer]\nphone = ["x"]\n', "[headers.customer] is not a sheet"),
        ('[headers.customers]\nmobile = ["x"]\n', "'mobile' is not a column of that sheet"),
        ('[enums.outcome]\nreached = ["", " "]\n', "is empty once spaces and punctuation are removed"),
        ("[headers.customers\n", "cannot read the alias file"),
    ],
)
def test_a_stewards_alias_file_with_a_mistake_says_what_to_change(tmp_path, content, message):
    steward = tmp_path / "aliases.toml"
    steward.write_text(content, encoding="utf-8")
    with pytest.raises(AliasError) as refused:
        load_aliases(steward)
    assert message in str(refused.value)


def test_two_columns_meaning_one_field_refuse_the_file_naming_both(tmp_path):
    steward = tmp_path / "aliases.toml"
    steward.write_text('[headers.customers]\nphone = ["备用电话"]\n', encoding="utf-8")
    path = write_xlsx(tmp_path / "c.xlsx", customers_sheet("联系电话", ("备用电话", "13900000000")))
    read_workbook(path, load_aliases())  # without the steward's alias, 备用电话 is an extra column
    with pytest.raises(FileRefused) as refused:
        read_workbook(path, load_aliases(steward))
    reason = refused.value.reason
    assert "'联系电话' (column D)" in reason and "'备用电话' (column G)" in reason and "phone" in reason


def test_an_unknown_header_gets_the_alias_line_that_would_map_it(tmp_path, aliases):
    path = write_xlsx(tmp_path / "c.xlsx", customers_sheet(UNKNOWN_PHONE_HEADER, ("录入人", "王伟")))
    parsed = process_file(path, today=TODAY, aliases=aliases, refs=Refs(), settings=Settings())
    (suggestion,) = alias_suggestions(parsed, aliases, tmp_path / "aliases.toml")
    assert (suggestion.header, suggestion.field) == (UNKNOWN_PHONE_HEADER, "phone")
    assert suggestion.toml == f'[headers.customers]\nphone = ["{UNKNOWN_PHONE_HEADER}"]'
    # The steward's file already lists phone aliases: the line to write keeps them.
    steward = tmp_path / "aliases.toml"
    steward.write_text('[headers.customers]\nphone = ["手机号2"]\n', encoding="utf-8")
    (again,) = alias_suggestions(parsed, aliases, steward)
    assert again.line == f'phone = ["手机号2", "{UNKNOWN_PHONE_HEADER}"]'
    assert "replace the phone line under [headers.customers]" in again.text


def test_a_sheet_named_for_one_kind_holding_another_is_told_to_rename_not_to_add_aliases(tmp_path, aliases):
    visits = [["经销商代码", "工单号", "客户编号", "车架号", "进厂日期", "出厂日期", "类型"]]
    visits.append(["D0012", "N01", "K001", "LGWEF4A539BH00001", "2026-11-10", "2026-11-11", "保养"])
    path = write_xlsx(tmp_path / "m.xlsx", {"客户档案": visits})
    parsed = process_file(path, today=TODAY, aliases=aliases, refs=Refs(), settings=Settings())
    (misnamed,) = sheet_kind_suggestions(parsed, aliases)
    assert (misnamed.kind, misnamed.fits, misnamed.fields) == ("customers", "service_visits", 7)
    assert "rename the sheet to 维修保养记录" in misnamed.text
    # no purchase_date alias for both 进厂日期 and 出厂日期, which would get the file refused
    assert alias_suggestions(parsed, aliases, None) == []


def test_a_field_is_suggested_for_one_header_at_most(tmp_path, aliases):
    path = write_xlsx(
        tmp_path / "c.xlsx", customers_sheet(UNKNOWN_PHONE_HEADER, ("车主联系手机号", "13900000000"))
    )
    parsed = process_file(path, today=TODAY, aliases=aliases, refs=Refs(), settings=Settings())
    assert [s.field for s in alias_suggestions(parsed, aliases, None)].count("phone") == 1


def test_validate_suggests_the_line_and_the_stewards_file_is_used_at_once(tmp_path, monkeypatch):
    monkeypatch.setenv("DEALERSYNC_DATA_DIR", str(tmp_path))
    path = write_xlsx(tmp_path / "c.xlsx", customers_sheet(UNKNOWN_PHONE_HEADER))
    runner = CliRunner()
    first = runner.invoke(app, ["validate", str(path), "--today", TODAY.isoformat()], catch_exceptions=False)
    assert first.exit_code == 1, first.output
    assert "the sheet has no 联系电话 column; it is required" in first.output
    assert "[headers.customers]" in first.output
    line = f'phone = ["{UNKNOWN_PHONE_HEADER}"]'
    assert line in first.output
    # The steward pastes the two lines into aliases.toml beside the warehouse; no release, no restart.
    (tmp_path / "aliases.toml").write_text(f"[headers.customers]\n{line}\n", encoding="utf-8")
    second = runner.invoke(app, ["validate", str(path), "--today", TODAY.isoformat()], catch_exceptions=False)
    assert second.exit_code == 0, second.output
    assert "alias?" not in second.output


def test_a_broken_stewards_file_is_one_line_not_a_traceback(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DEALERSYNC_DATA_DIR", str(tmp_path))
    (tmp_path / "aliases.toml").write_text('[headers.customers]\nphone = ["客户名称"]\n', encoding="utf-8")
    path = write_xlsx(tmp_path / "c.xlsx", customers_sheet("联系电话"))
    code, _, err = run_main(["validate", path], capsys, monkeypatch)
    assert code == 2
    assert "would mean both 'name' and 'phone'" in err and "Traceback" not in err


@pytest.mark.slow
@pytest.mark.xdist_group("prefect")
def test_the_next_night_reads_the_stewards_alias(tmp_path, monkeypatch, prefect_harness):
    """A header the night could not read, an alias line added beside the warehouse, the file sent again."""
    from prefect.task_runners import ThreadPoolTaskRunner

    from dealersync.flows.nightly import nightly
    from dealersync.warehouse.db import connect

    monkeypatch.setenv("DEALERSYNC_DATA_DIR", str(tmp_path))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    sheets = customers_sheet(UNKNOWN_PHONE_HEADER)
    write_xlsx(
        inbox / "总部.xlsx", {"经销商": [["经销商代码", "经销商名称", "区域"], ["D0001", "郑州宏达", "华中"]]}
    )
    write_xlsx(inbox / "D0001_客户.xlsx", sheets)
    night = nightly.with_options(task_runner=ThreadPoolTaskRunner(max_workers=2))
    first = night(inbox=inbox, warehouse=tmp_path / "warehouse.duckdb", today=TODAY)
    assert [(f.status, f.rows_loaded, f.rows_rejected) for f in first.files] == [
        ("loaded", 1, 0),
        ("loaded", 0, 1),
    ]
    (tmp_path / "aliases.toml").write_text(
        f'[headers.customers]\nphone = ["{UNKNOWN_PHONE_HEADER}"]\n', encoding="utf-8"
    )
    # The same workbook sent again (re-saved by the dealer, so its bytes differ).
    write_xlsx(inbox / "D0001_客户.xlsx", {"客户档案": [*sheets["客户档案"], []]})
    second = night(inbox=inbox, warehouse=tmp_path / "warehouse.duckdb", today=TODAY)
    assert [(f.status, f.rows_loaded, f.rows_rejected) for f in second.files] == [("loaded", 1, 0)]
    con = connect(tmp_path / "warehouse.duckdb", read_only=True)
    try:
        assert con.sql("SELECT phone FROM core.customers_current").fetchall() == [("13812345678",)]
        entries = con.sql("SELECT rule, resolved_by_run FROM quarantine.rejected_rows").fetchall()
    finally:
        con.close()
    assert entries == [("missing_column", second.run_id)]

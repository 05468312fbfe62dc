"""Blank templates: the contract's sheets and headers, exact dropdowns, help on every column; filled in, they validate clean."""

from __future__ import annotations

from datetime import date, datetime

import openpyxl
import pytest
from cli_main import run_main
from typer.testing import CliRunner

from dealersync.exports.template import INSTRUCTIONS, accepted_labels, write_template
from dealersync.flows.cli import app
from dealersync.schemas.contract import BOOL, DATE, DATETIME, ENUM, SHEETS, SOURCES
from dealersync.settings import Settings
from dealersync.validation import validate_files

TODAY = date(2026, 11, 20)
VIN = "LJ1DS10A7RA000123"

# One valid row per sheet, by Chinese header, as a steward would type it into the template.
FILLED = {
    "dealers": {
        "经销商代码": "D0001",
        "经销商名称": "郑州宏达电动车销售服务有限公司",
        "区域": "华中",
        "省份": "河南",
        "城市": "郑州",
        "负责人": "王伟",
        "联系电话": "0371-88886666",
        "巡回服务人员": "李强",
        "是否有服务站": "是",
        "是否有效": "是",
    },
    "parts": {
        "配件编号": "QT001",
        "配件名称": "刹车片",
        "部件类别": "其他",
        "是否关键件": "否",
        "单价": 12.5,
    },
    "campaigns": {
        "活动编号": "CP2026",
        "活动名称": "冬季免费检测",
        "活动类型": "免费检测",
        "开始日期": date(2026, 12, 1),
        "结束日期": date(2026, 12, 31),
        "适用区域": "华中",
        "适用车型": "DS-100",
    },
    "customers": {
        "经销商代码": "D0001",
        "客户编号": "00123",
        "客户名称": "张敏",
        "联系电话": "13812345678",
        "地址": "郑州市建设路 8 号",
        "地区": "华中",
        "联系人": "张敏",
        "车架号": VIN,
        "车牌号": "豫A12345",
        "车型": "DS-100",
        "车种": "电动三轮车",
        "购车日期": date(2025, 5, 1),
        "保修截止日期": date(2027, 5, 1),
        "客户希望得到的服务": "保养到期提醒",
    },
    "service_visits": {
        "经销商代码": "D0001",
        "工单号": "WO0001",
        "客户编号": "00123",
        "车架号": VIN,
        "进厂日期": date(2026, 11, 10),
        "出厂日期": date(2026, 11, 11),
        "类型": "保养",
        "维修保养项目": "定期保养",
        "更换配件": "QT001",
        "里程": 3200,
        "金额": 150.0,
        "保养周期(天)": 180,
        "下次保养日期": date(2027, 5, 10),
        "是否保修期内": "是",
        "服务顾问": "刘洋",
    },
    "follow_up_calls": {
        "经销商代码": "D0001",
        "记录编号": "R0001",
        "通话时间": datetime(2026, 11, 14, 10, 30),
        "呼入/呼出": "呼出",
        "通话类型": "首次回访",
        "客户编号": "00123",
        "工单号": "WO0001",
        "业务员": "陈静",
        "结果": "接通",
        "满意度": "满意",
        "客户意见/要求": "希望增加周末服务",
        "是否需处理": "否",
        "备注": "",
    },
    "letters": {
        "经销商代码": "D0001",
        "信函编号": "L0001",
        "客户编号": "00123",
        "寄出日期": date(2026, 11, 15),
        "信函类型": "邀请函",
        "活动编号": "CP2026",
    },
    "complaints": {
        "经销商代码": "D0001",
        "投诉编号": "K0001",
        "受理日期": date(2026, 11, 12),
        "客户编号": "00123",
        "车架号": VIN,
        "来源": "电话",
        "类别": "服务态度",
        "部件": "其他",
        "投诉内容": "接待人员态度冷淡",
        "严重程度": "一般",
        "上报日期": date(2026, 11, 12),
        "解决日期": date(2026, 11, 13),
        "处理结果": "当面致歉",
        "客户是否满意": "是",
    },
    "part_shipments": {
        "出库单行号": "S0001-1",
        "订单号": "PO0001",
        "经销商代码": "D0001",
        "配件编号": "QT001",
        "订购数量": 5,
        "发货数量": 5,
        "发货日期": date(2026, 11, 3),
        "发货是否正确": "是",
    },
    "part_failures": {
        "反馈编号": "F0001",
        "反馈日期": date(2026, 11, 5),
        "经销商代码": "D0001",
        "车架号": VIN,
        "配件编号": "QT001",
        "部件类别": "其他",
        "批次号": "B2501",
        "生产日期": date(2025, 1, 10),
        "故障里程": 3000,
        "故障现象": "刹车异响",
        "工单号": "WO0001",
    },
    "part_batches": {
        "配件编号": "QT001",
        "批次号": "B2501",
        "生产日期": date(2025, 1, 10),
        "批次数量": 500,
        "供应商": "台州减震器厂",
    },
}


def dropdowns(sheet) -> dict[str, tuple[str, ...]]:
    """Header -> the labels of the list validation covering its column."""
    headers = {cell.column_letter: cell.value for cell in sheet[1]}
    found = {}
    for validation in sheet.data_validations.dataValidation:
        if validation.type == "list":
            column = str(validation.sqref).split(":")[0].rstrip("0123456789")
            found[headers[column]] = tuple(validation.formula1.strip('"').split(","))
    return found


def column_format(sheet, column: int) -> str:
    """The number format a column carries (adjacent columns alike are stored as one range)."""
    for dimension in sheet.column_dimensions.values():
        if dimension.min <= column <= dimension.max:
            return dimension.number_format
    return "General"


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    folder = tmp_path_factory.mktemp("templates")
    return {source: write_template(source, folder / f"{source}.xlsx") for source in SOURCES}


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_the_template_has_the_contracts_sheets_and_chinese_headers(templates, source):
    book = openpyxl.load_workbook(templates[source])
    assert book.sheetnames == [INSTRUCTIONS, *(SHEETS[kind].zh for kind in SOURCES[source])]
    for kind in SOURCES[source]:
        assert [c.value for c in book[SHEETS[kind].zh][1]] == [c.zh for c in SHEETS[kind].columns]


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_every_enum_and_yes_no_column_drops_down_exactly_the_contracts_labels(templates, source):
    book = openpyxl.load_workbook(templates[source])
    for kind in SOURCES[source]:
        spec = SHEETS[kind]
        expected = {
            c.zh: tuple(zh for _, zh in c.enum.labels) if c.type == ENUM else ("是", "否")
            for c in spec.columns
            if c.type in (ENUM, BOOL)
        }
        assert dropdowns(book[spec.zh]) == expected, kind


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_date_columns_are_formatted_and_every_column_explains_itself(templates, source):
    book = openpyxl.load_workbook(templates[source])
    for kind in SOURCES[source]:
        sheet = book[SHEETS[kind].zh]
        prompts = {
            str(v.sqref).split(":")[0].rstrip("0123456789"): v for v in sheet.data_validations.dataValidation
        }
        for cell, column in zip(sheet[1], SHEETS[kind].columns, strict=True):
            letter = cell.column_letter
            if column.type == DATE:
                assert column_format(sheet, cell.column) == "yyyy-mm-dd", column.name
            if column.type == DATETIME:
                assert column_format(sheet, cell.column) == "yyyy-mm-dd hh:mm", column.name
            help_text = prompts[letter]
            assert help_text.showInputMessage and help_text.promptTitle == column.zh
            assert ("必填" in help_text.prompt) == column.required, column.name
            assert column.doc[:30] in help_text.prompt
    instructions = [row for row in book[INSTRUCTIONS].iter_rows(values_only=True) if row[1]]
    listed = {(row[0], row[1]) for row in instructions}
    assert all((SHEETS[k].zh, c.zh) in listed for k in SOURCES[source] for c in SHEETS[k].columns)


def test_templates_filled_in_with_valid_data_validate_clean(templates, tmp_path):
    filled = []
    for source, path in templates.items():
        book = openpyxl.load_workbook(path)
        for kind in SOURCES[source]:
            sheet = book[SHEETS[kind].zh]
            labels = dropdowns(sheet)
            row = FILLED[kind]
            for cell in sheet[1]:
                value = row.get(cell.value)
                if value in (None, ""):
                    continue
                if cell.value in labels:
                    assert value in labels[cell.value], (kind, cell.value)  # picked from the dropdown
                sheet.cell(row=2, column=cell.column, value=value)
        book.save(tmp_path / f"{source}_filled.xlsx")
        filled.append(tmp_path / f"{source}_filled.xlsx")
    report = validate_files(filled, settings=Settings(data_dir=tmp_path), today=TODAY, warehouse=None)
    assert "dealers, parts, campaigns from reference_filled.xlsx" in report.references
    for parsed in report.files:
        assert parsed.status == "parsed", parsed.reason
        assert parsed.problems.is_empty(), parsed.problems.select("sheet", "message").rows()
        assert {s.kind for s in parsed.sheets} == set(SOURCES[parsed.source])
        assert all(s.rows_read == 1 and s.clean.height == 1 for s in parsed.sheets)
        # The instructions sheet is the only one skipped, with a reason.
        assert [name for name, _ in parsed.skipped_sheets] == [INSTRUCTIONS]
    assert report.exit_code == 0
    customer = next(s for p in report.files for s in p.sheets if s.kind == "customers")
    assert customer.clean["customer_id"].to_list() == ["00123"]  # a text column keeps its leading zeros


def test_accepted_labels_are_the_dropdown_values():
    column = SHEETS["follow_up_calls"].column("outcome")
    assert accepted_labels(column) == ("接通", "未接通", "空号/错号", "拒访")
    assert accepted_labels(SHEETS["complaints"].column("customer_satisfied")) == ("是", "否")
    assert accepted_labels(SHEETS["customers"].column("name")) == ()


def test_the_template_command_writes_the_file(tmp_path):
    out = tmp_path / "经销商台账模板.xlsx"
    result = CliRunner().invoke(app, ["template", "dealer", "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(out).sheetnames[1] == "客户档案"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["template", "dealers", "--out", "t.xlsx"], "there is no 'dealers' template; choose one of dealer"),
        (["template", "dealer", "--out", "t.xls"], "a template is an .xlsx workbook"),
        (["template", "dealer", "--out", "existing.xlsx"], "already exists; pass --force"),
    ],
)
def test_template_mistakes_end_in_one_line(args, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "existing.xlsx").write_bytes(b"keep me")
    code, _, err = run_main(args, capsys, monkeypatch)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert (tmp_path / "existing.xlsx").read_bytes() == b"keep me"

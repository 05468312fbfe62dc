"""Blank workbooks a dealer, the parts warehouse or head office can fill in: the contract's sheets with dropdowns and help."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from dealersync.exports.cells import xlsx_written_whole
from dealersync.schemas.contract import (
    BOOL,
    DATE,
    DATETIME,
    DEC,
    DEFAULTS,
    ENUM,
    INT,
    SHEETS,
    SOURCES,
    STR,
    Column,
)

YES_NO_LABELS = ("是", "否")
INSTRUCTIONS = "填写说明 Instructions"
LAST_ROW = 1_048_575  # Excel's last row (0-based): dropdowns and help cover the whole column
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)

TITLES = {
    "dealer": "经销商客服台账模板 Dealer workbook",
    "warehouse": "售后配件库数据模板 Parts-warehouse workbook",
    "reference": "总部基础资料模板 Head-office reference workbook",
}
TYPE_HINT = {
    "str": "文本 text",
    "int": "整数 whole number",
    "dec": "数字，最多 2 位小数 number, 2 decimals",
    "date": "日期，如 2024-03-05 date",
    "datetime": "日期时间，如 2024-03-05 14:30 date and time",
    "bool": "是/否 yes/no",
    "enum": "从下拉列表选择 pick from the list",
}
NUMBER_FORMATS = {STR: "@", INT: "0", DEC: "0.00", DATE: "yyyy-mm-dd", DATETIME: "yyyy-mm-dd hh:mm"}
STEPS = (
    "1. 每个工作表是一种记录，第 1 行是列名：请勿修改列名和工作表名。"
    " One sheet per kind of record; row 1 holds the column names: keep them and the sheet names as they are.",
    "2. 橙色列名为必填项，其余可留空。 Orange headers are required; the others may be left blank.",
    "3. 带下拉箭头的列请从列表中选择。 Pick the values of columns with a dropdown from the list.",
    "4. 日期写成 2024-03-05，或使用 Excel 日期。 Write dates as 2024-03-05, or use Excel dates.",
    "5. 用不到的工作表可以删除或留空。 Sheets you do not use may be deleted or left empty.",
    "6. 发送前可用 dealersync validate 文件名 检查。 Before sending, check the file with: dealersync validate FILE",
)


class UnknownSource(ValueError):
    """A template asked for a source the contract does not have."""


def write_template(source: str, path: Path) -> Path:
    """A blank workbook for `source` (dealer, warehouse or reference): an instructions sheet, then one sheet per kind.

    Each data sheet has the contract's Chinese headers in row 1, a dropdown of the contract's Chinese
    labels on every enum and yes/no column, date formats on date columns, text format on text columns
    (codes keep their leading zeros) and an input message explaining each column.
    """
    if source not in SOURCES:
        raise UnknownSource(f"there is no {source!r} template; choose one of {', '.join(SOURCES)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with xlsx_written_whole(path) as book:
        formats = {
            "title": book.add_format({"bold": True, "font_size": 14}),
            "header": book.add_format({"bold": True, "border": 1, "bg_color": "#DDEBF7", "text_wrap": True}),
            "required": book.add_format(
                {"bold": True, "border": 1, "bg_color": "#F8CBAD", "text_wrap": True}
            ),
            "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
            **{kind: book.add_format({"num_format": pattern}) for kind, pattern in NUMBER_FORMATS.items()},
        }
        _instructions(book, source, formats)
        for kind in SOURCES[source]:
            _data_sheet(book, kind, formats)
    return path


def accepted_labels(column: Column) -> tuple[str, ...]:
    """What a column's dropdown lists: the contract's Chinese labels of its enum, or 是/否."""
    if column.type == ENUM and column.enum is not None:
        return tuple(zh for _, zh in column.enum.labels)
    if column.type == BOOL:
        return YES_NO_LABELS
    return ()


def _instructions(book, source: str, formats: dict) -> None:
    sheet = book.add_worksheet(INSTRUCTIONS)
    sheet.write_string(0, 0, TITLES[source], formats["title"])
    for row, step in enumerate(STEPS, start=2):
        sheet.write_string(row, 0, step)
    top = len(STEPS) + 3
    headers = (
        "工作表 Sheet",
        "列名 Column",
        "字段 Field",
        "必填 Required",
        "类型 Type",
        "可选值 Accepted",
        "说明 Notes",
    )
    for column, (text, width) in enumerate(zip(headers, (16, 16, 22, 10, 24, 40, 60), strict=True)):
        sheet.write_string(top, column, text, formats["header"])
        sheet.set_column(column, column, width)
    row = top + 1
    for kind in SOURCES[source]:
        spec = SHEETS[kind]
        for column in spec.columns:
            values = (
                spec.zh,
                column.zh,
                column.name,
                "必填" if column.required else "",
                TYPE_HINT[column.type],
                "、".join(accepted_labels(column)),
                _note(kind, column),
            )
            for position, text in enumerate(values):
                sheet.write_string(row, position, text, formats["wrap"])
            row += 1


def _data_sheet(book, kind: str, formats: dict) -> None:
    spec = SHEETS[kind]
    sheet = book.add_worksheet(spec.zh)
    sheet.freeze_panes(1, 0)
    for position, column in enumerate(spec.columns):
        sheet.write_string(0, position, column.zh, formats["required" if column.required else "header"])
        number_format = formats.get(column.type) if column.type in NUMBER_FORMATS else None
        sheet.set_column(position, position, max(12, 2 * len(column.zh) + 4), number_format)
        sheet.data_validation(1, position, LAST_ROW, position, _validation(kind, column))


def _validation(kind: str, column: Column) -> dict:
    """The dropdown (enum, yes/no), the date range, or only the input message of one column."""
    help_text = {"input_title": column.zh[:32], "input_message": _input_message(kind, column)}
    labels = accepted_labels(column)
    if labels:
        return {
            "validate": "list",
            "source": list(labels),
            "error_type": "warning",
            "error_title": column.zh[:32],
            "error_message": f"请从下拉列表中选择：{'、'.join(labels)}"[:255],
            **help_text,
        }
    if column.type in (DATE, DATETIME):
        return {
            "validate": "date",
            "criteria": "between",
            "minimum": EARLIEST,
            "maximum": LATEST,
            "error_type": "warning",
            "error_title": column.zh[:32],
            "error_message": "请填写日期，如 2024-03-05 / write a date such as 2024-03-05",
            **help_text,
        }
    return {"validate": "any", **help_text}


def _note(kind: str, column: Column) -> str:
    """A column's explanation: the contract's doc, and what a blank cell means when it means something."""
    default = DEFAULTS.get(kind, {}).get(column.name)
    if default is None:
        return column.doc
    shown = dict(zip((True, False), YES_NO_LABELS, strict=True)).get(default, default)  # type: ignore[call-overload]
    if column.enum is not None and isinstance(default, str):
        shown = column.enum.zh(default)
    return f"{column.doc} (留空 = {shown})"


def _input_message(kind: str, column: Column) -> str:
    """What Excel shows when the cell is selected: required or not, the type, and the contract's explanation."""
    parts = [
        "必填 Required." if column.required else "选填 Optional.",
        TYPE_HINT[column.type] + ".",
        _note(kind, column),
    ]
    return _fit(" ".join(part for part in parts if part), 255)


def _fit(text: str, limit: int) -> str:
    """Text within Excel's limit, counted in UTF-16 units as Excel counts."""
    while len(text.encode("utf-16-le")) // 2 > limit:
        text = text[:-2] + "…"
    return text

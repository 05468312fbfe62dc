"""The message catalogue: for every rule id, its verdict and the English and Chinese message a steward reads."""

from __future__ import annotations

import string
from dataclasses import dataclass

import polars as pl

from dealersync.schemas.contract import REJECTED, WARNING

# Placeholders a template may use. `column` is the header as the sheet wrote it, `cell` the cell as
# written, `value` the value as read (dates as 2024-03-05); `other_*` the same for the column the rule
# compares with (for `in_future`, other_value is the day of the run); `row` an Excel row; `accepted`
# what the column would accept (an enum's labels); `earlier` where a compared value was recorded, in the
# message's language (optional: blank when not given).
PLACEHOLDERS = (
    "column",
    "cell",
    "value",
    "other_column",
    "other_cell",
    "other_value",
    "row",
    "accepted",
    "earlier",
)
OPTIONAL_PLACEHOLDERS = {"earlier": ""}

DATE_FORMS_EN = "2024-03-05, 2024/3/5, 2024年3月5日 or an Excel date"
DATE_FORMS_ZH = "2024-03-05、2024/3/5、2024年3月5日或 Excel 日期"
YES_NO = "是/否, Y/N, yes/no, true/false, 1/0 or √/×"
PHONE_EN = "an 11-digit mobile (13812345678) or a landline with its area code (010-88886666)"
PHONE_ZH = "11 位手机号（13812345678）或带区号的座机号（010-88886666）"


@dataclass(frozen=True)
class Rule:
    """One rule: its id, whether breaking it rejects the row or only warns, and its two messages."""

    id: str
    severity: str
    en: str
    zh: str


def _rules(*rules: Rule) -> dict[str, Rule]:
    return {rule.id: rule for rule in rules}


RULES: dict[str, Rule] = _rules(
    # The sheet and the cell as read.
    Rule(
        "missing_column",
        REJECTED,
        "the sheet has no {column} column; it is required, add it",
        "表中缺少必填列“{column}”，请补上该列",
    ),
    Rule(
        "required",
        REJECTED,
        "{column} is blank; it is required, fill it in",
        "{column}为空，此项必填，请填写",
    ),
    Rule(
        "excel_error",
        REJECTED,
        '{column} shows the Excel error "{cell}" (its formula failed); correct the formula or type the value itself',
        "{column}显示 Excel 错误值“{cell}”（公式出错），请更正公式或直接填写内容",
    ),
    Rule(
        "not_a_date",
        REJECTED,
        f'{{column}} "{{cell}}" is not a date from 1950 to 2099; write it as {DATE_FORMS_EN}',
        f"{{column}}“{{cell}}”不是 1950 至 2099 年间的有效日期，请写成 {DATE_FORMS_ZH}",
    ),
    Rule(
        "not_a_datetime",
        REJECTED,
        f'{{column}} "{{cell}}" is not a date and time from 1950 to 2099; write it as 2024-03-05 14:30, '
        f"2024/3/5 14:30:00, {DATE_FORMS_EN} (a date alone is 00:00)",
        f"{{column}}“{{cell}}”不是 1950 至 2099 年间的有效日期时间，请写成 2024-03-05 14:30、2024/3/5 14:30:00、"
        f"{DATE_FORMS_ZH}（只写日期按 00:00 计）",
    ),
    Rule(
        "not_a_number",
        REJECTED,
        '{column} "{cell}" is not a number; write digits such as 12000 or 12,000, optionally with its unit',
        "{column}“{cell}”不是数字，请写成 12000 或 12,000 这样的数字，可带单位",
    ),
    Rule(
        "not_whole_number",
        REJECTED,
        '{column} "{cell}" is not a whole number; write it without decimals',
        "{column}“{cell}”不是整数，请不要写小数",
    ),
    Rule(
        "too_many_decimals",
        REJECTED,
        '{column} "{cell}" has more than 2 decimal places; round it to the cent (e.g. 12.35)',
        "{column}“{cell}”的小数超过 2 位，请精确到分（如 12.35）",
    ),
    Rule(
        "not_yes_no",
        REJECTED,
        f'{{column}} "{{cell}}" is not yes or no; write {YES_NO}',
        f"{{column}}“{{cell}}”不是“是/否”，请写 {YES_NO}",
    ),
    Rule(
        "not_in_list",
        REJECTED,
        '{column} "{cell}" is not one of the accepted values: {accepted}',
        "{column}“{cell}”不是可选值，可选：{accepted}",
    ),
    Rule(
        "not_a_phone",
        REJECTED,
        f'{{column}} "{{cell}}" is not a phone number; write {PHONE_EN}',
        f"{{column}}“{{cell}}”不是电话号码，请写 {PHONE_ZH}",
    ),
    # The values and how they fit together.
    Rule(
        "phone_shape",
        REJECTED,
        f'{{column}} "{{cell}}" ({{value}}) has the wrong number of digits; write {PHONE_EN}',
        f"{{column}}“{{cell}}”（{{value}}）位数不对，请写 {PHONE_ZH}",
    ),
    Rule(
        "vin_format",
        REJECTED,
        '{column} "{cell}" is not a VIN: a VIN has 17 letters and digits, without I, O or Q',
        "{column}“{cell}”不是有效车架号：车架号为 17 位字母和数字，不含 I、O、Q",
    ),
    Rule(
        "vin_check_digit",
        WARNING,
        "{column} {value}: the check digit (9th character) does not match the other characters; "
        "check the VIN against the vehicle",
        "{column} {value}：第 9 位校验位与其余字符不符，请核对车架号",
    ),
    Rule(
        "in_future",
        REJECTED,
        "{column} {value} is in the future; write a day on or before {other_value}, the day of the run",
        "{column} {value} 是将来的日期，应不晚于处理日期 {other_value}",
    ),
    Rule(
        "negative",
        REJECTED,
        "{column} {value} is negative; it must be 0 or more",
        "{column} {value} 为负数，应不小于 0",
    ),
    Rule(
        "not_positive",
        REJECTED,
        "{column} {value} must be more than 0; write a whole number of at least 1",
        "{column} {value} 应大于 0，请填写不小于 1 的整数",
    ),
    Rule(
        "mileage_range",
        REJECTED,
        "{column} {value} is out of range; write the odometer in km, from 0 to 1,000,000",
        "{column} {value} 超出范围，请填写 0 至 1,000,000 公里之间的里程",
    ),
    Rule(
        "cycle_range",
        REJECTED,
        "{column} {value} is out of range; a maintenance cycle is 1 to 730 days",
        "{column} {value} 超出范围，保养周期应为 1 至 730 天",
    ),
    Rule(
        "pickup_before_intake",
        REJECTED,
        "{column} {value} is before {other_column} {other_value}; write a day on or after it "
        "(leave it blank while the vehicle is still in the shop)",
        "{column} {value} 早于{other_column} {other_value}，应不早于{other_column}（车辆未出厂时留空）",
    ),
    Rule(
        "next_maintenance_not_after_intake",
        REJECTED,
        "{column} {value} is not after {other_column} {other_value}; write a later day, or leave it blank "
        "to count it from the maintenance cycle",
        "{column} {value} 不晚于{other_column} {other_value}，应晚于{other_column}，或留空按保养周期推算",
    ),
    Rule(
        "warranty_end_before_purchase",
        REJECTED,
        "{column} {value} is before {other_column} {other_value}; write a day on or after it, or leave it "
        "blank to count the warranty from the purchase",
        "{column} {value} 早于{other_column} {other_value}，应不早于{other_column}，或留空按购车日期推算",
    ),
    Rule(
        "escalated_before_received",
        REJECTED,
        "{column} {value} is before {other_column} {other_value}; write a day on or after it",
        "{column} {value} 早于{other_column} {other_value}，应不早于{other_column}",
    ),
    Rule(
        "resolved_before_received",
        REJECTED,
        "{column} {value} is before {other_column} {other_value}; write a day on or after it",
        "{column} {value} 早于{other_column} {other_value}，应不早于{other_column}",
    ),
    Rule(
        "production_after_report",
        REJECTED,
        "{column} {value} is after {other_column} {other_value}; a part is produced on or before the day "
        "its failure is reported",
        "{column} {value} 晚于{other_column} {other_value}，生产日期应不晚于{other_column}",
    ),
    Rule(
        "end_before_start",
        REJECTED,
        "{column} {value} is before {other_column} {other_value}; write a day on or after it",
        "{column} {value} 早于{other_column} {other_value}，应不早于{other_column}",
    ),
    Rule(
        "resolution_required",
        REJECTED,
        "{column} is blank although {other_column} is {other_value}; say how the complaint was resolved",
        "已填{other_column} {other_value}，{column}不能为空，请写明处理结果",
    ),
    Rule(
        "error_type_required",
        REJECTED,
        '{column} is blank although {other_column} is "{other_cell}"; say what went wrong: {accepted}',
        "{other_column}为“{other_cell}”时{column}不能为空，请填写：{accepted}",
    ),
    Rule(
        "error_type_on_correct_shipment",
        WARNING,
        '{column} is "{cell}" but {other_column} is not 否, so the line counts as shipped correctly; if '
        "it was wrong, set {other_column} to 否, else clear {column}",
        "{column}填了“{cell}”，但{other_column}不是“否”，此行按发货正确统计；如确有差错，请将{other_column}"
        "改为“否”，否则请清空{column}",
    ),
    Rule(
        "work_order_required",
        REJECTED,
        '{column} is blank; a call of {other_column} "{other_cell}" must name the work order it follows up',
        "{column}为空：{other_column}为“{other_cell}”的电话必须填写所回访的{column}",
    ),
    Rule(
        "campaign_required",
        REJECTED,
        '{column} is blank; a call of {other_column} "{other_cell}" must name its campaign',
        "{column}为空：{other_column}为“{other_cell}”的电话必须填写{column}",
    ),
    Rule(
        "complaint_required",
        REJECTED,
        '{column} is blank; a call of {other_column} "{other_cell}" must name the complaint it calls back',
        "{column}为空：{other_column}为“{other_cell}”的电话必须填写所回访的{column}",
    ),
    Rule(
        "satisfaction_without_reach",
        REJECTED,
        '{column} "{cell}" is given but {other_column} is "{other_cell}"; '
        "satisfaction is recorded only when the customer was reached",
        "{other_column}为“{other_cell}”，不应填写{column}“{cell}”：只有接通的电话才记录满意度",
    ),
    Rule(
        "mileage_backwards",
        WARNING,
        "{column} {value} is lower than {other_value} km at an earlier visit of the same VIN{earlier}; "
        "check the odometer reading (it only grows)",
        "{column} {value} 低于同一车架号较早一次进厂时的 {other_value} 公里{earlier}，请核对里程表读数",
    ),
    Rule(
        "mileage_above_later",
        WARNING,
        "{column} {value} is higher than {other_value} km at a later visit of the same VIN{earlier}; "
        "check the odometer reading of both visits (it only grows)",
        "{column} {value} 高于同一车架号较晚一次进厂时的 {other_value} 公里{earlier}，请核对两次进厂的里程表读数",
    ),
    Rule(
        "no_customer_file",
        WARNING,
        "{column} {value} has no customer file at this dealer; send it within two days of the visit",
        "{column} {value} 在本经销商没有客户档案，请在进厂两天内补交客户档案",
    ),
    # The row as a whole, and the reference lists.
    Rule(
        "duplicate_key",
        REJECTED,
        "this row repeats row {row} ({column} {value}); only the first is loaded, remove or correct this one",
        "本行与第 {row} 行重复（{column} {value}），只导入第一行，请删除或更正本行",
    ),
    Rule(
        "duplicate_key_in_file",
        REJECTED,
        "this row repeats row {row} of sheet {other_value} ({column} {value}); only the first is loaded, "
        "remove or correct this one",
        "本行与工作表“{other_value}”第 {row} 行重复（{column} {value}），只导入第一行，请删除或更正本行",
    ),
    Rule(
        "vehicle_of_another_customer",
        REJECTED,
        "{column} {value} is already the vehicle of customer {other_value} in row {row}; a vehicle belongs "
        "to one customer: correct the VIN, or remove the row that is wrong",
        "{column} {value} 已在第 {row} 行登记为客户 {other_value} 的车辆；一辆车只属于一个客户，"
        "请更正车架号或删除有误的一行",
    ),
    Rule(
        "vehicle_changed_owner",
        WARNING,
        "{column} {value} was the vehicle of customer {other_value}{earlier}; it is now this row's customer's. "
        "If the vehicle did not change hands, check the VIN and the customer number (one kept with leading "
        "zeros, 00123, is another number than 123)",
        "{column} {value} 原为客户 {other_value} 的车辆{earlier}，现改为本行客户；如车辆并未转手，请核对车架号和客户编号"
        "（带前导零的 00123 与 123 是不同的编号）",
    ),
    Rule(
        "customer_differs",
        WARNING,
        '{column} "{cell}" differs from {other_value} given for the same customer in row {row}; '
        "row {row}'s value is loaded: make the customer's rows agree",
        "同一客户在第 {row} 行的{column}是 {other_value}，本行是“{cell}”；已按第 {row} 行导入，请统一该客户各行的{column}",
    ),
    Rule(
        "unknown_dealer",
        REJECTED,
        '{column} "{cell}" is not a known dealer code; write the code head office gave the dealer',
        "{column}“{cell}”不是已登记的经销商代码，请填写总部下发的经销商代码",
    ),
    Rule(
        "unknown_part",
        REJECTED,
        '{column} "{cell}" is not in the parts catalogue; write a part number of the catalogue',
        "{column}“{cell}”不在配件目录中，请填写配件目录中的配件编号",
    ),
    Rule(
        "unknown_campaign",
        REJECTED,
        '{column} "{cell}" is not a known campaign; write the campaign number head office announced',
        "{column}“{cell}”不是已登记的活动编号，请填写总部公布的活动编号",
    ),
    Rule(
        "unknown_part_used",
        WARNING,
        "{column}: {value} not in the parts catalogue; check the part numbers",
        "{column}：{value} 不在配件目录中，请核对配件编号",
    ),
)


def _fields(template: str) -> list[tuple[str, str | None]]:
    return [(literal, name) for literal, name, _, _ in string.Formatter().parse(template)]


def message(rule: str, language: str = "en", **values: object) -> str:
    """The message of `rule` in `language` ("en" or "zh") with its placeholders filled."""
    entry = RULES[rule]
    return (entry.zh if language == "zh" else entry.en).format(**(OPTIONAL_PLACEHOLDERS | values))


def message_sql(rule: str, language: str = "en", **values: str) -> str:
    """The same message as a DuckDB SQL expression: placeholders given as SQL expressions (NULL shows as '')."""
    entry = RULES[rule]
    parts: list[str] = []
    for literal, name in _fields(entry.zh if language == "zh" else entry.en):
        if literal:
            parts.append("'" + literal.replace("'", "''") + "'")
        if name is not None:
            value = values[name] if name in values else f"'{OPTIONAL_PLACEHOLDERS[name]}'"
            parts.append(f"coalesce(CAST({value} AS VARCHAR), '')")
    return "concat(" + ", ".join(parts) + ")"


def message_expr(rule: str, language: str = "en", **values: str | pl.Expr) -> pl.Expr:
    """The same message as a polars expression: placeholders given as text or as per-row expressions."""
    entry = RULES[rule]
    parts: list[pl.Expr] = []
    for literal, name in _fields(entry.zh if language == "zh" else entry.en):
        if literal:
            parts.append(pl.lit(literal))
        if name is not None:
            value = values.get(name, OPTIONAL_PLACEHOLDERS.get(name))
            if value is None:
                raise KeyError(name)
            parts.append(value.fill_null("") if isinstance(value, pl.Expr) else pl.lit(str(value)))
    return pl.concat_str(parts)

"""The steward's copy of a checked workbook: bad cells marked red or yellow with comments, a problem list first, and a CSV."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import openpyxl
import polars as pl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.hyperlink import Hyperlink

from dealersync.exports.cells import safe_frame
from dealersync.exports.files import written_whole
from dealersync.parsed import PARSED, ParsedFile
from dealersync.reader import RESAVE, sheets_as_shown
from dealersync.schemas.contract import PROBLEM_COLUMNS, REJECTED, SHEETS, WARNING

# Excel's own "Bad" and "Neutral" cell-style colours: red for a rejected cell, yellow for a warned one.
REJECTED_FILL = PatternFill(fill_type="solid", start_color="FFFFC7CE", end_color="FFFFC7CE")
WARNING_FILL = PatternFill(fill_type="solid", start_color="FFFFEB9C", end_color="FFFFEB9C")
COMMENT_AUTHOR = "dealersync"

# Problems that belong to a whole row: the row is marked, the comment sits on the column named.
DUPLICATE_RULES = frozenset({"duplicate_key", "duplicate_key_in_file"})
ROW_RULES = DUPLICATE_RULES | {"unknown_dealer"}
MISSING_COLUMN = "missing_column"

# What a cell of ours may hold: Excel allows 32,767 characters; a message quoting a 32k-character cell
# is cut well before that, and said to be cut.
MAX_TEXT = 1000
MAX_COMMENT = 4000
MAX_CSV_TEXT = 32000
# Comments beyond this many in one workbook are left out (the cells are still filled and listed):
# Excel grows slow to open with tens of thousands of comment boxes.
MAX_COMMENTS = 5000
# openpyxl holds a whole workbook in memory (about 0.6 s and 8 MB per 1,000 rows, bench/steward_bench.py):
# above this many rows a file gets its problem list (cells named, not linked) and CSV, but no marked copy.
MAX_COPY_ROWS = 100_000
# openpyxl's ILLEGAL_CHARACTERS_RE, in the regex syntax polars understands.
CONTROL_CHARACTERS = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"

PROBLEM_SHEET = "问题清单 Problems"
TABLE_HEADERS = (
    ("工作表 Sheet", 18),
    ("单元格 Cell", 10),
    ("行 Row", 7),
    ("列名 Column", 16),
    ("单元格内容 Value", 24),
    ("级别 Severity", 12),
    ("规则 Rule", 22),
    ("说明", 60),
    ("Message", 60),
)
SEVERITY_LABEL = {REJECTED: "拒收 rejected", WARNING: "警告 warning"}
CSV_COLUMNS = (
    "file",
    "sheet",
    "cell",
    "excel_row",
    "column_name",
    "cell_value",
    "severity",
    "rule",
    "field",
    "message_zh",
    "message",
    "business_key",
)


class UnsafeXmlParser(RuntimeError):
    """openpyxl would parse a steward's file without defusedxml (OPENPYXL_DEFUSEDXML=False?)."""


@dataclass
class StewardReport:
    """What was written for one file, and how many problems it lists."""

    file_name: str
    workbook: Path | None  # the annotated copy (None for a refused file)
    problems_csv: Path
    problems: int  # lines of the problem list
    cells_marked: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class _Place:
    """Where one problem sits in the workbook: its cell, or its row, or the header (missing column)."""

    sheet: str
    row: int
    column: int | None  # 1-based column of the cell, None when the column was not found
    span: tuple[int, int] | None  # first and last column of the table, for a row-level mark


def annotated_name(file_name: str) -> str:
    """The annotated copy's file name: `<stem>.annotated.xlsx`, or `.xlsm` for a workbook with macros."""
    path = Path(_safe_file_name(file_name))
    suffix = ".xlsm" if path.suffix.lower() == ".xlsm" else ".xlsx"
    return f"{path.stem}.annotated{suffix}"


def problems_csv_name(file_name: str) -> str:
    return f"{Path(_safe_file_name(file_name)).stem}.problems.csv"


def write_steward_report(
    parsed: ParsedFile,
    source: Path,
    folder: Path,
    *,
    extra_problems: pl.DataFrame | None = None,
    notes: list[str] | None = None,
    max_copy_rows: int = MAX_COPY_ROWS,
) -> StewardReport:
    """Write `<stem>.annotated.xlsx` (a marked copy of `source`) and `<stem>.problems.csv` into `folder`.

    "Every rejected cell is filled red and every warned cell yellow, each with a comment giving the rule
    and what would be accepted, in Chinese and English; an added first sheet lists every problem with
    hyperlinks to the cells. Problems that belong to a whole row (duplicate key, unknown dealer) mark
    the row." `source` is where the file is now (the night has moved it to processed/ by then, under a
    name no other file of the day has): the files written are named after it. `extra_problems` adds
    problems found later (the loader's warnings), with PROBLEM_COLUMNS.
    """
    folder.mkdir(parents=True, exist_ok=True)
    notes = list(notes or [])
    csv_path = folder / problems_csv_name(source.name)
    if parsed.status != PARSED:
        refusal = _refusal_frame(parsed)
        _write_csv(refusal, csv_path, parsed.file_name, cells={})
        return StewardReport(parsed.file_name, None, csv_path, refusal.height, notes=notes)
    problems = _listed_problems(parsed, extra_problems)
    for sheet_name, reason in parsed.skipped_sheets:
        if _is_problem_sheet(sheet_name):
            continue  # an earlier marked copy's list, sent back: replaced by this one
        notes.append(f"工作表“{sheet_name}”未读取 / sheet '{sheet_name}' was not read: {reason}")
    if parsed.rows_read > max_copy_rows:
        notes.insert(0, _too_big_note(parsed.rows_read, max_copy_rows))
        original = _headers_only(source)
        places = _places(original, parsed, problems)
        if original is not None:
            original.close()
        book, marked = openpyxl.Workbook(), 0
        book.remove(book.active)
    else:
        book, opened_note = _open_copy(source)
        if opened_note:
            notes.insert(0, opened_note)
        _drop_earlier_marks(book)
        places = _places(book, parsed, problems)
        marked, comment_note = _mark_cells(book, problems, places)
        if comment_note:
            notes.append(comment_note)
    _add_problem_sheet(book, parsed.file_name, problems, places, notes)
    workbook_path = folder / annotated_name(source.name)
    with written_whole(workbook_path) as partial:
        book.save(partial)
    cells = {i: _address(places[i]) for i in range(problems.height)}
    _write_csv(problems, csv_path, parsed.file_name, cells=cells)
    return StewardReport(parsed.file_name, workbook_path, csv_path, problems.height, marked, notes)


def file_owner(parsed: ParsedFile) -> str:
    """The folder a file's steward copy goes in: its dealer's code, else `warehouse`, `reference` or `mixed`.

    A dealer workbook belongs to the dealer code most of its rows carry (the smallest code on a tie), as
    its quarantine entries do (warehouse.quarantine.open_entries).
    """
    if parsed.source != "dealer":
        return parsed.source or "unknown"
    codes = [
        sheet.raw["dealer_code"].str.strip_chars().str.to_uppercase()
        for sheet in parsed.sheets
        if "dealer_code" in sheet.raw.columns
    ]
    if codes:
        named = pl.concat(codes).drop_nulls()
        counts = (
            named.filter(named != "")
            .value_counts(name="rows")
            .sort(["rows", named.name], descending=[True, False])
        )
        if counts.height:
            return _safe_file_name(str(counts.row(0)[0]))
    return "unknown_dealer"


# --- the problems -----------------------------------------------------------------------------------


def _listed_problems(parsed: ParsedFile, extra: pl.DataFrame | None) -> pl.DataFrame:
    """Every problem once: a missing column is one line (at the header row), not one per data row."""
    schema = _problem_schema()
    frames = [s.problems.select(PROBLEM_COLUMNS).cast(schema) for s in parsed.sheets if s.problems.height]
    if extra is not None and extra.height:
        frames.append(extra.select(PROBLEM_COLUMNS).cast(schema))
    if not frames:
        return pl.DataFrame(schema=schema)
    problems = pl.concat(frames)
    header_rows = {s.sheet: s.header_row for s in parsed.sheets}
    rows_read = {s.sheet: str(s.rows_read) for s in parsed.sheets}
    missing = (
        problems.filter(pl.col("rule") == MISSING_COLUMN)
        .unique(["sheet", "field"], keep="first", maintain_order=True)
        .with_columns(
            excel_row=pl.col("sheet").replace_strict(header_rows, return_dtype=pl.Int64),
            cell_value=pl.lit(""),
            business_key=pl.lit(""),
            message=pl.col("message")
            + pl.lit(" (every row of the sheet is rejected until then: ")
            + pl.col("sheet").replace_strict(rows_read, return_dtype=pl.Utf8)
            + pl.lit(" rows)"),
            message_zh=pl.col("message_zh")
            + pl.lit("（补上之前本表全部 ")
            + pl.col("sheet").replace_strict(rows_read, return_dtype=pl.Utf8)
            + pl.lit(" 行均不能导入）"),
        )
    )
    sheet_order = {s.sheet: i for i, s in enumerate(parsed.sheets)}
    return (
        pl.concat([missing, problems.filter(pl.col("rule") != MISSING_COLUMN)])
        .with_columns(_sheet_order=pl.col("sheet").replace_strict(sheet_order, default=len(sheet_order)))
        .sort("_sheet_order", "excel_row", maintain_order=True)
        .drop("_sheet_order")
    )


def _problem_schema() -> dict[str, pl.DataType]:
    return {name: pl.Int64 if name == "excel_row" else pl.Utf8 for name in PROBLEM_COLUMNS}


def _refusal_frame(parsed: ParsedFile) -> pl.DataFrame:
    """A refused file's one line: the reason nothing of it was loaded."""
    reason = parsed.reason or "refused"
    return pl.DataFrame(
        {
            "sheet": [""],
            "kind": [""],
            "excel_row": [None],
            "field": [""],
            "column_name": [""],
            "cell_value": [""],
            "rule": ["file_refused"],
            "message": [f"the whole file was refused, nothing of it was loaded: {reason}"],
            "message_zh": [f"整个文件被拒收，未导入任何内容：{_refusal_action_zh(reason)}{reason}"],
            "severity": [REJECTED],
            "dealer_code": [""],
            "business_key": [""],
        },
        schema=_problem_schema(),
    )


# What to do about a refusal, in Chinese, by words of the reader's reason (which is in English).
REFUSAL_ACTIONS_ZH = (
    (
        RESAVE,
        "文件不是可读的 Excel 工作簿（可能是改了扩展名的文本文件，或已损坏）：请用 Excel 打开，另存为 .xlsx 后重新发送。",
    ),
    (
        "is protected with a password",
        "工作簿设有打开密码，无法读取：请在 Excel 中去掉打开密码，保存后重新发送。",
    ),
    (
        "no sheet of this workbook is one we know",
        "没有可识别的工作表：请按内容给工作表命名（如 客户档案、维修保养记录、跟踪服务电话记录）后重新发送。",
    ),
    ("a sheet may have", "工作表太大：请删除用不到的行列，或拆成几个较小的工作簿（例如每月一个）分别发送。"),
    ("cells a sheet may span", "工作表太大：请删除表格以外的内容（或拆分工作簿）后重新发送。"),
    ("both mean", "有两列表示同一字段：请删除或重命名其中一列后重新发送。"),
)


def _refusal_action_zh(reason: str) -> str:
    """The Chinese sentence saying what to do about a refusal; the reader's reason follows it as written."""
    for words, action in REFUSAL_ACTIONS_ZH:
        if words in reason:
            return action + "原因："
    return ""


# --- the workbook -----------------------------------------------------------------------------------


def _check_xml_parser() -> None:
    """Refuse to open a steward's file with openpyxl unless it parses XML through defusedxml."""
    from openpyxl.xml import DEFUSEDXML
    from openpyxl.xml.functions import fromstring

    if not DEFUSEDXML or not fromstring.__module__.startswith("defusedxml"):
        raise UnsafeXmlParser(
            "openpyxl is not using defusedxml (is OPENPYXL_DEFUSEDXML set to False?); "
            "refusing to open an untrusted workbook with it"
        )


def _open_copy(source: Path) -> tuple[openpyxl.Workbook, str | None]:
    """The workbook to mark: the original itself (macros kept), or a copy of its cells when it cannot be edited."""
    _check_xml_parser()
    suffix = source.suffix.lower()
    if suffix != ".xls":
        try:
            book = openpyxl.load_workbook(source, keep_vba=suffix == ".xlsm", rich_text=True)
        except Exception as error:  # calamine read it; openpyxl may still trip on an odd part
            note = (
                f"原文件无法直接标注（{type(error).__name__}），本文件是其单元格内容（按文本）的副本 / "
                f"the original could not be opened for editing ({type(error).__name__}: {error}); "
                "this is a copy of its cells, as text"
            )
            return _cells_copy(source), _clean(note)
        book.template = False
        note = (
            "宏已保留 / the workbook's macros are kept (.xlsm)"
            if suffix == ".xlsm" and book.vba_archive is not None
            else None
        )
        return book, note
    note = (
        "旧版 .xls 文件不能直接标注：本文件是其单元格内容（按文本）的 .xlsx 副本，请改后另存为 .xlsx 再发送 / "
        "a legacy .xls cannot be edited in place: this is an .xlsx copy of its cells, as text; "
        "fix it, save it as .xlsx and send it again"
    )
    return _cells_copy(source), note


def _is_problem_sheet(title: str) -> bool:
    return title == PROBLEM_SHEET or re.fullmatch(rf"{re.escape(PROBLEM_SHEET)} \(\d+\)", title) is not None


def _drop_earlier_marks(book: openpyxl.Workbook) -> None:
    """A marked copy fixed in place and sent back: its old problem list, red and yellow fills and comments go.

    Only a workbook holding an earlier problem list is touched, so that only what is still wrong is marked.
    """
    earlier = [sheet for sheet in book.worksheets if _is_problem_sheet(sheet.title)]
    if not earlier:
        return
    for sheet in earlier:
        book.remove(sheet)
    ours = {REJECTED_FILL.fgColor.rgb, WARNING_FILL.fgColor.rgb}
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.comment is not None and cell.comment.author == COMMENT_AUTHOR:
                    cell.comment = None
                if cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb in ours:
                    cell.fill = PatternFill()
    book.active = 0


def _too_big_note(rows: int, limit: int) -> str:
    return (
        f"文件有 {rows:,} 行，超过 {limit:,} 行，未生成标注副本：请按本清单的单元格地址在原文件中修改 / "
        f"the file has {rows:,} rows, more than the {limit:,} a marked copy is made for: this workbook holds "
        "the problem list only; find each cell in the original by its address"
    )


def _headers_only(source: Path) -> openpyxl.Workbook | None:
    """The original opened for streaming (read-only), to find the header cells without loading every row."""
    _check_xml_parser()
    if source.suffix.lower() == ".xls":
        return None
    try:
        return openpyxl.load_workbook(source, read_only=True)
    except Exception:  # no addresses then: the list still names sheet, row and column
        return None


def _cells_copy(source: Path) -> openpyxl.Workbook:
    """A new workbook holding every sheet's cells as text, as Excel shows them, each where it was (row and
    column), and the sheet's merged ranges: read back, the copy gives what the original gave."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for shown in sheets_as_shown(source):
        sheet = book.create_sheet(_sheet_title(shown.name, book))
        for row_index, row in enumerate(shown.grid.iter_rows(), start=1):
            for column, value in zip(shown.columns, row, strict=True):
                if value is not None:
                    _plain_text(sheet.cell(row=row_index, column=column + 1), value)
        for top, left, bottom, right in shown.merges:
            sheet.merge_cells(start_row=top, start_column=left + 1, end_row=bottom, end_column=right + 1)
    return book


def _sheet_title(name: str, book: openpyxl.Workbook) -> str:
    """A sheet title openpyxl accepts and the workbook does not have yet."""
    title = re.sub(r"[\\/*?:\[\]]", "_", _clean(name))[:31] or "Sheet"
    candidate, counter = title, 1
    while candidate in book.sheetnames:
        counter += 1
        candidate = f"{title[:27]} ({counter})"
    return candidate


def _places(book: openpyxl.Workbook | None, parsed: ParsedFile, problems: pl.DataFrame) -> dict[int, _Place]:
    """Each problem's place: the column is found by the header cell, as the dealer wrote it, in the header row."""
    columns: dict[str, dict[str, int]] = {}
    spans: dict[str, tuple[int, int]] = {}
    for sheet in parsed.sheets:
        if book is None or sheet.sheet not in book.sheetnames:
            continue
        worksheet = book[sheet.sheet]
        written = {
            cell.column: _header_text(cell.value)
            for cell in next(worksheet.iter_rows(min_row=sheet.header_row, max_row=sheet.header_row), ())
            if cell.value is not None and _header_text(cell.value)
        }
        by_text = {text: column for column, text in written.items()}
        columns[sheet.sheet] = {f: by_text[h] for f, h in sheet.headers.items() if h in by_text}
        if written:
            spans[sheet.sheet] = (min(written), max(written))
    header_rows = {s.sheet: s.header_row for s in parsed.sheets}
    places: dict[int, _Place] = {}
    missing_seen: dict[str, int] = defaultdict(int)
    for index, problem in enumerate(problems.iter_rows(named=True)):
        sheet, field_name = problem["sheet"], problem["field"]
        span = spans.get(sheet)
        row = problem["excel_row"] or header_rows.get(sheet, 1)
        if problem["rule"] == MISSING_COLUMN and span is not None:
            missing_seen[sheet] += 1
            places[index] = _Place(sheet, header_rows[sheet], span[1] + missing_seen[sheet], None)
            continue
        column = columns.get(sheet, {}).get(field_name)
        if column is None and problem["rule"] in DUPLICATE_RULES:
            column = _key_column(problem["kind"], columns.get(sheet, {}))
        if span is None:  # the sheet's header row was not found: no address
            places[index] = _Place(sheet, row, None, None)
            continue
        row_level = problem["rule"] in ROW_RULES or column is None
        places[index] = _Place(sheet, row, column or span[0], span if row_level else None)
    return places


def _header_text(value: object) -> str:
    """A header cell as the reader saw it: text, stripped (a number header as written)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _key_column(kind: str, columns: dict[str, int]) -> int | None:
    """The column of a duplicated row's own key (the work order, not the dealer code) when present."""
    key = SHEETS[kind].key if kind in SHEETS else ()
    for name in [k for k in key if k != "dealer_code"] + list(key):
        if name in columns:
            return columns[name]
    return None


def _mark_cells(
    book: openpyxl.Workbook, problems: pl.DataFrame, places: dict[int, _Place]
) -> tuple[int, str | None]:
    """Fill and comment each problem's cell (a row-level problem fills its row). Red wins over yellow."""
    fills: dict[tuple[str, int, int], str] = {}
    comments: dict[tuple[str, int, int], list[str]] = defaultdict(list)
    for index, problem in enumerate(problems.iter_rows(named=True)):
        place = places[index]
        if place.sheet not in book.sheetnames or place.column is None:
            continue
        severity = problem["severity"]
        cells = (
            [(place.sheet, place.row, c) for c in range(place.span[0], place.span[1] + 1)]
            if place.span
            else [(place.sheet, place.row, place.column)]
        )
        for cell in cells:
            if fills.get(cell) != REJECTED:
                fills[cell] = severity
        comments[(place.sheet, place.row, place.column)].append(_comment_text(problem))
    for (sheet, row, column), severity in fills.items():
        book[sheet].cell(row=row, column=column).fill = (
            REJECTED_FILL if severity == REJECTED else WARNING_FILL
        )
    note = None
    anchored: dict[tuple[str, int, int], list[str]] = defaultdict(list)
    anchors = {sheet: _merge_anchors(book[sheet]) for sheet in {sheet for sheet, _, _ in comments}}
    for (sheet, row, column), texts in comments.items():
        anchored[(sheet, *anchors[sheet].get((row, column), (row, column)))].extend(texts)
    for count, ((sheet, row, column), texts) in enumerate(anchored.items()):
        if count == MAX_COMMENTS:
            note = (
                f"只为前 {MAX_COMMENTS} 个单元格加了批注，其余见本清单 / comments were added to the first "
                f"{MAX_COMMENTS} cells only; every problem is listed here"
            )
            break
        cell = book[sheet].cell(row=row, column=column)
        text = "\n\n".join(texts)
        if cell.comment is not None:
            text = f"{cell.comment.text}\n\n{text}"
        text = _cut(text, MAX_COMMENT)
        lines = text.count("\n") + len(text) // 40 + 2
        cell.comment = Comment(text, COMMENT_AUTHOR, height=min(600, 15 * lines), width=320)
    return len(fills), note


def _merge_anchors(sheet) -> dict[tuple[int, int], tuple[int, int]]:
    """(row, column) of each cell inside a merged range -> its range's first cell, which holds comments."""
    return {
        (row, column): (merged.min_row, merged.min_col)
        for merged in sheet.merged_cells.ranges
        for row in range(merged.min_row, merged.max_row + 1)
        for column in range(merged.min_col, merged.max_col + 1)
        if (row, column) != (merged.min_row, merged.min_col)
    }


def _comment_text(problem: dict) -> str:
    severity = SEVERITY_LABEL.get(problem["severity"], problem["severity"])
    return _cut(f"{severity} [{problem['rule']}]\n{problem['message_zh']}\n{problem['message']}", MAX_COMMENT)


def _add_problem_sheet(
    book: openpyxl.Workbook,
    file_name: str,
    problems: pl.DataFrame,
    places: dict[int, _Place],
    notes: list[str],
) -> None:
    """The first sheet: what the colours mean, notes, then one line per problem with a link to its cell."""
    sheet = book.create_sheet(_sheet_title(PROBLEM_SHEET, book), 0)
    book.active = 0
    for other in book.worksheets[1:]:
        other.sheet_view.tabSelected = False
    bold = Font(bold=True)
    rejected = problems.filter(pl.col("severity") == REJECTED)
    warned = problems.filter(pl.col("severity") == WARNING)
    lines = [
        f"文件 File: {file_name}",
        f"检查时间 Checked: {datetime.now():%Y-%m-%d %H:%M}",
        f"拒收 {_rows(rejected)} 行、警告 {_rows(warned)} 行 / "
        f"{rejected.height} rejections and {warned.height} warnings; "
        "红色 = 拒收（改正后重新发送）, 黄色 = 警告（已导入，请核对）/ "
        "red = rejected (fix it and send the file again), yellow = warning (loaded; please check)",
        *notes,
    ]
    for row, text in enumerate(lines, start=1):
        _plain_text(sheet.cell(row=row, column=1), text)
    sheet.cell(row=1, column=1).font = Font(bold=True, size=13)
    top = len(lines) + 2
    for column, (title, width) in enumerate(TABLE_HEADERS, start=1):
        _plain_text(sheet.cell(row=top, column=column), title).font = bold
        sheet.column_dimensions[get_column_letter(column)].width = width
    wrap = Alignment(wrap_text=True, vertical="top")
    for index, problem in enumerate(problems.iter_rows(named=True)):
        row = top + 1 + index
        place = places[index]
        address = _address(place)
        values = (
            problem["sheet"],
            address,
            problem["excel_row"],
            problem["column_name"],
            problem["cell_value"],
            SEVERITY_LABEL.get(problem["severity"], problem["severity"]),
            problem["rule"],
            problem["message_zh"],
            problem["message"],
        )
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=row, column=column)
            if isinstance(value, int):
                cell.value = value
            else:
                _plain_text(cell, value or "")
            if column >= 8:
                cell.alignment = wrap
        link = sheet.cell(row=row, column=2)
        if address and place.sheet in book.sheetnames and place.sheet != sheet.title:
            link.hyperlink = Hyperlink(
                ref=link.coordinate, location=f"{quote_sheetname(place.sheet)}!{address}", display=address
            )
            link.font = Font(color="FF0563C1", underline="single")
        fill = REJECTED_FILL if problem["severity"] == REJECTED else WARNING_FILL
        sheet.cell(row=row, column=6).fill = fill
    sheet.freeze_panes = sheet.cell(row=top + 1, column=1)
    if problems.height:
        sheet.auto_filter.ref = f"A{top}:{get_column_letter(len(TABLE_HEADERS))}{top + problems.height}"


def _address(place: _Place) -> str:
    return f"{get_column_letter(place.column)}{place.row}" if place.column else ""


# --- text that is safe to write -----------------------------------------------------------------


def _clean(text: object) -> str:
    """Text an .xlsx can hold: no control characters, and no lone surrogates (a file name's undecodable bytes)."""
    return ILLEGAL_CHARACTERS_RE.sub("", str(text).encode("utf-8", "replace").decode("utf-8"))


def _cut(text: str, limit: int) -> str:
    """Text cut to `limit` characters, saying how long it was."""
    text = _clean(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


def _rows(problems: pl.DataFrame) -> int:
    """How many rows the problems are on: a row is a sheet's row, so row 5 of two sheets is two rows."""
    return problems.select("sheet", "excel_row").n_unique()


def _plain_text(cell, value: object):
    """Write text that stays text: a string cell, no control characters, never too long.

    openpyxl turns a string starting with `=` into a formula and `#N/A` into an error; the cell is set
    to a plain string afterwards, so nothing written here is ever evaluated, and it shows as written.
    """
    cell.value = _cut(str(value), MAX_TEXT)
    cell.data_type = "s"
    return cell


def _safe_file_name(name: str) -> str:
    from dealersync.inbox import safe_name

    return safe_name(_clean(name))


# --- the CSV --------------------------------------------------------------------------------------


def _write_csv(problems: pl.DataFrame, path: Path, file_name: str, *, cells: dict[int, str]) -> None:
    """The problem list as CSV (UTF-8 with BOM, so Excel shows the Chinese), formula-safe."""
    frame = problems.with_columns(
        file=pl.lit(_clean(file_name)),
        cell=pl.Series([cells.get(i, "") for i in range(problems.height)], dtype=pl.Utf8),
    ).select(CSV_COLUMNS)
    texts = [name for name, dtype in frame.schema.items() if dtype == pl.Utf8]
    cleaned = frame.with_columns(pl.col(texts).str.replace_all(CONTROL_CHARACTERS, ""))
    cut = cleaned.with_columns(
        pl.when(pl.col(name).str.len_chars() > MAX_CSV_TEXT)
        .then(pl.col(name).str.slice(0, MAX_CSV_TEXT) + pl.lit("…"))
        .otherwise(pl.col(name))
        .alias(name)
        for name in texts
    )
    with written_whole(path) as partial:
        safe_frame(cut).write_csv(partial, include_bom=True)

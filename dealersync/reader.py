"""Workbook → recognised sheets with every cell as text: file refusal, sheet kind, header row, aliases, excel_row."""

from __future__ import annotations

import codecs
import difflib
import hashlib
import io
import json
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import fastexcel
import polars as pl
from defusedxml import ElementTree as SafeElementTree

from dealersync.schemas.aliases import Aliases, clean_label
from dealersync.schemas.contract import DATETIME, EXCEL_ROW, REFERENCE, SHEETS, is_excel_error
from dealersync.settings import READ_LIMITS
from dealersync.transforms.normalise import EXCEL_EPOCH, EXCEL_EPOCH_1904

EXTRA = "_extra"  # frame column: JSON object {header: value} of the unknown columns' non-empty cells
MIXED = "mixed"  # WorkbookRead.source of a workbook holding sheets of more than one source

MB = 1024 * 1024
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
OLE2_SPECIAL, OLE2_END = 0xFFFFFFFA, 0xFFFFFFFE  # sector numbers from here up mark free, end of chain ...
BIFF_BOF, BIFF_DIMENSIONS, BIFF_DATEMODE = 0x0809, 0x0200, 0x0022
BIFF_BOUNDSHEET, BIFF_MERGEDCELLS = 0x0085, 0x00E5  # a sheet's name and where it starts; its merged ranges
BIFF_FORMAT, BIFF_XF = 0x041E, 0x00E0  # a number format the workbook defines; a cell style
BIFF_NUMBER, BIFF_RK, BIFF_MULRK, BIFF_FORMULA = (
    0x0203,
    0x027E,
    0x00BD,
    0x0006,
)  # cells that may hold a number
# BIFF records that place a cell (row, column first): FORMULA, BLANK, NUMBER, LABEL, BOOLERR, RSTRING, LABELSST,
# RK, and the runs MULRK and MULBLANK (their last column closes the record).
BIFF_CELL_RUNS = frozenset({0x00BD, 0x00BE})
BIFF_CELLS = frozenset({0x0006, 0x0201, 0x0203, 0x0204, 0x0205, 0x00D6, 0x00FD, 0x027E}) | BIFF_CELL_RUNS
XLS_ROWS, XLS_COLUMNS = 65_536, 256  # the most a legacy .xls sheet can have
EXCEL_ROWS, EXCEL_COLUMNS = 1_048_576, 16_384  # and an .xlsx sheet
UNBOUNDED = 2**62  # a limit no workbook reaches

HEADER_SCAN_ROWS = 30  # the header row is looked for in this many rows from the top of a sheet
MIN_HEADER_FIELDS = 2  # a header row names at least this many columns of its sheet kind
# A hidden sheet holds an old copy or a lookup list, not what the steward sends: reported and skipped.
HIDDEN_SHEET = (
    "the sheet is hidden in Excel, so it is not loaded; unhide it (right-click a sheet tab, Unhide) "
    "if its rows should load"
)
# Reference data comes from head office: a dealers, parts or campaigns sheet beside a dealer's or the parts
# warehouse's own sheets is their copy for lookups (VLOOKUP), perhaps stale, not the list itself.
REFERENCE_COPY = (
    "a dealers, parts or campaigns list in a workbook with other sheets is a copy kept for lookups, so it "
    "is not loaded: these lists are taken only from head office's reference workbook (经销商, 配件目录, 活动 "
    "sheets alone); hide or delete the sheet"
)
MIN_KIND_FIELDS = 3  # a sheet recognised by its headers alone names at least this many columns
# Rows starting a range merged across columns are read one by one up to this many (a polars call costs as
# much as reading a few rows); more are counted in one pass over the sheet.
TITLE_ROWS_READ = 16

# A part smaller than this is never a zip bomb, whatever its compression ratio.
RATIO_FLOOR_BYTES = MB
# How much of each XML part is read to check its preamble, and of a worksheet to find its dimension.
PROLOG_READ_BYTES = 64 * 1024
# The smallest a worksheet row with a value can be in XML (`<row r="9"><c r="A9"><v>1</v></c></row>`):
# a sheet part smaller than max_rows times this cannot hold more rows, whatever its dimension says.
MIN_ROW_XML_BYTES = 24
# Parts are inflated a slice of compressed bytes at a time, giving out at most INFLATE_CHUNK bytes a step.
INFLATE_FEED = 64 * 1024
INFLATE_CHUNK = 4 * MB
# The inflated chunks' references are searched together once they hold this many bytes.
RANGE_BATCH_BYTES = 4 * MB

# calamine holds a sheet as one dense grid spanning its used range, so two cells far apart (A1 and
# XFD1048576) make it ask for 512 GB and abort the process. The range is bounded before calamine from
# the cells' `r` references. A plain reference (one letter and at most 5 digits, or a row number of at
# most 5 digits) keeps the range within Z99999; any other sign below is looked at: a longer or odd
# reference, or a cell or row without a reference first (calamine then counts positions).
PLAIN_COLUMNS, PLAIN_ROWS = 26, 99_999
_RANGE_SIGNS = (
    r'[<:](?:c|row)(?:[>/\t\r\n]| [^r]|  | r[^=]| r=[^"])'
    r'| r="(?:[A-Z]{2}|[A-Z]?[0-9]{6}|[^A-Z0-9]|[A-Z][^A-Z0-9]|[A-Z]?[0-9]{1,5}[^0-9"])[^"]{0,16}"?'
)
_REFERENCE = re.compile(r"([A-Z]{0,7})([0-9]{1,10})")
# A merged range of a worksheet (`<mergeCell ref="A2:A4"/>`): its first and last cells.
_MERGE_CELL = re.compile(
    rb'<(?:[\w.-]+:)?mergeCell\b[^>]*?\bref\s*=\s*"([A-Z]{1,3}[0-9]{1,7}):([A-Z]{1,3}[0-9]{1,7})"'
)
# The shared strings part says how many strings it holds; each takes at least `<si/>` in it.
_UNIQUE_COUNT = re.compile(rb"<(?:[\w.-]+:)?sst\b[^>]*?\buniqueCount\s*=\s*[\"']\s*([0-9]{1,30})")
MIN_STRING_XML_BYTES = 5
# Counting positions: every row and cell start tag, its attributes read with quoted values whole.
_ELEMENT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c)(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_REFERENCE_ATTRIBUTE = re.compile(rb"(?:^|\s)r\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")

# A total row has a cell that, folded by clean_label, is one of these labels (汇总: Chinese Excel's label of
# a table's total row), alone or followed by its figure (`合计：1,234.50元`, `Total: 12`); `总计划` or
# `小计算器` are not totals. A figure may carry a unit, and several figures follow each other unit by unit
# (`合计：3户5辆`). Every other cell of the row is a figure or blank: a row that also holds a code, a date
# or words is data, whatever a cell says (a 维修项目 of `共计3项`, a note of `合计2张`).
_TOTAL_UNIT = r"(?:万元|元|台|辆|次|件|个|条|户|人|位|名|家|笔|单|张|封|项|行|km|公里)"
_FIGURES = rf"(?:¥|￥|rmb)?[0-9]*(?:{_TOTAL_UNIT}(?:[0-9]+{_TOTAL_UNIT})*)?"  # each digit run once: linear
TOTAL_CELL = re.compile(
    rf"^(?:合计|总计|小计|共计|总合计|本页合计|汇总|totals?|subtotal|grandtotal){_FIGURES}$"
)
_FIGURE_CELL = re.compile(rf"^{_FIGURES}$")
# A cheap first pass over every cell for TOTAL_CELL; candidates are confirmed with clean_label.
_TOTAL_HINT = r"(?i)[合总總小共]\s*[计計]|[汇匯]\s*[总總]|[tｔＴ]\s*[oｏＯ]\s*[tｔＴ]\s*[aａＡ]\s*[lｌＬ]"

# Excel's text for calamine's cell error kinds.
CELL_ERROR_TEXT = {
    "Div0": "#DIV/0!",
    "NA": "#N/A",
    "Name": "#NAME?",
    "Null": "#NULL!",
    "Num": "#NUM!",
    "Ref": "#REF!",
    "Value": "#VALUE!",
    "GettingData": "#GETTING_DATA",
}
_CELL_ERROR = re.compile(r"got '(?:Error\()?(\w+)\)?'")
# A legacy .xls protected with a password: the globals' BIFF8 BOF record followed by a FILEPASS record.
_XLS_FILEPASS = re.compile(rb"\x09\x08\x10\x00\x00\x06\x05\x00.{12}\x2f\x00", re.DOTALL)
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"[A-Z]*\d*(?::[A-Z]*(\d+))?\"")
# A workbook of the 1904 date system (made on an old Mac, or copied from one) says so in workbook.xml.
_DATE1904 = re.compile(rb"<(?:[\w.-]+:)?workbookPr\b[^>]*?\bdate1904\s*=\s*[\"'](?:1|true)[\"']")
# The day calamine puts a time alone on (an Excel serial below 1: a cell formatted h:mm), in the 1900
# date system of Windows Excel and in the 1904 one.
DAY_ZERO = {False: "1899-12-3[01]", True: "1904-01-01"}
# Built-in number formats of Chinese (and Japanese, Korean) Excel, ECMA-376 18.8.30 ids 27-36 and 50-58:
# 2024年3月5日 is 31, 10时30分 32. A workbook names them by id alone, and calamine knows only the English
# built-in dates (14-22, 45-47): such a cell reached us as its serial (45356, 0.4375).
LOCALE_DATE_FORMATS = frozenset(range(27, 37)) | frozenset(range(50, 59))
EXCEL_SERIAL_END = 2_958_466  # the serial after 9999-12-31, the last day Excel shows
# A format of zeros alone (00000) shows a whole number with leading zeros: how a customer number 00123 or
# a landline 01088886666 is kept in a number cell. calamine writes the number without them.
_ZEROS = re.compile(r"0{2,}")
# A format code shows a date or time when, leaving out its quoted text, escaped characters and [...]
# sections (colours, locales, [DBNum1]), it holds a year, month, day, hour or second.
_LITERALS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')
_DATE_CODE = re.compile(r"[ymdhs]", re.IGNORECASE)
AS_DATE = 0  # in _shown_styles: a style showing its numbers as dates or times (else the digits it pads to)
_CELL_ATTRIBUTE = re.compile(rb"""\b(r|s|t)\s*=\s*["']([^"']*)["']""")

RESAVE = "open it in Excel, save it as .xlsx and send it again"


class FileRefused(Exception):
    """A workbook refused as a whole; `reason` is a sentence a data steward can act on."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class SheetRead:
    """One recognised sheet: its kind, where its header is, and its data rows as text."""

    sheet: str  # sheet name as in the workbook
    kind: str  # contract sheet kind
    header_row: int  # Excel row (1-based) of the header
    headers: dict[str, str]  # canonical field -> header as written
    extra_headers: list[str]  # headers not in the contract (their values go to _extra)
    frame: pl.DataFrame  # excel_row (Int64) + one Utf8 column per recognised field + _extra (Utf8 JSON)
    blank_rows: int  # blank rows dropped
    total_rows: list[int]  # Excel rows dropped as 合计/总计/小计/total rows
    title_rows: list[int] = field(
        default_factory=list
    )  # Excel rows dropped as section titles (2026年10月) or repeated headers
    date1904: bool = False  # the workbook counts its date serials from 1904 (an old Mac one): a bare number
    # in a date column is a day since 1904-01-01, not 1899-12-30


@dataclass
class WorkbookRead:
    """One workbook: its name and size, the sheets recognised and the sheets skipped with why (its hash is
    the caller's: pipeline.read_file takes it before the name check, file_sha256)."""

    path: Path
    file_name: str
    size_bytes: int
    source: str  # dealer / warehouse / reference, or "mixed"
    sheets: list[SheetRead]
    skipped_sheets: list[tuple[str, str]] = field(default_factory=list)  # (sheet name, why skipped)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as stream:
        for chunk in iter(lambda: stream.read(MB), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_workbook(
    path: Path,
    aliases: Aliases,
    *,
    max_file_mb: int = READ_LIMITS["max_file_mb"],
    max_unpacked_mb: int = READ_LIMITS["max_unpacked_mb"],
    max_compression_ratio: int = READ_LIMITS["max_compression_ratio"],
    max_rows: int = READ_LIMITS["max_rows"],
    max_columns: int = READ_LIMITS["max_columns"],
    max_cells: int = READ_LIMITS["max_cells"],
) -> WorkbookRead:
    """Read every sheet of a workbook whose kind is recognised; raise FileRefused when nothing can be trusted.

    A file is refused when it is not a spreadsheet, is encrypted, damaged, a zip bomb, declares an XML
    document type, is larger than the limits (a sheet's used range spanning more than max_cells cells
    included), or has no sheet we know. Every check on the container runs before calamine parses anything.
    """
    path = Path(path)
    if (size_bytes := path.stat().st_size) > max_file_mb * MB:
        raise FileRefused(
            f"the file is {size_bytes / MB:.0f} MB, more than the {max_file_mb} MB a workbook may have; "
            "split it into smaller workbooks (for example one per month) and send them again"
        )
    data = path.read_bytes()
    container = _checked_container(
        data, max_unpacked_mb, max_compression_ratio, _Limits(max_rows, max_columns, max_cells)
    )
    with _calamine_errors(None, data):
        reader = fastexcel.read_excel(data)
        sheet_names = reader.sheet_names
    sheets: list[SheetRead] = []
    skipped: list[tuple[str, str]] = []
    for index, name in enumerate(sheet_names):
        if container.rows.get(name, 0) > max_rows:
            raise _too_many_rows(name, container.rows[name], max_rows)
        with _calamine_errors(name, data):
            loaded = reader.load_sheet(
                index, header_row=None, dtypes="string", skip_rows=0, whitespace_as_null=True
            )
            if loaded.visible != "visible":  # an old copy or a lookup list, out of the steward's sight
                skipped.append((name, HIDDEN_SHEET))
                continue
            if loaded.total_height > max_rows:
                raise _too_many_rows(name, loaded.total_height, max_rows)
            if loaded.width > max_columns:
                raise _too_many_columns(name, loaded.width, max_columns)
            grid, columns = _shown_grid(loaded, name, container)
        merges = container.merges.get(name, [])
        grid = _with_merged_values(grid, columns, merges)
        letters = [_column_letter(index) for index in columns]
        result = _read_sheet(name, grid, letters, aliases, _title_rows(grid, columns, merges))
        if isinstance(result, SheetRead):
            result.date1904 = container.date1904
            sheets.append(result)
        else:
            skipped.append((name, result))
    if not sheets:
        why = "; ".join(f"'{name}': {reason}" for name, reason in skipped) or "it has no sheet"
        raise FileRefused(
            f"no sheet of this workbook is one we know ({why}); name each sheet after what it holds, "
            "e.g. 客户档案, 维修保养记录, 跟踪服务电话记录, and send the file again"
        )
    if any(SHEETS[s.kind].source != REFERENCE for s in sheets):
        skipped += [(s.sheet, REFERENCE_COPY) for s in sheets if SHEETS[s.kind].source == REFERENCE]
        sheets = [s for s in sheets if SHEETS[s.kind].source != REFERENCE]
    sources = {SHEETS[s.kind].source for s in sheets}
    return WorkbookRead(
        path=path,
        file_name=path.name,
        size_bytes=len(data),
        source=sources.pop() if len(sources) == 1 else MIXED,
        sheets=sheets,
        skipped_sheets=skipped,
    )


@dataclass(frozen=True)
class ShownSheet:
    """A sheet's cells as text, as Excel shows them (see read_workbook), where they are in the sheet."""

    name: str
    grid: pl.DataFrame  # row i is Excel row i + 1
    columns: list[int]  # the sheet's column (0-based) of each column of grid
    merges: list[tuple[int, int, int, int]]  # merged ranges: first row, first column, last row, last column
    # (rows 1-based, columns 0-based); a range ending before it starts (a damaged file) is left out


def sheets_as_shown(path: Path) -> Iterator[ShownSheet]:
    """Every sheet of a workbook read_workbook has read, hidden ones too, as Excel shows its cells: for a
    copy of them (the steward's copy of a legacy .xls). A sheet calamine cannot load (a chart sheet) is
    empty."""
    data = Path(path).read_bytes()
    # The file passed read_workbook's limits, the settings' (which ops may have raised): only Excel's own
    # bound it here, and each part still inflates to no more than the size it declares.
    container = _checked_container(
        data, UNBOUNDED, UNBOUNDED, _Limits(EXCEL_ROWS, EXCEL_COLUMNS, EXCEL_ROWS * EXCEL_COLUMNS)
    )
    with _calamine_errors(None, data):
        reader = fastexcel.read_excel(data)
    for index, name in enumerate(reader.sheet_names):
        try:
            with _calamine_errors(name, data):
                loaded = reader.load_sheet(
                    index, header_row=None, dtypes="string", skip_rows=0, whitespace_as_null=True
                )
                grid, columns = _shown_grid(loaded, name, container)
        except FileRefused:
            grid, columns = pl.DataFrame(), []
        merges = [m for m in container.merges.get(name, []) if m[0] <= m[2] and m[1] <= m[3]]
        yield ShownSheet(name, grid, columns, merges)


def _shown_grid(
    loaded: fastexcel.ExcelSheet, name: str, container: _Container
) -> tuple[pl.DataFrame, list[int]]:
    """A loaded sheet as text as Excel shows it (errors, times alone, the formats calamine does not apply),
    and the sheet's column of each of its columns."""
    grid = _times_alone(_grid(loaded), DAY_ZERO[container.date1904])
    columns = [c.absolute_index for c in loaded.selected_columns]
    return _as_shown(grid, columns, container.shown_cells.get(name, []), container.date1904), columns


# --- the container, before calamine ------------------------------------------------------------


def _checked_container(
    data: bytes, max_unpacked_mb: int, max_compression_ratio: int, limits: _Limits
) -> _Container:
    """What a workbook's container declares (_Container), once its checks pass; refuse a file that is not a
    workbook."""
    if data.startswith(ZIP_MAGIC):
        return _check_ooxml(data, max_unpacked_mb, max_compression_ratio, limits)
    if data.startswith(OLE2_MAGIC):
        return _check_ole2(data, limits)
    raise FileRefused(
        f"the file is not an Excel workbook (.xlsx, .xlsm or .xls) but {_what_it_is(data)}; {RESAVE}"
    )


def _check_ooxml(
    data: bytes, max_unpacked_mb: int, max_compression_ratio: int, limits: _Limits
) -> _Container:
    """Refuse a damaged, encrypted or bomb-like .xlsx/.xlsm; return what its sheets declare (_Container).

    Rule: the declared uncompressed sizes add up to at most max_unpacked_mb, no part of 1 MB or more is
    compressed more than max_compression_ratio times, no XML part has a DOCTYPE or ENTITY declaration,
    and every part inflates to exactly the size it declares: each is inflated once, a chunk at a time,
    and given up on as soon as it passes that size (a bomb can declare a believable size and hold
    gigabytes). A sheet whose used range would pass max_rows, max_columns or max_cells is refused here
    too, before calamine builds its grid. Costs about +10% (inflating) and +15% (the references) of
    reading a large workbook; nothing for a small one.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
        raise FileRefused(
            f"the file is damaged or incomplete (not a readable zip archive: {error}); {RESAVE}"
        ) from error
    by_name = {member.filename: member for member in members}
    if "xl/workbook.xml" not in by_name:
        raise FileRefused(
            "the file is a zip archive but not an Excel .xlsx/.xlsm workbook (an .xlsb, .ods or Word file?); "
            + RESAVE
        )
    if any(member.flag_bits & 0x1 for member in members):
        raise _encrypted()
    unpacked = sum(member.file_size for member in members)
    if unpacked > max_unpacked_mb * MB:
        raise FileRefused(
            f"the workbook would unpack to {unpacked / MB:.0f} MB, more than the {max_unpacked_mb} MB allowed; "
            "split it into smaller workbooks and send them again"
        )
    for member in members:
        if member.compress_size > member.file_size + member.file_size // 1000 + 1024:
            raise FileRefused(  # deflate never grows data by more than a few bytes per block
                f"the part {member.filename} of the workbook declares {member.file_size:,} bytes but holds "
                f"{member.compress_size:,} compressed: the archive is damaged or crafted; {RESAVE}"
            )
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size >= RATIO_FLOOR_BYTES and ratio > max_compression_ratio:
            raise FileRefused(
                f"the part {member.filename} of the workbook is compressed {ratio:.0f} times "
                f"(more than {max_compression_ratio}), as zip bombs are; {RESAVE}"
            )
    sheet_parts = _sheet_parts(archive)
    sheet_names = {part: sheet for sheet, part in sheet_parts.items()}
    merges: dict[str, list[_Merge]] = {sheet: [] for sheet in sheet_parts}
    heads = _inflated_parts(data, members, sheet_names, limits, merges)
    for name, head in heads.items():
        if (name.endswith((".xml", ".rels", ".vml")) or name in sheet_names) and _declares_dtd(head):
            raise FileRefused(
                f"the part {name} of the workbook declares an XML document type "
                "(<!DOCTYPE>/<!ENTITY>), which Excel never writes and which can be used to attack the "
                f"reader; {RESAVE}"
            )
    declared = {
        name: rows
        for name, part in sheet_parts.items()
        if part in heads and (rows := _declared_rows(heads[part], by_name[part].file_size, limits.rows))
    }
    styles = _shown_styles(archive)
    shown_cells = {
        sheet: cells
        for sheet, part in sheet_parts.items()
        if styles and part in by_name and (cells := _cells_styled(data, by_name[part], styles))
    }
    return _Container(
        rows=declared,
        merges={sheet: found for sheet, found in merges.items() if found},
        date1904=_DATE1904.search(heads.get("xl/workbook.xml", b"")) is not None,
        shown_cells=shown_cells,
    )


def _shown_styles(archive: zipfile.ZipFile) -> dict[int, int]:
    """The cell styles (indexes into cellXfs) whose numbers Excel shows otherwise than calamine writes them:
    AS_DATE for a date format of LOCALE_DATE_FORMATS the workbook does not define itself, else the digits
    of a format of zeros (parsed with defusedxml)."""
    try:
        if archive.getinfo("xl/styles.xml").file_size > 16 * MB:
            return {}  # far beyond any real workbook's styles: not parsed into memory here
        styles = SafeElementTree.fromstring(archive.read("xl/styles.xml"))
    except (KeyError, SafeElementTree.ParseError, ValueError, zipfile.BadZipFile, zlib.error, EOFError):
        return {}  # calamine reports what is wrong with this part

    def children(parent: str, child: str) -> list:
        return [
            element
            for holder in styles
            if holder.tag.rsplit("}", 1)[-1] == parent
            for element in holder
            if element.tag.rsplit("}", 1)[-1] == child
        ]

    codes = {
        int(element.get("numFmtId", "")): element.get("formatCode", "")
        for element in children("numFmts", "numFmt")
        if element.get("numFmtId", "").isdigit()
    }
    shown: dict[int, int] = {}
    for index, xf in enumerate(children("cellXfs", "xf")):
        number_format = xf.get("numFmtId", "")
        how = _how_shown(int(number_format), codes) if number_format.isdigit() else None
        if how is not None:
            shown[index] = how
    return shown


def _how_shown(number_format: int, codes: dict[int, str]) -> int | None:
    """How a number in format `number_format` shows where calamine writes it otherwise (see _shown_styles):
    the digits of a format of zeros (`codes`: the workbook's own format codes), AS_DATE for a locale date
    format the workbook leaves built in or defines again as a date (a FORMAT record calamine ignores in
    an .xls; in an .xlsx calamine reads it as a date already, which AS_DATE keeps), else None."""
    code = codes.get(number_format)
    if code is not None and (zeros := _ZEROS.fullmatch(code.split(";")[0].strip())):
        return len(zeros.group())
    if number_format in LOCALE_DATE_FORMATS and (code is None or _DATE_CODE.search(_LITERALS.sub("", code))):
        return AS_DATE
    return None


def _cells_styled(data: bytes, member: zipfile.ZipInfo, styles: dict[int, int]) -> list[tuple[int, int, int]]:
    """(row, column, how it shows) of the number cells of a worksheet part in one of `styles` (rows 1-based,
    columns 0-based); a text, boolean or error cell keeps what it shows, whatever its format."""
    styled = re.compile(
        rb"<(?:[\w.-]+:)?c\b([^>]*?\bs\s*=\s*[\"'](?:"
        + b"|".join(b"%d" % s for s in styles)
        + rb")[\"'][^>]*)>"
    )
    cells: list[tuple[int, int, int]] = []
    for text in _whole_tags(_part_chunks(data, member)):
        for found in styled.finditer(text):
            attributes = dict(_CELL_ATTRIBUTE.findall(found.group(1)))
            if b"r" in attributes and attributes.get(b"t", b"n") == b"n":
                row, column = _reference(attributes[b"r"].decode("latin-1"))
                cells.append((row, column - 1, styles[int(attributes[b"s"])]))
    return cells


# A merged range: first row, first column, last row, last column (rows 1-based, columns 0-based).
_Merge = tuple[int, int, int, int]


@dataclass(frozen=True)
class _Container:
    """What a workbook declares: by sheet name its merged ranges, (.xlsx/.xlsm) the rows of its dimension,
    and its number cells shown otherwise than calamine writes them; and whether its dates count from 1904."""

    rows: dict[str, int]
    merges: dict[str, list[_Merge]]
    date1904: bool = False
    shown_cells: dict[str, list[tuple[int, int, int]]] = field(default_factory=dict)  # see _cells_styled


@dataclass(frozen=True)
class _Limits:
    """The most rows, columns and cells (rows x columns) a sheet's used range may span."""

    rows: int
    columns: int
    cells: int

    def check(self, sheet: str, rows: int, columns: int) -> None:
        """Refuse a sheet whose used range passes a limit."""
        if columns > self.columns:
            raise _too_many_columns(sheet, columns, self.columns)
        if rows > self.rows:
            raise _too_many_rows(sheet, rows, self.rows)
        if rows * columns > self.cells:
            raise FileRefused(
                f"sheet '{sheet}' spans {rows:,} rows by {columns:,} columns ({rows * columns:,} cells), more "
                f"than the {self.cells:,} cells a sheet may span; delete what lies outside the table (or split "
                "it) and send the file again"
            )


@dataclass
class _UsedRange:
    """What the references of a worksheet part say about the range calamine will build from it."""

    last_row: int = 0  # the largest row a reference names beyond the plain ones (0: none)
    last_column: int = 0  # the largest column a reference names beyond the plain ones (0: none)
    counted: bool = False  # whether some cell or row has no plain reference first: positions are counted


def _part_chunks(data: bytes, member: zipfile.ZipInfo) -> Iterator[bytes]:
    """A part's bytes, inflated a chunk at a time; refuse the file when it does not inflate to its declared size."""
    damaged = f"the part {member.filename} of the workbook is damaged"
    start = member.header_offset
    if data[start : start + 4] != ZIP_MAGIC:
        raise FileRefused(f"{damaged} (no local header where the directory says); {RESAVE}")
    name_length, extra_length = struct.unpack_from("<HH", data, start + 26)
    start += 30 + name_length + extra_length
    compressed = memoryview(data)[start : start + member.compress_size]
    if len(compressed) < member.compress_size:
        raise FileRefused(f"{damaged} (it ends before its data does); {RESAVE}")
    if member.compress_type == zipfile.ZIP_STORED:
        if member.compress_size != member.file_size:
            raise _size_lie(member, member.compress_size)
        for offset in range(0, len(compressed), INFLATE_CHUNK):
            yield bytes(compressed[offset : offset + INFLATE_CHUNK])
        return
    if member.compress_type != zipfile.ZIP_DEFLATED:
        raise FileRefused(
            f"the part {member.filename} of the workbook is compressed with a method Excel never uses "
            f"(zip method {member.compress_type}); {RESAVE}"
        )
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    inflated = 0
    try:
        for offset in range(0, len(compressed), INFLATE_FEED):
            pending = compressed[offset : offset + INFLATE_FEED]
            while pending and not inflater.eof:
                chunk = inflater.decompress(pending, INFLATE_CHUNK)
                pending = inflater.unconsumed_tail
                inflated += len(chunk)
                if inflated > member.file_size:
                    raise _size_lie(member, inflated, at_least=True)
                if chunk:
                    yield chunk
    except zlib.error as error:
        raise FileRefused(f"{damaged} ({error}); {RESAVE}") from error
    if not inflater.eof:
        raise FileRefused(f"{damaged} (its compressed data ends early); {RESAVE}")
    if inflated != member.file_size:
        raise _size_lie(member, inflated)


def _size_lie(member: zipfile.ZipInfo, real: int, *, at_least: bool = False) -> FileRefused:
    return FileRefused(
        f"the part {member.filename} of the workbook declares {member.file_size:,} bytes but holds "
        f"{'more than ' if at_least else ''}{real:,}: the archive is damaged or crafted (a zip bomb hides its "
        f"size like this); {RESAVE}"
    )


@dataclass
class _PartScan:
    """A part being inflated: where its refusals point, what its references say so far, its head, and the
    list its merged ranges go to (a worksheet's)."""

    member: zipfile.ZipInfo
    where: str
    merges: list[_Merge] | None
    used: _UsedRange = field(default_factory=_UsedRange)
    head: bytearray = field(default_factory=bytearray)


def _inflated_parts(
    data: bytes,
    members: list[zipfile.ZipInfo],
    sheet_names: dict[str, str],
    limits: _Limits,
    merges: dict[str, list[_Merge]],
) -> dict[str, bytes]:
    """Inflate every part once, refusing a sheet whose used range passes the limits; return their heads.

    Every part is looked at, not only the ones workbook.xml names as sheets: calamine may find a sheet
    where our reading of the relationships would not. A head is the first PROLOG_READ_BYTES of a part. A
    worksheet's merged ranges are added to its list in `merges` on the way. The chunks' references are
    searched RANGE_BATCH_BYTES at a time, then each chunk and each part's end is checked in the order they
    were inflated: a file is refused for the same first reason as when each chunk was checked at once.
    """
    heads: dict[str, bytes] = {}
    pending: list[tuple[_PartScan, bytes | None]] = []  # a chunk of a part's text, or None: the part's end

    def inflated() -> Iterator[tuple[_PartScan, bytes | None]]:
        for member in members:
            sheet = sheet_names.get(member.filename)
            part = _PartScan(
                member,
                sheet or member.filename,
                merges[sheet_names[member.filename]] if member.filename in sheet_names else None,
            )
            for text in _whole_tags(_kept_head(_part_chunks(data, member), part.head)):
                yield part, text
            yield part, None

    def checked() -> None:
        signs = iter(_range_signs([text for _, text in pending if text is not None]))
        for part, text in pending:
            if text is None:
                heads[part.member.filename] = _part_end(data, part, limits)
                continue
            found = next(signs)
            if part.merges is not None and b"mergeCell" in text:
                part.merges.extend(_merged_ranges(text))
            if not part.used.counted:  # once positions are counted, the count reads every reference too
                _note_range(found, part.used)
                limits.check(part.where, part.used.last_row, part.used.last_column)
        pending.clear()

    parts, size = inflated(), 0
    while True:
        try:
            item = next(parts, None)
        except Exception:
            checked()  # what was inflated before is checked first, as it was met first
            raise
        if item is None:
            break
        pending.append(item)
        size += len(item[1] or b"")
        if size >= RANGE_BATCH_BYTES:
            checked()
            size = 0
    checked()
    return heads


def _kept_head(chunks: Iterator[bytes], head: bytearray) -> Iterator[bytes]:
    """A part's chunks, its first PROLOG_READ_BYTES copied into `head` on the way."""
    for chunk in chunks:
        if len(head) < PROLOG_READ_BYTES:
            head.extend(chunk[: PROLOG_READ_BYTES - len(head)])
        yield chunk


def _part_end(data: bytes, part: _PartScan, limits: _Limits) -> bytes:
    """The checks of a part once it is inflated whole: its range counted when its references are odd or
    far apart, and its shared strings' count; return its head."""
    member, used = part.member, part.used
    if used.counted or max(used.last_row, PLAIN_ROWS) * max(used.last_column, PLAIN_COLUMNS) > limits.cells:
        _count_range(data, member, part.where, used, limits)
    strings = _UNIQUE_COUNT.search(part.head) if b"sst" in part.head else None  # the regex tries every `<`
    if strings and int(strings.group(1)) > member.file_size // MIN_STRING_XML_BYTES:
        raise FileRefused(  # calamine reserves room for that many strings up front
            f"the part {member.filename} of the workbook says it holds {int(strings.group(1)):,} different "
            f"texts, more than {member.file_size:,} bytes can: the file is damaged or crafted; {RESAVE}"
        )
    return bytes(part.head)


def _whole_tags(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """A part's chunks as UTF-8, each cut before its last `<` so that no tag is split between two."""
    pending = b""
    decode = None
    for chunk in chunks:
        decode = decode or _utf8_decoder(chunk)
        text = pending + decode(chunk)
        cut = text.rfind(b"<")
        pending, text = (text[cut:], text[:cut]) if cut > 0 else (b"", text)
        if text:
            yield text
    if pending:
        yield pending


def _utf8_decoder(head: bytes) -> Callable[[bytes], bytes]:
    """A function turning a part's chunks into UTF-8: a UTF-16 XML part is transcoded, anything else kept."""
    if not head.startswith((b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<")):
        return lambda chunk: chunk
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = "utf-16-le" if head.startswith(b"<") else "utf-16-be"
    incremental = codecs.getincrementaldecoder(encoding)(errors="replace")
    return lambda chunk: incremental.decode(chunk).encode()


def _range_signs(texts: list[bytes]) -> list[list[str]]:
    """The signs of each text's references beyond the plain ones (_RANGE_SIGNS), all searched in one go
    (Rust regex: a call costs about as much as searching 100 KB, and a chunk is about that)."""
    if not texts:
        return []
    try:
        signs = pl.Series(texts, dtype=pl.Binary).cast(pl.Utf8)
    except pl.exceptions.ComputeError:  # some text is not UTF-8 (a picture, a macro project)
        signs = pl.Series([_as_text(text) for text in texts], dtype=pl.Utf8)
    if not signs.str.contains(_RANGE_SIGNS).any():  # the usual case, told faster than extracting nothing
        return [[] for _ in texts]
    return signs.str.extract_all(_RANGE_SIGNS).to_list()


def _as_text(text: bytes) -> str:
    """A part's text as it is searched: UTF-8, or else Latin-1, byte for byte."""
    try:
        return pl.Series([text], dtype=pl.Binary).cast(pl.Utf8).item()
    except pl.exceptions.ComputeError:
        return text.decode("latin-1")


def _note_range(signs: list[str], used: _UsedRange) -> None:
    """Note in `used` the references beyond the plain ones and whether positions are counted, from a
    text's signs (_range_signs)."""
    for sign in signs:
        if not sign.startswith(" r="):
            used.counted = True
            continue
        row, column = _reference(sign[4:].rstrip('"'))
        used.last_row, used.last_column = max(used.last_row, row), max(used.last_column, column)


def _merged_ranges(text: bytes) -> Iterator[_Merge]:
    """The merged ranges a worksheet's text declares.

    Searched from the tag holding the first `mergeCell` on (the `<` last before it): no range starts before
    that `<`, as a range's tag prefix holds no `<`, and the cells before it are not tried one by one.
    """
    start = max(text.rfind(b"<", 0, text.find(b"mergeCell")), 0)
    for first, last in _MERGE_CELL.findall(text, start):
        (top, left), (bottom, right) = _reference(first.decode()), _reference(last.decode())
        yield top, left - 1, bottom, right - 1


def _reference(text: str) -> tuple[int, int]:
    """(row, column) of a cell reference such as `XFD1048576` (column 0 for a row's own number).

    A reference that is not letters then digits counts as beyond every limit.
    """
    found = _REFERENCE.fullmatch(text)
    if found is None:
        return 10**12, 10**12
    column = 0
    for letter in found.group(1):
        column = column * 26 + ord(letter) - 64
    return int(found.group(2)), column


def _count_range(data: bytes, member: zipfile.ZipInfo, sheet: str, used: _UsedRange, limits: _Limits) -> None:
    """Count positions as calamine does, refusing as soon as the range passes a limit (slow: odd sheets only)."""
    row = column = 0
    last_row, last_column = used.last_row, used.last_column
    for text in _whole_tags(_part_chunks(data, member)):
        for element in _ELEMENT.finditer(text):
            found = _REFERENCE_ATTRIBUTE.search(element.group(2))
            reference = (found.group(1) or found.group(2) or b"").decode("latin-1") if found else None
            if element.group(1) == b"row":
                row = _reference(reference)[0] if reference else row + 1
                column = 0
                last_row = max(last_row, row)
                continue
            if reference:
                cell_row, column = _reference(reference)
            else:
                cell_row, column = row, column + 1
            last_row, last_column = max(last_row, cell_row), max(last_column, column)
        limits.check(sheet, last_row, last_column)


def _declares_dtd(head: bytes) -> bool:
    """Whether an XML part's preamble holds a declaration (`<!DOCTYPE`, `<!ENTITY`) before its root element.

    A preamble that does not end within the bytes read counts as one: Excel's are a few dozen bytes.
    """
    encoding = "utf-16" if head.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8"
    text = head.decode(encoding, errors="ignore").lstrip("\ufeff")
    truncated = len(head) == PROLOG_READ_BYTES
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            return truncated
        if text.startswith("<?", position):
            terminator = "?>"
        elif text.startswith("<!--", position):
            terminator = "-->"
        else:
            return text.startswith("<!", position)
        end = text.find(terminator, position)
        if end < 0:
            return truncated
        position = end + len(terminator)


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> worksheet part path, from workbook.xml and its relationships (parsed with defusedxml)."""
    try:
        if (
            max(archive.getinfo(n).file_size for n in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"))
            > 16 * MB
        ):
            return {}  # far beyond any real workbook's index: not parsed into memory here
        workbook = SafeElementTree.fromstring(archive.read("xl/workbook.xml"))
        relationships = SafeElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, SafeElementTree.ParseError, ValueError, zipfile.BadZipFile, zlib.error, EOFError):
        return {}  # calamine reports what is wrong with these parts
    targets = {rel.get("Id"): rel.get("Target", "") for rel in relationships}
    parts: dict[str, str] = {}
    for element in workbook.iter():
        if element.tag.rsplit("}", 1)[-1] != "sheet":
            continue
        relation = next((v for k, v in element.attrib.items() if k.rsplit("}", 1)[-1] == "id"), None)
        target = targets.get(relation, "")
        if target:
            parts[element.get("name", "")] = (
                target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
            )
    return parts


def _declared_rows(head: bytes, part_size: int, max_rows: int) -> int:
    """Rows a worksheet's <dimension> declares, when the part is big enough to hold more than max_rows.

    Formatting alone can stretch a dimension far past the last value (calamine ignores such cells), so a
    dimension only counts when the part could really hold that many rows.
    """
    found = _DIMENSION.search(head)
    if found is None or found.group(1) is None or part_size < max_rows * MIN_ROW_XML_BYTES:
        return 0
    return int(found.group(1))


def _check_ole2(data: bytes, limits: _Limits) -> _Container:
    """Refuse an OLE2 file that is an encrypted .xlsx/.xlsm, not a legacy .xls workbook, or whose sheets
    declare dimensions past the limits (calamine sizes its grid from them: a DIMENSIONS record claiming
    4 billion rows aborts the process); return the merged ranges of its sheets (MERGEDCELLS, which
    calamine does not apply), their number cells whose format (XF, FORMAT) shows them otherwise than
    calamine writes them, and whether its dates count from 1904 (DATEMODE)."""
    try:
        container = _Ole2(data)
        if "EncryptedPackage" in container.streams:
            raise _encrypted()
        book = next((name for name in ("Workbook", "Book") if name in container.streams), None)
        if book is None:
            raise FileRefused(
                "the file is an Office document but not an Excel workbook (a Word or PowerPoint file?); "
                + RESAVE
            )
        stream = container.stream(book)
    except (struct.error, IndexError, ValueError, KeyError) as error:
        raise FileRefused(f"the file is damaged or incomplete ({error}); {RESAVE}") from error
    position, sheet, last_row, last_column = 0, 0, 0, 0
    date1904 = False
    names: dict[int, str] = {}  # where a sheet's substream starts -> its name
    merges: dict[str, list[_Merge]] = {}
    codes: dict[int, str] = {}  # FORMAT records: the workbook's own format codes
    xf_formats: list[int] = []  # XF records, in order: the number format of each cell style
    shown: dict[str, list[tuple[int, int, int]]] = {}  # see _cells_styled
    current = ""
    while position + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, position)
        if kind in BIFF_CELLS and length >= 4:  # calamine's grid spans the cells it finds, wherever they are
            row, column = struct.unpack_from("<HH", stream, position + 4)
            if kind in BIFF_CELL_RUNS and length >= 6:
                column = struct.unpack_from("<H", stream, position + 4 + length - 2)[0]
            if column >= XLS_COLUMNS:
                raise FileRefused(
                    f"sheet #{sheet - 1} of the workbook has a cell in column {column + 1}, which no .xls can "
                    f"hold: the file is damaged or crafted; {RESAVE}"
                )
            last_row, last_column = max(last_row, row + 1), max(last_column, column + 1)
            limits.check(f"#{sheet - 1}", last_row, last_column)
            for cell_column, xf in _number_cell_styles(kind, stream[position + 4 : position + 4 + length]):
                if xf < len(xf_formats) and (how := _how_shown(xf_formats[xf], codes)) is not None:
                    shown.setdefault(current, []).append((row + 1, cell_column, how))
        elif kind == BIFF_FORMAT and length >= 5:
            number_format, count, flags = struct.unpack_from("<HHB", stream, position + 4)
            text = stream[position + 9 : position + 9 + count * (2 if flags & 1 else 1)]
            codes[number_format] = text.decode("utf-16-le" if flags & 1 else "latin-1", errors="replace")
        elif kind == BIFF_XF and length >= 4:
            xf_formats.append(struct.unpack_from("<H", stream, position + 6)[0])
        elif kind == BIFF_BOF:
            sheet, last_row, last_column = sheet + 1, 0, 0
            current = names.get(position, current)  # a chart inside a sheet starts a substream of its own
        elif kind == BIFF_DIMENSIONS and length in (10, 14):
            first_row, last_row, first_column, last_column = struct.unpack_from(
                "<IIHH" if length == 14 else "<HHHH", stream, position + 4
            )
            rows, columns = last_row - first_row, last_column - first_column
            if rows < 0 or columns < 0 or last_row > XLS_ROWS or last_column > XLS_COLUMNS:
                raise FileRefused(
                    f"sheet #{sheet - 1} of the workbook declares rows {first_row}-{last_row} and columns "
                    f"{first_column}-{last_column}, which no .xls can hold: the file is damaged or crafted; "
                    + RESAVE
                )
            limits.check(f"#{sheet - 1}", last_row, last_column)
        elif kind == BIFF_DATEMODE and length == 2:
            date1904 = struct.unpack_from("<H", stream, position + 4)[0] == 1
        elif kind == BIFF_BOUNDSHEET and length >= 8:
            names[struct.unpack_from("<I", stream, position + 4)[0]] = _sheet_name(
                stream[position + 10 : position + 4 + length]
            )
        elif kind == BIFF_MERGEDCELLS and length >= 2:
            count = min(struct.unpack_from("<H", stream, position + 4)[0], (length - 2) // 8)
            merges.setdefault(current, []).extend(
                (top + 1, left, bottom + 1, right)
                for top, bottom, left, right in struct.iter_unpack(
                    "<HHHH", stream[position + 6 : position + 6 + 8 * count]
                )
            )
        position += 4 + length
    return _Container(rows={}, merges=merges, date1904=date1904, shown_cells=shown)


def _number_cell_styles(kind: int, record: bytes) -> Iterator[tuple[int, int]]:
    """(column, XF index) of each number a BIFF cell record holds: NUMBER, RK, each of a MULRK's, and a
    FORMULA's cached result when it is a number (its last two bytes are 0xFFFF for any other result)."""
    if kind in (BIFF_NUMBER, BIFF_RK) and len(record) >= 6:
        yield struct.unpack_from("<HH", record, 2)
    elif kind == BIFF_MULRK and len(record) >= 12:
        first = struct.unpack_from("<H", record, 2)[0]
        for i in range((len(record) - 6) // 6):
            yield first + i, struct.unpack_from("<H", record, 4 + 6 * i)[0]
    elif kind == BIFF_FORMULA and len(record) >= 14 and record[12:14] != b"\xff\xff":
        yield struct.unpack_from("<HH", record, 2)


def _sheet_name(record: bytes) -> str:
    """A BOUNDSHEET's name (ShortXLUnicodeString: count, flags, then Latin-1 or UTF-16 characters)."""
    if len(record) < 2:
        return ""
    count, wide = record[0], record[1] & 1
    text = record[2 : 2 + count * (2 if wide else 1)]
    return text.decode("utf-16-le", errors="replace") if wide else text.decode("latin-1")


class _Ole2:
    """The directory and streams of an OLE2 (compound file) container, read just enough to find a stream."""

    def __init__(self, data: bytes):
        self.data = data
        self.sector_size = 1 << struct.unpack_from("<H", data, 30)[0]
        self.mini_sector_size = 1 << struct.unpack_from("<H", data, 32)[0]
        first_directory, _, self.mini_cutoff, first_mini_fat, _, first_difat, difat_sectors = (
            struct.unpack_from("<7I", data, 48)
        )
        per_sector = self.sector_size // 4
        fat_sectors = [s for s in struct.unpack_from("<109I", data, 76) if s < OLE2_SPECIAL]
        difat = first_difat
        for _ in range(difat_sectors):
            entries = struct.unpack(f"<{per_sector}I", self.sector(difat))
            fat_sectors += [s for s in entries[:-1] if s < OLE2_SPECIAL]
            difat = entries[-1]
        self.fat = [e for s in fat_sectors for e in struct.unpack(f"<{per_sector}I", self.sector(s))]
        self.mini_fat = [
            e for s in self.chain(first_mini_fat) for e in struct.unpack(f"<{per_sector}I", self.sector(s))
        ]
        self.streams: dict[str, tuple[int, int]] = {}  # name -> (first sector, size)
        root = (OLE2_END, 0)
        for directory_sector in self.chain(first_directory):
            block = self.sector(directory_sector)
            for offset in range(0, self.sector_size, 128):
                name_bytes, kind = struct.unpack_from("<HB", block, offset + 64)
                start, size = struct.unpack_from("<IQ", block, offset + 116)
                if kind == 5:
                    root = (start, size)
                elif kind in (1, 2) and 2 <= name_bytes <= 64:
                    name = block[offset : offset + name_bytes - 2].decode("utf-16-le", errors="replace")
                    self.streams.setdefault(name, (start, size))
        self.mini_stream = b"".join(self.sector(s) for s in self.chain(root[0]))[: root[1]]

    def sector(self, number: int) -> bytes:
        start = (number + 1) * self.sector_size
        if start + self.sector_size > len(self.data):
            raise ValueError(f"sector {number} lies beyond the end of the file")
        return self.data[start : start + self.sector_size]

    def chain(self, first: int, table: list[int] | None = None) -> list[int]:
        """The sectors of a chain through the FAT (or the mini FAT), refusing a loop."""
        table = self.fat if table is None else table
        sectors: list[int] = []
        current = first
        while current < OLE2_SPECIAL:
            if len(sectors) > len(table):
                raise ValueError("a sector chain loops")
            sectors.append(current)
            current = table[current]
        return sectors

    def stream(self, name: str) -> bytes:
        """A stream's bytes (from the mini stream when it is smaller than the cutoff)."""
        start, size = self.streams[name]
        if size < self.mini_cutoff:
            size_of = self.mini_sector_size
            return b"".join(
                self.mini_stream[s * size_of : (s + 1) * size_of] for s in self.chain(start, self.mini_fat)
            )[:size]
        return b"".join(self.sector(s) for s in self.chain(start))[:size]


def _encrypted() -> FileRefused:
    return FileRefused(
        "the workbook is protected with a password, so it cannot be read; open it in Excel, remove the password "
        "(File > Info > Protect Workbook > Encrypt with Password, clear it), save it and send it again"
    )


def _too_many_columns(sheet: str, columns: int, max_columns: int) -> FileRefused:
    return FileRefused(
        f"sheet '{sheet}' has {columns:,} columns, more than the {max_columns:,} a sheet may have; "
        "delete the unused columns and send the file again"
    )


def _too_many_rows(sheet: str, rows: int, max_rows: int) -> FileRefused:
    return FileRefused(
        f"sheet '{sheet}' has {rows:,} rows, more than the {max_rows:,} a sheet may have; "
        "split it into smaller workbooks (for example one per month) and send them again"
    )


def _what_it_is(data: bytes) -> str:
    """What a file that is not a workbook seems to be, for the refusal."""
    if not data:
        return "empty"
    if data.startswith(b"%PDF"):
        return "a PDF"
    try:
        data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        return "another kind of file"
    return "a text file (a CSV, or a file renamed to .xlsx?)"


@contextmanager
def _calamine_errors(sheet: str | None, data: bytes) -> Iterator[None]:
    """Turn what calamine raises on a file (errors, and Rust panics) into a refusal with a reason."""
    where = f"sheet '{sheet}' of the workbook" if sheet else "the workbook"
    try:
        yield
    except fastexcel.FastExcelError as error:
        detail = str(error).splitlines()[0]
        if "password" in detail.lower() or _XLS_FILEPASS.search(data):
            raise _encrypted() from error
        raise FileRefused(f"{where} is damaged and cannot be read ({detail}); {RESAVE}") from error
    except BaseException as error:
        if type(error).__name__ != "PanicException":
            raise
        raise FileRefused(f"{where} is damaged and cannot be read ({error}); {RESAVE}") from error


# --- one sheet --------------------------------------------------------------------------------------


def _grid(loaded: fastexcel.ExcelSheet) -> pl.DataFrame:
    """A loaded sheet as a frame of text, with error cells written as Excel shows them (`#N/A`)."""
    batch, errors = loaded.to_arrow_with_errors()
    grid = pl.from_arrow(batch)
    assert isinstance(grid, pl.DataFrame)
    if errors is None or not errors.errors:
        return grid
    patches: dict[int, tuple[list[int], list[str]]] = {}
    for error in errors.errors:
        row, column = error.offset_position
        found = _CELL_ERROR.search(error.detail)
        kind = found.group(1) if found else error.detail
        rows, texts = patches.setdefault(column, ([], []))
        rows.append(row)
        texts.append(CELL_ERROR_TEXT.get(kind, f"#{kind}"))
    columns = grid.get_columns()
    for column, (rows, texts) in patches.items():
        columns[column] = columns[column].scatter(rows, texts)
    return pl.DataFrame(columns)


def _times_alone(grid: pl.DataFrame, day_zero: str) -> pl.DataFrame:
    """Cells holding a time without a date as Excel shows them (`10:30:00`), not on calamine's day zero.

    calamine hands a time alone (a cell formatted h:mm holding a serial below 1) over as that time on the
    day before serial 1: `1899-12-31 10:30:00`, or `1904-01-01 10:30:00` in a workbook of the 1904 date
    system. Read so, a call time typed as 10:30 loaded as a call made in 1899; as a time it is rejected in
    a date or datetime column, and joins its date column when the sheet splits the two.
    """
    moment = rf"^{day_zero} ([0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}(?:\.[0-9]+)?)$"
    # Only the columns with a cell starting as the day does (its literal start: 1899-12-3, 1904-01-01) are
    # rewritten: a cheap test of every cell instead of a regex replace of every cell.
    found = grid.select(pl.col(pl.Utf8).str.starts_with(day_zero.split("[")[0]).any())
    touched = [name for name, hit in found.row(0, named=True).items() if hit] if found.width else []
    return grid.with_columns(pl.col(touched).str.replace(moment, "$1")) if touched else grid


def _as_shown(
    grid: pl.DataFrame, columns: list[int], cells: list[tuple[int, int, int]], date1904: bool
) -> pl.DataFrame:
    """Number cells as their format shows them where calamine writes them otherwise (`cells`: Excel row,
    absolute column, how it shows: see _shown_styles).

    A built-in date or time format of Chinese Excel (2024年3月5日, 10时30分) is written as calamine writes
    the dates it knows (`2024-03-05 00:00:00`) and a time alone as `_times_alone` does (`10:30:00`); a whole
    number in a format of zeros gets its leading zeros (00123).
    """
    position = {index: j for j, index in enumerate(columns)}
    shows: dict[int, tuple[list[int], list[int]]] = {}
    for row, column, how in cells:
        if column in position and 0 < row <= grid.height:
            rows, hows = shows.setdefault(position[column], ([], []))
            rows.append(row - 1)
            hows.append(how)
    if not shows:
        return grid
    cell, how = pl.col("cell").cast(pl.Utf8), pl.col("how")
    number = cell.cast(pl.Float64, strict=False)  # a text cell stays as it is
    serial = pl.when((how == AS_DATE) & number.is_between(0, EXCEL_SERIAL_END, closed="left")).then(number)
    moment = pl.lit(EXCEL_EPOCH_1904 if date1904 else EXCEL_EPOCH, dtype=pl.Datetime("us")) + pl.duration(
        seconds=(serial * 86_400).round().cast(pl.Int64)
    )
    shown = pl.coalesce(
        pl.when(serial < 1)
        .then(moment.dt.strftime("%H:%M:%S"))
        .otherwise(moment.dt.strftime("%Y-%m-%d %H:%M:%S")),
        pl.when((how > AS_DATE) & cell.str.contains(r"^[0-9]+$")).then(cell.str.zfill(how)),
        cell,
    )
    series = grid.get_columns()
    for j, (rows, hows) in shows.items():
        marked = pl.DataFrame(
            {"cell": series[j], "how": pl.Series([None] * grid.height, dtype=pl.Int64).scatter(rows, hows)}
        )
        series[j] = marked.select(shown.alias(series[j].name)).to_series()
    return pl.DataFrame(series)


def _with_merged_values(grid: pl.DataFrame, columns: list[int], merges: list[_Merge]) -> pl.DataFrame:
    """Every cell of a range merged down one column shows the range's value, as Excel displays it.

    Dealers merge a customer's name and phone over the rows of their vehicles, or a dealer code over a
    whole list: calamine gives the value to the first cell only, and the rows below would be rejected as
    blank. A range across several columns is left as it is (which column its value belongs to is not
    clear); `columns` are the grid's absolute column indexes, its rows are Excel's from row 1.
    """
    position = {index: j for j, index in enumerate(columns)}
    fills: dict[int, tuple[list[int], list[str]]] = {}
    budget = grid.height * grid.width  # overlapping ranges (a crafted file) cannot multiply the work
    for top, left, bottom, right in merges:
        j = position.get(left)
        if j is None or left != right or not 0 < top < bottom or top > grid.height:
            continue
        value = grid[top - 1, j]
        below = range(top, min(bottom, grid.height))
        if value is None or len(below) > budget:
            continue
        budget -= len(below)
        rows, values = fills.setdefault(j, ([], []))
        rows.extend(below)
        values.extend([value] * len(below))
    if not fills:
        return grid
    series = grid.get_columns()
    for j, (rows, values) in fills.items():
        series[j] = series[j].scatter(rows, values)
    return pl.DataFrame(series)


def _title_rows(grid: pl.DataFrame, columns: list[int], merges: list[_Merge]) -> set[int]:
    """Excel rows holding nothing but one value merged across columns: a section title (2026年10月, 华东区).

    Ledgers kept by hand split their rows by month or branch this way; such a row is no record.
    """
    position = {index: j for j, index in enumerate(columns)}
    candidates = {
        (top, position[left])
        for top, left, _, right in merges
        if right > left and left in position and 0 < top <= grid.height
    }
    if not candidates:
        return set()
    tops = {top for top, _ in candidates}
    if len(tops) <= TITLE_ROWS_READ:  # a banner, a title a month: their rows are read one by one
        cells = {top: grid.row(top - 1) for top in tops}
        return {
            top
            for top, j in candidates
            if sum(cell is not None for cell in cells[top]) == 1 and cells[top][j] is not None
        }
    filled = grid.select(pl.sum_horizontal(pl.all().is_not_null())).to_series()
    return {top for top, j in candidates if filled[top - 1] == 1 and grid[top - 1, j] is not None}


def _read_sheet(
    name: str, grid: pl.DataFrame, letters: list[str], aliases: Aliases, title_rows: set[int] = frozenset()
) -> SheetRead | str:
    """A sheet read as its kind, or the reason it is skipped (`title_rows`: Excel rows of section titles)."""
    if grid.height == 0 or grid.width == 0:
        return "the sheet has no cells (empty, or a chart)"
    head = grid.head(HEADER_SCAN_ROWS).rows()
    kind = aliases.sheet_kind(name)
    header_index = _header_index(head, kind, aliases) if kind else None
    if header_index is None:
        found = _kind_from_headers(head, aliases)
        if isinstance(found, str):
            return _skip_reason(name, kind, found, aliases)
        kind, header_index = found
    return _sheet_read(name, kind, header_index, grid, letters, aliases, title_rows)


def _row_fields(row: tuple[str | None, ...], kind: str, aliases: Aliases) -> set[str]:
    """The distinct fields of `kind` a row's cells name."""
    return {f for cell in row if cell is not None and (f := aliases.field_for(kind, cell)) is not None}


def _header_index(head: list[tuple], kind: str, aliases: Aliases) -> int | None:
    """Index of the row naming the most columns of `kind` (the first such row), if it names enough."""
    scores = [len(_row_fields(row, kind, aliases)) for row in head]
    best = max(scores, default=0)
    return scores.index(best) if best >= MIN_HEADER_FIELDS else None


def _kind_from_headers(head: list[tuple], aliases: Aliases) -> tuple[str, int] | str:
    """(kind, header row index) when one kind clearly fits a sheet's headers best, else a hint for the steward.

    Rule: a candidate kind names at least 3 columns in one row, half of its required columns among them;
    the winner names more columns than any other candidate.
    """
    candidates: list[tuple[int, str, int]] = []
    resemblances: list[tuple[int, str]] = []
    for kind, sheet in SHEETS.items():
        fields = [_row_fields(row, kind, aliases) for row in head]
        best = max(range(len(fields)), key=lambda i: len(fields[i]))
        score = len(fields[best])
        resemblances.append((score, kind))
        required_named = len(fields[best] & set(sheet.required))
        if score >= MIN_KIND_FIELDS and 2 * required_named >= len(sheet.required):
            candidates.append((score, kind, best))
    candidates.sort(reverse=True)
    if len(candidates) == 1 or (candidates and candidates[0][0] > candidates[1][0]):
        return candidates[0][1], candidates[0][2]
    if len(candidates) > 1:
        tied = [kind for score, kind, _ in candidates if score == candidates[0][0]]
        return "its headers fit " + " and ".join(_kind_label(k) for k in tied) + " equally well"
    resemblances.sort(reverse=True)
    score, kind = resemblances[0]
    return kind if score >= MIN_HEADER_FIELDS and score > resemblances[1][0] else ""


def _skip_reason(name: str, named_kind: str | None, hint: str, aliases: Aliases) -> str:
    """Why a sheet is skipped, with a 'did you mean' when its headers or its name resemble a kind."""
    if named_kind:
        columns = "、".join(c.zh for c in SHEETS[named_kind].columns[:4])
        return (
            f"its name says {_kind_label(named_kind)} but none of its first {HEADER_SCAN_ROWS} rows is a header "
            f"row of that sheet (expected columns such as {columns}); add the header row"
        )
    if hint in SHEETS:
        return (
            f"not a sheet name we know; did you mean {_kind_label(hint)}? Its headers resemble that sheet: "
            f"rename the sheet to {SHEETS[hint].zh} and check its column headers to load it"
        )
    if hint:
        return f"not a sheet name we know, and {hint}; rename the sheet to the one it is to load it"
    close = difflib.get_close_matches(clean_label(name), list(aliases.sheets), n=1, cutoff=0.6)
    if close:
        kind = aliases.sheets[close[0]]
        return f"not a sheet name we know; did you mean {_kind_label(kind)}? Rename the sheet to {SHEETS[kind].zh} to load it"
    return f"not a sheet name we know, and none of its first {HEADER_SCAN_ROWS} rows looks like a header row"


def _figure_or_label(cell: str | None) -> bool:
    """A cell a total row is judged by: not blank, and not a formula's error (a SUM over a cell of text)."""
    return cell is not None and not is_excel_error(cell)


def _is_total_row(cells: list[str]) -> bool:
    """A row's filled cells (folded) are a total label and figures."""
    return any(TOTAL_CELL.match(cell) for cell in cells) and all(
        TOTAL_CELL.match(cell) or _FIGURE_CELL.match(cell) for cell in cells
    )


_DATE_PART = re.compile(r"(?:日期|date)$")
_TIME_PART = re.compile(r"(?:时间|time)$")


# What a time column's cell may hold: a time alone, as Excel shows it (10:30:00, see _times_alone) or as typed.
_TIME_ONLY = (
    r"^\s*(?:(?:上午|下午|晚上|中午|凌晨|早上)\s*)?\d{1,2}(?::\d{2}(?::\d{2})?|时(?:\d{1,2}分(?:\d{1,2}秒)?)?)"
    r"\s*(?:[AaPp]\.?[Mm]\.?)?\s*$"
)


def _date_and_time(
    kind: str, field: str, first: tuple[str, str], second: tuple[str, str], data: pl.DataFrame
) -> tuple[str, str] | None:
    """(date column, time column) when two (header, column) meaning one datetime field are its date and
    its time: headers ending in 日期 and 时间 (date, time), cells holding dates alone and times alone."""
    if SHEETS[kind].column(field).type != DATETIME:
        return None
    (header, column), (other_header, other_column) = first, second
    if _DATE_PART.search(clean_label(header)) and _TIME_PART.search(clean_label(other_header)):
        dates, times = column, other_column
    elif _TIME_PART.search(clean_label(header)) and _DATE_PART.search(clean_label(other_header)):
        dates, times = other_column, column
    else:
        return None
    dates_alone, times_alone = data.select(
        pl.col(dates).str.replace(r"\s00:00:00$", "").str.contains(r"\d:\d|时").not_().all(),
        pl.col(times).str.contains(_TIME_ONLY).all(),
    ).row(0)
    return (dates, times) if dates_alone and times_alone else None


def _date_time_text(date_column: str, time_column: str) -> pl.Expr:
    """A date cell and a time cell as one datetime text, as a clerk would write it in one cell.

    Excel hands a date over as `2026-11-20 00:00:00`: the midnight is dropped. A date alone is 00:00, as
    in one cell; a time alone is a blank date (the field is required, and the date column is where the
    steward must write it).
    """
    day, clock = pl.col(date_column), pl.col(time_column)
    joined = day.str.replace(r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", "$1") + " " + clock
    return pl.coalesce(joined, day)


def _kind_label(kind: str) -> str:
    return f"{SHEETS[kind].zh} ({kind})"


def _own_header(kind: str, field: str, header: str) -> bool:
    """Whether `header` is the contract's own header of `field` (记录编号, or call_id), not one of its aliases."""
    column = SHEETS[kind].column(field)
    return clean_label(header) in {clean_label(column.zh), clean_label(column.name)}


def _sheet_read(
    name: str,
    kind: str,
    header_index: int,
    grid: pl.DataFrame,
    letters: list[str],
    aliases: Aliases,
    title_rows: set[int],
) -> SheetRead:
    """The data rows under the header row: fields renamed, unknown columns in _extra; blank, total and
    section-title rows out."""
    header_cells = grid.row(header_index)
    data = grid.slice(header_index + 1)
    headers: dict[str, str] = {}
    header_letters: dict[str, str] = {}
    field_columns: dict[str, str] = {}
    split_columns: dict[str, tuple[str, str]] = {}  # a datetime field written as a date and a time column
    extra_columns: dict[str, str] = {}
    for column, cell, letter in zip(grid.columns, header_cells, letters, strict=True):
        header = (cell or "").strip()
        target = aliases.field_for(kind, header) if header else None
        split = (
            target in headers
            and target not in split_columns
            and _date_and_time(kind, target, (headers[target], field_columns[target]), (header, column), data)
        )
        if split:
            split_columns[target] = split
            if split[0] == column:  # the field is shown (and marked) under its date column
                headers[target], header_letters[target], field_columns[target] = header, letter, column
            continue
        if (
            target in headers
            and target in SHEETS[kind].key
            and _own_header(kind, target, header) != _own_header(kind, target, headers[target])
        ):
            # a key's own header wins over a looser alias (序号, a row number, beside 记录编号); the other
            # column is kept aside with the unknown ones, in the raw layer
            if _own_header(kind, target, header):
                loose = headers.pop(target)
                extra_columns[loose] = field_columns.pop(target)
                del header_letters[target]
            else:
                extra_columns[f"{header} ({letter})" if header in extra_columns else header] = column
                continue
        if target in headers:
            together = (
                " (a date column and a time column are read as one when one holds dates alone and the other "
                "times alone)"
                if SHEETS[kind].column(target).type == DATETIME
                else ""
            )
            raise FileRefused(
                f"sheet '{name}': the columns '{headers[target]}' (column {header_letters[target]}) and "
                f"'{header}' (column {letter}) both mean "
                f"{target} ({SHEETS[kind].column(target).zh}); delete or rename one of them and send the file again"
                f"{together}"
            )
        if target is not None:
            headers[target] = header
            header_letters[target] = letter
            field_columns[target] = column
        elif header or data.get_column(column).null_count() < data.height:
            key = header or f"column {letter}"
            extra_columns[f"{key} ({letter})" if key in extra_columns else key] = column
    first_excel_row = header_index + 2
    header_texts = {
        column: cell.strip()
        for column, cell in zip(grid.columns, header_cells, strict=True)
        if cell and cell.strip()
    }
    # The hints are searched in a row's cells joined by NUL, which none of them holds: a match cannot span
    # two cells, and it is one search a row, not one a cell. A row holding a header text somewhere is a
    # candidate repeated header once a cell of it holds its own column's header.
    text = pl.col("_text")
    hints = data.select(pl.concat_str(pl.all(), separator="\x00", ignore_nulls=True).alias("_text")).select(
        text.str.contains(_TOTAL_HINT).fill_null(False).alias("_total"),
        (
            text.str.contains_any(list(header_texts.values())).fill_null(False)
            if len(header_texts) >= MIN_HEADER_FIELDS
            else pl.lit(False)
        ).alias("_header"),
    )
    marked = data.with_columns(
        pl.int_range(first_excel_row, first_excel_row + data.height, dtype=pl.Int64).alias(EXCEL_ROW),
        pl.any_horizontal(pl.all().is_not_null()).not_().alias("_blank"),
        *hints.get_columns(),
    )
    total_rows = [
        row[EXCEL_ROW]
        for row in marked.filter(pl.col("_total")).iter_rows(named=True)
        if _is_total_row([clean_label(row[c]) for c in grid.columns if _figure_or_label(row[c])])
    ]
    blank_rows = int(marked.get_column("_blank").sum())
    repeated = marked.filter(pl.col("_header"))
    if repeated.height:
        repeated = repeated.filter(
            pl.any_horizontal(
                *(
                    pl.col(column).str.contains(header, literal=True).fill_null(False)
                    for column, header in header_texts.items()
                )
            )
        )
    repeated_headers = {
        row[EXCEL_ROW]
        for row in repeated.iter_rows(named=True)
        if _repeats_header([(row[c], header_texts.get(c)) for c in grid.columns if row[c] is not None])
    }
    titles = sorted(
        {row for row in title_rows if row >= first_excel_row and row not in total_rows} | repeated_headers
    )
    kept = marked.filter(~pl.col("_blank") & ~pl.col(EXCEL_ROW).is_in(total_rows + titles))
    ordered = [f for f in SHEETS[kind].names if f in field_columns]
    frame = kept.select(
        pl.col(EXCEL_ROW),
        *(
            (_date_time_text(*split_columns[f]) if f in split_columns else pl.col(field_columns[f])).alias(f)
            for f in ordered
        ),
        _extra_json(extra_columns).alias(EXTRA),
    )
    return SheetRead(
        sheet=name,
        kind=kind,
        header_row=header_index + 1,
        headers={f: headers[f] for f in ordered},
        extra_headers=list(extra_columns),
        frame=frame,
        blank_rows=blank_rows,
        total_rows=total_rows,
        title_rows=titles,
    )


def _repeats_header(cells: list[tuple[str, str | None]]) -> bool:
    """Whether a row's filled cells (each with its column's header) repeat the header row: a ledger kept in
    blocks (one per month) copies it above each. Such a row is no record: every filled cell is its column's
    header, and at least MIN_HEADER_FIELDS are."""
    return len(cells) >= MIN_HEADER_FIELDS and all(cell.strip() == header for cell, header in cells)


def _extra_json(extra_columns: dict[str, str]) -> pl.Expr:
    """A JSON object {header: value} of a row's non-empty unknown cells, null when there are none."""
    if not extra_columns:
        return pl.lit(None, dtype=pl.Utf8)
    members = [
        pl.when(pl.col(column).is_not_null()).then(
            pl.lit(json.dumps(key, ensure_ascii=False) + ":")
            + pl.struct(pl.col(column).alias("v")).struct.json_encode().str.slice(5).str.strip_suffix("}")
        )
        for key, column in extra_columns.items()
    ]
    present = pl.any_horizontal(*(pl.col(column).is_not_null() for column in extra_columns.values()))
    body = pl.concat_str(members, separator=",", ignore_nulls=True)
    return pl.when(present).then(pl.lit("{") + body + pl.lit("}"))


def _column_letter(index: int) -> str:
    """Excel's letters for a 0-based column index (0 -> A, 27 -> AB)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters

"""Due-list files for the service desk: per dealer and per region, xlsx (a sheet per kind) and csv."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date
from functools import cache
from pathlib import Path

import duckdb
import polars as pl

from dealersync.exports.cells import safe_frame, xlsx_written_whole
from dealersync.exports.files import written_whole
from dealersync.transforms.due_list import (
    CONTACT_PROBLEM,
    DUE_LIST_COLUMNS,
    KIND,
    PRIORITY,
    STATUS,
)
from dealersync.warehouse.due_lists import (
    active_dealers,
    due_list_computed_at,
    due_list_items,
    is_known_scope,
    listed_dealers,
    region_as_known,
    store_due_list,
)

XLSX, CSV = "xlsx", "csv"
FORMATS = (XLSX, CSV)
DEALER, REGION = "dealer", "region"

HEADER = {c.name: c.zh for c in DUE_LIST_COLUMNS}
LABELS = {"kind": KIND, "status": STATUS, "priority": PRIORITY, "contact_problem": CONTACT_PROBLEM}
OVERVIEW, UNREACHABLE = "概览", "无法联系"

# Columns of a kind's sheet, in order; a dealer's own file leaves out the dealer's name and region,
# and only the letters sheet needs the address.
SHEET_COLUMNS = (
    "status",
    "priority",
    "due_date",
    "window_end",
    "dealer_code",
    "dealer_name",
    "region",
    "customer_id",
    "customer_name",
    "phone",
    "address",
    "vin",
    "plate_no",
    "model",
    "ref",
    "attempts",
    "last_attempt_at",
    "talking_points",
)
CSV_COLUMNS = ("kind", *SHEET_COLUMNS[:-1], "contact_problem", "talking_points")
MIN_WIDTH, MAX_WIDTH, WIDTH_SAMPLE = 6, 60, 500
IN_MEMORY_ITEMS = 20_000  # a list this long or shorter is built in memory (xlsx_workbook)


class UnknownScope(ValueError):
    """A dealer or region the warehouse does not know (a typo, most likely)."""


def due_list_folder(exports_dir: Path, as_of: date) -> Path:
    """Where a day's files go: <exports>/due_lists/<YYYY-MM-DD>/."""
    return Path(exports_dir) / "due_lists" / as_of.isoformat()


def exported_due_lists(
    con: duckdb.DuckDBPyConnection,
    as_of: date,
    folder: Path,
    maintenance_lead_days: int,
    formats: Sequence[str] = FORMATS,
    dealer: str | None = None,
    region: str | None = None,
) -> list[Path]:
    """Compute and store the due list of `as_of`, then write its files; return the paths written.

    Every dealer's and every region's file (an active dealer with nothing due gets an empty list, so
    a missing file never means "nothing to do"), or only the one dealer's or region's when given.
    Raises UnknownScope for a dealer or region the warehouse does not know.
    """
    if dealer is not None and region is not None:
        raise ValueError("ask for one dealer or one region, not both")
    if not is_known_scope(con, dealer=dealer, region=region):
        raise UnknownScope(f"the warehouse knows no {'dealer' if dealer else 'region'} {dealer or region!r}")
    if region is not None:
        region = region_as_known(con, region)
    store_due_list(con, as_of, maintenance_lead_days)
    items = due_list_items(con, as_of, dealer=dealer, region=region)
    active = active_dealers(con, as_of)
    if dealer is not None:
        scopes = [(DEALER, dealer.strip().upper())]
    elif region is not None:
        scopes = [(REGION, region.strip())]
    else:
        scopes = day_scopes(items.select("dealer_code", "region").unique().rows(), active)
    # each scope's items, split off once (a filter per scope reads every item: a night has a thousand scopes)
    split = {
        scope: {key: part for (key,), part in items.partition_by(column, as_dict=True).items()}
        for scope, column in ((DEALER, "dealer_code"), (REGION, "region"))
    }
    return [
        path
        for scope, name in scopes
        for path in write_due_list_files(
            split[scope].get(name, items.clear()),
            as_of,
            folder,
            scope,
            name,
            formats,
            dealers=[(code, dealer_name) for code, dealer_name, region in active if region == name]
            if scope == REGION
            else (),
        )
    ]


def day_scopes(
    listed: Iterable[tuple[str, str | None]], active: Iterable[tuple[str, str, str]]
) -> list[tuple[str, str]]:
    """The (scope, name) of every file of a day's list: each dealer listed (dealer_code, region) or active
    (dealer_code, name, region), then each of their regions. An active dealer with nothing due gets its
    empty list, so a missing file never means "nothing to do"."""
    listed, active = list(listed), list(active)
    dealers = {code for code, _ in listed} | {code for code, _, _ in active}
    regions = {region for _, region in listed if region is not None} | {region for _, _, region in active}
    return [(DEALER, code) for code in sorted(dealers)] + [(REGION, name) for name in sorted(regions)]


def due_list_file(folder: Path, scope: str, name: str, file_format: str) -> Path:
    """Where one scope's file goes: `dealer_D0012.xlsx`, `region_华东.csv`…"""
    return Path(folder) / f"{scope}_{_file_safe(name)}.{file_format}"


def due_list_files_written(con: duckdb.DuckDBPyConnection, as_of: date, folder: Path) -> bool:
    """Whether `folder` holds every file of the stored list of `as_of`, none older than the list.

    A night stopped while it wrote them (killed, the disk full) left some; a run again that day writes
    them all instead of keeping a folder that only has files in it.
    """
    computed_at = due_list_computed_at(con, as_of)
    if computed_at is None:
        return False
    paths = [
        due_list_file(folder, scope, name, file_format)
        for scope, name in day_scopes(listed_dealers(con, as_of), active_dealers(con, as_of))
        for file_format in FORMATS
    ]
    return all(path.is_file() and path.stat().st_mtime >= computed_at.timestamp() for path in paths)


def write_due_list_files(
    items: pl.DataFrame,
    as_of: date,
    folder: Path,
    scope: str,
    name: str,
    formats: Sequence[str] = FORMATS,
    dealers: Sequence[tuple[str, str]] = (),
) -> list[Path]:
    """One scope's files (`dealer_D0012.xlsx`, `region_华东.csv`…) in `folder`; return their paths.

    `dealers` (dealer_code, name): the region's active dealers, listed in its overview even with nothing due.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    if XLSX in formats:
        written.append(
            write_due_list_xlsx(due_list_file(folder, scope, name, XLSX), items, as_of, scope, name, dealers)
        )
    if CSV in formats:
        written.append(write_due_list_csv(due_list_file(folder, scope, name, CSV), items))
    return written


def _file_safe(name: str) -> str:
    """A dealer code or region as a file-name part: no path separators or characters Windows refuses."""
    return re.sub(r'[\\/:*?"<>|\s]+', "_", name).strip("._") or "none"


def _labelled(items: pl.DataFrame) -> pl.DataFrame:
    """Items with codes shown in Chinese (逾期, 高, 首次回访…)."""
    return items.with_columns(
        pl.col(column).replace_strict(dict(enum.labels), default=pl.col(column))
        for column, enum in LABELS.items()
    )


def write_due_list_csv(path: Path, items: pl.DataFrame) -> Path:
    """All the scope's items in one csv (UTF-8 with BOM so that Excel reads Chinese), headers in Chinese."""
    frame = safe_frame(_labelled(items).select(pl.col(c).alias(HEADER[c]) for c in CSV_COLUMNS))
    with written_whole(path) as partial:
        frame.write_csv(partial, include_bom=True, datetime_format="%Y-%m-%d %H:%M", date_format="%Y-%m-%d")
    return Path(path)


def write_due_list_xlsx(
    path: Path,
    items: pl.DataFrame,
    as_of: date,
    scope: str,
    name: str,
    dealers: Sequence[tuple[str, str]] = (),
) -> Path:
    """The scope's workbook: an overview, one sheet per kind, and the customers who cannot be reached.

    Each list sheet has a frozen header row, filters, widths fitted to the content, overdue rows in red
    and phone numbers stored as text.
    """
    labelled = _labelled(items)
    reachable = pl.col("contact_problem").is_null()
    by_kind = {
        kind: rows for (kind,), rows in labelled.filter(reachable).partition_by("kind", as_dict=True).items()
    }
    columns = [c for c in SHEET_COLUMNS if not (scope == DEALER and c in ("dealer_name", "region"))]
    # a long list is streamed to disk row by row (every sheet is written top to bottom); a short one is
    # built in memory, which spares the temporary files xlsxwriter otherwise makes for each part
    with xlsx_written_whole(path, constant_memory=items.height > IN_MEMORY_ITEMS) as workbook:
        formats = _Formats(workbook)
        _overview_sheet(workbook, formats, items, as_of, scope, name, dealers)
        for code, zh in KIND.labels:
            kind_columns = [c for c in columns if c != "address" or code == "campaign_letter"]
            rows = by_kind.get(zh, labelled.clear())
            _list_sheet(workbook.add_worksheet(zh), formats, rows, kind_columns)
        unreachable = labelled.filter(~reachable)
        _list_sheet(
            workbook.add_worksheet(UNREACHABLE),
            formats,
            unreachable,
            ["kind", "contact_problem", *columns],
        )
    return Path(path)


class _Formats:
    """The cell formats of one workbook."""

    def __init__(self, workbook) -> None:
        overdue = {"bg_color": "#FFC7CE", "font_color": "#9C0006"}
        self.title = workbook.add_format({"bold": True, "font_size": 14})
        self.header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        self.cells = {
            kind: {
                "text": workbook.add_format(extra | {"num_format": "@"}),
                "date": workbook.add_format(extra | {"num_format": "yyyy-mm-dd"}),
                "datetime": workbook.add_format(extra | {"num_format": "yyyy-mm-dd hh:mm"}),
                "number": workbook.add_format(extra | {"num_format": "0"}),
            }
            for kind, extra in (("due", {}), ("overdue", overdue))
        }


def _list_sheet(sheet, formats: _Formats, rows: pl.DataFrame, columns: list[str]) -> None:
    """A list of items: header, one row per item (overdue rows highlighted), frozen header and filters."""
    for col, column in enumerate(columns):
        sheet.write_string(0, col, HEADER[column], formats.header)
    overdue = STATUS.zh("overdue")
    status = columns.index("status")
    frame = rows.select(columns)
    writers = _column_writers(sheet, frame)
    for r, item in enumerate(frame.iter_rows(), 1):
        _write_row(sheet, r, item, writers, formats.cells["overdue" if item[status] == overdue else "due"])
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(rows.height, 1), len(columns) - 1)
    for col, width in enumerate(_widths(frame)):
        sheet.set_column(col, col, width)


def _column_writers(sheet, frame: pl.DataFrame) -> list[tuple]:
    """How each column's non-blank cells are written, chosen once from its type: the method and the format."""
    writers = []
    for column, dtype in frame.schema.items():
        if dtype == pl.Utf8:
            writers.append((sheet.write_string, "text"))
        elif column == "last_attempt_at":
            writers.append((sheet.write_datetime, "datetime"))
        elif dtype.is_temporal():
            writers.append((sheet.write_datetime, "date"))
        else:
            writers.append((sheet.write_number, "number"))
    return writers


def _write_row(sheet, row: int, values: tuple, writers: list[tuple], cells: dict) -> None:
    """One row of cells (None a blank, styled as text), each by its column's writer, in the `cells` formats."""
    for col, value in enumerate(values):
        if value is None:
            sheet.write_blank(row, col, None, cells["text"])
        else:
            write, cell = writers[col]
            write(row, col, value, cells[cell])


def _widths(frame: pl.DataFrame) -> list[int]:
    """Each column's width in characters: the widest of its header and its first WIDTH_SAMPLE values, a
    Chinese character counting two (one query for the whole sheet)."""
    longest = []
    for column, dtype in frame.schema.items():
        if dtype == pl.Date:
            longest.append(pl.lit(10))
        elif dtype == pl.Datetime:
            longest.append(pl.lit(16))
        else:
            text = pl.col(column).cast(pl.Utf8)
            longest.append((text.str.len_chars() + text.str.count_matches(_wide_characters())).max())
    values = frame.head(WIDTH_SAMPLE).select(e.alias(str(i)) for i, e in enumerate(longest)).row(0)
    return [
        min(MAX_WIDTH, max(MIN_WIDTH, _display_width(HEADER[column]), value or 0) + 2)
        for column, value in zip(frame.columns, values, strict=True)
    ]


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


@cache
def _wide_characters() -> str:
    """A regex class of the characters `_display_width` counts as two: East Asian wide or full-width."""
    ranges, start = [], None
    for code in range(0x110000 + 1):
        wide = code < 0x110000 and unicodedata.east_asian_width(chr(code)) in "WF"
        if wide and start is None:
            start = code
        elif not wide and start is not None:
            ranges.append(rf"\x{{{start:X}}}-\x{{{code - 1:X}}}")
            start = None
    return f"[{''.join(ranges)}]"


def _overview_sheet(
    workbook,
    formats: _Formats,
    items: pl.DataFrame,
    as_of: date,
    scope: str,
    name: str,
    dealers: Sequence[tuple[str, str]] = (),
) -> None:
    """Counts per kind: items, overdue, high priority and unreachable; per dealer too in a region's file.

    A region's file lists each of its `dealers` (dealer_code, name), with zeros when nothing is due.
    """
    sheet = workbook.add_worksheet(OVERVIEW)
    scope_zh = {DEALER: "经销商", REGION: "区域"}[scope]
    sheet.write_string(0, 0, f"到期清单 {as_of.isoformat()}", formats.title)
    sheet.write_string(1, 0, f"{scope_zh} {name}")
    counts = [
        pl.len().alias("合计"),
        (pl.col("status") == "overdue").sum().alias("逾期"),
        (pl.col("priority") == "high").sum().alias("高优先级"),
        pl.col("contact_problem").is_not_null().sum().alias("无法联系"),
    ]
    by_kind = (
        pl.DataFrame({"kind": list(KIND.codes), "类型": [zh for _, zh in KIND.labels]})
        .join(items.group_by("kind").agg(counts), on="kind", how="left")
        .drop("kind")
        .fill_null(0)
    )
    total = items.select(pl.lit("合计").alias("类型"), *counts)
    row = _table(sheet, formats, 3, pl.concat([by_kind, total], how="vertical_relaxed"))
    if scope == REGION:
        idle = pl.DataFrame(
            [(code, dealer_name) for code, dealer_name in dealers if code not in set(items["dealer_code"])],
            schema={"dealer_code": pl.Utf8, "dealer_name": pl.Utf8},
            orient="row",
        )
        by_dealer = (
            pl.concat(
                [items.group_by("dealer_code", "dealer_name").agg(counts), idle], how="diagonal_relaxed"
            )
            .fill_null(0)
            .sort("dealer_code")
            .rename({"dealer_code": HEADER["dealer_code"], "dealer_name": HEADER["dealer_name"]})
        )
        _table(sheet, formats, row + 1, by_dealer)
    sheet.set_column(0, 1, 16)
    sheet.set_column(2, 6, 10)


def _table(sheet, formats: _Formats, row: int, frame: pl.DataFrame) -> int:
    """A small table with a header row at `row`; return the row after it."""
    for col, column in enumerate(frame.columns):
        sheet.write_string(row, col, column, formats.header)
    writers = _column_writers(sheet, frame)
    for r, values in enumerate(frame.iter_rows(), row + 1):
        _write_row(sheet, r, values, writers, formats.cells["due"])
    return row + frame.height + 1

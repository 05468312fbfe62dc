"""Fixture factory: small workbooks built in code (xlsx/xlsm with xlsxwriter, legacy xls and OLE2 by hand)."""

from __future__ import annotations

import io
import math
import struct
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import xlsxwriter

Row = Sequence[object]

EXCEL_EPOCH = datetime(1899, 12, 30)


@dataclass(frozen=True)
class Formula:
    """A formula cell with the result Excel cached for it (e.g. `=1/0` showing `#DIV/0!`)."""

    formula: str
    result: object


def at(rows: Sequence[Row], top: int = 0, left: int = 0) -> list[list[object]]:
    """Rows placed `top` rows down and `left` columns right (data starting at C5 is top=4, left=2)."""
    return [[] for _ in range(top)] + [[None] * left + list(row) for row in rows]


def write_xlsx(
    path: Path,
    sheets: dict[str, Sequence[Row]],
    *,
    merged: dict[str, str] | None = None,
    vba_project: bytes | None = None,
) -> Path:
    """An .xlsx (or .xlsm with `vba_project`) holding `sheets`; cell values keep their Python type.

    str -> text, int/float -> number, date/datetime -> real Excel date, bool -> boolean, None -> empty,
    Formula -> a formula with its cached result.
    `merged` maps a sheet to a range (e.g. "A1:F1") merged over its first cell, as a title banner.
    """
    workbook = xlsxwriter.Workbook(str(path))
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    datetime_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for name, rows in sheets.items():
        sheet = workbook.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, bool):
                    sheet.write_boolean(r, c, value)
                elif isinstance(value, Formula):
                    sheet.write_formula(r, c, value.formula, None, value.result)
                elif isinstance(value, datetime):
                    sheet.write_datetime(r, c, value, datetime_format)
                elif isinstance(value, date):
                    sheet.write_datetime(r, c, datetime(value.year, value.month, value.day), date_format)
                elif isinstance(value, int | float):
                    sheet.write_number(r, c, value)
                else:
                    sheet.write_string(r, c, str(value))
        if merged and name in merged:
            first = rows[0][0] if rows and rows[0] else ""
            sheet.merge_range(merged[name], first, workbook.add_format({"bold": True, "align": "center"}))
    if vba_project is not None:
        workbook.add_vba_project(io.BytesIO(vba_project), is_stream=True)
    workbook.close()
    return path


def rewrite_part(path: Path, part: str, change: Callable[[bytes], bytes]) -> Path:
    """Rewrite one part of a zip-based workbook in place."""
    with zipfile.ZipFile(path) as source:
        contents = {info: source.read(info) for info in source.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in contents.items():
            target.writestr(info.filename, change(data) if info.filename == part else data)
    return path


# --- OLE2 compound files and BIFF8 (.xls) -------------------------------------------------------------

SECTOR = 512
FREE, END_OF_CHAIN, FAT_SECTOR = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
MINI_STREAM_CUTOFF = 4096


def ole2_container(streams: dict[str, bytes]) -> bytes:
    """A version-3 compound file holding `streams` (each padded past the mini-stream cutoff)."""
    names = list(streams)
    payloads = [streams[n] + b"\0" * max(0, MINI_STREAM_CUTOFF - len(streams[n])) for n in names]
    data_sectors = [math.ceil(len(p) / SECTOR) for p in payloads]
    directory_sectors = math.ceil((len(names) + 1) / 4)
    fat_sectors = 1
    while fat_sectors * 128 < fat_sectors + directory_sectors + sum(data_sectors):
        fat_sectors += 1
    fat = [FAT_SECTOR] * fat_sectors

    def chain(length: int) -> int:
        start = len(fat)
        fat.extend(range(start + 1, start + length))
        fat.append(END_OF_CHAIN)
        return start

    directory_start = chain(directory_sectors)
    starts = [chain(n) for n in data_sectors]
    fat.extend([FREE] * (fat_sectors * 128 - len(fat)))
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        bytes.fromhex("D0CF11E0A1B11AE1"),
        b"",
        0x3E,
        3,
        0xFFFE,
        9,
        6,
        b"",
        0,
        fat_sectors,
        directory_start,
        0,
        MINI_STREAM_CUTOFF,
        END_OF_CHAIN,
        0,
        END_OF_CHAIN,
        0,
    ) + struct.pack("<109I", *(list(range(fat_sectors)) + [FREE] * (109 - fat_sectors)))

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        return struct.pack(
            "<64sHBBIII16sIQQIQ", raw, len(raw), kind, 1, FREE, right, child, b"", 0, 0, 0, start, size
        )

    entries = [entry("Root Entry", 5, 1, FREE, END_OF_CHAIN, 0)]
    for i, (name, payload) in enumerate(zip(names, payloads, strict=True)):
        entries.append(entry(name, 2, FREE, i + 2 if i + 1 < len(names) else FREE, starts[i], len(payload)))
    while len(entries) % 4:
        entries.append(b"\0" * 64 + struct.pack("<HBBIII", 0, 0, 0, FREE, FREE, FREE) + b"\0" * 48)
    body = struct.pack(f"<{len(fat)}I", *fat) + b"".join(entries)
    for payload, length in zip(payloads, data_sectors, strict=True):
        body += payload + b"\0" * (length * SECTOR - len(payload))
    return header + body


def _record(kind: int, payload: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(payload)) + payload


def _merged_cells(ranges: list[tuple[int, int, int, int]]) -> bytes:
    """A sheet's MERGEDCELLS record (none when it merges nothing)."""
    if not ranges:
        return b""
    return _record(
        0x00E5, struct.pack("<H", len(ranges)) + b"".join(struct.pack("<HHHH", *r) for r in ranges)
    )


@dataclass(frozen=True)
class Formatted:
    """A number cell of xls_bytes with a number format: a built-in format id, a format code the
    workbook defines, or (id, code): a format the workbook defines under a built-in id (as some writers
    do); stored as an RK record (as Excel stores a whole number) when `rk`, else NUMBER."""

    value: float
    number_format: int | str | tuple[int, str]
    rk: bool = False


def _format_id(number_format: int | str | tuple[int, str], codes: list[str]) -> int:
    """The id an XF record of xls_bytes gives its number format (the workbook's own codes from 164)."""
    if isinstance(number_format, tuple):
        return number_format[0]
    return 164 + codes.index(number_format) if isinstance(number_format, str) else number_format


def xls_bytes(
    sheets: dict[str, Sequence[Row]],
    *,
    encrypted: bool = False,
    merged: dict[str, list[tuple[int, int, int, int]]] | None = None,
) -> bytes:
    """A legacy BIFF8 .xls workbook (what Excel 97-2003 writes), small enough for one SST record.

    Values as in write_xlsx; dates are numbers with a built-in date format, as Excel stores them, and a
    Formatted value is a number in its own format (a FORMAT record for a code, then an XF record).
    `merged` maps a sheet to its merged ranges (first row, last row, first column, last column; 0-based).
    `encrypted` adds the FILEPASS record of a password-protected workbook.
    """
    strings: list[str] = []
    number_formats: list[int | str] = [0, 14]  # XF 0: general, XF 1: built-in date format 14, then Formatted
    substreams: list[bytes] = []
    for name, rows in sheets.items():
        cells = b""
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, Formatted):
                    if value.number_format not in number_formats:
                        number_formats.append(value.number_format)
                    xf = number_formats.index(value.number_format)
                    if value.rk:  # an integer in the top 30 bits, flag 2: not a float, not divided by 100
                        cells += _record(0x027E, struct.pack("<HHHI", r, c, xf, (int(value.value) << 2) | 2))
                    else:
                        cells += _record(0x0203, struct.pack("<HHHd", r, c, xf, value.value))
                elif isinstance(value, bool):
                    cells += _record(0x0205, struct.pack("<HHHBB", r, c, 0, int(value), 0))
                elif isinstance(value, date):
                    serial = (datetime(value.year, value.month, value.day) - EXCEL_EPOCH).days
                    cells += _record(0x0203, struct.pack("<HHHd", r, c, 1, serial))
                elif isinstance(value, int | float):
                    cells += _record(0x0203, struct.pack("<HHHd", r, c, 0, value))
                else:
                    if str(value) not in strings:
                        strings.append(str(value))
                    cells += _record(0x00FD, struct.pack("<HHHI", r, c, 0, strings.index(str(value))))
        width = max((len(row) for row in rows), default=0)
        substreams.append(
            _record(0x0809, struct.pack("<HHHHII", 0x600, 0x10, 0xDBB, 0x7CC, 0, 6))
            + _record(0x0200, struct.pack("<IIHHH", 0, len(rows), 0, width, 0))
            + cells
            + _merged_cells((merged or {}).get(name, []))
            + _record(0x000A)
        )
    codes = [code for code in number_formats if isinstance(code, str)]
    defined = [(164 + i, code) for i, code in enumerate(codes)]
    defined += [number_format for number_format in number_formats if isinstance(number_format, tuple)]
    formats = b"".join(
        _record(0x041E, struct.pack("<HHB", number_format, len(code), 1) + code.encode("utf-16-le"))
        for number_format, code in defined
    ) + b"".join(
        _record(
            0x00E0,
            struct.pack(
                "<HHHBBBBIIH",
                0,
                _format_id(number_format, codes),
                0,
                0x20,
                0,
                0,
                0,
                0,
                0,
                0x20C0,
            ),
        )
        for number_format in number_formats
    )
    globals_head = _record(0x0809, struct.pack("<HHHHII", 0x600, 0x5, 0xDBB, 0x7CC, 0, 6))
    if encrypted:
        globals_head += _record(0x002F, struct.pack("<HHH", 1, 1, 1) + b"\0" * 48)
    globals_head += _record(0x0042, struct.pack("<H", 1200)) + _record(0x0022, struct.pack("<H", 0)) + formats
    shared_strings = struct.pack("<II", len(strings), len(strings)) + b"".join(
        struct.pack("<HB", len(s), 1) + s.encode("utf-16-le") for s in strings
    )
    assert len(shared_strings) <= 8224, "fixture too large for one SST record"
    globals_tail = _record(0x00FC, shared_strings) + _record(0x000A)
    position = len(globals_head) + sum(12 + 2 * len(n) for n in sheets) + len(globals_tail)
    bound_sheets = b""
    for name, substream in zip(sheets, substreams, strict=True):
        bound_sheets += _record(
            0x0085, struct.pack("<IBBBB", position, 0, 0, len(name), 1) + name.encode("utf-16-le")
        )
        position += len(substream)
    return ole2_container({"Workbook": globals_head + bound_sheets + globals_tail + b"".join(substreams)})

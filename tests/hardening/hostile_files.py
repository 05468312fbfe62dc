"""Hostile workbooks built in code: zip bombs, entity expansion, encryption, impostors, far-apart cells, bad names.

Each builder writes one file into a folder and returns its path; HOSTILE lists them with a fragment of
the reason the pipeline must give when it refuses the file.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from workbooks import ole2_container, write_xlsx, xls_bytes

CUSTOMER_HEADERS = ["经销商代码", "客户编号", "客户名称", "联系电话", "车架号", "车型"]
CUSTOMER_ROW = ["D0001", "C00001", "王建国", "13812345678", "LFV2A21K6G3053421", "DS-100"]
SHEET_PART = "xl/worksheets/sheet1.xml"
SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>\xe7\xbb\x8f\xe9\x94\x80\xe5\x95\x86\xe4\xbb\xa3\xe7\xa0\x81</t></is></c>'
    b'<c r="B1" t="inlineStr"><is><t>\xe5\xae\xa2\xe6\x88\xb7\xe7\xbc\x96\xe5\x8f\xb7</t></is></c>'
    b'<c r="C1" t="inlineStr"><is><t>\xe5\xae\xa2\xe6\x88\xb7\xe5\x90\x8d\xe7\xa7\xb0</t></is></c></row>'
)
SHEET_TAIL = b"</sheetData></worksheet>"
GIB = 1024**3


@dataclass(frozen=True)
class Part:
    """One zip member as it will be written: raw (deflated or stored) bytes and what it declares."""

    name: str
    data: bytes  # as stored in the archive
    crc: int
    size: int  # the uncompressed size written in the headers (a bomb may lie here)
    method: int = zipfile.ZIP_DEFLATED


def deflated(content: bytes) -> tuple[bytes, int]:
    """Raw deflate data of `content` and its CRC-32."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(content) + compressor.flush(), zlib.crc32(content)


def deflated_repeats(head: bytes, block: bytes, repeats: int, tail: bytes) -> tuple[bytes, int, int]:
    """Raw deflate data of head + block * repeats + tail, compressing `block` once: (data, crc, size).

    After a full flush the compressor starts afresh, so every copy of the block deflates to the same bytes.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    start = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
    body = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    end = compressor.compress(tail) + compressor.flush()
    crc = zlib.crc32(head)
    for _ in range(repeats):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(tail, crc)
    return start + body * repeats + end, crc, len(head) + len(block) * repeats + len(tail)


def write_zip(path: Path, parts: list[Part]) -> Path:
    """A zip archive written by hand, so that a part may declare any size it likes."""
    local, central = bytearray(), bytearray()
    for part in parts:
        name = part.name.encode()
        offset = len(local)
        fields = (20, 0, part.method, 0, 0x21, part.crc, len(part.data), part.size, len(name))
        local += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", *fields, 0) + name + part.data
        central += (
            struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, *fields, 0, 0, 0, 0, 0, offset) + name
        )
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(parts), len(parts), len(central), len(local), 0)
    path.write_bytes(bytes(local + central + end))
    return path


def valid_parts(folder: Path) -> list[Part]:
    """The parts of a small valid customers workbook, the sheet part last."""
    source = write_xlsx(folder / ".template.xlsx", {"客户档案": [CUSTOMER_HEADERS, CUSTOMER_ROW]})
    with zipfile.ZipFile(source) as archive:
        contents = {info.filename: archive.read(info) for info in archive.infolist()}
    source.unlink()
    parts = []
    for name, content in contents.items():
        data, crc = deflated(content)
        parts.append(Part(name, data, crc, len(content)))
    return sorted(parts, key=lambda part: part.name == SHEET_PART)


def with_sheet(folder: Path, name: str, sheet: Part) -> Path:
    """A valid workbook whose sheet part is replaced by `sheet`."""
    parts = [p for p in valid_parts(folder) if p.name != SHEET_PART]
    return write_zip(folder / name, [*parts, sheet])


def sheet_xml(rows: bytes) -> Part:
    """The sheet part holding the header row and then `rows` (raw XML), deflated honestly."""
    content = SHEET_HEAD + rows + SHEET_TAIL
    data, crc = deflated(content)
    return Part(SHEET_PART, data, crc, len(content))


# --- the hostile files ------------------------------------------------------------------------------


def zip_bomb(folder: Path, *, lying: bool = False) -> Path:
    """A sheet that inflates to 1 GiB of rows from about 1 MB; `lying` declares a believable 50x instead."""
    row = b'<row><c t="inlineStr"><is><t>D0001</t></is></c><c t="inlineStr"><is><t>C1</t></is></c></row>'
    block = row * (64 * 1024 // len(row))
    data, crc, size = deflated_repeats(SHEET_HEAD, block, GIB // len(block), SHEET_TAIL)
    declared = len(data) * 50 if lying else size
    name = "bomb_believable_size.xlsx" if lying else "bomb.xlsx"
    return with_sheet(folder, name, Part(SHEET_PART, data, crc, declared))


def entity_expansion(folder: Path) -> Path:
    """The billion-laughs document type in the sheet part."""
    laughs = b'<!DOCTYPE lolz [<!ENTITY lol "lol">' + b"".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">'.encode() for i in range(1, 10)
    )
    part = sheet_xml(b'<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c></row>')
    content = zlib.decompress(part.data, -zlib.MAX_WBITS).replace(b"?>\n", b"?>\n" + laughs + b"]>\n", 1)
    data, crc = deflated(content)
    return with_sheet(folder, "laughs.xlsx", Part(SHEET_PART, data, crc, len(content)))


def encrypted(folder: Path) -> Path:
    """What Excel writes for a workbook saved with a password: an OLE2 container with EncryptedPackage."""
    path = folder / "encrypted.xlsx"
    path.write_bytes(
        ole2_container({"EncryptionInfo": b"\x04\x00\x04\x00", "EncryptedPackage": b"\x17" * 6000})
    )
    return path


def text_renamed(folder: Path) -> Path:
    path = folder / "csv_renamed.xlsx"
    path.write_text("经销商代码,客户编号\nD0001,C00001\n", encoding="utf-8")
    return path


def image_renamed(folder: Path) -> Path:
    path = folder / "photo_renamed.xlsx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 40)
    return path


def truncated(folder: Path) -> Path:
    whole = write_zip(folder / "truncated.xlsx", valid_parts(folder))
    whole.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    return whole


def million_columns(folder: Path) -> Path:
    """A cell in column BDWGN (the millionth column) beside the header."""
    return with_sheet(
        folder, "million_columns.xlsx", sheet_xml(b'<row r="2"><c r="BDWGN2"><v>1</v></c></row>')
    )


def far_apart_cells(folder: Path) -> Path:
    """A1 and XFD1048576 filled: calamine's dense grid of that range is 17 billion cells (512 GB)."""
    return with_sheet(
        folder, "far_apart_cells.xlsx", sheet_xml(b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    )


def rows_past_the_limit(folder: Path) -> Path:
    """One cell in Excel's last row: more rows than the default limit of a million."""
    return with_sheet(
        folder, "last_row.xlsx", sheet_xml(b'<row r="1048576"><c r="A1048576"><v>1</v></c></row>')
    )


def counted_positions(folder: Path) -> Path:
    """Cells and rows without references (calamine counts them): 400 columns by 90,000 rows from 1 MB."""
    wide = b"<row>" + b"<c/>" * 399 + b"<c><v>1</v></c></row>"
    tall = b"<row></row>" * 90_000 + b"<row><c><v>1</v></c></row>"
    return with_sheet(folder, "counted_positions.xlsx", sheet_xml(wide + tall))


def xls_dimensions(folder: Path) -> Path:
    """A legacy .xls whose sheet's DIMENSIONS record claims 4 billion rows (calamine sizes its grid so)."""
    data = bytearray(xls_bytes({"客户档案": [CUSTOMER_HEADERS, CUSTOMER_ROW]}))
    record = data.find(struct.pack("<HH", 0x0200, 14))
    struct.pack_into("<IIHH", data, record + 4, 0, 0xFFFFFFF0, 0, 0xFF00)
    path = folder / "dimensions.xls"
    path.write_bytes(bytes(data))
    return path


def xls_far_cell(folder: Path) -> Path:
    """A legacy .xls with a number cell in column 40,000 (the record allows it; calamine's grid would be 70 GB).

    Found by the reader fuzzer (tests/hardening/test_reader_fuzzing.py), a mutated record's column.
    """
    data = bytearray(xls_bytes({"客户档案": [CUSTOMER_HEADERS, [*CUSTOMER_ROW[:5], 7]]}))
    record = data.find(struct.pack("<HH", 0x0203, 14))
    struct.pack_into("<HH", data, record + 4, 40_000, 40_000)
    path = folder / "far_cell.xls"
    path.write_bytes(bytes(data))
    return path


def shared_strings_count(folder: Path) -> Path:
    """A shared strings part that says it holds 4 billion strings (calamine reserves room for them)."""
    parts = []
    for part in valid_parts(folder):
        if part.name == "xl/sharedStrings.xml":
            content = zlib.decompress(part.data, -zlib.MAX_WBITS)
            content = re.sub(rb'uniqueCount="[0-9]+"', b'uniqueCount="4000000000"', content)
            data, crc = deflated(content)
            part = Part(part.name, data, crc, len(content))
        parts.append(part)
    return write_zip(folder / "string_count.xlsx", parts)


def named(name: str) -> Callable[[Path], Path]:
    """A valid workbook under a hostile file name."""

    def build(folder: Path) -> Path:  # a customer of its own, so that no two such files are the same
        row = [CUSTOMER_ROW[0], f"C{sum(map(ord, name)):05d}", *CUSTOMER_ROW[2:]]
        return write_xlsx(folder / name, {"客户档案": [CUSTOMER_HEADERS, row]})

    return build


@dataclass(frozen=True)
class Hostile:
    """A hostile file: how to build it, and what the refusal's reason must say."""

    label: str
    build: Callable[[Path], Path]
    reason: str


HOSTILE = (
    Hostile("zip bomb (1 GiB sheet)", zip_bomb, "as zip bombs are"),
    Hostile(
        "zip bomb declaring a believable size",
        lambda folder: zip_bomb(folder, lying=True),
        "a zip bomb hides its size like this",
    ),
    Hostile("XML entity expansion", entity_expansion, "declares an XML document type"),
    Hostile("encrypted workbook", encrypted, "protected with a password"),
    Hostile("text renamed .xlsx", text_renamed, "but a text file"),
    Hostile("image renamed .xlsx", image_renamed, "but another kind of file"),
    Hostile("truncated archive", truncated, "damaged or incomplete"),
    Hostile("a million columns", million_columns, "has 1,000,000 columns, more than the 500"),
    Hostile("cells at A1 and XFD1048576", far_apart_cells, "has 16,384 columns"),
    Hostile("more rows than the limit", rows_past_the_limit, "has 1,048,576 rows, more than the 1,000,000"),
    Hostile("positions counted past max_cells", counted_positions, "cells a sheet may span"),
    Hostile(".xls dimensions of 4 billion rows", xls_dimensions, "which no .xls can hold"),
    Hostile("4 billion shared strings declared", shared_strings_count, "different texts, more than"),
    Hostile(".xls cell in column 40,000", xls_far_cell, "which no .xls can hold"),
    Hostile("terminal escape in the name", named("D0001\x1b[2J客服台账.xlsx"), "control characters"),
    Hostile("path separator in the name", named("D0001\\..\\客服台账.xlsx"), "path separators"),
    Hostile("bytes that are not UTF-8 in the name", named("D0001\udcff.xlsx"), "\\xff"),
    Hostile("direction override in the name", named("报表\u202excod.xlsx"), "\\u202e"),
)

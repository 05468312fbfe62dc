"""Mutations of real-looking workbooks (cells, headers, sheet names, XML structure, archive bytes) and the one
thing every mutant must get: a verdict for every row it reads, or a refusal for the file.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

import polars as pl
from hypothesis import strategies as st
from workbooks import xls_bytes

from dealersync.pipeline import check_read_files, read_limits
from dealersync.reader import FileRefused, read_workbook
from dealersync.samples import generate_inbox
from dealersync.settings import Settings
from dealersync.transforms.validate import Refs

TODAY = date(2026, 3, 2)
NASTY_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "合计",
            "Total: 12",
            '=HYPERLINK("http://x","y")',
            "#N/A",
            "2024-02-30",
            "99999999999999999999",
            "-0",
            "1e308",
            "客户编号",
            "经销商代码",
            "工单号",
            "车架号",
            "\u202e",
            "\x7f",
            "a" * 300,
            "☃" * 50,
            "<c>",
            "&amp;",
        ]
    ),
)
SNIPPETS = (
    b'<row r="0"><c r="A0"><v>1</v></c></row>',
    b'<c r="A1048577"><v>1</v></c>',
    b'<c r="XFD3"><v>1</v></c>',
    b'<c t="s"><v>999999</v></c>',
    b'<c t="s"><v>-1</v></c>',
    b'<c t="e"><v>#BOGUS!</v></c>',
    b'<c t="d"><v>not a date</v></c>',
    b'<c t="n"><v>1e999</v></c>',
    b'<c t="b"><v>7</v></c>',
    b'<c t="inlineStr"><is><t>x</t></is></c>',
    b"<c><f>SUM(</f></c>",
    b'<row r="3" spans="1:99999999">',
    b"</row>",
    b"</sheetData>",
    b'<mergeCell ref="A1:XFD1048576"/>',
    b'<dimension ref="A1:XFD1048576"/>',
    b'<![CDATA[ <c r="XFD1"/> ]]>',
    b"\x00\xff\xfe",
)


@dataclass(frozen=True)
class Seed:
    """A workbook the mutations start from."""

    name: str
    data: bytes = field(repr=False)

    @property
    def is_zip(self) -> bool:
        return self.data.startswith(b"PK")


def seed_workbooks(folder: Path) -> list[Seed]:
    """The three workbooks of a small messy sample inbox, and a legacy .xls."""
    manifest = generate_inbox(folder, today=TODAY, dealers=1, visits_per_dealer=4, seed=11)
    seeds = [Seed(path.name, path.read_bytes()) for path in manifest.files]
    headers = ["经销商代码", "工单号", "客户编号", "车架号", "进厂日期", "维修类型", "金额"]
    row = ["D0001", "WO0001", "C00001", "LFV2A21K6G3053421", date(2026, 2, 3), "保养", 120]
    seeds.append(Seed("legacy.xls", xls_bytes({"维修记录": [headers, row, [*row[:1], "WO0002", *row[2:]]]})))
    return seeds


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _zipped(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return out.getvalue()


def _replace_texts(draw, content: bytes, pattern: bytes) -> bytes:
    """Some of the texts a pattern's group 1 matches, replaced by nasty text (XML-escaped)."""
    spans = [m.span(1) for m in re.finditer(pattern, content)]
    if not spans:
        return content
    chosen = sorted(draw(st.sets(st.sampled_from(spans), max_size=8)), reverse=True)
    for start, end in chosen:
        content = content[:start] + escape(draw(NASTY_TEXT)).encode("utf-8", "replace") + content[end:]
    return content


@st.composite
def mutants(draw, seeds: list[Seed]) -> tuple[str, bytes]:
    """(what was done, the mutated workbook's bytes)."""
    seed = draw(st.sampled_from(seeds))
    kinds = ["bytes"] + (["cells", "headers", "sheet names", "structure"] if seed.is_zip else ["records"])
    kind = draw(st.sampled_from(kinds))
    data = bytearray(seed.data)
    if kind == "bytes":
        for _ in range(draw(st.integers(1, 6))):
            if not data:
                break
            where = draw(st.integers(0, len(data) - 1))
            operation = draw(st.sampled_from(["flip", "cut", "splice"]))
            if operation == "flip":
                data[where] ^= draw(st.integers(1, 255))
            elif operation == "cut":
                del data[where:]
            else:
                size = draw(st.integers(1, 64))
                data[where:where] = data[max(0, where - size) : where]
        return f"{seed.name}: bytes", bytes(data)
    if kind == "records":  # .xls: a BIFF record's length or payload changed
        where = draw(st.integers(0, len(data) - 4))
        data[where : where + 4] = draw(st.binary(min_size=4, max_size=4))
        return f"{seed.name}: records", bytes(data)
    parts = _parts(seed.data)
    sheets = sorted(name for name in parts if name.startswith("xl/worksheets/"))
    if kind == "cells":
        for name in [n for n in parts if n == "xl/sharedStrings.xml"] + sheets:
            parts[name] = _replace_texts(draw, parts[name], rb"<(?:t|v)(?: [^>]*)?>([^<]*)</(?:t|v)>")
    elif kind == "headers":  # the strings that are known headers: renamed, blanked, swapped, repeated
        name = "xl/sharedStrings.xml" if "xl/sharedStrings.xml" in parts else draw(st.sampled_from(sheets))
        labels = (
            "<t(?: [^>]*)?>((?:经销商|客户|工单|车架|进厂|出厂|金额|里程|电话|记录|日期|类型)[^<]{0,12})</t>"
        )
        labels = labels.encode()
        parts[name] = _replace_texts(draw, parts[name], labels)
    elif kind == "sheet names":
        parts["xl/workbook.xml"] = _replace_texts(
            draw, parts["xl/workbook.xml"], rb'<sheet [^>]*?name="([^"]*)"'
        )
    else:
        others = ["xl/workbook.xml", "xl/styles.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml"]
        name = draw(st.sampled_from([*sheets, *[n for n in [*others, "xl/sharedStrings.xml"] if n in parts]]))
        content = parts[name]
        for _ in range(draw(st.integers(1, 4))):
            where = draw(st.integers(0, len(content)))
            operation = draw(st.sampled_from(["insert", "delete", "duplicate"]))
            if operation == "insert":
                content = content[:where] + draw(st.sampled_from(SNIPPETS)) + content[where:]
            elif operation == "delete":
                content = content[:where] + content[where + draw(st.integers(1, 200)) :]
            else:
                content = content[:where] + content[max(0, where - 300) : where] + content[where:]
        parts[name] = content
    return f"{seed.name}: {kind}", _zipped(parts)


def verdicts(path: Path, aliases) -> str:
    """'refused: <reason>' or 'read: n rows'; raise if a row has no verdict or something other than a refusal is raised."""
    settings = Settings()
    try:
        workbook = read_workbook(path, aliases, **read_limits(settings))  # as a night reads it
    except FileRefused as refused:
        assert refused.reason.strip(), "a refusal must say why"
        return f"refused: {refused.reason}"
    rows = 0
    for sheet, parsed in zip(
        workbook.sheets,
        check_read_files([workbook.sheets], today=TODAY, aliases=aliases, refs=Refs(), settings=settings)[0],
        strict=True,
    ):
        read = set(parsed.raw["excel_row"].to_list())
        loaded = set(parsed.clean["excel_row"].to_list())
        rejected = set(parsed.problems.filter(pl.col("severity") == "rejected")["excel_row"].to_list())
        assert loaded | rejected == read and not loaded & rejected, (
            f"rows without one verdict in {sheet.sheet}"
        )
        rows += len(read)
    return f"read: {rows} rows"

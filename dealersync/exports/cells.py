"""Cell values safe to open in a spreadsheet: text that could run as a formula is neutralised."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import xlsxwriter

from dealersync.exports.files import written_whole

# A CSV field starting with one of these may be evaluated as a formula by Excel, LibreOffice or Sheets
# (OWASP "CSV injection"). Prefixing an apostrophe keeps the text visible and inert. A plain number
# (`-5`, `+86`) is read as that number, never run: it is left as written.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = r"^[-+]?[0-9]+(?:\.[0-9]+)?$"


def safe_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Every text column of a frame made inert for CSV: a leading apostrophe where a spreadsheet would
    evaluate the text.

    xlsx needs none of this: our writers store every text as a string cell (xlsx_workbook, and
    data_type "s" with openpyxl), which no spreadsheet evaluates, and an apostrophe there would show.
    """
    pattern = "^[" + "".join("\\" + c if c in "-+" else c for c in FORMULA_TRIGGERS) + "]"
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(pattern) & ~pl.col(name).str.contains(PLAIN_NUMBER))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name, dtype in frame.schema.items()
        if dtype == pl.Utf8
    )


def xlsx_workbook(path, *, constant_memory: bool = False) -> xlsxwriter.Workbook:
    """An xlsxwriter workbook that writes every string as text: never as a formula or a link.

    With these options a cell such as `=HYPERLINK(...)` is stored as a plain string cell, which no
    spreadsheet evaluates; CSV has no cell types, so CSV writers use `safe_frame` instead.
    `constant_memory` streams each row to disk once the next one starts (rows must then be written in
    order): a long list costs no memory, instead of a few hundred bytes a cell. Otherwise the workbook is
    built in memory, without the temporary file xlsxwriter would write for each of its parts.
    """
    return xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "constant_memory": constant_memory,
            "in_memory": not constant_memory,
        },
    )


@contextmanager
def xlsx_written_whole(path: Path, *, constant_memory: bool = False) -> Iterator[xlsxwriter.Workbook]:
    """An xlsx_workbook written under a hidden name and renamed onto `path` once closed (written_whole).

    The workbook is closed (written out) when the block ends; if the block fails, nothing appears under
    `path` and the hidden file is removed.
    """
    with written_whole(path) as partial:
        workbook = xlsx_workbook(partial, constant_memory=constant_memory)
        try:
            yield workbook
        finally:
            workbook.close()

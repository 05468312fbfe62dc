"""Cell values safe to open in a spreadsheet: text that could run as a formula is neutralised."""

from __future__ import annotations

import polars as pl
import xlsxwriter

# A cell starting with one of these may be evaluated as a formula by Excel, LibreOffice or Sheets
# (OWASP "CSV injection"). Prefixing an apostrophe keeps the text visible and inert.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: object) -> object:
    """The value, with a leading apostrophe when it is text that a spreadsheet would evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def safe_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Every text column of a frame passed through `safe_text` (vectorised)."""
    pattern = "^[" + "".join("\\" + c if c in "-+" else c for c in FORMULA_TRIGGERS) + "]"
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(pattern))
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
    order): a long list costs no memory, instead of a few hundred bytes a cell.
    """
    return xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "constant_memory": constant_memory,
        },
    )

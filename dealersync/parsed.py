"""What reading and checking one workbook produces: the hand-over between parallel parsing and the single loader."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

PARSED, REFUSED = "parsed", "refused"


@dataclass
class ParsedSheet:
    """One recognised sheet after reading, normalising and validating."""

    sheet: str  # the sheet name as in the workbook
    kind: str  # the contract's sheet kind
    header_row: int  # Excel row (1-based) of the header
    headers: dict[str, str]  # canonical field -> header as the sheet wrote it
    extra_headers: list[str]  # headers not in the contract (kept in the raw layer)
    raw: pl.DataFrame  # excel_row, every recognised field as text, _extra (JSON of unknown columns)
    clean: pl.DataFrame  # rows not rejected: excel_row + the contract's typed columns and derived fields
    problems: pl.DataFrame  # schemas.contract.PROBLEM_COLUMNS, rejections and warnings
    blank_rows: int = 0  # blank rows dropped
    total_rows: list[int] = field(default_factory=list)  # Excel rows dropped as 合计/total rows
    title_rows: list[int] = field(default_factory=list)  # Excel rows dropped as section titles
    date1904: bool = False  # the workbook counts its date serials from 1904 (SheetRead.date1904)

    @property
    def rows_read(self) -> int:
        return self.raw.height

    @property
    def rows_rejected(self) -> int:
        return self.rows_read - self.clean.height

    @property
    def rows_warned(self) -> int:
        warned = self.problems.filter(pl.col("severity") == "warning")
        return warned.select(pl.col("excel_row").n_unique()).item() if warned.height else 0


@dataclass
class ParsedFile:
    """One workbook: either its parsed sheets, or the reason it was refused as a whole."""

    path: Path
    file_name: str
    sha256: str
    size_bytes: int
    status: str  # PARSED or REFUSED
    source: str | None = None  # dealer, warehouse, reference (or "mixed")
    reason: str | None = None  # why the file was refused, for the steward
    sheets: list[ParsedSheet] = field(default_factory=list)
    skipped_sheets: list[tuple[str, str]] = field(default_factory=list)  # (sheet name, why it was skipped)
    seconds_read: float = 0.0
    seconds_check: float = 0.0

    @property
    def rows_read(self) -> int:
        return sum(s.rows_read for s in self.sheets)

    @property
    def rows_rejected(self) -> int:
        return sum(s.rows_rejected for s in self.sheets)

    @property
    def rows_warned(self) -> int:
        return sum(s.rows_warned for s in self.sheets)

    @property
    def problems(self) -> pl.DataFrame:
        frames = [s.problems for s in self.sheets if s.problems.height]
        return (
            pl.concat(frames)
            if frames
            else (self.sheets[0].problems.clear() if self.sheets else pl.DataFrame())
        )

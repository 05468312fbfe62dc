"""`validate`: the nightly run's reading and checks on a few files, writing nothing and needing no server."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from dealersync.parsed import PARSED, ParsedFile
from dealersync.pipeline import holds_reference_data, process_files, recheck
from dealersync.schemas.aliases import load_aliases
from dealersync.settings import Settings
from dealersync.transforms.validate import Refs

# Which columns of a reference sheet make up the Refs the checks use.
_REF_COLUMNS = {
    "dealers": ("dealer_code", "region"),
    "parts": ("part_no", "component"),
    "campaigns": ("campaign_id",),
}


@dataclass
class ValidationReport:
    """The checked files and where the reference checks took their codes from."""

    files: list[ParsedFile]
    references: str

    @property
    def exit_code(self) -> int:
        """0 clean, 1 rows rejected, 2 a file refused."""
        if any(f.status != PARSED for f in self.files):
            return 2
        return 1 if any(f.rows_rejected for f in self.files) else 0


def refs_from_files(parsed_files: list[ParsedFile]) -> Refs:
    """Known codes taken from the reference sheets among parsed files (a missing sheet = check skipped)."""
    found: dict[str, pl.DataFrame] = {}
    for parsed in parsed_files:
        for sheet in parsed.sheets:
            if sheet.kind in _REF_COLUMNS:
                rows = sheet.clean.select(_REF_COLUMNS[sheet.kind])
                found[sheet.kind] = pl.concat([found[sheet.kind], rows]) if sheet.kind in found else rows
    return Refs(**found)


def _describe(refs: Refs, origin: str) -> str:
    parts = [name for name in _REF_COLUMNS if getattr(refs, name) is not None]
    skipped = [name for name in _REF_COLUMNS if getattr(refs, name) is None]
    text = (
        f"{', '.join(parts)} from {origin}"
        if parts
        else "skipped (no warehouse and no reference workbook given)"
    )
    if parts and skipped:
        text += f"; {', '.join(skipped)} checks skipped"
    return text


def validate_files(
    files: list[Path], *, settings: Settings, today: date, warehouse: Path | None
) -> ValidationReport:
    """Read and check each file; reference codes from the warehouse (read-only) or the files themselves."""
    aliases = load_aliases(settings.aliases_path)
    if warehouse is not None:
        from dealersync.warehouse.db import connect
        from dealersync.warehouse.refs import read_refs

        con = connect(warehouse, read_only=True)
        try:
            refs = read_refs(con)
        finally:
            con.close()
        checked = process_files(files, today=today, aliases=aliases, refs=refs, settings=settings)
        return ValidationReport(checked, _describe(refs, f"the warehouse {warehouse}"))
    first_pass = process_files(files, today=today, aliases=aliases, refs=Refs(), settings=settings)
    reference_files = [p for p in first_pass if p.status == PARSED and holds_reference_data(p)]
    refs = refs_from_files(reference_files)
    checked = recheck(first_pass, today=today, aliases=aliases, refs=refs, settings=settings)
    origin = ", ".join(p.file_name for p in reference_files)
    return ValidationReport(checked, _describe(refs, origin))

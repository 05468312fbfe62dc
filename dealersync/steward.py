"""The data steward's loop around one file: alias suggestions, the loader's own warnings, where the marked copy goes."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from dealersync.exports.steward import StewardReport, file_owner, write_steward_report
from dealersync.parsed import PARSED, ParsedFile
from dealersync.schemas.aliases import AliasError, Aliases, read_alias_file
from dealersync.schemas.contract import PROBLEM_COLUMNS, SHEETS
from dealersync.warehouse.load import LOADER_RULES

# A column the reader named itself because its header cell was blank ("column F", "column F (G)").
_UNNAMED = re.compile(r"^column [A-Z]+( \([A-Z]+\))?$")


@dataclass(frozen=True)
class AliasSuggestion:
    """An unrecognised header that resembles a field the sheet lacks, and the TOML line that would map it."""

    sheet: str
    kind: str
    header: str
    field: str
    section: str  # e.g. "[headers.customers]"
    line: str  # e.g. 'phone = ["客户手机号"]'
    how: str  # where the line goes, in the steward's file as it stands

    @property
    def text(self) -> str:
        zh = SHEETS[self.kind].column(self.field).zh
        return (
            f"sheet '{self.sheet}': the column '{self.header}' is not one we know; it resembles "
            f"{zh} ({self.field}). To read it as {self.field}, {self.how}:"
        )

    @property
    def toml(self) -> str:
        """The lines to add, as the steward's file will hold them."""
        return f"{self.section}\n{self.line}"

    @property
    def text_zh(self) -> str:
        zh = SHEETS[self.kind].column(self.field).zh
        return (
            f"工作表“{self.sheet}”的列“{self.header}”未识别，最接近“{zh}”({self.field})；"
            f"如要按该列读取，请在别名文件的 {self.section} 下加入：{self.line}"
        )


@dataclass(frozen=True)
class SheetKindSuggestion:
    """A sheet whose name says one kind while its headers are plainly another's: rename it, map no alias."""

    sheet: str
    kind: str  # the kind its name gives
    fits: str  # the kind its headers fit
    fields: int  # how many of its headers are that kind's columns

    @property
    def text(self) -> str:
        named, fits = SHEETS[self.kind], SHEETS[self.fits]
        return (
            f"sheet '{self.sheet}': its name says {named.zh} ({self.kind}), but {self.fields} of its headers "
            f"are columns of {fits.zh} ({self.fits}); if it holds {self.fits.replace('_', ' ')}, rename the "
            f"sheet to {fits.zh} and send the file again"
        )

    @property
    def text_zh(self) -> str:
        named, fits = SHEETS[self.kind], SHEETS[self.fits]
        return (
            f"工作表“{self.sheet}”的名称表示{named.zh}，但其中 {self.fields} 个列标题属于{fits.zh}；"
            f"如果该表记录的是{fits.zh}，请将工作表改名为“{fits.zh}”后重新发送"
        )


def sheet_kind_suggestions(parsed: ParsedFile, aliases: Aliases) -> list[SheetKindSuggestion]:
    """Sheets whose headers name more columns of another kind of the same source than of their own."""
    if parsed.status != PARSED:
        return []
    found = []
    for sheet in parsed.sheets:
        headers = [*sheet.headers.values(), *sheet.extra_headers]
        source = SHEETS[sheet.kind].source
        fits = [
            (len({aliases.field_for(kind, header) for header in headers} - {None}), kind)
            for kind, spec in SHEETS.items()
            if kind != sheet.kind and spec.source == source
        ]
        fields, kind = max(fits, default=(0, sheet.kind))
        if fields > len(sheet.headers):
            found.append(SheetKindSuggestion(sheet.sheet, sheet.kind, kind, fields))
    return found


def alias_suggestions(
    parsed: ParsedFile, aliases: Aliases, steward_file: Path | None
) -> list[AliasSuggestion]:
    """For each header the reader did not recognise: the field it most resembles, among those the sheet lacks.

    The line to add is written for the steward's alias file as it stands: a new `field = [...]` line
    under the sheet's section, or the header added to a list the file already has for that field. A
    field is suggested for one header at most; a sheet that rather looks misnamed
    (sheet_kind_suggestions) gets none: a rename, not aliases, is what it needs.
    """
    if parsed.status != PARSED:
        return []
    existing = _steward_headers(steward_file)
    misnamed = {s.sheet for s in sheet_kind_suggestions(parsed, aliases)}
    found: list[AliasSuggestion] = []
    for sheet in parsed.sheets:
        if sheet.sheet in misnamed:
            continue
        lacking = [name for name in SHEETS[sheet.kind].names if name not in sheet.headers]
        for header in sheet.extra_headers:
            if _UNNAMED.match(header) or not lacking:
                continue
            target = aliases.suggest(sheet.kind, header, among=lacking)
            if target is None:
                continue
            lacking.remove(target)
            section = f"[headers.{sheet.kind}]"
            listed = existing.get(sheet.kind, {}).get(target)
            labels = [*(listed or []), header]
            line = f"{target} = [{', '.join(json.dumps(label, ensure_ascii=False) for label in labels)}]"
            file_name = str(steward_file) if steward_file else "aliases.toml"
            if listed is not None:
                how = f"replace the {target} line under {section} in {file_name} with"
            elif sheet.kind in existing:
                how = f"add this line under {section} in {file_name}"
            else:
                how = f"add these two lines to {file_name}"
            found.append(AliasSuggestion(sheet.sheet, sheet.kind, header, target, section, line, how))
    return found


def _steward_headers(steward_file: Path | None) -> dict[str, dict[str, list[str]]]:
    """The [headers.<kind>] tables of the steward's alias file (empty when there is none or it is unreadable)."""
    if steward_file is None or not Path(steward_file).is_file():
        return {}
    try:
        data = read_alias_file(Path(steward_file))
    except AliasError:
        return {}
    headers = data.get("headers", {})
    return {kind: dict(fields) for kind, fields in headers.items() if isinstance(fields, dict)}


def loader_problems(con: duckdb.DuckDBPyConnection, *, run_id: int, sha256: str) -> pl.DataFrame:
    """The warnings the loader added for one file in one run (mileage going backwards against the visits
    already loaded, no customer file, a vehicle moving to another customer)."""
    return loader_problems_by_file(con, run_id=run_id, sha256s=[sha256])[sha256]


def loader_problems_by_file(
    con: duckdb.DuckDBPyConnection, *, run_id: int, sha256s: list[str]
) -> dict[str, pl.DataFrame]:
    """loader_problems of several files, in one query: each file's, by its SHA-256."""
    found = con.sql(
        f"""
        SELECT file_sha256 AS _file, {", ".join(PROBLEM_COLUMNS)} FROM quarantine.entries
        WHERE run_id = $run_id AND list_contains($files, file_sha256) AND list_contains($rules, rule)
        ORDER BY sheet, excel_row
        """,
        params={"run_id": run_id, "files": sha256s, "rules": list(LOADER_RULES)},
    ).pl()
    parts = found.partition_by("_file", as_dict=True, include_key=False, maintain_order=True)
    none = found.drop("_file").clear()
    return {sha256: parts.get((sha256,), none) for sha256 in sha256s}


def night_folder(exports_dir: Path, as_of: date, parsed: ParsedFile) -> Path:
    """`<exports>/steward/<date>/<dealer>/`: where the night puts a file's marked copy (see file_owner)."""
    return Path(exports_dir) / "steward" / as_of.isoformat() / file_owner(parsed)


def write_report(
    parsed: ParsedFile,
    source: Path,
    folder: Path,
    *,
    aliases: Aliases,
    steward_file: Path | None,
    extra_problems: pl.DataFrame | None = None,
) -> StewardReport:
    """The annotated copy and problems CSV of one checked file, with its alias suggestions as notes."""
    suggestions = [
        *sheet_kind_suggestions(parsed, aliases),
        *alias_suggestions(parsed, aliases, steward_file),
    ]
    notes = [f"{s.text_zh} / {s.text}" for s in suggestions]
    return write_steward_report(parsed, source, folder, extra_problems=extra_problems, notes=notes)


def slim(parsed: ParsedFile) -> ParsedFile:
    """The parts of a parsed file its steward copy needs (layout, problems, dealer codes): cheap to send to a worker.

    The rows themselves are left out, so the counts of rows loaded no longer hold on the slim copy.
    """
    keep = ("excel_row", "dealer_code")
    sheets = [
        replace(
            sheet, raw=sheet.raw.select(c for c in keep if c in sheet.raw.columns), clean=sheet.clean.head(0)
        )
        for sheet in parsed.sheets
    ]
    return replace(parsed, sheets=sheets)

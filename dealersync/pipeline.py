"""Read and check one workbook into a ParsedFile: the per-file work that runs in parallel."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from time import perf_counter

import polars as pl

from dealersync.inbox import name_problem, printable_name
from dealersync.parsed import PARSED, REFUSED, ParsedFile, ParsedSheet
from dealersync.reader import FileRefused, SheetRead, file_sha256, read_workbook
from dealersync.schemas.aliases import Aliases
from dealersync.schemas.contract import REFERENCE, SHEETS
from dealersync.settings import READ_LIMITS, Settings
from dealersync.transforms.validate import Refs, check_sheet

log = logging.getLogger(__name__)


def check_read_sheets(
    sheets: Sequence[SheetRead | ParsedSheet],
    *,
    today: date,
    aliases: Aliases,
    refs: Refs,
    settings: Settings,
) -> list[ParsedSheet]:
    """Normalise and validate a file's sheets as read (or re-check parsed ones against new references).

    In sheet order: a business key is the file's, so a row repeating a key of an earlier sheet of the
    same kind is rejected like a row repeating one of its own sheet.
    """
    earlier: dict[str, pl.DataFrame] = {}
    parsed: list[ParsedSheet] = []
    for read in sheets:
        raw = read.frame if isinstance(read, SheetRead) else read.raw
        checked = check_sheet(
            read.kind,
            raw,
            sheet=read.sheet,
            headers=read.headers,
            today=today,
            aliases=aliases,
            refs=refs,
            warranty_months=settings.warranty_months,
            earlier_keys=earlier.get(read.kind),
            date1904=read.date1904,
        )
        earlier[read.kind] = pl.concat(
            [frame for frame in (earlier.get(read.kind), checked.keys) if frame is not None]
        )
        parsed.append(
            ParsedSheet(
                sheet=read.sheet,
                kind=read.kind,
                header_row=read.header_row,
                headers=read.headers,
                extra_headers=read.extra_headers,
                raw=raw,
                clean=checked.clean,
                problems=checked.problems,
                blank_rows=read.blank_rows,
                total_rows=read.total_rows,
                title_rows=read.title_rows,
                date1904=read.date1904,
            )
        )
    return parsed


def read_limits(settings: Settings) -> dict[str, int]:
    """The settings' limits on a workbook, as `read_workbook` takes them (what a file is refused beyond)."""
    return {name: getattr(settings, name) for name in READ_LIMITS}


def process_file(path: Path, *, today: date, aliases: Aliases, refs: Refs, settings: Settings) -> ParsedFile:
    """Read every sheet of a workbook and check it; a workbook that cannot be trusted comes back refused.

    Only I/O errors propagate (they may be transient, e.g. a network share): anything else the file
    provokes becomes a refusal with a reason, never a traceback for the steward. A file whose name holds
    control characters or path separators is refused unread; its name is recorded with them escaped.
    """
    path = Path(path)
    started = perf_counter()
    sha256 = file_sha256(path)
    size_bytes = path.stat().st_size
    base = ParsedFile(
        path=path, file_name=printable_name(path.name), sha256=sha256, size_bytes=size_bytes, status=PARSED
    )
    if reason := name_problem(path.name):
        return replace(base, status=REFUSED, reason=reason, seconds_read=perf_counter() - started)
    try:
        workbook = read_workbook(path, aliases, **read_limits(settings))
    except FileRefused as refused:
        return replace(base, status=REFUSED, reason=refused.reason, seconds_read=perf_counter() - started)
    except OSError:
        raise
    except Exception as error:  # a file that breaks the reader is refused, not a crash
        log.exception("unexpected error reading %s", path.name)
        reason = f"the file could not be read ({type(error).__name__}: {error}); re-save it as .xlsx and send it again"
        return replace(base, status=REFUSED, reason=reason, seconds_read=perf_counter() - started)
    read_done = perf_counter()
    try:
        sheets = check_read_sheets(
            workbook.sheets, today=today, aliases=aliases, refs=refs, settings=settings
        )
    except Exception as error:
        log.exception("unexpected error checking %s", path.name)
        reason = f"the file could not be checked ({type(error).__name__}: {error}); nothing of it was loaded"
        return replace(base, status=REFUSED, reason=reason, seconds_read=read_done - started)
    return replace(
        base,
        source=workbook.source,
        sheets=sheets,
        skipped_sheets=workbook.skipped_sheets,
        seconds_read=read_done - started,
        seconds_check=perf_counter() - read_done,
    )


def recheck(
    parsed: ParsedFile, *, today: date, aliases: Aliases, refs: Refs, settings: Settings
) -> ParsedFile:
    """The same file checked again against references loaded after it was first checked (no re-reading)."""
    if parsed.status != PARSED:
        return parsed
    started = perf_counter()
    sheets = check_read_sheets(parsed.sheets, today=today, aliases=aliases, refs=refs, settings=settings)
    return replace(parsed, sheets=sheets, seconds_check=parsed.seconds_check + perf_counter() - started)


def holds_reference_data(parsed: ParsedFile) -> bool:
    """Whether a parsed file carries reference sheets (dealers, parts, campaigns), which load first."""
    return any(SHEETS[s.kind].source == REFERENCE for s in parsed.sheets)

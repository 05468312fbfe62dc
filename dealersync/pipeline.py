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
from dealersync.transforms.validate import Refs, SheetChecked, ToCheck, check_sheets

log = logging.getLogger(__name__)


def check_read_files(
    files: Sequence[Sequence[SheetRead | ParsedSheet]],
    *,
    today: date,
    aliases: Aliases,
    refs: Refs,
    settings: Settings,
) -> list[list[ParsedSheet]]:
    """The sheets of several files (as read, or parsed to check again) checked together, kind by kind
    (`check_sheets`): each file's as checking it alone would give them, in a fraction of the time for
    many small files. A business key is its file's: a row repeating a key of an earlier sheet of the
    same kind is rejected like a row repeating one of its own sheet."""
    by_kind: dict[str, list[tuple[int, int]]] = {}
    for number, sheets in enumerate(files):
        for position, read in enumerate(sheets):
            by_kind.setdefault(read.kind, []).append((number, position))
    checked: dict[tuple[int, int], SheetChecked] = {}
    for kind, places in by_kind.items():
        inputs = []
        for number, position in places:
            read = files[number][position]
            inputs.append(ToCheck(_read_frame(read), read.sheet, read.headers, read.date1904, file=number))
        results = check_sheets(
            kind, inputs, today=today, aliases=aliases, refs=refs, warranty_months=settings.warranty_months
        )
        checked.update(zip(places, results, strict=True))
    return [
        [
            ParsedSheet(
                sheet=read.sheet,
                kind=read.kind,
                header_row=read.header_row,
                headers=read.headers,
                extra_headers=read.extra_headers,
                raw=_read_frame(read),
                clean=checked[number, position].clean,
                problems=checked[number, position].problems,
                blank_rows=read.blank_rows,
                total_rows=read.total_rows,
                title_rows=read.title_rows,
                date1904=read.date1904,
            )
            for position, read in enumerate(sheets)
        ]
        for number, sheets in enumerate(files)
    ]


def read_limits(settings: Settings) -> dict[str, int]:
    """The settings' limits on a workbook, as `read_workbook` takes them (what a file is refused beyond)."""
    return {name: getattr(settings, name) for name in READ_LIMITS}


def process_file(path: Path, *, today: date, aliases: Aliases, refs: Refs, settings: Settings) -> ParsedFile:
    """Read every sheet of a workbook and check it; a workbook that cannot be trusted comes back refused.

    Only I/O errors propagate (they may be transient, e.g. a network share): anything else the file
    provokes becomes a refusal with a reason, never a traceback for the steward. A file whose name holds
    control characters or path separators is refused unread; its name is recorded with them escaped.
    """
    (parsed,) = process_files([path], today=today, aliases=aliases, refs=refs, settings=settings)
    return parsed


def process_files(
    paths: Sequence[Path], *, today: date, aliases: Aliases, refs: Refs, settings: Settings
) -> list[ParsedFile]:
    """`process_file` of each path, their sheets checked together (`check_files_read`)."""
    read = [read_file(path, aliases=aliases, settings=settings) for path in paths]
    return check_files_read(read, today=today, aliases=aliases, refs=refs, settings=settings)


def read_file(path: Path, *, aliases: Aliases, settings: Settings) -> tuple[ParsedFile, list[SheetRead]]:
    """A workbook read but not checked yet: the file (refused, or parsed with no sheets yet) and its sheets.

    Only I/O errors propagate; anything else the file provokes is a refusal with a reason.
    """
    path = Path(path)
    started = perf_counter()
    sha256 = file_sha256(path)
    size_bytes = path.stat().st_size
    base = ParsedFile(
        path=path, file_name=printable_name(path.name), sha256=sha256, size_bytes=size_bytes, status=PARSED
    )
    if reason := name_problem(path.name):
        return replace(base, status=REFUSED, reason=reason, seconds_read=perf_counter() - started), []
    try:
        workbook = read_workbook(path, aliases, **read_limits(settings))
    except FileRefused as refused:
        return replace(base, status=REFUSED, reason=refused.reason, seconds_read=perf_counter() - started), []
    except OSError:
        raise
    except Exception as error:  # a file that breaks the reader is refused, not a crash
        log.exception("unexpected error reading %s", path.name)
        reason = f"the file could not be read ({type(error).__name__}: {error}); re-save it as .xlsx and send it again"
        return replace(base, status=REFUSED, reason=reason, seconds_read=perf_counter() - started), []
    read = replace(
        base,
        source=workbook.source,
        skipped_sheets=workbook.skipped_sheets,
        seconds_read=perf_counter() - started,
    )
    return read, workbook.sheets


def check_files_read(
    files: Sequence[tuple[ParsedFile, Sequence[SheetRead | ParsedSheet]]],
    *,
    today: date,
    aliases: Aliases,
    refs: Refs,
    settings: Settings,
) -> list[ParsedFile]:
    """Files as `read_file` gives them (or parsed ones with their sheets, to check again), checked
    together; refused ones pass through as they are.

    A batch the checks break on is checked again file by file, so that only the file that breaks them
    is refused ("the file could not be checked"), never the batch. Each file's `seconds_check` grows by
    its share, by rows, of the batch's time.
    """
    waiting = [(parsed, sheets) for parsed, sheets in files if parsed.status == PARSED]
    started = perf_counter()
    try:
        checked = check_read_files(
            [sheets for _, sheets in waiting], today=today, aliases=aliases, refs=refs, settings=settings
        )
    except Exception as error:
        if len(waiting) > 1:
            return [
                check_files_read([file], today=today, aliases=aliases, refs=refs, settings=settings)[0]
                for file in files
            ]
        parsed, _ = waiting[0]
        log.exception("unexpected error checking %s", parsed.file_name)
        reason = f"the file could not be checked ({type(error).__name__}: {error}); nothing of it was loaded"
        refused = replace(parsed, status=REFUSED, reason=reason, sheets=[])
        return [refused if p is parsed else p for p, _ in files]
    seconds = perf_counter() - started
    rows = [sum(_read_frame(sheet).height for sheet in sheets) for _, sheets in waiting]
    total = sum(rows)
    done = {
        id(parsed): replace(
            parsed,
            sheets=sheets,
            seconds_check=parsed.seconds_check + seconds * (count / total if total else 1 / len(rows)),
        )
        for (parsed, _), sheets, count in zip(waiting, checked, rows, strict=True)
    }
    return [done.get(id(parsed), parsed) for parsed, _ in files]


def recheck(
    files: Sequence[ParsedFile], *, today: date, aliases: Aliases, refs: Refs, settings: Settings
) -> list[ParsedFile]:
    """The same files checked again, together, against references loaded after they were first checked
    (no re-reading); files not parsed pass through, and a file that breaks the checks is refused."""
    return check_files_read(
        [(parsed, parsed.sheets) for parsed in files],
        today=today,
        aliases=aliases,
        refs=refs,
        settings=settings,
    )


def _read_frame(sheet: SheetRead | ParsedSheet) -> pl.DataFrame:
    """A sheet's cells as read (a parsed sheet keeps them as `raw`)."""
    return sheet.frame if isinstance(sheet, SheetRead) else sheet.raw


def holds_reference_data(parsed: ParsedFile) -> bool:
    """Whether a parsed file carries reference sheets (dealers, parts, campaigns), which load first."""
    return any(SHEETS[s.kind].source == REFERENCE for s in parsed.sheets)

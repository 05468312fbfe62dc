"""The `dealersync` command line: each command opens what it needs and makes one library call."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console
from rich.progress import TaskID
from rich.table import Table
from rich.text import Text

app = typer.Typer(
    help="After-sales data pipeline: dealer and warehouse workbooks into a DuckDB warehouse.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="markdown",  # help paragraphs reflow to the terminal instead of keeping source line breaks
)
# Piped or logged output (cron, CI) gets wide tables rather than rich's 80-column default. No markup:
# file names, sheet names, cells and query results are printed as they are (a cell's "[/]" is text), and
# the few coloured words are styled Text (_styled).
console = Console(width=None if sys.stdout.isatty() else 160, markup=False, highlight=False)
err = Console(stderr=True, markup=False, highlight=False, soft_wrap=True)  # one line per message

# Options shared by several commands (sqlite-utils style reusable definitions).
WarehouseOption = Annotated[
    Path | None,
    typer.Option("--warehouse", "-w", help="DuckDB warehouse file (default: DEALERSYNC_WAREHOUSE or data/)."),
]
TodayOption = Annotated[
    str | None,
    typer.Option(
        "--today", "--date", help="The day to act as (YYYY-MM-DD); default: today in the configured zone."
    ),
]


class UserError(Exception):
    """A mistake the user can fix; shown as one line, never as a traceback."""


def parse_day(text: str | None) -> date | None:
    """A YYYY-MM-DD option as a date, or a clear error."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-11-26") from None


def _settings(**overrides):
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from dealersync.settings import get_settings

    try:
        return get_settings(**overrides)
    except ValidationError as error:  # one line per setting, named as it is set; values stay out (a
        # dict setting's keys are values too: portal tokens), so only the setting's own name is shown
        wrong = "; ".join(
            f"DEALERSYNC_{str(e['loc'][0]).upper()}: {e['msg'].removeprefix('Value error, ')}"
            for e in error.errors()
        )
        raise UserError(f"invalid settings: {wrong}") from None
    except SettingsError as error:  # a value that is not even JSON where JSON is expected
        raise UserError(f"invalid settings: {error}") from None


def _files_table(outcomes, title: str) -> Table:
    table = Table(title=title, show_lines=False)
    for name, justify in (
        ("file", "left"),
        ("kind", "left"),
        ("status", "left"),
        ("read", "right"),
        ("loaded", "right"),
        ("warned", "right"),
        ("rejected", "right"),
        ("seconds", "right"),
        ("note", "left"),
    ):
        table.add_column(name, justify=justify, overflow="fold")
    for o in outcomes:
        style = {"refused": "red", "failed": "bold red", "skipped": "dim"}.get(o.status, "")
        table.add_row(
            o.file_name,
            o.source or "",
            o.status,
            str(o.rows_read),
            str(o.rows_loaded),
            str(o.rows_warned),
            str(o.rows_rejected),
            f"{o.seconds:.1f}",
            o.reason or "",
            style=style,
        )
    return table


EXIT_BUSY = 3  # another run holds the warehouse: nothing was done, try again later


def _run_night(settings, day: date | None, force: bool = False, settle_seconds: float | None = None):
    """The nightly flow once, with the task runner of the settings, reporting to one Prefect API.

    On a terminal a bar follows the files. A warehouse another run holds, or that cannot be opened, is
    main's to report; a run that fails ends with one line and exit code 2 (Prefect logged why).
    """
    from dealersync.flows.nightly import nightly, task_runner_for
    from dealersync.flows.runtime import prefect_api
    from dealersync.warehouse.db import WarehouseError, interrupted

    try:
        with prefect_api(api_url=settings.prefect_api_url), _progress_bar():
            return nightly.with_options(task_runner=task_runner_for(settings))(
                inbox=settings.inbox_dir,
                warehouse=settings.warehouse_path,
                today=day,
                force=force,
                settle_seconds=settle_seconds,
            )
    except WarehouseError:
        raise
    except Exception as error:  # Prefect has logged the traceback; the files loaded before it stay loaded
        if interrupted(error):  # a signal arrived while DuckDB worked: stopped as asked, as a killed run is
            err.print(
                _styled(
                    "stopped:",
                    "bold yellow",
                    "the run was stopped by a signal (SIGTERM, Ctrl-C); a file is loaded whole or not at all: "
                    "those loaded before it stay loaded (etl.files lists them), the others are loaded by the "
                    "next run",
                )
            )
            raise typer.Exit(128 + signal.SIGTERM) from None
        err.print(
            _styled(
                "the run failed:",
                "bold red",
                f"{type(error).__name__}: {error}; a file is loaded whole or not at all: those loaded before "
                "the failure stay loaded (etl.files lists them), the others are loaded by the next run",
            )
        )
        raise typer.Exit(2) from None


def _require_warehouse(settings) -> None:
    """A command that reads the warehouse needs one: say where it looked, and how to get one."""
    if not settings.warehouse_path.exists():
        raise UserError(
            f"no warehouse at {settings.warehouse_path}; run `dealersync run` first or pass --warehouse"
        )


@contextmanager
def _writing(out: Path | None) -> Iterator[None]:
    """A file that cannot be written (no permission, a full disk, a path through a file) is one line."""
    from xlsxwriter.exceptions import XlsxWriterException

    try:
        yield
    except (OSError, XlsxWriterException) as error:
        where = f" to {out}" if out is not None else ""
        raise UserError(f"cannot write{where}: {error}") from None


@contextmanager
def _writing_warehouse(settings, what: str, out: Path | None) -> Iterator:
    """The warehouse opened for writing under the run lock (as a run or backfill holds it), for a command
    that then writes files (`_writing`): a run or restore holding it is exit code 3."""
    from dealersync.warehouse.lock import locked_warehouse

    with (
        locked_warehouse(
            settings.warehouse_path, what=what, wait_seconds=settings.lock_timeout_seconds
        ) as con,
        _writing(out),
    ):
        yield con


@contextmanager
def _progress_bar() -> Iterator[None]:
    """A bar over the night's new files (checked in parallel, then loaded one by one), on a terminal."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from dealersync.flows.reporting import listening

    if not console.is_terminal:
        yield
        return
    columns = (TextColumn("{task.description:>9}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        stages: dict[str, TaskID] = {}

        def follow(event: str, file_name: str, files: int) -> None:
            if event == "start":
                stages["checked"] = bar.add_task("checking", total=files)
                stages["loaded"] = bar.add_task("loading", total=files)
            elif event in stages:
                bar.advance(stages[event])

        with listening(follow):
            yield


def _print_night(result) -> None:
    console.print(_files_table(result.files, f"Run {result.run_id} as of {result.as_of}"))
    console.print(f"Warehouse: {result.warehouse}")
    for label, location in result.outputs.items():
        console.print(f"{label}: {location}")


@app.command()
def run(
    inbox: Annotated[
        Path | None, typer.Option(help="Folder of workbooks to load (default: data/inbox).")
    ] = None,
    warehouse: WarehouseOption = None,
    today: TodayOption = None,
    force: Annotated[
        bool, typer.Option(help="Load files again even if the same content was loaded.")
    ] = False,
    settle_seconds: Annotated[
        float | None,
        typer.Option(
            help="Leave files changed less than this many seconds ago for the next run, as still arriving "
            "(default: DEALERSYNC_SETTLE_SECONDS, 60; 0 takes every file now)."
        ),
    ] = None,
) -> None:
    """Run the nightly flow once: load the inbox, refresh due lists and summaries.

    Example: dealersync run --inbox /srv/inbox --warehouse /srv/aftersales.duckdb --today 2026-11-26

    Exit code: 0 clean, 1 rows rejected or files refused, 2 a file failed to load or the run failed,
    3 another run holds the warehouse (nothing was done).
    """
    from dealersync.inbox import InboxMissing, require_inbox

    settings = _settings(inbox=inbox, warehouse=warehouse)
    day = parse_day(today)
    if day is not None and day > settings.today():
        raise UserError(
            f"--today {day} is after today ({settings.today()} in {settings.timezone}): a night is run for "
            "today or a past day; the nights before a later day's would have their files taken for late ones"
        )
    try:  # the flow checks it too; checked here, a mistyped path is said before Prefect starts (10 s)
        require_inbox(settings.inbox_dir)
    except InboxMissing as error:
        raise UserError(str(error)) from None
    result = _run_night(settings, day, force=force, settle_seconds=settle_seconds)
    _print_night(result)
    raise typer.Exit(result.exit_code)


@app.command()
def validate(
    files: Annotated[
        list[Path], typer.Argument(help="Workbooks to check, or folders of them.", show_default=False)
    ],
    warehouse: WarehouseOption = None,
    today: TodayOption = None,
    show: Annotated[int, typer.Option(help="Problems to list per file (0 = all).")] = 50,
    report_dir: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="Folder for each file's marked copy (`<name>.annotated.xlsx`) and problem list (`<name>.problems.csv`).",
        ),
    ] = None,
) -> None:
    """Check workbooks exactly as the nightly run would, without writing to the warehouse.

    Example: dealersync validate dealer_D0012.xlsx reference.xlsx --report checked/

    A folder stands for every file in it, as the nightly run would take them from an inbox. Reference
    checks use the warehouse (read-only) when given, else a reference workbook among the files, else
    are reported as skipped. A header not recognised gets the alias line that would map it.
    Exit code: 0 clean, 1 rejections found, 2 a file refused.
    """
    from dealersync.inbox import inbox_files
    from dealersync.schemas.aliases import load_aliases
    from dealersync.steward import alias_suggestions, sheet_kind_suggestions
    from dealersync.validation import validate_files

    settings = _settings(warehouse=warehouse)
    missing = [str(f) for f in files if not f.is_file() and not f.is_dir()]
    if missing:
        raise UserError(f"no such file: {', '.join(missing)}")
    given = {f: inbox_files(f) if f.is_dir() else [f] for f in files}
    empty = [str(f) for f, paths in given.items() if not paths]
    if empty:
        raise UserError(f"no file to check in the folder {', '.join(empty)}")
    report = validate_files(
        [path for paths in given.values() for path in paths],
        settings=settings,
        today=parse_day(today) or settings.today(),
        warehouse=warehouse if warehouse is not None else None,
    )
    aliases = load_aliases(settings.aliases_path)
    console.print(f"Reference checks: {report.references}")
    for parsed in report.files:
        _print_validated(parsed, show)
        for misnamed in sheet_kind_suggestions(parsed, aliases):
            console.print(Text("  ").append_text(_styled("sheet?", "cyan", f"  {misnamed.text}")))
        for suggestion in alias_suggestions(parsed, aliases, settings.aliases_path):
            console.print(Text("  ").append_text(_styled("alias?", "cyan", f"  {suggestion.text}")))
            console.print(f"      {suggestion.section}\n      {suggestion.line}")
    if report_dir is not None:
        _write_reports(report.files, report_dir, aliases, settings.aliases_path)
    raise typer.Exit(report.exit_code)


def _write_reports(parsed_files, folder: Path, aliases, steward_file: Path) -> None:
    """validate --report: each file's annotated copy and problems CSV; one file that cannot be marked does not stop the rest."""
    from dealersync.steward import write_report

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot write the reports to {folder}: {error}") from None
    for parsed in parsed_files:
        try:
            written = write_report(parsed, parsed.path, folder, aliases=aliases, steward_file=steward_file)
        except OSError as error:
            raise UserError(f"cannot write the report of {parsed.file_name} to {folder}: {error}") from None
        except Exception as error:  # a workbook openpyxl cannot take: say so, go on with the others
            err.print(f"{parsed.file_name}: no annotated copy ({type(error).__name__}: {error})")
            continue
        if written.workbook is not None:
            console.print(f"{parsed.file_name}: marked copy {written.workbook}")
        console.print(f"{parsed.file_name}: problem list {written.problems_csv}")


def _print_validated(parsed, show: int) -> None:
    if parsed.status != "parsed":
        console.print(_styled(f"{parsed.file_name}: refused", "bold red", f"— {parsed.reason}"))
        return
    table = Table(title=f"{parsed.file_name} ({parsed.source})")
    for name in (
        "sheet",
        "kind",
        "header row",
        "rows",
        "loadable",
        "warned",
        "rejected",
        "blank",
        "totals",
        "titles",
    ):
        table.add_column(name, justify="left" if name in ("sheet", "kind") else "right")
    for s in parsed.sheets:
        table.add_row(
            s.sheet,
            s.kind,
            str(s.header_row),
            str(s.rows_read),
            str(s.clean.height),
            str(s.rows_warned),
            str(s.rows_rejected),
            str(s.blank_rows),
            str(len(s.total_rows)),
            str(len(s.title_rows)),
        )
    console.print(table)
    for sheet_name, why in parsed.skipped_sheets:
        console.print(f"  skipped sheet {sheet_name!r}: {why}")
    problems = parsed.problems
    # A missing column rejects every row with the same message: say it once per sheet, with the count.
    missing = problems.filter(pl.col("rule") == "missing_column")
    for (sheet_name, _), rows in missing.group_by("sheet", "field", maintain_order=True):
        message = f"{sheet_name}: {_one_line(rows['message'][0])} (all {rows.height} rows)"
        console.print(Text("  ").append_text(_styled("rejected", "red", message)))
    problems = problems.filter(pl.col("rule") != "missing_column")
    if problems.height:
        listed = problems if show == 0 else problems.head(show)
        for p in listed.iter_rows(named=True):
            colour = "red" if p["severity"] == "rejected" else "yellow"
            column = _one_line(p["column_name"])
            where = (
                f"{p['sheet']}!{column} row {p['excel_row']}"
                if column
                else f"{p['sheet']} row {p['excel_row']}"
            )
            line = _styled(f"{p['severity']:8}", colour, f"{where}: {_one_line(p['message'])}")
            console.print(Text("  ").append_text(line))
        if listed.height < problems.height:
            console.print(f"  … and {problems.height - listed.height} more (use --show 0 to list all)")


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="A SQL query (read-only).")],
    warehouse: WarehouseOption = None,
    limit: Annotated[int, typer.Option(help="Rows to print (0 = all).")] = 100,
    csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
) -> None:
    """Run a read-only query against the warehouse and print the result.

    Example: dealersync sql "select dealer_code, count(*) from core.service_visits group by 1" -w data/warehouse.duckdb
    """
    import duckdb

    from dealersync.warehouse.db import connect

    settings = _settings(warehouse=warehouse)
    _require_warehouse(settings)
    con = connect(settings.warehouse_path, read_only=True)
    try:
        _refuse_what_is_not_one_query(con, query)
        frame = _as_text_where_polars_cannot(con.sql(query)).pl()
    except duckdb.Error as error:
        raise UserError(f"query failed: {error}") from None
    except AttributeError:
        raise UserError("the statement returned no rows (only queries are allowed)") from None
    finally:
        con.close()
    if csv:
        sys.stdout.write(_flat(frame).write_csv())
        return
    shown = _flat(frame if limit == 0 else frame.head(limit))
    table = Table()
    for name in shown.columns:
        table.add_column(name, overflow="fold")
    for row in shown.iter_rows():
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)
    if shown.height < frame.height:
        console.print(f"({frame.height} rows, {shown.height} shown; use --limit 0 for all)")


def _refuse_what_is_not_one_query(con, query: str) -> None:
    """A UserError, before anything runs, for anything but one query.

    The warehouse is opened read-only, but DuckDB would still run a COPY … TO or an EXPORT (writing files
    elsewhere), an ATTACH of another database, or a write statement after a query, before saying that no
    rows came back.
    """
    import duckdb

    try:
        statements = con.extract_statements(query)
    except duckdb.Error as error:
        raise UserError(f"query failed: {error}") from None
    if len(statements) != 1:
        raise UserError(f"one query at a time, please (this is {len(statements)} statements)")
    kind = statements[0].type
    if kind not in (duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN):
        raise UserError(
            f"only queries are allowed, and the warehouse is opened read-only: this is a {kind.name} statement "
            "(to save a result, add --csv and redirect it to a file)"
        )


def _as_text_where_polars_cannot(relation):
    """The query's relation with its interval, union, date and time columns (nested ones too) as DuckDB's
    own text.

    polars cannot hold an interval (`now() - first_seen_at`, how long an entry has been open) or a union,
    nor show a date or time DuckDB allows and Python does not ('infinity', years past 9999): the query
    would end in a traceback. `3 days 02:00:00`, `2026-11-26 10:00:00` and `infinity` are what an analyst
    expects to see.
    """
    if relation is None:
        return relation
    as_text = [
        any(name in str(kind) for name in ("INTERVAL", "UNION", "DATE", "TIME")) for kind in relation.types
    ]
    if not any(as_text):
        return relation
    return relation.project(
        ", ".join(
            f'#{n}::VARCHAR AS "{name.replace(chr(34), chr(34) * 2)}"' if text else f"#{n}"
            for n, (name, text) in enumerate(zip(relation.columns, as_text, strict=True), start=1)
        )
    )


def _flat(frame):
    """The frame with list and struct columns written as JSON text, which CSV can hold (and a table shows
    as an analyst reads it: `["2024-03-08 08:06:00"]`, not Python's `[datetime.datetime(2024, 3, 8, 8, 6)]`)."""
    import json

    import polars as pl

    nested = [name for name, dtype in frame.schema.items() if dtype.is_nested() or dtype == pl.Object]
    return frame.with_columns(
        pl.Series(
            name,
            [
                None if v is None else json.dumps(v, ensure_ascii=False, default=str)
                for v in frame[name].to_list()
            ],
            dtype=pl.Utf8,
        )
        for name in nested
    )


@app.command("due-list")
def due_list(
    today: TodayOption = None,
    dealer: Annotated[str | None, typer.Option(help="Only this dealer's list (dealer code).")] = None,
    region: Annotated[str | None, typer.Option(help="Only this region's list, e.g. 华东.")] = None,
    file_format: Annotated[str, typer.Option("--format", help="xlsx or csv.")] = "xlsx",
    out: Annotated[
        Path | None, typer.Option(help="Folder for the files (default: `exports/due_lists/<date>/`).")
    ] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Compute a day's due list into the warehouse and write it per dealer and per region.

    Example: dealersync due-list --date 2026-11-26 --dealer D0012 --format xlsx

    Without --dealer or --region: one file per active dealer and one per region. Any past day can be
    recomputed; its rows in mart.due_list are replaced. A day after today is refused.
    """
    from dealersync.exports.due_list import FORMATS, UnknownScope, due_list_folder, exported_due_lists

    if dealer is not None and region is not None:
        raise UserError("give --dealer or --region, not both")
    if file_format not in FORMATS:
        raise UserError(f"--format {file_format}: write xlsx or csv")
    settings = _settings(warehouse=warehouse)
    day = parse_day(today) or settings.today()
    if day > settings.today():
        raise UserError(
            f"--date {day} is after today ({settings.today()} in {settings.timezone}): a due list is "
            "computed for today or a past day, as the records stood at its end"
        )
    _require_warehouse(settings)
    if out is not None and out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; give the folder to write the due-list files in")
    try:
        with _writing_warehouse(settings, f"the due list of {day}", out) as con:
            paths = exported_due_lists(
                con,
                day,
                out or due_list_folder(settings.exports_dir, day),
                settings.maintenance_lead_days,
                [file_format],
                dealer=dealer,
                region=region,
            )
    except UnknownScope as error:
        raise UserError(str(error)) from None
    for path in paths:
        console.print(str(path))
    console.print(f"Due list of {day}: {len(paths)} file(s)")


@app.command()
def summary(
    week: Annotated[str | None, typer.Option(help="ISO week, e.g. 2026-W47.")] = None,
    month: Annotated[str | None, typer.Option(help="Month, e.g. 2026-11.")] = None,
    year: Annotated[str | None, typer.Option(help="Year, e.g. 2026.")] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Where to write the xlsx (default: `exports/quality/quality_<period>.xlsx`)."),
    ] = None,
    warehouse: WarehouseOption = None,
    today: TodayOption = None,
) -> None:
    """Refresh the quality summaries of a week, month or year and write its xlsx report.

    Example: dealersync summary --week 2026-W47 --out reports/quality_w47.xlsx

    Without a period: last week (the week before --today).
    """
    from dealersync.exports.quality_report import refreshed_report, report_path
    from dealersync.transforms.quality_summary import Period
    from dealersync.warehouse.summaries import alert_levels

    settings = _settings(warehouse=warehouse)
    given = [(kind, text) for kind, text in (("week", week), ("month", month), ("year", year)) if text]
    if len(given) > 1:
        raise UserError("give one period: --week, --month or --year")
    if given:
        kind, text = given[0]
        try:
            period = Period.parse(text)
        except ValueError as error:
            raise UserError(str(error)) from None
        if period.type != kind:
            raise UserError(f"--{kind} {text} is a {period.type}; write e.g. 2026-W47, 2026-11 or 2026")
    else:
        period = Period.containing("week", parse_day(today) or settings.today()).previous()
    _require_warehouse(settings)
    if out is not None and out.is_dir():
        raise UserError(
            f"--out {out} is a folder; give the file to write, e.g. {out / f'quality_{period.label}.xlsx'}"
        )
    with _writing_warehouse(settings, f"the quality report {period.label}", out) as con:
        path = refreshed_report(
            con, period, out or report_path(settings.exports_dir, period), alert_levels(settings)
        )
    console.print(f"Quality report {period.label} ({period.start} to {period.end}): {path}")


@app.command()
def demo(
    directory: Annotated[
        Path, typer.Option("--dir", help="Folder for the sample inbox, warehouse and exports.")
    ] = Path("demo"),
    dealers: Annotated[int, typer.Option(help="Dealer workbooks to generate.")] = 6,
    today: TodayOption = None,
) -> None:
    """Write a realistic sample inbox (with a few bad cells and one bad file) and run the nightly flow on it.

    Example: dealersync demo --dir /tmp/demo
    """
    from dealersync.samples import generate_inbox

    directory = directory.resolve()
    os.environ["DEALERSYNC_DATA_DIR"] = str(directory)
    settings = _settings()
    day = parse_day(today) or settings.today()
    manifest = generate_inbox(
        settings.inbox_dir, today=day, dealers=dealers, seed=7, bad_cell_rate=0.01, with_bad_file=True
    )
    console.print(f"Sample inbox: {len(manifest.files)} file(s) in {settings.inbox_dir}")
    _print_night(_run_night(settings, day, settle_seconds=0))  # its files were written just now
    console.print(f"Exports: {settings.exports_dir}")
    console.print(
        f'Try: dealersync sql "select kind, count(*) from quarantine.rejected_rows group by 1" '
        f"--warehouse {settings.warehouse_path}"
    )


@app.command()
def quarantine(
    warehouse: WarehouseOption = None,
    dealer: Annotated[str | None, typer.Option(help="Only this dealer's entries (dealer code).")] = None,
    only_open: Annotated[
        bool,
        typer.Option("--open/--all", help="Only the entries still open (default), or resolved ones too."),
    ] = True,
    close: Annotated[
        list[int] | None,
        typer.Option(
            "--close",
            help="Close an open entry by hand, e.g. a row sent again under a corrected key (entry id; repeatable; with --dealer, only that dealer's).",
        ),
    ] = None,
    zh: Annotated[bool, typer.Option("--zh", help="Messages in Chinese.")] = False,
    limit: Annotated[int, typer.Option(help="Entries to print (0 = all).")] = 100,
    csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
) -> None:
    """List what stewards still have to fix, oldest first, with how long each entry has been open.

    Example: dealersync quarantine --dealer D0012 -w data/warehouse.duckdb

    A corrected file sent again resolves the entries it fixes; --close resolves one by hand.
    """
    from rich.text import Text

    from dealersync.exports.cells import safe_frame
    from dealersync.warehouse.db import connect
    from dealersync.warehouse.portal_queries import known_dealer
    from dealersync.warehouse.quarantine import UnknownEntries, close_entries, open_entries

    settings = _settings(warehouse=warehouse)
    _require_warehouse(settings)
    code = dealer.strip().upper() if dealer else None
    con = connect(settings.warehouse_path, read_only=not close)
    try:
        if close:
            try:
                closed = close_entries(con, close, code)
            except UnknownEntries as error:
                raise UserError(str(error)) from None
            asked = len(set(close))
            console.print(
                f"closed {closed} of {asked} entr{'y' if asked == 1 else 'ies'}"
                + (" (the others were resolved already)" if closed < asked else "")
            )
            return
        entries = open_entries(con, code, only_open)
        unknown_dealer = bool(code) and entries.is_empty() and not known_dealer(con, code)
    finally:
        con.close()
    if csv:
        sys.stdout.write(safe_frame(entries).write_csv())
        return
    if entries.is_empty():
        scope = f"dealer {code}" if code else "the warehouse"
        console.print(f"No {'open ' if only_open else ''}quarantine entries for {scope}.")
        if unknown_dealer:
            console.print(f"(There is no dealer {code} in the warehouse: check the code.)")
        return
    shown = entries if limit == 0 else entries.head(limit)
    table = Table(title=f"Quarantine: {entries.height} {'open ' if only_open else ''}entries, oldest first")
    for name in (
        "id",
        "open",
        "since",
        "severity",
        "dealer",
        "file",
        "sheet",
        "row",
        "column",
        "value",
        "message",
    ):
        table.add_column(name, overflow="fold", justify="right" if name in ("id", "open", "row") else "left")
    for e in shown.iter_rows(named=True):
        opened = f"{e['days_open']} d" if e["resolved_at"] is None else f"resolved ({e['days_open']} d)"
        value = e["cell_value"] or ""
        cells = (
            str(e["entry_id"]),
            opened,
            f"{e['first_seen_at']:%Y-%m-%d}",
            e["severity"],
            e["dealer_code"] or "",
            e["file_name"],
            e["sheet"],
            str(e["excel_row"]),
            e["column_name"] or "(row)",
            value if len(value) <= 40 else value[:40] + "…",
            e["message_zh"] if zh else e["message"],
        )
        table.add_row(*(Text(cell) for cell in cells))  # a dealer's text is never read as markup
    console.print(table)
    if shown.height < entries.height:
        console.print(f"({entries.height} entries, {shown.height} shown; use --limit 0 for all)")


@app.command()
def template(
    source: Annotated[str, typer.Argument(help="dealer, warehouse or reference.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="The .xlsx file to write.", show_default=False)],
    force: Annotated[bool, typer.Option(help="Overwrite the file if it exists.")] = False,
) -> None:
    """Write a blank workbook to fill in: the contract's sheets and Chinese headers, dropdowns, help on each column.

    Example: dealersync template dealer --out 经销商台账模板.xlsx
    """
    from dealersync.exports.template import UnknownSource, write_template

    if out.suffix.lower() != ".xlsx":
        raise UserError(f"{out}: a template is an .xlsx workbook; give a file name ending in .xlsx")
    if out.exists() and not force:
        raise UserError(f"{out} already exists; pass --force to overwrite it")
    try:
        written = write_template(source, out)
    except UnknownSource as error:
        raise UserError(str(error)) from None
    except OSError as error:
        raise UserError(f"cannot write {out}: {error}") from None
    console.print(f"Template for {source} workbooks: {written}")


@app.command()
def backfill(
    first_day: Annotated[str, typer.Option("--from", help="First day to recompute (YYYY-MM-DD).")],
    last_day: Annotated[str, typer.Option("--to", help="Last day to recompute (YYYY-MM-DD), included.")],
    warehouse: WarehouseOption = None,
) -> None:
    """Recompute the due lists and quality summaries of every day in a range from the warehouse.

    Example: dealersync backfill --from 2026-11-01 --to 2026-11-26 -w /srv/aftersales.duckdb

    Reads no files; running it twice changes nothing; a day after today is refused. Exit code 3 while a
    run holds the warehouse.
    """
    from dealersync.exports.due_list import due_list_folder
    from dealersync.flows.backfill import backfill as backfill_flow
    from dealersync.flows.backfill import days_between
    from dealersync.flows.runtime import prefect_api

    settings = _settings(warehouse=warehouse)
    first, last = parse_day(first_day), parse_day(last_day)
    try:
        days_between(first, last)
    except ValueError as error:
        raise UserError(str(error)) from None
    if last > settings.today():
        raise UserError(
            f"--to {last} is after today ({settings.today()} in {settings.timezone}): due lists are recomputed "
            "for today or past days, as the records stood at their end"
        )
    _require_warehouse(settings)
    with prefect_api(api_url=settings.prefect_api_url):
        result = backfill_flow(first, last, warehouse=settings.warehouse_path)
    items = sum(result.items.values())
    console.print(
        f"Recomputed {len(result.items)} day(s) from {first} to {last} in {result.seconds:.1f} s: "
        f"{items} due-list item(s); summaries of {', '.join(result.periods)}"
    )
    if written := [day for day in result.items if due_list_folder(settings.exports_dir, day).is_dir()]:
        shown = ", ".join(map(str, written)) if len(written) <= 5 else f"{written[0]} … {written[-1]}"
        console.print(
            f"The due-list files written before for {len(written)} of these day(s) ({shown}) under "
            f"{due_list_folder(settings.exports_dir, written[0]).parent} still show the lists as they were: "
            "write a day's again with `dealersync due-list --date DAY` (the web page rebuilds a day's file "
            "when it is older than the list)."
        )


@app.command()
def restore(
    backup: Annotated[
        str | None,
        typer.Argument(help="Backup file, or its name in the backups folder; omit to list the backups."),
    ] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Put a backup in place of the warehouse; the warehouse it replaces is kept as a backup first.

    Example: dealersync restore warehouse-20261126-020001.duckdb -w /srv/aftersales.duckdb

    Without BACKUP, lists the backups (one is taken before each run that loads files).
    """
    from dealersync.warehouse.backup import DAMAGED, find_backup, list_backups
    from dealersync.warehouse.backup import restore as restore_backup
    from dealersync.warehouse.lock import warehouse_lock

    settings = _settings(warehouse=warehouse)
    target, folder = settings.warehouse_path, settings.backups_dir
    if backup is None:
        backups = list_backups(target, folder)
        if not backups:
            console.print(f"No backups of {target} in {folder} yet.")
            return
        table = Table(title=f"Backups of {target} (newest first)")
        for name in ("backup", "taken at", "MB", "note"):
            table.add_column(name, justify="right" if name == "MB" else "left")
        for b in backups:
            table.add_row(
                b.path.name, f"{b.taken_at:%Y-%m-%d %H:%M:%S}", f"{b.size_bytes / 2**20:.1f}", b.label
            )
        console.print(table)
        return
    source = find_backup(backup, target, folder)
    with warehouse_lock(
        target, what=f"a restore from {source.name}", wait_seconds=settings.lock_timeout_seconds
    ):
        saved = restore_backup(source, target, folder)
    console.print(f"Restored {target} from {source}.")
    if saved is not None and saved.stem.endswith(DAMAGED):
        console.print(f"The warehouse it replaced could not be opened; it is kept as it was in {saved}.")
    elif saved is not None:
        console.print(f"The warehouse it replaced is kept as {saved} (restore that to undo).")


@app.command()
def deploy(
    inbox: Annotated[
        Path | None, typer.Option(help="Folder of workbooks each run loads (default: data/inbox).")
    ] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Serve the nightly flow on its cron schedule (DEALERSYNC_SCHEDULE_CRON, default 02:00) until stopped.

    Example: PREFECT_API_URL=http://127.0.0.1:4200/api dealersync deploy -w /srv/aftersales.duckdb

    Needs a running Prefect server (`dealersync prefect-server`); stop this (Ctrl-C, SIGTERM) before the server:
    stopping pauses the schedule, and starting it again resumes it.
    """
    from dealersync.flows.deploy import NoServer, serve_nightly
    from dealersync.inbox import InboxMissing, require_inbox

    settings = _settings(inbox=inbox, warehouse=warehouse)
    try:  # said now, not by a failed run at 02:00
        require_inbox(settings.inbox_dir)
    except InboxMissing as error:
        raise UserError(str(error)) from None
    try:
        serve_nightly(settings)
    except (NoServer, ValueError) as error:
        raise UserError(str(error)) from None


@app.command("prefect-server")
def prefect_server(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 4200,
) -> None:
    """Start the Prefect server that holds the schedule and the run history (runs until stopped).

    Example: dealersync prefect-server --port 4200   (then: PREFECT_API_URL=http://127.0.0.1:4200/api dealersync deploy)

    SQLite in PREFECT_HOME by default; PostgreSQL when DEALERSYNC_PREFECT_DATABASE_URL is set.
    """
    settings = _settings()
    env = dict(
        os.environ,
        PREFECT_SERVER_ANALYTICS_ENABLED=os.environ.get("PREFECT_SERVER_ANALYTICS_ENABLED", "false"),
    )
    if settings.prefect_database_url:
        env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = settings.prefect_database_url
    _require_free_port(host, port)
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(port)]
    console.print(f"Prefect server on http://{host}:{port} (API: http://{host}:{port}/api)")
    sys.stdout.flush()
    os.execve(sys.executable, command, env)


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on; 127.0.0.1 keeps the page on this machine.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    warehouse: WarehouseOption = None,
    exports: Annotated[
        Path | None,
        typer.Option(help="Exports folder downloads come from (default: exports/ beside the warehouse)."),
    ] = None,
    open_access: Annotated[
        bool,
        typer.Option(
            "--open-access", help="Serve beyond loopback without tokens (anyone who can reach it sees all)."
        ),
    ] = False,
) -> None:
    """Serve the service-desk portal: due lists, quality summaries, steward files and runs (read-only).

    Example: dealersync serve --host 0.0.0.0 --port 8000   (with DEALERSYNC_PORTAL_TOKENS set)

    Tokens: `DEALERSYNC_PORTAL_TOKENS='{"<token>": "all", "<token>": "dealer:D0012", "<token>": "region:华北"}'`.
    """
    import ipaddress

    import uvicorn

    from dealersync.portal.access import PortalConfigError
    from dealersync.portal.app import LOOPBACK_HOSTS, create_app

    settings = _settings(warehouse=warehouse, exports=exports)
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        raise UserError(f"--host {host}: give an IP address such as 127.0.0.1 or 0.0.0.0") from None
    if not loopback and not settings.portal_tokens and not open_access:
        raise UserError(
            f"--host {host} would show customer names and phones to anyone on the network without a token; "
            "set DEALERSYNC_PORTAL_TOKENS (see `dealersync serve --help`), or pass --open-access"
        )
    try:
        portal = create_app(settings, allowed_hosts=LOOPBACK_HOSTS if loopback else None)
    except PortalConfigError as error:
        raise UserError(str(error)) from None
    _require_free_port(host, port)
    if not settings.warehouse_path.exists():
        err.print(
            f"note: no warehouse at {settings.warehouse_path} yet; the page says so until a run makes one"
        )
    shown = f"[{host}]" if ":" in host else host
    console.print(f"Service-desk portal on http://{shown}:{port}/ (Ctrl+C stops it)")
    console.print(f"Warehouse (read-only): {settings.warehouse_path}  Downloads from: {settings.exports_dir}")
    uvicorn.run(portal, host=host, port=port, server_header=False, proxy_headers=False, log_level="info")


def _require_free_port(host: str, port: int) -> None:
    """A port another process listens on (or an address not of this machine) is one line, exit code 2."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As the servers bind: a port left in TIME_WAIT by a server just stopped is free to them.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise UserError(
                f"cannot listen on {host}:{port} ({error.strerror or error}); pass another --port"
            ) from None


def _styled(label: str, style: str, text: object) -> Text:
    """`label` in `style`, then `text` exactly as it is."""
    return Text.assemble((label, style), " ", str(text))


def _one_line(text: str | None) -> str:
    """Text with its line breaks shown as spaces: a header wrapped in its cell, a cell of two lines."""
    return " ".join((text or "").splitlines())


def main() -> None:
    """Entry point: user mistakes become one clear line and exit code 2, never a traceback.

    Whichever command meets the warehouse held by another process (a run, a restore, the night
    writing while a query would read) ends with one line and exit code 3 (nothing was done); one it
    cannot open (not a warehouse, out of date) with one line and exit code 2.
    """
    from dealersync.schemas.aliases import AliasError
    from dealersync.warehouse.db import WarehouseError
    from dealersync.warehouse.lock import WarehouseBusy

    try:
        app()
    except WarehouseBusy as error:
        err.print(_styled("busy:", "bold yellow", error))
        sys.exit(EXIT_BUSY)
    except (UserError, AliasError, WarehouseError) as error:
        err.print(_styled("error:", "bold red", error))
        sys.exit(2)


if __name__ == "__main__":
    main()

"""The nightly Prefect flow: check the inbox's workbooks in parallel, load them one at a time, refresh the marts."""

# No `from __future__ import annotations` here: a served flow is pickled by value into its run's
# process, and Prefect validates the flow's parameters from annotations it must be able to evaluate.
import logging
import shutil
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from time import perf_counter, time

import polars as pl
from defusedxml import ElementTree
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.runtime import flow_run
from prefect.states import Failed
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from dealersync import inbox as inbox_folder
from dealersync.exports.due_list import due_list_files_written, due_list_folder, exported_due_lists
from dealersync.exports.quality_report import nightly_quality_reports
from dealersync.flows.checking import CheckInputs, Staged, check_files, recheck_files
from dealersync.flows.reporting import NightProgress, publish_night, quarantine_summary, redact, timed
from dealersync.inbox import printable_name
from dealersync.parsed import PARSED, ParsedFile
from dealersync.pipeline import holds_reference_data, process_file
from dealersync.reader import file_sha256
from dealersync.schemas.aliases import Aliases, load_aliases
from dealersync.schemas.contract import REFERENCE, SHEETS
from dealersync.settings import Settings, get_settings
from dealersync.steward import loader_problems, loader_problems_by_file, night_folder, slim, write_report
from dealersync.warehouse.backup import back_up
from dealersync.warehouse.db import WarehouseError, interrupted, upgraded_since
from dealersync.warehouse.load import FileLoad, load_file, load_files, load_groups, loaded_hashes, record_file
from dealersync.warehouse.lock import locked_warehouse
from dealersync.warehouse.refs import read_refs
from dealersync.warehouse.runs import CRASHED, SUCCEEDED, close_abandoned_runs, finish_run, start_run
from dealersync.warehouse.runs import FAILED as RUN_FAILED
from dealersync.warehouse.summaries import alert_levels, nightly_periods, reports_due

LOADED, REFUSED, SKIPPED, FAILED = "loaded", "refused", "skipped", "failed"
WAITING = "waiting"  # changed moments before the run: left in the inbox for the next one, not recorded
log = logging.getLogger(__name__)
ALREADY_LOADED = "same content already loaded"


@dataclass
class FileOutcome:
    """What the night did with one file, as ops see it in the run table."""

    file_name: str
    sha256: str
    status: str
    source: str | None = None
    reason: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_warned: int = 0
    rows_rejected: int = 0
    seconds: float = 0.0
    stored_as: str | None = None


# What a loaded file's steward copy needs: its rows (slimmed) and the warnings the loader gave it.
CopyInputs = tuple[ParsedFile, pl.DataFrame]


@dataclass
class NightResult:
    """The outcome of one run: its id, its day and one line per file."""

    run_id: int
    as_of: date
    warehouse: Path
    files: list[FileOutcome] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # where the night's time went, per step

    @property
    def exit_code(self) -> int:
        """0 all loaded cleanly, 1 loaded with rejected rows or refused files, 2 a file failed to load."""
        if any(f.status == FAILED for f in self.files):
            return 2
        if any(f.status == REFUSED or f.rows_rejected for f in self.files):
            return 1
        return 0


# Files are checked in batches: a task run costs Prefect 0.1-0.3 s of API calls and context in a worker
# process, which a task per file paid hundreds of times a night, and a batch's sheets are checked
# together, kind by kind (each polars query's fixed cost paid once per kind, not once per sheet). So
# batches are few and large: one per worker, more only to keep each under about 16 MB of workbooks
# (~150k rows, whose cells a worker holds until they are checked).
CHECK_BATCH_BYTES = 16 * 2**20
CHECK_BATCH_ROWS = 150_000


def _batch_count(total: int, per_batch: int, workers: int) -> int:
    """How many batches for `total` bytes or rows: one per worker, or more of at most `per_batch` each."""
    return max(workers, -(-total // per_batch))


def _batches(items: list, count: int, size) -> list[list]:
    """`items` in at most `count` batches of about equal total `size` (largest first, into the lightest)."""
    batches: list[list] = [[] for _ in range(max(1, min(count, len(items))))]
    totals = [0] * len(batches)
    for item in sorted(items, key=size, reverse=True):
        lightest = totals.index(min(totals))
        batches[lightest].append(item)
        totals[lightest] += size(item)
    return [batch for batch in batches if batch]


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


@task(name="due-lists", cache_policy=NO_CACHE)
def due_lists(con, as_of: date, settings: Settings) -> Path:
    """Compute the day's due list into mart.due_list and write every dealer's and region's files."""
    folder = due_list_folder(settings.exports_dir, as_of)
    exported_due_lists(con, as_of, folder, settings.maintenance_lead_days)
    return folder


@task(name="steward-copy", cache_policy=NO_CACHE)
def steward_copy(
    parsed: ParsedFile, source: Path, folder: Path, extra, aliases: Aliases, steward_file: Path
) -> Path | None:
    """Write one loaded file's marked copy and problem list for its steward (runs in parallel)."""
    written = write_report(
        parsed, source, folder, aliases=aliases, steward_file=steward_file, extra_problems=extra
    )
    return written.workbook


def task_runner_for(settings: Settings):
    """The task runner the settings ask for: auto (default), thread, process or a Dask cluster."""
    if settings.task_runner == "dask":
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=settings.dask_address) if settings.dask_address else DaskTaskRunner()
    if settings.task_runner == "thread":
        return ThreadPoolTaskRunner(max_workers=settings.workers)
    if settings.task_runner == "process":
        return ProcessPoolTaskRunner(max_workers=settings.workers)
    return SizedTaskRunner(settings)


class SizedTaskRunner(TaskRunner):
    """Threads for a small night, a process pool for a large one, chosen when each flow run starts.

    Checking is CPU-bound under the GIL (two threads are no faster than one), so only processes use
    more cores; but a pool costs 5-10 s to start (each worker imports Prefect, polars and pandera),
    more than a night of a few MB takes in one process. Measured in bench/run_bench.py.
    """

    def __init__(self, settings: Settings):
        super().__init__()
        self.settings = settings
        self._inner: TaskRunner | None = None

    def duplicate(self) -> "SizedTaskRunner":
        return type(self)(self.settings)

    def __enter__(self) -> "SizedTaskRunner":
        super().__enter__()
        waiting = sum(_file_size(path) for path in inbox_folder.inbox_files(self.settings.inbox_dir))
        large = waiting >= self.settings.process_pool_min_mb * 1024 * 1024
        runner = ProcessPoolTaskRunner if large else ThreadPoolTaskRunner
        self._inner = runner(max_workers=self.settings.workers).__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._inner is not None:
            self._inner.__exit__(*exc)
        super().__exit__(*exc)

    def submit(self, task, parameters, wait_for=None, dependencies=None):
        return self._inner.submit(task, parameters, wait_for, dependencies)


def _outcome(parsed: ParsedFile, status: str, reason: str | None = None, **counts) -> FileOutcome:
    return FileOutcome(
        file_name=parsed.file_name,
        sha256=parsed.sha256,
        status=status,
        source=parsed.source,
        reason=reason or parsed.reason,
        rows_read=parsed.rows_read,
        rows_warned=parsed.rows_warned,
        rows_rejected=parsed.rows_rejected,
        seconds=parsed.seconds_read + parsed.seconds_check,
        **counts,
    )


@flow(name="nightly", log_prints=True)
def nightly(
    inbox: Path | None = None,
    warehouse: Path | None = None,
    today: date | None = None,
    force: bool = False,
    settle_seconds: float | None = None,
) -> NightResult:
    """Load every new workbook of the inbox into the warehouse, then refresh the due lists and summaries.

    Reference workbooks load before dealer workbooks; files already loaded (same content) are
    skipped unless `force`; each file loads in its own transaction. A file changed less than
    `settle_seconds` ago (default: the setting) may still be arriving and waits for the next run.
    """
    logger = get_run_logger()
    settings = get_settings(inbox=inbox, warehouse=warehouse)
    if settle_seconds is not None:
        settings = settings.model_copy(update={"settle_seconds": settle_seconds})
    as_of = today or settings.today()
    aliases = load_aliases(settings.aliases_path)
    inbox_dir = settings.inbox_dir
    try:
        inbox_folder.require_inbox(inbox_dir)
    except inbox_folder.InboxMissing as error:  # a mistyped path must fail the run, not load nothing
        logger.error("%s", error)
        return Failed(message=str(error), data=error)
    # One run at a time: a second one waits up to lock_timeout_seconds, then stops having done nothing.
    opened = datetime.now(UTC)
    try:
        with locked_warehouse(
            settings.warehouse_path,
            what=f"the nightly run as of {as_of}",
            wait_seconds=settings.lock_timeout_seconds,
        ) as con:
            if upgrade := upgraded_since(con, opened):  # a new release's first night
                logger.info("the warehouse was upgraded: migrations %s applied", ", ".join(upgrade))
            result = _night(con, settings, inbox_dir, as_of, aliases, force, logger)
            if upgrade:
                result.outputs["Warehouse upgraded"] = ", ".join(upgrade)
            return result
    except WarehouseError as error:  # busy, locked by a reader, not a warehouse: one line, no traceback
        logger.error("%s", error)
        return Failed(message=str(error), data=error)


def _night(con, settings: Settings, inbox_dir: Path, as_of: date, aliases: Aliases, force: bool, logger):
    """The night's steps while it holds the warehouse: back up, load the new files, refresh the marts, report."""
    seconds: dict[str, float] = {}
    with timed(seconds, "inbox"):
        arriving, files = _arriving_files(inbox_folder.inbox_files(inbox_dir), settings.settle_seconds)
        new_files, known_files, repeats = _waiting_files(con, files, force)
    if new_files and settings.backups_keep > 0:
        with timed(seconds, "backup"):
            backup = back_up(con, settings.warehouse_path, settings.backups_dir, keep=settings.backups_keep)
        logger.info("backed up the warehouse to %s before loading", backup)
    for abandoned in close_abandoned_runs(con):  # we hold the run lock: a run still 'running' was killed
        logger.warning("run %s stopped before it finished; marked crashed", abandoned)
    run_id = start_run(con, as_of=as_of, inbox=str(inbox_dir), flow_run_id=flow_run.id)
    result = NightResult(run_id=run_id, as_of=as_of, warehouse=settings.warehouse_path, seconds=seconds)
    for path, age in arriving:
        reason = (
            f"changed {age:.0f} s before the run, less than DEALERSYNC_SETTLE_SECONDS "
            f"({settings.settle_seconds:g}): it may still be arriving, so it waits in the inbox for the next run "
            "(`run --settle-seconds 0` takes it now)"
        )
        logger.warning("%s %s", printable_name(path.name), reason)
        result.files.append(FileOutcome(printable_name(path.name), "", WAITING, reason=reason))
    # Checked files wait as Arrow files beside the inbox (the workers reach it) until they load; we
    # hold the lock, so any left there is a killed night's.
    staging = inbox_dir.with_name(f".{inbox_dir.name}.staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        files_done, kept = _load_inbox(
            con, run_id, inbox_dir, new_files, known_files, as_of, aliases, settings, logger, seconds, staging
        )
        result.files += files_done
        if repeats:  # copies of tonight's files: skipped when the first loaded, else checked as it was
            loaded = loaded_hashes(con)
            again = [path for path, sha256 in repeats if sha256 not in loaded]
            known = [(path, sha256) for path, sha256 in repeats if sha256 in loaded]
            files, kept_again = _load_inbox(
                con, run_id, inbox_dir, again, known, as_of, aliases, settings, logger, seconds, staging
            )
            result.files += files
            kept += kept_again
        # The steward copies are written by the task runner's workers while this process makes the marts.
        with timed(seconds, "steward copies"):
            copies = _start_steward_copies(kept, as_of, aliases, settings)
            copies += _copies_crashed_runs_left(con, aliases, settings)
        if _marts_current(con, as_of, settings):
            logger.info(
                "nothing loaded since the due list and summaries of %s were made: kept as they are", as_of
            )
            result.outputs["Due lists"] = str(due_list_folder(settings.exports_dir, as_of))
        else:
            with timed(seconds, "due lists"):
                result.outputs["Due lists"] = str(due_lists(con, as_of, settings))
            with timed(seconds, "quality"):
                reports = nightly_quality_reports(con, as_of, settings.exports_dir, alert_levels(settings))
            result.outputs.update({f"Quality report {p.label}": str(path) for p, path in reports.items()})
        with timed(seconds, "steward copies"):
            _wait_for_steward_copies(copies, logger)
        steward = settings.exports_dir / "steward" / as_of.isoformat()
        if steward.is_dir():
            result.outputs["Steward workbooks"] = str(steward)
        finish_run(con, run_id, status="succeeded" if result.exit_code < 2 else "failed")
    except BaseException:
        finish_run(con, run_id, status="crashed")
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    # The night's work is done and recorded: a report that cannot be published must not undo that.
    try:
        publish_night(result, *quarantine_summary(con, run_id))
    except Exception as error:
        logger.warning("could not publish the run report to Prefect: %s", redact(str(error)))
    return result


def _marts_current(con, as_of: date, settings: Settings) -> bool:
    """Whether the due list (with every one of its files) and the summaries of `as_of` (with every report
    owed) were made after the last load.

    A run again the same day with nothing new then changes nothing and takes no time for them; after a
    night stopped while it wrote the files or the reports, it writes them all.
    """
    periods = nightly_periods(as_of)
    pairs = [value for period in periods for value in (period.type, period.label)]
    placeholders = ", ".join("(?, ?)" for _ in periods)
    due_at, summaries_at, summarised, loaded_at = con.execute(
        f"""
        SELECT (SELECT max(computed_at) FROM mart.due_list_days WHERE as_of = ?),
               (SELECT min(refreshed_at) FROM mart.quality_kpi WHERE (period_type, period) IN ({placeholders})),
               (SELECT count(DISTINCT (period_type, period)) FROM mart.quality_kpi
                WHERE (period_type, period) IN ({placeholders})),
               (SELECT max(processed_at) FROM etl.files WHERE status = 'loaded')
        """,
        [as_of, *pairs, *pairs],
    ).fetchall()[0]
    if due_at is None or summaries_at is None or summarised < len(periods):
        return False
    if not due_list_files_written(con, as_of, due_list_folder(settings.exports_dir, as_of)):
        return False
    if reports_due(con, as_of):  # a night stopped before it wrote every report it owed
        return False
    return loaded_at is None or (due_at > loaded_at and summaries_at > loaded_at)


def _arriving_files(paths: list[Path], settle_seconds: float) -> tuple[list[tuple[Path, float]], list[Path]]:
    """(path, seconds since it changed) of the files changed less than `settle_seconds` ago; the others.

    A file copied into the inbox as the run starts would be read half-written and refused as damaged
    (and moved aside while the copy goes on): it is left for the next run instead.
    """
    now = time()
    ages = [(path, now - path.stat().st_mtime) for path in paths]
    return [(p, age) for p, age in ages if age < settle_seconds], [
        p for p, age in ages if age >= settle_seconds
    ]


def _waiting_files(
    con, paths: list[Path], force: bool
) -> tuple[list[Path], list[tuple[Path, str]], list[tuple[Path, str]]]:
    """Of the inbox's `paths`: the files to load; those whose content was loaded before (path, sha256)
    unless `force`; and copies of a file sent the same night (path, sha256), which wait for how the first
    one fares: a copy of a refused file is refused too, not skipped as if it had loaded."""
    loaded = set() if force else loaded_hashes(con)
    tonight: set[str] = set()
    new_files: list[Path] = []
    known_files: list[tuple[Path, str]] = []
    repeats: list[tuple[Path, str]] = []
    for path in paths:
        sha256 = file_sha256(path)
        if sha256 in loaded:
            known_files.append((path, sha256))
        elif sha256 in tonight:
            repeats.append((path, sha256))
        else:
            tonight.add(sha256)
            new_files.append(path)
    return new_files, known_files, repeats


def _load_inbox(
    con, run_id, inbox_dir, new_files, known_files, as_of, aliases, settings, logger, seconds, staging
) -> tuple[list[FileOutcome], list[tuple[CopyInputs, FileOutcome]]]:
    """Record the files loaded before; check the new ones in parallel and load them one at a time.

    Workbooks whose sheet names say they hold reference data go first, so that the others are checked
    once, against the night's dealers, parts and campaigns. Returns every file's outcome, and each
    loaded file's outcome with what its steward copy needs of it.
    """
    outcomes = [_skip(con, run_id, path, sha256, inbox_dir, as_of, settings) for path, sha256 in known_files]
    kept: list[tuple[CopyInputs, FileOutcome]] = []
    logger.info("%d new file(s) in %s", len(new_files), inbox_dir)
    progress = NightProgress(len(new_files))
    named = [path for path in new_files if _names_reference_sheets(path, aliases)]
    for batch in (named, [path for path in new_files if path not in named]):
        done, loaded = _check_and_load(
            con, run_id, batch, inbox_dir, as_of, aliases, settings, progress, logger, seconds, staging
        )
        outcomes += done
        kept += loaded
    progress.finish()
    return outcomes, kept


def _check_and_load(
    con, run_id, paths, inbox_dir, as_of, aliases, settings, progress, logger, seconds, staging
) -> tuple[list[FileOutcome], list[tuple[CopyInputs, FileOutcome]]]:
    """Check files in parallel against the warehouse's references; load them in inbox order, references first.

    A checked file waits for its turn staged (its rows in Arrow files under `staging`, written by the
    worker), so the flow's memory holds the rows of the file or group it loads, not the night's.
    """
    if not paths:
        return [], []
    inputs = CheckInputs(as_of, aliases, read_refs(con), settings)
    count = _batch_count(sum(map(_file_size, paths)), CHECK_BATCH_BYTES, settings.workers)
    batches = _batches(paths, count, _file_size)
    checked: dict[Path, ParsedFile | Staged | OSError] = {}
    with timed(seconds, "check"):
        futures = {check_files.submit(batch, inputs, staging): batch for batch in batches}
        for future in as_completed(list(futures)):
            for path, item in zip(futures[future], future.result(), strict=True):
                checked[path] = item
                progress.checked(path.name)
    outcomes: list[FileOutcome] = []
    staged: list[Staged] = []
    for path in paths:
        item = checked[path]
        if isinstance(item, OSError):
            outcomes.append(
                FileOutcome(printable_name(path.name), "", FAILED, reason=f"could not read the file: {item}")
            )
            progress.loaded(path.name)
        elif isinstance(item, Staged):
            staged.append(item)
        else:
            outcomes.append(_refuse(con, run_id, item, inbox_dir, as_of, logger))
            progress.loaded(path.name)
    references = [s for s in staged if holds_reference_data(s.light)]
    others = [s for s in staged if not holds_reference_data(s.light)]
    with timed(seconds, "load"):
        loaded, kept = _load_all(con, references, run_id, inbox_dir, as_of, settings, progress, logger)
    if others and any(o.status == LOADED for o in loaded):
        # Reference sheets found by their headers, not their names: check the others again, in parallel.
        inputs = CheckInputs(as_of, aliases, read_refs(con), settings)
        count = _batch_count(sum(s.light.rows_read for s in others), CHECK_BATCH_ROWS, settings.workers)
        batches = _batches(others, count, lambda s: s.light.rows_read)
        with timed(seconds, "check"):
            futures = {recheck_files.submit(batch, inputs, staging): batch for batch in batches}
            rechecked = {
                item.light.path: checked_again
                for future, batch in futures.items()
                for item, checked_again in zip(batch, future.result(), strict=True)
            }
        others = [rechecked[s.light.path] for s in others]
        for parsed in [item for item in others if isinstance(item, ParsedFile)]:  # broke the checks
            outcomes.append(_refuse(con, run_id, parsed, inbox_dir, as_of, logger))
            progress.loaded(parsed.file_name)
        others = [item for item in others if isinstance(item, Staged)]
    with timed(seconds, "load"):
        loaded_others, kept_others = _load_all(
            con, others, run_id, inbox_dir, as_of, settings, progress, logger
        )
    loaded += loaded_others
    return outcomes + loaded, list(zip([*kept, *kept_others], loaded, strict=True))


def _names_reference_sheets(path: Path, aliases: Aliases) -> bool:
    """Whether a workbook's sheet names (read from its zip directory, nothing parsed) name a reference sheet.

    Only an ordering hint: a workbook it misses is still loaded first, then the others checked again.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            if archive.getinfo("xl/workbook.xml").file_size > 1024 * 1024:
                return False
            root = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    except Exception:  # not a zip, no workbook part, damaged: the checks will say what is wrong
        return False
    names = [element.get("name", "") for element in root.iter() if element.tag.endswith("}sheet")]
    kinds = {aliases.sheet_kind(name) for name in names}
    return any(kind is not None and SHEETS[kind].source == REFERENCE for kind in kinds)


def _skip(con, run_id, path: Path, sha256: str, inbox_dir, as_of, settings) -> FileOutcome:
    """A file whose content was loaded before: recorded as skipped and moved out of the inbox."""
    unread = ParsedFile(path, printable_name(path.name), sha256, path.stat().st_size, status=SKIPPED)
    stored = _place(path, inbox_dir, as_of, settings)
    record_file(con, unread, run_id=run_id, status=SKIPPED, reason=ALREADY_LOADED, stored_as=str(stored))
    if stored != path:
        inbox_folder.move(path, stored)
    return _outcome(unread, SKIPPED, ALREADY_LOADED, stored_as=str(stored))


def _refuse(con, run_id, parsed: ParsedFile, inbox_dir, as_of, logger) -> FileOutcome:
    """A file refused as a whole: recorded, then set aside in rejected/ with its reason.

    Recorded first: a run killed in between leaves the file in the inbox to be refused again, never a
    file in rejected/ that etl.files does not know.
    """
    stored = inbox_folder.rejected_place(parsed.path, inbox_dir, as_of)
    record_file(con, parsed, run_id=run_id, status=REFUSED, reason=parsed.reason, stored_as=str(stored))
    inbox_folder.move_rejected(parsed.path, inbox_dir, as_of, parsed.reason or "refused", target=stored)
    logger.warning("refused %s: %s", parsed.file_name, redact(parsed.reason))
    return _outcome(parsed, REFUSED, stored_as=str(stored))


def _load_all(con, staged, run_id, inbox_dir, as_of, settings, progress, logger):
    """Load staged files in inbox order, alone or in groups (`load_groups`): (their outcomes, what their
    steward copies need of each).

    A copy needs the file's rows and the warnings the loader gave it (mileage going backwards, no customer
    file), taken as soon as it loads: a later file of the night with the same problem moves its entry.
    """
    outcomes, kept = [], []
    restored = (item.restore() for item in staged)
    for group in load_groups(con, restored, as_of=as_of):
        outcomes += _load_group(con, group, run_id, inbox_dir, as_of, settings, logger)
        problems = loader_problems_by_file(con, run_id=run_id, sha256s=[parsed.sha256 for parsed in group])
        for parsed in group:
            kept.append((slim(parsed), problems[parsed.sha256]))
            progress.loaded(parsed.file_name)
    return outcomes, kept


def _start_steward_copies(kept, as_of, aliases, settings) -> list:
    """Every loaded file that had problems gets its marked copy under exports/steward/<date>/<dealer>/.

    Submitted once the night's files are loaded, with the loader's own warnings (mileage going backwards,
    no customer file) each file got. The file has been moved (to processed/) by then: its outcome says
    where. Returns (file name, future) of each copy.
    """
    jobs = []
    for (parsed, extra), outcome in kept:
        if outcome.status != LOADED:
            continue
        if parsed.problems.is_empty() and extra.is_empty():
            continue
        folder = night_folder(settings.exports_dir, as_of, parsed)
        source = Path(outcome.stored_as or parsed.path)
        future = steward_copy.submit(slim(parsed), source, folder, extra, aliases, settings.aliases_path)
        jobs.append((parsed.file_name, future))
    return jobs


def _copies_crashed_runs_left(con, aliases, settings) -> list:
    """The marked copies the runs that crashed since the last finished one owed (killed, stopped, or failing
    past their files): a night writes them only once its files are loaded, so the files it loaded before
    it stopped had none. Each is checked again from where it now is (found by its content), as of that
    run's day, and its copy goes where that night would have put it."""
    runs = [
        run_id
        for (run_id,) in con.execute(
            """
            SELECT run_id FROM etl.runs WHERE status = ? AND run_id > coalesce(
                (SELECT max(run_id) FROM etl.runs WHERE status IN (?, ?)), 0)
            """,
            [CRASHED, SUCCEEDED, RUN_FAILED],
        ).fetchall()
    ]
    if not runs:
        return []
    loaded = con.execute(
        f"""
        SELECT f.sha256, f.run_id, r.as_of,
               list(DISTINCT seen.stored_as) FILTER (seen.stored_as IS NOT NULL) AS places
        FROM etl.files AS f JOIN etl.runs AS r USING (run_id) JOIN etl.files AS seen USING (sha256)
        WHERE f.status = '{LOADED}' AND f.run_id IN ({", ".join("?" for _ in runs)})
        GROUP BY ALL ORDER BY min(f.processed_at)
        """,
        runs,
    ).fetchall()
    refs = read_refs(con)
    jobs = []
    for sha256, run_id, as_of, places in loaded:
        source = next((Path(p) for p in places if Path(p).is_file() and file_sha256(Path(p)) == sha256), None)
        if source is None:
            continue
        try:
            parsed = process_file(source, today=as_of, aliases=aliases, refs=refs, settings=settings)
        except OSError:  # gone or unreadable since: a copy is not worth failing the night over
            continue
        extra = loader_problems(con, run_id=run_id, sha256=sha256)
        if parsed.status != PARSED or (parsed.problems.is_empty() and extra.is_empty()):
            continue
        folder = night_folder(settings.exports_dir, as_of, parsed)
        future = steward_copy.submit(slim(parsed), source, folder, extra, aliases, settings.aliases_path)
        jobs.append((parsed.file_name, future))
    return jobs


def _wait_for_steward_copies(jobs: list, logger) -> None:
    """Wait for the copies; one that cannot be written is logged, never a failed night (the data is loaded)."""
    for name, future in jobs:
        try:
            future.result()
        except Exception as error:
            logger.warning("no steward copy of %s (%s)", name, type(error).__name__)


def _place(path: Path, inbox_dir: Path, as_of: date, settings: Settings) -> Path:
    """Where a file ends up once loaded or skipped: processed/ beside the inbox, or left in place."""
    return inbox_folder.processed_place(path, inbox_dir, as_of) if settings.move_processed else path


def _load_group(
    con, group: list[ParsedFile], run_id, inbox_dir, as_of, settings, logger
) -> list[FileOutcome]:
    """Load files that cannot touch each other's rows in one transaction, then move them out of the inbox.

    Should that fail, the transaction leaves nothing of them, and each is loaded alone: a file that
    breaks the load fails by itself.
    """
    if len(group) == 1:
        return [_load_one(con, group[0], run_id, inbox_dir, as_of, settings, logger)]
    stored = [_place(parsed.path, inbox_dir, as_of, settings) for parsed in group]
    try:
        loads = load_files(con, group, run_id=run_id, as_of=as_of, stored_as=[str(place) for place in stored])
    except Exception as error:
        if interrupted(error):
            raise
        log.warning("loading %d files together failed; loading them one at a time", len(group), exc_info=True)
        return [_load_one(con, parsed, run_id, inbox_dir, as_of, settings, logger) for parsed in group]
    return [
        _loaded(parsed, loaded, place, loaded.seconds, logger)
        for parsed, loaded, place in zip(group, loads, stored, strict=True)
    ]


def _load_one(con, parsed: ParsedFile, run_id, inbox_dir, as_of, settings, logger) -> FileOutcome:
    """Load one parsed file in its own transaction, then move it out of the inbox."""
    started = perf_counter()
    stored = _place(parsed.path, inbox_dir, as_of, settings)
    try:
        loaded = load_file(con, parsed, run_id=run_id, as_of=as_of, stored_as=str(stored))
    except Exception as error:
        if interrupted(error):  # stopped (SIGTERM, Ctrl-C), not failed: the night stops, the file waits
            raise
        # The error text may quote a cell: it goes to the warehouse (etl.files.reason) and the local log,
        # not to Prefect.
        log.error("loading %s failed", parsed.file_name, exc_info=True)
        record_file(
            con, parsed, run_id=run_id, status=FAILED, reason=f"load failed: {type(error).__name__}: {error}"
        )
        shown = (
            f"load failed ({type(error).__name__}); the warehouse is as it was before this file; "
            "the error is in etl.files.reason"
        )
        logger.error("%s: %s", parsed.file_name, shown)
        return _outcome(parsed, FAILED, shown)
    return _loaded(parsed, loaded, stored, perf_counter() - started, logger)


def _loaded(parsed: ParsedFile, loaded: FileLoad, stored: Path, seconds: float, logger) -> FileOutcome:
    """A loaded file moved out of the inbox, logged, and its outcome."""
    if stored != parsed.path:
        inbox_folder.move(parsed.path, stored)
    logger.info(
        "loaded %s: %d read, %d loaded, %d warned, %d rejected",
        parsed.file_name,
        loaded.rows_read,
        loaded.rows_loaded,
        loaded.rows_warned,
        loaded.rows_rejected,
    )
    return FileOutcome(
        file_name=parsed.file_name,
        sha256=parsed.sha256,
        status=LOADED,
        source=parsed.source,
        rows_read=loaded.rows_read,
        rows_loaded=loaded.rows_loaded,
        rows_warned=loaded.rows_warned,
        rows_rejected=loaded.rows_rejected,
        seconds=parsed.seconds_read + parsed.seconds_check + seconds,
        stored_as=str(stored),
    )

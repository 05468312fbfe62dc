"""The tasks that read and check workbooks in the workers, in a module of their own.

A worker process (or Dask worker) imports the module a task is defined in: this one needs only the
reader and the checks, not the warehouse, the exports and the statistics the nightly flow imports
(about 80 MB and seconds of start-up less per worker).
"""

import tempfile
import time
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import polars as pl
import pyarrow as pa
from prefect import task
from prefect.cache_policies import NO_CACHE
from pyarrow import ipc

from dealersync.parsed import PARSED, ParsedFile
from dealersync.pipeline import check_files_read, read_file, recheck
from dealersync.reader import SheetRead
from dealersync.schemas.aliases import Aliases
from dealersync.settings import Settings
from dealersync.transforms.validate import Refs

READ_RETRY_SECONDS = (2, 10)  # backoff before the second and third attempt to read a file


class CheckInputs:
    """What every batch of a night's checks needs: the day, aliases, references and settings.

    A plain object on purpose: Prefect walks a task's dataclass and collection parameters looking for
    futures (tens of ms for the alias tables, on every task), and Dask unpacks tuples such as
    prefect's quote(); an object of its own class is passed as it is, pickled once per batch.
    """

    __slots__ = ("aliases", "refs", "settings", "today")

    def __init__(self, today: date, aliases: Aliases, refs: Refs, settings: Settings):
        self.today, self.aliases, self.refs, self.settings = today, aliases, refs, settings

    def __getstate__(self):
        return (self.today, self.aliases, self.refs, self.settings)

    def __setstate__(self, state):
        self.today, self.aliases, self.refs, self.settings = state


@task(name="check-files", cache_policy=NO_CACHE)
def check_files(
    paths: list[Path], inputs: CheckInputs, staging: Path
) -> list["Staged | ParsedFile | OSError"]:
    """Read a batch of workbooks and check them together (in threads, worker processes or on a Dask cluster).

    Each checked file's rows go to Arrow IPC files in `staging` (a folder the workers can write, as
    they read the inbox) and what comes back is small: a Staged file (layout, problems), a refused
    file, or the OSError of a file that could not be read, tried again after 2 s and 10 s first
    (a network share that blinked).
    """
    read = [_read(path, inputs) for path in paths]
    checked = iter(
        check_files_read(
            [item for item in read if not isinstance(item, OSError)],
            today=inputs.today,
            aliases=inputs.aliases,
            refs=inputs.refs,
            settings=inputs.settings,
        )
    )
    return [item if isinstance(item, OSError) else _staged(next(checked), staging) for item in read]


def _staged(checked: ParsedFile, staging: Path) -> "Staged | ParsedFile":
    return Staged.of(checked, staging) if checked.status == PARSED else checked


def _read(path: Path, inputs: CheckInputs) -> "tuple[ParsedFile, list[SheetRead]] | OSError":
    for backoff in (*READ_RETRY_SECONDS, None):
        try:
            return read_file(path, aliases=inputs.aliases, settings=inputs.settings)
        except OSError as error:
            if backoff is None:
                return error
            time.sleep(backoff)
    raise AssertionError("unreachable")


@task(name="recheck-files", cache_policy=NO_CACHE)
def recheck_files(staged: list["Staged"], inputs: CheckInputs, staging: Path) -> list["Staged | ParsedFile"]:
    """Check staged workbooks again, together, against references loaded after they were checked (no
    re-reading); one that breaks the checks comes back refused."""
    checked = recheck(
        [item.restore() for item in staged],
        today=inputs.today,
        aliases=inputs.aliases,
        refs=inputs.refs,
        settings=inputs.settings,
    )
    return [_staged(parsed, staging) for parsed in checked]


@dataclass
class Staged:
    """A checked file waiting for its turn to load: its rows in Arrow IPC files, the rest in memory.

    A night holds every checked file until the references are settled and the files load in inbox
    order; in memory that is about 1 KB a row (2 GB for a year's 2M rows), and sent back from a
    worker it would be pickled through a pipe. Staged by the worker, only the layout and the problems
    travel and stay in memory; each file's rows are read back just before it loads.
    """

    light: ParsedFile  # raw and clean emptied (their columns kept); problems, layout and counts as checked
    folder: Path

    @classmethod
    def of(cls, parsed: ParsedFile, staging: Path) -> "Staged":
        """Write the rows of a parsed file to `staging` and keep the rest."""
        folder = Path(tempfile.mkdtemp(prefix="file-", dir=staging))
        for index, sheet in enumerate(parsed.sheets):
            sheet.raw.write_ipc(folder / f"{index}.raw.arrow", compression="uncompressed")
            sheet.clean.write_ipc(folder / f"{index}.clean.arrow", compression="uncompressed")
        light = [replace(s, raw=s.raw.clear(), clean=s.clean.clear()) for s in parsed.sheets]
        return cls(replace(parsed, sheets=light), folder)

    def restore(self) -> ParsedFile:
        """The parsed file with its rows again."""
        sheets = [
            replace(
                sheet,
                raw=_read_staged(self.folder / f"{index}.raw.arrow"),
                clean=_read_staged(self.folder / f"{index}.clean.arrow"),
            )
            for index, sheet in enumerate(self.light.sheets)
        ]
        return replace(self.light, sheets=sheets)


def _read_staged(path: Path) -> pl.DataFrame:
    """A staged frame read back with pyarrow: polars' read_ipc takes twice as long for these small files
    (a night's 400 of them took 0.4 s, in the one process that loads)."""
    with pa.OSFile(str(path), "rb") as source:
        frame = pl.from_arrow(ipc.open_file(source).read_all())
    assert isinstance(frame, pl.DataFrame)
    return frame

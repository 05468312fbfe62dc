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
from prefect import task
from prefect.cache_policies import NO_CACHE

from dealersync.parsed import ParsedFile
from dealersync.pipeline import process_file, recheck
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
def check_files(paths: list[Path], inputs: CheckInputs) -> list[ParsedFile | OSError]:
    """Read and check a batch of workbooks (in threads, worker processes or on a Dask cluster).

    A file whose reading fails with an I/O error (a network share that blinked) is read again after
    2 s, then 10 s; if it still fails its OSError comes back in its place and the batch goes on.
    The ParsedFiles come back as Arrow: polars pickles each frame as an Arrow IPC stream.
    """
    return [_checked(path, inputs) for path in paths]


def _checked(path: Path, inputs: CheckInputs) -> ParsedFile | OSError:
    for backoff in (*READ_RETRY_SECONDS, None):
        try:
            return process_file(
                path, today=inputs.today, aliases=inputs.aliases, refs=inputs.refs, settings=inputs.settings
            )
        except OSError as error:
            if backoff is None:
                return error
            time.sleep(backoff)
    raise AssertionError("unreachable")


@task(name="recheck-files", cache_policy=NO_CACHE)
def recheck_files(parsed_files: list[ParsedFile], inputs: CheckInputs) -> list[ParsedFile]:
    """Check parsed workbooks again against references loaded after they were checked (no re-reading)."""
    return [
        recheck(p, today=inputs.today, aliases=inputs.aliases, refs=inputs.refs, settings=inputs.settings)
        for p in parsed_files
    ]


@dataclass
class Staged:
    """A checked file waiting for its turn to load: its rows in Arrow IPC files, the rest in memory.

    A night holds every checked file until the references are settled and the files load in inbox
    order; in memory that is about 1 KB a row (2 GB for a year's 2M rows). Staged, it holds the
    layout and the problems only, and each file's rows come back just before it loads.
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
                raw=pl.read_ipc(self.folder / f"{index}.raw.arrow"),
                clean=pl.read_ipc(self.folder / f"{index}.clean.arrow"),
            )
            for index, sheet in enumerate(self.light.sheets)
        ]
        return replace(self.light, sheets=sheets)

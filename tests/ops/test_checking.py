"""How a night hands its files to the workers: balanced batches, I/O retried, references first."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import openpyxl
import pytest
from ops_helpers import TODAY, copy_inbox, warehouse_digest

from dealersync.flows import checking
from dealersync.flows.checking import CheckInputs, Staged, _read
from dealersync.flows.nightly import _batch_count, _batches, _names_reference_sheets
from dealersync.schemas.aliases import load_aliases
from dealersync.settings import Settings
from dealersync.transforms.validate import Refs


def test_batches_share_the_work_evenly_and_keep_every_file_once():
    sizes = {"a": 90, "b": 60, "c": 50, "d": 40, "e": 30, "f": 10}
    batches = _batches(list(sizes), 3, sizes.get)
    assert sorted(name for batch in batches for name in batch) == sorted(sizes)
    totals = sorted(sum(sizes[n] for n in batch) for batch in batches)
    assert totals == [90, 90, 100]  # largest first, each into the lightest batch
    assert _batches(["a"], 8, sizes.get) == [["a"]]  # never an empty batch
    assert _batches([], 8, sizes.get) == []


def test_a_night_has_one_batch_per_worker_and_more_only_to_keep_each_under_its_size():
    """Checked together, a batch's sheets cost little more than one of them: few, large batches."""
    megabyte = 2**20
    assert _batch_count(0, 16 * megabyte, 2) == 2
    assert _batch_count(30 * megabyte, 16 * megabyte, 2) == 2
    assert _batch_count(33 * megabyte, 16 * megabyte, 2) == 3  # no batch over 16 MB
    assert _batch_count(125 * megabyte, 16 * megabyte, 4) == 8


def test_a_file_that_blinks_is_read_again_and_one_that_stays_away_comes_back_as_its_error(monkeypatch):
    attempts = []

    def flaky(path, **_):
        attempts.append(path)
        if attempts.count(path) < 3:
            raise OSError("the network share is not there")
        return "parsed"

    monkeypatch.setattr(checking, "read_file", flaky)
    monkeypatch.setattr(checking.time, "sleep", lambda seconds: attempts.append(seconds))
    inputs = CheckInputs(TODAY, None, Refs(), Settings())
    assert _read(Path("D0001.xlsx"), inputs) == "parsed"
    assert attempts == [Path("D0001.xlsx"), 2, Path("D0001.xlsx"), 10, Path("D0001.xlsx")]

    def gone(path, **_):
        raise FileNotFoundError(path)

    monkeypatch.setattr(checking, "read_file", gone)
    assert isinstance(_read(Path("D0002.xlsx"), inputs), FileNotFoundError)


def test_what_comes_back_from_a_worker_is_small_and_the_rows_are_arrow_files(sample_inbox, tmp_path):
    import pyarrow as pa

    from dealersync.flows.checking import check_files

    aliases = load_aliases()
    inputs = CheckInputs(TODAY, aliases, Refs(), Settings())
    assert pickle.loads(pickle.dumps(inputs)).settings == inputs.settings
    dealer = next(p for p in sorted(sample_inbox.iterdir()) if p.name.startswith("D0002"))
    (staged,) = check_files.fn([dealer], inputs, tmp_path)
    sent_back, whole = pickle.dumps(staged), pickle.dumps(staged.restore())
    assert all(s.raw.is_empty() and s.clean.is_empty() for s in staged.light.sheets)
    assert len(sent_back) < len(whole) / 2  # layout and problems travel, not the rows
    for path in staged.folder.iterdir():  # the rows: Arrow IPC files any Arrow reader opens
        with pa.memory_map(str(path)) as source:
            assert pa.ipc.open_file(source).schema.names


def test_a_staged_file_keeps_its_problems_in_memory_and_gets_its_rows_back_to_load(sample_inbox, tmp_path):
    from dealersync.pipeline import process_file

    dealer = next(p for p in sorted(sample_inbox.iterdir()) if p.name.startswith("D0002"))
    parsed = process_file(dealer, today=TODAY, aliases=load_aliases(), refs=Refs(), settings=Settings())
    staged = Staged.of(parsed, tmp_path)
    assert all(s.raw.height == 0 and s.clean.height == 0 for s in staged.light.sheets)
    assert staged.light.problems.equals(parsed.problems)
    back = staged.restore()
    for original, restored in zip(parsed.sheets, back.sheets, strict=True):
        assert restored.raw.equals(original.raw) and restored.clean.equals(original.clean)
        assert restored.clean.schema == original.clean.schema  # decimals, dates, datetimes as they were
    assert (back.rows_read, back.rows_rejected, back.rows_warned) == (
        parsed.rows_read,
        parsed.rows_rejected,
        parsed.rows_warned,
    )


def test_sheet_names_tell_which_workbooks_hold_references(sample_inbox, tmp_path):
    aliases = load_aliases()
    found = {p.name for p in sample_inbox.iterdir() if _names_reference_sheets(p, aliases)}
    assert found == {"总部基础资料.xlsx"}
    (tmp_path / "text.xlsx").write_text("not a zip")
    assert not _names_reference_sheets(tmp_path / "text.xlsx", aliases)


@pytest.mark.slow
@pytest.mark.xdist_group("prefect")
def test_a_reference_workbook_with_unknown_sheet_names_still_loads_before_the_dealers(
    sample_inbox, tmp_path, monkeypatch, prefect_harness
):
    from dealersync.flows.nightly import nightly

    monkeypatch.setenv("DEALERSYNC_TASK_RUNNER", "thread")
    nights = {}
    for name, rename in (("named", False), ("unnamed", True)):
        folder = tmp_path / name
        inbox = copy_inbox(sample_inbox, folder / "inbox")
        reference = inbox / "总部基础资料.xlsx"
        if rename:  # recognised by its headers only, so it is found after the dealers were checked
            book = openpyxl.load_workbook(reference)
            for index, sheet in enumerate(book.worksheets, start=1):
                sheet.title = f"Sheet{index}"
            book.save(reference)
            shutil.copystat(sample_inbox / reference.name, reference)
            assert not _names_reference_sheets(reference, load_aliases())
        monkeypatch.setenv("DEALERSYNC_DATA_DIR", str(folder))
        nightly(inbox=inbox, warehouse=folder / "warehouse.duckdb", today=TODAY)
        nights[name] = warehouse_digest(folder / "warehouse.duckdb", extra_tables=())
    named, unnamed = nights["named"], nights["unnamed"]
    # The same dealer rows in core and quarantine: none was rejected as from an unknown dealer. (The
    # reference rows themselves differ only in their lineage: the sheet names and the file's hash.)
    references = ("core.dealers", "core.parts", "core.campaigns")
    compared = [t for t in named if t.startswith(("core.", "quarantine.")) and t not in references]
    assert {t: unnamed[t] for t in compared} == {t: named[t] for t in compared}
    assert [unnamed[t][0] for t in references] == [named[t][0] for t in references]


@pytest.mark.parametrize(
    ("megabytes", "pool"),
    [
        (0, False),  # nothing new: no pool to start
        (1, False),  # a small night: threads, no 5-10 s of worker start-up
        (6, True),  # a large one: the checks spread over processes
    ],
)
def test_auto_starts_a_process_pool_only_for_a_large_inbox(megabytes, pool, tmp_path):
    from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

    from dealersync.flows.nightly import SizedTaskRunner, task_runner_for

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    if megabytes:
        with (inbox / "D0001.xlsx").open("wb") as workbook:
            workbook.truncate(megabytes * 1024 * 1024)
    settings = Settings(inbox=inbox, task_runner="auto", process_pool_min_mb=5)
    runner = task_runner_for(settings)
    assert isinstance(runner, SizedTaskRunner)
    runner = pickle.loads(pickle.dumps(runner))  # a served flow's runs get it pickled
    with runner.duplicate() as started:
        assert isinstance(started._inner, ProcessPoolTaskRunner if pool else ThreadPoolTaskRunner)


def test_a_dealer_file_that_breaks_the_checks_against_late_references_is_refused_and_the_night_goes_on(
    sample_inbox, tmp_path, monkeypatch, prefect_harness
):
    """The reference workbook found by its headers loads after the dealers were checked; checked again,
    one dealer's file provokes an error in the checks: it is set aside with the reason, the others load."""
    from dealersync import pipeline
    from dealersync.flows.nightly import nightly
    from dealersync.warehouse.db import connect

    monkeypatch.setenv("DEALERSYNC_TASK_RUNNER", "thread")
    monkeypatch.setenv("DEALERSYNC_DATA_DIR", str(tmp_path))
    inbox = copy_inbox(sample_inbox, tmp_path / "inbox")
    reference = inbox / "总部基础资料.xlsx"
    book = openpyxl.load_workbook(reference)
    for index, sheet in enumerate(book.worksheets, start=1):
        sheet.title = f"Sheet{index}"
    book.save(reference)
    shutil.copystat(sample_inbox / reference.name, reference)
    breaking = sorted(p.name for p in inbox.iterdir() if p.name.startswith("D0002"))[0]
    check_sheets = pipeline.check_sheets

    def fragile(kind, sheets, *, refs, **options):
        checked_again = refs.dealers is not None  # the first checks ran before any reference was loaded
        of_d0002 = kind == "service_visits" and any(
            s.frame["dealer_code"].str.to_uppercase().str.contains("D0002").any() for s in sheets
        )
        if checked_again and of_d0002:
            raise ValueError("a bug the file provokes")
        return check_sheets(kind, sheets, refs=refs, **options)

    monkeypatch.setattr(pipeline, "check_sheets", fragile)
    result = nightly(inbox=inbox, warehouse=tmp_path / "warehouse.duckdb", today=TODAY)
    con = connect(tmp_path / "warehouse.duckdb", read_only=True)
    try:
        files = dict(con.execute("SELECT file_name, status FROM etl.files").fetchall())
        reason = con.execute("SELECT reason FROM etl.files WHERE file_name = ?", [breaking]).fetchall()[0][0]
    finally:
        con.close()
    assert files[breaking] == "refused"
    assert reason.startswith("the file could not be checked (ValueError: a bug the file provokes)")
    assert sorted(status for name, status in files.items() if name != breaking).count("loaded") == 4
    assert (tmp_path / "rejected" / TODAY.isoformat() / breaking).exists()
    assert result.exit_code == 1  # refused files, not a failed load

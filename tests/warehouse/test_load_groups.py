"""Dealer workbooks that cannot touch each other's rows load together, leaving what loading them one by one leaves."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dealersync.pipeline import holds_reference_data, process_files
from dealersync.samples import generate_inbox
from dealersync.schemas.aliases import load_aliases
from dealersync.settings import Settings
from dealersync.warehouse.db import open_warehouse
from dealersync.warehouse.load import _stacked, load_file, load_files, load_groups
from dealersync.warehouse.refs import read_refs
from dealersync.warehouse.runs import start_run

NIGHTS = (date(2026, 11, 19), date(2026, 11, 20))
# What differs between two loads of the same files: ids, instants and timings.
VOLATILE = {
    "entry_id",
    "loaded_at",
    "first_seen_at",
    "last_seen_at",
    "resolved_at",
    "processed_at",
    "seconds",
}


@pytest.fixture(scope="module")
def inboxes(tmp_path_factory) -> list[Path]:
    """Two nights of the same four dealers (the second corrects and adds to the first), with bad cells."""
    folders = []
    for seed, day in enumerate(NIGHTS):
        folder = tmp_path_factory.mktemp(f"night{seed}")
        generate_inbox(folder, today=day, dealers=4, visits_per_dealer=40, seed=seed + 7, bad_cell_rate=0.08)
        folders.append(folder)
    return folders


def load_nights(warehouse: Path, inboxes: list[Path], *, together: bool) -> list[int]:
    """Both nights loaded, reference workbooks first; the sizes of the groups loaded."""
    settings, aliases = Settings(_env_file=None), load_aliases()
    con = open_warehouse(warehouse)
    sizes = []
    for folder, day in zip(inboxes, NIGHTS, strict=True):
        run_id = start_run(con, as_of=day, inbox=None)
        paths = sorted(folder.glob("*.xlsx"))
        first = process_files(paths, today=day, aliases=aliases, refs=read_refs(con), settings=settings)
        references = [parsed for parsed in first if holds_reference_data(parsed)]
        for parsed in references:
            load_file(con, parsed, run_id=run_id, as_of=day)
        others = process_files(
            [p.path for p in first if p not in references],
            today=day,
            aliases=aliases,
            refs=read_refs(con),
            settings=settings,
        )
        if together:
            for group in load_groups(con, others, as_of=day):
                load_files(con, group, run_id=run_id, as_of=day)
                sizes.append(len(group))
        else:
            for parsed in others:
                load_file(con, parsed, run_id=run_id, as_of=day)
    con.close()
    return sizes


def contents(warehouse: Path) -> dict[str, list[tuple]]:
    """Every row of the raw, core and quarantine tables and of the file records, volatile columns left out."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = [
            f"{schema}.{table}"
            for schema, table in con.execute(
                "SELECT schema_name, table_name FROM duckdb_tables() "
                "WHERE schema_name IN ('raw', 'core', 'quarantine') ORDER BY 1, 2"
            ).fetchall()
        ] + ["etl.files", "etl.file_sheets"]
        found = {}
        for table in tables:
            columns = [
                f'"{name}"'
                for (name,) in con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? "
                    "ORDER BY column_index",
                    table.split("."),
                ).fetchall()
                if name not in VOLATILE
            ]
            found[table] = con.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY ALL").fetchall()
        return found
    finally:
        con.close()


def test_two_nights_loaded_in_groups_leave_the_warehouse_that_loading_file_by_file_leaves(inboxes, tmp_path):
    alone = tmp_path / "alone.duckdb"
    together = tmp_path / "together.duckdb"
    assert load_nights(alone, inboxes, together=False) == []
    sizes = load_nights(together, inboxes, together=True)
    assert sizes == [4, 1, 4, 1]  # the dealers' workbooks together, the parts warehouse's alone
    expected, found = contents(alone), contents(together)
    assert found.keys() == expected.keys()
    for table, rows in expected.items():
        assert found[table] == rows, table
    assert len(expected["quarantine.rejected_rows"]) > 10
    assert any(row for row in expected["quarantine.warnings"])
    assert len(expected["etl.files"]) == 12


def test_files_that_share_a_dealer_or_were_loaded_before_load_apart(inboxes, tmp_path):
    """A second file of the same dealer starts a new group; content loaded before is never grouped."""
    settings, aliases, day = Settings(_env_file=None), load_aliases(), NIGHTS[0]
    con = open_warehouse(tmp_path / "w.duckdb")
    paths = sorted(inboxes[0].glob("*.xlsx"))
    parsed = process_files(paths, today=day, aliases=aliases, refs=read_refs(con), settings=settings)
    dealers = [p for p in parsed if p.source == "dealer"]
    copy = inboxes[0] / "copy" / dealers[0].path.name
    copy.parent.mkdir(exist_ok=True)
    copy.write_bytes(dealers[0].path.read_bytes() + b"")
    again = process_files([copy], today=day, aliases=aliases, refs=read_refs(con), settings=settings)[0]
    groups = list(load_groups(con, [*dealers, again], as_of=day))
    assert [len(group) for group in groups] == [4, 1]
    two = sum(p.rows_read for p in dealers[:2])  # a group's rows are in memory together: a cap on them
    capped = [len(group) for group in load_groups(con, dealers, as_of=day, max_rows=two)]
    assert capped[0] == 2 and sum(capped) == 4 and len(capped) > 1
    load_files(con, dealers[:2], run_id=start_run(con, as_of=day, inbox=None), as_of=day)
    assert [len(group) for group in load_groups(con, dealers, as_of=day)] == [1, 1, 2]
    with pytest.raises(ValueError, match="one by one"):
        load_files(con, dealers, run_id=1, as_of=day)
    con.close()


def test_a_group_that_fails_is_loaded_file_by_file_and_only_the_file_that_breaks_fails(
    inboxes, tmp_path, monkeypatch
):
    """The night's fallback: the group's transaction leaves nothing, then each file loads alone."""
    import logging

    from dealersync.flows import nightly
    from dealersync.warehouse import load

    settings, aliases, day = Settings(_env_file=None, move_processed=False), load_aliases(), NIGHTS[0]
    con = open_warehouse(tmp_path / "w.duckdb")
    run_id = start_run(con, as_of=day, inbox=None)
    parsed = process_files(
        sorted(inboxes[0].glob("*.xlsx")), today=day, aliases=aliases, refs=read_refs(con), settings=settings
    )
    dealers = [p for p in parsed if p.source == "dealer"]
    breaking = dealers[2]
    load_sheet = load._FileLoader.load_sheet

    def fragile(self, unit, clean, raw):
        if unit.kind == "follow_up_calls" and any(p is breaking for p, _ in unit.sheets):
            raise duckdb.ConversionException("a value the load cannot take")
        return load_sheet(self, unit, clean, raw)

    monkeypatch.setattr(load._FileLoader, "load_sheet", fragile)
    outcomes = nightly._load_group(con, dealers, run_id, inboxes[0], day, settings, logging.getLogger("test"))
    assert [o.status for o in outcomes] == ["loaded", "loaded", "failed", "loaded"]
    assert "ConversionException" in outcomes[2].reason
    files = con.execute("SELECT file_name, status FROM etl.files ORDER BY processed_at").fetchall()
    assert files == [(p.file_name, "failed" if p is breaking else "loaded") for p in dealers]
    nothing_of_it = "SELECT count(*) FROM raw.customers WHERE file_sha256 = ?"
    assert con.execute(nothing_of_it, [breaking.sha256]).fetchone() == (0,)
    assert con.execute(nothing_of_it, [dealers[3].sha256]).fetchone()[0] > 0
    con.close()


def test_stacked_sheets_keep_each_row_with_its_own_file_when_a_sheet_between_has_no_rows():
    """A file whose sheet of a kind kept no row (every row rejected) sits between others in a group: the
    rows after it still carry their own file's lineage."""
    rows = [pl.DataFrame({"vin": vins}, schema={"vin": pl.Utf8}) for vins in (["A1", "A2"], [], ["C1"])]
    stacked = _stacked(rows, {"file_sha256": ["a", "b", "c"], "sheet": ["维修", "维修", "维修记录"]})
    assert stacked.rows() == [("A1", "a", "维修"), ("A2", "a", "维修"), ("C1", "c", "维修记录")]

"""Sample inboxes: read back exactly as the manifest says, valid but for the bad cells, deterministic."""

from __future__ import annotations

import re
from datetime import date

import polars as pl
import pytest

from dealersync.reader import FileRefused, read_workbook
from dealersync.samples import generate_inbox, vin_with_check_digit
from dealersync.schemas.contract import SHEETS
from dealersync.settings import Settings

TODAY = date(2024, 3, 15)


@pytest.fixture(scope="module")
def inbox(tmp_path_factory):
    """A small messy inbox with bad cells and a file to refuse."""
    return generate_inbox(
        tmp_path_factory.mktemp("inbox"),
        today=TODAY,
        dealers=3,
        visits_per_dealer=120,
        seed=11,
        bad_cell_rate=0.04,
        with_bad_file=True,
    )


@pytest.fixture(scope="module")
def checked(inbox):
    """The inbox through the pipeline's own reading and checks (reference codes from the inbox)."""
    validation = pytest.importorskip("dealersync.validation", reason="the checks are not in this tree yet")
    return validation.validate_files(inbox.files, settings=Settings(), today=TODAY, warehouse=None)


def test_inbox_reads_back_with_exactly_the_manifests_rows_headers_and_layout(inbox, aliases):
    for path in inbox.files:
        if path.name in inbox.refused_files:
            continue
        workbook = read_workbook(path, aliases)
        assert workbook.skipped_sheets == []
        written = {s.sheet: s for s in inbox.sheets if s.file == path.name}
        assert {s.sheet for s in workbook.sheets} == set(written)
        for sheet in workbook.sheets:
            expected = written[sheet.sheet]
            assert sheet.kind == expected.kind
            assert sheet.header_row == expected.header_row
            assert sheet.headers == expected.headers
            assert sheet.extra_headers == expected.extra_headers
            assert sheet.frame.height == expected.rows
            assert (sheet.blank_rows, sheet.total_rows) == (expected.blank_rows, expected.total_rows)
    assert inbox.rows == {
        s.file: {k.kind: k.rows for k in inbox.sheets if k.file == s.file} for s in inbox.sheets
    }


def test_bad_cells_are_where_the_manifest_says(inbox, aliases):
    frames = {
        (path.name, sheet.sheet): sheet.frame
        for path in inbox.files
        if path.name not in inbox.refused_files
        for sheet in read_workbook(path, aliases).sheets
    }
    assert inbox.bad_cells
    for bad in inbox.bad_cells:
        row = frames[(bad.file, bad.sheet)].filter(pl.col("excel_row") == bad.excel_row)
        assert row.height == 1, bad
        assert row[bad.field].item() == (bad.value or None), bad


def test_bad_file_is_refused(inbox, aliases):
    assert len(inbox.refused_files) == 1
    (name,) = inbox.refused_files
    assert inbox.directory / name in inbox.files
    with pytest.raises(FileRefused, match="not an Excel workbook"):
        read_workbook(inbox.directory / name, aliases)


def test_pipeline_rejects_exactly_the_bad_cells_and_warns_of_nothing(inbox, checked):
    problems = pl.concat(
        [f.problems.with_columns(file=pl.lit(f.file_name)) for f in checked.files if f.status == "parsed"]
    )
    found = set(
        problems.select("file", "sheet", "excel_row", "field", "column_name", "cell_value", "rule").rows()
    )
    expected = {
        (b.file, b.sheet, b.excel_row, b.field, b.column_name, b.value, b.rule) for b in inbox.bad_cells
    }
    assert {p[:5] + p[6:] for p in found} == {e[:5] + e[6:] for e in expected}
    assert problems.filter(pl.col("severity") == "warning").height == 0
    assert [f.file_name for f in checked.files if f.status != "parsed"] == list(inbox.refused_files)


def test_every_kind_of_bad_cell_is_one_rejection_of_its_row(tmp_path, aliases):
    manifest = generate_inbox(
        tmp_path, today=TODAY, dealers=2, visits_per_dealer=150, seed=5, bad_cell_rate=0.3
    )
    rows = {(b.file, b.sheet, b.excel_row) for b in manifest.bad_cells}
    assert len(rows) == len(manifest.bad_cells)  # never two bad cells in one row
    rules = {(s.kind, b.rule) for b in manifest.bad_cells for s in manifest.sheets if s.sheet == b.sheet}
    assert len(rules) >= 25  # the injectors of every dealer and warehouse sheet get used


def _stack(frames: dict[str, pl.DataFrame], kind: str, frame: pl.DataFrame) -> None:
    frames[kind] = pl.concat([frames[kind], frame]) if kind in frames else frame


def test_sheets_are_consistent_with_each_other(inbox, checked):
    clean: dict[str, pl.DataFrame] = {}  # rows loaded, typed
    read: dict[str, pl.DataFrame] = {}  # every row read, rejected ones included, codes normalised
    for parsed in checked.files:
        for sheet in parsed.sheets:
            _stack(clean, sheet.kind, sheet.clean)
            codes = pl.all().exclude("excel_row", "_extra").str.strip_chars().str.to_uppercase()
            _stack(read, sheet.kind, sheet.raw.select(codes))

    def codes(kind: str, *columns: str) -> set:
        return set(read[kind].select(columns).rows())

    visits, calls = clean["service_visits"], clean["follow_up_calls"]
    called = calls.drop_nulls("work_order_no").select("dealer_code", "work_order_no")
    assert set(called.rows()) <= codes("service_visits", "dealer_code", "work_order_no")  # real work orders
    assert set(calls["campaign_id"].drop_nulls()) <= set(clean["campaigns"]["campaign_id"])  # real campaigns
    called_back = calls.drop_nulls("complaint_id").select("dealer_code", "complaint_id")
    assert set(called_back.rows()) <= codes("complaints", "dealer_code", "complaint_id")  # real complaints
    batches = {(b,) for b in clean["part_failures"]["batch_no"].drop_nulls()}
    assert batches <= codes("part_batches", "batch_no")
    outcomes = calls["outcome"].value_counts(normalize=True)
    reached = outcomes.filter(pl.col("outcome") == "reached")["proportion"].item()
    assert 0.6 < reached < 0.95  # a realistic share of calls does not reach the customer
    first = calls.filter(pl.col("call_type") == "first_follow_up")
    assert len(set(first["work_order_no"])) < visits.height  # some visits have no call yet
    assert set(visits["visit_type"]) == {"maintenance", "repair", "warranty", "consultation"}
    still_in_shop = visits.filter(pl.col("pickup_date").is_null() & (pl.col("visit_type") != "consultation"))
    assert still_in_shop.height > 0
    assert visits["intake_date"].max() <= TODAY and calls["call_time"].max().date() <= TODAY
    assert visits["intake_date"].min() <= date(2024, 1, 15)  # spread over the weeks before today
    assert inbox.customers_without_file  # some visits come from customers without a customer file


def test_messy_inbox_varies_what_the_contract_tolerates(inbox, aliases):
    sheets = inbox.sheets
    assert any(s.header_row > 1 for s in sheets) and any(s.total_rows for s in sheets)
    assert any(s.blank_rows for s in sheets) and any(s.extra_headers for s in sheets)
    assert any(s.sheet != SHEETS[s.kind].zh for s in sheets)
    headers = [h for s in sheets for h in s.headers.values()]
    assert any("\n" in h for h in headers) and any(re.search(r"[Ａ-ｚ]", h) for h in headers)
    dealer_file = next(iter(inbox.dealer_files.values()))
    visits = next(s for s in read_workbook(dealer_file, aliases).sheets if s.kind == "service_visits")
    intake = visits.frame["intake_date"]
    forms = {
        "excel date": r"^\d{4}-\d\d-\d\d 00:00:00$",
        "serial": r"^\d{5}$",
        "iso": r"^\d{4}-\d\d-\d\d$",
        "slashes": r"^\d{4}/\d{1,2}/\d{1,2}$",
        "dots": r"^\d{4}\.\d{1,2}\.\d{1,2}$",
        "compact": r"^\d{8}$",
        "chinese": r"^\d{4}年\d{1,2}月\d{1,2}日$",
    }
    assert {name for name, form in forms.items() if intake.str.contains(form).any()} == set(forms)


def test_tidy_inbox_uses_the_contracts_own_names_and_layout(tmp_path, aliases):
    manifest = generate_inbox(tmp_path, today=TODAY, dealers=1, visits_per_dealer=30, messy=False)
    for sheet in manifest.sheets:
        assert sheet.sheet == SHEETS[sheet.kind].zh
        assert sheet.headers == {c.name: c.zh for c in SHEETS[sheet.kind].columns}
        assert (sheet.header_row, sheet.extra_headers, sheet.blank_rows, sheet.total_rows) == (1, [], 0, [])
    assert manifest.bad_cells == [] and manifest.refused_files == {}


def test_same_seed_writes_the_same_files(tmp_path):
    first = generate_inbox(
        tmp_path / "a", today=TODAY, dealers=2, visits_per_dealer=40, seed=3, bad_cell_rate=0.1
    )
    again = generate_inbox(
        tmp_path / "b", today=TODAY, dealers=2, visits_per_dealer=40, seed=3, bad_cell_rate=0.1
    )
    other = generate_inbox(
        tmp_path / "c", today=TODAY, dealers=2, visits_per_dealer=40, seed=4, bad_cell_rate=0.1
    )
    assert [p.read_bytes() for p in first.files] == [p.read_bytes() for p in again.files]
    assert first.bad_cells == again.bad_cells
    assert first.dealer_files["D0001"].read_bytes() != other.dealer_files["D0001"].read_bytes()


def test_inbox_without_warehouse(tmp_path):
    manifest = generate_inbox(tmp_path, today=TODAY, dealers=1, visits_per_dealer=20, with_warehouse=False)
    assert manifest.warehouse_file is None
    assert {s.kind for s in manifest.sheets} == {*SHEETS} - {
        "part_shipments",
        "part_failures",
        "part_batches",
    }
    assert manifest.files == [manifest.reference_file, manifest.dealer_files["D0001"]]


def test_vin_check_digit():
    assert vin_with_check_digit("1M8GDM9A", 2019, "P", 42788) == "1M8GDM9AXKP042788"  # the textbook example
    assert vin_with_check_digit("LJ1DS10A", 2023, "A", 123456) == "LJ1DS10A6PA123456"  # 226 mod 11 = 6

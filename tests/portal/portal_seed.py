"""The portal tests' literal warehouse: dealers, customers and visits, runs, quarantine, alerts and export files."""

from __future__ import annotations

import os
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

from dealersync.exports.due_list import due_list_folder, exported_due_lists
from dealersync.exports.quality_report import write_quality_report
from dealersync.settings import Settings
from dealersync.transforms.quality_summary import Period
from dealersync.warehouse.db import open_warehouse
from dealersync.warehouse.summaries import alert_levels, record_report, refresh_summaries

DAY = date(2026, 11, 20)  # the day the "night" stored
UNSTORED_DAY = date(2026, 11, 19)  # a past day never stored: the portal computes it on the spot
WEEK = Period.parse("2026-W47")
LINEAGE = "1, 'seed', 'test', 2, TIMESTAMPTZ '2026-11-20 02:00:00+00'"

ALL_TOKEN = "all-token-0123456789"
D1_TOKEN = "dealer-d1-token-0123456789"
NORTH_TOKEN = "region-north-token-0123456789"
TOKENS = {ALL_TOKEN: "all", D1_TOKEN: "dealer:D1", NORTH_TOKEN: "region:华北"}

# A customer name a spreadsheet would run as a formula, and phones that must never reach a URL.
FORMULA_NAME = '=HYPERLINK("http://evil.example","点我")'
PHONES = ("13800138000", "13900139000", "13700137000", "13600136000")
SHA_D1, SHA_D3, SHA_REFUSED = "a" * 64, "c" * 64, "f" * 64


def _seed_core(con) -> None:
    """Dealers D1, D2 (华北) and D3 (华东); their customers; visits picked up 11-10 (D1 also 11-15); one call."""
    con.execute(f"""
    INSERT INTO core.dealers (dealer_code, name, region, valid_from, run_id, file_sha256, sheet, excel_row, loaded_at)
    VALUES ('D1', '一号店', '华北', DATE '2020-01-01', {LINEAGE}),
           ('D2', '二号店', '华北', DATE '2020-01-01', {LINEAGE}),
           ('D3', '三号店', '华东', DATE '2020-01-01', {LINEAGE});
    INSERT INTO core.customers (dealer_code, customer_id, name, phone, address, valid_from,
                                run_id, file_sha256, sheet, excel_row, loaded_at)
    VALUES ('D1', 'C1', '{FORMULA_NAME.replace("'", "''")}', '{PHONES[0]}', '北京市朝阳区1号', DATE '2020-01-01', {LINEAGE}),
           ('D1', 'C4', '赵六', '{PHONES[3]}', '北京市海淀区4号', DATE '2020-01-01', {LINEAGE}),
           ('D2', 'C2', '李四', '{PHONES[1]}', '天津市2号', DATE '2020-01-01', {LINEAGE}),
           ('D3', 'C3', '王五', '{PHONES[2]}', '上海市3号', DATE '2020-01-01', {LINEAGE});
    INSERT INTO core.service_visits (dealer_code, work_order_no, customer_id, vin, intake_date, pickup_date,
                                     visit_type, under_warranty, has_customer_file,
                                     run_id, file_sha256, sheet, excel_row, loaded_at)
    VALUES ('D1', 'W1', 'C1', 'VIN1', DATE '2026-11-09', DATE '2026-11-10', 'warranty', true, true, {LINEAGE}),
           ('D1', 'W4', 'C4', 'VIN4', DATE '2026-11-14', DATE '2026-11-15', 'repair', false, true, {LINEAGE}),
           ('D2', 'W2', 'C2', 'VIN2', DATE '2026-11-09', DATE '2026-11-10', 'repair', false, true, {LINEAGE}),
           ('D3', 'W3', 'C3', 'VIN3', DATE '2026-11-09', DATE '2026-11-10', 'warranty', true, true, {LINEAGE}),
           ('D3', 'W5', 'C3', 'VIN3', DATE '2026-11-09', DATE '2026-11-10', 'repair', false, true, {LINEAGE});
    -- D3 reached its warranty customer in time: 华东 meets the return-visit target, 华北 (D1) does not
    INSERT INTO core.follow_up_calls (dealer_code, call_id, call_time, call_type, customer_id, work_order_no, staff,
                                      outcome, satisfaction, run_id, file_sha256, sheet, excel_row, loaded_at)
    VALUES ('D3', 'K1', TIMESTAMP '2026-11-14 10:00:00', 'first_follow_up', 'C3', 'W3', '小陈', 'reached',
            'satisfied', {LINEAGE});
    """)


def _seed_runs_and_quarantine(con) -> None:
    """One run with D1's file (a rejected cell), D3's file (a warning) and a refused file."""
    con.execute(f"""
    INSERT INTO etl.runs (run_id, started_at, finished_at, as_of, status, files_seen, files_loaded,
                          files_refused, files_skipped, files_failed, rows_read, rows_loaded, rows_warned, rows_rejected)
    VALUES (1, TIMESTAMPTZ '2026-11-20 02:00:00+00', TIMESTAMPTZ '2026-11-20 02:05:00+00', DATE '2026-11-20',
            'succeeded', 3, 2, 1, 0, 0, 8, 7, 1, 1);
    INSERT INTO etl.files (run_id, file_name, sha256, size_bytes, source, status, reason, rows_read, rows_loaded,
                           rows_warned, rows_rejected, seconds, processed_at)
    VALUES (1, 'D1_客服台账.xlsx', '{SHA_D1}', 1000, 'dealer', 'loaded', NULL, 4, 3, 0, 1, 0.5, TIMESTAMPTZ '2026-11-20 02:01:00+00'),
           (1, 'D3_台账.xlsx', '{SHA_D3}', 1000, 'dealer', 'loaded', NULL, 4, 4, 1, 0, 0.5, TIMESTAMPTZ '2026-11-20 02:02:00+00'),
           (1, 'mystery.xlsx', '{SHA_REFUSED}', 10, NULL, 'refused', 'not a spreadsheet', 0, 0, 0, 0, 0.1, TIMESTAMPTZ '2026-11-20 02:03:00+00');
    INSERT INTO etl.file_sheets (run_id, file_sha256, sheet, kind, header_row, rows_read, rows_loaded, rows_warned,
                                 rows_rejected, blank_rows, total_rows, title_rows)
    VALUES (1, '{SHA_D1}', '客户档案', 'customers', 3, 4, 3, 0, 1, 2, 1, 1);
    INSERT INTO raw.customers (run_id, file_sha256, sheet, excel_row, loaded_at, dealer_code, customer_id)
    VALUES (1, '{SHA_D1}', '客户档案', 4, TIMESTAMPTZ '2026-11-20 02:01:00+00', ' d1 ', 'C1'),
           (1, '{SHA_D3}', '客户档案', 4, TIMESTAMPTZ '2026-11-20 02:02:00+00', 'D3', 'C3');
    INSERT INTO quarantine.rejected_rows (run_id, file_sha256, file_name, sheet, kind, excel_row, column_name, field,
        cell_value, rule, message, message_zh, dealer_code, business_key, first_seen_at, last_seen_at)
    VALUES (1, '{SHA_D1}', 'D1_客服台账.xlsx', '客户档案', 'customers', 5, '联系电话', 'phone', '=1+1', 'not_a_phone',
            'phone =1+1 is not a phone number', '联系电话 =1+1 不是电话号码', 'D1', 'D1|C9',
            TIMESTAMPTZ '2026-11-20 02:01:00+00', TIMESTAMPTZ '2026-11-20 02:01:00+00');
    INSERT INTO quarantine.warnings (run_id, file_sha256, file_name, sheet, kind, excel_row, column_name, field,
        cell_value, rule, message, message_zh, dealer_code, business_key, first_seen_at, last_seen_at)
    VALUES (1, '{SHA_D3}', 'D3_台账.xlsx', '客户档案', 'customers', 4, '车架号', 'vin', 'VIN3', 'vin_check_digit',
            'vin VIN3 check digit', '车架号 VIN3 校验位不对', 'D3', 'D3|C3',
            TIMESTAMPTZ '2026-11-20 02:02:00+00', TIMESTAMPTZ '2026-11-20 02:02:00+00');
    """)


def _seed_alerts(con) -> None:
    """Two red batch alerts of week 47: one reported by D1 (华北), one by D3 (华东)."""
    con.execute("""
    INSERT INTO mart.failure_watch (week, test, component, part_no, batch_no, window_start, window_end, observed,
        expected, exposure_unit_months, ratio, p_value, q_value, level, tests_in_week, vins, dealers, refreshed_at)
    VALUES ('2026-W47', 'batch_share', 'motor', 'P-MOTOR', 'B-NORTH', DATE '2026-09-28', DATE '2026-11-22', 6, 1.0,
            NULL, 6.0, 0.0006, 0.001, 'red', 4, ['VINNORTH1', 'VINNORTH2'], ['D1', 'D2'], now()),
           ('2026-W47', 'batch_share', 'frame', 'P-FRAME', 'B-EAST', DATE '2026-09-28', DATE '2026-11-22', 5, 1.0,
            NULL, 5.0, 0.0004, 0.001, 'red', 4, ['VINEAST1'], ['D3'], now());
    """)


def _write_exports(exports: Path, con) -> None:
    """The night's due-list files of DAY, the week's report, steward copies, and files that must stay hidden."""
    exported_due_lists(con, DAY, due_list_folder(exports, DAY), 7)
    report = exports / "quality" / "quality_2026-W47.xlsx"
    write_quality_report(con, WEEK, report)
    record_report(con, WEEK, report)
    for owner, stem in (("D1", "D1_客服台账"), ("D3", "D3_台账")):
        folder = exports / "steward" / DAY.isoformat() / owner
        folder.mkdir(parents=True)
        (folder / f"{stem}.annotated.xlsx").write_bytes(b"annotated " + owner.encode())
        (folder / f"{stem}.problems.csv").write_text("sheet,row\n", encoding="utf-8")
    (exports / ".hidden.csv").write_text("hidden\n", encoding="utf-8")
    (exports / "notes.txt").write_text("not a download\n", encoding="utf-8")


def seeded_warehouse(root: Path) -> tuple[Path, Path]:
    """(warehouse, exports) under `root`: the literal rows, the marts computed by the real code, the files."""
    warehouse, exports = root / "warehouse.duckdb", root / "exports"
    con = open_warehouse(warehouse)
    try:
        _seed_core(con)
        _seed_runs_and_quarantine(con)
        refresh_summaries(con, [WEEK], alert_levels(Settings()))
        _seed_alerts(con)
        _write_exports(exports, con)
    finally:
        con.close()
    secret = root / "secret.csv"
    secret.write_text("customer,phone\n", encoding="utf-8")
    os.symlink(secret, exports / "due_lists" / DAY.isoformat() / "dealer_D9.csv")
    os.symlink(secret, exports / "steward" / DAY.isoformat() / "D1" / "escape.csv")
    return warehouse, exports


def portal_settings(warehouse: Path, exports: Path, tokens: dict | None = None, **extra) -> Settings:
    """Settings of a portal over these paths (no token asked when `tokens` is None)."""
    return Settings(
        data_dir=warehouse.parent,
        warehouse=warehouse,
        exports=exports,
        portal_tokens=tokens or {},
        portal_wait_seconds=extra.pop("portal_wait_seconds", 0.2),
        **extra,
    )


class _Tables(HTMLParser):
    """The cell texts of every <table id=...> of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._table = dict(attrs).get("id")
            if self._table:
                self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def html_table(page: str, table_id: str) -> list[list[str]]:
    """Rows (header first) of the table with this id, each cell's text with spaces collapsed."""
    parser = _Tables()
    parser.feed(page)
    return parser.tables[table_id]


def links(page: str) -> list[str]:
    """Every href and form action of a page."""
    return re.findall(r'(?:href|action)="([^"]*)"', page)

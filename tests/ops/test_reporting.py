"""Run reports: what reaches Prefect says which files and rules, never what a customer wrote."""

from __future__ import annotations

import pytest

from dealersync.flows.nightly import FileOutcome
from dealersync.flows.reporting import MASK, files_table, quarantine_summary, redact
from dealersync.warehouse.db import connect


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("phone 13800138000 refused", f"phone {MASK} refused"),  # a mobile
        ("call +86 138-0013-8000 back", f"call {MASK} back"),  # with country code and dashes
        ("landline 010 6552 9988", f"landline {MASK}"),  # grouped by spaces
        ("出厂日期 2024-02-30 is not a date", "出厂日期 2024-02-30 is not a date"),  # dates stay
        (
            "sheet 'calls' row 1234 has 42 columns",
            "sheet 'calls' row 1234 has 42 columns",
        ),  # short numbers stay
        (None, None),
    ],
)
def test_phone_like_digits_are_masked_and_the_rest_kept(text, shown):
    assert redact(text) == shown


def test_the_files_table_has_the_counts_and_a_masked_note():
    outcome = FileOutcome(
        "D0001.xlsx",
        "abc",
        "failed",
        source="dealer",
        reason="load failed near '13912345678'",
        rows_read=10,
        rows_loaded=0,
        rows_warned=1,
        rows_rejected=2,
        seconds=1.26,
    )
    assert files_table([outcome]) == [
        {
            "file": "D0001.xlsx",
            "kind": "dealer",
            "status": "failed",
            "read": 10,
            "loaded": 0,
            "warned": 1,
            "rejected": 2,
            "seconds": 1.3,
            "note": f"load failed near '{MASK}'",
        }
    ]


def test_the_quarantine_summary_counts_rules_without_a_cell_in_it(loaded_warehouse):
    con = connect(loaded_warehouse, read_only=True)
    summary, resolved = quarantine_summary(con, 1)
    cells = {
        value
        for (value,) in con.execute(
            "SELECT DISTINCT cell_value FROM quarantine.entries WHERE cell_value IS NOT NULL"
        ).fetchall()
    }
    opened = con.execute("SELECT count(*) FROM quarantine.entries WHERE run_id = 1").fetchall()[0][0]
    con.close()
    assert summary, "the sample data has bad cells"
    assert sum(row["open entries"] for row in summary) == opened
    assert resolved == 0
    shown = {str(v) for row in summary for v in row.values()}
    assert not shown & cells
    assert set(summary[0]) == {"severity", "kind", "rule", "open entries", "files"}

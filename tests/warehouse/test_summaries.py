"""The quality marts refreshed from files loaded by the loader (warehouse/summaries.py)."""

from __future__ import annotations

from datetime import date

from parsed_builders import load_on, parsed_file, parsed_sheet, rejection

from dealersync.settings import Settings
from dealersync.transforms.quality_summary import Period
from dealersync.warehouse.load import load_file
from dealersync.warehouse.runs import start_run
from dealersync.warehouse.summaries import alert_levels, refresh_summaries

W47, W48 = Period.parse("2026-W47"), Period.parse("2026-W48")
LEVELS = alert_levels(Settings(_env_file=None))


def d1_dealer(region: str):
    """Head office's dealer list: D1 in `region`."""
    return parsed_sheet("dealers", [{"dealer_code": "D1", "name": "D1", "region": region}])


def d1_letters(*letter_ids: str):
    """A letter log of D1 whose last row has a date that is not one: read, then rejected."""
    rows = [
        {"dealer_code": "D1", "letter_id": i, "customer_id": "C1", "sent_date": date(2026, 11, 2)}
        | {"letter_type": "notice"}
        for i in (*letter_ids, "L9")
    ]
    rows[-1]["sent_date"] = "not a date"
    problem = rejection(len(rows) + 1, "sent_date", "not_a_date")
    return parsed_sheet("letters", rows[:-1], rejected=rows[-1:], problems=[problem])


def data_quality(con, period: Period) -> dict[str, tuple]:
    rows = con.execute(
        "SELECT figure, numerator, denominator FROM mart.quality_kpi WHERE period = ? AND scope = 'D1' "
        "AND figure IN ('rows_received', 'rows_rejected', 'rejection_rate')",
        [period.label],
    ).fetchall()
    return {figure: (numerator, denominator) for figure, numerator, denominator in rows}


def test_a_row_rejected_again_in_a_later_week_still_counts_for_the_first(con):
    """The same bad row, read in week 47 and again (in a changed file) in week 48, was rejected in both.

    Its quarantine entry moves to the run that saw it last; week 47, refreshed again in week 48 as the
    week before, keeps its rejected row (it showed 0 rejected of 2 received).
    """
    load_on(con, date(2026, 11, 16), d1_dealer("East"))
    load_on(con, date(2026, 11, 18), d1_letters("L1"))
    refresh_summaries(con, [W47], LEVELS)
    assert data_quality(con, W47)["rows_rejected"] == (1, None)

    load_on(con, date(2026, 11, 25), d1_letters("L1", "L2"))
    refresh_summaries(con, [W47, W48], LEVELS)
    assert data_quality(con, W47) == {
        "rows_received": (2, None),
        "rows_rejected": (1, None),
        "rejection_rate": (1, 2),
    }
    assert data_quality(con, W48) == {
        "rows_received": (3, None),
        "rows_rejected": (1, None),
        "rejection_rate": (1, 3),
    }


def test_a_file_loaded_again_counts_for_its_dealer_as_for_the_company(con):
    """run --force on a dealer's file: its rows, read again, counted for the company but for no dealer.

    Raw rows are stored once per content, under the run that first loaded it; the dealer a sheet counts
    for is found from them whatever run reads the content again.
    """
    load_on(con, date(2026, 11, 16), d1_dealer("East"))
    letters = parsed_file(d1_letters("L1"), name="letters.xlsx")
    for day in (date(2026, 11, 23), date(2026, 11, 24)):  # the second time: run --force
        load_file(con, letters, run_id=start_run(con, as_of=day, inbox=None), as_of=day)
    refresh_summaries(con, [W48], LEVELS)
    assert data_quality(con, W48) == {
        "rows_received": (4, None),
        "rows_rejected": (2, None),
        "rejection_rate": (2, 4),
    }
    company = con.execute(
        "SELECT numerator FROM mart.quality_kpi WHERE period = '2026-W48' AND scope_type = 'company' "
        "AND figure = 'rows_received'"
    ).fetchone()
    assert company == (4,)


def test_a_period_keeps_the_rows_and_regions_of_its_last_refresh_as_the_comments_say(con):
    """D1 moves from East to West after week 47 was computed: week 47 still counts it in East.

    An analyst reading the marts from their comments alone must learn that a period's figures are those
    of its last refresh (refreshed_at), not of core as it stands now: the night recomputes only its
    week, month and year and the ones before; older periods wait for a backfill.
    """
    load_on(con, date(2026, 11, 16), d1_dealer("East"))
    load_on(con, date(2026, 11, 18), d1_letters("L1"))
    refresh_summaries(con, [W47], LEVELS)
    load_on(con, date(2026, 11, 25), d1_dealer("West"))
    refresh_summaries(con, [W48], LEVELS)

    regions = dict(
        con.execute(
            "SELECT period, region FROM mart.quality_kpi WHERE scope_type = 'dealer' AND scope = 'D1' "
            "AND figure = 'rows_received'"
        ).fetchall()
    )
    assert regions == {"2026-W47": "East", "2026-W48": "West"}
    comments = dict(
        con.execute(
            "SELECT table_name || '.' || column_name, comment FROM duckdb_columns() WHERE schema_name = 'mart' "
            "AND table_name IN ('quality_kpi', 'dissatisfied_calls', 'data_quality_rules') "
            "AND column_name IN ('scope_type', 'region', 'refreshed_at')"
        ).fetchall()
    )
    for column, comment in comments.items():
        assert "last computed" in comment, column
        if not column.endswith("refreshed_at"):
            assert "core.dealers_current as it stood" in comment, column
    for column in (
        "quality_kpi.refreshed_at",
        "dissatisfied_calls.refreshed_at",
        "data_quality_rules.refreshed_at",
    ):
        assert "dealersync backfill" in comments[column], column
    (table,) = con.execute("SELECT comment FROM duckdb_tables() WHERE table_name = 'quality_kpi'").fetchall()[
        0
    ]
    assert "backfill" in table

"""Reference lists for the checks, read back from the warehouse."""

from __future__ import annotations

from datetime import date

from parsed_builders import parsed_file, parsed_sheet

from dealersync.warehouse.load import load_file
from dealersync.warehouse.refs import read_refs


def test_an_empty_warehouse_skips_the_reference_checks(con):
    refs = read_refs(con)
    assert (refs.dealers, refs.parts, refs.campaigns) == (None, None, None)


def test_the_current_dealers_parts_and_campaigns(con):
    def reference(region: str):
        dealers = parsed_sheet("dealers", [{"dealer_code": "D001", "name": "One", "region": region}])
        parts = parsed_sheet("parts", [{"part_no": "P1", "name": "Motor", "component": "motor"}])
        campaigns = parsed_sheet(
            "campaigns", [{"campaign_id": "A1", "name": "Spring", "start_date": date(2024, 4, 1)}]
        )
        return parsed_file(dealers, parts, campaigns, name="reference.xlsx")

    load_file(con, reference("East"), run_id=1, as_of=date(2024, 3, 1))
    load_file(con, reference("West"), run_id=2, as_of=date(2024, 3, 2))  # the dealer moved region
    refs = read_refs(con)
    assert refs.dealers.rows() == [("D001", "West")]
    assert refs.parts.rows() == [("P1", "motor")]
    assert refs.campaigns.rows() == [("A1",)]

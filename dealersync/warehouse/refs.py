"""The reference lists the checks need, read from the warehouse: current dealers, parts and campaigns."""

from __future__ import annotations

import duckdb

from dealersync.transforms.validate import Refs


def read_refs(con: duckdb.DuckDBPyConnection) -> Refs:
    """Known dealers (dealer_code, region), parts (part_no, component) and campaigns (campaign_id).

    A list the warehouse does not hold yet is None, so its check is skipped rather than rejecting
    every row (e.g. the first night, before any reference workbook was loaded).
    """
    dealers = con.sql("SELECT dealer_code, region FROM core.dealers_current ORDER BY dealer_code").pl()
    parts = con.sql("SELECT part_no, component FROM core.parts ORDER BY part_no").pl()
    campaigns = con.sql("SELECT campaign_id FROM core.campaigns ORDER BY campaign_id").pl()
    return Refs(
        dealers=dealers if dealers.height else None,
        parts=parts if parts.height else None,
        campaigns=campaigns if campaigns.height else None,
    )

"""dealersync: the after-sales data pipeline (dealer and warehouse workbooks into a DuckDB warehouse)."""

-- The last day on which a work order can still have an item open (issue 3, speed). A day's list reads
-- the work orders with open_through on or after that day; the refresh keeps the table in that column's
-- order, so DuckDB skips, by their min/max, the blocks of rows long closed instead of reading every
-- work order ever serviced. Derived from the other columns by transforms/due_list.py (OPEN_THROUGH).

ALTER TABLE mart.due_work_orders ADD COLUMN open_through DATE;
COMMENT ON COLUMN mart.due_work_orders.open_through IS 'Last day on which an item of the work order can be open: the day before the latest of its closing days (first follow-up, second follow-up once the first reached the customer, maintenance reminder or the next dated visit of the vehicle), 9999-12-31 while one of them is not closed. No item of the work order is listed on a later day. The refresh writes the table in this column''s order (see mart.due_work_orders_refresh.work_orders_unsorted)';

-- The attempts at each work order's calls, so that a day's list counts them from the state instead of reading
-- every call ever logged; and the calls they came from, so that a call corrected away is seen.
ALTER TABLE mart.due_work_orders ADD COLUMN first_attempt_times TIMESTAMP[];
ALTER TABLE mart.due_work_orders ADD COLUMN second_attempt_times TIMESTAMP[];
ALTER TABLE mart.due_work_orders ADD COLUMN maintenance_attempt_times TIMESTAMP[];
COMMENT ON COLUMN mart.due_work_orders.first_attempt_times IS 'call_time of every first follow-up call for the work order that did not reach the customer nor was refused (no answer, wrong number), in order: a day''s list counts those up to that day. NULL = none';
COMMENT ON COLUMN mart.due_work_orders.second_attempt_times IS 'The same for the second follow-up calls';
COMMENT ON COLUMN mart.due_work_orders.maintenance_attempt_times IS 'The same for the maintenance-reminder calls naming the work order (those without one are counted on the day, by customer)';

CREATE TABLE mart.due_work_order_sources (
    source_key    UBIGINT NOT NULL,
    dealer_code   VARCHAR NOT NULL,
    work_order_no VARCHAR NOT NULL
);
COMMENT ON TABLE mart.due_work_order_sources IS 'The calls counted as attempts in mart.due_work_orders (*_attempt_times), with the work order they named then: a call corrected to another work order, or to reached, makes the one it left be recomputed. Derived, not a source.';
COMMENT ON COLUMN mart.due_work_order_sources.source_key IS 'hash(dealer_code, call_id) of the call (DuckDB''s hash; see mart.due_work_orders_refresh.duckdb_version)';
COMMENT ON COLUMN mart.due_work_order_sources.dealer_code IS 'Dealer code of the call';
COMMENT ON COLUMN mart.due_work_order_sources.work_order_no IS 'Work order the call named at the refresh';

ALTER TABLE mart.due_work_orders_refresh ADD COLUMN work_orders_unsorted BIGINT;
COMMENT ON COLUMN mart.due_work_orders_refresh.work_orders_unsorted IS 'Rows of mart.due_work_orders appended since the table was last written whole in open_through order; past a fifth of the table, the refresh writes it whole again';

-- The rows have no open_through nor attempts yet: rebuild the whole state at the next due list (a day's list recomputes
-- everything from core until then).
DELETE FROM mart.due_work_orders_refresh;

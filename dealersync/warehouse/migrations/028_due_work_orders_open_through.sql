-- The last day on which a work order can still have an item open (issue 3, speed). A day's list reads
-- the work orders with open_through on or after that day; the refresh keeps the table in that column's
-- order, so DuckDB skips, by their min/max, the blocks of rows long closed instead of reading every
-- work order ever serviced. Derived from the other columns by transforms/due_list.py (OPEN_THROUGH).

ALTER TABLE mart.due_work_orders ADD COLUMN open_through DATE;
COMMENT ON COLUMN mart.due_work_orders.open_through IS 'Last day on which an item of the work order can be open: the day before the latest of its closing days (first follow-up, second follow-up once the first reached the customer, maintenance reminder or the next dated visit of the vehicle), 9999-12-31 while one of them is not closed. No item of the work order is listed on a later day. The refresh writes the table in this column''s order (see mart.due_work_orders_refresh.work_orders_unsorted)';

ALTER TABLE mart.due_work_orders_refresh ADD COLUMN work_orders_unsorted BIGINT;
COMMENT ON COLUMN mart.due_work_orders_refresh.work_orders_unsorted IS 'Rows of mart.due_work_orders appended since the table was last written whole in open_through order; past a fifth of the table, the refresh writes it whole again';

-- The rows have no open_through yet: rebuild the whole state at the next due list (a day's list recomputes
-- everything from core until then).
DELETE FROM mart.due_work_orders_refresh;

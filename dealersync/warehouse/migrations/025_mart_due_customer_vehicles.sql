-- 1. core.vehicles.first_seen: the day the warehouse first heard of a vehicle. A day's list recomputed later
--    leaves out a vehicle no file had named by then (vehicles have no versions; customers do).
-- 2. The vehicle each customer's campaign call shows, kept beside the work orders' follow-up state, so that
-- a day's due list does not group every vehicle by customer and campaign again (issue 3, speed). Derived
-- from core.vehicles by transforms/due_list.py (customer_vehicles_state_sql); refreshed with
-- mart.due_work_orders, under the same marks (mart.due_work_orders_refresh). The day's query recomputes,
-- on the spot, the customers with a vehicle written since the marks, and those whose stored vehicle was
-- bought or first heard of after the day asked, so a stale state costs time, never a wrong list.

ALTER TABLE core.vehicles ADD COLUMN first_seen DATE;
COMMENT ON COLUMN core.vehicles.first_seen IS 'Day of the earliest file whose row naming the vehicle loaded (the run''s as_of; a row rejected that day does not count; a late file for an earlier day moves it back): a due list of an earlier day leaves the vehicle out, as its night did. NULL: not known (rows written without a run)';

-- Vehicles loaded before: the day of the earliest run whose raw rows loaded (no rejected entry for the
-- row: a row rejected one day and sent corrected later made the vehicle known only then) and name the
-- vehicle, codes folded as the reader folds them (full-width forms, invisible characters, surrounding
-- spaces of every kind: a VIN pasted with a no-break space, case); else the day of the run that last
-- changed it.
CREATE OR REPLACE TEMP MACRO folded_code(cell) AS upper(regexp_replace(regexp_replace(
    translate(cell, '０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ－＿　', '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_ '),
    '[\x{00ad}\x{200b}-\x{200f}\x{2060}-\x{2064}\x{feff}]', '', 'g'),
    '^[\s\x{0b}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]+|[\s\x{0b}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]+$',
    '', 'g'));

UPDATE core.vehicles AS v SET first_seen = k.first_seen
FROM (
    SELECT ve.dealer_code, ve.vin, coalesce(seen.first_seen, run.as_of) AS first_seen
    FROM core.vehicles AS ve
    LEFT JOIN (
        SELECT folded_code(r.dealer_code) AS dealer_code, folded_code(r.vin) AS vin, min(run.as_of) AS first_seen
        FROM raw.customers AS r
        JOIN etl.runs AS run ON run.run_id = r.run_id
        ANTI JOIN quarantine.rejected_rows AS q
            ON q.file_sha256 = r.file_sha256 AND q.sheet = r.sheet AND q.excel_row = r.excel_row
        GROUP BY ALL
    ) AS seen ON seen.dealer_code = ve.dealer_code AND seen.vin = ve.vin
    LEFT JOIN etl.runs AS run ON run.run_id = ve.run_id
) AS k
WHERE k.dealer_code = v.dealer_code AND k.vin = v.vin AND k.first_seen IS NOT NULL;

DROP MACRO folded_code;

CREATE TABLE mart.due_customer_vehicles (
    dealer_code    VARCHAR NOT NULL,
    customer_id    VARCHAR NOT NULL,
    model_key      VARCHAR NOT NULL,
    vin            VARCHAR NOT NULL,
    plate_no       VARCHAR,
    model          VARCHAR NOT NULL,
    available_from DATE
);
COMMENT ON TABLE mart.due_customer_vehicles IS 'The vehicle a campaign call about a customer shows: per customer, one row for a campaign open to every model (model_key empty) and one per model the customer has (model_key), each giving the vehicle with the smallest VIN among the customer''s vehicles of that kind; key (dealer_code, customer_id, model_key). Derived, not a source: refreshed from core.vehicles with mart.due_work_orders (mart.due_work_orders_refresh).';
COMMENT ON COLUMN mart.due_customer_vehicles.dealer_code IS 'Dealer code (core.vehicles.dealer_code)';
COMMENT ON COLUMN mart.due_customer_vehicles.customer_id IS 'Customer the vehicles belong to (core.vehicles.customer_id)';
COMMENT ON COLUMN mart.due_customer_vehicles.model_key IS 'The model as a campaign names it (trimmed, upper case): the row is for campaigns for that model; empty: for campaigns open to every model';
COMMENT ON COLUMN mart.due_customer_vehicles.vin IS 'The smallest VIN among the customer''s vehicles of that model (any model when model_key is empty)';
COMMENT ON COLUMN mart.due_customer_vehicles.plate_no IS 'Licence plate of that vehicle (core.vehicles.plate_no)';
COMMENT ON COLUMN mart.due_customer_vehicles.model IS 'Model of that vehicle as written (core.vehicles.model)';
COMMENT ON COLUMN mart.due_customer_vehicles.available_from IS 'The later of that vehicle''s purchase date and first_seen (core.vehicles; NULL: neither known): a day''s list before it recomputes the customer from core.vehicles, as the vehicle was not the customer''s yet, or not known';

COMMENT ON TABLE mart.due_work_orders_refresh IS 'The last refresh of mart.due_work_orders and mart.due_customer_vehicles (at most one row): what it had seen. Rows of core.service_visits, core.follow_up_calls and core.vehicles written later carry a newer loaded_at or run_id (the loader stamps every row whose values it changes; a late file that only moves a vehicle''s first_seen back does not, and the day''s query then recomputes that customer for the days before the stored available_from), and the work orders and customers they concern are recomputed; a table holding more rows than it had plus those, or fewer, was written by hand, and both states are rebuilt.';
COMMENT ON COLUMN mart.due_work_orders_refresh.rebuilt IS 'The refresh recomputed every work order and every customer''s vehicles (first refresh, another DuckDB version, or rows written without fresh lineage)';

-- The new state is empty: rebuild both at the next due list.
DELETE FROM mart.due_work_orders_refresh;

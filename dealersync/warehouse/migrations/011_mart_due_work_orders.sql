-- The follow-up state of every work order, so that a day's due list reads the few work orders that can
-- still be open instead of joining every visit with every call (issue 3, speed). Derived from
-- core.service_visits, core.follow_up_calls and core.vehicles by transforms/due_list.py
-- (work_order_state_sql); warehouse/due_lists.py refreshes it before a day's list is stored,
-- recomputing only the work orders concerned by rows written since the last refresh (lineage loaded_at /
-- run_id newer than the marks below). The day's query also recomputes, on the spot, whatever is newer
-- than the marks, so a stale state costs time, never a wrong list.

CREATE TABLE mart.due_work_orders (
    dealer_code            VARCHAR NOT NULL,
    work_order_no          VARCHAR NOT NULL,
    customer_id            VARCHAR NOT NULL,
    vin                    VARCHAR NOT NULL,
    intake_date            DATE NOT NULL,
    pickup_date            DATE,
    visit_type             VARCHAR NOT NULL,
    next_maintenance_date  DATE,
    under_warranty         BOOLEAN,
    service_items          VARCHAR,
    mileage_km             BIGINT,
    plate_no               VARCHAR,
    model                  VARCHAR,
    first_closed_on        DATE,
    first_reached_on       DATE,
    first_satisfaction     VARCHAR,
    first_customer_request VARCHAR,
    second_closed_on       DATE,
    first_closed_by        UBIGINT,
    first_reached_by       UBIGINT,
    second_closed_by       UBIGINT,
    maintenance_closed_on  DATE,
    maintenance_closed_by  UBIGINT,
    superseded_on          DATE,
    superseded_by          UBIGINT
);
COMMENT ON TABLE mart.due_work_orders IS 'Follow-up state of each work order (one row per core.service_visits row; key (dealer_code, work_order_no)): the visit''s dates and, for each kind of call that closes one of its items, the day of the earliest such call ever logged. An item is closed on a day D exactly when that earliest day is <= D, so one row answers for every day, and a day''s due list reads only the rows with an item still open. Derived, not a source: refreshed from core before a day''s due list is stored (mart.due_work_orders_refresh); the *_by columns say which call or visit gave a fact, so that a change to it makes the row be recomputed.';
COMMENT ON COLUMN mart.due_work_orders.dealer_code IS 'Dealer code (core.service_visits.dealer_code)';
COMMENT ON COLUMN mart.due_work_orders.work_order_no IS 'Work order number, unique within the dealer (core.service_visits.work_order_no)';
COMMENT ON COLUMN mart.due_work_orders.customer_id IS 'Customer of the visit (core.service_visits.customer_id)';
COMMENT ON COLUMN mart.due_work_orders.vin IS 'Vehicle of the visit (core.service_visits.vin)';
COMMENT ON COLUMN mart.due_work_orders.intake_date IS 'Day the vehicle came in (core.service_visits.intake_date)';
COMMENT ON COLUMN mart.due_work_orders.pickup_date IS 'Day the vehicle left the shop, NULL while still in (core.service_visits.pickup_date)';
COMMENT ON COLUMN mart.due_work_orders.visit_type IS 'maintenance, repair, warranty, consultation (core.service_visits.visit_type)';
COMMENT ON COLUMN mart.due_work_orders.next_maintenance_date IS 'Next maintenance, written or derived (core.service_visits.next_maintenance_date)';
COMMENT ON COLUMN mart.due_work_orders.under_warranty IS 'Visit in the warranty period (core.service_visits.under_warranty; the loader fills it in when the vehicle arrives, so a changed vehicle makes its visits be recomputed)';
COMMENT ON COLUMN mart.due_work_orders.service_items IS 'Work done (core.service_visits.service_items), for the talking points';
COMMENT ON COLUMN mart.due_work_orders.mileage_km IS 'Odometer in km (core.service_visits.mileage_km), for the talking points';
COMMENT ON COLUMN mart.due_work_orders.plate_no IS 'Licence plate of the visit''s vehicle (core.vehicles.plate_no), NULL while the vehicle is unknown';
COMMENT ON COLUMN mart.due_work_orders.model IS 'Model of the visit''s vehicle (core.vehicles.model)';
COMMENT ON COLUMN mart.due_work_orders.first_closed_on IS 'Day of the earliest first follow-up call for the work order that reached the customer or that the customer refused; NULL = none logged. The first follow-up is closed from that day on';
COMMENT ON COLUMN mart.due_work_orders.first_reached_on IS 'Day of the earliest first follow-up call for the work order that reached the customer (a refusal starts nothing); the second follow-up is due 7 days after it';
COMMENT ON COLUMN mart.due_work_orders.first_satisfaction IS 'Satisfaction answered on that call (earliest call_time, then smallest call_id), for the talking points of the second follow-up';
COMMENT ON COLUMN mart.due_work_orders.first_customer_request IS 'What the customer asked on that call, for the talking points of the second follow-up';
COMMENT ON COLUMN mart.due_work_orders.second_closed_on IS 'Day of the earliest reached or refused second follow-up call for the work order; NULL = none';
COMMENT ON COLUMN mart.due_work_orders.first_closed_by IS 'hash(dealer_code, call_id) of the call behind first_closed_on (DuckDB''s hash; see mart.due_work_orders_refresh.duckdb_version); NULL = none';
COMMENT ON COLUMN mart.due_work_orders.first_reached_by IS 'hash(dealer_code, call_id) of the call behind first_reached_on';
COMMENT ON COLUMN mart.due_work_orders.second_closed_by IS 'hash(dealer_code, call_id) of the call behind second_closed_on';
COMMENT ON COLUMN mart.due_work_orders.maintenance_closed_on IS 'Day of the earliest reached or refused maintenance-reminder call for the work order, or without a work order for the same customer on or after the intake day; NULL = none';
COMMENT ON COLUMN mart.due_work_orders.maintenance_closed_by IS 'hash(dealer_code, call_id) of the call behind maintenance_closed_on';
COMMENT ON COLUMN mart.due_work_orders.superseded_on IS 'Intake day of the next visit of the same vehicle (same dealer) that has a next maintenance date, in (intake_date, work_order_no) order; from that day on this visit no longer carries the vehicle''s maintenance reminder. NULL = none, or this visit has no next maintenance date';
COMMENT ON COLUMN mart.due_work_orders.superseded_by IS 'hash(dealer_code, work_order_no) of that visit';

CREATE TABLE mart.due_work_orders_refresh (
    refreshed_at            TIMESTAMPTZ NOT NULL,
    loaded_at_mark          TIMESTAMPTZ,
    run_id_mark             BIGINT,
    visits                  BIGINT NOT NULL,
    calls                   BIGINT NOT NULL,
    vehicles                BIGINT NOT NULL,
    work_orders_recomputed  BIGINT NOT NULL,
    duckdb_version          VARCHAR NOT NULL,
    rebuilt                 BOOLEAN NOT NULL,
    seconds                 DOUBLE NOT NULL
);
COMMENT ON TABLE mart.due_work_orders_refresh IS 'The last refresh of mart.due_work_orders (at most one row): what it had seen. Rows of core.service_visits, core.follow_up_calls and core.vehicles written later carry a newer loaded_at or run_id (the loader stamps every row it changes), and the work orders they concern are recomputed; a table holding more rows than it had plus those, or fewer, was written by hand, and the state is rebuilt.';
COMMENT ON COLUMN mart.due_work_orders_refresh.refreshed_at IS 'When the refresh ran';
COMMENT ON COLUMN mart.due_work_orders_refresh.loaded_at_mark IS 'Latest loaded_at of core.service_visits, core.follow_up_calls and core.vehicles seen by the refresh (NULL: all empty)';
COMMENT ON COLUMN mart.due_work_orders_refresh.run_id_mark IS 'Highest run_id of those rows seen by the refresh (NULL: all empty)';
COMMENT ON COLUMN mart.due_work_orders_refresh.visits IS 'Rows of core.service_visits at the refresh';
COMMENT ON COLUMN mart.due_work_orders_refresh.calls IS 'Rows of core.follow_up_calls at the refresh';
COMMENT ON COLUMN mart.due_work_orders_refresh.vehicles IS 'Rows of core.vehicles at the refresh';
COMMENT ON COLUMN mart.due_work_orders_refresh.work_orders_recomputed IS 'Work orders whose state the refresh recomputed';
COMMENT ON COLUMN mart.due_work_orders_refresh.duckdb_version IS 'DuckDB version that computed the state: its hash() made the *_by columns, and a state made by another version is rebuilt';
COMMENT ON COLUMN mart.due_work_orders_refresh.rebuilt IS 'The refresh recomputed every work order (first refresh, another DuckDB version, or rows written without fresh lineage)';
COMMENT ON COLUMN mart.due_work_orders_refresh.seconds IS 'Seconds the refresh took';

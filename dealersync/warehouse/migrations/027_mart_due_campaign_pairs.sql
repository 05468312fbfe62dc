-- The campaign state of the due lists (issue 3, speed): per customer and campaign, whether the customer is in
-- the campaign's audience (with the customer file and vehicle the call shows), and what the notice calls and
-- letters logged for the pair say. A day's list reads it instead of matching every customer with every
-- campaign and grouping the notice calls and letters again. Derived from core by transforms/due_list.py
-- (campaign_pairs_sql); refreshed with mart.due_work_orders under the same marks, which now also cover
-- customers, letters, dealers and campaigns. The day's query recomputes on the spot the customers written
-- since the marks, those whose file, dealer or vehicle of that day is not the one the state used, and the
-- campaigns written since or not covered, so a stale state costs time, never a wrong list.

CREATE TABLE mart.due_campaign_pairs (
    dealer_code        VARCHAR NOT NULL,
    customer_id        VARCHAR NOT NULL,
    campaign_id        VARCHAR NOT NULL,
    eligible           BOOLEAN NOT NULL,
    has_customer_file  BOOLEAN NOT NULL,
    customer_name      VARCHAR,
    phone              VARCHAR,
    address            VARCHAR,
    preferred_services VARCHAR,
    vin                VARCHAR,
    plate_no           VARCHAR,
    model              VARCHAR,
    closed_on          DATE,
    first_reached      DATE,
    attempt_times      TIMESTAMP[],
    letter_on          DATE
);
COMMENT ON TABLE mart.due_campaign_pairs IS 'Campaign state of the due lists: one row per customer and campaign (key dealer_code, customer_id, campaign_id) where the customer is in the campaign''s audience or a notice call reached them, for the campaigns ending on or after mart.due_work_orders_refresh.campaigns_from. Customer file, dealer region and vehicles as they are now (the current versions); calls and letters whatever their day, so that one row answers for every day the versions it used were valid. Derived, not a source: refreshed with mart.due_work_orders.';
COMMENT ON COLUMN mart.due_campaign_pairs.dealer_code IS 'Dealer code (core.customers.dealer_code)';
COMMENT ON COLUMN mart.due_campaign_pairs.customer_id IS 'Customer number (core.customers.customer_id, or the customer a notice call names)';
COMMENT ON COLUMN mart.due_campaign_pairs.campaign_id IS 'Campaign (core.campaigns.campaign_id)';
COMMENT ON COLUMN mart.due_campaign_pairs.eligible IS 'The customer is in the campaign''s audience: has a customer file whose region (else the dealer''s) and a vehicle whose model match the campaign''s (blank matches everyone); the campaign call is listed until closed_on';
COMMENT ON COLUMN mart.due_campaign_pairs.has_customer_file IS 'The customer has a customer file (core.customers, current version)';
COMMENT ON COLUMN mart.due_campaign_pairs.customer_name IS 'Customer name from the current customer file';
COMMENT ON COLUMN mart.due_campaign_pairs.phone IS 'Phone from the current customer file';
COMMENT ON COLUMN mart.due_campaign_pairs.address IS 'Address from the current customer file';
COMMENT ON COLUMN mart.due_campaign_pairs.preferred_services IS 'Services the customer wishes for (current customer file), appended to the call''s talking points';
COMMENT ON COLUMN mart.due_campaign_pairs.vin IS 'Vehicle the campaign call shows (mart.due_customer_vehicles for the campaign''s model); NULL when not eligible';
COMMENT ON COLUMN mart.due_campaign_pairs.plate_no IS 'Licence plate of that vehicle';
COMMENT ON COLUMN mart.due_campaign_pairs.model IS 'Model of that vehicle as written';
COMMENT ON COLUMN mart.due_campaign_pairs.closed_on IS 'Day of the earliest campaign-notice call for the pair that reached the customer or that the customer refused; the call is closed from that day on. NULL = none';
COMMENT ON COLUMN mart.due_campaign_pairs.first_reached IS 'Day of the earliest notice call that reached the customer: the campaign letter is due that day (a refusal starts nothing). NULL = none';
COMMENT ON COLUMN mart.due_campaign_pairs.attempt_times IS 'call_time of every notice call for the pair that did not reach the customer (no answer, wrong number), in order: a day''s list counts those up to that day. NULL = none';
COMMENT ON COLUMN mart.due_campaign_pairs.letter_on IS 'Day of the earliest letter logged for the pair (core.letters.sent_date): the campaign letter is closed from that day on. NULL = none';

CREATE TABLE mart.due_campaign_sources (
    source_key  UBIGINT NOT NULL,
    dealer_code VARCHAR NOT NULL,
    customer_id VARCHAR NOT NULL,
    campaign_id VARCHAR NOT NULL
);
COMMENT ON TABLE mart.due_campaign_sources IS 'The notice calls and letters mart.due_campaign_pairs was computed from, with the customer and campaign they named then: a call or letter corrected to another customer makes the one it left be recomputed. Derived, not a source.';
COMMENT ON COLUMN mart.due_campaign_sources.source_key IS 'hash(dealer_code, call_id) of a campaign-notice call, or hash(dealer_code, letter_id) of a letter (DuckDB''s hash; see mart.due_work_orders_refresh.duckdb_version)';
COMMENT ON COLUMN mart.due_campaign_sources.dealer_code IS 'Dealer code of the call or letter';
COMMENT ON COLUMN mart.due_campaign_sources.customer_id IS 'Customer the call or letter named at the refresh';
COMMENT ON COLUMN mart.due_campaign_sources.campaign_id IS 'Campaign the call or letter named at the refresh';

ALTER TABLE mart.due_work_orders_refresh ADD COLUMN customers BIGINT;
ALTER TABLE mart.due_work_orders_refresh ADD COLUMN letters BIGINT;
ALTER TABLE mart.due_work_orders_refresh ADD COLUMN dealers BIGINT;
ALTER TABLE mart.due_work_orders_refresh ADD COLUMN campaigns BIGINT;
ALTER TABLE mart.due_work_orders_refresh ADD COLUMN campaigns_from DATE;
COMMENT ON TABLE mart.due_work_orders_refresh IS 'The last refresh of the due lists'' state (mart.due_work_orders, mart.due_customer_vehicles, mart.due_campaign_pairs; at most one row): what it had seen. Rows of core.service_visits, core.follow_up_calls, core.vehicles, core.customers, core.letters, core.dealers and core.campaigns written later carry a newer loaded_at or run_id, and the work orders, customers and campaigns they concern are recomputed. The loader stamps every row whose values it changes but in two cases: a late file that only moves a vehicle''s first_seen back (the day''s query recomputes that customer for the days before the stored available_from), and a customer file or dealer list that says again what held before its day, which drops the version of that day and leaves the one before it current under its own lineage (the customers and dealers named by a file read since, in raw.customers and raw.dealers, are recomputed). A table holding more rows than it had plus the stamped ones, or fewer, makes the whole state be rebuilt: rows written or deleted by hand, or versions of core.customers or core.dealers the loader dropped.';
COMMENT ON COLUMN mart.due_work_orders_refresh.loaded_at_mark IS 'Latest loaded_at of the rows of the seven core tables the state is derived from (see the table) seen by the refresh (NULL: all empty)';
COMMENT ON COLUMN mart.due_work_orders_refresh.run_id_mark IS 'Highest run_id of the rows of those tables seen by the refresh (NULL: all empty); raw rows of a later run name the customers and dealers a file said again';
COMMENT ON COLUMN mart.due_work_orders_refresh.customers IS 'Rows of core.customers at the refresh';
COMMENT ON COLUMN mart.due_work_orders_refresh.letters IS 'Rows of core.letters at the refresh';
COMMENT ON COLUMN mart.due_work_orders_refresh.dealers IS 'Rows of core.dealers at the refresh';
COMMENT ON COLUMN mart.due_work_orders_refresh.campaigns IS 'Rows of core.campaigns at the refresh';
COMMENT ON COLUMN mart.due_work_orders_refresh.campaigns_from IS 'mart.due_campaign_pairs holds the campaigns ending on or after this day (the day of the list the refresh was for); a list of an earlier day computes the others on the spot';
COMMENT ON COLUMN mart.due_work_orders_refresh.rebuilt IS 'The refresh recomputed the whole state: first refresh, another DuckDB version, rows written or deleted without fresh lineage, or customer or dealer versions the loader dropped (a table with fewer rows)';

-- The new state is empty: rebuild it all at the next due list.
DELETE FROM mart.due_work_orders_refresh;

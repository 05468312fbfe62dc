-- Defaults taken from another table follow that table instead of being fixed when a row is loaded:
-- - a visit's under_warranty, when the sheet left it blank, is recomputed whenever its vehicle changes
--   (a corrected purchase date or warranty end); under_warranty_derived says which visits these are;
-- - a customer's region is kept as the sheet gave it (NULL when blank), and the views fill in the
--   dealer's region, so a dealer moving to another region takes its customers along.
-- Existing rows are put right from the raw cells they were loaded from (same file, sheet and row).

ALTER TABLE core.service_visits ADD COLUMN under_warranty_derived BOOLEAN DEFAULT false;
COMMENT ON COLUMN core.service_visits.under_warranty_derived IS 'True when the sheet left 是否保修期内 blank: under_warranty is then the vehicle''s warranty_end >= intake_date, recomputed whenever the vehicle changes';

UPDATE core.service_visits AS v SET under_warranty_derived = true
FROM raw.service_visits AS r
WHERE r.file_sha256 = v.file_sha256 AND r.sheet = v.sheet AND r.excel_row = v.excel_row
  AND coalesce(regexp_replace(r.under_warranty, '\s', '', 'g'), '') = '';

UPDATE core.service_visits AS v SET under_warranty = vehicle.warranty_end >= v.intake_date
FROM core.vehicles AS vehicle
WHERE v.under_warranty_derived AND vehicle.dealer_code = v.dealer_code AND vehicle.vin = v.vin
  AND v.under_warranty IS DISTINCT FROM (vehicle.warranty_end >= v.intake_date);

UPDATE core.customers AS c SET region = NULL
FROM raw.customers AS r
WHERE r.file_sha256 = c.file_sha256 AND r.sheet = c.sheet AND r.excel_row = c.excel_row
  AND coalesce(regexp_replace(r.region, '\s', '', 'g'), '') = '';

COMMENT ON COLUMN core.customers.region IS 'Customer''s region as the sheet gave it [地区]; NULL when blank, and then the dealer''s region applies (core.customers_current and core.customer_vehicles fill it in)';
COMMENT ON COLUMN core.service_visits.under_warranty IS 'Visit in the warranty period; when the sheet leaves it blank (under_warranty_derived): the vehicle''s warranty_end (core.vehicles) >= intake_date, NULL while the vehicle is unknown [是否保修期内]';

-- The follow-up state of the work orders read under_warranty: rebuild it at the next due list.
DELETE FROM mart.due_work_orders_refresh;

CREATE OR REPLACE VIEW core.customers_current AS
SELECT c.dealer_code, c.customer_id, c.name, c.phone, c.address, coalesce(c.region, d.region) AS region,
       c.contact_person, c.preferred_services, c.valid_from, c.run_id, c.file_sha256, c.sheet, c.excel_row,
       c.loaded_at
FROM core.customers AS c
LEFT JOIN core.dealers_current AS d ON d.dealer_code = c.dealer_code
WHERE c.valid_to IS NULL;

COMMENT ON VIEW core.customers_current IS 'Customers as they are now: one row per customer (the current version of core.customers); key (dealer_code, customer_id).';
COMMENT ON COLUMN core.customers_current.dealer_code IS 'Dealer code [经销商代码]';
COMMENT ON COLUMN core.customers_current.customer_id IS 'Customer number, unique within the dealer [客户编号]';
COMMENT ON COLUMN core.customers_current.name IS 'Customer name (person or company) [客户名称]';
COMMENT ON COLUMN core.customers_current.phone IS 'Phone, digits only: 11-digit mobile or landline with area code [联系电话]';
COMMENT ON COLUMN core.customers_current.address IS 'Postal address [地址]';
COMMENT ON COLUMN core.customers_current.region IS 'Customer''s region (the dealer''s current region when the sheet gave none) [地区]';
COMMENT ON COLUMN core.customers_current.contact_person IS 'Contact person at the customer [联系人]';
COMMENT ON COLUMN core.customers_current.preferred_services IS 'Services the customer would like [客户希望得到的服务]';
COMMENT ON COLUMN core.customers_current.valid_from IS 'Since when this version holds';
COMMENT ON COLUMN core.customers_current.run_id IS 'Run (etl.runs) that wrote this version';
COMMENT ON COLUMN core.customers_current.file_sha256 IS 'SHA-256 of the workbook this version came from';
COMMENT ON COLUMN core.customers_current.sheet IS 'Sheet name, as written in that workbook';
COMMENT ON COLUMN core.customers_current.excel_row IS 'Row number in that sheet as the steward sees it in Excel (1-based)';
COMMENT ON COLUMN core.customers_current.loaded_at IS 'When this version was written';
COMMENT ON COLUMN core.customer_vehicles.region IS 'Customer''s region (the dealer''s current region when the sheet gave none) [地区]';

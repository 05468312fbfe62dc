-- Views for analysts: the current version of customers and dealers, and customers with their vehicles.

CREATE VIEW core.dealers_current AS
SELECT dealer_code, name, region, province, city, contact_person, phone, roving_staff,
       has_service_shop, active, valid_from, run_id, file_sha256, sheet, excel_row, loaded_at
FROM core.dealers
WHERE valid_to IS NULL;

COMMENT ON VIEW core.dealers_current IS 'Dealers as they are now: one row per dealer (the current version of core.dealers); key dealer_code.';
COMMENT ON COLUMN core.dealers_current.dealer_code IS 'Dealer code [经销商代码]';
COMMENT ON COLUMN core.dealers_current.name IS 'Dealer name [经销商名称]';
COMMENT ON COLUMN core.dealers_current.region IS 'Sales region [区域]';
COMMENT ON COLUMN core.dealers_current.province IS 'Province [省份]';
COMMENT ON COLUMN core.dealers_current.city IS 'City [城市]';
COMMENT ON COLUMN core.dealers_current.contact_person IS 'Person in charge [负责人]';
COMMENT ON COLUMN core.dealers_current.phone IS 'Dealer phone [联系电话]';
COMMENT ON COLUMN core.dealers_current.roving_staff IS 'Roving service staff for the dealer [巡回服务人员]';
COMMENT ON COLUMN core.dealers_current.has_service_shop IS 'Dealer has its own service shop [是否有服务站]';
COMMENT ON COLUMN core.dealers_current.active IS 'Dealer is active [是否有效]';
COMMENT ON COLUMN core.dealers_current.valid_from IS 'Since when this version holds';
COMMENT ON COLUMN core.dealers_current.run_id IS 'Run (etl.runs) that wrote this version';
COMMENT ON COLUMN core.dealers_current.file_sha256 IS 'SHA-256 of the workbook this version came from';
COMMENT ON COLUMN core.dealers_current.sheet IS 'Sheet name, as written in that workbook';
COMMENT ON COLUMN core.dealers_current.excel_row IS 'Row number in that sheet as the steward sees it in Excel (1-based)';
COMMENT ON COLUMN core.dealers_current.loaded_at IS 'When this version was written';

CREATE VIEW core.customers_current AS
SELECT dealer_code, customer_id, name, phone, address, region, contact_person, preferred_services,
       valid_from, run_id, file_sha256, sheet, excel_row, loaded_at
FROM core.customers
WHERE valid_to IS NULL;

COMMENT ON VIEW core.customers_current IS 'Customers as they are now: one row per customer (the current version of core.customers); key (dealer_code, customer_id).';
COMMENT ON COLUMN core.customers_current.dealer_code IS 'Dealer code [经销商代码]';
COMMENT ON COLUMN core.customers_current.customer_id IS 'Customer number, unique within the dealer [客户编号]';
COMMENT ON COLUMN core.customers_current.name IS 'Customer name (person or company) [客户名称]';
COMMENT ON COLUMN core.customers_current.phone IS 'Phone, digits only: 11-digit mobile or landline with area code [联系电话]';
COMMENT ON COLUMN core.customers_current.address IS 'Postal address [地址]';
COMMENT ON COLUMN core.customers_current.region IS 'Customer''s region (the dealer''s region when the sheet gave none) [地区]';
COMMENT ON COLUMN core.customers_current.contact_person IS 'Contact person at the customer [联系人]';
COMMENT ON COLUMN core.customers_current.preferred_services IS 'Services the customer would like [客户希望得到的服务]';
COMMENT ON COLUMN core.customers_current.valid_from IS 'Since when this version holds';
COMMENT ON COLUMN core.customers_current.run_id IS 'Run (etl.runs) that wrote this version';
COMMENT ON COLUMN core.customers_current.file_sha256 IS 'SHA-256 of the workbook this version came from';
COMMENT ON COLUMN core.customers_current.sheet IS 'Sheet name, as written in that workbook';
COMMENT ON COLUMN core.customers_current.excel_row IS 'Row number in that sheet as the steward sees it in Excel (1-based)';
COMMENT ON COLUMN core.customers_current.loaded_at IS 'When this version was written';

CREATE VIEW core.customer_vehicles AS
SELECT v.dealer_code, v.customer_id, c.name, c.phone, c.address, c.region, c.contact_person,
       c.preferred_services, v.vin, v.plate_no, v.model, v.vehicle_type, v.purchase_date, v.warranty_end
FROM core.vehicles AS v
JOIN core.customers_current AS c USING (dealer_code, customer_id);

COMMENT ON VIEW core.customer_vehicles IS 'Current customers with their vehicles: one row per vehicle; key (dealer_code, vin).';
COMMENT ON COLUMN core.customer_vehicles.dealer_code IS 'Dealer code [经销商代码]';
COMMENT ON COLUMN core.customer_vehicles.customer_id IS 'Customer number, unique within the dealer [客户编号]';
COMMENT ON COLUMN core.customer_vehicles.name IS 'Customer name [客户名称]';
COMMENT ON COLUMN core.customer_vehicles.phone IS 'Customer phone, digits only [联系电话]';
COMMENT ON COLUMN core.customer_vehicles.address IS 'Postal address [地址]';
COMMENT ON COLUMN core.customer_vehicles.region IS 'Customer''s region (the dealer''s region when the sheet gave none) [地区]';
COMMENT ON COLUMN core.customer_vehicles.contact_person IS 'Contact person at the customer [联系人]';
COMMENT ON COLUMN core.customer_vehicles.preferred_services IS 'Services the customer would like [客户希望得到的服务]';
COMMENT ON COLUMN core.customer_vehicles.vin IS 'Vehicle identification number [车架号]';
COMMENT ON COLUMN core.customer_vehicles.plate_no IS 'Licence plate [车牌号]';
COMMENT ON COLUMN core.customer_vehicles.model IS 'Vehicle model [车型]';
COMMENT ON COLUMN core.customer_vehicles.vehicle_type IS 'Vehicle type [车种]';
COMMENT ON COLUMN core.customer_vehicles.purchase_date IS 'Purchase date [购车日期]';
COMMENT ON COLUMN core.customer_vehicles.warranty_end IS 'End of warranty (purchase date + warranty months when the sheet gave none) [保修截止日期]';

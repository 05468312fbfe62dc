-- Migration 012 took a raw cell for blank only when it held ASCII spaces, and a customer's attributes
-- from the first row of the customer. The loader takes full-width and no-break spaces and invisible
-- characters for blank too (normalise.folded), and takes each attribute from the first row that gives
-- it. Put the rows 012 missed right, the same way.

UPDATE core.service_visits AS v SET under_warranty_derived = true
FROM raw.service_visits AS r
WHERE NOT v.under_warranty_derived
  AND r.file_sha256 = v.file_sha256 AND r.sheet = v.sheet AND r.excel_row = v.excel_row
  AND regexp_full_match(coalesce(r.under_warranty, ''), '[\s\p{Z}\x{00AD}\x{200B}-\x{200F}\x{2060}-\x{2064}\x{FEFF}]*');

UPDATE core.service_visits AS v SET under_warranty = vehicle.warranty_end >= v.intake_date
FROM core.vehicles AS vehicle
WHERE v.under_warranty_derived AND vehicle.dealer_code = v.dealer_code AND vehicle.vin = v.vin
  AND v.under_warranty IS DISTINCT FROM (vehicle.warranty_end >= v.intake_date);

-- A customer's version takes its region from the first row of the same file and sheet that gives one
-- for the customer (NULL, the dealer's region, when none does).
UPDATE core.customers AS c SET region = fix.region
FROM (
    SELECT row.file_sha256, row.sheet, row.excel_row, given.region
    FROM (
        SELECT file_sha256, sheet, excel_row, region,
               upper(regexp_replace(coalesce(dealer_code, ''), '[\s\p{Z}\x{00AD}\x{200B}-\x{200F}\x{2060}-\x{2064}\x{FEFF}]', '', 'g')) || '|'
               || upper(regexp_replace(coalesce(customer_id, ''), '[\s\p{Z}\x{00AD}\x{200B}-\x{200F}\x{2060}-\x{2064}\x{FEFF}]', '', 'g')) AS customer_key
        FROM raw.customers
    ) AS row
    LEFT JOIN (
        SELECT file_sha256, sheet, customer_key, first(region ORDER BY excel_row) AS region
        FROM (
            SELECT file_sha256, sheet, excel_row,
                   upper(regexp_replace(coalesce(dealer_code, ''), '[\s\p{Z}\x{00AD}\x{200B}-\x{200F}\x{2060}-\x{2064}\x{FEFF}]', '', 'g')) || '|'
                   || upper(regexp_replace(coalesce(customer_id, ''), '[\s\p{Z}\x{00AD}\x{200B}-\x{200F}\x{2060}-\x{2064}\x{FEFF}]', '', 'g')) AS customer_key,
                   regexp_replace(region, '^[\s\p{Z}\x{00AD}\x{200B}-\x{200F}\x{2060}-\x{2064}\x{FEFF}]+|[\s\p{Z}\x{00AD}\x{200B}-\x{200F}\x{2060}-\x{2064}\x{FEFF}]+$', '', 'g') AS region
            FROM raw.customers
        )
        WHERE region <> ''
        GROUP BY ALL
    ) AS given USING (file_sha256, sheet, customer_key)
    WHERE regexp_full_match(coalesce(row.region, ''), '[\s\p{Z}\x{00AD}\x{200B}-\x{200F}\x{2060}-\x{2064}\x{FEFF}]*')
) AS fix
WHERE fix.file_sha256 = c.file_sha256 AND fix.sheet = c.sheet AND fix.excel_row = c.excel_row
  AND c.region IS DISTINCT FROM fix.region;

COMMENT ON TABLE core.service_visits IS 'Service visits (维修保养记录): one row per work order; key (dealer_code, work_order_no). Derived fields filled: next_maintenance_date, under_warranty (recomputed when the vehicle changes while under_warranty_derived), has_customer_file.';
COMMENT ON COLUMN raw.customers.region IS 'Cell text under the 地区 column, as written (typed in core: the customer''s region; blank stays NULL in core.customers and means the dealer''s region)';

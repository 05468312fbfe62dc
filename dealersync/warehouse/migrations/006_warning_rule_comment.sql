-- The warehouse's own warning for mileage going backwards has the checks' rule id, mileage_backwards.

COMMENT ON COLUMN quarantine.warnings.rule IS 'Rule that warned (identifier, e.g. vin_check_digit, mileage_backwards, no_customer_file)';

-- A core row's run_id and loaded_at are those of the file row that gave its values (its lineage), not of
-- every later change: closing a version (valid_to) and the fields derived from other tables (a visit's
-- has_customer_file and under_warranty, a failure's component) change without them. Say so.

COMMENT ON COLUMN core.customers.run_id IS 'Run (etl.runs) that loaded this version from file_sha256; closing it later (valid_to) does not change it';
COMMENT ON COLUMN core.customers.loaded_at IS 'When this version was loaded from its file; closing it later (valid_to) does not change it';
COMMENT ON COLUMN core.dealers.run_id IS 'Run (etl.runs) that loaded this version from file_sha256; closing it later (valid_to) does not change it';
COMMENT ON COLUMN core.dealers.loaded_at IS 'When this version was loaded from its file; closing it later (valid_to) does not change it';
COMMENT ON COLUMN core.service_visits.run_id IS 'Run (etl.runs) that last changed the row from a file; has_customer_file and under_warranty (when derived) are recomputed by later customer files without changing it';
COMMENT ON COLUMN core.service_visits.loaded_at IS 'When the row was last changed from a file; recomputing has_customer_file or a derived under_warranty does not change it';
COMMENT ON COLUMN core.part_failures.run_id IS 'Run (etl.runs) that last changed the row from a file; a component taken from core.parts (component_derived) follows the parts catalogue without changing it';
COMMENT ON COLUMN core.part_failures.loaded_at IS 'When the row was last changed from a file; a component following the parts catalogue does not change it';

-- Quarantine: every rejection and warning a steward has to see, until a later file fixes it.
-- An open entry (resolved_at NULL) is resolved when a later file loads a row with the same
-- (kind, business_key) -- or, when the key was unreadable (business_key ''), the same
-- (file_name, sheet, excel_row) -- that no longer fails the entry's (field, rule).
-- The same problem seen again refreshes its open entry (latest file, row and cell) instead of adding one.

CREATE SEQUENCE quarantine.entry_id_seq START 1;

CREATE TABLE quarantine.rejected_rows (
    entry_id         BIGINT PRIMARY KEY DEFAULT nextval('quarantine.entry_id_seq'),
    run_id           BIGINT NOT NULL,
    file_sha256      VARCHAR NOT NULL,
    file_name        VARCHAR NOT NULL,
    sheet            VARCHAR NOT NULL,
    kind             VARCHAR NOT NULL,
    excel_row        INTEGER NOT NULL,
    column_name      VARCHAR NOT NULL,
    field            VARCHAR NOT NULL,
    cell_value       VARCHAR,
    rule             VARCHAR NOT NULL,
    message          VARCHAR NOT NULL,
    message_zh       VARCHAR,
    dealer_code      VARCHAR NOT NULL,
    business_key     VARCHAR NOT NULL,
    first_seen_at    TIMESTAMPTZ NOT NULL,
    last_seen_at     TIMESTAMPTZ NOT NULL,
    resolved_at      TIMESTAMPTZ,
    resolved_by_run  BIGINT
);

CREATE TABLE quarantine.warnings (
    entry_id         BIGINT PRIMARY KEY DEFAULT nextval('quarantine.entry_id_seq'),
    run_id           BIGINT NOT NULL,
    file_sha256      VARCHAR NOT NULL,
    file_name        VARCHAR NOT NULL,
    sheet            VARCHAR NOT NULL,
    kind             VARCHAR NOT NULL,
    excel_row        INTEGER NOT NULL,
    column_name      VARCHAR NOT NULL,
    field            VARCHAR NOT NULL,
    cell_value       VARCHAR,
    rule             VARCHAR NOT NULL,
    message          VARCHAR NOT NULL,
    message_zh       VARCHAR,
    dealer_code      VARCHAR NOT NULL,
    business_key     VARCHAR NOT NULL,
    first_seen_at    TIMESTAMPTZ NOT NULL,
    last_seen_at     TIMESTAMPTZ NOT NULL,
    resolved_at      TIMESTAMPTZ,
    resolved_by_run  BIGINT
);

COMMENT ON TABLE quarantine.rejected_rows IS 'Rejections: one row per problem that kept a row out of core (a row may have several), until a later file fixes it; key entry_id. The row itself is in raw.<kind> (file_sha256, sheet, excel_row).';
COMMENT ON TABLE quarantine.warnings IS 'Warnings: one row per problem of a row that was loaded but needs a steward''s look (e.g. VIN check digit, mileage going backwards, visit without a customer file); key entry_id.';

COMMENT ON COLUMN quarantine.rejected_rows.entry_id IS 'Entry number (one sequence for rejections and warnings)';
COMMENT ON COLUMN quarantine.rejected_rows.run_id IS 'Run (etl.runs) that last saw the problem';
COMMENT ON COLUMN quarantine.rejected_rows.file_sha256 IS 'SHA-256 of the file the problem was last seen in (etl.files.sha256)';
COMMENT ON COLUMN quarantine.rejected_rows.file_name IS 'Name of the file the problem was last seen in';
COMMENT ON COLUMN quarantine.rejected_rows.sheet IS 'Sheet name as written in the workbook';
COMMENT ON COLUMN quarantine.rejected_rows.kind IS 'Sheet kind of the contract (customers, service_visits, ...)';
COMMENT ON COLUMN quarantine.rejected_rows.excel_row IS 'Row number as the steward sees it in Excel (1-based)';
COMMENT ON COLUMN quarantine.rejected_rows.column_name IS 'Column header as the sheet wrote it; empty for a problem of the whole row';
COMMENT ON COLUMN quarantine.rejected_rows.field IS 'Canonical column name of the contract; empty for a problem of the whole row';
COMMENT ON COLUMN quarantine.rejected_rows.cell_value IS 'The cell as written';
COMMENT ON COLUMN quarantine.rejected_rows.rule IS 'Rule that failed (identifier, e.g. not_a_date, duplicate_key)';
COMMENT ON COLUMN quarantine.rejected_rows.message IS 'What is wrong and how to fix it, in English';
COMMENT ON COLUMN quarantine.rejected_rows.message_zh IS 'The same message in Chinese';
COMMENT ON COLUMN quarantine.rejected_rows.dealer_code IS 'Dealer code of the row as read (normalised when possible), for routing to the dealer; empty when unknown';
COMMENT ON COLUMN quarantine.rejected_rows.business_key IS 'Business key of the row as text, parts joined by | (e.g. D0012|WO123); empty when unreadable';
COMMENT ON COLUMN quarantine.rejected_rows.first_seen_at IS 'When the problem was first seen';
COMMENT ON COLUMN quarantine.rejected_rows.last_seen_at IS 'When the problem was last seen in a different file';
COMMENT ON COLUMN quarantine.rejected_rows.resolved_at IS 'When a later file fixed it; NULL while open';
COMMENT ON COLUMN quarantine.rejected_rows.resolved_by_run IS 'Run (etl.runs) whose file fixed it';

COMMENT ON COLUMN quarantine.warnings.entry_id IS 'Entry number (one sequence for rejections and warnings)';
COMMENT ON COLUMN quarantine.warnings.run_id IS 'Run (etl.runs) that last saw the problem';
COMMENT ON COLUMN quarantine.warnings.file_sha256 IS 'SHA-256 of the file the problem was last seen in (etl.files.sha256)';
COMMENT ON COLUMN quarantine.warnings.file_name IS 'Name of the file the problem was last seen in';
COMMENT ON COLUMN quarantine.warnings.sheet IS 'Sheet name as written in the workbook';
COMMENT ON COLUMN quarantine.warnings.kind IS 'Sheet kind of the contract (customers, service_visits, ...)';
COMMENT ON COLUMN quarantine.warnings.excel_row IS 'Row number as the steward sees it in Excel (1-based)';
COMMENT ON COLUMN quarantine.warnings.column_name IS 'Column header as the sheet wrote it; empty for a problem of the whole row';
COMMENT ON COLUMN quarantine.warnings.field IS 'Canonical column name of the contract; empty for a problem of the whole row';
COMMENT ON COLUMN quarantine.warnings.cell_value IS 'The cell as written';
COMMENT ON COLUMN quarantine.warnings.rule IS 'Rule that warned (identifier, e.g. vin_check_digit, mileage_decreased, no_customer_file)';
COMMENT ON COLUMN quarantine.warnings.message IS 'What looks wrong, in English';
COMMENT ON COLUMN quarantine.warnings.message_zh IS 'The same message in Chinese';
COMMENT ON COLUMN quarantine.warnings.dealer_code IS 'Dealer code of the row, for routing to the dealer; empty when none';
COMMENT ON COLUMN quarantine.warnings.business_key IS 'Business key of the row as text, parts joined by | (e.g. D0012|WO123)';
COMMENT ON COLUMN quarantine.warnings.first_seen_at IS 'When the problem was first seen';
COMMENT ON COLUMN quarantine.warnings.last_seen_at IS 'When the problem was last seen in a different file';
COMMENT ON COLUMN quarantine.warnings.resolved_at IS 'When a later file fixed it; NULL while open';
COMMENT ON COLUMN quarantine.warnings.resolved_by_run IS 'Run (etl.runs) whose file fixed it';

CREATE VIEW quarantine.entries AS
SELECT 'rejected' AS severity, * FROM quarantine.rejected_rows
UNION ALL
SELECT 'warning' AS severity, * FROM quarantine.warnings;

COMMENT ON VIEW quarantine.entries IS 'Rejections and warnings together: one row per quarantine entry; key entry_id.';
COMMENT ON COLUMN quarantine.entries.severity IS 'rejected (the row is not in core) or warning (loaded, listed for the steward)';
COMMENT ON COLUMN quarantine.entries.entry_id IS 'Entry number';
COMMENT ON COLUMN quarantine.entries.run_id IS 'Run (etl.runs) that last saw the problem';
COMMENT ON COLUMN quarantine.entries.file_sha256 IS 'SHA-256 of the file the problem was last seen in';
COMMENT ON COLUMN quarantine.entries.file_name IS 'Name of the file the problem was last seen in';
COMMENT ON COLUMN quarantine.entries.sheet IS 'Sheet name as written in the workbook';
COMMENT ON COLUMN quarantine.entries.kind IS 'Sheet kind of the contract';
COMMENT ON COLUMN quarantine.entries.excel_row IS 'Row number as the steward sees it in Excel (1-based)';
COMMENT ON COLUMN quarantine.entries.column_name IS 'Column header as the sheet wrote it; empty for a problem of the whole row';
COMMENT ON COLUMN quarantine.entries.field IS 'Canonical column name; empty for a problem of the whole row';
COMMENT ON COLUMN quarantine.entries.cell_value IS 'The cell as written';
COMMENT ON COLUMN quarantine.entries.rule IS 'Rule identifier';
COMMENT ON COLUMN quarantine.entries.message IS 'Message for the steward, in English';
COMMENT ON COLUMN quarantine.entries.message_zh IS 'Message for the steward, in Chinese';
COMMENT ON COLUMN quarantine.entries.dealer_code IS 'Dealer code of the row, for routing';
COMMENT ON COLUMN quarantine.entries.business_key IS 'Business key of the row as text (parts joined by |); empty when unreadable';
COMMENT ON COLUMN quarantine.entries.first_seen_at IS 'When the problem was first seen';
COMMENT ON COLUMN quarantine.entries.last_seen_at IS 'When the problem was last seen in a different file';
COMMENT ON COLUMN quarantine.entries.resolved_at IS 'When a later file fixed it; NULL while open';
COMMENT ON COLUMN quarantine.entries.resolved_by_run IS 'Run whose file fixed it';

-- The warehouse's schemas, and the ETL bookkeeping: applied migrations, runs and the files of each run.
-- Instants (when something happened) are TIMESTAMPTZ; business days are DATE.

CREATE SCHEMA raw;
CREATE SCHEMA core;
CREATE SCHEMA quarantine;
CREATE SCHEMA etl;
CREATE SCHEMA mart;

CREATE TABLE etl.schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        VARCHAR NOT NULL,
    sha256      VARCHAR NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE etl.schema_migrations IS 'Applied schema migrations: one row per migrations/NNN_name.sql file applied; key version.';
COMMENT ON COLUMN etl.schema_migrations.version IS 'Migration number (NNN of the file name)';
COMMENT ON COLUMN etl.schema_migrations.name IS 'Migration file name';
COMMENT ON COLUMN etl.schema_migrations.sha256 IS 'SHA-256 of the file as applied (an applied migration must never be edited)';
COMMENT ON COLUMN etl.schema_migrations.applied_at IS 'When the migration was applied';

CREATE SEQUENCE etl.run_id_seq START 1;
CREATE TABLE etl.runs (
    run_id         BIGINT PRIMARY KEY DEFAULT nextval('etl.run_id_seq'),
    started_at     TIMESTAMPTZ NOT NULL,
    finished_at    TIMESTAMPTZ,
    as_of          DATE NOT NULL,
    status         VARCHAR NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'crashed')),
    inbox          VARCHAR,
    files_seen     INTEGER,
    files_loaded   INTEGER,
    files_refused  INTEGER,
    files_skipped  INTEGER,
    files_failed   INTEGER,
    rows_read      BIGINT,
    rows_loaded    BIGINT,
    rows_warned    BIGINT,
    rows_rejected  BIGINT,
    flow_run_id    VARCHAR,
    error          VARCHAR
);
COMMENT ON TABLE etl.runs IS 'Pipeline runs (nightly, backfill, manual): one row per run; key run_id. Counts are filled from etl.files when the run finishes.';
COMMENT ON COLUMN etl.runs.run_id IS 'Run number, increasing; the run_id of every row the run wrote';
COMMENT ON COLUMN etl.runs.started_at IS 'When the run started';
COMMENT ON COLUMN etl.runs.finished_at IS 'When the run finished; NULL while running (or if the process died)';
COMMENT ON COLUMN etl.runs.as_of IS 'The business day the run was for ("today" of the run: history valid_from, not-in-the-future checks)';
COMMENT ON COLUMN etl.runs.status IS 'running, succeeded (every file loaded, refused or skipped), failed (a file failed to load), crashed (the run itself stopped)';
COMMENT ON COLUMN etl.runs.inbox IS 'Folder the run read workbooks from';
COMMENT ON COLUMN etl.runs.files_seen IS 'Files recorded by the run (etl.files rows)';
COMMENT ON COLUMN etl.runs.files_loaded IS 'Files loaded';
COMMENT ON COLUMN etl.runs.files_refused IS 'Files refused as a whole (not a spreadsheet, encrypted, corrupt, no sheet recognised)';
COMMENT ON COLUMN etl.runs.files_skipped IS 'Files skipped (same content already loaded)';
COMMENT ON COLUMN etl.runs.files_failed IS 'Files whose load failed and was rolled back';
COMMENT ON COLUMN etl.runs.rows_read IS 'Data rows read from the files loaded';
COMMENT ON COLUMN etl.runs.rows_loaded IS 'Rows loaded into core (accepted and warned)';
COMMENT ON COLUMN etl.runs.rows_warned IS 'Rows loaded with at least one warning';
COMMENT ON COLUMN etl.runs.rows_rejected IS 'Rows rejected to quarantine';
COMMENT ON COLUMN etl.runs.flow_run_id IS 'Prefect flow run id, when run under Prefect';
COMMENT ON COLUMN etl.runs.error IS 'Why the run failed or crashed, for ops';

CREATE TABLE etl.files (
    run_id         BIGINT NOT NULL,
    file_name      VARCHAR NOT NULL,
    sha256         VARCHAR NOT NULL,
    size_bytes     BIGINT,
    source         VARCHAR,
    status         VARCHAR NOT NULL CHECK (status IN ('loaded', 'refused', 'skipped', 'failed')),
    reason         VARCHAR,
    rows_read      BIGINT NOT NULL DEFAULT 0,
    rows_loaded    BIGINT NOT NULL DEFAULT 0,
    rows_warned    BIGINT NOT NULL DEFAULT 0,
    rows_rejected  BIGINT NOT NULL DEFAULT 0,
    seconds        DOUBLE,
    processed_at   TIMESTAMPTZ NOT NULL,
    stored_as      VARCHAR
);
COMMENT ON TABLE etl.files IS 'Workbooks seen by a run: one row per file and run (the same content seen again in a later run is a new row, status skipped); identified by (run_id, file_name).';
COMMENT ON COLUMN etl.files.run_id IS 'Run (etl.runs) that saw the file';
COMMENT ON COLUMN etl.files.file_name IS 'File name as it arrived in the inbox';
COMMENT ON COLUMN etl.files.sha256 IS 'SHA-256 of the file content; the file_sha256 of every row loaded from it';
COMMENT ON COLUMN etl.files.size_bytes IS 'File size in bytes';
COMMENT ON COLUMN etl.files.source IS 'Source recognised from the sheet names: dealer, warehouse, reference (or mixed); NULL when refused';
COMMENT ON COLUMN etl.files.status IS 'loaded, refused (nothing of it could be trusted), skipped (same content already loaded), failed (the load failed and was rolled back)';
COMMENT ON COLUMN etl.files.reason IS 'Why the file was refused, skipped or failed';
COMMENT ON COLUMN etl.files.rows_read IS 'Data rows read (blank and total rows not counted)';
COMMENT ON COLUMN etl.files.rows_loaded IS 'Rows loaded into core (accepted and warned); 0 unless loaded';
COMMENT ON COLUMN etl.files.rows_warned IS 'Rows loaded with at least one warning, warehouse checks included';
COMMENT ON COLUMN etl.files.rows_rejected IS 'Rows rejected to quarantine.rejected_rows';
COMMENT ON COLUMN etl.files.seconds IS 'Seconds spent loading the file into the warehouse';
COMMENT ON COLUMN etl.files.processed_at IS 'When the file was recorded';
COMMENT ON COLUMN etl.files.stored_as IS 'Where the file was kept after the run (processed/ or rejected/ folder), when known';

CREATE TABLE etl.file_sheets (
    run_id         BIGINT NOT NULL,
    file_sha256    VARCHAR NOT NULL,
    sheet          VARCHAR NOT NULL,
    kind           VARCHAR,
    header_row     INTEGER,
    rows_read      BIGINT NOT NULL,
    rows_loaded    BIGINT NOT NULL,
    rows_warned    BIGINT NOT NULL,
    rows_rejected  BIGINT NOT NULL,
    blank_rows     BIGINT NOT NULL,
    total_rows     BIGINT NOT NULL,
    skipped_reason VARCHAR
);
COMMENT ON TABLE etl.file_sheets IS 'Sheets of the files loaded: one row per sheet of a loaded file, recognised or skipped; identified by (run_id, file_sha256, sheet).';
COMMENT ON COLUMN etl.file_sheets.run_id IS 'Run (etl.runs) that loaded the file';
COMMENT ON COLUMN etl.file_sheets.file_sha256 IS 'SHA-256 of the file (etl.files.sha256)';
COMMENT ON COLUMN etl.file_sheets.sheet IS 'Sheet name as written in the workbook';
COMMENT ON COLUMN etl.file_sheets.kind IS 'Sheet kind of the contract (customers, service_visits, ...); NULL for a sheet skipped as unknown';
COMMENT ON COLUMN etl.file_sheets.header_row IS 'Excel row (1-based) where the header was found';
COMMENT ON COLUMN etl.file_sheets.rows_read IS 'Data rows read';
COMMENT ON COLUMN etl.file_sheets.rows_loaded IS 'Rows loaded into core';
COMMENT ON COLUMN etl.file_sheets.rows_warned IS 'Rows loaded with at least one warning';
COMMENT ON COLUMN etl.file_sheets.rows_rejected IS 'Rows rejected to quarantine';
COMMENT ON COLUMN etl.file_sheets.blank_rows IS 'Blank rows dropped';
COMMENT ON COLUMN etl.file_sheets.total_rows IS 'Trailing 合计/total rows dropped';
COMMENT ON COLUMN etl.file_sheets.skipped_reason IS 'Why the sheet was skipped (not a sheet of the contract); NULL when loaded';

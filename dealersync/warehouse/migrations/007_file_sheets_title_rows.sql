-- Section-title rows (a month or branch written once, merged across the columns) are dropped and counted,
-- as blank and total rows are.

ALTER TABLE etl.file_sheets ADD COLUMN title_rows BIGINT DEFAULT 0;
COMMENT ON COLUMN etl.file_sheets.title_rows IS 'Section-title rows dropped: nothing but one value merged across the columns (e.g. 2026年10月)';

-- The quality reports written (xlsx), so that the nightly run writes each finished period's report once.

CREATE TABLE mart.quality_reports (
    period_type  VARCHAR NOT NULL CHECK (period_type IN ('week', 'month', 'year')),
    period       VARCHAR NOT NULL,
    path         VARCHAR NOT NULL,
    written_at   TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE mart.quality_reports IS 'Quality reports written: one row per report file written; identified by (period_type, period, written_at). The nightly run writes last week''s (month''s, year''s) report when none is recorded for it.';
COMMENT ON COLUMN mart.quality_reports.period_type IS 'week, month or year';
COMMENT ON COLUMN mart.quality_reports.period IS 'Period label (2026-W47, 2026-11, 2026)';
COMMENT ON COLUMN mart.quality_reports.path IS 'Where the xlsx report was written';
COMMENT ON COLUMN mart.quality_reports.written_at IS 'When it was written';

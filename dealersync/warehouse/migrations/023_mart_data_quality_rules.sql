-- Data-quality scorecard detail: which rules failed for which dealer in a period (the totals are in mart.quality_kpi).

CREATE TABLE mart.data_quality_rules (
    period_type   VARCHAR NOT NULL CHECK (period_type IN ('week', 'month', 'year')),
    period        VARCHAR NOT NULL,
    dealer_code   VARCHAR,
    region        VARCHAR,
    severity      VARCHAR NOT NULL CHECK (severity IN ('rejected', 'warning')),
    rule          VARCHAR NOT NULL,
    entries       BIGINT NOT NULL,
    rows          BIGINT NOT NULL,
    rank          BIGINT NOT NULL,
    refreshed_at  TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE mart.data_quality_rules IS 'Failing rules per dealer: one row per period, dealer, severity and rule; key (period_type, period, dealer_code, severity, rule). Counts quarantine entries (quarantine.rejected_rows and quarantine.warnings) last seen by runs whose as-of day is in the period. Rows received, warned and rejected per dealer are mart.quality_kpi figures rows_received, rows_warned, rows_rejected, rejection_rate.';
COMMENT ON COLUMN mart.data_quality_rules.period_type IS 'week, month or year';
COMMENT ON COLUMN mart.data_quality_rules.period IS 'Period label holding the as-of day of the run that last saw the entries';
COMMENT ON COLUMN mart.data_quality_rules.dealer_code IS 'Dealer code of the rows as read; NULL when the row had none (reference and warehouse sheets)';
COMMENT ON COLUMN mart.data_quality_rules.region IS 'The dealer''s region; (none) when unknown';
COMMENT ON COLUMN mart.data_quality_rules.severity IS 'rejected (row kept out of core) or warning (loaded, listed for the steward)';
COMMENT ON COLUMN mart.data_quality_rules.rule IS 'Rule identifier (e.g. not_a_date, duplicate_key, vin_check_digit)';
COMMENT ON COLUMN mart.data_quality_rules.entries IS 'Quarantine entries of the rule (a row failing the rule in two cells counts twice)';
COMMENT ON COLUMN mart.data_quality_rules.rows IS 'Distinct rows (file, sheet, Excel row) failing the rule';
COMMENT ON COLUMN mart.data_quality_rules.rank IS '1 = the dealer''s most frequent failing rule of the period (by entries, then rule name), across both severities';
COMMENT ON COLUMN mart.data_quality_rules.refreshed_at IS 'When the period was last computed';

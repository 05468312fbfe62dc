-- Quality summaries (DESIGN.md "Weekly quality summary"): every figure per period and scope, in long
-- format so that an analyst can re-aggregate from numerator and denominator; and the figures' definitions.
-- Rows of a period are replaced as a whole when the period is refreshed (warehouse/summaries.py).

CREATE TABLE mart.quality_figures (
    figure      VARCHAR NOT NULL,
    label       VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL CHECK (kind IN ('rate', 'count')),
    target      DOUBLE,
    breakdown   VARCHAR,
    definition  VARCHAR NOT NULL
);
COMMENT ON TABLE mart.quality_figures IS 'The figures of the quality summary and their precise definitions: one row per figure; key figure. Written from the code (transforms/quality_summary.py FIGURES) at every refresh.';
COMMENT ON COLUMN mart.quality_figures.figure IS 'Figure name, as in mart.quality_kpi.figure';
COMMENT ON COLUMN mart.quality_figures.label IS 'Figure name for people, English with the seed''s Chinese term';
COMMENT ON COLUMN mart.quality_figures.kind IS 'rate (value = numerator / denominator, NULL when the denominator is 0) or count (value = numerator, denominator NULL)';
COMMENT ON COLUMN mart.quality_figures.target IS 'Target from the seed''s work plan (return visits 100%, satisfaction >= 98%, parts shipped correctly >= 98%); NULL when none';
COMMENT ON COLUMN mart.quality_figures.breakdown IS 'What mart.quality_kpi.item holds besides all: category, error_type or component; NULL when the figure has no breakdown';
COMMENT ON COLUMN mart.quality_figures.definition IS 'Which rows count towards the numerator and the denominator';

CREATE TABLE mart.quality_kpi (
    period_type     VARCHAR NOT NULL CHECK (period_type IN ('week', 'month', 'year')),
    period          VARCHAR NOT NULL,
    period_start    DATE NOT NULL,
    period_end      DATE NOT NULL,
    scope_type      VARCHAR NOT NULL CHECK (scope_type IN ('company', 'region', 'dealer')),
    scope           VARCHAR NOT NULL,
    region          VARCHAR,
    figure          VARCHAR NOT NULL,
    item            VARCHAR NOT NULL,
    numerator       BIGINT NOT NULL,
    denominator     BIGINT,
    value           DOUBLE,
    target          DOUBLE,
    previous_value  DOUBLE,
    change          DOUBLE,
    refreshed_at    TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE mart.quality_kpi IS 'Quality summary figures: one row per period, scope, figure and item; key (period_type, period, scope_type, scope, figure, item). Definitions in mart.quality_figures. Every scope gets each figure''s total (item all) even when empty: a rate with denominator 0 has value NULL, never 0% or 100%. Sum numerator and denominator to re-aggregate; never average values.';
COMMENT ON COLUMN mart.quality_kpi.period_type IS 'week (ISO week, Monday to Sunday), month (calendar month) or year';
COMMENT ON COLUMN mart.quality_kpi.period IS 'Period label: 2026-W47 (ISO year and week), 2026-11 or 2026';
COMMENT ON COLUMN mart.quality_kpi.period_start IS 'First day of the period';
COMMENT ON COLUMN mart.quality_kpi.period_end IS 'Last day of the period (included); stock figures (complaints_open, complaints_overdue) are counted at this day';
COMMENT ON COLUMN mart.quality_kpi.scope_type IS 'company (scope all), region (the dealer''s region in core.dealers_current) or dealer';
COMMENT ON COLUMN mart.quality_kpi.scope IS 'all, the region name, or the dealer code; (none) for a dealer the dealers table does not know';
COMMENT ON COLUMN mart.quality_kpi.region IS 'Region of the scope: the region itself, or the dealer''s region; NULL for the company';
COMMENT ON COLUMN mart.quality_kpi.figure IS 'return_visit_rate: warranty visits whose first follow-up window (base + 7 days) ends in the period, reached first follow-up call dated on or before the window end (target 100%); first_call_timeliness: of those, earliest reached call within base + 3 to base + 7; satisfaction_rate: reached calls dated in the period with an answer, 满意 or 基本满意 (target 98%); satisfaction_rate_strict: 满意 only; dissatisfied_calls; shipment_accuracy: lines shipped in the period, blank = correct (target 98%); shipment_errors by error_type; complaints_received, complaints_escalated_on_time (escalated or resolved by received + 2), complaints_resolved, complaints_open and complaints_overdue at period end, by category; critical_failures by component; rows_received, rows_warned, rows_rejected, rejection_rate per dealer. Full definitions in mart.quality_figures.';
COMMENT ON COLUMN mart.quality_kpi.item IS 'all for the figure''s total, else the breakdown value: complaint category, shipment error type or component';
COMMENT ON COLUMN mart.quality_kpi.numerator IS 'Rows counted as meeting the figure (a count figure: the count itself)';
COMMENT ON COLUMN mart.quality_kpi.denominator IS 'Rows the rate is taken over; NULL for a count figure';
COMMENT ON COLUMN mart.quality_kpi.value IS 'Rate = numerator / denominator (0..1), NULL when the denominator is 0; count = numerator';
COMMENT ON COLUMN mart.quality_kpi.target IS 'Target where the seed sets one (return_visit_rate 1.0, satisfaction_rate 0.98, shipment_accuracy 0.98); else NULL';
COMMENT ON COLUMN mart.quality_kpi.previous_value IS 'value of the same scope, figure and item in the period just before (week 2027-W01 follows 2026-W53); NULL when unknown';
COMMENT ON COLUMN mart.quality_kpi.change IS 'value - previous_value (rate points for rates, e.g. -0.02 = two points down); NULL when either is NULL';
COMMENT ON COLUMN mart.quality_kpi.refreshed_at IS 'When the period was last computed';

-- The weekly batch-defect watch (transforms/batch_alerts.py): every test with its evidence, and the alerts.

CREATE TABLE mart.failure_watch (
    week                  VARCHAR NOT NULL,
    test                  VARCHAR NOT NULL CHECK (test IN ('batch_exposure', 'batch_share', 'component')),
    component             VARCHAR,
    part_no               VARCHAR,
    batch_no              VARCHAR,
    window_start          DATE NOT NULL,
    window_end            DATE NOT NULL,
    observed              BIGINT NOT NULL,
    expected              DOUBLE NOT NULL,
    exposure_unit_months  DOUBLE,
    ratio                 DOUBLE NOT NULL,
    p_value               DOUBLE NOT NULL,
    q_value               DOUBLE NOT NULL,
    level                 VARCHAR NOT NULL CHECK (level IN ('red', 'amber', 'none')),
    tests_in_week         BIGINT NOT NULL,
    vins                  VARCHAR[] NOT NULL,
    dealers               VARCHAR[] NOT NULL,
    refreshed_at          TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE mart.failure_watch IS 'Batch-defect watch: one row per test of an ISO week; key (week, test, component, part_no, batch_no). Tested each week: every (part, batch) of a critical part with a failure in its window, and every critical component with a failure in the week. Observed O against expected E, p = P(X >= O | Poisson(E)), q = Benjamini-Hochberg over the week''s tests. Alerts in mart.batch_alerts.';
COMMENT ON COLUMN mart.failure_watch.week IS 'ISO week of the watch (2026-W47); the test uses failures reported up to its Sunday';
COMMENT ON COLUMN mart.failure_watch.test IS 'batch_exposure (batch size known in core.part_batches: E = the part''s failure rate per unit-month from its other batches x this batch''s exposure), batch_share (no size: E = the part''s other batches'' failures in the same window / their number), component (E = the component''s mean weekly failures over the baseline weeks before)';
COMMENT ON COLUMN mart.failure_watch.component IS 'Component [部件类别] (for a batch: its failures'' most frequent component)';
COMMENT ON COLUMN mart.failure_watch.part_no IS 'Part number; NULL for a component test';
COMMENT ON COLUMN mart.failure_watch.batch_no IS 'Production batch; NULL for a component test';
COMMENT ON COLUMN mart.failure_watch.window_start IS 'First day counted: batch_exposure = the batch''s production date; batch_share = the week''s Sunday - (window weeks x 7) + 1; component = the week''s Monday';
COMMENT ON COLUMN mart.failure_watch.window_end IS 'Last day counted: the week''s Sunday, or for batch_exposure the end of the capped service (production + service months) when earlier';
COMMENT ON COLUMN mart.failure_watch.observed IS 'O: failure reports (core.part_failures) of the batch or component reported in the window';
COMMENT ON COLUMN mart.failure_watch.expected IS 'E: failures expected in the window at the usual rate (baselines include half a failure so that an empty baseline stays finite)';
COMMENT ON COLUMN mart.failure_watch.exposure_unit_months IS 'batch_exposure only: units of the batch x months from production to window_end (capped at the service months)';
COMMENT ON COLUMN mart.failure_watch.ratio IS 'O / E';
COMMENT ON COLUMN mart.failure_watch.p_value IS 'P(X >= O) for X ~ Poisson(E) (scipy.stats.poisson.sf)';
COMMENT ON COLUMN mart.failure_watch.q_value IS 'Benjamini-Hochberg adjusted p over all tests of the week (statsmodels multipletests fdr_bh)';
COMMENT ON COLUMN mart.failure_watch.level IS 'red: q < DEALERSYNC_ALERT_RED_Q (0.01) and O >= ALERT_MIN_FAILURES (3) and O/E >= ALERT_MIN_RATIO (2); amber: q < ALERT_AMBER_Q (0.10); else none';
COMMENT ON COLUMN mart.failure_watch.tests_in_week IS 'Number of tests of the week (the Benjamini-Hochberg family size)';
COMMENT ON COLUMN mart.failure_watch.vins IS 'VINs of the observed failures (those given)';
COMMENT ON COLUMN mart.failure_watch.dealers IS 'Dealers that reported the observed failures';
COMMENT ON COLUMN mart.failure_watch.refreshed_at IS 'When the week was last computed';

CREATE VIEW mart.batch_alerts AS
SELECT * FROM mart.failure_watch WHERE level IN ('red', 'amber');
COMMENT ON VIEW mart.batch_alerts IS 'Batch and component alerts for quality: the red and amber rows of mart.failure_watch with their evidence, VINs and dealers; key (week, test, component, part_no, batch_no).';
COMMENT ON COLUMN mart.batch_alerts.week IS 'ISO week of the watch';
COMMENT ON COLUMN mart.batch_alerts.test IS 'batch_exposure, batch_share or component (see mart.failure_watch)';
COMMENT ON COLUMN mart.batch_alerts.component IS 'Component';
COMMENT ON COLUMN mart.batch_alerts.part_no IS 'Part number; NULL for a component alert';
COMMENT ON COLUMN mart.batch_alerts.batch_no IS 'Production batch; NULL for a component alert';
COMMENT ON COLUMN mart.batch_alerts.window_start IS 'First day counted';
COMMENT ON COLUMN mart.batch_alerts.window_end IS 'Last day counted';
COMMENT ON COLUMN mart.batch_alerts.observed IS 'O: failures in the window';
COMMENT ON COLUMN mart.batch_alerts.expected IS 'E: failures expected in the window';
COMMENT ON COLUMN mart.batch_alerts.exposure_unit_months IS 'Units x months in service (batch_exposure only)';
COMMENT ON COLUMN mart.batch_alerts.ratio IS 'O / E';
COMMENT ON COLUMN mart.batch_alerts.p_value IS 'P(X >= O | Poisson(E))';
COMMENT ON COLUMN mart.batch_alerts.q_value IS 'Benjamini-Hochberg q over the week''s tests';
COMMENT ON COLUMN mart.batch_alerts.level IS 'red or amber';
COMMENT ON COLUMN mart.batch_alerts.tests_in_week IS 'Tests of the week';
COMMENT ON COLUMN mart.batch_alerts.vins IS 'VINs of the observed failures';
COMMENT ON COLUMN mart.batch_alerts.dealers IS 'Dealers that reported them';
COMMENT ON COLUMN mart.batch_alerts.refreshed_at IS 'When the week was last computed';

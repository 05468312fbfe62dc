-- etl.runs holds the runs that read an inbox; a backfill reads no files and records none.

COMMENT ON TABLE etl.runs IS 'Runs that read an inbox (the nightly flow, scheduled or started by `dealersync run`): one row per run; key run_id. Counts are filled from etl.files when the run finishes. A backfill reads no files and writes no row here: the days it recomputed are in mart.due_list_days (computed_at) and the quality marts (refreshed_at).';

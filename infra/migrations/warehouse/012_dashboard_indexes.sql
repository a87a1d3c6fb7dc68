-- The web dashboard's reads (api/dashboard), measured by `npm run bench:dashboard` on a year of machine-hours.
-- Top scrap SKUs read only the scrapped items of a range of hours (~2 % of the events): a small partial index lets
-- factory.scrap_cost_hourly answer from it instead of scanning every event of the range.
CREATE INDEX IF NOT EXISTS production_events_scrap ON factory.production_events (partition_hour, machine_id, sku)
  WHERE status = 'SCRAP';
-- Runs per hour, failures and the machines seen recently: runs of a pipeline by start time.
CREATE INDEX IF NOT EXISTS runs_by_pipeline_started ON ops.runs (pipeline, started_at);
-- Landing → published latency: successful runs by the time they finished.
CREATE INDEX IF NOT EXISTS runs_succeeded_by_finish ON ops.runs (finished_at) WHERE status = 'succeeded';

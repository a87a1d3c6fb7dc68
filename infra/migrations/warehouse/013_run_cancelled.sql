-- A cancelled run, export or source sync (API, CLI, Web UI, a cancelled backfill) is recorded as `cancelled`, not left running.
ALTER TABLE ops.runs DROP CONSTRAINT runs_status_check;
ALTER TABLE ops.runs ADD CONSTRAINT runs_status_check
  CHECK (status IN ('running', 'succeeded', 'unchanged', 'failed', 'cancelled'));
ALTER TABLE ops.feature_exports DROP CONSTRAINT feature_exports_status_check;
ALTER TABLE ops.feature_exports ADD CONSTRAINT feature_exports_status_check
  CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled'));
ALTER TABLE ops.source_syncs DROP CONSTRAINT source_syncs_status_check;
ALTER TABLE ops.source_syncs ADD CONSTRAINT source_syncs_status_check
  CHECK (status IN ('extracting', 'extracted', 'committed', 'failed', 'cancelled'));

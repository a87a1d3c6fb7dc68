-- Feature exports: one row per export (its id derives from the request), updated as it runs; the manifest is kept
-- here too so the API answers without reading the lake.
CREATE TABLE ops.feature_exports (
  export_id     text PRIMARY KEY,
  feature_set   text NOT NULL,
  version       int NOT NULL,
  range_from    date NOT NULL,
  range_to      date NOT NULL,
  as_of         timestamptz NOT NULL,
  format        text NOT NULL CHECK (format IN ('parquet', 'csv')),
  training      boolean NOT NULL,
  status        text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
  rows          bigint,
  bytes         bigint,
  manifest_key  text,
  manifest      jsonb,
  error         text,
  started_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz
);
CREATE INDEX feature_exports_by_set ON ops.feature_exports (feature_set, started_at DESC);


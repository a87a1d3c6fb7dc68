-- The run catalog: what Temporal cannot hold (datasets, lineage, quality, alerts). Temporal stays the system of
-- record for run state; these rows are written by the activities, idempotently.
CREATE SCHEMA IF NOT EXISTS ops;

CREATE TABLE ops.runs (
  run_id          text PRIMARY KEY,
  workflow_id     text NOT NULL,
  pipeline        text NOT NULL,
  partition_key   text NOT NULL,
  run_kind        text NOT NULL,
  status          text NOT NULL CHECK (status IN ('running', 'succeeded', 'unchanged', 'failed')),
  failure_type    text,
  failure_message text,
  source_key      text,
  content_sha256  text,
  started_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz
);
CREATE INDEX runs_by_partition ON ops.runs (pipeline, partition_key, started_at DESC);
CREATE INDEX runs_by_status ON ops.runs (status, started_at DESC);

CREATE TABLE ops.run_steps (
  run_id           text NOT NULL,
  step             text NOT NULL CHECK (step IN ('ingest', 'stage', 'transform', 'load', 'serve')),
  status           text NOT NULL,
  attempt          int NOT NULL DEFAULT 1,
  started_at       timestamptz NOT NULL,
  finished_at      timestamptz NOT NULL,
  duration_ms      int NOT NULL,
  rows_in          bigint,
  rows_out         bigint,
  rows_quarantined bigint,
  bytes            bigint,
  details          jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (run_id, step)
);

CREATE TABLE ops.lineage (
  run_id        text NOT NULL,
  pipeline      text NOT NULL,
  partition_key text NOT NULL,
  input_uri     text NOT NULL,
  output_uri    text NOT NULL,
  step          text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, input_uri, output_uri)
);
CREATE INDEX lineage_by_partition ON ops.lineage (pipeline, partition_key);

CREATE TABLE ops.quality_results (
  run_id        text NOT NULL,
  pipeline      text NOT NULL,
  partition_key text NOT NULL,
  check_name    text NOT NULL,
  passed        boolean NOT NULL,
  observed      double precision,
  threshold     double precision,
  details       jsonb NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, check_name)
);

CREATE TABLE ops.alerts (
  id            bigserial PRIMARY KEY,
  dedup_key     text NOT NULL UNIQUE,
  kind          text NOT NULL CHECK (kind IN ('run_failed', 'freshness', 'incomplete_file')),
  severity      text NOT NULL CHECK (severity IN ('warning', 'critical')),
  pipeline      text NOT NULL,
  partition_key text,
  run_id        text,
  message       text NOT NULL,
  details       jsonb NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL DEFAULT now(),
  resolved_at   timestamptz
);

-- The load ledger fences every load: one row per (dataset, partition) naming the content now published, plus the
-- history of every publication.
CREATE TABLE ops.partition_state (
  dataset        text NOT NULL,
  partition_key  text NOT NULL,
  content_sha256 text NOT NULL,
  run_id         text NOT NULL,
  rows           bigint NOT NULL,
  loaded_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (dataset, partition_key)
);
CREATE TABLE ops.load_ledger (
  dataset        text NOT NULL,
  partition_key  text NOT NULL,
  content_sha256 text NOT NULL,
  run_id         text NOT NULL,
  rows           bigint NOT NULL,
  loaded_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (dataset, partition_key, content_sha256, run_id)
);

-- What the landing sensor has seen: one row per landed object version.
CREATE TABLE ops.landed_files (
  pipeline       text NOT NULL,
  object_key     text NOT NULL,
  etag           text NOT NULL,
  size           bigint NOT NULL,
  partition_key  text,
  state          text NOT NULL CHECK (state IN ('waiting', 'complete', 'dispatched', 'rejected')),
  detail         text,
  first_seen_at  timestamptz NOT NULL DEFAULT now(),
  completed_at   timestamptz,
  PRIMARY KEY (pipeline, object_key, etag)
);
CREATE INDEX landed_files_by_partition ON ops.landed_files (pipeline, partition_key);

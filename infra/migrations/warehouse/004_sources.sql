-- External sources (workflows/sources): the records system's maintenance events (a database, by watermark) and the
-- product catalog (an HTTP API). A sync extracts to the lake, then commits in ONE transaction: mirror, versions,
-- deletes and the watermark together, so the watermark only moves when the rows are in.
CREATE SCHEMA IF NOT EXISTS sources;

-- The committed position of each source: the largest (watermark, key) loaded. Written only by a commit.
CREATE TABLE ops.source_watermarks (
  source_id     text PRIMARY KEY,
  watermark_ts  timestamptz,
  watermark_key text,
  committed_at  timestamptz NOT NULL,
  run_id        text NOT NULL
);

-- One row per sync (workflow run): extracting → extracted → committed, or failed.
CREATE TABLE ops.source_syncs (
  source_id      text NOT NULL,
  run_id         text NOT NULL,
  started_at     timestamptz NOT NULL,
  finished_at    timestamptz,
  status         text NOT NULL CHECK (status IN ('extracting', 'extracted', 'committed', 'failed')),
  rows_extracted bigint,
  rows_changed   bigint,
  watermark_from timestamptz,
  watermark_to   timestamptz,
  error          text,
  details        jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (source_id, run_id)
);
CREATE INDEX source_syncs_recent ON ops.source_syncs (source_id, started_at DESC);

-- The current maintenance events: one row per event id, as of the last commit.
CREATE TABLE sources.maintenance_events (
  id         bigint PRIMARY KEY,
  machine_id text NOT NULL,
  kind       text NOT NULL,
  started_at timestamptz NOT NULL,
  ended_at   timestamptz,
  notes      text,
  updated_at timestamptz NOT NULL,
  loaded_at  timestamptz NOT NULL,
  deleted_at timestamptz
);
CREATE INDEX maintenance_events_by_machine ON sources.maintenance_events (machine_id, started_at);
COMMENT ON TABLE sources.maintenance_events IS
  'Mirror of the records system''s maintenance_events: the newest version of each event. deleted_at: when the event '
  'was found gone from the source (the extract''s snapshot time; equals its tombstone version''s updated_at).';

-- Every version seen; known_at = when that version became true in the source (its updated_at), loaded_at = when we
-- learned it. A deletion is a tombstone version: deleted = true, updated_at = the time the deletion was detected, the
-- other columns as last seen.
CREATE TABLE sources.maintenance_event_versions (
  id         bigint NOT NULL,
  updated_at timestamptz NOT NULL,
  machine_id text NOT NULL,
  kind       text NOT NULL,
  started_at timestamptz NOT NULL,
  ended_at   timestamptz,
  notes      text,
  deleted    boolean NOT NULL DEFAULT false,
  loaded_at  timestamptz NOT NULL,
  run_id     text NOT NULL,
  PRIMARY KEY (id, updated_at)
);
-- Point-in-time reads: the versions of a machine's events known by a time.
CREATE INDEX maintenance_event_versions_by_machine ON sources.maintenance_event_versions (machine_id, updated_at);
COMMENT ON TABLE sources.maintenance_event_versions IS
  'Every version of every maintenance event seen. As of time T, an event is its version with the largest '
  'updated_at <= T (absent when none, gone when that version has deleted = true).';

-- The product catalog: one row per SKU, as of the last commit (the API has no deletes).
CREATE TABLE sources.products (
  sku        text PRIMARY KEY,
  name       text NOT NULL,
  category   text NOT NULL,
  unit_cost  numeric(12,4) NOT NULL,
  updated_at timestamptz NOT NULL,
  loaded_at  timestamptz NOT NULL
);

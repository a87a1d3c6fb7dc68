-- The machine-signal case's datasets. Every table is keyed by its machine-hour partition; a load replaces one
-- partition atomically.
CREATE SCHEMA IF NOT EXISTS factory;

CREATE TABLE factory.production_events (
  partition_hour timestamptz NOT NULL,
  machine_id     text NOT NULL,
  item_seq       bigint NOT NULL,
  ts             timestamptz NOT NULL,
  sku            text NOT NULL,
  status         text NOT NULL CHECK (status IN ('OK', 'SCRAP', 'REWORK')),
  cycle_ms       integer NOT NULL,
  temp_c         double precision NOT NULL,
  vibration_mm_s double precision NOT NULL,
  operator       text NOT NULL,
  energy_wh      double precision,
  line_no        integer NOT NULL,
  source_sha256  text NOT NULL,
  PRIMARY KEY (machine_id, partition_hour, item_seq)
);

CREATE TABLE factory.quarantined_rows (
  partition_hour timestamptz NOT NULL,
  machine_id     text NOT NULL,
  line_no        integer NOT NULL,
  reason         text NOT NULL,
  column_name    text,
  detail         text NOT NULL,
  raw            text NOT NULL,
  source_sha256  text NOT NULL,
  PRIMARY KEY (machine_id, partition_hour, line_no)
);

CREATE TABLE factory.inventory_movements (
  partition_hour timestamptz NOT NULL,
  machine_id     text NOT NULL,
  sku            text NOT NULL,
  quantity       integer NOT NULL,
  source_sha256  text NOT NULL,
  PRIMARY KEY (machine_id, partition_hour, sku)
);

CREATE TABLE factory.machine_yield_hourly (
  partition_hour   timestamptz NOT NULL,
  machine_id       text NOT NULL,
  items            integer NOT NULL,
  ok               integer NOT NULL,
  scrap            integer NOT NULL,
  rework           integer NOT NULL,
  yield_pct        double precision,
  cycle_ms_mean    double precision,
  cycle_ms_p95     double precision,
  temp_c_mean      double precision,
  vibration_max    double precision,
  downtime_minutes double precision NOT NULL,
  energy_wh        double precision,
  quarantined      integer NOT NULL,
  duplicates       integer NOT NULL,
  firmware         text NOT NULL,
  source_sha256    text NOT NULL,
  refreshed_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (machine_id, partition_hour)
);
CREATE INDEX machine_yield_hourly_by_hour ON factory.machine_yield_hourly (partition_hour);

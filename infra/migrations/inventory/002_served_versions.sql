-- Which publication of each warehouse partition a reverse-ETL target table holds. An edge worker applying a hand-off
-- (the target is on the plant's network, the warehouse is not reachable from there) applies it only when it is not
-- older than what the table already holds, so a late or replayed hand-off never overwrites newer rows.
CREATE TABLE inventory.served_versions (
  target_table   text NOT NULL,
  partition_key  text NOT NULL,
  loaded_at      timestamptz NOT NULL,
  run_id         text NOT NULL,
  content_sha256 text NOT NULL,
  applied_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (target_table, partition_key)
);

-- Rows quarantined by the generic formats (delimited text, JSON Lines), per pipeline and partition, replaced with the
-- partition in its publishing transaction. (The machine-signal flow keeps its own factory.quarantined_rows.)
CREATE TABLE ops.quarantined_rows (
  pipeline      text NOT NULL,
  partition_key text NOT NULL,
  line_no       integer NOT NULL,
  reason        text NOT NULL,
  column_name   text,
  detail        text NOT NULL,
  raw           text NOT NULL,
  source_sha256 text NOT NULL,
  PRIMARY KEY (pipeline, partition_key, line_no)
);

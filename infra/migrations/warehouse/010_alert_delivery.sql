-- Alert delivery: every alert belongs to a group (kind, pipeline, period: 15 machines stale in the same hour are one
-- group, so one message); one durable delivery workflow per group plans messages into ops.alert_deliveries (one row
-- per channel and message, with the idempotency key the receiver sees) and sends them with retries.
ALTER TABLE ops.alerts
  ADD COLUMN group_key       text,
  ADD COLUMN acknowledged_at timestamptz,
  ADD COLUMN acknowledged_by text,
  ADD COLUMN ack_comment     text,
  -- Set when a delivery plan has taken the alert (firing) and its resolution into account: the sweep re-signals
  -- groups whose alerts were raised but never planned (a raise whose signal was lost).
  ADD COLUMN planned_at          timestamptz,
  ADD COLUMN resolution_planned_at timestamptz;
UPDATE ops.alerts SET group_key = kind || ':' || pipeline || ':' || coalesce(partition_key, dedup_key) WHERE group_key IS NULL;
ALTER TABLE ops.alerts ALTER COLUMN group_key SET NOT NULL;
CREATE INDEX alerts_by_group ON ops.alerts (group_key);
CREATE INDEX alerts_open ON ops.alerts (created_at DESC) WHERE resolved_at IS NULL;
CREATE INDEX alerts_unplanned ON ops.alerts (created_at) WHERE planned_at IS NULL OR (resolved_at IS NOT NULL AND resolution_planned_at IS NULL);

CREATE TABLE ops.alert_deliveries (
  id              bigserial PRIMARY KEY,
  channel         text NOT NULL,
  group_key       text NOT NULL,
  event           text NOT NULL CHECK (event IN ('firing', 'resolved')),
  -- The n-th firing message of the group on this channel (a reminder or newly grouped alerts add one); a resolved
  -- message closes the firing message with the same sequence.
  sequence        int NOT NULL,
  idempotency_key text NOT NULL UNIQUE,
  alert_ids       bigint[] NOT NULL,
  status          text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'silenced')),
  attempts        int NOT NULL DEFAULT 0,
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  delivered_at    timestamptz,
  UNIQUE (channel, group_key, event, sequence)
);
CREATE INDEX alert_deliveries_by_group ON ops.alert_deliveries (group_key);
CREATE INDEX alert_deliveries_by_status ON ops.alert_deliveries (status, created_at DESC);

-- Silences: while active, matching alerts are not sent (their deliveries are recorded as `silenced`).
CREATE TABLE ops.alert_silences (
  id             bigserial PRIMARY KEY,
  pipeline       text,
  kind           text,
  partition_prefix text,
  starts_at      timestamptz NOT NULL DEFAULT now(),
  ends_at        timestamptz NOT NULL,
  reason         text NOT NULL,
  created_by     text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  CHECK (ends_at > starts_at)
);

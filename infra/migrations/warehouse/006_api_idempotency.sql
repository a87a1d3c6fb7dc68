-- Responses of API requests sent with an Idempotency-Key, so that a client's retry replays the first answer instead
-- of acting twice. One row per caller (API key) and key: inserted first, as in_progress, before the request runs
-- (the primary key makes concurrent duplicates lose), then completed with the answer. Rows expire after 24 hours.
CREATE TABLE ops.api_idempotency (
  scope text NOT NULL,            -- whose key: key:<API key name>
  idempotency_key text NOT NULL,
  fingerprint text NOT NULL,      -- sha256 of method, path with query, and body: "the same request"
  state text NOT NULL CHECK (state IN ('in_progress', 'completed')),
  request_id text NOT NULL,       -- X-Request-Id of the request that ran
  owner uuid NOT NULL,            -- claim token of the request that ran (only it completes or releases the row)
  response_status integer,
  response_body text,             -- the JSON body exactly as sent
  created_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (scope, idempotency_key),
  CHECK (state = 'in_progress' OR response_status IS NOT NULL)
);

CREATE INDEX api_idempotency_expires_at ON ops.api_idempotency (expires_at);

-- GET /metrics reads the publications of the last 7 days (landing → published latency) on every scrape: an index on
-- the load time keeps that a range scan as the ledger grows.
CREATE INDEX IF NOT EXISTS load_ledger_by_loaded_at ON ops.load_ledger (loaded_at);

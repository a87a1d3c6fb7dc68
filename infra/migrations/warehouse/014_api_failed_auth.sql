-- Failed sign-ins and invalid API keys per address and minute, shared by every API process on this warehouse, so
-- N replicas behind one address still allow FABRICA_FAILED_AUTH_PER_MINUTE in total, not N times it.
CREATE TABLE ops.api_failed_auth (
  bucket text NOT NULL,
  minute bigint NOT NULL,
  n      integer NOT NULL,
  PRIMARY KEY (bucket, minute)
);

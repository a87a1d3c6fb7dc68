-- The inventory system's database (reverse ETL target). Fábrica owns only this schema in it.
CREATE SCHEMA IF NOT EXISTS inventory;

CREATE TABLE inventory.movements (
  hour          timestamptz NOT NULL,
  machine_id    text NOT NULL,
  sku           text NOT NULL,
  quantity      integer NOT NULL,
  source_sha256 text NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (hour, machine_id, sku)
);

CREATE TABLE inventory.stock_on_hand (
  sku        text PRIMARY KEY,
  quantity   bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

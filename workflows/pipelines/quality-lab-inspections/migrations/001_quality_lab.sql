-- The QA lab flow's datasets (datasets.json beside this folder; a start-up check and a test compare the two). Each is
-- replaced per lab day. Applied after the core migrations, recorded as set pipeline:quality-lab-inspections.
CREATE SCHEMA IF NOT EXISTS quality;

CREATE TABLE quality.inspections (
  inspection_day date NOT NULL,
  sample_id      text NOT NULL,
  sku            text NOT NULL,
  machine_id     text NOT NULL,
  inspected_at   timestamptz NOT NULL,
  inspector      text NOT NULL,
  weight_g       numeric NOT NULL,
  diameter_mm    numeric NOT NULL,
  coating_um     numeric,
  result         text NOT NULL CHECK (result IN ('APROVADO', 'REPROVADO')),
  defect         text,
  line_no        integer NOT NULL,
  source_sha256  text NOT NULL,
  PRIMARY KEY (inspection_day, sample_id)
);

CREATE TABLE quality.sku_quality_daily (
  day                date NOT NULL,
  sku                text NOT NULL,
  samples            integer NOT NULL,
  rejected           integer NOT NULL,
  reject_rate        double precision NOT NULL,
  weight_g_mean      double precision,
  weight_g_stddev    double precision,
  diameter_mm_mean   double precision,
  diameter_mm_stddev double precision,
  coating_um_mean    double precision,
  coating_um_stddev  double precision,
  produced_items     integer NOT NULL,
  scrapped_items     integer NOT NULL,
  source_sha256      text NOT NULL,
  refreshed_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (day, sku)
);

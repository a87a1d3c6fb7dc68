-- Per SKU of the lab day: samples, rejections and measure statistics (sample standard deviation), with the day's
-- production of the SKU from the machine-signal flow (every machine-hour of the plant-local day).
WITH q AS (
  SELECT sku,
         count(*)::int AS samples,
         (count(*) FILTER (WHERE result = 'REPROVADO'))::int AS rejected,
         avg(weight_g)::float8 AS weight_g_mean, stddev_samp(weight_g)::float8 AS weight_g_stddev,
         avg(diameter_mm)::float8 AS diameter_mm_mean, stddev_samp(diameter_mm)::float8 AS diameter_mm_stddev,
         avg(coating_um)::float8 AS coating_um_mean, stddev_samp(coating_um)::float8 AS coating_um_stddev
  FROM quality.inspections
  WHERE inspection_day = {{partition_date}}
  GROUP BY sku
), p AS (
  SELECT sku, count(*)::int AS produced, (count(*) FILTER (WHERE status = 'SCRAP'))::int AS scrapped
  FROM factory.production_events
  WHERE partition_hour >= {{partition_start}} AND partition_hour < {{partition_end}}
  GROUP BY sku
)
SELECT {{partition_date}}, q.sku, q.samples, q.rejected, q.rejected::float8 / q.samples,
       q.weight_g_mean, q.weight_g_stddev, q.diameter_mm_mean, q.diameter_mm_stddev,
       q.coating_um_mean, q.coating_um_stddev,
       COALESCE(p.produced, 0), COALESCE(p.scrapped, 0), {{source_sha256}}
FROM q LEFT JOIN p USING (sku)

-- Enrichment: events, movements and the yield mart joined with the product catalog (sources.products, synced from
-- the catalog API). Views, so they always reflect the latest catalog and the latest loads without a re-run; a SKU the
-- catalog does not know yet shows NULL name/category/cost rather than dropping rows.
CREATE VIEW factory.production_events_enriched AS
SELECT e.*, p.name AS product_name, p.category AS product_category, p.unit_cost
FROM factory.production_events e
LEFT JOIN sources.products p ON p.sku = e.sku;

CREATE VIEW factory.inventory_movements_enriched AS
SELECT m.*, p.name AS product_name, p.category AS product_category, p.unit_cost,
  m.quantity * p.unit_cost AS value
FROM factory.inventory_movements m
LEFT JOIN sources.products p ON p.sku = m.sku;

-- The cost of scrap per machine-hour and SKU: scrapped items valued at the catalog's unit cost.
CREATE VIEW factory.scrap_cost_hourly AS
SELECT e.partition_hour, e.machine_id, e.sku, p.name AS product_name, p.category AS product_category,
  count(*)::int AS scrap_items, p.unit_cost, count(*) * p.unit_cost AS scrap_cost
FROM factory.production_events e
LEFT JOIN sources.products p ON p.sku = e.sku
WHERE e.status = 'SCRAP'
GROUP BY e.partition_hour, e.machine_id, e.sku, p.name, p.category, p.unit_cost;

-- The hourly yield mart with the cost of its scrap (NULL when a scrapped SKU has no catalog cost yet).
CREATE VIEW factory.machine_yield_hourly_enriched AS
SELECT y.*, s.scrap_cost, s.unknown_cost_skus
FROM factory.machine_yield_hourly y
LEFT JOIN LATERAL (
  SELECT CASE WHEN count(*) FILTER (WHERE c.unit_cost IS NULL) = 0 THEN coalesce(sum(c.scrap_cost), 0) END AS scrap_cost,
    count(*) FILTER (WHERE c.unit_cost IS NULL)::int AS unknown_cost_skus
  FROM factory.scrap_cost_hourly c
  WHERE c.machine_id = y.machine_id AND c.partition_hour = y.partition_hour
) s ON true;

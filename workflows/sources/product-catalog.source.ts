import type { HttpJsonSourceSpec } from './spec.js';

/**
 * The product catalog's HTTP API: names, categories and unit costs per SKU, to enrich events and stock. The API has no
 * delete feed: a product removed from the catalog stays in `sources.products` as last seen.
 */
export const productCatalog: HttpJsonSourceSpec = {
  kind: 'http-json',
  id: 'product-catalog',
  version: 1,
  owner: 'data-platform',
  description: 'Products (name, category, unit cost) per SKU, from the catalog API',
  connection: 'CATALOG_API_URL',
  path: '/products',
  watermarkParam: 'updated_since',
  paging: { tokenParam: 'page_token', limitParam: 'limit', itemsField: 'items', nextTokenField: 'next_page_token' },
  request: {
    timeoutMs: 10_000,
    maxAttempts: 5,
    initialBackoffMs: 500,
    maxBackoffMs: 10_000,
    maxRetryAfterSeconds: 120,
  },
  columns: [
    { name: 'sku', type: 'text' },
    { name: 'name', type: 'text' },
    { name: 'category', type: 'text' },
    { name: 'unit_cost', type: 'numeric' },
    { name: 'updated_at', type: 'timestamptz' },
  ],
  key: 'sku',
  watermark: 'updated_at',
  lookbackSeconds: 300,
  batchSize: 100,
  target: { table: 'sources.products' },
  deletes: 'not-captured',
  schedule: { everyMinutes: 15 },
};

import type { DatasetColumn, DatasetSpec } from '../datasets/spec.js';

const col = (name: string, type: DatasetColumn['type'], nullable = false): DatasetColumn => ({
  name,
  type,
  ...(nullable ? { nullable } : {}),
});

/**
 * The source syncs' tables (migration 004) as datasets of the registry: not partitioned (a sync replaces what
 * changed since its watermark), so pipelines' SQL models can `reads` them and lineage names them.
 */
export const SOURCE_DATASETS: readonly DatasetSpec[] = [
  {
    name: 'maintenance_events',
    table: 'sources.maintenance_events',
    description: 'The records system’s maintenance events, newest version of each (mirror of maintenance-events).',
    source: 'maintenance-events',
    columns: [
      col('id', 'bigint'),
      col('machine_id', 'text'),
      col('kind', 'text'),
      col('started_at', 'timestamp'),
      col('ended_at', 'timestamp', true),
      col('notes', 'text', true),
      col('updated_at', 'timestamp'),
      col('loaded_at', 'timestamp'),
      col('deleted_at', 'timestamp', true),
    ],
    key: ['id'],
  },
  {
    name: 'maintenance_event_versions',
    table: 'sources.maintenance_event_versions',
    description: 'Every version of every maintenance event seen (point-in-time reads).',
    source: 'maintenance-events',
    columns: [
      col('id', 'bigint'),
      col('updated_at', 'timestamp'),
      col('machine_id', 'text'),
      col('kind', 'text'),
      col('started_at', 'timestamp'),
      col('ended_at', 'timestamp', true),
      col('notes', 'text', true),
      col('deleted', 'boolean'),
      col('loaded_at', 'timestamp'),
      col('run_id', 'text'),
    ],
    key: ['id', 'updated_at'],
  },
  {
    name: 'products',
    table: 'sources.products',
    description: 'The product catalog, one row per SKU (mirror of product-catalog).',
    source: 'product-catalog',
    columns: [
      col('sku', 'text'),
      col('name', 'text'),
      col('category', 'text'),
      col('unit_cost', 'decimal'),
      col('updated_at', 'timestamp'),
      col('loaded_at', 'timestamp'),
    ],
    key: ['sku'],
  },
];

import type { DatasetColumn, DatasetSpec } from '../../datasets/spec.js';

const col = (name: string, type: DatasetColumn['type'], nullable = false): DatasetColumn => ({
  name,
  type,
  ...(nullable ? { nullable } : {}),
});
const HOUR = [col('partition_hour', 'timestamp'), col('machine_id', 'text')];
const SHA = col('source_sha256', 'text');
const PARTITION = { entity: 'machine_id', time: 'partition_hour' };

/**
 * The machine-signal case's datasets (migration 002). Each staged file is COPY text in exactly this column order, so
 * load is a plain `COPY <table> (columns) FROM STDIN`.
 */
export const MACHINE_SIGNAL_DATASETS: readonly DatasetSpec[] = [
  {
    name: 'production_events',
    table: 'factory.production_events',
    description: 'One row per produced item of a machine-hour file.',
    columns: [
      ...HOUR,
      col('item_seq', 'bigint'),
      col('ts', 'timestamp'),
      col('sku', 'text'),
      col('status', 'text'),
      col('cycle_ms', 'integer'),
      col('temp_c', 'double'),
      col('vibration_mm_s', 'double'),
      col('operator', 'text'),
      col('energy_wh', 'double', true),
      col('line_no', 'integer'),
      SHA,
    ],
    key: ['machine_id', 'partition_hour', 'item_seq'],
    partitionColumns: PARTITION,
  },
  {
    name: 'quarantined_rows',
    table: 'factory.quarantined_rows',
    description: 'Lines of machine files quarantined, with their reasons.',
    columns: [
      ...HOUR,
      col('line_no', 'integer'),
      col('reason', 'text'),
      col('column_name', 'text', true),
      col('detail', 'text'),
      col('raw', 'text'),
      SHA,
    ],
    key: ['machine_id', 'partition_hour', 'line_no'],
    partitionColumns: PARTITION,
  },
  {
    name: 'inventory_movements',
    table: 'factory.inventory_movements',
    description: 'OK items per machine-hour and SKU: what the inventory system receives.',
    columns: [...HOUR, col('sku', 'text'), col('quantity', 'integer'), SHA],
    key: ['machine_id', 'partition_hour', 'sku'],
    partitionColumns: PARTITION,
  },
  {
    name: 'machine_yield_hourly',
    table: 'factory.machine_yield_hourly',
    description: 'The machine-yield mart: one row per machine-hour.',
    columns: [
      ...HOUR,
      col('items', 'integer'),
      col('ok', 'integer'),
      col('scrap', 'integer'),
      col('rework', 'integer'),
      col('yield_pct', 'double', true),
      col('cycle_ms_mean', 'double', true),
      col('cycle_ms_p95', 'double', true),
      col('temp_c_mean', 'double', true),
      col('vibration_max', 'double', true),
      col('downtime_minutes', 'double'),
      col('energy_wh', 'double', true),
      col('quarantined', 'integer'),
      col('duplicates', 'integer'),
      col('firmware', 'text'),
      SHA,
    ],
    key: ['machine_id', 'partition_hour'],
    partitionColumns: PARTITION,
  },
];

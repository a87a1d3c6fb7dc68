/**
 * Column order of the machine-signal case's staged datasets: each staged TSV is COPY text in exactly the column
 * order of its warehouse table, so load is a plain `COPY factory.<dataset> (columns) FROM STDIN`.
 */
export const DATASET_COLUMNS = {
  production_events: [
    'partition_hour',
    'machine_id',
    'item_seq',
    'ts',
    'sku',
    'status',
    'cycle_ms',
    'temp_c',
    'vibration_mm_s',
    'operator',
    'energy_wh',
    'line_no',
    'source_sha256',
  ],
  quarantined_rows: [
    'partition_hour',
    'machine_id',
    'line_no',
    'reason',
    'column_name',
    'detail',
    'raw',
    'source_sha256',
  ],
  inventory_movements: ['partition_hour', 'machine_id', 'sku', 'quantity', 'source_sha256'],
  machine_yield_hourly: [
    'partition_hour',
    'machine_id',
    'items',
    'ok',
    'scrap',
    'rework',
    'yield_pct',
    'cycle_ms_mean',
    'cycle_ms_p95',
    'temp_c_mean',
    'vibration_max',
    'downtime_minutes',
    'energy_wh',
    'quarantined',
    'duplicates',
    'firmware',
    'source_sha256',
  ],
} as const;

/** A dataset of the case. */
export type MachineSignalDataset = keyof typeof DATASET_COLUMNS;

/** Warehouse table of a dataset. */
export function tableOf(dataset: string): string {
  if (!(dataset in DATASET_COLUMNS)) throw new Error(`unknown dataset ${dataset}`);
  return `factory.${dataset}`;
}

import type { PipelineSpec } from '../spec.js';

/**
 * The flagship case: networked machines drop one TXT file per machine-hour (file contract v1) that feeds the
 * inventory system, the machine yield mart and, later, maintenance features.
 */
export const factoryMachineSignals: PipelineSpec = {
  id: 'factory-machine-signals',
  version: 2,
  owner: 'data-engineering@fabrica.example',
  description:
    'Machine signal files (contract v1) → production events, inventory movements and stock, hourly yield mart.',
  partitioning: {
    kind: 'entity-hour',
    entity: 'machine',
    timeZone: 'America/Sao_Paulo',
    entities: Array.from({ length: 15 }, (_, i) => `M${String(i + 1).padStart(2, '0')}`),
    calendar: { weekdays: [1, 2, 3, 4, 5], hours: [6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17] },
  },
  // The partition comes from the file's header (the header decides, not the name); a file is complete with its trailer.
  source: {
    kind: 'landing-files',
    // The machines' folder and the inventory database are on the plant's network: edge workers reach them.
    placement: 'edge',
    prefix: '',
    fileNamePattern: '^[^/]*\\.txt$',
    fileName: '{entity}_{yyyy}{MM}{dd}T{HH}.txt',
    partitionFrom: 'header',
    completeWhen: { kind: 'trailer' },
  },
  staging: { format: 'machine-signal-v1' },
  transforms: ['inventory-movements', 'machine-yield-hourly', 'machine-quarantine'],
  load: { datasets: ['production_events', 'quarantined_rows', 'inventory_movements', 'machine_yield_hourly'] },
  // Reverse ETL to the inventory system: the machine-hour's movements replaced, stock recomputed as their sum.
  serve: [
    {
      kind: 'reverse-etl',
      placement: 'edge',
      connection: 'inventory',
      dataset: 'inventory_movements',
      columns: ['sku', 'quantity', 'source_sha256'],
      table: 'inventory.movements',
      partitionColumns: { entity: 'machine_id', time: 'hour' },
      aggregate: {
        table: 'inventory.stock_on_hand',
        key: 'sku',
        value: 'quantity',
        sumOf: 'quantity',
        updatedAt: 'updated_at',
      },
    },
  ],
  freshness: { maxStalenessMinutes: 120 },
  // Files of hour H are complete at H+1:00; the batch fires at H+1:07 for the 12 working hours, Monday to Friday.
  schedule: {
    timeZone: 'America/Sao_Paulo',
    hours: [7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18],
    minute: 7,
    daysOfWeek: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'],
    sweep: { hour: 22, minute: 30, lookbackDays: 7 },
    overlap: 'BUFFER_ONE',
    catchupWindow: '1 day',
  },
  quality: { maxBadRowRatio: 0.01, timestampToleranceMinutes: 5 },
};

import type { PipelineSpec } from '../spec.js';

/**
 * The flagship case: networked machines drop one TXT file per machine-hour (file contract v1) that feeds the
 * inventory system, the machine yield mart and, later, maintenance features.
 */
export const factoryMachineSignals: PipelineSpec = {
  id: 'factory-machine-signals',
  version: 1,
  owner: 'data-engineering@fabrica.example',
  description:
    'Machine signal files (contract v1) → production events, inventory movements and stock, hourly yield mart.',
  partitioning: {
    kind: 'entity-hour',
    entity: 'machine',
    timeZone: 'America/Sao_Paulo',
    utcOffset: '-03:00',
    entities: Array.from({ length: 15 }, (_, i) => `M${String(i + 1).padStart(2, '0')}`),
    calendar: { weekdays: [1, 2, 3, 4, 5], hours: [6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17] },
  },
  source: { kind: 'landing-files', prefix: '', fileNamePattern: '^[^/]*\\.txt$' },
  staging: { format: 'machine-signal-v1' },
  transforms: ['inventory-movements', 'machine-yield-hourly'],
  load: { datasets: ['production_events', 'quarantined_rows', 'inventory_movements', 'machine_yield_hourly'] },
  serve: [{ kind: 'inventory-db' }],
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

import type { FeatureSetSpec } from './spec.js';

/**
 * The typed, de-duplicated machine events as they are, for data scientists who build their own features. Exported
 * rows come from partitions first published at or before the export's `asOf`.
 */
export const productionEvents: FeatureSetSpec = {
  id: 'production-events',
  version: 1,
  owner: 'data-engineering',
  description: 'One row per produced item (factory.production_events), by machine-hour partition.',
  grain: 'events',
  entityColumn: 'machine_id',
  timeColumn: 'ts',
  timeZone: 'America/Sao_Paulo',
  query: 'production-events-v1',
  columns: [
    { name: 'partition_hour', type: 'timestamp', nullable: false, description: 'Start of the machine-hour.' },
    { name: 'machine_id', type: 'string', nullable: false, description: 'Machine.' },
    { name: 'item_seq', type: 'int64', nullable: false, description: 'Item sequence number of the machine.' },
    { name: 'ts', type: 'timestamp', nullable: false, description: 'When the item was produced.' },
    { name: 'sku', type: 'string', nullable: false, description: 'Product.' },
    { name: 'status', type: 'string', nullable: false, description: 'OK, SCRAP or REWORK.' },
    { name: 'cycle_ms', type: 'int32', nullable: false, description: 'Cycle time (ms).' },
    { name: 'temp_c', type: 'double', nullable: false, description: 'Temperature (°C).' },
    { name: 'vibration_mm_s', type: 'double', nullable: false, description: 'Vibration (mm/s).' },
    { name: 'operator', type: 'string', nullable: false, description: 'Operator on shift.' },
    { name: 'energy_wh', type: 'double', nullable: true, description: 'Energy (Wh), firmware 3.x only.' },
  ],
  inputs: { pipelines: ['factory-machine-signals'], datasets: ['production_events'], lookbackDays: 0, sources: [] },
  maxRangeDays: 400,
  chunkDays: 1,
};

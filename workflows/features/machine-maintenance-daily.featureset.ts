import type { FeatureSetSpec } from './spec.js';

const d = (name: string, description: string, nullable = true) =>
  ({ name, type: 'double', nullable, description }) as const;

/**
 * The case's maintenance-prediction features: one row per machine and plant-local day D on which the machine
 * produced. Every value uses only facts whose event time is before the end of D, and maintenance records only in the
 * version known at the end of D (their `updated_at`); the label looks 7 days ahead and only training exports carry it.
 */
export const machineMaintenanceDaily: FeatureSetSpec = {
  id: 'machine-maintenance-daily',
  version: 1,
  owner: 'ml-engineering',
  description:
    'Per machine-day: rolling 1/7-day vibration and temperature, scrap rate, cycle-time drift against a ' +
    '30-day baseline, downtime, hours since the last maintenance; label: maintenance within the next 7 days.',
  grain: 'entity-day',
  entityColumn: 'machine_id',
  timeColumn: 'feature_date',
  timeZone: 'America/Sao_Paulo',
  query: 'machine-maintenance-daily-v1',
  columns: [
    { name: 'machine_id', type: 'string', nullable: false, description: 'Machine (entity).' },
    { name: 'feature_date', type: 'date', nullable: false, description: 'Plant-local day D the row describes.' },
    {
      name: 'as_of',
      type: 'timestamp',
      nullable: false,
      description: 'End of D: the row uses nothing known after this instant.',
    },
    { name: 'hours_observed_1d', type: 'int32', nullable: false, description: 'Machine-hours loaded on D.' },
    { name: 'items_1d', type: 'int64', nullable: false, description: 'Items produced on D.' },
    d('scrap_rate_1d', 'Scrap items / items on D.'),
    d('scrap_rate_7d', 'Scrap items / items over D-6..D.'),
    d('vibration_max_1d', 'Highest vibration (mm/s) on D.'),
    d('vibration_max_7d', 'Highest vibration (mm/s) over D-6..D.'),
    d('vibration_mean_7d', 'Mean of the hourly maximum vibration over D-6..D.'),
    d('temp_mean_1d', 'Item-weighted mean temperature (°C) on D.'),
    d('temp_mean_7d', 'Item-weighted mean temperature (°C) over D-6..D.'),
    d('cycle_ms_mean_7d', 'Item-weighted mean cycle time (ms) over D-6..D.'),
    d('cycle_ms_baseline_30d', 'Item-weighted mean cycle time (ms) over D-30..D-1.'),
    d('cycle_time_drift_pct', '(cycle_ms_mean_7d / cycle_ms_baseline_30d - 1) × 100.'),
    d('downtime_minutes_1d', 'Downtime minutes (gaps over 120 s) on D.', false),
    d('downtime_minutes_7d', 'Downtime minutes over D-6..D.', false),
    d('hours_since_maintenance', 'Hours from the end of the last maintenance known at the end of D to the end of D.'),
    {
      name: 'maintenance_count_30d',
      type: 'int32',
      nullable: false,
      description: 'Maintenance events started in D-29..D, as known at the end of D.',
    },
  ],
  label: {
    name: 'label_maintenance_next_7d',
    type: 'boolean',
    nullable: false,
    horizonDays: 7,
    description:
      'Training only: a maintenance event (as known when the export ran) starts within 7 days after the end of D.',
  },
  inputs: {
    pipelines: ['factory-machine-signals'],
    datasets: ['machine_yield_hourly'],
    lookbackDays: 30,
    sources: ['maintenance-events'],
  },
  maxRangeDays: 3660,
  chunkDays: 31,
};

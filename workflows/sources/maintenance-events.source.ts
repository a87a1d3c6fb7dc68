import type { DatabaseSourceSpec } from './spec.js';

/**
 * Maintenance events of the manufacturing-records system, read from its PostgreSQL database through a read-only
 * role, incrementally by `updated_at`. Every version seen is kept (point-in-time features read them as of a day);
 * hard deletes are found by comparing keys.
 */
export const maintenanceEvents: DatabaseSourceSpec = {
  kind: 'database',
  id: 'maintenance-events',
  version: 1,
  owner: 'data-platform',
  description: 'Maintenance events (preventive, corrective) per machine, from the manufacturing-records database',
  connection: 'RECORDS_DATABASE_URL',
  // The records system is on the plant's network: an edge worker reads it, the cloud commits it.
  placement: 'edge',
  table: 'public.maintenance_events',
  columns: [
    { name: 'id', type: 'bigint' },
    { name: 'machine_id', type: 'text' },
    { name: 'kind', type: 'text', values: ['preventive', 'corrective'] },
    { name: 'started_at', type: 'timestamptz' },
    { name: 'ended_at', type: 'timestamptz', nullable: true },
    { name: 'notes', type: 'text', nullable: true },
    { name: 'updated_at', type: 'timestamptz' },
  ],
  key: 'id',
  watermark: 'updated_at',
  // Longer than any transaction of the records system is expected to stay open.
  lookbackSeconds: 600,
  batchSize: 5000,
  target: { table: 'sources.maintenance_events', versions: 'sources.maintenance_event_versions' },
  deletes: 'reconcile-keys',
  schedule: { everyMinutes: 15 },
};

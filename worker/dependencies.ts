import pg from 'pg';
import type { AlertConfig } from '../activities/alerts/sink.js';
import type { ObjectStore } from '../activities/storage/object-store.js';
import { createObjectStore } from '../activities/storage/index.js';
import { SourceConnections } from '../activities/sources/connections.js';
import type { FabricaConfig, LakeConfig } from './config.js';

/** Everything the activities need, built once per process from the configuration and injected (never read from env). */
export interface Dependencies {
  /** The warehouse (datasets, `ops` run catalog). */
  warehouse: pg.Pool;
  /** The inventory system's database (reverse-ETL target). */
  inventory: pg.Pool;
  /** The lake: raw, staged, quarantine and serving zones. */
  lake: ObjectStore;
  /** The landing area the sensor watches. */
  landing: ObjectStore;
  /** The cloud landing area an edge worker relays the plant's landing folder into (edge role only). */
  relay?: ObjectStore;
  /** The external sources' connections (a small pool per source database, created on first use). */
  sources: SourceConnections;
  /** Alert channels and delivery settings (absent: alerts stay rows in `ops.alerts`). */
  alerts?: AlertConfig;
  /** Closes pools. */
  close(): Promise<void>;
}

/** Maps a lake/landing location to the object store factory's input. */
export function storeFor(location: LakeConfig): ObjectStore {
  if (location.kind === 'fs') return createObjectStore({ kind: 'fs', root: location.root });
  return createObjectStore({
    kind: 's3',
    bucket: location.bucket,
    prefix: location.prefix,
    endpoint: location.endpoint,
    region: location.region,
    forcePathStyle: location.forcePathStyle,
  });
}

/** Builds the process's dependencies. */
export function createDependencies(
  config: Pick<FabricaConfig, 'databaseUrl' | 'inventoryDatabaseUrl' | 'lake' | 'landing'> &
    Partial<Pick<FabricaConfig, 'sources' | 'alerts' | 'publicUrl' | 'landingRelay'>>,
): Dependencies {
  const warehouse = new pg.Pool({ connectionString: config.databaseUrl, max: 10, application_name: 'fabrica' });
  const inventory = new pg.Pool({ connectionString: config.inventoryDatabaseUrl, max: 4, application_name: 'fabrica' });
  // An idle pooled client whose server went away emits 'error'; the next query reconnects, so only log it.
  warehouse.on('error', (err) =>
    console.error(JSON.stringify({ level: 'warn', msg: 'warehouse pool', err: err.message })),
  );
  inventory.on('error', (err) =>
    console.error(JSON.stringify({ level: 'warn', msg: 'inventory pool', err: err.message })),
  );
  // A checked-out client has no pool listener: its socket dying (the server killed) emits 'error' on the client,
  // which would crash the process. Its queries already reject with that error (the step fails and is retried) and
  // the pool discards it on release, so only log it.
  for (const [name, pool] of [
    ['warehouse', warehouse],
    ['inventory', inventory],
  ] as const)
    pool.on('connect', (client) =>
      client.on('error', (err) =>
        console.error(JSON.stringify({ level: 'warn', msg: `${name} connection`, err: err.message })),
      ),
    );
  const sources = new SourceConnections(config.sources);
  return {
    warehouse,
    inventory,
    lake: storeFor(config.lake),
    landing: storeFor(config.landing),
    ...(config.landingRelay ? { relay: storeFor(config.landingRelay) } : {}),
    sources,
    alerts: config.alerts && {
      channels: config.alerts.channels,
      settings: {
        groupWaitSeconds: config.alerts.groupWaitSeconds,
        repeatIntervalSeconds: config.alerts.repeatIntervalSeconds,
        retryForSeconds: config.alerts.retryForSeconds,
      },
      publicUrl: config.publicUrl ?? 'http://localhost:3000',
    },
    async close() {
      await Promise.all([warehouse.end(), inventory.end(), sources.close()]);
    },
  };
}

import type pg from 'pg';
import type { ReadyFile } from '../workflows/landing-sensor.workflow.js';
import { partitionKey } from '../workflows/partitions.js';
import type { PipelineSpec } from '../workflows/spec.js';
import { heartbeat } from './activity-context.js';
import { Catalog } from './catalog.js';
import { hasTrailer } from './formats/machine-signal-v1.js';
import type { ObjectInfo, ObjectStore } from './storage/object-store.js';

/** What the sensor needs. */
export interface SensorDeps {
  warehouse: pg.Pool;
  landing: ObjectStore;
}

const HEADER = /^#machine=([A-Za-z0-9_-]{1,32});.*hour=(\d{4}-\d{2}-\d{2}T\d{2}):00:00/;

/** The partition a landed file belongs to, read from its header line (the header decides, not the file name). */
async function partitionOf(landing: ObjectStore, key: string): Promise<string | undefined> {
  const head = (await landing.getRange(key, 0, 512)).toString('latin1');
  const m = HEADER.exec(head.split('\n', 1)[0] ?? '');
  return m ? partitionKey(m[1]!, m[2]!) : undefined;
}

/** States of a landed file version in `ops.landed_files`. */
export type FileState = 'waiting' | 'complete' | 'dispatched' | 'rejected';

/** Decides the state of a landed object version: waiting (no trailer yet), rejected (no header) or complete. */
export async function classify(
  deps: Pick<SensorDeps, 'landing'>,
  o: ObjectInfo,
): Promise<{ state: FileState; partition?: string; detail?: string }> {
  const tail = await deps.landing.getRange(o.key, Math.max(0, o.size - 256), o.size);
  if (!hasTrailer(tail)) return { state: 'waiting', detail: 'no trailer yet (still being written, or truncated)' };
  const partition = await partitionOf(deps.landing, o.key);
  if (!partition) return { state: 'rejected', detail: 'no valid header line (#machine=…;hour=…)' };
  return { state: 'complete', partition };
}

/** Creates the sensor's activities. */
export function createSensorActivities(deps: SensorDeps) {
  return {
    /**
     * Lists the landing area and returns every complete landed file version that no run was started for. Versions
     * are identified by (key, etag): a file delivered again or changed is a new version. Files still being written
     * are recorded as waiting and raise an alert once they stay incomplete past the freshness SLA.
     */
    async scanLanding({ spec }: { spec: PipelineSpec }): Promise<ReadyFile[]> {
      const known = await deps.warehouse.query<{
        object_key: string;
        etag: string;
        state: FileState;
        partition_key: string | null;
        first_seen_at: Date;
      }>('SELECT object_key, etag, state, partition_key, first_seen_at FROM ops.landed_files WHERE pipeline = $1', [
        spec.id,
      ]);
      const seen = new Map(known.rows.map((r) => [`${r.object_key}\u0000${r.etag}`, r]));
      const pattern = new RegExp(spec.source.fileNamePattern);
      const prefix = spec.source.prefix ? `${spec.source.prefix.replace(/\/$/, '')}/` : '';
      const ready: ReadyFile[] = [];
      const catalog = new Catalog(deps.warehouse);
      let listed = 0;
      for await (const o of deps.landing.list(prefix)) {
        if (++listed % 500 === 0) heartbeat({ listed });
        if (!pattern.test(o.key.slice(prefix.length))) continue;
        const row = seen.get(`${o.key}\u0000${o.etag}`);
        if (row && row.state !== 'waiting') {
          if (row.state === 'complete' && row.partition_key)
            ready.push({ sourceKey: o.key, partition: row.partition_key });
          continue;
        }
        const c = await classify(deps, o);
        await deps.warehouse.query(
          `INSERT INTO ops.landed_files (pipeline, object_key, etag, size, partition_key, state, detail, completed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $6 = 'complete' THEN now() END)
           ON CONFLICT (pipeline, object_key, etag) DO UPDATE SET state = EXCLUDED.state, partition_key = EXCLUDED.partition_key,
             detail = EXCLUDED.detail, completed_at = EXCLUDED.completed_at`,
          [spec.id, o.key, o.etag, o.size, c.partition ?? null, c.state, c.detail ?? null],
        );
        if (c.state === 'complete') ready.push({ sourceKey: o.key, partition: c.partition! });
        const ageMinutes = row ? (Date.now() - row.first_seen_at.getTime()) / 60_000 : 0;
        if (c.state === 'waiting' && ageMinutes > spec.freshness.maxStalenessMinutes) {
          await catalog.alert({
            dedupKey: `incomplete_file:${spec.id}:${o.key}:${o.etag}`,
            kind: 'incomplete_file',
            severity: 'warning',
            pipeline: spec.id,
            message: `${o.key} is still incomplete ${Math.round(ageMinutes)} min after it landed (${c.detail})`,
            details: { key: o.key, size: o.size },
          });
        }
      }
      return ready;
    },

    /** Marks landed file versions as dispatched (a run was started for them). */
    async markDispatched({ spec, files }: { spec: PipelineSpec; files: ReadyFile[] }): Promise<void> {
      await deps.warehouse.query(
        `UPDATE ops.landed_files SET state = 'dispatched' WHERE pipeline = $1 AND state = 'complete' AND object_key = ANY($2)`,
        [spec.id, files.map((f) => f.sourceKey)],
      );
    },
  };
}

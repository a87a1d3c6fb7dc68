import type pg from 'pg';
import type { ReadyFile } from '../workflows/landing-sensor.workflow.js';
import type { PipelineSpec } from '../workflows/spec.js';
import { heartbeat } from './activity-context.js';
import { Catalog } from './catalog.js';
import { formatOf } from './formats/registry.js';
import { landingPrefix, partitionOfName } from './landing-names.js';
import type { ObjectInfo, ObjectStore } from './storage/object-store.js';
import { alertSinkFor, type AlertConfig } from './alerts/sink.js';

/** What the sensor needs. */
export interface SensorDeps {
  warehouse: pg.Pool;
  landing: ObjectStore;
  /** Alert delivery (channels configured): raised alerts signal their group's delivery workflow. */
  alerts?: AlertConfig;
}

/** Bytes read from a file's start to find its partition in its first row. */
const HEAD_BYTES = 64 * 1024;

/** States of a landed file version in `ops.landed_files`. */
export type FileState = 'waiting' | 'complete' | 'dispatched' | 'rejected';

/**
 * Decides the state of a landed object version by the pipeline's source: waiting (not complete yet: no trailer, no
 * marker, or its size not stable long enough), rejected (no partition can be told) or complete with its partition.
 * `seenForSeconds` is how long this exact version has been seen (for `stable-size`).
 */
export async function classify(
  deps: Pick<SensorDeps, 'landing'>,
  spec: PipelineSpec,
  o: ObjectInfo,
  seenForSeconds = 0,
): Promise<{ state: FileState; partition?: string; detail?: string }> {
  const format = formatOf(spec);
  const done = spec.source.completeWhen;
  if (done.kind === 'trailer') {
    const tail = await deps.landing.getRange(o.key, Math.max(0, o.size - 256), o.size);
    if (!format.hasTrailer!(tail))
      return { state: 'waiting', detail: 'no trailer yet (still being written, or truncated)' };
  } else if (done.kind === 'marker') {
    if (!(await deps.landing.head(`${o.key}${done.suffix}`)))
      return { state: 'waiting', detail: `no marker ${o.key.split('/').pop()}${done.suffix} yet` };
  } else if (seenForSeconds < done.seconds) {
    return { state: 'waiting', detail: `size not stable for ${done.seconds} s yet` };
  }
  const partition = await partitionOf(deps, spec, o);
  if (partition) return { state: 'complete', partition };
  return {
    state: 'rejected',
    detail:
      spec.source.partitionFrom === 'file-name'
        ? `file name ${o.key.slice(landingPrefix(spec.source).length)} does not match ${spec.source.fileName} with a real date and local hour in ${spec.partitioning.timeZone}`
        : `no partition in the file's ${spec.source.partitionFrom} (format ${format.id})`,
  };
}

/** The partition a landed file names (by its file name, or its first bytes), or undefined when it names none. */
async function partitionOf(
  deps: Pick<SensorDeps, 'landing'>,
  spec: PipelineSpec,
  o: ObjectInfo,
): Promise<string | undefined> {
  if (spec.source.partitionFrom !== 'file-name') {
    const size = spec.source.partitionFrom === 'header' ? 512 : HEAD_BYTES;
    return formatOf(spec).partitionFromHead!(await deps.landing.getRange(o.key, 0, Math.min(size, o.size)), spec);
  }
  return partitionOfName(spec.source, spec.partitioning, o.key.slice(landingPrefix(spec.source).length));
}

/** Creates the sensor's activities. */
export function createSensorActivities(deps: SensorDeps) {
  return {
    /**
     * Lists the landing area and returns every complete landed file version that no run was started for. Versions
     * are identified by (key, etag): a file delivered again or changed is a new version. Files still being written
     * are recorded as waiting and raise an alert once they stay incomplete past the freshness SLA. `now` (ISO-8601,
     * default the database's clock) is when the scan happens: a file first seen is stamped with it, and its age is
     * measured to it.
     */
    async scanLanding({ spec, now }: { spec: PipelineSpec; now?: string }): Promise<ReadyFile[]> {
      const known = await deps.warehouse.query<{
        object_key: string;
        etag: string;
        state: FileState;
        partition_key: string | null;
        age_seconds: number;
      }>(
        'SELECT object_key, etag, state, partition_key, EXTRACT(EPOCH FROM coalesce($2::timestamptz, now()) - first_seen_at)::float8 AS age_seconds FROM ops.landed_files WHERE pipeline = $1',
        [spec.id, now ?? null],
      );
      const seen = new Map(known.rows.map((r) => [`${r.object_key}\u0000${r.etag}`, r]));
      const pattern = new RegExp(spec.source.fileNamePattern);
      const prefix = landingPrefix(spec.source);
      const ready: ReadyFile[] = [];
      const catalog = new Catalog(deps.warehouse, alertSinkFor(deps));
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
        const c = await classify(deps, spec, o, row?.age_seconds ?? 0);
        await deps.warehouse.query(
          `INSERT INTO ops.landed_files (pipeline, object_key, etag, size, partition_key, state, detail, completed_at, first_seen_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $6 = 'complete' THEN coalesce($8::timestamptz, now()) END,
                   coalesce($8::timestamptz, now()))
           ON CONFLICT (pipeline, object_key, etag) DO UPDATE SET state = EXCLUDED.state, partition_key = EXCLUDED.partition_key,
             detail = EXCLUDED.detail, completed_at = EXCLUDED.completed_at`,
          [spec.id, o.key, o.etag, o.size, c.partition ?? null, c.state, c.detail ?? null, now ?? null],
        );
        if (c.state === 'complete') ready.push({ sourceKey: o.key, partition: c.partition! });
        const ageMinutes = (row?.age_seconds ?? 0) / 60;
        if (c.state === 'waiting' && ageMinutes > spec.freshness.maxStalenessMinutes) {
          await catalog.alert({
            dedupKey: `incomplete_file:${spec.id}:${o.key}:${o.etag}`,
            kind: 'incomplete_file',
            severity: 'warning',
            pipeline: spec.id,
            // The partition it will be (a waiting file has none recorded yet), so its publication resolves the alert.
            partition: c.partition ?? (await partitionOf(deps, spec, o).catch(() => undefined)),
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

import { createHash } from 'node:crypto';
import type pg from 'pg';
import { parsePartition, partitionsInRange, partitionWindow, periodAt, shiftPeriod } from '../workflows/partitions.js';
import type { ScheduledActivities } from '../workflows/scheduled.workflow.js';
import type { PipelineSpec } from '../workflows/spec.js';
import { heartbeat } from './activity-context.js';
import { Catalog } from './catalog.js';
import { landingPrefix } from './landing-names.js';
import { classify } from './sensor.js';
import type { ObjectInfo, ObjectStore } from './storage/object-store.js';
import { redispatchUnplanned } from './alerts/redispatch.js';
import { alertSinkFor, type AlertConfig } from './alerts/sink.js';

/** What the sweep needs. */
export interface SweepDeps {
  warehouse: pg.Pool;
  landing: ObjectStore;
  /** Alert delivery (channels configured): raised alerts signal their group's delivery workflow. */
  alerts?: AlertConfig;
}

interface LandedVersion {
  key: string;
  partition: string;
  sha256: string;
  completedAt: Date;
}

async function sha256Of(store: ObjectStore, key: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of await store.get(key)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Every complete landed file version with its partition and content hash (hashing only versions never seen). */
async function landedVersions(deps: SweepDeps, spec: PipelineSpec): Promise<LandedVersion[]> {
  const known = await deps.warehouse.query<{
    object_key: string;
    etag: string;
    partition_key: string | null;
    content_sha256: string | null;
    completed_at: Date | null;
  }>(
    "SELECT object_key, etag, partition_key, content_sha256, completed_at FROM ops.landed_files WHERE pipeline = $1 AND state IN ('complete', 'dispatched')",
    [spec.id],
  );
  const memo = new Map(known.rows.map((r) => [`${r.object_key}\u0000${r.etag}`, r]));
  const pattern = new RegExp(spec.source.fileNamePattern);
  const prefix = landingPrefix(spec.source);
  const out: LandedVersion[] = [];
  for await (const o of deps.landing.list(prefix)) {
    if (!pattern.test(o.key.slice(prefix.length))) continue;
    heartbeat({ key: o.key });
    const row = memo.get(`${o.key}\u0000${o.etag}`);
    if (row?.partition_key && row.content_sha256) {
      out.push({
        key: o.key,
        partition: row.partition_key,
        sha256: row.content_sha256,
        completedAt: row.completed_at ?? new Date(0),
      });
      continue;
    }
    const version = await examine(deps, spec, o);
    if (version) out.push(version);
  }
  return out;
}

async function examine(deps: SweepDeps, spec: PipelineSpec, o: ObjectInfo): Promise<LandedVersion | undefined> {
  const c = await classify(deps, spec, o, Infinity);
  const sha = c.state === 'complete' ? await sha256Of(deps.landing, o.key) : null;
  const res = await deps.warehouse.query<{ completed_at: Date | null }>(
    `INSERT INTO ops.landed_files (pipeline, object_key, etag, size, partition_key, state, detail, completed_at, content_sha256)
     VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $6 = 'complete' THEN now() END, $8)
     ON CONFLICT (pipeline, object_key, etag) DO UPDATE SET content_sha256 = EXCLUDED.content_sha256,
       partition_key = EXCLUDED.partition_key, completed_at = COALESCE(ops.landed_files.completed_at, EXCLUDED.completed_at)
     RETURNING completed_at`,
    [spec.id, o.key, o.etag, o.size, c.partition ?? null, c.state, c.detail ?? null, sha],
  );
  if (c.state !== 'complete' || !sha) return undefined;
  return { key: o.key, partition: c.partition!, sha256: sha, completedAt: res.rows[0]?.completed_at ?? new Date() };
}

/** Creates the scheduled workflows' activities. */
export function createSweepActivities(deps: SweepDeps): ScheduledActivities {
  return {
    /**
     * The partitions whose newest complete landed file (by completion time) holds other content than what is
     * published — new, late or changed files. Read-mostly: it only records what it learned about landed files.
     */
    async sweepLanding({ spec }) {
      const newest = new Map<string, LandedVersion>();
      for (const v of await landedVersions(deps, spec)) {
        const seen = newest.get(v.partition);
        if (!seen || v.completedAt > seen.completedAt) newest.set(v.partition, v);
      }
      const published = await deps.warehouse.query<{ partition_key: string; content_sha256: string }>(
        'SELECT partition_key, content_sha256 FROM ops.partition_state WHERE dataset = $1 AND partition_key = ANY($2)',
        [spec.load.datasets[0], [...newest.keys()]],
      );
      const current = new Map(published.rows.map((r) => [r.partition_key, r.content_sha256]));
      return [...newest.values()]
        .filter((v) => current.get(v.partition) !== v.sha256)
        .map((v) => v.partition)
        .sort();
    },

    /**
     * Freshness: every partition the calendar expected in the last `lookbackDays` whose period (hour or day) ended
     * more than the SLA before `nowMs`, with nothing published and no complete landed file, gets one `freshness`
     * alert (deduplicated).
     */
    async checkFreshness({ spec, nowMs, lookbackDays }) {
      const p = spec.partitioning;
      const hourly = p.kind === 'entity-hour';
      const slaPeriods = Math.ceil(spec.freshness.maxStalenessMinutes / (hourly ? 60 : 1440));
      const now = periodAt(p, nowMs);
      const to = shiftPeriod(p, now, -1 - slaPeriods);
      const from = shiftPeriod(p, now, -lookbackDays * (hourly ? 24 : 1));
      const expected = partitionsInRange(spec.partitioning, from, to);
      const sink = alertSinkFor(deps);
      // The outbox's safety net: groups whose raise was never planned (a lost signal) are signalled again.
      if (sink) await redispatchUnplanned(deps.warehouse, sink);
      if (expected.length === 0) return { stale: [] };
      const have = await deps.warehouse.query<{ partition_key: string }>(
        `SELECT partition_key FROM ops.partition_state WHERE dataset = $1 AND partition_key = ANY($2)
         UNION SELECT partition_key FROM ops.landed_files WHERE pipeline = $3 AND state IN ('complete', 'dispatched') AND partition_key = ANY($2)`,
        [spec.load.datasets[0], expected, spec.id],
      );
      const present = new Set(have.rows.map((r) => r.partition_key));
      const stale = expected.filter((k) => !present.has(k));
      const catalog = new Catalog(deps.warehouse, sink);
      for (const partition of stale) {
        const parts = parsePartition(p, partition)!;
        const what = parts.entity ? `${parts.entity} at ${partitionWindow(p, partition)?.start}` : parts.period;
        await catalog.alert({
          dedupKey: `freshness:${spec.id}:${partition}`,
          kind: 'freshness',
          severity: 'warning',
          pipeline: spec.id,
          partition,
          message: `${spec.id} ${partition}: no complete file for ${what} more than ${spec.freshness.maxStalenessMinutes} min after its period (source offline, or file missing or incomplete)`,
          details: { entity: parts.entity ?? null, period: parts.period },
        });
      }
      return { stale };
    },
  };
}

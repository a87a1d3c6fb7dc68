import type pg from 'pg';
import { expectedKey } from './landing-names.js';
import type { ObjectStore } from './storage/object-store.js';
import type { BackfillActivities } from '../workflows/backfill.workflow.js';

/** What the backfill activities need. */
export interface BackfillDeps {
  warehouse: pg.Pool;
  landing: ObjectStore;
}

/** Creates the backfill's activities. */
export function createBackfillActivities(deps: BackfillDeps): BackfillActivities {
  return {
    /**
     * Selects from a page of partitions: `missing` keeps those whose first dataset publishes nothing yet; `failed`
     * keeps those whose latest run failed; `landed` keeps those with a landed file (seen by the sensor, or under the
     * source's file name). Read-only, so retries are harmless.
     */
    async selectPartitions({ spec, partitions, mode }) {
      if (mode === 'landed') {
        const seen = await deps.warehouse.query<{ partition_key: string }>(
          "SELECT DISTINCT partition_key FROM ops.landed_files WHERE pipeline = $1 AND partition_key = ANY($2) AND state IN ('complete', 'dispatched')",
          [spec.id, partitions],
        );
        const landed = new Set(seen.rows.map((r) => r.partition_key));
        for (const p of partitions.filter((x) => !landed.has(x))) {
          const key = expectedKey(spec.source, spec.partitioning, p);
          if (key && (await deps.landing.head(key))) landed.add(p);
        }
        return partitions.filter((p) => landed.has(p));
      }
      if (mode === 'missing') {
        const res = await deps.warehouse.query<{ partition_key: string }>(
          'SELECT partition_key FROM ops.partition_state WHERE dataset = $1 AND partition_key = ANY($2)',
          [spec.load.datasets[0], partitions],
        );
        const published = new Set(res.rows.map((r) => r.partition_key));
        return partitions.filter((p) => !published.has(p));
      }
      const res = await deps.warehouse.query<{ partition_key: string; status: string }>(
        `SELECT DISTINCT ON (partition_key) partition_key, status FROM ops.runs
         WHERE pipeline = $1 AND partition_key = ANY($2) AND status <> 'running'
         ORDER BY partition_key, started_at DESC`,
        [spec.id, partitions],
      );
      const failed = new Set(res.rows.filter((r) => r.status === 'failed').map((r) => r.partition_key));
      return partitions.filter((p) => failed.has(p));
    },
  };
}

import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type {
  SourceCommitResult,
  SourceExtractResult,
  SourcePosition,
  SourceSpec,
  SourceSyncContext,
} from '../../workflows/sources/spec.js';
import { attempt, cancellationSignal, heartbeat } from '../activity-context.js';
import { PayloadInvalidError } from '../failures.js';
import type { ObjectStore } from '../storage/object-store.js';
import { columnOf, ident, isoUtc, qualified, withHeartbeat } from './common.js';

const ROWS = 'fabrica_source_rows';
const KEYS = 'fabrica_source_keys';

/** What the commit needs. */
export interface CommitDeps {
  warehouse: pg.Pool;
  lake: ObjectStore;
}

const describe = (p: SourcePosition) => (p.ts === null ? 'nothing' : `(${p.ts}, ${p.key})`);

/** Streams COPY-text parts of the lake into a (temporary) table, heartbeating bytes. */
async function copyParts(client: pg.PoolClient, lake: ObjectStore, keys: string[], table: string, columns: string) {
  let bytes = 0;
  for (const key of keys) {
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        heartbeat({ phase: 'copy', key, bytes });
        done(null, chunk);
      },
    });
    const sink = client.query(copyFrom(`COPY ${table} (${columns}) FROM STDIN`));
    await pipeline(await lake.get(key), tap, sink, { signal: cancellationSignal() });
  }
  return bytes;
}

/** Data errors while loading (bad value for a column, NOT NULL) cannot be fixed by retrying: a data fault. */
function dataFault(spec: SourceSpec, err: unknown): unknown {
  const code = (err as { code?: string }).code;
  if (typeof code === 'string' && (code.startsWith('22') || code.startsWith('23')))
    return new PayloadInvalidError(`${spec.id}: loading ${spec.target.table}: ${(err as Error).message}`, {
      source: spec.id,
      code,
    });
  return err;
}

/**
 * Commit: loads an extract into the warehouse in ONE transaction, fenced by an advisory lock on the source:
 * 1. the extract's rows are COPYed into a temporary table (dropped at commit);
 * 2. every new version is inserted into the versions table (primary key (key, watermark), `ON CONFLICT DO NOTHING`:
 *    rows re-read by the lookback or by a retried commit add nothing);
 * 3. the mirror gets the newest version of each key (insert, or update when the version is newer or differs; a key
 *    that came back is undeleted);
 * 4. with `reconcile-keys`, mirror rows whose key is no longer at the source get `deleted_at` and a tombstone version
 *    (`deleted = true`, watermark = the detection time, the extract's snapshot);
 * 5. the watermark advances to the largest (watermark, key) loaded (never backwards), and the sync is recorded.
 * The watermark therefore moves only when the rows are in. A retried commit of an applied extract does nothing; an
 * extract made from a watermark that has moved since (a stale attempt) is refused.
 */
export function createCommitSource(deps: CommitDeps) {
  return async function commitSource(input: {
    ctx: SourceSyncContext;
    spec: SourceSpec;
    extract: SourceExtractResult;
  }): Promise<SourceCommitResult> {
    const { ctx, spec, extract } = input;
    const key = columnOf(spec, spec.key);
    const K = ident(spec.key);
    const W = ident(spec.watermark);
    const mirror = qualified(spec.target.table);
    const versions = spec.target.versions ? qualified(spec.target.versions) : undefined;
    const reconcile = spec.deletes === 'reconcile-keys';
    const names = spec.columns.map((c) => ident(c.name));
    const cols = names.join(', ');
    let phase = 'lock';
    const client = await deps.warehouse.connect();
    let failed: unknown;
    try {
      return await withHeartbeat(
        () => ({ phase }),
        async () => {
          await client.query('BEGIN');
          await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`source:${spec.id}`]);
          const done = await client.query<{
            status: string;
            rows_changed: string;
            to_ts: string | null;
            details: Record<string, unknown>;
          }>(
            `SELECT status, rows_changed, ${isoUtc('watermark_to')} AS to_ts, details FROM ops.source_syncs
             WHERE source_id = $1 AND run_id = $2`,
            [spec.id, ctx.runId],
          );
          const previous = done.rows[0];
          if (previous?.status === 'committed') {
            await client.query('ROLLBACK');
            return {
              status: 'already-committed',
              rowsChanged: Number(previous.rows_changed),
              versionsAdded: Number(previous.details.versionsAdded ?? 0),
              deleted: Number(previous.details.deleted ?? 0),
              watermark: { ts: previous.to_ts, key: (previous.details.watermarkKey as string | undefined) ?? null },
            };
          }
          const wm = await client.query<{ ts: string | null; key: string | null }>(
            `SELECT ${isoUtc('watermark_ts')} AS ts, watermark_key AS key FROM ops.source_watermarks
             WHERE source_id = $1 FOR UPDATE`,
            [spec.id],
          );
          const current: SourcePosition = wm.rows[0] ?? { ts: null, key: null };
          if (current.ts !== extract.from.ts || current.key !== extract.from.key)
            throw ApplicationFailure.nonRetryable(
              `${spec.id}: the watermark moved since this extract (extracted after ${describe(extract.from)}, now at ` +
                `${describe(current)}): another sync committed in between, so this extract is stale and not applied`,
              'StaleExtract',
            );

          phase = 'copy';
          const typed = spec.columns.map((c) => `${ident(c.name)} ${c.type}`).join(', ');
          await client.query(`CREATE TEMP TABLE ${ROWS} (${typed}) ON COMMIT DROP`);
          await copyParts(client, deps.lake, extract.parts, ROWS, cols);
          await client.query(`ANALYZE ${ROWS}`);

          phase = 'versions';
          let versionsAdded = 0;
          if (versions) {
            const res = await client.query(
              `INSERT INTO ${versions} (${cols}, deleted, loaded_at, run_id)
               SELECT ${cols}, false, now(), $1 FROM ${ROWS} ON CONFLICT DO NOTHING`,
              [ctx.runId],
            );
            versionsAdded = res.rowCount ?? 0;
          }

          phase = 'mirror';
          const others = spec.columns.filter((c) => c.name !== spec.key).map((c) => ident(c.name));
          const changed = `ROW(${others.map((c) => `m.${c}`).join(', ')}) IS DISTINCT FROM ROW(${others.map((c) => `EXCLUDED.${c}`).join(', ')})`;
          const upsert = await client.query(
            `INSERT INTO ${mirror} AS m (${cols}, loaded_at${reconcile ? ', deleted_at' : ''})
             SELECT DISTINCT ON (${K}) ${cols}, now()${reconcile ? ', NULL::timestamptz' : ''} FROM ${ROWS}
             ORDER BY ${K}, ${W} DESC
             ON CONFLICT (${K}) DO UPDATE SET ${others.map((c) => `${c} = EXCLUDED.${c}`).join(', ')},
               loaded_at = EXCLUDED.loaded_at${reconcile ? ', deleted_at = NULL' : ''}
             WHERE EXCLUDED.${W} >= m.${W} AND (${changed}${reconcile ? ' OR m.deleted_at IS NOT NULL' : ''})`,
          );
          let rowsChanged = upsert.rowCount ?? 0;

          let deleted = 0;
          if (reconcile) {
            phase = 'deletes';
            await client.query(`CREATE TEMP TABLE ${KEYS} (k ${key.type}) ON COMMIT DROP`);
            await copyParts(client, deps.lake, extract.keyParts ?? [], KEYS, 'k');
            await client.query(`ANALYZE ${KEYS}`);
            const tombstoneCols = spec.columns
              .map((c) => (c.name === spec.watermark ? 'gone.deleted_at' : `gone.${ident(c.name)}`))
              .join(', ');
            const res = await client.query<{ deleted: number }>(
              `WITH gone AS (
                 UPDATE ${mirror} AS m SET deleted_at = GREATEST($1::timestamptz, m.${W} + interval '1 microsecond'),
                   loaded_at = now()
                 WHERE m.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM ${KEYS} s WHERE s.k = m.${K})
                 RETURNING m.*
               )${
                 versions
                   ? `, tombstones AS (
                 INSERT INTO ${versions} (${cols}, deleted, loaded_at, run_id)
                 SELECT ${tombstoneCols}, true, now(), $2 FROM gone ON CONFLICT DO NOTHING RETURNING 1
               )
               SELECT (SELECT count(*) FROM gone)::int AS deleted, (SELECT count(*) FROM tombstones)::int AS tombstones`
                   : ` SELECT count(*)::int AS deleted FROM gone`
               }`,
              versions ? [extract.extractedAt, ctx.runId] : [extract.extractedAt],
            );
            deleted = res.rows[0]!.deleted;
            rowsChanged += deleted;
            versionsAdded += Number((res.rows[0] as { tombstones?: number }).tombstones ?? 0);
          }

          phase = 'watermark';
          const top = await client.query<{ ts: string; key: string }>(
            `SELECT ${isoUtc(`r.${W}`)} AS ts, r.${K}::text AS key FROM ${ROWS} r ORDER BY r.${W} DESC, r.${K} DESC LIMIT 1`,
          );
          let next = current;
          const candidate = top.rows[0];
          if (candidate) {
            const newer =
              current.ts === null ||
              (
                await client.query<{ newer: boolean }>(
                  `SELECT ($1::timestamptz, $2::${key.type}) > ($3::timestamptz, $4::${key.type}) AS newer`,
                  [candidate.ts, candidate.key, current.ts, current.key],
                )
              ).rows[0]!.newer;
            if (newer) next = candidate;
          }
          await client.query(
            `INSERT INTO ops.source_watermarks (source_id, watermark_ts, watermark_key, committed_at, run_id)
             VALUES ($1, $2, $3, now(), $4)
             ON CONFLICT (source_id) DO UPDATE SET watermark_ts = EXCLUDED.watermark_ts,
               watermark_key = EXCLUDED.watermark_key, committed_at = EXCLUDED.committed_at, run_id = EXCLUDED.run_id`,
            [spec.id, next.ts, next.key, ctx.runId],
          );
          const details = { versionsAdded, deleted, watermarkKey: next.key, commitAttempt: attempt() };
          await client.query(
            `INSERT INTO ops.source_syncs (source_id, run_id, started_at, status, rows_extracted, rows_changed,
               watermark_from, watermark_to, finished_at, details)
             VALUES ($1, $2, now(), 'committed', $3, $4, $5, $6, now(), $7)
             ON CONFLICT (source_id, run_id) DO UPDATE SET status = 'committed', rows_extracted = EXCLUDED.rows_extracted,
               rows_changed = EXCLUDED.rows_changed, watermark_to = EXCLUDED.watermark_to, finished_at = now(),
               error = NULL, details = ops.source_syncs.details || EXCLUDED.details`,
            [spec.id, ctx.runId, extract.rows, rowsChanged, extract.from.ts, next.ts, JSON.stringify(details)],
          );
          phase = 'commit';
          await client.query('COMMIT');
          return { status: 'committed', rowsChanged, versionsAdded, deleted, watermark: next };
        },
      );
    } catch (err) {
      failed = err;
      await client.query('ROLLBACK').catch(() => undefined);
      throw dataFault(spec, err);
    } finally {
      // A connection that failed mid-COPY may be in an unknown state: never hand it back to the pool.
      client.release(failed instanceof Error && !(failed instanceof ApplicationFailure) ? failed : undefined);
    }
  };
}

import type pg from 'pg';
import type { DatabaseSourceSpec, SourcePosition } from '../../workflows/sources/spec.js';
import { heartbeat, throwIfCancelled } from '../activity-context.js';
import { SourceSchemaMismatchError } from '../failures.js';
import { encodeCopyRow } from '../formats/copy-text.js';
import { columnAsText, columnOf, ident, isoUtc, qualified, type PartWriter } from './common.js';
import { checkDatabaseValue } from './validate.js';

/** What a database extract saw. */
export interface DatabaseExtract {
  maxSeen: SourcePosition;
  extractedAt: string;
}

/** A source table or column that no longer exists is a data fault (retrying cannot fix it), named clearly. */
function schemaFault(spec: DatabaseSourceSpec, err: unknown): unknown {
  const code = (err as { code?: string }).code;
  if (code === '42P01' || code === '42703')
    return new SourceSchemaMismatchError(`${spec.id}: source table ${spec.table}: ${(err as Error).message}`, {
      source: spec.id,
      table: spec.table,
      code,
    });
  return err;
}

/**
 * Reads a source table through its read-only connection, in ONE `REPEATABLE READ READ ONLY` transaction (one
 * snapshot for the changed rows and the key list, no write possible):
 * - changed rows: `(watermark, key)` after the committed position, or every row with a watermark at most
 *   `lookbackSeconds` older than it, in `(watermark, key)` order, by keyset pages of `batchSize` rows (bounded memory,
 *   no server-side state);
 * - for `reconcile-keys`, every key of the table (keyset pages too), so the commit can tombstone the vanished ones.
 * Values are read as text (timestamps as ISO UTC with microseconds), so nothing loses precision on the way.
 */
export async function extractDatabase(
  pool: pg.Pool,
  spec: DatabaseSourceSpec,
  from: SourcePosition,
  rows: PartWriter,
  keys: PartWriter | undefined,
): Promise<DatabaseExtract> {
  const key = columnOf(spec, spec.key);
  // Qualified: in ORDER BY a bare name would mean the text output column of the same name, not the typed column.
  const W = `src.${ident(spec.watermark)}`;
  const K = `src.${ident(spec.key)}`;
  const table = `${qualified(spec.table)} AS src`;
  const select = spec.columns.map((c) => columnAsText(c, 'src')).join(', ');
  const client = await pool.connect();
  let failed: unknown;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query("SET LOCAL statement_timeout = '15min'");
    // The first query takes the snapshot: its clock is when keys missing from this snapshot were found gone.
    const clock = await client.query<{ now: string }>(`SELECT ${isoUtc('clock_timestamp()')} AS now`);
    const extractedAt = clock.rows[0]!.now;

    const lower: string[] = [];
    const lowerParams: unknown[] = [];
    if (from.ts !== null) {
      if (spec.lookbackSeconds > 0 || from.key === null) {
        lower.push(`${W} >= $1::timestamptz - make_interval(secs => $2)`);
        lowerParams.push(from.ts, spec.lookbackSeconds);
      } else {
        lower.push(`(${W}, ${K}) > ($1::timestamptz, $2::${key.type})`);
        lowerParams.push(from.ts, from.key);
      }
    }
    const wIndex = spec.columns.findIndex((c) => c.name === spec.watermark);
    const kIndex = spec.columns.findIndex((c) => c.name === spec.key);
    let last: SourcePosition | undefined;
    let batches = 0;
    for (;;) {
      throwIfCancelled();
      const conditions = [...lower];
      const params = [...lowerParams];
      if (last) {
        conditions.push(`(${W}, ${K}) > ($${params.length + 1}::timestamptz, $${params.length + 2}::${key.type})`);
        params.push(last.ts, last.key);
      }
      params.push(spec.batchSize);
      const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
      const res = await client.query<string[]>({
        text: `SELECT ${select} FROM ${table} ${where} ORDER BY ${W}, ${K} LIMIT $${params.length}`,
        values: params,
        rowMode: 'array',
      });
      for (const values of res.rows) {
        const at = `row ${spec.key}=${values[kIndex]}`;
        spec.columns.forEach((c, i) => checkDatabaseValue(spec, c, values[i] ?? null, at));
        await rows.add(encodeCopyRow(values));
      }
      const tail = res.rows.at(-1);
      if (tail) last = { ts: tail[wIndex]!, key: tail[kIndex]! };
      heartbeat({ phase: 'rows', rows: rows.rows, batches: ++batches });
      if (res.rows.length < spec.batchSize) break;
    }

    if (keys) {
      let lastKey: string | undefined;
      for (;;) {
        throwIfCancelled();
        const res = await client.query<string[]>({
          text:
            lastKey === undefined
              ? `SELECT ${K}::text AS k FROM ${table} ORDER BY ${K} LIMIT $1`
              : `SELECT ${K}::text AS k FROM ${table} WHERE ${K} > $2::${key.type} ORDER BY ${K} LIMIT $1`,
          values: lastKey === undefined ? [spec.batchSize] : [spec.batchSize, lastKey],
          rowMode: 'array',
        });
        for (const [k] of res.rows) await keys.add(encodeCopyRow([k!]));
        lastKey = res.rows.at(-1)?.[0] ?? lastKey;
        heartbeat({ phase: 'keys', keys: keys.rows });
        if (res.rows.length < spec.batchSize) break;
      }
    }
    await client.query('COMMIT');
    return { maxSeen: last ?? { ts: null, key: null }, extractedAt };
  } catch (err) {
    failed = err;
    await client.query('ROLLBACK').catch(() => undefined);
    throw schemaFault(spec, err);
  } finally {
    // A connection that failed mid-read may be broken: never hand it back to the pool.
    client.release(failed instanceof Error ? failed : undefined);
  }
}

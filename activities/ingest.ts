import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import type { IngestResult, StepInput } from '../workflows/steps.js';
import { attempt, cancellationSignal, heartbeat } from './activity-context.js';
import { Catalog } from './catalog.js';
import { writeError } from './file-errors.js';
import { SourceMissingError } from './failures.js';
import { lakeKeys, lakeUri } from './lake-layout.js';
import { expectedKey } from './landing-names.js';
import type { ObjectStore } from './storage/object-store.js';
import { uploadFile, withTempDir } from './temp-files.js';

/** What ingest needs. */
export interface IngestDeps {
  warehouse: pg.Pool;
  lake: ObjectStore;
  landing: ObjectStore;
}

/** The landed file to ingest for a partition: the given key, else the latest complete file the sensor saw for it. */
async function resolveSource(deps: IngestDeps, input: StepInput & { sourceKey?: string }): Promise<string | undefined> {
  if (input.sourceKey) return input.sourceKey;
  const seen = await deps.warehouse.query<{ object_key: string }>(
    `SELECT object_key FROM ops.landed_files WHERE pipeline = $1 AND partition_key = $2 AND state IN ('complete', 'dispatched')
     ORDER BY completed_at DESC NULLS LAST LIMIT 1`,
    [input.spec.id, input.ctx.partition],
  );
  if (seen.rows[0]) return seen.rows[0].object_key;
  // Never seen by the sensor: try the file name the source's template gives the partition.
  const key = expectedKey(input.spec.source, input.spec.partitioning, input.ctx.partition);
  return key && (await deps.landing.head(key)) ? key : undefined;
}

/** The content hash each dataset of the partition currently publishes. */
async function publishedHashes(db: pg.Pool, partition: string, datasets: string[]): Promise<Map<string, string>> {
  const res = await db.query<{ dataset: string; content_sha256: string }>(
    'SELECT dataset, content_sha256 FROM ops.partition_state WHERE partition_key = $1 AND dataset = ANY($2)',
    [partition, datasets],
  );
  return new Map(res.rows.map((r) => [r.dataset, r.content_sha256]));
}

/** Copies an object to a local file while hashing it; heartbeats bytes copied and honours cancellation. */
async function downloadHashing(
  store: ObjectStore,
  key: string,
  file: string,
): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      heartbeat({ bytes });
      done(null, chunk);
    },
  });
  const out = createWriteStream(file);
  try {
    await pipeline(await store.get(key), tap, out, { signal: cancellationSignal() });
  } catch (error) {
    // The local copy's write failing (a full temp disk) names the file; a failing read is the store's own error.
    throw out.errored === error ? writeError(error, file) : error;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/**
 * Ingest: records the run's start in the catalog, then copies the partition's landed file into the raw zone under its content SHA-256 (an immutable object, so a
 * retry or a re-run writes nothing new) and says whether the partition already publishes exactly this content.
 * When the landing file is gone, a re-run falls back to the raw copy of the content currently published.
 */
export function createIngest(deps: IngestDeps) {
  return async function ingestPartition(input: StepInput & { sourceKey?: string }): Promise<IngestResult> {
    const startedAt = new Date();
    const { ctx, spec } = input;
    const catalog = new Catalog(deps.warehouse);
    await catalog.runStarted(ctx);
    const published = await publishedHashes(deps.warehouse, ctx.partition, spec.load.datasets);
    const isPublished = (sha: string) => spec.load.datasets.every((d) => published.get(d) === sha);
    const source = await resolveSource(deps, input);
    let result: IngestResult;
    if (source && (await deps.landing.head(source))) {
      result = await withTempDir(async (dir) => {
        const file = path.join(dir, 'landed');
        const { sha256, bytes } = await downloadHashing(deps.landing, source, file);
        const rawKey = lakeKeys.raw(spec.id, sha256);
        await uploadFile(deps.lake, rawKey, file, true);
        return { sourceKey: source, rawKey, sha256, bytes, alreadyPublished: isPublished(sha256) };
      });
      await catalog.lineage(
        ctx,
        'ingest',
        lakeUri(deps.landing.location, source),
        lakeUri(deps.lake.location, result.rawKey),
      );
    } else {
      const current = published.get(spec.load.datasets[0]!);
      const rawKey = current ? lakeKeys.raw(spec.id, current) : undefined;
      const raw = rawKey ? await deps.lake.head(rawKey) : undefined;
      if (!current || !rawKey || !raw) {
        throw new SourceMissingError(
          `${spec.id} ${ctx.partition}: no landed file${source ? ` at ${source}` : ''} and nothing ingested before`,
          {
            partition: ctx.partition,
            sourceKey: source,
          },
        );
      }
      result = { sourceKey: rawKey, rawKey, sha256: current, bytes: raw.size, alreadyPublished: isPublished(current) };
    }
    await catalog.step(ctx, {
      step: 'ingest',
      startedAt,
      attempt: attempt(),
      bytes: result.bytes,
      details: { ...result },
    });
    return result;
  };
}

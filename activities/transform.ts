import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import type pg from 'pg';
import type { StepInput, IngestResult, StageResult, TransformResult } from '../workflows/steps.js';
import { attempt } from './activity-context.js';
import { Catalog } from './catalog.js';
import type { PartitionProfile } from './datasets/partition-profile.js';
import { encodeCopyRow, type CopyValue } from './formats/copy-text.js';
import { lakeKeys, lakeUri } from './lake-layout.js';
import { readLines } from './line-reader.js';
import type { ObjectStore } from './storage/object-store.js';
import { uploadFile, withTempDir } from './temp-files.js';

/** What transform needs. */
export interface TransformDeps {
  warehouse: pg.Pool;
  lake: ObjectStore;
}

/** One quarantined row as stage writes it to the quarantine zone (JSON Lines). */
export interface QuarantineRecord {
  lineNo: number;
  reason: string;
  column?: string | null;
  detail: string;
  raw: string;
}

async function write(out: WriteStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

async function close(out: WriteStream): Promise<void> {
  out.end();
  await once(out, 'finish');
}

/** Reads a small JSON object from the lake. */
async function readJson<T>(lake: ObjectStore, key: string): Promise<T> {
  const chunks: Buffer[] = [];
  for await (const chunk of await lake.get(key)) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
}

/**
 * Transform: derives the partition's load-ready datasets from what stage produced — inventory movements per SKU (OK
 * items) and the machine-hour yield row from the staged rows' profile (computed in the staging pass, so the rows are
 * read once), and the quarantined rows as a table. A pure function of the staged content, written under
 * content-addressed keys, so a retry rewrites identical objects.
 */
export function createTransform(deps: TransformDeps) {
  return async function transformPartition(
    input: StepInput & { ingest: IngestResult; stage: StageResult },
  ): Promise<TransformResult> {
    const startedAt = new Date();
    const { ctx, spec, ingest, stage } = input;
    const hour = stage.hourStart;
    const sha = ingest.sha256;
    const { okBySku, metrics: m } = await readJson<PartitionProfile>(deps.lake, stage.profileKey);
    const machine = ctx.partition.split('@')[0]!;
    const outputs: TransformResult['outputs'] = {};
    await withTempDir(async (dir) => {
      const emit = async (dataset: string, rows: CopyValue[][] | AsyncIterable<CopyValue[]>) => {
        const file = path.join(dir, `${dataset}.tsv`);
        const out = createWriteStream(file);
        let count = 0;
        for await (const row of rows) {
          await write(out, encodeCopyRow(row));
          count++;
        }
        await close(out);
        const key = lakeKeys.staged(spec.id, dataset, ctx.partition, sha);
        await uploadFile(deps.lake, key, file);
        outputs[dataset] = { key, rows: count };
      };
      await emit(
        'inventory_movements',
        Object.entries(okBySku).map(([sku, qty]) => [hour, machine, sku, qty, sha]),
      );
      await emit('machine_yield_hourly', [
        [
          hour,
          machine,
          m.items,
          m.ok,
          m.scrap,
          m.rework,
          m.yieldPct,
          m.cycleMsMean,
          m.cycleMsP95,
          m.tempCMean,
          m.vibrationMax,
          m.downtimeMinutes,
          m.energyWh,
          stage.quarantined,
          stage.duplicates,
          stage.firmware,
          sha,
        ],
      ]);
      await emit('quarantined_rows', quarantineRows(deps.lake, stage.quarantineKey, hour, machine, sha));
    });
    outputs.production_events = { key: stage.stagedKey, rows: stage.rows };
    const catalog = new Catalog(deps.warehouse);
    for (const [dataset, out] of Object.entries(outputs)) {
      if (dataset !== 'production_events')
        await catalog.lineage(
          ctx,
          'transform',
          lakeUri(deps.lake.location, stage.stagedKey),
          lakeUri(deps.lake.location, out.key),
        );
    }
    await catalog.step(ctx, {
      step: 'transform',
      startedAt,
      attempt: attempt(),
      rowsIn: stage.rows,
      rowsOut: Object.keys(okBySku).length + 1,
      details: { outputs },
    });
    return { outputs };
  };
}

async function* quarantineRows(
  lake: ObjectStore,
  key: string,
  hour: string,
  machine: string,
  sha: string,
): AsyncGenerator<CopyValue[]> {
  for await (const line of readLines(lake, key)) {
    const q = JSON.parse(line) as QuarantineRecord;
    yield [hour, machine, q.lineNo, q.reason, q.column ?? null, q.detail, q.raw, sha];
  }
}

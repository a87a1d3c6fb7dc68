import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import type pg from 'pg';
import type { StepInput, IngestResult, StageResult, TransformResult } from '../workflows/steps.js';
import { attempt, heartbeat, throwIfCancelled } from './activity-context.js';
import { Catalog } from './catalog.js';
import { EVENT } from './datasets/machine-signal.js';
import { YieldAccumulator } from './datasets/yield-metrics.js';
import { decodeCopyLine, encodeCopyRow, type CopyValue } from './formats/copy-text.js';
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

/** Reads the staged events once, accumulating per-SKU OK counts and the hour's yield metrics. */
async function summarizeEvents(lake: ObjectStore, key: string) {
  const perSku = new Map<string, number>();
  const acc = new YieldAccumulator();
  let n = 0;
  for await (const line of readLines(lake, key)) {
    const f = decodeCopyLine(line);
    const status = f[EVENT.status]!;
    if (status === 'OK') perSku.set(f[EVENT.sku]!, (perSku.get(f[EVENT.sku]!) ?? 0) + 1);
    const energy = f[EVENT.energy_wh];
    acc.add({
      status,
      cycleMs: Number(f[EVENT.cycle_ms]),
      tempC: Number(f[EVENT.temp_c]),
      vibration: Number(f[EVENT.vibration_mm_s]),
      energyWh: energy === null || energy === undefined ? null : Number(energy),
      tsMs: Date.parse(f[EVENT.ts]!),
    });
    if (++n % 50_000 === 0) {
      heartbeat({ rows: n });
      throwIfCancelled();
    }
  }
  return { perSku, acc };
}

/**
 * Transform: derives the partition's load-ready datasets from its staged rows — inventory movements per SKU (OK
 * items), the machine-hour yield row, and the quarantined rows as a table. A pure function of the staged content,
 * written under content-addressed keys, so a retry rewrites identical objects.
 */
export function createTransform(deps: TransformDeps) {
  return async function transformPartition(
    input: StepInput & { ingest: IngestResult; stage: StageResult },
  ): Promise<TransformResult> {
    const startedAt = new Date();
    const { ctx, spec, ingest, stage } = input;
    const hour = stage.hourStart;
    const sha = ingest.sha256;
    const { perSku, acc } = await summarizeEvents(deps.lake, stage.stagedKey);
    const m = acc.result(Date.parse(hour), stage.extraColumns.includes('energy_wh'));
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
      const skus = [...perSku.entries()].sort(([a], [b]) => a.localeCompare(b));
      await emit('inventory_movements', skus.map(([sku, qty]) => [hour, machine, sku, qty, sha]));
      await emit('machine_yield_hourly', [
        [hour, machine, m.items, m.ok, m.scrap, m.rework, m.yieldPct, m.cycleMsMean, m.cycleMsP95, m.tempCMean,
          m.vibrationMax, m.downtimeMinutes, m.energyWh, stage.quarantined, stage.duplicates, stage.firmware, sha],
      ]);
      await emit('quarantined_rows', quarantineRows(deps.lake, stage.quarantineKey, hour, machine, sha));
    });
    outputs.production_events = { key: stage.stagedKey, rows: stage.rows };
    const catalog = new Catalog(deps.warehouse);
    for (const [dataset, out] of Object.entries(outputs)) {
      if (dataset !== 'production_events') await catalog.lineage(ctx, 'transform', lakeUri(deps.lake.location, stage.stagedKey), lakeUri(deps.lake.location, out.key));
    }
    await catalog.step(ctx, { step: 'transform', startedAt, attempt: attempt(), rowsIn: stage.rows, rowsOut: perSku.size + 1, details: { outputs } });
    return { outputs };
  };
}

async function* quarantineRows(lake: ObjectStore, key: string, hour: string, machine: string, sha: string): AsyncGenerator<CopyValue[]> {
  for await (const line of readLines(lake, key)) {
    const q = JSON.parse(line) as QuarantineRecord;
    yield [hour, machine, q.lineNo, q.reason, q.column ?? null, q.detail, q.raw, sha];
  }
}

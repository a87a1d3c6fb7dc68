import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import type pg from 'pg';
import { hourStartIso, parsePartitionKey } from '../workflows/partitions.js';
import type { IngestResult, StageResult, StepInput } from '../workflows/steps.js';
import { attempt, heartbeat, throwIfCancelled } from './activity-context.js';
import { Catalog } from './catalog.js';
import { DataFaultError, DataQualityError } from './failures.js';
import { encodeCopyRow } from './formats/copy-text.js';
import { parseMachineSignalFile, type ParseSummary } from './formats/machine-signal-v1.js';
import { lakeKeys, lakeUri } from './lake-layout.js';
import type { ObjectStore } from './storage/object-store.js';
import { uploadFile, withTempDir } from './temp-files.js';
import type { QuarantineRecord } from './transform.js';

/** What stage needs. */
export interface StageDeps {
  warehouse: pg.Pool;
  lake: ObjectStore;
}

async function write(out: WriteStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

async function close(out: WriteStream): Promise<void> {
  out.end();
  await once(out, 'finish');
}

/** Streams the raw file through the contract parser into local staged rows and quarantine records. */
async function parseToFiles(lake: ObjectStore, input: StepInput & { ingest: IngestResult }, dir: string) {
  const { spec, ingest, ctx } = input;
  const events = createWriteStream(path.join(dir, 'events.tsv'));
  const quarantine = createWriteStream(path.join(dir, 'quarantine.jsonl'));
  const fileName = ingest.sourceKey.split('/').pop()!;
  let summary: ParseSummary | undefined;
  let hourStart = '';
  let n = 0;
  const parser = parseMachineSignalFile(await lake.get(ingest.rawKey), {
    fileName,
    toleranceMinutes: spec.quality.timestampToleranceMinutes,
  });
  for await (const ev of parser) {
    if (ev.kind === 'header') {
      const expected = parsePartitionKey(ctx.partition)!;
      hourStart = hourStartIso(expected.hourKey, spec.partitioning.utcOffset);
      if (ev.header.machine !== expected.entity || Date.parse(ev.header.hour) !== Date.parse(hourStart)) {
        throw new DataFaultError('ContractBroken', `${fileName}: header says ${ev.header.machine} at ${ev.header.hour}, not partition ${ctx.partition}`, {});
      }
    } else if (ev.kind === 'row') {
      const r = ev.row;
      await write(events, encodeCopyRow([hourStart, r.machineId, r.itemSeq, r.ts, r.sku, r.status, r.cycleMs, r.tempC, r.vibrationMmS, r.operator, r.energyWh, r.lineNo, ingest.sha256]));
      if (++n % 20_000 === 0) {
        heartbeat({ rows: n });
        throwIfCancelled();
      }
    } else if (ev.kind === 'rejected') {
      const q: QuarantineRecord = { lineNo: ev.rejected.lineNo, reason: ev.rejected.reason, column: ev.rejected.column ?? null, detail: ev.rejected.detail, raw: ev.rejected.raw };
      await write(quarantine, `${JSON.stringify(q)}\n`);
    } else if (ev.kind === 'end') {
      summary = ev.summary;
    }
  }
  await Promise.all([close(events), close(quarantine)]);
  if (!summary) throw new Error(`${fileName}: parser ended without a summary`);
  return { summary, hourStart };
}

/** Records the partition's quality checks; throws a data fault when the bad-row share exceeds the threshold. */
async function checkQuality(catalog: Catalog, input: StepInput, summary: ParseSummary, fileName: string): Promise<void> {
  const ratio = summary.dataLines ? summary.rejectedRows / summary.dataLines : 0;
  const max = input.spec.quality.maxBadRowRatio;
  const passed = ratio <= max;
  await catalog.quality(input.ctx, { name: 'bad_row_ratio', passed, observed: ratio, threshold: max, details: { rejectedByReason: summary.rejectedByReason } });
  await catalog.quality(input.ctx, { name: 'trailer_checksum', passed: true, details: { items: summary.trailer.items } });
  await catalog.quality(input.ctx, { name: 'duplicates', passed: true, observed: summary.duplicateRows });
  if (!passed) {
    const pct = (ratio * 100).toFixed(2);
    throw new DataQualityError(
      `${fileName}: ${summary.rejectedRows} of ${summary.dataLines} lines (${pct} %) quarantined, over the ${max * 100} % threshold; nothing loaded`,
      { rejectedByReason: summary.rejectedByReason, ratio, threshold: max },
    );
  }
}

/**
 * Stage: parses the raw file with the pipeline's format into typed rows (COPY text, ready to bulk-load) and
 * quarantined rows with their reasons, validating the contract (header, columns, trailer count and checksum) and the
 * partition's quality threshold. Outputs are keyed by content hash, so a retry rewrites identical objects. Data faults
 * (broken contract, incomplete file, too many bad rows) fail without retry; a broken contract quarantines the whole
 * file with its error.
 */
export function createStage(deps: StageDeps) {
  return async function stagePartition(input: StepInput & { ingest: IngestResult }): Promise<StageResult> {
    const startedAt = new Date();
    const { ctx, spec, ingest } = input;
    const fileName = ingest.sourceKey.split('/').pop()!;
    const catalog = new Catalog(deps.warehouse);
    try {
      return await withTempDir(async (dir) => {
        const { summary, hourStart } = await parseToFiles(deps.lake, input, dir);
        await checkQuality(catalog, input, summary, fileName);
        const stagedKey = lakeKeys.staged(spec.id, 'production_events', ctx.partition, ingest.sha256);
        const quarantineKey = lakeKeys.quarantineRows(spec.id, ctx.partition, ingest.sha256);
        const bytes = await uploadFile(deps.lake, stagedKey, path.join(dir, 'events.tsv'));
        await uploadFile(deps.lake, quarantineKey, path.join(dir, 'quarantine.jsonl'));
        await catalog.lineage(ctx, 'stage', lakeUri(deps.lake.location, ingest.rawKey), lakeUri(deps.lake.location, stagedKey));
        await catalog.lineage(ctx, 'stage', lakeUri(deps.lake.location, ingest.rawKey), lakeUri(deps.lake.location, quarantineKey));
        const result: StageResult = {
          stagedKey,
          quarantineKey,
          dataLines: summary.dataLines,
          rows: summary.goodRows,
          quarantined: summary.rejectedRows,
          duplicates: summary.duplicateRows,
          quarantinedByReason: summary.rejectedByReason,
          firmware: summary.header.firmware,
          encoding: summary.encoding,
          extraColumns: summary.extraColumns,
          hourStart,
        };
        await catalog.step(ctx, { step: 'stage', startedAt, attempt: attempt(), rowsIn: summary.dataLines, rowsOut: summary.goodRows, rowsQuarantined: summary.rejectedRows, bytes, details: { ...result } });
        return result;
      });
    } catch (err) {
      if (!(err instanceof DataFaultError)) throw err;
      if (err.type === 'ContractBroken') {
        await deps.lake.put(lakeKeys.quarantineFile(spec.id, ctx.partition, ingest.sha256), JSON.stringify({ sourceKey: ingest.sourceKey, rawKey: ingest.rawKey, error: err.message, details: err.details }, null, 2));
      }
      await catalog.quality(ctx, { name: err.type, passed: false, details: { message: err.message } });
      throw err;
    }
  };
}

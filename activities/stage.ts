import path from 'node:path';
import type pg from 'pg';
import { hourStartIso, parsePartitionKey } from '../workflows/partitions.js';
import type { IngestResult, StageResult, StepInput } from '../workflows/steps.js';
import { attempt, heartbeat, throwIfCancelled } from './activity-context.js';
import { Catalog } from './catalog.js';
import { BatchedWriter } from './batched-writer.js';
import { PartitionProfiler } from './datasets/partition-profile.js';
import { ContractBrokenError, DataFaultError, DataQualityError } from './failures.js';
import { copyText } from './formats/copy-text.js';
import {
  parseMachineSignalFile,
  type MachineSignalHeader,
  type MachineSignalRow,
  type ParseSummary,
} from './formats/machine-signal-v1.js';
import { lakeKeys, lakeUri } from './lake-layout.js';
import type { ObjectStore } from './storage/object-store.js';
import { uploadFile, withTempDir } from './temp-files.js';
import type { QuarantineRecord } from './transform.js';

/** What stage needs. */
export interface StageDeps {
  warehouse: pg.Pool;
  lake: ObjectStore;
}

/** One production event as a COPY text line, in `DATASET_COLUMNS.production_events` order. */
function eventLine(hourStart: string, r: MachineSignalRow, sha: string): string {
  const energy = r.energyWh === null ? '\\N' : String(r.energyWh);
  return `${hourStart}\t${copyText(r.machineId)}\t${r.itemSeq}\t${copyText(r.ts)}\t${copyText(r.sku)}\t${r.status}\t${r.cycleMs}\t${r.tempC}\t${r.vibrationMmS}\t${copyText(r.operator)}\t${energy}\t${r.lineNo}\t${sha}\n`;
}

/**
 * Streams the raw file through the contract parser into local staged rows and quarantine records, profiling the rows
 * on the way (one pass over the data).
 */
async function parseToFiles(lake: ObjectStore, input: StepInput & { ingest: IngestResult }, dir: string) {
  const { spec, ingest, ctx } = input;
  const events = new BatchedWriter(path.join(dir, 'events.tsv'));
  const quarantine = new BatchedWriter(path.join(dir, 'quarantine.jsonl'));
  const profiler = new PartitionProfiler();
  const fileName = ingest.sourceKey.split('/').pop()!;
  let summary: ParseSummary | undefined;
  let hourStart = '';
  let n = 0;
  const parser = parseMachineSignalFile(await lake.get(ingest.rawKey), {
    fileName,
    toleranceMinutes: spec.quality.timestampToleranceMinutes,
  });
  for await (const ev of parser) {
    if (ev.kind === 'row') {
      events.add(eventLine(hourStart, ev.row, ingest.sha256));
      profiler.add(ev.row);
      if (++n % 20_000 === 0) {
        heartbeat({ rows: n });
        throwIfCancelled();
        await events.maybeFlush();
      }
    } else if (ev.kind === 'header') {
      hourStart = checkHeader(ev.header, ctx.partition, spec.partitioning.utcOffset, fileName);
    } else if (ev.kind === 'rejected') {
      const { lineNo, reason, column, detail, raw } = ev.rejected;
      const q: QuarantineRecord = { lineNo, reason, column: column ?? null, detail, raw };
      quarantine.add(`${JSON.stringify(q)}\n`);
      await quarantine.maybeFlush();
    } else if (ev.kind === 'end') {
      summary = ev.summary;
    }
  }
  await Promise.all([events.close(), quarantine.close()]);
  if (!summary) throw new Error(`${fileName}: parser ended without a summary`);
  const profile = profiler.result(Date.parse(hourStart), summary.extraColumns.includes('energy_wh'));
  return { summary, hourStart, profile };
}

/** The partition's hour start; a file whose header names another machine or hour breaks the contract. */
function checkHeader(header: MachineSignalHeader, partition: string, utcOffset: string, fileName: string): string {
  const expected = parsePartitionKey(partition)!;
  const hourStart = hourStartIso(expected.hourKey, utcOffset);
  if (header.machine !== expected.entity || header.hourStartMs !== Date.parse(hourStart)) {
    throw new ContractBrokenError(
      `${fileName}: header says ${header.machine} at ${header.hour}, not partition ${partition}`,
      { partition },
    );
  }
  return hourStart;
}

/** Records the partition's quality checks; throws a data fault when the bad-row share exceeds the threshold. */
async function checkQuality(
  catalog: Catalog,
  input: StepInput,
  summary: ParseSummary,
  fileName: string,
): Promise<void> {
  const ratio = summary.dataLines ? summary.rejectedRows / summary.dataLines : 0;
  const max = input.spec.quality.maxBadRowRatio;
  const passed = ratio <= max;
  await catalog.quality(input.ctx, {
    name: 'bad_row_ratio',
    passed,
    observed: ratio,
    threshold: max,
    details: { rejectedByReason: summary.rejectedByReason },
  });
  await catalog.quality(input.ctx, {
    name: 'trailer_checksum',
    passed: true,
    details: { items: summary.trailer.items },
  });
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
        const { summary, hourStart, profile } = await parseToFiles(deps.lake, input, dir);
        await checkQuality(catalog, input, summary, fileName);
        const stagedKey = lakeKeys.staged(spec.id, 'production_events', ctx.partition, ingest.sha256);
        const quarantineKey = lakeKeys.quarantineRows(spec.id, ctx.partition, ingest.sha256);
        const bytes = await uploadFile(deps.lake, stagedKey, path.join(dir, 'events.tsv'));
        await uploadFile(deps.lake, quarantineKey, path.join(dir, 'quarantine.jsonl'));
        const profileKey = lakeKeys.profile(spec.id, ctx.partition, ingest.sha256);
        await deps.lake.put(profileKey, JSON.stringify(profile));
        await catalog.lineage(
          ctx,
          'stage',
          lakeUri(deps.lake.location, ingest.rawKey),
          lakeUri(deps.lake.location, stagedKey),
        );
        await catalog.lineage(
          ctx,
          'stage',
          lakeUri(deps.lake.location, ingest.rawKey),
          lakeUri(deps.lake.location, quarantineKey),
        );
        const result: StageResult = {
          stagedKey,
          quarantineKey,
          profileKey,
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
        await catalog.step(ctx, {
          step: 'stage',
          startedAt,
          attempt: attempt(),
          rowsIn: summary.dataLines,
          rowsOut: summary.goodRows,
          rowsQuarantined: summary.rejectedRows,
          bytes,
          details: { ...result },
        });
        return result;
      });
    } catch (err) {
      if (!(err instanceof DataFaultError)) throw err;
      if (err.type === 'ContractBroken') {
        await deps.lake.put(
          lakeKeys.quarantineFile(spec.id, ctx.partition, ingest.sha256),
          JSON.stringify(
            { sourceKey: ingest.sourceKey, rawKey: ingest.rawKey, error: err.message, details: err.details },
            null,
            2,
          ),
        );
      }
      await catalog.quality(ctx, { name: err.type, passed: false, details: { message: err.message } });
      throw err;
    }
  };
}

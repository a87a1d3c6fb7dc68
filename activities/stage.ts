import path from 'node:path';
import type pg from 'pg';
import { partitionWindow } from '../workflows/partitions.js';
import type { IngestResult, StageResult, StepInput } from '../workflows/steps.js';
import { attempt } from './activity-context.js';
import { BatchedWriter } from './batched-writer.js';
import { Catalog } from './catalog.js';
import { DataFaultError, DataQualityError, InvalidPartitionError } from './failures.js';
import { formatOf, type FormatParseResult } from './formats/registry.js';
import { lakeKeys, lakeUri } from './lake-layout.js';
import type { ObjectStore } from './storage/object-store.js';
import { uploadFile, withTempDir } from './temp-files.js';

/** What stage needs. */
export interface StageDeps {
  warehouse: pg.Pool;
  lake: ObjectStore;
}

/** Records the partition's quality checks; throws a data fault when the bad-row share exceeds the threshold. */
async function checkQuality(
  catalog: Catalog,
  input: StepInput,
  parsed: FormatParseResult,
  fileName: string,
): Promise<void> {
  const ratio = parsed.dataLines ? parsed.quarantined / parsed.dataLines : 0;
  const max = input.spec.quality.maxBadRowRatio;
  const passed = ratio <= max;
  await catalog.quality(input.ctx, {
    name: 'bad_row_ratio',
    passed,
    observed: ratio,
    threshold: max,
    details: { rejectedByReason: parsed.quarantinedByReason },
  });
  for (const check of parsed.checks) await catalog.quality(input.ctx, check);
  if (!passed) {
    const pct = (ratio * 100).toFixed(2);
    throw new DataQualityError(
      `${fileName}: ${parsed.quarantined} of ${parsed.dataLines} lines (${pct} %) quarantined, over the ${max * 100} % threshold; nothing loaded`,
      { rejectedByReason: parsed.quarantinedByReason, ratio, threshold: max },
    );
  }
}

/**
 * Stage: parses the raw file with the pipeline's registered format into typed rows (COPY text, ready to bulk-load)
 * and quarantined rows with their reasons, validating the file's contract and the partition's quality threshold.
 * Outputs are keyed by content hash, so a retry rewrites identical objects. Data faults (broken contract, incomplete
 * file, too many bad rows) fail without retry; a broken contract quarantines the whole file with its error.
 */
export function createStage(deps: StageDeps) {
  return async function stagePartition(input: StepInput & { ingest: IngestResult }): Promise<StageResult> {
    const startedAt = new Date();
    const { ctx, spec, ingest } = input;
    const fileName = ingest.sourceKey.split('/').pop()!;
    const catalog = new Catalog(deps.warehouse);
    const window = partitionWindow(spec.partitioning, ctx.partition);
    if (!window) throw new InvalidPartitionError(`${spec.id}: "${ctx.partition}" is not a partition of this pipeline`);
    try {
      return await withTempDir(async (dir) => {
        const staged = new BatchedWriter(path.join(dir, 'staged.tsv'));
        const quarantine = new BatchedWriter(path.join(dir, 'quarantine.jsonl'));
        const parsed = await formatOf(spec)
          .parse({
            lake: deps.lake,
            rawKey: ingest.rawKey,
            fileName,
            spec,
            partition: ctx.partition,
            window,
            sha256: ingest.sha256,
            staged,
            quarantine,
            warehouse: deps.warehouse,
          })
          .finally(() => Promise.all([staged.close(), quarantine.close()]));
        await checkQuality(catalog, input, parsed, fileName);
        const stagedKey = lakeKeys.staged(spec.id, '_staged', ctx.partition, ingest.sha256);
        const quarantineKey = lakeKeys.quarantineRows(spec.id, ctx.partition, ingest.sha256);
        const bytes = await uploadFile(deps.lake, stagedKey, path.join(dir, 'staged.tsv'));
        await uploadFile(deps.lake, quarantineKey, path.join(dir, 'quarantine.jsonl'));
        let profileKey: string | undefined;
        if (parsed.profile !== undefined) {
          profileKey = lakeKeys.profile(spec.id, ctx.partition, ingest.sha256);
          await deps.lake.put(profileKey, JSON.stringify(parsed.profile));
        }
        const raw = lakeUri(deps.lake.location, ingest.rawKey);
        await catalog.lineage(ctx, 'stage', raw, lakeUri(deps.lake.location, stagedKey));
        await catalog.lineage(ctx, 'stage', raw, lakeUri(deps.lake.location, quarantineKey));
        const result: StageResult = {
          stagedKey,
          quarantineKey,
          ...(profileKey ? { profileKey } : {}),
          dataLines: parsed.dataLines,
          rows: parsed.rows,
          quarantined: parsed.quarantined,
          duplicates: parsed.duplicates,
          quarantinedByReason: parsed.quarantinedByReason,
          encoding: parsed.encoding,
          extraColumns: parsed.extraColumns,
          facts: parsed.facts,
          window,
        };
        await catalog.step(ctx, {
          step: 'stage',
          startedAt,
          attempt: attempt(),
          rowsIn: parsed.dataLines,
          rowsOut: parsed.rows,
          rowsQuarantined: parsed.quarantined,
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

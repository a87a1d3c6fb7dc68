import { parsePartition, partitionKey, periodAt } from '../../workflows/partitions.js';
import type { PipelineSpec } from '../../workflows/spec.js';
import { heartbeat, throwIfCancelled } from '../activity-context.js';
import { encodeCopyRow, type CopyValue } from './copy-text.js';
import { PG_TYPES, type GenericFormatConfig } from './format.js';
import { parseGenericFile } from './generic/index.js';
import type { FileFormat, FormatParseInput, FormatParseResult, QuarantineRecord } from './registry.js';

/** The generic format config of a pipeline (an error when the spec declares none). */
export function genericConfigOf(input: Pick<FormatParseInput, 'spec'>): GenericFormatConfig {
  const config = input.spec.staging.config;
  if (!config) throw new Error(`${input.spec.id}: staging.format "generic" needs staging.config`);
  return config;
}

/** Columns of the staged rows of a generic format: the config's columns, then `line_no`. */
export function stagedColumns(config: GenericFormatConfig): { name: string; pgType: string }[] {
  return [
    ...config.columns.map((c) => ({ name: c.name, pgType: PG_TYPES[c.type] })),
    { name: 'line_no', pgType: 'integer' },
  ];
}

/** Where the partition columns are in a row's values (config column order). */
function partitionColumnIndexes(spec: PipelineSpec): { entity?: number; time: number; timeType: string } | undefined {
  const pc = spec.source.partitionFrom === 'column' ? spec.source.partitionColumns : undefined;
  const columns = spec.staging.config?.columns ?? [];
  if (!pc) return undefined;
  const time = columns.findIndex((c) => c.name === pc.time);
  const entity = pc.entity ? columns.findIndex((c) => c.name === pc.entity) : undefined;
  return { time, timeType: columns[time]?.type ?? 'text', ...(entity !== undefined ? { entity } : {}) };
}

/** The partition a row's partition columns name (`partitionFrom: column`), or undefined when they name none. */
function partitionOfRow(spec: PipelineSpec, values: readonly CopyValue[]): string | undefined {
  const at = partitionColumnIndexes(spec);
  const time = at ? values[at.time] : undefined;
  if (!at || typeof time !== 'string') return undefined;
  const p = spec.partitioning;
  const period = at.timeType === 'timestamp' ? periodAt(p, Date.parse(time)) : time;
  const entity = at.entity !== undefined ? values[at.entity] : undefined;
  if (p.kind !== 'day' && typeof entity !== 'string') return undefined;
  const key = partitionKey(p, period, entity as string | undefined);
  return parsePartition(p, key) ? key : undefined;
}

/**
 * A check, built once per file, that a row's partition columns name `input.partition`: the entity compared, the time
 * compared with the partition's instants or date, so no time-zone work is done per row.
 */
function rowInPartition(input: FormatParseInput): (values: readonly CopyValue[]) => boolean {
  const at = partitionColumnIndexes(input.spec)!;
  const entity = input.partition.includes('@') ? input.partition.split('@')[0] : undefined;
  const start = Date.parse(input.window.start);
  const end = Date.parse(input.window.end);
  return (values) => {
    const time = values[at.time];
    if (typeof time !== 'string' || (at.entity !== undefined && values[at.entity] !== entity)) return false;
    if (at.timeType !== 'timestamp') return time === input.window.date;
    const ms = Date.parse(time);
    return ms >= start && ms < end;
  };
}

/** The partition of a file by its first good row (`partitionFrom: column`). */
async function partitionFromHead(head: Buffer, spec: PipelineSpec): Promise<string | undefined> {
  const config = spec.staging.config;
  if (!config) return undefined;
  try {
    for await (const ev of parseGenericFile([head], { ...config, dedup: undefined }, { fileName: 'head' }))
      if (ev.kind === 'row') return partitionOfRow(spec, ev.values);
  } catch {
    return undefined;
  }
  return undefined;
}

/** Streams the raw file through the configured delimited or JSON Lines parser into staged rows and quarantine. */
async function parse(input: FormatParseInput): Promise<FormatParseResult> {
  const config = genericConfigOf(input);
  const inPartition = input.spec.source.partitionFrom === 'column' ? rowInPartition(input) : () => true;
  let outside = 0;
  let n = 0;
  for await (const ev of parseGenericFile(await input.lake.get(input.rawKey), config, { fileName: input.fileName })) {
    if (ev.kind === 'row' && !inPartition(ev.values)) {
      outside++;
      const q: QuarantineRecord = {
        lineNo: ev.lineNo,
        reason: 'outside_partition',
        column: input.spec.source.partitionColumns!.time,
        detail: `${input.fileName}:${ev.lineNo}: the row belongs to ${partitionOfRow(input.spec, ev.values) ?? 'no partition'}, not ${input.partition}`,
        raw: ev.values.map((v) => (v === null || v === undefined ? '' : String(v))).join('\t'),
      };
      input.quarantine.add(`${JSON.stringify(q)}\n`);
    } else if (ev.kind === 'row') {
      input.staged.add(encodeCopyRow([...ev.values, ev.lineNo]));
      if (++n % 20_000 === 0) {
        heartbeat({ rows: n });
        throwIfCancelled();
        await input.staged.maybeFlush();
      }
    } else if (ev.kind === 'rejected') {
      const { lineNo, reason, column, detail, raw } = ev.rejected;
      const q: QuarantineRecord = { lineNo, reason, column: column ?? null, detail, raw };
      input.quarantine.add(`${JSON.stringify(q)}\n`);
      await input.quarantine.maybeFlush();
    } else if (ev.kind === 'end') {
      const s = ev.summary;
      return {
        dataLines: s.dataLines,
        rows: s.goodRows - outside,
        quarantined: s.rejectedRows + outside,
        duplicates: s.duplicateRows,
        quarantinedByReason: outside > 0 ? { ...s.rejectedByReason, outside_partition: outside } : s.rejectedByReason,
        encoding: s.encoding,
        extraColumns: s.extraColumns,
        facts: {},
        checks: [{ name: 'duplicates', passed: true, observed: s.duplicateRows }],
      };
    }
  }
  throw new Error(`${input.fileName}: parser ended without a summary`);
}

/** Delimited text or JSON Lines, configured by the pipeline's `staging.config`. */
export const genericFormat: FileFormat = { id: 'generic', parse, partitionFromHead, configuredColumns: true };

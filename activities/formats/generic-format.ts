import { heartbeat, throwIfCancelled } from '../activity-context.js';
import { encodeCopyRow } from './copy-text.js';
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

/** Streams the raw file through the configured delimited or JSON Lines parser into staged rows and quarantine. */
async function parse(input: FormatParseInput): Promise<FormatParseResult> {
  const config = genericConfigOf(input);
  let n = 0;
  for await (const ev of parseGenericFile(await input.lake.get(input.rawKey), config, { fileName: input.fileName })) {
    if (ev.kind === 'row') {
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
        rows: s.goodRows,
        quarantined: s.rejectedRows,
        duplicates: s.duplicateRows,
        quarantinedByReason: s.rejectedByReason,
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
export const genericFormat: FileFormat = { id: 'generic', parse };

import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseDate } from './calendar.js';
import { DEFECT_KINDS, type DefectKind, type DefectSelection } from './defects.js';
import type { GroundTruth } from './ground-truth.js';

const USAGE =
  'usage: machine-files --out DIR --from YYYY-MM-DD --to YYYY-MM-DD [--machines N] [--seed S] ' +
  '[--defects all|none|kind,kind] [--items-per-file N] [--huge-factor N] [--ground-truth FILE]';

function intFlag(flag: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^-?\d+$/.test(text) || value < min || value > max)
    throw new Error(`--${flag}: expected an integer in ${min}..${max}, got "${text}"`);
  return value;
}

function dateFlag(flag: string, text: string | undefined): string {
  if (text === undefined) throw new Error(`--${flag} is required (YYYY-MM-DD); ${USAGE}`);
  if (parseDate(text) === undefined) throw new Error(`--${flag}: expected a date YYYY-MM-DD, got "${text}"`);
  return text;
}

function defectsFlag(text: string | undefined): DefectSelection {
  if (text === undefined || text === 'all' || text === 'none') return text ?? 'all';
  const kinds = text.split(',').map((k) => k.trim());
  const unknown = kinds.filter((k) => !DEFECT_KINDS.includes(k as DefectKind));
  if (unknown.length > 0)
    throw new Error(`--defects: unknown kind(s) ${unknown.join(', ')} (known: all, none, ${DEFECT_KINDS.join(', ')})`);
  return kinds as DefectKind[];
}

/**
 * `machine-files --out DIR --from YYYY-MM-DD --to YYYY-MM-DD [--machines N] [--seed S] [--defects all|none|a,b]
 * [--items-per-file N] [--huge-factor N] [--ground-truth FILE]`: generates the files and their ground truth, prints a
 * one-line summary and returns the truth. The leading `machine-files` word is optional. Bad arguments throw an error
 * naming the flag.
 */
export async function runGenerateCommand(
  argv: string[],
  log: (line: string) => void = console.log,
): Promise<GroundTruth> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      out: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      machines: { type: 'string' },
      seed: { type: 'string' },
      defects: { type: 'string' },
      'items-per-file': { type: 'string' },
      'huge-factor': { type: 'string' },
      'ground-truth': { type: 'string' },
    },
  });
  const extra = positionals.filter((p, i) => !(i === 0 && p === 'machine-files'));
  if (extra.length > 0) throw new Error(`unexpected argument(s) ${extra.join(' ')}; ${USAGE}`);
  if (!values.out) throw new Error(`--out is required; ${USAGE}`);
  const from = dateFlag('from', values.from);
  const to = dateFlag('to', values.to);
  if (to < from) throw new Error(`--to (${to}) is before --from (${from})`);
  const { generateMachineFiles } = await import('./machine-files.js');
  const outDir = path.resolve(values.out);
  const truth = await generateMachineFiles({
    outDir,
    from,
    to,
    machines: intFlag('machines', values.machines, 10, 1, 99),
    seed: intFlag('seed', values.seed, 42, -(2 ** 31), 2 ** 32 - 1),
    defects: defectsFlag(values.defects),
    itemsPerFile: intFlag('items-per-file', values['items-per-file'], 10_000, 1, 10_000_000),
    hugeFactor: intFlag('huge-factor', values['huge-factor'], 100, 1, 1000),
    ...(values['ground-truth'] ? { groundTruthPath: path.resolve(values['ground-truth']) } : {}),
  });
  log(summaryLine(truth, outDir));
  return truth;
}

function summaryLine(truth: GroundTruth, outDir: string): string {
  const t = truth.totals;
  const late = truth.files.filter((f) => f.late).length;
  const resent = truth.files.filter((f) => f.redelivery).length;
  const megabytes = (truth.files.reduce((sum, f) => sum + f.bytes, 0) / 1e6).toFixed(1);
  const outcomes = Object.entries(t.partitionsByOutcome)
    .filter(([, n]) => n > 0)
    .map(([o, n]) => `${n} ${o}`)
    .join(', ');
  return (
    `machine-files: ${t.files} files (${late} late, ${resent} re-sent) for ${truth.options.machines} machines, ` +
    `${truth.options.from}..${truth.options.to}, ${t.partitions} partitions (${outcomes}), ${megabytes} MB, ` +
    `${t.eventsLoaded} events expected; defects: ${truth.options.defects.join(',') || 'none'} → ${outDir}`
  );
}

import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseDate } from './calendar.js';
import { DEFECT_KINDS } from './defects.js';
import type { GroundTruth } from './ground-truth.js';
import { LAB_DEFECT_KINDS, type LabGroundTruth } from './lab-truth.js';

const MACHINE_USAGE =
  'machine-files --out DIR --from YYYY-MM-DD --to YYYY-MM-DD [--machines N] [--seed S] ' +
  '[--defects all|none|kind,kind] [--items-per-file N] [--huge-factor N] [--ground-truth FILE]';
const LAB_USAGE =
  'lab-inspections --out DIR --from YYYY-MM-DD --to YYYY-MM-DD [--machines N] [--seed S] ' +
  '[--defects all|none|kind,kind] [--samples-per-day N] [--ground-truth FILE]';
const USAGE = `usage: [${MACHINE_USAGE.replace(' ', '] ')}\n       ${LAB_USAGE}`;

/** What each generator reads; the flags of one are errors for the other. */
const COMMAND_FLAGS = {
  'machine-files': [
    'out',
    'from',
    'to',
    'machines',
    'seed',
    'defects',
    'items-per-file',
    'huge-factor',
    'ground-truth',
  ],
  'lab-inspections': ['out', 'from', 'to', 'machines', 'seed', 'defects', 'samples-per-day', 'ground-truth'],
} as const;

type GenerateCommand = keyof typeof COMMAND_FLAGS;

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

function defectsFlag<K extends string>(text: string | undefined, known: readonly K[]): 'all' | 'none' | K[] {
  if (text === undefined || text === 'all' || text === 'none') return text ?? 'all';
  const kinds = text.split(',').map((k) => k.trim());
  const unknown = kinds.filter((k) => !known.includes(k as K));
  if (unknown.length > 0)
    throw new Error(`--defects: unknown kind(s) ${unknown.join(', ')} (known: all, none, ${known.join(', ')})`);
  return kinds as K[];
}

type Flags = Partial<Record<(typeof COMMAND_FLAGS)[GenerateCommand][number], string>>;

/**
 * `[machine-files] --out DIR --from YYYY-MM-DD --to YYYY-MM-DD [--machines N] [--seed S] [--defects all|none|a,b]
 * [--items-per-file N] [--huge-factor N] [--ground-truth FILE]` generates machine signal files, and
 * `lab-inspections --out DIR --from … --to … [--machines N] [--seed S] [--defects …] [--samples-per-day N]
 * [--ground-truth FILE]` the QA lab's inspection files; either writes its ground truth, prints a one-line summary and
 * returns the truth. The leading word is optional for `machine-files`. Bad arguments throw an error naming the flag.
 */
export async function runGenerateCommand(
  argv: readonly ['lab-inspections', ...string[]],
  log?: (line: string) => void,
): Promise<LabGroundTruth>;
export async function runGenerateCommand(
  argv: readonly ['machine-files', ...string[]],
  log?: (line: string) => void,
): Promise<GroundTruth>;
export async function runGenerateCommand(
  argv: readonly string[],
  log?: (line: string) => void,
): Promise<GroundTruth | LabGroundTruth>;
export async function runGenerateCommand(
  argv: readonly string[],
  log: (line: string) => void = console.log,
): Promise<GroundTruth | LabGroundTruth> {
  const allFlags = [...new Set(Object.values(COMMAND_FLAGS).flat())];
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: Object.fromEntries(allFlags.map((f) => [f, { type: 'string' as const }])),
  });
  const first = positionals[0];
  const command: GenerateCommand = first === 'lab-inspections' ? 'lab-inspections' : 'machine-files';
  const extra = positionals.filter((p, i) => !(i === 0 && p === command));
  if (extra.length > 0) throw new Error(`unexpected argument(s) ${extra.join(' ')}; ${USAGE}`);
  const flags = values as Flags;
  const foreign = Object.keys(flags).filter((f) => !(COMMAND_FLAGS[command] as readonly string[]).includes(f));
  if (foreign.length > 0)
    throw new Error(`${foreign.map((f) => `--${f}`).join(', ')}: not an option of ${command}; ${USAGE}`);
  if (!flags.out) throw new Error(`--out is required; ${USAGE}`);
  const from = dateFlag('from', flags.from);
  const to = dateFlag('to', flags.to);
  if (to < from) throw new Error(`--to (${to}) is before --from (${from})`);
  const outDir = path.resolve(flags.out);
  const common = {
    outDir,
    from,
    to,
    machines: intFlag('machines', flags.machines, 10, 1, 99),
    seed: intFlag('seed', flags.seed, 42, -(2 ** 31), 2 ** 32 - 1),
    ...(flags['ground-truth'] ? { groundTruthPath: path.resolve(flags['ground-truth']) } : {}),
  };
  if (command === 'lab-inspections') {
    const { generateLabInspections } = await import('./lab-inspections.js');
    const truth = await generateLabInspections({
      ...common,
      defects: defectsFlag(flags.defects, LAB_DEFECT_KINDS),
      samplesPerDay: intFlag('samples-per-day', flags['samples-per-day'], 2000, 1, 1_000_000),
    });
    log(labSummaryLine(truth, outDir));
    return truth;
  }
  const { generateMachineFiles } = await import('./machine-files.js');
  const truth = await generateMachineFiles({
    ...common,
    defects: defectsFlag(flags.defects, DEFECT_KINDS),
    itemsPerFile: intFlag('items-per-file', flags['items-per-file'], 10_000, 1, 10_000_000),
    hugeFactor: intFlag('huge-factor', flags['huge-factor'], 100, 1, 1000),
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

function labSummaryLine(truth: LabGroundTruth, outDir: string): string {
  const t = truth.totals;
  const outcomes = Object.entries(t.daysByOutcome)
    .filter(([, n]) => n > 0)
    .map(([o, n]) => `${n} ${o}`)
    .join(', ');
  const quarantined = Object.values(t.quarantinedByReason).reduce((s, n) => s + n, 0);
  const megabytes = (
    Object.values(truth.days).reduce((sum, d) => sum + d.bytes + (d.firstDelivery?.bytes ?? 0), 0) / 1e6
  ).toFixed(1);
  return (
    `lab-inspections: ${t.days} days (${outcomes}), ${t.files} files, ${truth.options.machines} machines, ` +
    `${truth.options.from}..${truth.options.to}, ${megabytes} MB, ${t.samplesLoaded} samples expected ` +
    `(${quarantined} quarantined, ${t.duplicates} duplicates); defects: ${truth.options.defects.join(',') || 'none'} → ${outDir}`
  );
}

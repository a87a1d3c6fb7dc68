import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PLANT_OFFSET, parseDate, workingHourKeys } from './calendar.js';
import { encodeWindows1252, labLines, type LabLine, type LabLinePlan } from './lab-rows.js';
import {
  LAB_COLUMNS,
  LAB_DAY_DEFECTS,
  LAB_DEFECT_CODES,
  LAB_DEFECT_KINDS,
  LAB_QUALITY_THRESHOLD,
  LAB_REJECT_REASONS,
  LAB_ROW_DEFECTS,
  labTotalsOf,
  reasonCounts,
  resolveLabDefects,
  skuStats,
  type LabDayTruth,
  type LabDefectKind,
  type LabDefectSelection,
  type LabDeliveryTruth,
  type LabGroundTruth,
  type LabOutcome,
  type LabRejectReason,
  type LabRowTruth,
} from './lab-truth.js';
import { Rng, hashSeed } from './prng.js';

/** Landing prefix of the lab's files, under the output folder. */
export const LAB_PREFIX = 'lab';

/** Folder (under the landing prefix) of corrected re-sends. */
export const LAB_RESENT_DIR = 'resent';

/** Suffix of the empty marker written after a data file; a file without it waits. */
export const LAB_MARKER_SUFFIX = '.done';

/** Options shared by the bulk generator and the one-day writer. */
export interface LabInspectionOptions {
  /** Folder the `lab/` files are written under (created if needed). */
  outDir: string;
  /** Everything is deterministic from it. */
  seed: number;
  /** Typical distinct samples per day (each day varies ±5 %). Default 2000. */
  samplesPerDay?: number;
  /** Fleet size: machines `M01`…`Mnn` (1–99), whose SKU families are the machine generator's. Default 10. */
  machines?: number;
}

/** Options of {@link generateLabInspections}. */
export interface GenerateLabInspectionsOptions extends LabInspectionOptions {
  /** First day, `YYYY-MM-DD` (local). */
  from: string;
  /** Last day, inclusive. */
  to: string;
  /** Defects to inject; default `all`. */
  defects?: LabDefectSelection;
  /** Where to write the ground truth; default `<outDir>/lab-ground-truth.json`. */
  groundTruthPath?: string;
}

/** Options of {@link writeLabDayFile}. */
export interface WriteLabDayOptions extends LabInspectionOptions {
  /** `YYYY-MM-DD`, any day (weekends included). */
  day: string;
  /** Defects injected into this day, as the bulk generator plans them per day. Default none. */
  defects?: readonly LabDefectKind[];
  /**
   * Which delivery to write: `original` (`lab/<name>`), or `corrected` (`lab/resent/<name>`: the same samples with
   * some measures and results changed, bad rows fixed). Default: what the bulk generator writes for the day, i.e.
   * the original, plus the corrected one when `defects` has `resent`.
   */
  variant?: 'original' | 'corrected';
}

interface LabSettings {
  seed: number;
  samplesPerDay: number;
  machines: number;
}

/** The schema breaks a `schema_break` day may carry. */
const SCHEMA_BREAKS = ['rename_peso', 'drop_diametro', 'rename_inspecionado'] as const;

/** What a corrected re-send still carries: its bad rows and broken schema are what was corrected. */
const CORRECTED_KEEPS: readonly LabDefectKind[] = ['duplicate', 'extra_column', 'no_marker'];

/** Everything about one delivered file, decided before writing. */
interface DeliveryPlan extends LabLinePlan {
  /** Defects the file carries. */
  injected: LabDefectKind[];
  eol: '\r\n' | '\n';
  finalNewline: boolean;
  schemaBreak: (typeof SCHEMA_BREAKS)[number] | null;
  extraColumn: boolean;
  marker: boolean;
}

function positiveInt(name: string, value: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw new Error(`${name} must be an integer in 1..${max}, got ${value}`);
  return value;
}

function settingsOf(options: LabInspectionOptions): LabSettings {
  if (!Number.isInteger(options.seed)) throw new Error(`seed must be an integer, got ${options.seed}`);
  return {
    seed: options.seed,
    samplesPerDay: positiveInt('samplesPerDay', options.samplesPerDay ?? 2000, 1_000_000),
    machines: positiveInt('machines', options.machines ?? 10, 99),
  };
}

/** `inspections_YYYYMMDD.csv`. */
export function labFileNameOf(day: string): string {
  return `inspections_${day.replaceAll('-', '')}.csv`;
}

/** Working days (Monday–Friday) between two dates, inclusive. */
export function labWorkingDays(from: string, to: string): string[] {
  return [...new Set(workingHourKeys(from, to).map((h) => h.slice(0, 10)))];
}

/**
 * Plans one delivery of a day: its size (±5 % of `samplesPerDay`), line ends (CRLF in about half the files), final
 * line break (missing in about 30 %), and the defects it carries. Row defects stay at most 2 % of the rows (so a day
 * with too few samples carries fewer kinds); `quality_failed` makes 8 % of the rows bad, of all four reasons.
 */
function planDelivery(
  settings: LabSettings,
  day: string,
  kinds: readonly LabDefectKind[],
  variant: 'original' | 'corrected',
): DeliveryPlan {
  const size = new Rng(hashSeed(settings.seed, 'lab', day, 'size'));
  const samples = Math.max(1, Math.round(settings.samplesPerDay * (0.95 + 0.1 * size.next())));
  const carried = kinds.filter((k) => (variant === 'corrected' ? CORRECTED_KEEPS.includes(k) : k !== 'resent'));
  const rng = new Rng(hashSeed(settings.seed, 'lab', day, variant, 'plan'));
  const eol = rng.chance(0.5) ? '\r\n' : '\n';
  const finalNewline = !rng.chance(0.3);
  const schemaBreak = rng.pick(SCHEMA_BREAKS);
  const bad: Partial<Record<LabRejectReason, number>> = {};
  let dropped: LabRejectReason[] = [];
  if (carried.includes('quality_failed')) {
    const total = Math.ceil(samples * 0.08);
    const order = rng.shuffle([...LAB_REJECT_REASONS]);
    for (let i = 0; i < total; i++) bad[order[i % order.length]!] = (bad[order[i % order.length]!] ?? 0) + 1;
  } else {
    const reasons = rng.shuffle(LAB_REJECT_REASONS.filter((r) => carried.includes(r)));
    const cap = Math.floor(samples * 0.02);
    const kept = reasons.slice(0, cap);
    dropped = reasons.slice(cap);
    const per = Math.max(1, Math.floor(cap / Math.max(1, kept.length)));
    for (const r of kept) bad[r] = rng.int(Math.max(1, Math.floor(per / 2)), per);
  }
  const duplicates = carried.includes('duplicate')
    ? rng.int(Math.max(1, Math.floor(samples * 0.002)), Math.max(1, Math.round(samples * 0.005)))
    : 0;
  return {
    day,
    seed: settings.seed,
    samples,
    machines: settings.machines,
    variant,
    bad,
    duplicates,
    injected: carried.filter((k) => !dropped.includes(k as LabRejectReason)),
    eol,
    finalNewline,
    schemaBreak: carried.includes('schema_break') ? schemaBreak : null,
    extraColumn: carried.includes('extra_column'),
    marker: !carried.includes('no_marker'),
  };
}

/** The header as written and each line's fields in that order (a broken schema renames or drops a column). */
function fileLayout(plan: DeliveryPlan): { columns: string[]; fieldsOf: (line: LabLine) => string[] } {
  const columns: string[] = [...LAB_COLUMNS];
  let drop = -1;
  if (plan.schemaBreak === 'rename_peso') columns[columns.indexOf('peso_g')] = 'peso';
  if (plan.schemaBreak === 'rename_inspecionado') columns[columns.indexOf('inspecionado_em')] = 'data_inspecao';
  if (plan.schemaBreak === 'drop_diametro') drop = columns.indexOf('diametro_mm');
  if (drop >= 0) columns.splice(drop, 1);
  if (plan.extraColumn) columns.push('lote');
  const lot = (line: LabLine) => `L${plan.day.slice(2).replaceAll('-', '')}-${line.sample.machine.slice(1)}`;
  return {
    columns,
    fieldsOf: (line) => {
      const fields = drop >= 0 ? line.fields.filter((_, i) => i !== drop) : [...line.fields];
      return plan.extraColumn ? [...fields, lot(line)] : fields;
    },
  };
}

/** The facts of a written file, and the outcome they lead to (with or without its marker). */
interface DeliveryFacts {
  plan: DeliveryPlan;
  path: string;
  bytes: number;
  columns: string[];
  lines: LabLine[];
}

/**
 * What a correct pipeline makes of a delivery, from the generator's own lines: the latest inspection of a sample
 * wins (ties: the later line), every other valid line of it is a duplicate; a missing contract column breaks the
 * file; over 5 % bad rows fail the day; no marker means waiting.
 */
function deliveryTruth(facts: DeliveryFacts, marked: boolean): LabDeliveryTruth {
  const { plan, columns, lines } = facts;
  const missingColumns = LAB_COLUMNS.filter((c) => !columns.includes(c));
  const extraColumns = columns.filter((c) => !(LAB_COLUMNS as readonly string[]).includes(c));
  const rejected: Partial<Record<LabRejectReason, number>> = {};
  const winners = new Map<string, LabRowTruth>();
  let valid = 0;
  for (const line of lines) {
    if (line.kind === 'bad') {
      rejected[line.reason] = (rejected[line.reason] ?? 0) + 1;
      continue;
    }
    valid++;
    const held = winners.get(line.row.amostra);
    if (!held || line.row.inspected_at >= held.inspected_at) winners.set(line.row.amostra, line.row);
  }
  const rejectedRows = lines.length - valid;
  let outcome: LabOutcome = 'loaded';
  if (!marked) outcome = 'waiting';
  else if (missingColumns.length > 0) outcome = 'contract_broken';
  else if (rejectedRows / Math.max(1, lines.length) > LAB_QUALITY_THRESHOLD) outcome = 'quality_failed';
  const loaded = outcome === 'loaded';
  const readable = loaded || outcome === 'quality_failed';
  const rows = loaded ? [...winners.values()].sort((a, b) => a.amostra.localeCompare(b.amostra)) : [];
  return {
    outcome,
    path: facts.path,
    marker: plan.marker,
    bytes: facts.bytes,
    variant: plan.variant,
    injected: plan.injected,
    lineEnding: plan.eol === '\r\n' ? 'crlf' : 'lf',
    finalNewline: plan.finalNewline,
    columns,
    extraColumns,
    missingColumns,
    dataLines: lines.length,
    parsed: readable
      ? {
          dataLines: lines.length,
          goodRows: winners.size,
          rejectedByReason: reasonCounts(rejected),
          duplicates: valid - winners.size,
        }
      : null,
    samplesLoaded: rows.length,
    duplicates: loaded ? valid - winners.size : 0,
    quarantinedByReason: loaded ? reasonCounts(rejected) : {},
    bySku: skuStats(rows),
    rows,
  };
}

/** Writes one delivery's file (Windows-1252) and, unless it waits, its empty marker after it. */
async function writeDelivery(
  outDir: string,
  plan: DeliveryPlan,
): Promise<{ truth: LabDeliveryTruth; whenMarked: LabDeliveryTruth | null; files: string[] }> {
  const dir = plan.variant === 'corrected' ? path.posix.join(LAB_PREFIX, LAB_RESENT_DIR) : LAB_PREFIX;
  const rel = path.posix.join(dir, labFileNameOf(plan.day));
  const lines = labLines(plan);
  const layout = fileLayout(plan);
  const text = [layout.columns, ...lines.map(layout.fieldsOf)].map((f) => f.join(';')).join(plan.eol);
  const bytes = encodeWindows1252(plan.finalNewline ? `${text}${plan.eol}` : text);
  await mkdir(path.join(outDir, dir), { recursive: true });
  await writeFile(path.join(outDir, rel), bytes);
  const files = [rel];
  if (plan.marker) {
    await writeFile(path.join(outDir, `${rel}${LAB_MARKER_SUFFIX}`), '');
    files.push(`${rel}${LAB_MARKER_SUFFIX}`);
  }
  const facts: DeliveryFacts = { plan, path: rel, bytes: bytes.length, columns: layout.columns, lines };
  return {
    truth: deliveryTruth(facts, plan.marker),
    whenMarked: plan.marker ? null : deliveryTruth(facts, true),
    files,
  };
}

/** Writes a day's deliveries and returns the day's final state. */
async function writeDay(
  outDir: string,
  settings: LabSettings,
  day: string,
  kinds: readonly LabDefectKind[],
  variant?: 'original' | 'corrected',
): Promise<LabDayTruth> {
  const variants: ('original' | 'corrected')[] = variant
    ? [variant]
    : kinds.includes('resent')
      ? ['original', 'corrected']
      : ['original'];
  const written: Awaited<ReturnType<typeof writeDelivery>>[] = [];
  for (const v of variants) written.push(await writeDelivery(outDir, planDelivery(settings, day, kinds, v)));
  const last = written[written.length - 1]!;
  const resent = written.some((w) => w.truth.variant === 'corrected');
  return {
    day,
    fileName: labFileNameOf(day),
    defects: LAB_DEFECT_KINDS.filter(
      (k) => (k === 'resent' && resent) || written.some((w) => w.truth.injected.includes(k)),
    ),
    files: written.flatMap((w) => w.files),
    ...last.truth,
    firstDelivery: written.length > 1 ? written[0]!.truth : null,
    whenMarked: last.whenMarked,
  };
}

/**
 * Assigns defects to days, deterministically from the seed: each day defect (`quality_failed`, `schema_break`,
 * `extra_column`, `resent`, `no_marker`) to a day of its own; each row defect to half of the other days (at least
 * one), the `extra_column` day included. Throws when the range has too few working days.
 */
export function planLabDefects(
  days: readonly string[],
  kinds: readonly LabDefectKind[],
  seed: number,
): Map<string, LabDefectKind[]> {
  const dayKinds = LAB_DAY_DEFECTS.filter((k) => kinds.includes(k));
  const rowKinds = LAB_ROW_DEFECTS.filter((k) => kinds.includes(k));
  const needed = dayKinds.length + (rowKinds.length > 0 && !dayKinds.includes('extra_column') ? 1 : 0);
  if (needed > days.length) {
    throw new Error(
      `--defects: ${needed} working days needed (one for each of ${[...dayKinds, ...(rowKinds.length ? ['row defects'] : [])].join(', ')}) but the range has only ${days.length}; widen --from/--to`,
    );
  }
  const plan = new Map<string, LabDefectKind[]>(days.map((d) => [d, []]));
  const order = new Rng(hashSeed(seed, 'lab', 'defect-days')).shuffle([...days]);
  dayKinds.forEach((k, i) => plan.get(order[i]!)!.push(k));
  const eligible = days.filter((d) => plan.get(d)!.every((k) => k === 'extra_column'));
  for (const kind of rowKinds) {
    const picks = new Rng(hashSeed(seed, 'lab', 'defect-days', kind)).shuffle([...eligible]);
    for (const d of picks.slice(0, Math.max(1, Math.ceil(eligible.length / 2)))) plan.get(d)!.push(kind);
  }
  for (const [d, list] of plan)
    plan.set(
      d,
      LAB_DEFECT_KINDS.filter((k) => list.includes(k)),
    );
  return plan;
}

/** Pretty JSON with objects and arrays of plain values on one line (a row per line keeps the file readable). */
export function labTruthJson(value: unknown, indent = ''): string {
  const flat = (v: unknown) => v === null || typeof v !== 'object';
  if (Array.isArray(value)) {
    if (value.every(flat)) return JSON.stringify(value);
    const inner = `${indent}  `;
    return `[\n${value.map((v) => `${inner}${labTruthJson(v, inner)}`).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.every(([, v]) => flat(v))) return JSON.stringify(value);
    const inner = `${indent}  `;
    const body = entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${labTruthJson(v, inner)}`).join(',\n');
    return `{\n${body}\n${indent}}`;
  }
  return JSON.stringify(value);
}

/**
 * Writes the QA lab's inspection files (contract `lab-inspections-v1`: Windows-1252, `;`, decimal comma) for every
 * working day between `from` and `to` under `<outDir>/lab/`, each followed by its `.done` marker, injecting the
 * selected defects into specific days, and returns the ground truth (also written as JSON). Deterministic: the same
 * options give the same bytes. The truth is computed from the generator's own rows, never by parsing the files.
 */
export async function generateLabInspections(options: GenerateLabInspectionsOptions): Promise<LabGroundTruth> {
  const [from, to] = [parseDate(options.from), parseDate(options.to)];
  if (from === undefined) throw new Error(`from must be a date YYYY-MM-DD, got ${options.from}`);
  if (to === undefined || to < from) throw new Error(`to must be a date YYYY-MM-DD not before from, got ${options.to}`);
  const settings = settingsOf(options);
  const kinds = resolveLabDefects(options.defects ?? 'all');
  const days = labWorkingDays(options.from, options.to);
  const plan = planLabDefects(days, kinds, settings.seed);
  const carried = new Set([...plan].flatMap(([d, k]) => planDelivery(settings, d, k, 'original').injected));
  const lacking = LAB_ROW_DEFECTS.filter((k) => kinds.includes(k) && !carried.has(k));
  if (lacking.length > 0) {
    throw new Error(
      `--samples-per-day: ${settings.samplesPerDay} samples per day are too few to inject ${lacking.join(', ')} (at most 2 % of a day's rows are bad); raise it or widen --from/--to`,
    );
  }
  const dayTruths: LabDayTruth[] = [];
  for (const day of days) dayTruths.push(await writeDay(options.outDir, settings, day, plan.get(day)!));
  const defectDays = Object.fromEntries(
    kinds.map((k) => [k, dayTruths.filter((d) => d.defects.includes(k)).map((d) => d.day)]),
  );
  const truth: LabGroundTruth = {
    version: 1,
    contract: 'lab-inspections-v1',
    options: {
      from: options.from,
      to: options.to,
      seed: settings.seed,
      samplesPerDay: settings.samplesPerDay,
      machines: settings.machines,
      defects: kinds,
      plant: 'SP-01',
      timeZone: 'America/Sao_Paulo',
      utcOffset: PLANT_OFFSET,
    },
    format: {
      landingPrefix: `${LAB_PREFIX}/`,
      fileNamePattern: 'inspections_YYYYMMDD.csv',
      markerSuffix: LAB_MARKER_SUFFIX,
      encoding: 'windows-1252',
      delimiter: ';',
      decimal: ',',
      dateTimePattern: 'dd/MM/yyyy HH:mm',
      columns: [...LAB_COLUMNS],
    },
    rules: {
      qualityThreshold: LAB_QUALITY_THRESHOLD,
      dedup: { key: ['amostra'], keep: 'latest', by: 'inspecionado_em' },
      allowedResults: ['APROVADO', 'REPROVADO'],
      defectCodes: [...LAB_DEFECT_CODES],
    },
    defectDays,
    days: Object.fromEntries(dayTruths.map((d) => [d.day, d])),
    totals: labTotalsOf(dayTruths),
  };
  const truthPath = options.groundTruthPath ?? path.join(options.outDir, 'lab-ground-truth.json');
  await mkdir(path.dirname(truthPath), { recursive: true });
  await writeFile(truthPath, `${labTruthJson(truth)}\n`);
  return truth;
}

/**
 * Writes ONE day's delivery (or both, for a re-sent day) and returns that day's truth. With the same options, seed
 * and the day's defects its bytes equal what {@link generateLabInspections} writes for that day; `variant:
 * 'corrected'` writes a corrected re-send under `lab/resent/` (with its marker) whose truth supersedes the original.
 */
export async function writeLabDayFile(options: WriteLabDayOptions): Promise<LabDayTruth> {
  if (parseDate(options.day) === undefined) throw new Error(`day must be a date YYYY-MM-DD, got ${options.day}`);
  const settings = settingsOf(options);
  const kinds = resolveLabDefects(options.defects ?? []);
  return writeDay(options.outDir, settings, options.day, kinds, options.variant);
}

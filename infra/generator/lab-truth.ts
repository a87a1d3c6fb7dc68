/**
 * The QA lab's inspection files (contract `lab-inspections-v1`): their columns, the defects the generator can inject
 * and the shape of the ground truth, with the statistics it holds computed exactly from the generator's own rows.
 */

/** Columns of an inspection file, in order (header line). */
export const LAB_COLUMNS = [
  'amostra',
  'sku',
  'maquina',
  'inspecionado_em',
  'inspetor',
  'peso_g',
  'diametro_mm',
  'revestimento_um',
  'resultado',
  'defeito',
] as const;

/** The three measures of a sample. */
export const LAB_MEASURES = ['peso_g', 'diametro_mm', 'revestimento_um'] as const;

/** A measure column. */
export type LabMeasure = (typeof LAB_MEASURES)[number];

/** Share of quarantined rows above which a day fails whole and loads nothing (5 % of its data lines). */
export const LAB_QUALITY_THRESHOLD = 0.05;

/** Why a row is quarantined (the generic delimited parser's reason names). */
export const LAB_REJECT_REASONS = ['bad_number', 'bad_datetime', 'bad_value', 'missing_value'] as const;

/** A reason a single row is quarantined. */
export type LabRejectReason = (typeof LAB_REJECT_REASONS)[number];

/** Defects injected into a few rows of a day: the four quarantine reasons and re-measured (duplicate) samples. */
export const LAB_ROW_DEFECTS = [...LAB_REJECT_REASONS, 'duplicate'] as const;

/** Defects that take a day of their own (one day each). */
export const LAB_DAY_DEFECTS = ['quality_failed', 'schema_break', 'extra_column', 'resent', 'no_marker'] as const;

/** A defect of a row. */
export type LabRowDefect = (typeof LAB_ROW_DEFECTS)[number];

/** A defect of a whole day. */
export type LabDayDefect = (typeof LAB_DAY_DEFECTS)[number];

/** Any lab defect kind. */
export type LabDefectKind = LabRowDefect | LabDayDefect;

/** Every lab defect kind, in the order they are listed everywhere; `all` selects every one. */
export const LAB_DEFECT_KINDS: readonly LabDefectKind[] = [...LAB_ROW_DEFECTS, ...LAB_DAY_DEFECTS];

/** Which lab defects to inject: `all`, `none`, or a list of kinds. */
export type LabDefectSelection = 'all' | 'none' | readonly LabDefectKind[];

/** Result of an inspection. */
export type LabResult = 'APROVADO' | 'REPROVADO';

/** Defect codes a rejected sample carries. */
export const LAB_DEFECT_CODES = ['RISCO', 'AMASSADO', 'REVEST_FALHO', 'DIAM_FORA'] as const;

/** A defect code. */
export type LabDefectCode = (typeof LAB_DEFECT_CODES)[number];

/** What becomes of a day once its deliveries have landed. */
export type LabOutcome = 'loaded' | 'quality_failed' | 'contract_broken' | 'waiting';

/** Normalizes a selection to a list of kinds in {@link LAB_DEFECT_KINDS} order; throws naming `--defects`. */
export function resolveLabDefects(selection: LabDefectSelection): LabDefectKind[] {
  if (selection === 'none') return [];
  if (selection === 'all') return [...LAB_DEFECT_KINDS];
  for (const kind of selection) {
    if (!LAB_DEFECT_KINDS.includes(kind)) {
      throw new Error(`--defects: unknown defect kind "${kind}" (known: all, none, ${LAB_DEFECT_KINDS.join(', ')})`);
    }
  }
  return LAB_DEFECT_KINDS.filter((k) => selection.includes(k));
}

/** A row as the warehouse must hold it once loaded. */
export interface LabRowTruth {
  amostra: string;
  sku: string;
  maquina: string;
  /** UTC instant, `Date.prototype.toISOString()` (e.g. `2026-11-20T13:05:00.000Z`). */
  inspected_at: string;
  inspector: string;
  /** Exact decimal in `.` notation, as written (trailing zeros kept), e.g. `412.30`. */
  peso_g: string;
  diametro_mm: string;
  /** Null when not measured (empty in the file). */
  revestimento_um: string | null;
  result: LabResult;
  defect: LabDefectCode | null;
}

/** Mean and sample standard deviation of one measure. */
export interface LabMeasureStats {
  /** Values counted (empty `revestimento_um` values are not). */
  count: number;
  /** Null when there are no values. */
  mean: number | null;
  /** `stddev_samp`: n − 1 in the denominator; null when fewer than 2 values. */
  stddev_samp: number | null;
}

/** Loaded samples of one SKU. */
export interface LabSkuTruth {
  samples: number;
  rejected: number;
  /** rejected / samples. */
  rejectRate: number;
  peso_g: LabMeasureStats;
  diametro_mm: LabMeasureStats;
  revestimento_um: LabMeasureStats;
}

/** What the parser reports for a file it reads to the end (loaded and quality_failed days). */
export interface LabParsedTruth {
  dataLines: number;
  /** Rows after dedup. */
  goodRows: number;
  rejectedByReason: Partial<Record<LabRejectReason, number>>;
  /** Valid rows dropped by the dedup (an earlier measurement of a sample listed again). */
  duplicates: number;
}

/** One delivered file (a day has one, two when re-sent) and what it makes of its day. */
export interface LabDeliveryTruth {
  /** What this delivery makes of its day. */
  outcome: LabOutcome;
  /** Data file relative to the output folder, e.g. `lab/inspections_20261120.csv` or `lab/resent/…`. */
  path: string;
  /** Its `.done` marker was written (otherwise the file waits). */
  marker: boolean;
  bytes: number;
  variant: 'original' | 'corrected';
  /** Defects carried by this file. */
  injected: LabDefectKind[];
  lineEnding: 'crlf' | 'lf';
  /** The last line ends with a line break. */
  finalNewline: boolean;
  /** Header as written. */
  columns: string[];
  /** Columns beyond the contract's (accepted). */
  extraColumns: string[];
  /** Contract columns absent from the header (renamed or dropped): the file breaks its contract. */
  missingColumns: string[];
  /** Data lines in the file (header excluded), bad and repeated ones included. */
  dataLines: number;
  /** Parser facts; null when the file is not read to the end (contract broken, waiting). */
  parsed: LabParsedTruth | null;
  /** Rows loaded after dedup (0 unless loaded). */
  samplesLoaded: number;
  /** Rows dropped by the dedup (loaded only). */
  duplicates: number;
  /** Rows quarantined one by one (loaded only). */
  quarantinedByReason: Partial<Record<LabRejectReason, number>>;
  /** Per SKU of the loaded rows, sorted by SKU (empty unless loaded). */
  bySku: Record<string, LabSkuTruth>;
  /** The loaded rows, sorted by `amostra` (empty unless loaded). */
  rows: LabRowTruth[];
}

/** Expected final state of one working day; the delivery fields are those of the delivery that counts. */
export interface LabDayTruth extends LabDeliveryTruth {
  /** `YYYY-MM-DD` (plant-local). */
  day: string;
  /** `inspections_YYYYMMDD.csv`. */
  fileName: string;
  /** Every defect injected into the day (`resent` included). */
  defects: LabDefectKind[];
  /** Every file written for the day, markers included, relative to the output folder. */
  files: string[];
  /** For a re-sent day: the first (superseded) delivery; null otherwise. */
  firstDelivery: LabDeliveryTruth | null;
  /** For a waiting day: what the day becomes once its marker is written; null otherwise. */
  whenMarked: LabDeliveryTruth | null;
}

/** Sums over the days in their final state. */
export interface LabTotalsTruth {
  days: number;
  daysByOutcome: Record<LabOutcome, number>;
  /** Files written, markers included. */
  files: number;
  /** Rows loaded over all loaded days. */
  samplesLoaded: number;
  duplicates: number;
  quarantinedByReason: Partial<Record<LabRejectReason, number>>;
  /** Per SKU over every loaded row of the range. */
  bySku: Record<string, LabSkuTruth>;
}

/** The lab generator's expected results, computed from its own rows, never by a parser. */
export interface LabGroundTruth {
  version: 1;
  contract: 'lab-inspections-v1';
  options: {
    from: string;
    to: string;
    seed: number;
    samplesPerDay: number;
    machines: number;
    defects: LabDefectKind[];
    plant: string;
    timeZone: string;
    utcOffset: string;
  };
  format: {
    landingPrefix: string;
    fileNamePattern: string;
    markerSuffix: string;
    encoding: 'windows-1252';
    delimiter: ';';
    decimal: ',';
    dateTimePattern: string;
    columns: string[];
  };
  rules: {
    qualityThreshold: number;
    dedup: { key: string[]; keep: 'latest'; by: string };
    allowedResults: LabResult[];
    defectCodes: LabDefectCode[];
  };
  /** The days each defect was injected into. */
  defectDays: Partial<Record<LabDefectKind, string[]>>;
  /** Keyed by day, in date order. */
  days: Record<string, LabDayTruth>;
  totals: LabTotalsTruth;
}

/** A decimal string in `.` notation as an integer scaled by 10^`scale`. */
function scaled(text: string, scale: number): bigint {
  const [whole = '', fraction = ''] = text.split('.');
  return BigInt(`${whole}${fraction.padEnd(scale, '0')}`);
}

/**
 * Count, mean and `stddev_samp` of exact decimal strings (`.` notation), computed in exact integer arithmetic and
 * rounded once at the end, so they match what PostgreSQL computes on `numeric` within 1e-15 relative.
 */
export function decimalStats(values: readonly string[]): LabMeasureStats {
  const n = values.length;
  if (n === 0) return { count: 0, mean: null, stddev_samp: null };
  const scale = Math.max(...values.map((v) => v.split('.')[1]?.length ?? 0));
  let sum = 0n;
  let sumSq = 0n;
  for (const v of values) {
    const x = scaled(v, scale);
    sum += x;
    sumSq += x * x;
  }
  const unit = 10 ** scale;
  const mean = Number(sum) / n / unit;
  if (n < 2) return { count: n, mean, stddev_samp: null };
  const big = BigInt(n);
  const variance = Number(big * sumSq - sum * sum) / Number(big * (big - 1n)) / (unit * unit);
  return { count: n, mean, stddev_samp: Math.sqrt(variance) };
}

/** Per-SKU counts, reject rates and measure statistics of loaded rows, sorted by SKU. */
export function skuStats(rows: readonly LabRowTruth[]): Record<string, LabSkuTruth> {
  const bySku = new Map<string, LabRowTruth[]>();
  for (const row of rows) {
    const list = bySku.get(row.sku);
    if (list) list.push(row);
    else bySku.set(row.sku, [row]);
  }
  return Object.fromEntries(
    [...bySku.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([sku, of]) => {
        const rejected = of.filter((r) => r.result === 'REPROVADO').length;
        const measure = (m: LabMeasure) =>
          decimalStats(of.map((r) => r[m]).filter((v): v is string => v !== null && v !== ''));
        const truth: LabSkuTruth = {
          samples: of.length,
          rejected,
          rejectRate: rejected / of.length,
          peso_g: measure('peso_g'),
          diametro_mm: measure('diametro_mm'),
          revestimento_um: measure('revestimento_um'),
        };
        return [sku, truth];
      }),
  );
}

/** Non-zero counts in {@link LAB_REJECT_REASONS} order. */
export function reasonCounts(
  counts: Partial<Record<LabRejectReason, number>>,
): Partial<Record<LabRejectReason, number>> {
  return Object.fromEntries(LAB_REJECT_REASONS.filter((r) => (counts[r] ?? 0) > 0).map((r) => [r, counts[r]!]));
}

/** Totals over days in their final state (a re-sent day counts once, with its corrected file). */
export function labTotalsOf(days: readonly LabDayTruth[]): LabTotalsTruth {
  const totals: LabTotalsTruth = {
    days: days.length,
    daysByOutcome: { loaded: 0, quality_failed: 0, contract_broken: 0, waiting: 0 },
    files: 0,
    samplesLoaded: 0,
    duplicates: 0,
    quarantinedByReason: {},
    bySku: {},
  };
  const quarantined: Partial<Record<LabRejectReason, number>> = {};
  for (const d of days) {
    totals.daysByOutcome[d.outcome]++;
    totals.files += d.files.length;
    totals.samplesLoaded += d.samplesLoaded;
    totals.duplicates += d.duplicates;
    for (const r of LAB_REJECT_REASONS) quarantined[r] = (quarantined[r] ?? 0) + (d.quarantinedByReason[r] ?? 0);
  }
  totals.quarantinedByReason = reasonCounts(quarantined);
  totals.bySku = skuStats(days.flatMap((d) => d.rows));
  return totals;
}

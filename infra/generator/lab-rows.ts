import { hourStartMs } from './calendar.js';
import { machineProfiles, type MachineProfile } from './catalog.js';
import {
  LAB_REJECT_REASONS,
  type LabDefectCode,
  type LabRejectReason,
  type LabResult,
  type LabRowTruth,
} from './lab-truth.js';
import { Rng, hashSeed } from './prng.js';

/**
 * QA lab inspectors: Portuguese names, all accented, written in Windows-1252. `Luíza D’Ávila` has a typographic
 * apostrophe (byte 0x92), which Windows-1252 has and ISO-8859-1 does not.
 */
export const INSPECTORS: readonly string[] = [
  'Maria da Conceição Araújo',
  'Estêvão Gonçalves',
  'Luíza D’Ávila',
  'Tomé Brandão',
  'Rosângela Simões',
  'Jorge Antônio Peixoto',
  'Débora Assunção',
  'Renê Falcão',
];

/** The lab inspects between 06:00 and 17:59 local: minutes of the day. */
const FIRST_MINUTE = 6 * 60;
const LAST_MINUTE = 17 * 60 + 59;

/** One inspected sample as measured; measures are integers in units of their last written decimal. */
export interface LabSample {
  amostra: string;
  sku: string;
  machine: string;
  machineIndex: number;
  /** Minutes since local midnight of the day. */
  minute: number;
  inspector: string;
  /** Hundredths of a gram (two decimals). */
  pesoCg: number;
  /** Hundredths of a millimetre (two decimals). */
  diametroCmm: number;
  /** Tenths of a micrometre (one decimal); null when not measured. */
  revestimentoDum: number | null;
  result: LabResult;
  defect: LabDefectCode | null;
}

/** What goes into one delivery's data lines. */
export interface LabLinePlan {
  /** `YYYY-MM-DD`. */
  day: string;
  seed: number;
  /** Distinct samples of the day. */
  samples: number;
  /** Fleet size (`M01`…`Mnn`). */
  machines: number;
  /** A `corrected` re-send has the same samples with some measures and results changed. */
  variant: 'original' | 'corrected';
  /** Rows written so that they fail, per reason. */
  bad: Partial<Record<LabRejectReason, number>>;
  /** Samples listed a second time, re-measured later. */
  duplicates: number;
}

/** One data line (fields in contract column order) and what a correct parser makes of it. */
export type LabLine =
  | { kind: 'good'; sample: LabSample; fields: string[]; row: LabRowTruth }
  | { kind: 'bad'; sample: LabSample; fields: string[]; reason: LabRejectReason };

/** Nominal measures of a SKU. */
interface Nominal {
  pesoG: number;
  diametroMm: number;
  revestimentoUm: number;
}

/** Per product type: weight per cm² of the nominal size (cm) and coating thickness. */
const TYPE_MODEL: Readonly<Record<string, { gramsPerCm2: number; coatingUm: number }>> = {
  PAN: { gramsPerCm2: 1.6, coatingUm: 35 },
  POT: { gramsPerCm2: 2.2, coatingUm: 30 },
  LID: { gramsPerCm2: 0.9, coatingUm: 20 },
  KET: { gramsPerCm2: 3.0, coatingUm: 25 },
  TRY: { gramsPerCm2: 0.8, coatingUm: 30 },
  COL: { gramsPerCm2: 1.1, coatingUm: 22 },
};

/** Nominal weight, diameter (size × 10 mm) and coating of a `SKU-<TYPE>-<SIZE>`. */
export function nominalOf(sku: string): Nominal {
  const m = /^SKU-([A-Z]+)-(\d+)$/.exec(sku);
  const model = m ? TYPE_MODEL[m[1]!] : undefined;
  if (!m || !model) throw new Error(`no lab model for SKU ${sku}`);
  const size = Number(m[2]);
  return { pesoG: model.gramsPerCm2 * size * size, diametroMm: size * 10, revestimentoUm: model.coatingUm };
}

/** Chance a sample is rejected: 2 %, +4 % for kettles (`SKU-KET-15`), +5 % on machines M03, M08, M13… */
export function rejectProbability(sku: string, machineIndex: number): number {
  return 0.02 + (sku === 'SKU-KET-15' ? 0.04 : 0) + (machineIndex % 5 === 3 ? 0.05 : 0);
}

function defectCodeOf(r: number): LabDefectCode {
  return r < 0.35 ? 'RISCO' : r < 0.6 ? 'AMASSADO' : r < 0.8 ? 'REVEST_FALHO' : 'DIAM_FORA';
}

/**
 * Draws a sample's measures around its SKU's nominal values with a small per-machine offset; a defect shows in
 * them (`DIAM_FORA` ±0.8–1.5 mm, `AMASSADO` ±0.3–0.6 mm, `REVEST_FALHO` 40–60 % of the coating). The coating is not
 * measured in 3 % of the samples. Always draws the same number of values, so streams stay aligned.
 */
function measures(
  rng: Rng,
  sku: string,
  machineIndex: number,
  defect: LabDefectCode | null,
): Pick<LabSample, 'pesoCg' | 'diametroCmm' | 'revestimentoDum'> {
  const nominal = nominalOf(sku);
  const peso = rng.normal(nominal.pesoG * (1 + 0.003 * ((machineIndex % 3) - 1)), nominal.pesoG * 0.008);
  let diametro = rng.normal(nominal.diametroMm + 0.03 * (((machineIndex * 7) % 5) - 2), 0.12);
  let revestimento = rng.normal(nominal.revestimentoUm + 0.5 * (((machineIndex * 3) % 4) - 1.5), 1.5);
  const shift = rng.next();
  const sign = rng.chance(0.5) ? 1 : -1;
  if (defect === 'DIAM_FORA') diametro += sign * (0.8 + 0.7 * shift);
  if (defect === 'AMASSADO') diametro += sign * (0.3 + 0.3 * shift);
  if (defect === 'REVEST_FALHO') revestimento *= 0.4 + 0.2 * shift;
  const measured = !rng.chance(0.03);
  return {
    pesoCg: Math.max(1, Math.round(peso * 100)),
    diametroCmm: Math.max(1, Math.round(diametro * 100)),
    revestimentoDum: measured ? Math.max(1, Math.round(revestimento * 10)) : null,
  };
}

/** An integer in units of its last decimal, written with `decimals` decimals and `separator` (`41237` → `412,37`). */
export function formatScaled(value: number, decimals: number, separator: ',' | '.'): string {
  const digits = String(value).padStart(decimals + 1, '0');
  return `${digits.slice(0, -decimals)}${separator}${digits.slice(-decimals)}`;
}

/** `dd/mm/yyyy hh:mm` of a local minute of a day. */
export function formatLocalMinute(day: string, minute: number): string {
  const [y, m, d] = day.split('-');
  const hh = String(Math.floor(minute / 60)).padStart(2, '0');
  const mm = String(minute % 60).padStart(2, '0');
  return `${d}/${m}/${y} ${hh}:${mm}`;
}

/** UTC ISO instant of a local minute of a day (America/Sao_Paulo, UTC−03:00). */
export function instantOf(day: string, minute: number): string {
  const hour = `${day}T${String(Math.floor(minute / 60)).padStart(2, '0')}`;
  return new Date(hourStartMs(hour) + (minute % 60) * 60_000).toISOString();
}

/** `A20261120-0001`: the day and a sequence number (four digits or more). */
function sampleId(day: string, seq: number, n: number): string {
  return `A${day.replaceAll('-', '')}-${String(seq).padStart(Math.max(4, String(n).length), '0')}`;
}

/**
 * The day's samples in time order, deterministic from (seed, day, count, fleet): times uniform over 06:00–17:59,
 * machines uniform over the fleet, the SKU among the machine's family, three to five inspectors on duty.
 */
export function daySamples(plan: Pick<LabLinePlan, 'day' | 'seed' | 'samples' | 'machines'>): LabSample[] {
  const rng = new Rng(hashSeed(plan.seed, 'lab', plan.day, 'samples'));
  const fleet: MachineProfile[] = machineProfiles(plan.machines, { latin1: false, energy: false });
  const roster = rng.shuffle([...INSPECTORS]).slice(0, rng.int(3, 5));
  const minutes = Array.from({ length: plan.samples }, () => rng.int(FIRST_MINUTE, LAST_MINUTE)).sort((a, b) => a - b);
  return minutes.map((minute, i) => {
    const profile = rng.pick(fleet);
    const sku = rng.pick(profile.skus);
    const rejected = rng.chance(rejectProbability(sku, profile.index));
    const defect = defectCodeOf(rng.next());
    return {
      amostra: sampleId(plan.day, i + 1, plan.samples),
      sku,
      machine: profile.id,
      machineIndex: profile.index,
      minute,
      inspector: rng.pick(roster),
      ...measures(rng, sku, profile.index, rejected ? defect : null),
      result: rejected ? 'REPROVADO' : 'APROVADO',
      defect: rejected ? defect : null,
    };
  });
}

/** The row a correct load makes of a sample. */
export function rowTruthOf(sample: LabSample, day: string): LabRowTruth {
  return {
    amostra: sample.amostra,
    sku: sample.sku,
    maquina: sample.machine,
    inspected_at: instantOf(day, sample.minute),
    inspector: sample.inspector,
    peso_g: formatScaled(sample.pesoCg, 2, '.'),
    diametro_mm: formatScaled(sample.diametroCmm, 2, '.'),
    revestimento_um: sample.revestimentoDum === null ? null : formatScaled(sample.revestimentoDum, 1, '.'),
    result: sample.result,
    defect: sample.defect,
  };
}

/** A sample's fields in contract column order, decimal comma. */
export function fieldsOf(sample: LabSample, day: string): string[] {
  return [
    sample.amostra,
    sample.sku,
    sample.machine,
    formatLocalMinute(day, sample.minute),
    sample.inspector,
    formatScaled(sample.pesoCg, 2, ','),
    formatScaled(sample.diametroCmm, 2, ','),
    sample.revestimentoDum === null ? '' : formatScaled(sample.revestimentoDum, 1, ','),
    sample.result,
    sample.defect ?? '',
  ];
}

/**
 * Rewrites a sample's fields so that the row fails with `reason` and nothing else: `4x2,37` in peso_g or `O00,15`
 * in diametro_mm; `31/02/yyyy hh:mm` or an hour 24–29; resultado `APROVADA` or `PENDENTE` (defeito empty);
 * `REPROVADO` without defeito.
 */
function badFields(fields: readonly string[], reason: LabRejectReason, rng: Rng): string[] {
  const f = [...fields];
  const variant = rng.chance(0.5);
  switch (reason) {
    case 'bad_number':
      if (variant) f[5] = `${f[5]!.slice(0, 1)}x${f[5]!.slice(2)}`;
      else f[6] = `O${f[6]!.slice(1)}`;
      break;
    case 'bad_datetime': {
      const [date = '', time = ''] = f[3]!.split(' ');
      f[3] = variant ? `31/02/${date.slice(6)} ${time}` : `${date} ${rng.int(24, 29)}:${time.slice(3)}`;
      break;
    }
    case 'bad_value':
      f[8] = variant ? 'APROVADA' : 'PENDENTE';
      f[9] = '';
      break;
    case 'missing_value':
      f[8] = 'REPROVADO';
      f[9] = '';
      break;
  }
  return f;
}

/** Picks `count` distinct elements of `items` (fewer when there are not enough), in `items` order. */
function pickSome<T>(items: readonly T[], count: number, rng: Rng): T[] {
  return rng.sample(items.length, count).map((i) => items[i]!);
}

/**
 * Re-measures (the `duplicate` defect): the sample listed again 1–90 minutes later, by an inspector on duty, with
 * fresh measures and the same result. Only samples inspected by 17:50 can be re-measured the same day.
 */
function remeasures(samples: readonly LabSample[], plan: LabLinePlan): Map<number, LabSample> {
  const rng = new Rng(hashSeed(plan.seed, 'lab', plan.day, 'duplicates'));
  const roster = [...new Set(samples.map((s) => s.inspector))].sort();
  const candidates = samples.flatMap((s, i) => (s.minute <= LAST_MINUTE - 9 ? [i] : []));
  const again = new Map<number, LabSample>();
  for (const i of pickSome(candidates, plan.duplicates, rng)) {
    const s = samples[i]!;
    again.set(i, {
      ...s,
      minute: s.minute + rng.int(1, Math.min(90, LAST_MINUTE - s.minute)),
      inspector: rng.pick(roster),
      ...measures(rng, s.sku, s.machineIndex, s.defect),
    });
  }
  return again;
}

/**
 * What a corrected re-send changes: 2 % of the samples (at least one) re-measured, 0.5 % (at least one) with the
 * result flipped (`APROVADO` → `REPROVADO`/`RISCO`, `REPROVADO` → `APROVADO`). Re-measured samples are left alone, so
 * every change shows in the loaded rows.
 */
function applyCorrections(samples: LabSample[], exclude: ReadonlySet<number>, plan: LabLinePlan): void {
  const rng = new Rng(hashSeed(plan.seed, 'lab', plan.day, 'corrections'));
  const candidates = samples.flatMap((_, i) => (exclude.has(i) ? [] : [i]));
  const remeasured = Math.max(1, Math.round(samples.length * 0.02));
  const flipped = Math.max(1, Math.round(samples.length * 0.005));
  const picks = rng.shuffle(pickSome(candidates, remeasured + flipped, rng));
  picks.forEach((i, k) => {
    const s = samples[i]!;
    if (k < remeasured) {
      const fresh = measures(rng, s.sku, s.machineIndex, s.defect);
      if (fresh.pesoCg === s.pesoCg) fresh.pesoCg++;
      Object.assign(s, fresh);
    } else if (s.result === 'APROVADO') {
      s.result = 'REPROVADO';
      s.defect = 'RISCO';
    } else {
      s.result = 'APROVADO';
      s.defect = null;
    }
  });
}

/**
 * The data lines of one delivery in file order (by inspection time; a re-measure after its sample), defects
 * injected, deterministic from the plan. Bad rows and re-measures fall on distinct samples; a corrected variant
 * shares its samples (and re-measures) with the original.
 */
export function labLines(plan: LabLinePlan): LabLine[] {
  const samples = daySamples(plan);
  const again = remeasures(samples, plan);
  if (plan.variant === 'corrected') applyCorrections(samples, new Set(again.keys()), plan);
  const rng = new Rng(hashSeed(plan.seed, 'lab', plan.day, plan.variant, 'bad'));
  const reasons = rng.shuffle(LAB_REJECT_REASONS.flatMap((r) => Array<LabRejectReason>(plan.bad[r] ?? 0).fill(r)));
  const candidates = samples.flatMap((_, i) => (again.has(i) ? [] : [i]));
  const badAt = new Map(pickSome(candidates, reasons.length, rng).map((index, k) => [index, reasons[k]!]));
  const entries: { minute: number; order: number; line: LabLine }[] = [];
  const good = (sample: LabSample): LabLine => ({
    kind: 'good',
    sample,
    fields: fieldsOf(sample, plan.day),
    row: rowTruthOf(sample, plan.day),
  });
  samples.forEach((sample, i) => {
    const reason = badAt.get(i);
    const line: LabLine =
      reason === undefined
        ? good(sample)
        : { kind: 'bad', sample, fields: badFields(fieldsOf(sample, plan.day), reason, rng), reason };
    entries.push({ minute: sample.minute, order: i, line });
  });
  for (const [i, sample] of again)
    entries.push({ minute: sample.minute, order: samples.length + i, line: good(sample) });
  return entries.sort((a, b) => a.minute - b.minute || a.order - b.order).map((e) => e.line);
}

/**
 * Code points of the Windows-1252 bytes 0x80–0x9F (the WHATWG index); every other byte is its own code point. An
 * explicit table, because Node 20.18.3+ `TextDecoder('windows-1252')` wrongly decodes these bytes as ISO-8859-1
 * (nodejs/node#56542), so it cannot be inverted.
 */
export const WINDOWS_1252_C1: readonly number[] = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];

/** Byte of each character Windows-1252 can write. */
const WINDOWS_1252 = new Map<string, number>(
  Array.from({ length: 256 }, (_, b) => [
    String.fromCodePoint(b >= 0x80 && b < 0xa0 ? WINDOWS_1252_C1[b - 0x80]! : b),
    b,
  ]),
);

/** Encodes text in Windows-1252; throws on a character it cannot write. */
export function encodeWindows1252(text: string): Buffer {
  const out = Buffer.alloc(text.length);
  let at = 0;
  for (const ch of text) {
    const byte = WINDOWS_1252.get(ch);
    if (byte === undefined) throw new Error(`not writable in Windows-1252: ${JSON.stringify(ch)}`);
    out[at++] = byte;
  }
  return out.subarray(0, at);
}

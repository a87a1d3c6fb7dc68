import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runGenerateCommand } from '../../infra/generator/command.js';
import { generateLabInspections, writeLabDayFile } from '../../infra/generator/lab-inspections.js';
import { INSPECTORS, WINDOWS_1252_C1, encodeWindows1252 } from '../../infra/generator/lab-rows.js';
import {
  LAB_COLUMNS,
  LAB_DEFECT_KINDS,
  LAB_MEASURES,
  LAB_REJECT_REASONS,
  type LabDayTruth,
  type LabGroundTruth,
  type LabRowTruth,
  type LabSkuTruth,
} from '../../infra/generator/lab-truth.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fabrica-lab-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Ten working days: room for the five one-day defects and five days carrying row defects. */
const OPTIONS = { from: '2026-11-02', to: '2026-11-13', seed: 5, samplesPerDay: 300, machines: 6 } as const;

function listFiles(dir: string, rel = ''): string[] {
  return readdirSync(path.join(dir, rel), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(dir, path.posix.join(rel, e.name)) : [path.posix.join(rel, e.name)]))
    .sort();
}

/**
 * Decodes Windows-1252 with the platform decoder, then maps bytes 0x80–0x9F (which Node 20.18.3+ decodes as
 * ISO-8859-1, nodejs/node#56542) to their Windows-1252 characters; a no-op on a correct decoder.
 */
function decode1252(bytes: Buffer): string {
  return new TextDecoder('windows-1252')
    .decode(bytes)
    .replace(/[\u0080-\u009f]/g, (c) => String.fromCodePoint(WINDOWS_1252_C1[c.charCodeAt(0) - 0x80]!));
}

interface NaiveLoad {
  columns: string[];
  dataLines: number;
  rows: LabRowTruth[];
  rejected: Partial<Record<string, number>>;
  duplicates: number;
}

function validDateTime(text: string): { iso: string } | undefined {
  const m = /^(\d{2})\/(\d{2})\/(\d{4}) (\d{2}):(\d{2})$/.exec(text);
  if (!m) return undefined;
  const [d, mo, y, h, mi] = [+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCDate() !== d || date.getUTCMonth() !== mo - 1 || h > 23 || mi > 59) return undefined;
  return { iso: new Date(Date.UTC(y, mo - 1, d, h + 3, mi)).toISOString() };
}

/** Loads a file the simplest way: by header names, one rule per reason, the latest inspection of a sample wins. */
function naiveLoad(file: string): NaiveLoad {
  const lines = decode1252(readFileSync(file)).split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  const columns = lines[0]!.split(';');
  const rejected: Partial<Record<string, number>> = {};
  const byId = new Map<string, LabRowTruth>();
  let valid = 0;
  for (const line of lines.slice(1)) {
    const f = line.split(';');
    const get = (c: string) => f[columns.indexOf(c)]!;
    const number = /^\d+,\d+$/;
    let reason: string | undefined;
    const when = validDateTime(get('inspecionado_em'));
    if (!number.test(get('peso_g')) || !number.test(get('diametro_mm'))) reason = 'bad_number';
    else if (get('revestimento_um') !== '' && !number.test(get('revestimento_um'))) reason = 'bad_number';
    else if (!when) reason = 'bad_datetime';
    else if (!['APROVADO', 'REPROVADO'].includes(get('resultado'))) reason = 'bad_value';
    else if (get('resultado') === 'REPROVADO' && get('defeito') === '') reason = 'missing_value';
    if (reason !== undefined) {
      rejected[reason] = (rejected[reason] ?? 0) + 1;
      continue;
    }
    valid++;
    const row: LabRowTruth = {
      amostra: get('amostra'),
      sku: get('sku'),
      maquina: get('maquina'),
      inspected_at: when!.iso,
      inspector: get('inspetor'),
      peso_g: get('peso_g').replace(',', '.'),
      diametro_mm: get('diametro_mm').replace(',', '.'),
      revestimento_um: get('revestimento_um') === '' ? null : get('revestimento_um').replace(',', '.'),
      result: get('resultado') as LabRowTruth['result'],
      defect: get('defeito') === '' ? null : (get('defeito') as LabRowTruth['defect']),
    };
    const held = byId.get(row.amostra);
    if (!held || row.inspected_at >= held.inspected_at) byId.set(row.amostra, row);
  }
  const rows = [...byId.values()].sort((a, b) => a.amostra.localeCompare(b.amostra));
  return { columns, dataLines: lines.length - 1, rows, rejected, duplicates: valid - byId.size };
}

/** Two-pass mean and sample standard deviation in floating point. */
function naiveStats(values: number[]): { mean: number | null; sd: number | null } {
  if (values.length === 0) return { mean: null, sd: null };
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  if (values.length < 2) return { mean, sd: null };
  return { mean, sd: Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1)) };
}

function expectClose(actual: number | null, expected: number | null): void {
  if (expected === null) return expect(actual).toBeNull();
  expect(actual).not.toBeNull();
  expect(Math.abs(actual! - expected)).toBeLessThanOrEqual(1e-9 * Math.abs(expected));
}

/** Compares the truth's per-SKU statistics with a recomputation from rows. */
function expectStats(bySku: Record<string, LabSkuTruth>, rows: LabRowTruth[]): void {
  const skus = [...new Set(rows.map((r) => r.sku))].sort();
  expect(Object.keys(bySku)).toEqual(skus);
  for (const sku of skus) {
    const of = rows.filter((r) => r.sku === sku);
    const rejected = of.filter((r) => r.result === 'REPROVADO').length;
    const truth = bySku[sku]!;
    expect([truth.samples, truth.rejected]).toEqual([of.length, rejected]);
    expectClose(truth.rejectRate, rejected / of.length);
    for (const m of LAB_MEASURES) {
      const values = of.flatMap((r) => (r[m] === null ? [] : [Number(r[m])]));
      const { mean, sd } = naiveStats(values);
      expect(truth[m].count).toBe(values.length);
      expectClose(truth[m].mean, mean);
      expectClose(truth[m].stddev_samp, sd);
    }
  }
}

function daysWith(truth: LabGroundTruth, kind: string): LabDayTruth[] {
  return Object.values(truth.days).filter((d) => d.defects.includes(kind as LabDayTruth['defects'][number]));
}

describe('lab inspections generator', () => {
  let dir: string;
  let truth: LabGroundTruth;
  beforeAll(async () => {
    dir = tempDir();
    truth = await generateLabInspections({ ...OPTIONS, outDir: dir });
  });

  it('is deterministic by seed', async () => {
    const again = tempDir();
    const second = await generateLabInspections({ ...OPTIONS, outDir: again });
    expect(second).toEqual(truth);
    const files = listFiles(dir);
    expect(listFiles(again)).toEqual(files);
    for (const f of files) expect(readFileSync(path.join(again, f)).equals(readFileSync(path.join(dir, f)))).toBe(true);
    expect(JSON.parse(readFileSync(path.join(dir, 'lab-ground-truth.json'), 'utf8'))).toEqual(truth);
    const other = tempDir();
    await generateLabInspections({ ...OPTIONS, seed: 6, outDir: other, defects: 'none' });
    const first = 'lab/inspections_20261102.csv';
    expect(readFileSync(path.join(other, first)).equals(readFileSync(path.join(dir, first)))).toBe(false);
  });

  it('covers every working day; writes Windows-1252 with accented names, CRLF or LF, some without a final newline', () => {
    const days = Object.keys(truth.days);
    expect(days).toHaveLength(10);
    expect(days.every((d) => ![0, 6].includes(new Date(`${d}T12:00:00Z`).getUTCDay()))).toBe(true);
    const seen = new Set<string>();
    let apostrophe = 0;
    for (const day of Object.values(truth.days)) {
      for (const rel of day.files.filter((f) => f.endsWith('.csv'))) {
        const bytes = readFileSync(path.join(dir, rel));
        expect(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes)).toThrow();
        const text = decode1252(bytes);
        expect(encodeWindows1252(text).equals(bytes)).toBe(true);
        for (const name of INSPECTORS) if (text.includes(name)) seen.add(name);
        if (bytes.includes(0x92)) apostrophe++;
        const delivery = rel === day.path ? day : day.firstDelivery!;
        expect(text.includes('\r\n')).toBe(delivery.lineEnding === 'crlf');
        expect(text.endsWith('\n')).toBe(delivery.finalNewline);
        expect(bytes.length).toBe(delivery.bytes);
      }
    }
    expect([...seen].some((n) => /[çãéô]/.test(n))).toBe(true);
    expect(apostrophe).toBeGreaterThan(0);
    expect(decode1252(Buffer.from([0x92]))).toBe('’');
    const deliveries = Object.values(truth.days);
    expect(new Set(deliveries.map((d) => d.lineEnding))).toEqual(new Set(['crlf', 'lf']));
    expect(new Set(deliveries.map((d) => d.finalNewline))).toEqual(new Set([true, false]));
  });

  it('writes an empty marker after every file but the waiting one', () => {
    for (const day of Object.values(truth.days)) {
      for (const rel of day.files.filter((f) => f.endsWith('.csv'))) {
        const marker = path.join(dir, `${rel}.done`);
        const waiting = day.outcome === 'waiting';
        expect(existsSync(marker)).toBe(!waiting);
        expect(day.files.includes(`${rel}.done`)).toBe(!waiting);
        if (!waiting) expect(statSync(marker).size).toBe(0);
      }
    }
    const onDisk = listFiles(dir).filter((f) => f !== 'lab-ground-truth.json');
    expect(onDisk).toEqual(
      Object.values(truth.days)
        .flatMap((d) => d.files)
        .sort(),
    );
  });

  it('holds, for every day read to the end, what a naive load of its file finds, statistics included', () => {
    let compared = 0;
    for (const day of Object.values(truth.days)) {
      const delivery = day.whenMarked ?? day;
      const naive = naiveLoad(path.join(dir, day.path));
      expect(naive.dataLines).toBe(day.dataLines);
      expect(naive.columns).toEqual(day.columns);
      if (delivery.parsed === null) continue;
      expect(delivery.parsed.rejectedByReason).toEqual(naive.rejected);
      expect(delivery.parsed.duplicates).toBe(naive.duplicates);
      expect(delivery.parsed.goodRows).toBe(naive.rows.length);
      if (delivery.outcome !== 'loaded') continue;
      expect(delivery.rows).toEqual(naive.rows);
      expect(delivery.samplesLoaded).toBe(naive.rows.length);
      expectStats(delivery.bySku, naive.rows);
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(7);
    expectStats(
      truth.totals.bySku,
      Object.values(truth.days).flatMap((d) => d.rows),
    );
  });

  it('computes a defect-free day exactly like an independent recomputation of its file', async () => {
    const clean = tempDir();
    const none = await generateLabInspections({ ...OPTIONS, to: '2026-11-03', outDir: clean, defects: 'none' });
    for (const day of Object.values(none.days)) {
      expect(day).toMatchObject({ outcome: 'loaded', defects: [], duplicates: 0, quarantinedByReason: {} });
      expect(day.columns).toEqual([...LAB_COLUMNS]);
      const naive = naiveLoad(path.join(clean, day.path));
      expect(naive.rejected).toEqual({});
      expect(day.rows).toEqual(naive.rows);
      expectStats(day.bySku, naive.rows);
      expect(day.rows.every((r) => r.inspected_at >= `${day.day}T09:00` && r.inspected_at < `${day.day}T21:00`)).toBe(
        true,
      );
      expect(new Set(day.rows.map((r) => r.maquina))).toEqual(new Set(['M01', 'M02', 'M03', 'M04', 'M05', 'M06']));
      expect(day.rows.some((r) => r.revestimento_um === null)).toBe(true);
      expect(day.rows.filter((r) => r.result === 'REPROVADO').every((r) => r.defect !== null)).toBe(true);
      expect(day.rows.filter((r) => r.result === 'APROVADO').every((r) => r.defect === null)).toBe(true);
    }
  });

  it('injects each defect kind into its own days with the documented outcome', () => {
    expect(Object.keys(truth.defectDays)).toEqual([...LAB_DEFECT_KINDS]);
    for (const kind of LAB_DEFECT_KINDS) expect(daysWith(truth, kind).length).toBeGreaterThan(0);
    for (const reason of LAB_REJECT_REASONS) {
      for (const day of daysWith(truth, reason)) {
        expect(day.outcome).toBe('loaded');
        expect(day.quarantinedByReason[reason]).toBeGreaterThan(0);
        const bad = Object.values(day.quarantinedByReason).reduce((s, n) => s + n, 0);
        expect(bad / day.dataLines).toBeLessThanOrEqual(0.02);
      }
    }
    const [failed] = daysWith(truth, 'quality_failed');
    const failedBad = Object.values(failed!.parsed!.rejectedByReason).reduce((s, n) => s + n, 0);
    expect(failed).toMatchObject({ outcome: 'quality_failed', samplesLoaded: 0, rows: [], bySku: {} });
    expect(failedBad / failed!.dataLines).toBeGreaterThan(0.05);

    const [broken] = daysWith(truth, 'schema_break');
    expect(broken).toMatchObject({ outcome: 'contract_broken', parsed: null, samplesLoaded: 0, rows: [] });
    expect(broken!.missingColumns.length).toBeGreaterThan(0);
    expect(LAB_COLUMNS.filter((c) => !naiveLoad(path.join(dir, broken!.path)).columns.includes(c))).toEqual(
      broken!.missingColumns,
    );

    const [extra] = daysWith(truth, 'extra_column');
    expect(extra).toMatchObject({ outcome: 'loaded', extraColumns: ['lote'], missingColumns: [] });
    expect(extra!.columns).toEqual([...LAB_COLUMNS, 'lote']);
    expect(extra!.samplesLoaded).toBeGreaterThan(0);

    const [waiting] = daysWith(truth, 'no_marker');
    expect(waiting).toMatchObject({ outcome: 'waiting', marker: false, parsed: null, samplesLoaded: 0, rows: [] });
    expect(waiting!.files).toEqual([waiting!.path]);
    expect(waiting!.whenMarked).toMatchObject({ outcome: 'loaded' });
    expect(waiting!.whenMarked!.rows).toEqual(naiveLoad(path.join(dir, waiting!.path)).rows);

    const [resent] = daysWith(truth, 'resent');
    const first = resent!.firstDelivery!;
    expect(resent!.path).toBe(`lab/resent/${resent!.fileName}`);
    expect(first.path).toBe(`lab/${resent!.fileName}`);
    expect(resent!.files).toEqual([first.path, `${first.path}.done`, resent!.path, `${resent!.path}.done`]);
    expect(resent).toMatchObject({ outcome: 'loaded', variant: 'corrected' });
    expect(first).toMatchObject({ outcome: 'loaded', variant: 'original' });
    expect(readFileSync(path.join(dir, resent!.path)).equals(readFileSync(path.join(dir, first.path)))).toBe(false);
    expect(resent!.rows.map((r) => r.amostra)).toEqual(first.rows.map((r) => r.amostra));
    const changed = resent!.rows.filter((r, i) => JSON.stringify(r) !== JSON.stringify(first.rows[i]));
    expect(changed.length).toBeGreaterThan(0);
    expect(first.rows).toEqual(naiveLoad(path.join(dir, first.path)).rows);

    for (const day of daysWith(truth, 'duplicate')) {
      expect(day.duplicates).toBeGreaterThan(0);
      const lines = decode1252(readFileSync(path.join(dir, day.path)))
        .split(/\r?\n/)
        .slice(1)
        .map((l) => l.split(';'));
      const counts = new Map<string, string[][]>();
      for (const f of lines) counts.set(f[0]!, [...(counts.get(f[0]!) ?? []), f]);
      const twice = [...counts.values()].filter((ls) => ls.length === 2);
      expect(twice).toHaveLength(day.duplicates);
      for (const [earlier, later] of twice) {
        const row = day.rows.find((r) => r.amostra === earlier![0])!;
        expect(validDateTime(later![3]!)!.iso > validDateTime(earlier![3]!)!.iso).toBe(true);
        expect(row.inspected_at).toBe(validDateTime(later![3]!)!.iso);
        expect(row.peso_g).toBe(later![5]!.replace(',', '.'));
        expect(later!.slice(5, 8)).not.toEqual(earlier!.slice(5, 8));
      }
    }
  });

  it('writes one day on demand, identical to the bulk output, and a corrected re-send of it', async () => {
    const day = Object.values(truth.days).find((d) => d.defects.includes('duplicate') && d.outcome === 'loaded')!;
    const out = tempDir();
    const one = await writeLabDayFile({ ...OPTIONS, outDir: out, day: day.day, defects: day.defects });
    expect(one).toEqual(day);
    expect(readFileSync(path.join(out, day.path)).equals(readFileSync(path.join(dir, day.path)))).toBe(true);
    const corrected = await writeLabDayFile({ ...OPTIONS, outDir: out, day: day.day, variant: 'corrected' });
    expect(corrected.path).toBe(`lab/resent/${day.fileName}`);
    expect(corrected.files).toEqual([corrected.path, `${corrected.path}.done`]);
    expect(corrected.defects).toEqual(['resent']);
    expect(corrected.quarantinedByReason).toEqual({});
    expect(corrected.rows).toEqual(naiveLoad(path.join(out, corrected.path)).rows);
    const before = new Map(day.rows.map((r) => [r.amostra, JSON.stringify(r)]));
    expect(corrected.rows.filter((r) => before.get(r.amostra) !== JSON.stringify(r)).length).toBeGreaterThan(0);
    await expect(writeLabDayFile({ ...OPTIONS, outDir: out, day: '2026-02-31' })).rejects.toThrow(/day/);
  });

  it('fails clearly when the range or the day size cannot hold the defects', async () => {
    const out = tempDir();
    await expect(generateLabInspections({ ...OPTIONS, to: '2026-11-04', outDir: out })).rejects.toThrow(
      /--defects: 5 working days needed .* only 3/,
    );
    await expect(generateLabInspections({ ...OPTIONS, samplesPerDay: 20, outDir: out })).rejects.toThrow(
      /--samples-per-day/,
    );
  });

  it('runs as a command with a one-line summary, and names the bad flag', async () => {
    const out = tempDir();
    const lines: string[] = [];
    const base = ['--out', out, '--from', '2026-11-16', '--to', '2026-11-20'];
    const result = await runGenerateCommand(
      ['lab-inspections', ...base, '--seed', '3', '--samples-per-day', '40', '--machines', '2', '--defects', 'none'],
      (l) => lines.push(l),
    );
    expect(result.contract).toBe('lab-inspections-v1');
    expect(result.totals.daysByOutcome.loaded).toBe(5);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^lab-inspections: 5 days \(5 loaded\), 10 files, 2 machines, 2026-11-16\.\.2026-11-20/);
    expect(existsSync(path.join(out, 'lab-ground-truth.json'))).toBe(true);
    const lab = ['lab-inspections', ...base];
    await expect(runGenerateCommand([...lab, '--samples-per-day', 'many'])).rejects.toThrow(/--samples-per-day/);
    await expect(runGenerateCommand([...lab, '--samples-per-day', '0'])).rejects.toThrow(/--samples-per-day/);
    await expect(runGenerateCommand([...lab, '--defects', 'typo'])).rejects.toThrow(/--defects: unknown kind.*typo/);
    await expect(runGenerateCommand([...lab, '--defects', 'huge'])).rejects.toThrow(/--defects/);
    await expect(runGenerateCommand([...lab, '--machines', '100'])).rejects.toThrow(/--machines/);
    await expect(runGenerateCommand([...lab, '--items-per-file', '5'])).rejects.toThrow(/--items-per-file/);
    await expect(runGenerateCommand([...lab, '--bogus', '1'])).rejects.toThrow(/--bogus/);
    await expect(runGenerateCommand(['lab-inspections', '--out', out, '--from', '2026-11-16'])).rejects.toThrow(/--to/);
    await expect(runGenerateCommand(['lab-inspections', '--from', '2026-11-16', '--to', '2026-11-20'])).rejects.toThrow(
      /--out/,
    );
    await expect(runGenerateCommand(['machine-files', ...base, '--samples-per-day', '5'])).rejects.toThrow(
      /--samples-per-day/,
    );
    await expect(runGenerateCommand(['lab-inspections', 'extra', ...base])).rejects.toThrow(/extra.*lab-inspections/s);
  });
});

import { createReadStream, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataFaultError } from '../../activities/failures.js';
import {
  parseFileName,
  parseMachineSignalFile,
  type MachineSignalHeader,
  type MachineSignalRow,
  type ParseSummary,
  type RejectReason,
} from '../../activities/flows/machine-signal/contract-v1.js';
import { PARTITION_DEFECTS } from '../../infra/generator/defects.js';
import type { GroundTruth, PartitionTruth } from '../../infra/generator/ground-truth.js';
import { generateMachineFiles, runGenerateCommand, writeMachineHourFile } from '../../infra/generator/machine-files.js';
import { computeYieldMetrics, downtimeMinutes, percentileCont } from '../../infra/generator/yield-metrics.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fabrica-gen-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const OPTIONS = { from: '2026-11-19', to: '2026-11-21', machines: 3, seed: 7, itemsPerFile: 60 } as const;

function listFiles(dir: string, rel = ''): string[] {
  return readdirSync(path.join(dir, rel), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(dir, path.posix.join(rel, e.name)) : [path.posix.join(rel, e.name)]))
    .filter((f) => f.endsWith('.txt'))
    .sort();
}

interface Observed {
  header: MachineSignalHeader | undefined;
  rows: MachineSignalRow[];
  summary: ParseSummary | undefined;
  error: DataFaultError | undefined;
}

async function parseFile(file: string): Promise<Observed> {
  const out: Observed = { header: undefined, rows: [], summary: undefined, error: undefined };
  try {
    const stream = createReadStream(file, { highWaterMark: 4096 });
    for await (const ev of parseMachineSignalFile(stream, { fileName: path.basename(file) })) {
      if (ev.kind === 'header') out.header = ev.header;
      else if (ev.kind === 'row') out.rows.push(ev.row);
      else if (ev.kind === 'end') out.summary = ev.summary;
    }
  } catch (err) {
    if (!(err instanceof DataFaultError)) throw err;
    out.error = err;
  }
  return out;
}

/** What a correct pipeline makes of one file, computed from the parser's output only. */
function expectedFromParse(
  o: Observed,
  threshold: number,
): Omit<
  PartitionTruth,
  'machine' | 'hourKey' | 'hourStart' | 'defect' | 'firmware' | 'encoding' | 'files' | 'late' | 'partition'
> {
  const none = { parsed: null, itemsLoaded: 0, okBySku: {}, quarantinedByReason: {}, duplicates: 0, yield: null };
  if (o.error?.type === 'ContractBroken') return { outcome: 'contract_broken', ...none };
  if (o.error?.type === 'IncompleteFile') return { outcome: 'incomplete', ...none };
  const s = o.summary!;
  const parsed = {
    dataLines: s.dataLines,
    goodRows: s.goodRows,
    rejectedByReason: s.rejectedByReason,
    duplicates: s.duplicateRows,
  };
  if (s.rejectedRows / Math.max(1, s.dataLines) > threshold) return { outcome: 'quality_failed', ...none, parsed };
  const okBySku: Record<string, number> = {};
  for (const r of [...o.rows].sort((a, b) => a.sku.localeCompare(b.sku)))
    if (r.status === 'OK') okBySku[r.sku] = (okBySku[r.sku] ?? 0) + 1;
  return {
    outcome: 'loaded',
    parsed,
    itemsLoaded: s.goodRows,
    okBySku,
    quarantinedByReason: s.rejectedByReason,
    duplicates: s.duplicateRows,
    yield: computeYieldMetrics(o.rows, s.header.hourStartMs, s.columns.includes('energy_wh')),
  };
}

describe('generateMachineFiles', () => {
  let dir: string;
  let truth: GroundTruth;
  beforeAll(async () => {
    dir = tempDir();
    truth = await generateMachineFiles({ ...OPTIONS, outDir: dir, defects: 'all' });
  });

  it('is deterministic by seed', async () => {
    const again = tempDir();
    const truth2 = await generateMachineFiles({ ...OPTIONS, outDir: again, defects: 'all' });
    expect(truth2).toEqual(truth);
    expect(listFiles(again)).toEqual(listFiles(dir));
    for (const f of listFiles(dir))
      expect(readFileSync(path.join(again, f)).equals(readFileSync(path.join(dir, f)))).toBe(true);
    expect(readFileSync(path.join(again, 'ground-truth.json'), 'utf8')).toBe(
      readFileSync(path.join(dir, 'ground-truth.json'), 'utf8'),
    );
    const other = tempDir();
    await generateMachineFiles({ ...OPTIONS, outDir: other, defects: 'all', seed: 8 });
    expect(
      readFileSync(path.join(other, 'M02_20261119T06.txt')).equals(readFileSync(path.join(dir, 'M02_20261119T06.txt'))),
    ).toBe(false);
  });

  it('covers the calendar and every defect kind', () => {
    expect(Object.keys(truth.partitions)).toHaveLength(3 * 2 * 12);
    expect(Object.keys(truth.partitions)[0]).toBe('M01@2026-11-19T06');
    const defects = Object.values(truth.partitions).map((p) => p.defect);
    for (const kind of PARTITION_DEFECTS.filter((k) => k !== 'huge')) expect(defects).toContain(kind);
    expect(defects).not.toContain('huge');
    expect(truth.machines.map((m) => [m.id, m.encoding, m.energy])).toEqual([
      ['M01', 'latin1', false],
      ['M02', 'utf8', false],
      ['M03', 'utf8', true],
    ]);
    expect(truth.totals.partitionsByOutcome).toEqual({
      loaded: 67,
      contract_broken: 1,
      incomplete: 2,
      quality_failed: 1,
      missing: 1,
    });
    expect(truth.files.filter((f) => f.late).map((f) => f.path)).toEqual([
      expect.stringMatching(/^late\/M0\d_\d{8}T\d{2}\.txt$/),
    ]);
    expect(truth.files.filter((f) => f.redelivery).map((f) => f.path)).toEqual([
      expect.stringMatching(/\.resend\.txt$/),
    ]);
  });

  it('parsing every file reproduces the ground truth of every partition', async () => {
    const seen = new Map<string, { observed: ReturnType<typeof expectedFromParse>; files: string[] }>();
    for (const rel of listFiles(dir)) {
      const o = await parseFile(path.join(dir, rel));
      const header = o.header ?? (o.error!.details as { machine: string; hourKey: string });
      const partition = `${header.machine}@${header.hourKey}`;
      const name = parseFileName(rel)!;
      expect(`${name.machine}@${name.hourKey}`).toBe(partition);
      const observed = expectedFromParse(o, truth.rules.qualityThreshold);
      const prior = seen.get(partition);
      if (prior) expect(observed).toEqual(prior.observed);
      seen.set(partition, { observed, files: [...(prior?.files ?? []), rel] });
    }
    for (const [key, p] of Object.entries(truth.partitions)) {
      const got = seen.get(key);
      if (p.outcome === 'missing') {
        expect(got).toBeUndefined();
        continue;
      }
      const {
        partition: _p,
        machine: _m,
        hourKey: _h,
        hourStart: _s,
        defect: _d,
        firmware: _f,
        encoding: _e,
        files,
        late,
        ...expected
      } = p;
      expect({ key, ...got!.observed }).toEqual({ key, ...expected });
      expect(got!.files.sort()).toEqual([...files].sort());
      expect(late).toBe(files.some((f) => f.startsWith('late/')));
    }
    expect(seen.size).toBe(Object.keys(truth.partitions).length - truth.totals.partitionsByOutcome.missing);
  });

  it('writes realistic content: increasing item_seq per machine, encodings, statuses', async () => {
    const lastSeq = new Map<string, number>();
    const statuses: Record<string, number> = {};
    for (const p of Object.values(truth.partitions).filter(
      (x) => x.outcome === 'loaded' && !x.files[0]!.includes('resend'),
    )) {
      const o = await parseFile(path.join(dir, p.files[0]!));
      const seqs = o.rows.map((r) => r.itemSeq).sort((a, b) => a - b);
      if (seqs.length > 0) {
        expect(seqs[0]!).toBeGreaterThan(lastSeq.get(p.machine) ?? 0);
        lastSeq.set(p.machine, seqs.at(-1)!);
      }
      for (const r of o.rows) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      expect(o.summary!.encoding).toBe(p.machine === 'M01' ? 'latin1' : 'utf8');
    }
    const total = Object.values(statuses).reduce((a, b) => a + b, 0);
    expect(statuses.OK! / total).toBeGreaterThan(0.85);
    expect(statuses.SCRAP! / total).toBeGreaterThan(0.02);
    expect(statuses.REWORK! / total).toBeGreaterThan(0.01);
    const latin1 = truth.files
      .filter((f) => f.path.startsWith('M01_'))
      .map((f) => readFileSync(path.join(dir, f.path)));
    expect(latin1.some((b) => /[ãçéíóúâêô]/.test(b.toString('latin1')) && b.toString('utf8').includes('\uFFFD'))).toBe(
      true,
    );
    const quarantined = truth.totals.quarantinedByReason;
    for (const reason of [
      'field_count',
      'bad_number',
      'bad_timestamp',
      'bad_status',
      'outside_hour',
    ] as RejectReason[]) {
      expect(quarantined[reason]).toBeGreaterThan(0);
    }
  });

  it('writes one machine-hour on demand, identical to the bulk output', async () => {
    const key = Object.values(truth.partitions).find((p) => p.defect === null && p.machine === 'M03')!;
    const single = tempDir();
    const { truth: one, files } = await writeMachineHourFile({
      ...OPTIONS,
      outDir: single,
      defects: 'all',
      machine: 'M03',
      hourKey: key.hourKey,
    });
    expect(one).toEqual(key);
    expect(readFileSync(path.join(single, files[0]!.path)).equals(readFileSync(path.join(dir, key.files[0]!)))).toBe(
      true,
    );
    const next = await writeMachineHourFile({
      ...OPTIONS,
      outDir: single,
      defects: 'all',
      machine: 'M03',
      hourKey: '2026-11-23T06',
    });
    expect(next.truth.outcome).toBe('loaded');
    await expect(
      writeMachineHourFile({ ...OPTIONS, outDir: single, machine: 'M09', hourKey: '2026-11-23T06' }),
    ).rejects.toThrow(/machine/);
  });
});

describe('generator options', () => {
  it('writes a huge file only when asked, and the parser streams it', async () => {
    const dir = tempDir();
    const truth = await generateMachineFiles({
      ...OPTIONS,
      to: OPTIONS.from,
      machines: 1,
      outDir: dir,
      defects: ['huge'],
      hugeFactor: 30,
    });
    const huge = Object.values(truth.partitions).find((p) => p.defect === 'huge')!;
    expect(huge.itemsLoaded).toBe(60 * 30);
    const o = await parseFile(path.join(dir, huge.files[0]!));
    expect(o.summary!.goodRows).toBe(1800);
    expect(truth.machines[0]!.encoding).toBe('utf8');
  });

  it('writes non-UTF-8 lines into a UTF-8 machine malformed file', async () => {
    const dir = tempDir();
    const truth = await generateMachineFiles({
      ...OPTIONS,
      to: OPTIONS.from,
      machines: 1,
      outDir: dir,
      defects: ['malformed'],
    });
    const p = Object.values(truth.partitions).find((x) => x.defect === 'malformed')!;
    expect(p).toMatchObject({
      encoding: 'utf8',
      outcome: 'loaded',
      quarantinedByReason: { bad_encoding: 1, field_count: 1 },
    });
    const o = await parseFile(path.join(dir, p.files[0]!));
    expect(o.summary!.rejectedByReason).toEqual(p.quarantinedByReason);
  });

  it('fails clearly when the range cannot hold the defects', async () => {
    const saturday = { ...OPTIONS, from: '2026-11-21', to: '2026-11-21', outDir: tempDir() };
    await expect(generateMachineFiles({ ...saturday, defects: 'all' })).rejects.toThrow(
      /--defects: 12 defective machine-hours needed but the range has only 0/,
    );
    expect((await generateMachineFiles({ ...saturday, defects: 'none' })).totals.partitions).toBe(0);
  });

  it('runs as a command with a one-line summary, and names the bad flag', async () => {
    const dir = tempDir();
    const lines: string[] = [];
    const truth = await runGenerateCommand(
      [
        'machine-files',
        '--out',
        dir,
        '--from',
        '2026-11-20',
        '--to',
        '2026-11-20',
        '--machines',
        '2',
        '--seed',
        '3',
        '--defects',
        'none',
        '--items-per-file',
        '20',
      ],
      (l) => lines.push(l),
    );
    expect(truth.totals.partitionsByOutcome.loaded).toBe(24);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^machine-files: 24 files .* 2 machines, 2026-11-20\.\.2026-11-20/);
    expect(listFiles(dir)).toHaveLength(24);
    const base = ['--out', dir, '--from', '2026-11-20', '--to', '2026-11-20'];
    await expect(runGenerateCommand([...base, '--machines', 'ten'])).rejects.toThrow(/--machines/);
    await expect(runGenerateCommand([...base, '--defects', 'typo'])).rejects.toThrow(/--defects/);
    await expect(runGenerateCommand(['--out', dir, '--from', '2026-13-01', '--to', '2026-11-20'])).rejects.toThrow(
      /--from/,
    );
    await expect(runGenerateCommand(['--from', '2026-11-20', '--to', '2026-11-20'])).rejects.toThrow(/--out/);
    await expect(runGenerateCommand([...base, '--bogus', '1'])).rejects.toThrow(/--bogus/);
  });
});

describe('yield metrics', () => {
  it('computes percentile_cont like PostgreSQL', () => {
    expect(percentileCont([1, 2, 3, 4], 0.95)).toBeCloseTo(3.85, 10);
    expect(percentileCont([800], 0.95)).toBe(800);
    expect(percentileCont([], 0.95)).toBeNull();
  });

  it('counts gaps over 120 s as downtime, hour boundaries included', () => {
    const start = Date.parse('2026-11-20T13:00:00Z');
    expect(downtimeMinutes([], start)).toBe(60);
    expect(downtimeMinutes([start + 60_000, start + 59 * 60_000], start)).toBe(58);
    expect(downtimeMinutes([start + 120_000, start + 58 * 60_000], start)).toBe(56);
    const m = computeYieldMetrics(
      [
        { status: 'OK', cycleMs: 800, tempC: 70, vibrationMmS: 2, energyWh: null, tsMs: start + 1000 },
        { status: 'SCRAP', cycleMs: 900, tempC: 72, vibrationMmS: 3, energyWh: null, tsMs: start + 3_599_000 },
      ],
      start,
      false,
    );
    expect(m).toEqual({
      items: 2,
      ok: 1,
      scrap: 1,
      rework: 0,
      yieldPct: 50,
      cycleMsMean: 850,
      cycleMsP95: 895,
      tempCMean: 71,
      vibrationMax: 3,
      downtimeMinutes: 59.966667,
      energyWh: null,
    });
  });
});

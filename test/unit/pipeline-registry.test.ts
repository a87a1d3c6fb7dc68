import { describe, expect, it } from '@jest/globals';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../infra/paths.js';
import type { ColumnType } from '../../activities/formats/format.js';
import { assertRegistryValid, getPipeline, PIPELINES, registryProblems } from '../../activities/registry/pipelines.js';
import {
  isExpectedPeriod,
  parsePartition,
  partitionsInRange,
  partitionWindow,
  type Partitioning,
} from '../../workflows/partitions.js';
import { specProblems, type PipelineSpec, type SqlModel } from '../../workflows/spec.js';

describe('pipeline registry', () => {
  it('registers every spec file under workflows/pipelines/, and each is valid', async () => {
    const dir = path.join(projectRoot, 'workflows', 'pipelines');
    const files = readdirSync(dir).filter((f) => f.endsWith('.pipeline.ts'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const mod = (await import(path.join(dir, file))) as Record<string, unknown>;
      const specs = Object.values(mod).filter(
        (v): v is { id: string } => typeof v === 'object' && v !== null && 'id' in v,
      );
      expect(specs).toHaveLength(1);
      expect(PIPELINES).toContain(specs[0]);
    }
    expect(() => assertRegistryValid()).not.toThrow();
  });

  it('keeps specs plain serializable data (they travel as workflow input)', () => {
    for (const spec of PIPELINES) expect(JSON.parse(JSON.stringify(spec))).toEqual(spec);
  });

  it('reports invalid specs and duplicate ids', () => {
    const spec = getPipeline('factory-machine-signals')!;
    expect(specProblems({ ...spec, id: 'Bad Id', quality: { ...spec.quality, maxBadRowRatio: 2 } })).toEqual([
      'Bad Id: id must be kebab-case, 2-63 chars',
      'Bad Id: quality.maxBadRowRatio in [0, 1)',
    ]);
    expect(() => assertRegistryValid([spec, spec])).toThrow('factory-machine-signals: duplicate pipeline id');
  });
});

describe('partition keys', () => {
  const hourly = getPipeline('factory-machine-signals')!.partitioning;
  const daily: Partitioning = { kind: 'day', timeZone: 'America/Sao_Paulo', calendar: { weekdays: [1, 2, 3, 4, 5] } };
  const entityDay: Partitioning = { ...daily, kind: 'entity-day', entities: ['M01', 'M02'] };

  it('parses real periods of each kind and rejects impossible ones', () => {
    expect(parsePartition(hourly, 'M07@2026-11-20T10')).toEqual({
      entity: 'M07',
      period: '2026-11-20T10',
      date: '2026-11-20',
    });
    expect(parsePartition(daily, '2026-11-20')).toEqual({ period: '2026-11-20', date: '2026-11-20' });
    expect(parsePartition(entityDay, 'M01@2026-11-20')).toEqual({
      entity: 'M01',
      period: '2026-11-20',
      date: '2026-11-20',
    });
    for (const bad of [
      'M07@2026-02-30T10',
      'M07@2026-11-20T24',
      'M07-2026-11-20T10',
      '@2026-11-20T10',
      'M 7@2026-11-20T10',
      '2026-11-20',
    ])
      expect(parsePartition(hourly, bad)).toBeUndefined();
    for (const bad of ['2026-02-30', 'M01@2026-11-20', '2026-11-20T10'])
      expect(parsePartition(daily, bad)).toBeUndefined();
  });

  it('follows the factory calendar: Monday to Friday, 06:00 to 17:59 local, in the IANA zone', () => {
    expect(isExpectedPeriod(hourly, '2026-11-20T06')).toBe(true); // Friday
    expect(isExpectedPeriod(hourly, '2026-11-20T18')).toBe(false);
    expect(isExpectedPeriod(hourly, '2026-11-21T10')).toBe(false); // Saturday
    expect(partitionWindow(hourly, 'M07@2026-11-20T10')).toEqual({
      start: '2026-11-20T13:00:00.000Z',
      end: '2026-11-20T14:00:00.000Z',
      date: '2026-11-20',
    });
    expect(partitionWindow(daily, '2026-11-20')).toEqual({
      start: '2026-11-20T03:00:00.000Z',
      end: '2026-11-21T03:00:00.000Z',
      date: '2026-11-20',
    });
    expect(partitionsInRange(daily, '2026-11-19', '2026-11-23')).toEqual(['2026-11-19', '2026-11-20', '2026-11-23']);
    expect(partitionsInRange(entityDay, '2026-11-20', '2026-11-20')).toEqual(['M01@2026-11-20', 'M02@2026-11-20']);
  });

  it('follows daylight saving: a skipped hour is no partition, a repeated hour is one partition of two hours', () => {
    const ny: Partitioning = {
      kind: 'entity-hour',
      entities: ['M01'],
      timeZone: 'America/New_York',
      calendar: { weekdays: [0, 1, 2, 3, 4, 5, 6], hours: [0, 1, 2, 3] },
    };
    // 2026-03-08: 02:00 → 03:00 (EST → EDT); 2026-11-01: 02:00 → 01:00 (EDT → EST).
    expect(partitionsInRange(ny, '2026-03-08T00', '2026-03-08T03')).toEqual([
      'M01@2026-03-08T00',
      'M01@2026-03-08T01',
      'M01@2026-03-08T03',
    ]);
    expect(partitionWindow(ny, 'M01@2026-03-08T02')).toBeUndefined();
    expect(partitionWindow(ny, 'M01@2026-03-08T03')!.start).toBe('2026-03-08T07:00:00.000Z');
    expect(partitionWindow(ny, 'M01@2026-11-01T01')).toMatchObject({
      start: '2026-11-01T05:00:00.000Z',
      end: '2026-11-01T07:00:00.000Z',
    });
    expect(partitionWindow({ ...ny, kind: 'day' }, '2026-11-01')).toMatchObject({
      start: '2026-11-01T04:00:00.000Z',
      end: '2026-11-02T05:00:00.000Z',
    });
  });
});

describe('registry resolution', () => {
  const lab = getPipeline('quality-lab-inspections')!;
  const machine = getPipeline('factory-machine-signals')!;
  const problemsOf = (spec: PipelineSpec) => registryProblems([machine, spec]).filter((p) => p.startsWith(spec.id));

  it('resolves every id of every registered pipeline, declared in TypeScript or in a folder', () => {
    expect(registryProblems()).toEqual([]);
    expect(PIPELINES.map((p) => p.id)).toEqual(['factory-machine-signals', 'quality-lab-inspections']);
    expect(lab.transforms.every((t) => typeof t === 'object' && t.sql.includes('SELECT'))).toBe(true);
  });

  it('names the pipeline and the field of every unresolved reference', () => {
    expect(problemsOf({ ...lab, staging: { format: 'parquet-v9' } })).toEqual([
      'quality-lab-inspections: staging.format "parquet-v9" is not a registered format (known: machine-signal-v1, generic)',
    ]);
    expect(problemsOf({ ...lab, load: { datasets: [...lab.load.datasets, 'lab_ghost'] } })).toEqual([
      'quality-lab-inspections: load.datasets[2]: dataset lab_ghost is not declared',
      'quality-lab-inspections: load.datasets[2]: nothing produces lab_ghost (no transform outputs it)',
    ]);
    expect(problemsOf({ ...lab, transforms: [...lab.transforms, 'no-such-transform'] })).toEqual([
      'quality-lab-inspections: transforms[2]: transform "no-such-transform" is not a registered transform',
    ]);
    const model = lab.transforms[1] as SqlModel;
    expect(problemsOf({ ...lab, transforms: [lab.transforms[0]!, { ...model, reads: ['weather'] }] })).toEqual([
      "quality-lab-inspections: transforms[1].reads: weather is no other pipeline's dataset nor a source's",
    ]);
    // A source's table (the product catalog) may be read; it is declared, and checked against the warehouse.
    expect(
      problemsOf({ ...lab, transforms: [lab.transforms[0]!, { ...model, reads: ['production_events', 'products'] }] }),
    ).toEqual([]);
    const config = lab.staging.config!;
    const badColumns = config.columns.map((c, i) => (i === 5 ? { ...c, type: 'decimall' as ColumnType } : c));
    expect(problemsOf({ ...lab, staging: { format: 'generic', config: { ...config, columns: badColumns } } })).toEqual([
      expect.stringMatching(/^quality-lab-inspections: staging\.config\.columns\[5\]\.type: .*decimall/),
    ]);
    expect(problemsOf({ ...lab, source: { ...lab.source, completeWhen: { kind: 'trailer' } } })).toEqual([
      'quality-lab-inspections: source.completeWhen: format generic has no trailer',
    ]);
    const onMachineRows = { kind: 'sql' as const, id: 'm', output: 'machine_yield_hourly', sql: 'SELECT 1' };
    expect(
      registryProblems([{ ...machine, transforms: ['inventory-movements', 'machine-quarantine', onMachineRows] }]),
    ).toEqual([
      'factory-machine-signals: transforms[2]: sql model m needs a format with configured columns to read ({{staged}}), not machine-signal-v1',
    ]);
    expect(problemsOf({ ...machine, id: 'copy-of-machines' })).toEqual(
      machine.load.datasets.map((d) => `copy-of-machines: dataset ${d} is already loaded by factory-machine-signals`),
    );
  });
});

import { describe, expect, it } from '@jest/globals';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../infra/paths.js';
import { assertRegistryValid, getPipeline, PIPELINES } from '../../workflows/pipelines/index.js';
import { hourStartIso, isExpectedHour, parsePartitionKey } from '../../workflows/partitions.js';
import { specProblems } from '../../workflows/spec.js';

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
  it('parses real hours and rejects impossible ones', () => {
    expect(parsePartitionKey('M07@2026-11-20T10')).toEqual({ entity: 'M07', hourKey: '2026-11-20T10' });
    for (const bad of [
      'M07@2026-02-30T10',
      'M07@2026-11-20T24',
      'M07-2026-11-20T10',
      '@2026-11-20T10',
      'M 7@2026-11-20T10',
    ]) {
      expect(parsePartitionKey(bad)).toBeUndefined();
    }
  });

  it('follows the factory calendar: Monday to Friday, 06:00 to 17:59 local', () => {
    const p = getPipeline('factory-machine-signals')!.partitioning;
    expect(isExpectedHour('2026-11-20T06', p)).toBe(true); // Friday
    expect(isExpectedHour('2026-11-20T18', p)).toBe(false);
    expect(isExpectedHour('2026-11-21T10', p)).toBe(false); // Saturday
    expect(hourStartIso('2026-11-20T10', p.utcOffset)).toBe('2026-11-20T10:00:00-03:00');
  });
});

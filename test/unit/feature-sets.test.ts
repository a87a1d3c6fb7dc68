import { describe, expect, it } from '@jest/globals';
import { featureQuery, hasFeatureQuery } from '../../activities/features/queries.js';
import { assertFeatureSetsValid, FEATURE_SETS } from '../../workflows/features/index.js';
import { machineMaintenanceDaily } from '../../workflows/features/machine-maintenance-daily.featureset.js';
import { dayNumber, planChunks, rangeDays } from '../../workflows/features/plan.js';
import { exportColumns, featureSetProblems } from '../../workflows/features/spec.js';

describe('feature set registry', () => {
  it('is valid and every set has a registered query', () => {
    expect(() => assertFeatureSetsValid()).not.toThrow();
    for (const s of FEATURE_SETS) expect([s.id, hasFeatureQuery(s.query)]).toEqual([s.id, true]);
  });

  it('reports what is wrong with a spec', () => {
    const bad = { ...machineMaintenanceDaily, id: 'Bad Id', entityColumn: 'nope', chunkDays: 0 };
    expect(featureSetProblems(bad)).toEqual([
      'Bad Id: id must be kebab-case, 2-63 chars',
      'Bad Id: entityColumn must be one of the columns',
      'Bad Id: chunkDays must be a positive integer',
    ]);
    expect(() => assertFeatureSetsValid([machineMaintenanceDaily, machineMaintenanceDaily])).toThrow(/duplicate/);
  });

  it('adds the label to training exports only', () => {
    expect(exportColumns(machineMaintenanceDaily, false).map((c) => c.name)).not.toContain('label_maintenance_next_7d');
    expect(exportColumns(machineMaintenanceDaily, true).at(-1)!.name).toBe('label_maintenance_next_7d');
  });
});

describe('export planning', () => {
  it('splits a range into chunks that cover every day once', () => {
    const chunks = planChunks('2026-01-30', '2026-03-02', 10);
    expect(chunks.map((c) => [c.from, c.to])).toEqual([
      ['2026-01-30', '2026-02-08'],
      ['2026-02-09', '2026-02-18'],
      ['2026-02-19', '2026-02-28'],
      ['2026-03-01', '2026-03-02'],
    ]);
    expect(chunks.map((c) => c.index)).toEqual([0, 1, 2, 3]);
    expect(planChunks('2026-01-01', '2026-01-01', 31)).toEqual([{ index: 0, from: '2026-01-01', to: '2026-01-01' }]);
  });

  it('rejects impossible dates and inverted ranges', () => {
    expect(dayNumber('2026-02-30')).toBeNaN();
    expect(dayNumber('2026-2-3')).toBeNaN();
    expect(rangeDays('2026-03-02', '2026-03-01')).toBe(0);
    expect(rangeDays('2024-02-28', '2024-03-01')).toBe(3);
  });
});

describe('feature queries', () => {
  const ok = { from: '2026-11-16', to: '2026-11-17', asOf: '2026-11-21T03:00:00.000Z', training: false };

  it('splice only validated values', () => {
    expect(featureQuery(machineMaintenanceDaily, ok)).toContain("'2026-11-16'");
    for (const bad of [
      { ...ok, from: "2026-11-16'; DROP TABLE ops.runs; --" },
      { ...ok, asOf: '2026-11-21 03:00' },
      { ...ok, entity: "M01' OR '1'='1" },
    ]) {
      expect(() => featureQuery(machineMaintenanceDaily, bad)).toThrow(RangeError);
    }
  });

  it('select the label only for training', () => {
    expect(featureQuery(machineMaintenanceDaily, ok)).not.toContain('label_maintenance_next_7d');
    expect(featureQuery(machineMaintenanceDaily, { ...ok, training: true })).toContain('AS label_maintenance_next_7d');
  });
});

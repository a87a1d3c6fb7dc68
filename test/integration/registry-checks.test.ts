import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { warehouseProblems } from '../../activities/datasets/checks.js';
import { datasetOf } from '../../activities/datasets/registry.js';
import { datasetDrift } from '../../activities/datasets/spec.js';
import { getPipeline, PIPELINES } from '../../activities/registry/pipelines.js';
import { projectRoot } from '../../infra/paths.js';
import type { SqlModel } from '../../workflows/spec.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';
import { spawnWorker } from '../support/worker-process.js';

const TUTORIAL = path.join(projectRoot, 'test', 'fixtures', 'pipelines', 'tutorial-air-quality');

/** A declaration and its migration cannot drift, and a SQL model reading what is not there stops start-up. */
describe('registry against the warehouse', () => {
  let env: FabricaTestEnv;
  let dir: string;
  beforeAll(async () => {
    env = await createTestEnv('registry');
    dir = mkdtempSync(path.join(tmpdir(), 'fabrica-decl-'));
  });
  afterAll(async () => {
    await env.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds every registered declaration matching its migrated table, and every SQL model planning', async () => {
    expect(await warehouseProblems(env.deps.warehouse, PIPELINES)).toEqual([]);
  });

  it('reports a declaration that drifted from its table, naming dataset and column', async () => {
    const d = datasetOf('quality_inspections');
    const drifted = {
      ...d,
      columns: [
        ...d.columns.map((c) => (c.name === 'weight_g' ? { ...c, type: 'double' as const } : c)),
        { name: 'operator_note', type: 'text' as const },
      ].filter((c) => c.name !== 'line_no'),
    };
    expect(await datasetDrift(env.deps.warehouse, [drifted, { ...d, table: 'quality.nope' }])).toEqual([
      'dataset quality_inspections: column weight_g is numeric in quality.inspections, declared double',
      'dataset quality_inspections: column quality.inspections.operator_note does not exist',
      'dataset quality_inspections: column quality.inspections.line_no is not declared and has no default',
      'dataset quality_inspections: table quality.nope does not exist (missing migration?)',
    ]);
  });

  it('reports a SQL model that reads a column that is not there, naming pipeline and model', async () => {
    const lab = getPipeline('quality-lab-inspections')!;
    const model = lab.transforms[1] as SqlModel;
    const broken = {
      ...lab,
      transforms: [lab.transforms[0]!, { ...model, sql: model.sql.replace('avg(weight_g)', 'avg(weight_kg)') }],
    };
    expect(await warehouseProblems(env.deps.warehouse, [broken])).toEqual([
      'quality-lab-inspections: sql model sku-quality-daily: column "weight_kg" does not exist',
    ]);
  });

  it('keeps a worker with a broken declaration from starting, naming the pipeline and the field', async () => {
    const bad = path.join(dir, 'bad-type');
    cpSync(TUTORIAL, bad, { recursive: true });
    const file = path.join(bad, 'pipeline.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"type": "double"', '"type": "doubel"'));
    const worker = spawnWorker({ ...env.processEnv(), FABRICA_PIPELINE_DIRS: bad });
    await expect(worker.polling()).rejects.toThrow(/exited \(1\)/);
    expect(worker.output()).toMatch(/tutorial-air-quality: staging\.config\.columns\[2\]\.type: .*doubel/);
    expect(worker.output()).not.toMatch(/\n\s+at /);

    const badSql = path.join(dir, 'bad-sql');
    cpSync(TUTORIAL, badSql, { recursive: true });
    const sql = path.join(badSql, 'air_readings_daily.sql');
    writeFileSync(sql, readFileSync(sql, 'utf8').replace('max(pm25)', 'max(pm10)'));
    const worker2 = spawnWorker({ ...env.processEnv(), FABRICA_PIPELINE_DIRS: badSql });
    await expect(worker2.polling()).rejects.toThrow(/exited \(1\)/);
    expect(worker2.output()).toMatch(
      /tutorial-air-quality: sql model air-readings-daily: column \\+"pm10\\+" does not exist/,
    );

    const missing = spawnWorker({ ...env.processEnv(), FABRICA_PIPELINE_DIRS: path.join(dir, 'nowhere') });
    await expect(missing.polling()).rejects.toThrow(/exited \(78\)/);
    expect(missing.output()).toContain('FABRICA_PIPELINE_DIRS');
  });
});

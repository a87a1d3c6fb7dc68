import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateMachineFiles } from '../../infra/generator/machine-files.js';
import type { GroundTruth } from '../../infra/generator/ground-truth.js';
import { runWorkflowId } from '../../workflows/ids.js';
import { pipelineRunWorkflow } from '../../workflows/pipeline-run.workflow.js';
import { factoryMachineSignals as spec } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import { PIPELINE_STATUS } from '../../workflows/search-attributes.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';
import { deliver, expectMatchesTruth, startSensor, waitQuiet } from '../support/factory-checks.js';

/**
 * The flagship case end to end on real components: a generated working day with every defect of the contract's table,
 * landed in the landing area, picked up by the sensor, loaded, served to the inventory database — then late files,
 * then every partition re-run — compared each time with the generator's independent ground truth.
 */
describe('factory machine signals, end to end', () => {
  let env: FabricaTestEnv;
  let genDir: string;
  let truth: GroundTruth;
  let stopSensor: () => Promise<void>;

  beforeAll(async () => {
    env = await createTestEnv('factory');
    genDir = mkdtempSync(path.join(tmpdir(), 'fabrica-gen-'));
    truth = await generateMachineFiles({
      outDir: genDir,
      from: '2026-11-02',
      to: '2026-11-02',
      machines: 5,
      seed: 11,
      itemsPerFile: 150,
      defects: 'all',
    });
    await env.startWorker();
    stopSensor = await startSensor(env, spec);
  });
  afterAll(async () => {
    await stopSensor();
    await env.close();
    rmSync(genDir, { recursive: true, force: true });
  });

  it('covers every defect of the contract in the generated day', () => {
    const defects = new Set(Object.values(truth.partitions).map((p) => p.defect));
    for (const d of [
      'malformed',
      'quality_threshold',
      'duplicate',
      'redelivery',
      'late',
      'incomplete',
      'checksum',
      'empty_hour',
      'missing',
      'out_of_order',
      'outside_hour',
      'schema_break',
    ]) {
      expect(defects).toContain(d);
    }
  });

  it('loads the landed day, then the late files, to exactly the ground truth', async () => {
    const onTime = deliver(genDir, env);
    await waitQuiet(env, onTime);
    const late = deliver(genDir, env, 'late');
    expect(late).toBeGreaterThan(0);
    await waitQuiet(env, onTime + late);
    await expectMatchesTruth(env, truth);
  });

  it('fails broken partitions once, with an alert and a searchable status, loading nothing', async () => {
    const broken = Object.values(truth.partitions).filter(
      (p) => p.outcome === 'contract_broken' || p.outcome === 'quality_failed',
    );
    expect(broken.length).toBeGreaterThan(0);
    for (const p of broken) {
      const runs = await env.deps.warehouse.query(
        'SELECT run_id, failure_message FROM ops.runs WHERE partition_key = $1',
        [p.partition],
      );
      expect(runs.rows).toHaveLength(1);
      expect(runs.rows[0].failure_message).toContain(p.files[0]!.split('/').pop()!);
      const alerts = await env.deps.warehouse.query(
        "SELECT kind FROM ops.alerts WHERE partition_key = $1 AND kind = 'run_failed'",
        [p.partition],
      );
      expect(alerts.rows).toHaveLength(1);
      const d = await env.client.workflow.getHandle(runWorkflowId(spec.id, p.partition)).describe();
      expect(d.typedSearchAttributes.get(PIPELINE_STATUS)).toBe(
        p.outcome === 'contract_broken' ? 'Failed:ContractBroken' : 'Failed:DataQualityThresholdExceeded',
      );
    }
  });

  it('leaves every result unchanged when every partition is re-run, forced or not', async () => {
    const loaded = Object.values(truth.partitions).filter((p) => p.outcome === 'loaded');
    for (const force of [false, true]) {
      const outcomes = await Promise.all(
        loaded.map((p) =>
          env.client.workflow.execute(pipelineRunWorkflow, {
            workflowId: `${runWorkflowId(spec.id, p.partition)}:rerun-${force}`,
            taskQueue: env.taskQueue,
            args: [{ spec, partition: p.partition, runKind: 'manual', force }],
          }),
        ),
      );
      expect(new Set(outcomes.map((o) => o.status))).toEqual(new Set([force ? 'succeeded' : 'unchanged']));
      await expectMatchesTruth(env, truth);
    }
  });
});

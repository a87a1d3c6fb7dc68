import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateLabInspections } from '../../infra/generator/lab-inspections.js';
import type { LabGroundTruth } from '../../infra/generator/lab-truth.js';
import { generateMachineFiles } from '../../infra/generator/machine-files.js';
import type { GroundTruth } from '../../infra/generator/ground-truth.js';
import { backfillWorkflow } from '../../workflows/backfill.workflow.js';
import { runWorkflowId } from '../../workflows/ids.js';
import { pipelineRunWorkflow } from '../../workflows/pipeline-run.workflow.js';
import { factoryMachineSignals } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import { getPipeline } from '../../activities/registry/pipelines.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';
import { startSensor, waitQuiet } from '../support/factory-checks.js';
import {
  deliverLab,
  expectLabDay,
  expectLabTruth,
  LAB_PIPELINE,
  martProduction,
  productionOfDay,
  waitDispatched,
} from '../support/lab-checks.js';

const FROM = '2026-11-02';
const TO = '2026-11-27';
/** The machine-signal day the mart joins, and its hour held back to arrive late. */
const MACHINE_DAY = '2026-11-19';
const LATE = 'M02@2026-11-19T14';

/**
 * The plant's second flow, built only from declarations (workflows/pipelines/quality-lab-inspections/): a generated
 * month of QA lab files with every defect of its contract, picked up by the sensor when their markers land, loaded
 * to exactly the generator's ground truth; a corrected re-send replaces the day; a late machine file re-runs the
 * day's mart through the dependency; re-running everything changes nothing.
 */
describe('quality lab inspections, end to end', () => {
  const lab = getPipeline(LAB_PIPELINE)!;
  const machines = {
    ...factoryMachineSignals,
    partitioning: { ...factoryMachineSignals.partitioning, entities: ['M01', 'M02', 'M03'] },
  };
  let env: FabricaTestEnv;
  let gen: string;
  let truth: LabGroundTruth;
  let machineTruth: GroundTruth;
  let stops: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    env = await createTestEnv('lab');
    gen = mkdtempSync(path.join(tmpdir(), 'fabrica-lab-'));
    truth = await generateLabInspections({ outDir: gen, from: FROM, to: TO, seed: 3, samplesPerDay: 300, machines: 3 });
    machineTruth = await generateMachineFiles({
      outDir: path.join(gen, 'machines'),
      from: MACHINE_DAY,
      to: MACHINE_DAY,
      machines: 3,
      seed: 5,
      itemsPerFile: 30,
      defects: 'none',
    });
    await env.startWorker();
    stops = [await startSensor(env, lab), await startSensor(env, machines)];
  });
  afterAll(async () => {
    for (const stop of stops) await stop();
    await env.close();
    rmSync(gen, { recursive: true, force: true });
  });

  const runOf = async (partition: string) =>
    (
      await env.deps.warehouse.query<{
        status: string;
        failure_type: string | null;
        failure_message: string | null;
        run_id: string;
        run_kind: string;
      }>(
        'SELECT status, failure_type, failure_message, run_id, run_kind FROM ops.runs WHERE pipeline = $1 AND partition_key = $2 ORDER BY started_at DESC LIMIT 1',
        [LAB_PIPELINE, partition],
      )
    ).rows[0];

  it('covers every defect of the lab contract in the generated month', () => {
    for (const d of [
      'bad_number',
      'bad_datetime',
      'bad_value',
      'missing_value',
      'duplicate',
      'quality_failed',
      'schema_break',
      'extra_column',
      'resent',
      'no_marker',
    ])
      expect({ d, days: truth.defectDays[d as keyof typeof truth.defectDays]?.length ?? 0 }).not.toEqual({
        d,
        days: 0,
      });
  });

  it('loads the month to exactly its ground truth; failed days load nothing and say why; a day without marker waits', async () => {
    const machineFiles = machineTruth.files.filter((f) => f.partition !== LATE);
    for (const f of machineFiles)
      cpSync(path.join(gen, 'machines', f.path), path.join(env.landingDir, path.basename(f.path)));
    const labFiles = deliverLab(gen, env);
    await waitQuiet(env, labFiles + machineFiles.length);
    // A re-sent day is compared with its first delivery until the correction lands.
    await expectLabTruth(env, truth, (d) => truth.days[d]!.firstDelivery ?? truth.days[d]!);
    for (const [day, t] of Object.entries(truth.days)) {
      const run = await runOf(day);
      if (t.outcome === 'quality_failed')
        expect({ day, type: run?.failure_type }).toEqual({ day, type: 'DataQualityThresholdExceeded' });
      if (t.outcome === 'contract_broken') {
        expect({ day, type: run?.failure_type }).toEqual({ day, type: 'ContractBroken' });
        for (const c of [...t.missingColumns]) expect(run?.failure_message).toContain(c);
        const alert = await env.deps.warehouse.query(
          "SELECT message FROM ops.alerts WHERE kind = 'run_failed' AND pipeline = $1 AND partition_key = $2",
          [LAB_PIPELINE, day],
        );
        expect(alert.rows[0]?.message).toContain(t.missingColumns[0]);
      }
      if (t.outcome === 'waiting') {
        expect({ day, run }).toEqual({ day, run: undefined });
        const landed = await env.deps.warehouse.query(
          'SELECT state FROM ops.landed_files WHERE pipeline = $1 AND partition_key IS NULL',
          [LAB_PIPELINE],
        );
        expect(landed.rows.map((r: { state: string }) => r.state)).toContain('waiting');
      }
      if (t.extraColumns.length > 0 && t.outcome === 'loaded') {
        const stage = await env.deps.warehouse.query(
          "SELECT details->'extraColumns' AS extra FROM ops.run_steps WHERE run_id = $1 AND step = 'stage'",
          [run!.run_id],
        );
        expect(stage.rows[0]?.extra).toEqual(t.extraColumns);
      }
    }
    // The day with machine data joins its production: the mart's counts per SKU are the machine flow's.
    expect(await martProduction(env, MACHINE_DAY)).toEqual(await productionOfDay(env, MACHINE_DAY));
    expect(Object.keys(await martProduction(env, MACHINE_DAY)).length).toBeGreaterThan(0);
  });

  it('replaces a day everywhere downstream when the lab re-sends it corrected', async () => {
    const day = truth.defectDays.resent![0]!;
    const before = await env.deps.warehouse.query(
      'SELECT content_sha256 FROM ops.partition_state WHERE dataset = $1 AND partition_key = $2',
      ['sku_quality_daily', day],
    );
    deliverLab(gen, env, 'lab/resent');
    await waitDispatched(env, `lab/${truth.days[day]!.fileName}`, 2);
    await expectLabDay(env, day, truth.days[day]!);
    const after = await env.deps.warehouse.query(
      'SELECT content_sha256 FROM ops.partition_state WHERE dataset = $1 AND partition_key = $2',
      ['sku_quality_daily', day],
    );
    expect(after.rows[0]!.content_sha256).not.toBe(before.rows[0]!.content_sha256);
    const snapshot = await env.deps.lake.head(`v1/serving/${LAB_PIPELINE}/sku_quality_daily/${day}.jsonl`);
    expect(snapshot?.size).toBeGreaterThan(0);
    const lines: Buffer[] = [];
    for await (const c of await env.deps.lake.get(`v1/serving/${LAB_PIPELINE}/sku_quality_daily/${day}.jsonl`))
      lines.push(c as Buffer);
    const rows = Buffer.concat(lines)
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { day: string; sku: string; samples: number });
    expect(rows.map((r) => [r.day, r.sku, r.samples])).toEqual(
      Object.entries(truth.days[day]!.bySku)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([sku, t]) => [day, sku, t.samples]),
    );
  });

  it('re-runs the mart of the day when a late machine file of that day is published (lineage shows it)', async () => {
    const before = await martProduction(env, MACHINE_DAY);
    const late = machineTruth.files.find((f) => f.partition === LATE)!;
    cpSync(path.join(gen, 'machines', late.path), path.join(env.landingDir, path.basename(late.path)));
    const machineRun = env.client.workflow.getHandle(runWorkflowId(machines.id, LATE));
    let upstreamRunId: string | undefined;
    for (let i = 0; i < 600 && !upstreamRunId; i++) {
      try {
        const d = await machineRun.describe();
        if (d.status.name === 'COMPLETED') upstreamRunId = d.runId;
      } catch {
        // not started yet
      }
      if (!upstreamRunId) await new Promise((r) => setTimeout(r, 200));
    }
    const dependency = env.client.workflow.getHandle(`dependency:${LAB_PIPELINE}:${MACHINE_DAY}:${upstreamRunId}`);
    await dependency.result();
    const after = await martProduction(env, MACHINE_DAY);
    expect(after).toEqual(await productionOfDay(env, MACHINE_DAY));
    expect(after).not.toEqual(before);
    const run = await runOf(MACHINE_DAY);
    expect(run).toMatchObject({ status: 'succeeded', run_kind: 'dependency' });
    const lineage = await env.deps.warehouse.query(
      "SELECT input_uri, output_uri FROM ops.lineage WHERE run_id = $1 AND step = 'dependency'",
      [run!.run_id],
    );
    expect(lineage.rows).toEqual([
      {
        input_uri: `postgres://warehouse/factory.production_events?partition=${encodeURIComponent(LATE)}`,
        output_uri: `postgres://warehouse/quality.sku_quality_daily?partition=${MACHINE_DAY}`,
      },
    ]);
    await expectLabDay(env, MACHINE_DAY, truth.days[MACHINE_DAY]!);
  });

  it('loads the waiting day once its marker lands', async () => {
    const day = truth.defectDays.no_marker![0]!;
    writeFileSync(path.join(env.landingDir, 'lab', `${truth.days[day]!.fileName}.done`), '');
    await waitDispatched(env, `lab/${truth.days[day]!.fileName}`, 1);
    await expectLabDay(env, day, truth.days[day]!.whenMarked!);
  });

  it('changes nothing when every day is re-run, or one is forced', async () => {
    const snapshot = async () =>
      (
        await env.deps.warehouse.query<Record<string, unknown>>(
          'SELECT day, sku, samples, rejected, reject_rate, weight_g_mean, produced_items FROM quality.sku_quality_daily ORDER BY 1, 2',
        )
      ).rows;
    const marked = (d: string) => truth.days[d]!.whenMarked ?? truth.days[d]!;
    const before = await snapshot();
    const all = await env.client.workflow.execute(backfillWorkflow, {
      workflowId: `lab-rerun-${env.id}`,
      taskQueue: env.taskQueue,
      args: [{ backfillId: 'lab-rerun', spec: lab, from: FROM, to: TO, mode: 'all', maxConcurrency: 4 }],
    });
    const failing = Object.values(truth.days).filter(
      (t) => t.outcome === 'quality_failed' || t.outcome === 'contract_broken',
    ).length;
    expect(all).toMatchObject({ failed: failing, total: Object.keys(truth.days).length });
    const forced = await env.client.workflow.execute(pipelineRunWorkflow, {
      workflowId: `forced-${env.id}`,
      taskQueue: env.taskQueue,
      args: [{ spec: lab, partition: MACHINE_DAY, runKind: 'manual', force: true }],
    });
    expect(forced.status).toBe('succeeded');
    expect(await snapshot()).toEqual(before);
    await expectLabTruth(env, truth, marked);
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { createSensorActivities } from '../../activities/sensor.js';
import { lakeKeys } from '../../activities/lake-layout.js';
import { writeMachineHourFile } from '../../infra/generator/machine-files.js';
import { runWorkflowId } from '../../workflows/ids.js';
import { pipelineRunWorkflow } from '../../workflows/pipeline-run.workflow.js';
import { factoryMachineSignals } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import { PIPELINE_STATUS } from '../../workflows/search-attributes.js';
import type { RunOutcome } from '../../workflows/steps.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';
import { readMachineFile, truthOfLines, withField, writeMachineFile } from '../support/machine-file-edit.js';
import { publishedPartition } from '../support/partition-state.js';

const MACHINES = ['M01', 'M02', 'M03', 'M04'];
const spec = { ...factoryMachineSignals, partitioning: { ...factoryMachineSignals.partitioning, entities: MACHINES } };
const FLEET = { seed: 71, machines: MACHINES.length, defects: 'none' as const };

/**
 * Issue 12, row 11: the rows of the contract's table that were only half proven — the incomplete file's alert after
 * the SLA (time injected), the 1 % quality threshold at its exact boundary, and the whole-file quarantine of a schema
 * break. (The 100× file in bounded memory is `huge-file.test.ts`.)
 */
describe('contract v1 rows: incomplete file, quality threshold, schema break', () => {
  let env: FabricaTestEnv;
  let gen: string;
  let runs = 0;

  beforeAll(async () => {
    env = await createTestEnv('contract_rows');
    gen = mkdtempSync(path.join(tmpdir(), 'fabrica-contract-rows-'));
    await env.startWorker();
  });
  afterAll(async () => {
    await env.close();
    rmSync(gen, { recursive: true, force: true });
  });

  /** Runs a partition to its end; a failed run's failure type and message instead of its outcome. */
  async function run(
    partition: string,
  ): Promise<{ workflowId: string; outcome?: RunOutcome; failure?: ApplicationFailure }> {
    const workflowId = `${runWorkflowId(spec.id, partition)}:${env.id}:${++runs}`;
    try {
      const outcome = await env.client.workflow.execute(pipelineRunWorkflow, {
        workflowId,
        taskQueue: env.taskQueue,
        args: [{ spec, partition, runKind: 'manual' }],
      });
      return { workflowId, outcome };
    } catch (err) {
      if (err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure)
        return { workflowId, failure: err.cause };
      throw err;
    }
  }

  const alertsOf = async (partition: string) =>
    (
      await env.deps.warehouse.query<{ kind: string; severity: string; message: string; resolved: boolean }>(
        'SELECT kind, severity, message, resolved_at IS NOT NULL AS resolved FROM ops.alerts WHERE partition_key = $1 ORDER BY id',
        [partition],
      )
    ).rows;

  it('raises incomplete_file only once the file is still incomplete past the freshness SLA, then resolves it', async () => {
    const partition = 'M03@2026-11-20T08';
    await writeMachineHourFile({
      ...FLEET,
      outDir: env.landingDir,
      machine: 'M03',
      hourKey: '2026-11-20T08',
      defect: 'incomplete',
    });
    const sensor = createSensorActivities({ warehouse: env.deps.warehouse, landing: env.deps.landing });
    // "now" is injected: first seen at 08:05 plant time, then scanned as the SLA (120 min) runs out.
    const t0 = Date.parse('2026-11-20T11:05:00Z');
    const at = (minutes: number) => new Date(t0 + minutes * 60_000).toISOString();
    const sla = spec.freshness.maxStalenessMinutes;
    expect(sla).toBe(120);
    expect(await sensor.scanLanding({ spec, now: at(0) })).toEqual([]);
    const seen = await env.deps.warehouse.query<{ state: string; first_seen_at: Date }>(
      'SELECT state, first_seen_at FROM ops.landed_files',
    );
    expect(seen.rows).toEqual([{ state: 'waiting', first_seen_at: new Date(at(0)) }]);
    expect(await sensor.scanLanding({ spec, now: at(sla - 1) })).toEqual([]);
    expect(await sensor.scanLanding({ spec, now: at(sla) })).toEqual([]);
    expect(await alertsOf(partition)).toEqual([]);
    expect(await sensor.scanLanding({ spec, now: at(sla + 1) })).toEqual([]);
    expect(await sensor.scanLanding({ spec, now: at(sla + 60) })).toEqual([]);
    const raised = await alertsOf(partition);
    expect(raised).toEqual([
      {
        kind: 'incomplete_file',
        severity: 'warning',
        message: expect.stringContaining('M03_20261120T08.txt is still incomplete 121 min after it landed'),
        resolved: false,
      },
    ]);
    expect((await publishedPartition(env, partition)).itemSeqs).toEqual([]);

    // The machine finishes the file: the next scan finds it complete, its run publishes and the alert resolves.
    const { truth } = await writeMachineHourFile({
      ...FLEET,
      outDir: env.landingDir,
      machine: 'M03',
      hourKey: '2026-11-20T08',
    });
    expect(await sensor.scanLanding({ spec, now: at(sla + 61) })).toEqual([
      { sourceKey: 'M03_20261120T08.txt', partition },
    ]);
    expect((await run(partition)).outcome?.status).toBe('succeeded');
    expect((await publishedPartition(env, partition)).itemSeqs).toHaveLength(truth.itemsLoaded);
    expect(await alertsOf(partition)).toEqual([{ ...raised[0], resolved: true }]);
  });

  it('loads a file with exactly 1 % bad lines and fails the same file with one bad line more, loading nothing', async () => {
    const partition = 'M01@2026-11-20T10';
    const { files } = await writeMachineHourFile({
      ...FLEET,
      outDir: gen,
      machine: 'M01',
      hourKey: '2026-11-20T10',
      itemsPerFile: 1200,
    });
    const base = readMachineFile(path.join(gen, files[0]!.path));
    const good = base.data.slice(0, 1000);
    const spoil = (count: number) => good.map((l, i) => (i % 90 === 3 && i < count * 90 ? withField(l, 3, 'ok') : l));
    const file = path.join(env.landingDir, 'M01_20261120T10.txt');
    expect(spec.quality.maxBadRowRatio).toBe(0.01);

    const sha10 = writeMachineFile(file, { ...base, data: spoil(10) });
    const passed = await run(partition);
    expect(passed.outcome?.status).toBe('succeeded');
    const truth = truthOfLines(
      spoil(10).filter((l, i) => l === good[i]),
      '2026-11-20T10:00:00-03:00',
    );
    const loaded = await publishedPartition(env, partition);
    expect(loaded.itemSeqs).toEqual(truth.itemSeqs);
    expect(loaded.itemSeqs).toHaveLength(990);
    expect(loaded.quarantinedByReason).toEqual({ bad_status: 10 });
    expect(loaded.inventoryMovements).toEqual(truth.okBySku);
    const check = await env.deps.warehouse.query(
      "SELECT passed, observed, threshold FROM ops.quality_results WHERE check_name = 'bad_row_ratio' AND partition_key = $1",
      [partition],
    );
    expect(check.rows).toEqual([{ passed: true, observed: 0.01, threshold: 0.01 }]);

    const sha11 = writeMachineFile(file, { ...base, data: spoil(11) });
    const failed = await run(partition);
    expect(failed.failure?.type).toBe('DataQualityThresholdExceeded');
    expect(failed.failure?.message).toBe(
      'M01_20261120T10.txt: 11 of 1000 lines (1.10 %) quarantined, over the 1 % threshold; nothing loaded',
    );
    // Nothing of the second content is published: the partition still holds the first, everywhere.
    expect(await publishedPartition(env, partition)).toEqual(loaded);
    expect(Object.values(loaded.ledger).every((l) => Object.keys(l).join() === sha10)).toBe(true);
    expect(sha11).not.toBe(sha10);
    const latest = await env.deps.warehouse.query(
      'SELECT status, failure_type FROM ops.runs WHERE partition_key = $1 ORDER BY started_at',
      [partition],
    );
    expect(latest.rows).toEqual([
      { status: 'succeeded', failure_type: null },
      { status: 'failed', failure_type: 'DataQualityThresholdExceeded' },
    ]);
    expect(await alertsOf(partition)).toEqual([
      {
        kind: 'run_failed',
        severity: 'critical',
        message: expect.stringContaining('11 of 1000 lines'),
        resolved: false,
      },
    ]);
  });

  it('quarantines a schema break as one whole-file object naming the columns, fails ContractBroken, loads nothing', async () => {
    const partition = 'M04@2026-11-20T09';
    const { files } = await writeMachineHourFile({
      ...FLEET,
      outDir: env.landingDir,
      machine: 'M04',
      hourKey: '2026-11-20T09',
      itemsPerFile: 50,
      defect: 'schema_break',
    });
    const sha = createHash('sha256')
      .update(readFileSync(path.join(env.landingDir, files[0]!.path)))
      .digest('hex');
    const { workflowId, failure } = await run(partition);
    expect(failure?.type).toBe('ContractBroken');
    expect(failure?.message).toContain('vibration_mm_s');
    expect(failure?.message).toContain('vibr_mm_s');

    const key = lakeKeys.quarantineFile(spec.id, partition, sha);
    expect(key).toBe(`v1/quarantine/factory-machine-signals/${partition}/${sha}.file.json`);
    const quarantined = JSON.parse(readFileSync(path.join(env.lakeDir, key), 'utf8')) as Record<string, unknown>;
    expect(quarantined).toMatchObject({
      sourceKey: 'M04_20261120T09.txt',
      rawKey: lakeKeys.raw(spec.id, sha),
      error: failure?.message,
    });
    expect(existsSync(path.join(env.lakeDir, lakeKeys.raw(spec.id, sha)))).toBe(true);
    expect(existsSync(path.join(env.lakeDir, lakeKeys.staged(spec.id, '_staged', partition, sha)))).toBe(false);
    expect(existsSync(path.join(env.lakeDir, lakeKeys.quarantineRows(spec.id, partition, sha)))).toBe(false);

    expect(await publishedPartition(env, partition)).toEqual({
      itemSeqs: [],
      quarantinedByReason: {},
      yield: undefined,
      movements: {},
      inventoryMovements: {},
      ledger: {},
    });
    const state = await env.deps.warehouse.query('SELECT 1 FROM ops.partition_state WHERE partition_key = $1', [
      partition,
    ]);
    expect(state.rows).toEqual([]);
    const runRow = await env.deps.warehouse.query(
      'SELECT status, failure_type, failure_message FROM ops.runs WHERE partition_key = $1',
      [partition],
    );
    expect(runRow.rows).toEqual([
      { status: 'failed', failure_type: 'ContractBroken', failure_message: failure?.message },
    ]);
    expect(await alertsOf(partition)).toEqual([
      { kind: 'run_failed', severity: 'critical', message: expect.stringContaining('ContractBroken'), resolved: false },
    ]);
    const d = await env.client.workflow.getHandle(workflowId).describe();
    expect(d.typedSearchAttributes.get(PIPELINE_STATUS)).toBe('Failed:ContractBroken');
  });
});

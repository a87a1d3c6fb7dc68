import { beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { CatalogService } from '../../infra/demo/catalog-service.js';
import { WebhookReceiver } from '../../infra/demo/alert-receivers.js';
import {
  dropRecordsDatabase,
  ensureRecordsDatabase,
  type RecordsDatabaseOptions,
} from '../../infra/demo/records-db.js';
import { generateMachineFiles } from '../../infra/generator/machine-files.js';
import * as workflows from '../../workflows/index.js';
import { backfillWorkflow } from '../../workflows/backfill.workflow.js';
import { featureExportWorkflow } from '../../workflows/feature-export.workflow.js';
import { productionEvents } from '../../workflows/features/production-events.featureset.js';
import { landingSensorWorkflow } from '../../workflows/landing-sensor.workflow.js';
import { pipelineRunWorkflow } from '../../workflows/pipeline-run.workflow.js';
import { factoryMachineSignals as spec } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import { scheduledBatchWorkflow, sweepWorkflow } from '../../workflows/scheduled.workflow.js';
import { scheduledSourceSyncWorkflow, sourceSyncWorkflow } from '../../workflows/source-sync.workflow.js';
import { getSource } from '../../workflows/sources/index.js';
import { sourceSyncStartOptions } from '../../workflows/sources/start-options.js';
import { webpackConfigHook } from '../../worker/bundle.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';
import { testServices } from '../support/services.js';

const { History } = temporal.api.history.v1;

/**
 * Recorded histories, one JSON file per workflow execution (`<name>.json`: the History message as protobuf.js's JSON
 * object, enums by name, 64-bit integers as strings, bytes in base64).
 */
const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'histories');
const RECORD = process.env.FABRICA_RECORD_HISTORIES === '1';

/** Every workflow type the worker registers (the functions `workflows/index.ts` exports). */
const WORKFLOW_TYPES = Object.entries(workflows)
  .filter(([name, v]) => typeof v === 'function' && name.endsWith('Workflow'))
  .map(([name]) => name)
  .sort();

/**
 * Runs every workflow type on the real stack and writes its history to `test/fixtures/histories/` (only with
 * `FABRICA_RECORD_HISTORIES=1`: `FABRICA_RECORD_HISTORIES=1 npm run jest -- test/integration/replay.test.ts`).
 */
async function record(): Promise<void> {
  const suffix = randomBytes(3).toString('hex');
  const records: RecordsDatabaseOptions = {
    adminUrl: testServices().databaseUrl,
    database: `records_replay_${suffix}`,
    reader: { role: `reader_replay_${suffix}`, password: 'reader-secret' },
  };
  const readerUrl = await ensureRecordsDatabase(records);
  const catalog = new CatalogService();
  const hook = await new WebhookReceiver().start();
  let env: FabricaTestEnv | undefined;
  try {
    env = await createTestEnv('replay', {
      sources: { RECORDS_DATABASE_URL: readerUrl, CATALOG_API_URL: await catalog.start() },
      alerts: {
        channels: [{ id: 'hook', type: 'webhook', url: hook.url(), format: 'json', minSeverity: 'warning' }],
        groupWaitSeconds: 1,
        repeatIntervalSeconds: 0,
        retryForSeconds: 60,
      },
    });
    const e = env;
    await generateMachineFiles({
      outDir: e.landingDir,
      from: '2026-11-16',
      to: '2026-11-16',
      machines: 2,
      seed: 5,
      itemsPerFile: 12,
      defects: 'none',
    });
    rmSync(path.join(e.landingDir, 'ground-truth.json'));
    await e.startWorker();
    const histories: Record<string, { workflowId: string; runId?: string }> = {};
    const tq = e.taskQueue;

    // A backfill of the day's 24 partitions (real runs), and a dry run of 240 partitions, 100 per workflow run: its
    // first run continued as new.
    const bf = await e.client.workflow.start(backfillWorkflow, {
      workflowId: `bf-replay-${e.id}`,
      taskQueue: tq,
      args: [
        {
          backfillId: 'replay',
          spec,
          from: '2026-11-16T06',
          to: '2026-11-16T17',
          mode: 'all',
          maxConcurrency: 4,
          entities: ['M01', 'M02'],
        },
      ],
    });
    await bf.result();
    histories.backfill = { workflowId: bf.workflowId };
    const dry = await e.client.workflow.start(backfillWorkflow, {
      workflowId: `bf-dry-replay-${e.id}`,
      taskQueue: tq,
      args: [
        {
          backfillId: 'replay-dry',
          spec,
          from: '2026-11-02T06',
          to: '2026-11-13T17',
          mode: 'all',
          dryRun: true,
          maxConcurrency: 4,
          entities: ['M01', 'M02'],
          partitionsPerRun: 100,
        },
      ],
    });
    await dry.result();
    histories['backfill-continued-as-new'] = { workflowId: dry.workflowId, runId: dry.firstExecutionRunId };
    histories['pipeline-run-loaded'] = { workflowId: `run:${spec.id}:M01@2026-11-16T10` };

    // A run with nothing landed: it fails as a data fault, raises an alert, which is delivered.
    const missing = await e.client.workflow.start(pipelineRunWorkflow, {
      workflowId: `run-missing-${e.id}`,
      taskQueue: tq,
      args: [{ spec, partition: 'M03@2026-11-16T10', runKind: 'manual', force: false }],
    });
    await missing.result().catch(() => undefined);
    histories['pipeline-run-failed'] = { workflowId: missing.workflowId };
    if (hook.requests.length === 0) await new Promise<void>((resolve) => hook.once('request', () => resolve()));
    for await (const w of e.client.workflow.list({
      query: `WorkflowType = 'alertDeliveryWorkflow' AND TaskQueue = '${tq}'`,
    }))
      histories['alert-delivery'] = { workflowId: w.workflowId };

    // Source syncs (database and HTTP), one of them through its schedule's parent workflow.
    for (const sourceId of ['maintenance-events', 'product-catalog']) {
      const source = getSource(sourceId)!;
      const handle = await e.client.workflow.start(
        sourceSyncWorkflow,
        sourceSyncStartOptions(source, { taskQueue: tq, workflowId: `sync-${sourceId}-${e.id}` }),
      );
      await handle.result();
      histories[`source-sync-${sourceId}`] = { workflowId: handle.workflowId };
    }
    const scheduled = await e.client.workflow.start(scheduledSourceSyncWorkflow, {
      workflowId: `scheduled-sync-${e.id}`,
      taskQueue: tq,
      args: [{ sourceId: 'maintenance-events', syncWorkflowId: `scheduled-sync-child-${e.id}` }],
    });
    await scheduled.result();
    histories['scheduled-source-sync'] = { workflowId: scheduled.workflowId };

    // A feature export.
    const exp = await e.client.workflow.start(featureExportWorkflow, {
      workflowId: `export-replay-${e.id}`,
      taskQueue: tq,
      args: [
        {
          exportId: `replay-${e.id}`,
          spec: productionEvents,
          from: '2026-11-16',
          to: '2026-11-16',
          format: 'parquet',
          training: false,
        },
      ],
    });
    await exp.result();
    histories['feature-export'] = { workflowId: exp.workflowId };

    // The scheduled hourly batch and the sweep, at fixed instants.
    const batch = await e.client.workflow.start(scheduledBatchWorkflow, {
      workflowId: `batch-replay-${e.id}`,
      taskQueue: tq,
      args: [{ spec, maxConcurrency: 2, at: '2026-11-16T14:05:00Z' }],
    });
    await batch.result();
    histories['scheduled-batch'] = { workflowId: batch.workflowId };
    const sweep = await e.client.workflow.start(sweepWorkflow, {
      workflowId: `sweep-replay-${e.id}`,
      taskQueue: tq,
      args: [{ spec, maxConcurrency: 2, at: '2026-11-16T21:00:00Z' }],
    });
    await sweep.result();
    histories.sweep = { workflowId: sweep.workflowId };

    // The landing sensor: a file landed after it started is dispatched; its history is taken while it runs.
    const sensor = await e.client.workflow.start(landingSensorWorkflow, {
      workflowId: `sensor-replay-${e.id}`,
      taskQueue: tq,
      args: [{ spec, intervalSeconds: 1, scansPerRun: 3 }],
    });
    await generateMachineFiles({
      outDir: e.landingDir,
      from: '2026-11-17',
      to: '2026-11-17',
      machines: 1,
      seed: 6,
      itemsPerFile: 12,
      defects: 'none',
    });
    const child = e.client.workflow.getHandle(`run:${spec.id}:M01@2026-11-17T06`);
    for (let i = 0; i < 600; i++) {
      const described = await child.describe().catch(() => undefined);
      if (described?.status.name === 'COMPLETED') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    histories['landing-sensor'] = { workflowId: sensor.workflowId, runId: sensor.firstExecutionRunId };
    // Let the first run finish its scans and continue as new, so its history is whole.
    for (let i = 0; i < 600; i++) {
      const first = await e.client.workflow.getHandle(sensor.workflowId, sensor.firstExecutionRunId).describe();
      if (first.status.name !== 'RUNNING') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await e.client.workflow.getHandle(sensor.workflowId).terminate('recorded');

    rmSync(FIXTURES, { recursive: true, force: true });
    mkdirSync(FIXTURES, { recursive: true });
    for (const [name, { workflowId, runId }] of Object.entries(histories)) {
      const history = await e.client.workflow.getHandle(workflowId, runId).fetchHistory();
      const message = History.fromObject(history);
      const json = History.toObject(message, { enums: String, longs: String, bytes: String });
      // The workflow id too: replay gives it to the code (ids of children derive from it).
      writeFileSync(path.join(FIXTURES, `${name}.json`), `${JSON.stringify({ workflowId, history: json })}\n`);
    }
  } finally {
    await env?.close();
    await catalog.stop();
    await hook.stop();
    await dropRecordsDatabase(records);
  }
}

/** The type of the workflow a recorded history ran (its first event's). */
function workflowType(history: temporal.api.history.v1.IHistory): string | undefined {
  return history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? undefined;
}

/**
 * Replay: every recorded history is replayed against the current workflow code, so a change that would break
 * workflows already running (a command added, removed or reordered without a patch) fails `npm test`.
 */
describe('workflow histories replay against the current code', () => {
  beforeAll(async () => {
    if (RECORD) await record();
  }, 600_000);

  const load = () =>
    readdirSync(FIXTURES)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => {
        const { workflowId, history } = JSON.parse(readFileSync(path.join(FIXTURES, f), 'utf8')) as {
          workflowId: string;
          history: Record<string, unknown>;
        };
        return { name: f.replace(/\.json$/, ''), workflowId, history: History.fromObject(history) };
      });

  it('has a recorded history of every workflow type the worker registers, and of a continue-as-new', () => {
    expect(existsSync(FIXTURES)).toBe(true);
    const all = load();
    const types = new Set(all.map((h) => workflowType(h.history)));
    const continued = all.filter(
      (h) =>
        h.history.events?.at(-1)?.eventType ===
        temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    );
    expect(continued.map((h) => h.name).sort()).toEqual(['backfill-continued-as-new', 'landing-sensor']);
    expect(WORKFLOW_TYPES.filter((t) => !types.has(t))).toEqual([]);
    expect(WORKFLOW_TYPES.length).toBeGreaterThanOrEqual(9);
  });

  it('replays each of them without a nondeterminism error', async () => {
    const histories = load();
    const results: { name: string; error?: string }[] = [];
    const replayed = Worker.runReplayHistories(
      // The bundle the test services built from the current workflow code (what a worker would run).
      { workflowBundle: { codePath: testServices().workflowBundle }, replayName: 'fabrica-replay' },
      histories.map((h) => ({ workflowId: h.workflowId, history: h.history })),
    );
    // Runs of one workflow (continued as new) would share its id: names are taken in order per id.
    const names = new Map<string, string[]>();
    for (const h of histories) names.set(h.workflowId, [...(names.get(h.workflowId) ?? []), h.name]);
    for await (const r of replayed) results.push({ name: names.get(r.workflowId)!.shift()!, error: r.error?.message });
    expect(results.filter((r) => r.error)).toEqual([]);
    expect(results.map((r) => r.name).sort()).toEqual(histories.map((h) => h.name).sort());
  }, 300_000);

  it('would catch a change that breaks a running workflow', async () => {
    // The loaded run's history against a workflow that schedules its activities in another order must fail.
    const [loaded] = load().filter((h) => h.name === 'pipeline-run-loaded');
    const broken = path.join(import.meta.dirname, '..', 'support', 'replay-broken-workflows.ts');
    const result = await Worker.runReplayHistory(
      { workflowsPath: broken, bundlerOptions: { webpackConfigHook }, replayName: 'fabrica-replay-broken' },
      loaded!.history,
      loaded!.workflowId,
    ).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(result?.name).toBe('DeterminismViolationError');
  }, 120_000);
});

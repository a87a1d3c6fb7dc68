import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import { lakeKeys } from '../../activities/lake-layout.js';
import { writeMachineHourFile } from '../../infra/generator/machine-files.js';
import { runWorkflowId } from '../../workflows/ids.js';
import { pipelineRunWorkflow } from '../../workflows/pipeline-run.workflow.js';
import { factoryMachineSignals as spec } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';
import { expectExactlyLoaded, filesUnder, waitFor } from '../support/fault-checks.js';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.js';

const { PendingActivityState } = proto.temporal.api.enums.v1;
const MiB = 1024 * 1024;
const ENOSPC = ': ENOSPC: no space left on device, write';
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The pending activity of a run of the given type, as the Temporal server describes it. */
async function pending(handle: WorkflowHandle, activity: string) {
  const d = await handle.describe();
  const a = (d.raw.pendingActivities ?? []).find((p) => p.activityType?.name === activity);
  return a && { attempt: a.attempt ?? 0, state: a.state, failure: a.lastFailure?.message ?? undefined };
}

/** What one case fills up, and what it expects while the disk is full. */
interface DiskFullCase {
  name: string;
  /** The folder mounted as a small tmpfs: the worker's TMPDIR or the lake (`FABRICA_LAKE_DIR`). */
  disk: 'tmp' | 'lake';
  /** The tmpfs size in MiB for a landed file of `rawMiB`. */
  sizeMiB: (rawMiB: number) => number;
  /** The activity that cannot write. */
  activity: 'ingestPartition' | 'stagePartition';
  /** The error it fails with, given the worker's temp dir, the lake dir and the staged key. */
  error: (p: { tmp: string; lake: string; stagedKey: string }) => RegExp;
  /** Top-level lake zones present meanwhile, and the steps recorded in ops.run_steps. */
  lake: string[];
  steps: string[];
}

/**
 * Issue 12, row 7: the worker's temp directory or the lake is on a full disk (a small tmpfs, mounted as root). The
 * step that cannot write is retried as an infrastructure fault with an error naming the file and ENOSPC, leaves
 * nothing partial and loads nothing; once space is freed (the tmpfs remounted bigger) the same run's next attempt
 * goes through and the partition loads exactly.
 */
describe.each<DiskFullCase>([
  {
    name: "the temp directory: ingest's copy of the landed file does not fit",
    disk: 'tmp',
    sizeMiB: (raw) => Math.floor(raw / 2),
    activity: 'ingestPartition',
    error: ({ tmp }) => new RegExp(`^writing ${escape(tmp)}/fabrica-step-[^/]+/landed${ENOSPC}$`),
    lake: [],
    steps: [],
  },
  {
    name: "the temp directory: stage's rows do not fit (ingest's copy does)",
    disk: 'tmp',
    sizeMiB: (raw) => Math.ceil(raw) + 2,
    activity: 'stagePartition',
    error: ({ tmp }) => new RegExp(`^writing ${escape(tmp)}/fabrica-step-[^/]+/staged\\.tsv${ENOSPC}$`),
    lake: ['v1/raw'],
    steps: ['ingest'],
  },
  {
    name: "the lake: stage's object does not fit (the raw file does)",
    disk: 'lake',
    sizeMiB: (raw) => Math.ceil(raw) + 2,
    activity: 'stagePartition',
    error: ({ lake, stagedKey }) => new RegExp(`^writing ${escape(`${lake}/${stagedKey}`)}${ENOSPC}$`),
    lake: ['v1/raw'],
    steps: ['ingest'],
  },
])('disk full under $name', (c) => {
  let env: FabricaTestEnv | undefined;
  let worker: WorkerProcess | undefined;
  let mounted: string | undefined;
  afterAll(async () => {
    try {
      await worker?.kill('SIGKILL');
    } finally {
      try {
        if (mounted) execFileSync('umount', [mounted]);
      } finally {
        await env?.close();
      }
    }
  });

  it('is retried with an error naming the file and ENOSPC, leaves nothing partial, loads exactly once space is freed', async () => {
    env = await createTestEnv(`disk_full_${c.disk}`);
    const partition = 'M02@2026-11-05T10';
    const { truth, files } = await writeMachineHourFile({
      outDir: env.landingDir,
      seed: 7,
      machines: 5,
      itemsPerFile: 100_000,
      defects: 'none',
      machine: 'M02',
      hourKey: '2026-11-05T10',
      defect: 'malformed',
    });
    expect(truth.outcome).toBe('loaded');
    expect(Object.keys(truth.quarantinedByReason).length).toBeGreaterThan(0);
    const landed = readFileSync(path.join(env.landingDir, files[0]!.path));
    const sha256 = createHash('sha256').update(landed).digest('hex');
    const tmp = path.join(env.lakeDir, '..', 'worker-tmp');
    mkdirSync(tmp, { recursive: true });
    const disk = c.disk === 'tmp' ? tmp : env.lakeDir;
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${c.sizeMiB(landed.length / MiB)}m`, 'tmpfs', disk]);
    mounted = disk;
    worker = spawnWorker({ ...env.processEnv(), TMPDIR: tmp, FABRICA_WORKER_METRICS_PORT: 'off' });
    await worker.polling();
    const handle = await env.client.workflow.start(pipelineRunWorkflow, {
      workflowId: `${runWorkflowId(spec.id, partition)}:${env.id}`,
      taskQueue: env.taskQueue,
      args: [{ spec, partition, runKind: 'manual' }],
    });

    // The state between two attempts of the failing step: the same attempt scheduled (not started) before and after
    // looking, so no attempt was writing meanwhile.
    const wh = env.deps.warehouse;
    const count = async (sql: string, db = wh) => (await db.query<{ n: number }>(sql)).rows[0]!.n;
    const { failure, attempt, seen } = await waitFor(
      `${c.activity} failing for lack of space, between two attempts`,
      async () => {
        const before = await pending(handle, c.activity);
        if (!before?.failure || before.state !== PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED) return;
        const zones = new Set<string>();
        for await (const o of env!.deps.lake.list('v1/')) zones.add(o.key.split('/').slice(0, 2).join('/'));
        const seen = {
          lake: [...zones],
          lakeWrites: filesUnder(path.join(env!.lakeDir, '.tmp')),
          tempFiles: filesUnder(tmp),
          events: await count('SELECT count(*)::int AS n FROM factory.production_events'),
          ledger: await count('SELECT count(*)::int AS n FROM ops.load_ledger'),
          movements: await count('SELECT count(*)::int AS n FROM inventory.movements', env!.deps.inventory),
          runs: (await wh.query('SELECT partition_key, status FROM ops.runs')).rows,
          steps: (await wh.query<{ step: string }>('SELECT step FROM ops.run_steps ORDER BY started_at')).rows.map(
            (r) => r.step,
          ),
        };
        const after = await pending(handle, c.activity);
        if (after?.state !== before.state || after.attempt !== before.attempt) return;
        return { failure: before.failure, attempt: before.attempt, seen };
      },
      { context: () => `worker:\n${worker?.output() ?? ''}` },
    );
    // Retried, not failed: the run is still running, on a later attempt of the step.
    expect(attempt).toBeGreaterThan(1);
    // Nothing partial: no object under a final key but the raw file (when it fitted), no write in flight, no temp
    // file, nothing loaded or served.
    expect(seen).toEqual({
      lake: c.lake,
      lakeWrites: [],
      tempFiles: [],
      events: 0,
      ledger: 0,
      movements: 0,
      runs: [{ partition_key: partition, status: 'running' }],
      steps: c.steps,
    });
    // A clear error: the file it could not write, and why.
    const stagedKey = lakeKeys.staged(spec.id, '_staged', partition, sha256);
    expect(failure).toMatch(c.error({ tmp, lake: env.lakeDir, stagedKey }));

    // Space freed: the same run's next attempt goes through, and the partition loads exactly.
    execFileSync('mount', ['-o', 'remount,size=256m', disk]);
    expect(await handle.result()).toMatchObject({ status: 'succeeded' });
    const step = c.activity === 'ingestPartition' ? 'ingest' : 'stage';
    const attempts = await wh.query<{ attempt: number }>('SELECT attempt FROM ops.run_steps WHERE step = $1', [step]);
    expect(attempts.rows[0]!.attempt).toBeGreaterThan(1);
    await expectExactlyLoaded(env, [truth], { tempDirs: [tmp] });
  }, 150_000);
});

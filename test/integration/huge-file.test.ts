import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { writeMachineHourFile } from '../../infra/generator/machine-files.js';
import type { PartitionTruth } from '../../infra/generator/ground-truth.js';
import { runWorkflowId } from '../../workflows/ids.js';
import { pipelineRunWorkflow } from '../../workflows/pipeline-run.workflow.js';
import { factoryMachineSignals as spec } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';
import { stockOnHand } from '../support/partition-state.js';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.js';

const MiB = 1024 * 1024;
/**
 * The bound on the worker's peak resident memory while it runs a file 100× the usual size: the worker's V8 heap is
 * capped at 256 MiB (`WORKER_NODE_FLAGS`) and the rest is Node, the Temporal core and I/O buffers; the same bound the
 * pipeline bench holds the worker to. The file itself (~84 MiB) plus its 1 M parsed rows as objects would not fit:
 * only streaming does.
 */
const PEAK_RSS_BOUND = 512 * MiB;

/** A field of /proc/<pid>/status in bytes (VmHWM: peak resident set size; VmRSS: current). */
function procStatus(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

/** Issue 12, row 11: "a file 100x the usual size: processed in bounded memory (streamed, never read whole)". */
describe('a machine file 100× the usual size', () => {
  let env: FabricaTestEnv;
  let worker: WorkerProcess | undefined;
  let truth: PartitionTruth;
  let fileBytes: number;

  beforeAll(async () => {
    env = await createTestEnv('huge');
    // The contract's usual file is ~10,000 items (~1 MB); this one has 100 times as many.
    const written = await writeMachineHourFile({
      outDir: env.landingDir,
      seed: 81,
      machines: 5,
      itemsPerFile: 10_000,
      hugeFactor: 100,
      defects: ['huge'],
      defect: 'huge',
      machine: 'M02',
      hourKey: '2026-11-20T11',
    });
    truth = written.truth;
    fileBytes = statSync(path.join(env.landingDir, written.files[0]!.path)).size;
  });
  afterAll(async () => {
    await worker?.kill('SIGKILL');
    await env.close();
  });

  it('is staged, loaded and served by a real worker process whose peak RSS stays under 512 MiB', async () => {
    expect(truth.parsed?.dataLines).toBe(1_000_000);
    expect(fileBytes).toBeGreaterThan(80 * MiB);
    worker = spawnWorker(env.processEnv());
    await worker.polling();
    const pid = worker.child.pid!;
    const idle = procStatus(pid, 'VmRSS');
    const partition = truth.partition;
    const outcome = await env.client.workflow.execute(pipelineRunWorkflow, {
      workflowId: `${runWorkflowId(spec.id, partition)}:${env.id}`,
      taskQueue: env.taskQueue,
      args: [{ spec, partition, runKind: 'manual' }],
    });
    // Read while the process is alive: the peak over its whole life, the run included.
    const peak = procStatus(pid, 'VmHWM');
    expect(outcome.status).toBe('succeeded');

    const events = await env.deps.warehouse.query<{ n: number; d: number }>(
      'SELECT count(*)::int AS n, count(DISTINCT item_seq)::int AS d FROM factory.production_events',
    );
    expect(events.rows[0]).toEqual({ n: truth.itemsLoaded, d: truth.itemsLoaded });
    const y = await env.deps.warehouse.query('SELECT items, ok, scrap, rework FROM factory.machine_yield_hourly');
    expect(y.rows).toEqual([
      { items: truth.yield!.items, ok: truth.yield!.ok, scrap: truth.yield!.scrap, rework: truth.yield!.rework },
    ]);
    expect(await stockOnHand(env)).toEqual(truth.okBySku);
    const stage = await env.deps.warehouse.query<{ rows_in: string; rows_out: string }>(
      "SELECT rows_in::text, rows_out::text FROM ops.run_steps WHERE step = 'stage'",
    );
    expect(stage.rows).toEqual([{ rows_in: '1000000', rows_out: String(truth.itemsLoaded) }]);

    const report = {
      idleMiB: Math.round(idle / MiB),
      peakMiB: Math.round(peak / MiB),
      fileMiB: Math.round(fileBytes / MiB),
    };
    process.stderr.write(`huge file: ${JSON.stringify(report)}\n`);
    expect(peak).toBeLessThanOrEqual(PEAK_RSS_BOUND);
  });
});

import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../../worker/config.js';
import { runWorkflowId } from '../../workflows/ids.js';
import { pipelineRunWorkflow } from '../../workflows/pipeline-run.workflow.js';
import { factoryMachineSignals as spec } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.js';

/** A free loopback TCP port (the OS picks it; the socket is closed before the worker binds it). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** GETs the exporter until every named series appears (bounded attempts), then returns the last body. */
async function scrapeUntil(port: number, names: string[], worker: WorkerProcess): Promise<string> {
  let body = '';
  for (let attempt = 0; attempt < 300; attempt++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      body = await res.text();
      if (res.ok && names.every((n) => new RegExp(`^${n}(\\{| )`, 'm').test(body))) return body;
    } catch {
      // Not listening yet.
    }
    if (worker.child.exitCode !== null) throw new Error(`worker exited:\n${worker.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`series ${names.join(', ')} not all exported; last scrape:\n${body}`);
}

/** The worker process serves the Temporal SDK's runtime metrics on FABRICA_WORKER_METRICS_PORT. */
describe('worker SDK metrics', () => {
  let env: FabricaTestEnv;
  let port: number;
  let worker: WorkerProcess | undefined;
  let second: WorkerProcess | undefined;

  beforeAll(async () => {
    env = await createTestEnv('wmetrics');
    port = await freePort();
  });
  afterAll(async () => {
    await second?.kill('SIGTERM');
    await worker?.kill('SIGTERM');
    await env.close();
  });

  it('reads the setting: a port, 0/off/empty for none, 9464 by default; a bad value names the setting', () => {
    const base = { FABRICA_HOME: env.landingDir };
    expect(loadConfig({ ...base, FABRICA_WORKER_METRICS_PORT: '9999' }).workerMetricsPort).toBe(9999);
    expect(loadConfig(base).workerMetricsPort).toBe(9464);
    for (const off of ['0', 'off', 'OFF', ''])
      expect(loadConfig({ ...base, FABRICA_WORKER_METRICS_PORT: off }).workerMetricsPort).toBeUndefined();
    for (const bad of ['abc', '70000', '-1', '9464x']) {
      const attempt = () => loadConfig({ ...base, FABRICA_WORKER_METRICS_PORT: bad });
      expect(attempt).toThrow(ConfigError);
      expect(attempt).toThrow(/FABRICA_WORKER_METRICS_PORT/);
    }
  });

  it('exports task slots, pollers and task latencies once the worker polls and runs a workflow', async () => {
    worker = spawnWorker({ ...env.processEnv(), FABRICA_WORKER_METRICS_PORT: String(port) });
    await worker.polling();
    // Polling alone exports the slot and poller gauges.
    const idle = await scrapeUntil(port, ['temporal_worker_task_slots_available', 'temporal_num_pollers'], worker);
    expect(idle).toMatch(new RegExp(`^temporal_worker_task_slots_available\\{[^}]*task_queue="${env.taskQueue}"`, 'm'));

    // A run (of a partition with no file: it ends at once) adds the workflow-task and activity latencies.
    const partition = 'M01@2026-11-04T09';
    const handle = await env.client.workflow.start(pipelineRunWorkflow, {
      workflowId: `${runWorkflowId(spec.id, partition)}:${env.id}`,
      taskQueue: env.taskQueue,
      args: [{ spec, partition, runKind: 'manual' }],
    });
    await handle.result().catch(() => undefined);
    const busy = await scrapeUntil(
      port,
      [
        'temporal_workflow_task_schedule_to_start_latency_bucket',
        'temporal_workflow_task_execution_latency_bucket',
        'temporal_activity_schedule_to_start_latency_bucket',
        'temporal_activity_execution_latency_bucket',
      ],
      worker,
    );
    expect(busy).toMatch(/^# TYPE temporal_activity_execution_latency histogram$/m);
  });

  it('keeps a second worker running without the exporter when the port is taken', async () => {
    second = spawnWorker({ ...env.processEnv(), FABRICA_WORKER_METRICS_PORT: String(port) });
    await second.polling();
    expect(second.output()).toContain('worker metrics exporter not started');
    expect(second.output()).toContain('FABRICA_WORKER_METRICS_PORT');
    // The first worker still answers on the port.
    await scrapeUntil(port, ['temporal_worker_task_slots_available'], worker!);
  });
});

/**
 * `npm run bench:scale`: the case's working day (15 machines × 12 hourly files) backfilled through `backfillWorkflow`
 * by 1, 2 and 4 worker processes sharing one task queue, each round into a fresh warehouse. Prints partitions/min and
 * the speed-up against 1 worker measured in the same run, and how many activities each worker ran (the `identity` of
 * the ActivityTaskStarted events in the runs' Temporal histories). FAILs when a round is not exact against the
 * generator's ground truth (a partition lost or doubled) or when, with 2 workers or more, a worker ran no activity.
 * The speed-up is reported, not checked: on a machine with fewer cores than workers it is bounded by the CPU.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, hostname, tmpdir } from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { generateMachineFiles } from '../infra/generator/machine-files.js';
import type { GroundTruth } from '../infra/generator/ground-truth.js';
import { startEphemeralServices } from '../infra/services/ephemeral.js';
import { backfillWorkflow } from '../workflows/backfill.workflow.js';
import { runWorkflowId } from '../workflows/ids.js';
import { factoryMachineSignals as spec } from '../workflows/pipelines/factory-machine-signals.pipeline.js';
import { mismatches } from './exactness.js';
import { check, deployment, fmt, startWorkerProcess, stopProcess, type Deployment } from './support.js';

const MACHINES = Number(process.env.BENCH_MACHINES ?? 15);
const ITEMS = Number(process.env.BENCH_ITEMS_PER_FILE ?? 5_000);
const WORKERS = (process.env.BENCH_WORKERS ?? '1,2,4').split(',').map(Number);
/** Activity slots of each worker process; the backfill keeps workers × slots partitions in flight. */
const SLOTS = Number(process.env.BENCH_WORKER_SLOTS ?? 4);
const DAY = '2026-11-16';
const { EventType } = proto.temporal.api.enums.v1;

interface Round {
  workers: number;
  seconds: number;
  partitions: number;
  /** Activities run per worker process, in start order. */
  activities: number[];
  /** Activities whose worker was none of the round's (should be 0). */
  strays: number;
  problems: string[];
}

/** Activities per worker identity over the runs of `partitions` (the latest run of each partition's workflow id). */
async function activitiesByIdentity(client: Client, partitions: string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const queue = [...partitions];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let p = queue.shift(); p; p = queue.shift()) {
        const history = await client.workflow.getHandle(runWorkflowId(spec.id, p)).fetchHistory();
        for (const e of history.events ?? []) {
          if (e.eventType !== EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) continue;
          const id = e.activityTaskStartedEventAttributes?.identity ?? '';
          counts.set(id, (counts.get(id) ?? 0) + 1);
        }
      }
    }),
  );
  return counts;
}

async function round(client: Client, d: Deployment, workers: number, truth: GroundTruth): Promise<Round> {
  const procs: ChildProcess[] = [];
  // One at a time: each bundles its workflows at start, and they would only slow each other down.
  for (let i = 0; i < workers; i++) procs.push(await startWorkerProcess(d.env));
  const partitions = Object.keys(truth.partitions);
  const started = performance.now();
  const result = await client.workflow.execute(backfillWorkflow, {
    workflowId: `bench-scale-${workers}`,
    taskQueue: d.env.FABRICA_TASK_QUEUE!,
    args: [
      {
        backfillId: `bench-scale-${workers}`,
        spec,
        from: `${DAY}T06`,
        to: `${DAY}T17`,
        entities: (spec.partitioning.entities ?? []).slice(0, MACHINES),
        mode: 'all',
        maxConcurrency: workers * SLOTS,
      },
    ],
  });
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(procs.map(stopProcess));
  if (result.failed > 0)
    throw new Error(`${workers} workers: ${result.failed} partitions failed: ${JSON.stringify(result.failures[0])}`);
  // A worker's identity is the SDK's default, `<pid>@<host>`.
  const byIdentity = await activitiesByIdentity(client, partitions);
  const identities = procs.map((p) => `${p.pid}@${hostname()}`);
  const activities = identities.map((id) => byIdentity.get(id) ?? 0);
  const strays = [...byIdentity].filter(([id]) => !identities.includes(id)).reduce((a, [, n]) => a + n, 0);
  const problems = await mismatches({ warehouse: d.warehouse, inventory: d.env.INVENTORY_DATABASE_URL! }, truth);
  return { workers, seconds, partitions: result.done, activities, strays, problems };
}

async function main(): Promise<void> {
  const s = await startEphemeralServices({ log: (l) => console.log(l) });
  const connection = await Connection.connect({ address: s.temporal.address });
  const client = new Client({ connection });
  const landing = mkdtempSync(path.join(tmpdir(), 'fabrica-bench-scale-landing-'));
  const deployments: Deployment[] = [];
  let ok = true;
  try {
    console.log(`generating ${MACHINES} machines × 12 hours × ~${fmt(ITEMS)} items for ${DAY}…`);
    const truth = await generateMachineFiles({
      outDir: landing,
      from: DAY,
      to: DAY,
      machines: MACHINES,
      seed: 13,
      itemsPerFile: ITEMS,
      defects: 'none',
    });
    const total = Object.keys(truth.partitions).length;
    const mb = truth.files.reduce((a, f) => a + f.bytes, 0) / 2 ** 20;
    console.log(`${fmt(total)} partitions, ${fmt(mb, 1)} MB, ${fmt(truth.totals.eventsLoaded)} rows\n`);

    const rounds: Round[] = [];
    for (const n of WORKERS) {
      const d = await deployment(s, `scale${n}`, landing);
      deployments.push(d);
      // Sensors, schedules and the exporters stay off: the backfill is the only work, and N workers share a host.
      Object.assign(d.env, {
        FABRICA_SCHEDULES: 'false',
        FABRICA_DEMO: 'false',
        FABRICA_WORKER_METRICS_PORT: 'off',
        FABRICA_WORKER_HEALTH_PORT: 'off',
        FABRICA_WORKER_ACTIVITY_SLOTS: String(SLOTS),
      });
      rounds.push(await round(client, d, n, truth));
    }

    const base = rounds[0]!;
    const rate = (r: Round) => (r.partitions / r.seconds) * 60;
    console.log('workers  partitions/min  speed-up  activities per worker');
    for (const r of rounds)
      console.log(
        `${String(r.workers).padStart(7)}  ${fmt(rate(r), 1).padStart(14)}  ${`${fmt(rate(r) / rate(base), 2)}×`.padStart(8)}  ${r.activities.map((a) => fmt(a)).join(' / ')}`,
      );
    console.log('');
    for (const r of rounds) {
      const exact = r.problems.length === 0 && r.partitions === total;
      console.log(
        `${exact ? 'PASS' : 'FAIL'}  ${r.workers} worker(s): ${fmt(r.partitions)}/${fmt(total)} partitions, events, yield and stock exact` +
          (exact ? '' : ` — ${r.problems.length} differences, first: ${r.problems.slice(0, 3).join('; ')}`),
      );
      ok = exact && ok;
      ok = check(`${r.workers} worker(s): activities run by no worker of the round`, r.strays, '<=', 0) && ok;
      if (r.workers >= 2)
        ok =
          check(`${r.workers} workers: activities of the least busy worker`, Math.min(...r.activities), '>=', 1) && ok;
    }
    console.log(
      `\nspeed-up at ${fmt(rounds.at(-1)!.workers)} workers: ${fmt(rate(rounds.at(-1)!) / rate(base), 2)}× ` +
        `(reported, not checked: bounded by this machine's ${availableParallelism()} cores)`,
    );
  } finally {
    rmSync(landing, { recursive: true, force: true });
    for (const d of deployments) rmSync(d.dir, { recursive: true, force: true });
    await connection.close();
    await s.stop();
  }
  process.exitCode = ok ? 0 : 1;
}

await main();

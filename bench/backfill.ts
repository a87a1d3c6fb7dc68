/**
 * `npm run bench:backfill`: a generated range of the factory case (default: a month, 15 machines × 22 working days ×
 * 12 hours = 3,960 files) backfilled through `backfillWorkflow` at maxConcurrency 1, 2 and 4, each into a fresh
 * warehouse, against the single-partition rate measured in the same run. Prints partitions/min, MB/s, orchestration
 * overhead and the worker's RSS, and extrapolates a year.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { generateMachineFiles } from '../infra/generator/machine-files.js';
import { startEphemeralServices } from '../infra/services/ephemeral.js';
import { backfillWorkflow } from '../workflows/backfill.workflow.js';
import { pipelineRunWorkflow } from '../workflows/pipeline-run.workflow.js';
import { factoryMachineSignals as spec } from '../workflows/pipelines/factory-machine-signals.pipeline.js';
import {
  check,
  deployment,
  fmt,
  peakRssMiB,
  rssMiB,
  startWorkerProcess,
  stopProcess,
  type Deployment,
} from './support.js';

const DAYS = Number(process.env.BENCH_DAYS ?? 22);
const MACHINES = Number(process.env.BENCH_MACHINES ?? 15);
const ITEMS = Number(process.env.BENCH_ITEMS_PER_FILE ?? 10_000);
const FROM = '2026-06-01';
const YEAR_PARTITIONS = 15 * 12 * 261;

/** The last working day of a run of `days` working days starting on Monday `from`. */
function lastDay(from: string, days: number): string {
  const d = new Date(`${from}T00:00:00Z`);
  for (let left = days; ; d.setUTCDate(d.getUTCDate() + 1)) {
    if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6 && --left === 0) return d.toISOString().slice(0, 10);
  }
}

interface Result {
  concurrency: number;
  seconds: number;
  partitions: number;
  busySeconds: number;
  rssHalf: number;
  rssEnd: number;
  peak: number;
}

async function busySeconds(d: Deployment): Promise<number> {
  const db = new pg.Client({ connectionString: d.warehouse });
  await db.connect();
  const res = await db.query<{ s: number }>('SELECT coalesce(sum(duration_ms), 0) / 1000.0 AS s FROM ops.run_steps');
  await db.end();
  return Number(res.rows[0]!.s);
}

async function backfillAt(
  client: Client,
  d: Deployment,
  concurrency: number,
  to: string,
  total: number,
): Promise<Result> {
  const worker = await startWorkerProcess(d.env);
  const started = performance.now();
  const handle = await client.workflow.start(backfillWorkflow, {
    workflowId: `bench-backfill-${concurrency}`,
    taskQueue: d.env.FABRICA_TASK_QUEUE!,
    args: [
      {
        backfillId: `bench-${concurrency}`,
        spec,
        from: `${FROM}T06`,
        to: `${to}T17`,
        entities: (spec.partitioning.entities ?? []).slice(0, MACHINES),
        mode: 'all',
        maxConcurrency: concurrency,
      },
    ],
  });
  let rssHalf = NaN;
  const sampler = setInterval(() => {
    void handle.query('backfillProgress').then(
      (p) => {
        const done = (p as { done: number }).done;
        if (Number.isNaN(rssHalf) && done >= total / 2) rssHalf = rssMiB(worker.pid!);
      },
      () => undefined,
    );
  }, 1000);
  const result = await handle.result();
  clearInterval(sampler);
  const seconds = (performance.now() - started) / 1000;
  const rssEnd = rssMiB(worker.pid!);
  const peak = peakRssMiB(worker.pid!);
  await stopProcess(worker);
  if (result.failed > 0)
    throw new Error(`backfill at ${concurrency} had ${result.failed} failures: ${JSON.stringify(result.failures[0])}`);
  return { concurrency, seconds, partitions: result.done, busySeconds: await busySeconds(d), rssHalf, rssEnd, peak };
}

async function main(): Promise<void> {
  const s = await startEphemeralServices({ log: (l) => console.log(l) });
  const connection = await Connection.connect({ address: s.temporal.address });
  const client = new Client({ connection });
  const landing = mkdtempSync(path.join(tmpdir(), 'fabrica-bench-landing-'));
  const deployments: Deployment[] = [];
  let ok = true;
  try {
    const to = lastDay(FROM, DAYS);
    console.log(
      `generating ${MACHINES} machines × ${DAYS} working days × 12 hours × ~${fmt(ITEMS)} items (${FROM}..${to})…`,
    );
    const truth = await generateMachineFiles({
      outDir: landing,
      from: FROM,
      to,
      machines: MACHINES,
      seed: 77,
      itemsPerFile: ITEMS,
      defects: 'none',
    });
    const mb = truth.files.reduce((a, f) => a + f.bytes, 0) / 2 ** 20;
    const total = Object.keys(truth.partitions).length;
    console.log(`${fmt(total)} partitions, ${fmt(mb, 1)} MB, ${fmt(truth.totals.eventsLoaded)} rows`);

    const single = await deployment(s, 'single', landing);
    deployments.push(single);
    const w = await startWorkerProcess(single.env);
    const t0 = performance.now();
    await client.workflow.execute(pipelineRunWorkflow, {
      workflowId: 'bench-single',
      taskQueue: single.env.FABRICA_TASK_QUEUE!,
      args: [{ spec, partition: Object.keys(truth.partitions)[0]!, runKind: 'manual' }],
    });
    const singleSeconds = (performance.now() - t0) / 1000;
    await stopProcess(w);
    console.log(`single partition alone: ${fmt(singleSeconds, 2)} s → ${fmt(60 / singleSeconds, 1)} partitions/min\n`);

    const results: Result[] = [];
    for (const c of [1, 2, 4]) {
      const d = await deployment(s, `c${c}`, landing);
      deployments.push(d);
      const r = await backfillAt(client, d, c, to, total);
      results.push(r);
      const ppm = (r.partitions / r.seconds) * 60;
      console.log(
        `maxConcurrency ${c}: ${fmt(r.seconds, 1)} s, ${fmt(ppm, 1)} partitions/min, ${fmt(mb / r.seconds, 1)} MB/s, ` +
          `worker RSS at half ${fmt(r.rssHalf)} MiB / at end ${fmt(r.rssEnd)} MiB (peak ${fmt(r.peak)} MiB); ` +
          `a year (${fmt(YEAR_PARTITIONS)} partitions) ≈ ${fmt(YEAR_PARTITIONS / ppm / 60, 1)} h`,
      );
    }
    const [c1, , c4] = results as [Result, Result, Result];
    const best = results.reduce((a, b) => (b.partitions / b.seconds > a.partitions / a.seconds ? b : a));
    const overhead = ((c1.seconds - c1.busySeconds) / c1.seconds) * 100;
    console.log(`\nat concurrency 1, ${fmt(c1.busySeconds, 1)} s of ${fmt(c1.seconds, 1)} s were inside activities`);
    ok =
      check(
        'best concurrency throughput / concurrency 1',
        best.partitions / best.seconds / (c1.partitions / c1.seconds),
        '>=',
        1.5,
        '×',
      ) && ok;
    console.log(
      `concurrency 1 runs at ${fmt((c1.partitions / c1.seconds) * singleSeconds, 2)}× the single partition's rate`,
    );
    ok = check('orchestration overhead at concurrency 1 (wall time outside activities)', overhead, '<=', 5, ' %') && ok;
    ok =
      check(
        'worker RSS growth from half to end of the range (concurrency 4)',
        c4.rssEnd / c4.rssHalf,
        '<=',
        1.2,
        '×',
      ) && ok;
  } finally {
    rmSync(landing, { recursive: true, force: true });
    for (const d of deployments) rmSync(d.dir, { recursive: true, force: true });
    await connection.close();
    await s.stop();
  }
  process.exitCode = ok ? 0 : 1;
}

await main();

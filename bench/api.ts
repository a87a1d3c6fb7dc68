/**
 * `npm run bench:api`: what the REST layer costs on the hottest write, starting a partition run. `POST
 * /pipelines/{id}/runs` through the real API (auth, validation, Nest, Express, one keep-alive HTTP connection per
 * client) against the bare Temporal client making the same `workflow.start`, at 1, 8 and 32 concurrent clients, on
 * the same Temporal server in the same run. Nobody polls the task queue, so runs stay open and every start is real.
 */
import { rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism } from 'node:os';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../api/app.js';
import { startEphemeralServices } from '../infra/services/ephemeral.js';
import { newApiKey } from '../worker/api-keys.js';
import { pipelineRunWorkflow } from '../workflows/pipeline-run.workflow.js';
import { runStartOptions } from '../workflows/start-options.js';
import { factoryMachineSignals as spec } from '../workflows/pipelines/factory-machine-signals.pipeline.js';
import { check, deployment, fmt } from './support.js';

const REQUESTS = Number(process.env.BENCH_API_REQUESTS ?? 400);
const WARM_UP = Number(process.env.BENCH_API_WARM_UP ?? 400);
const CONCURRENCY = [1, 8, 32];
const TASK_QUEUE = 'bench-api-nobody-polls';
/** `BENCH_TEMPORAL_DB=memory` runs the dev server without its SQLite file (the server, not the API, is the ceiling here). */
const IN_MEMORY = process.env.BENCH_TEMPORAL_DB === 'memory';

type Start = (partition: string) => Promise<void>;
interface Result {
  seconds: number;
  latenciesMs: number[];
}

let next = 0;
/** A partition never started before in this run (15 machines × consecutive hours from 2030), so each start is new. */
function freshPartition(): string {
  const i = next++;
  const hour = new Date(Date.UTC(2030, 0, 1) + Math.floor(i / 15) * 3_600_000).toISOString().slice(0, 13);
  return `M${String((i % 15) + 1).padStart(2, '0')}@${hour}`;
}

/** `concurrency` clients issue `n` starts in total, each waiting for its answer before the next. */
async function measure(start: Start, concurrency: number, n: number): Promise<Result> {
  const latenciesMs: number[] = [];
  let issued = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (issued < n) {
        issued++;
        const t0 = performance.now();
        await start(freshPartition());
        latenciesMs.push(performance.now() - t0);
      }
    }),
  );
  return { seconds: (performance.now() - began) / 1000, latenciesMs };
}

/** The same start the API makes (api/runs/runs.service.ts): options, search attributes, summary, deadline. */
function bareStart(client: Client): Start {
  return async (partition) => {
    await client.withDeadline(Date.now() + 5000, () =>
      client.workflow.start(
        pipelineRunWorkflow,
        runStartOptions(spec, partition, { taskQueue: TASK_QUEUE, runKind: 'manual' }),
      ),
    );
  };
}

/** `POST /pipelines/{id}/runs` over keep-alive connections; anything but 202 aborts the benchmark. */
function apiStart(port: number, key: string, agent: Agent): Start {
  const path = `/api/v1/pipelines/${spec.id}/runs`;
  return (partition) =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ partition });
      const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => (res.statusCode === 202 ? resolve() : reject(new Error(`${res.statusCode}: ${text}`))));
      });
      req.setHeader('content-type', 'application/json');
      req.setHeader('content-length', Buffer.byteLength(body));
      req.setHeader('x-api-key', key);
      req.on('error', reject);
      req.end(body);
    });
}

const quantile = (sorted: number[], q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? NaN;

/** Bare and API alternate in halves (bare, API, API, bare) so neither profits from the server's drift over time. */
async function compare(bare: Start, api: Start, c: number): Promise<Record<'api' | 'bare', Result>> {
  const half = Math.ceil(REQUESTS / 2);
  const runs = [
    ['bare', await measure(bare, c, half)],
    ['api', await measure(api, c, half)],
    ['api', await measure(api, c, REQUESTS - half)],
    ['bare', await measure(bare, c, REQUESTS - half)],
  ] as const;
  const merge = (kind: 'api' | 'bare'): Result => {
    const mine = runs.filter(([k]) => k === kind).map(([, r]) => r);
    return { seconds: mine.reduce((a, r) => a + r.seconds, 0), latenciesMs: mine.flatMap((r) => r.latenciesMs) };
  };
  return { api: merge('api'), bare: merge('bare') };
}

interface Row {
  who: string;
  c: number;
  rate: number;
  p50: number;
  p99: number;
}

function row(who: string, c: number, r: Result): Row {
  const sorted = [...r.latenciesMs].sort((a, b) => a - b);
  return { who, c, rate: sorted.length / r.seconds, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) };
}

function printTable(rows: Row[]): void {
  console.log(
    `\n${'starts'.padEnd(26)}${'clients'.padStart(8)}${'starts/s'.padStart(10)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}`,
  );
  for (const r of rows) {
    console.log(
      `${r.who.padEnd(26)}${String(r.c).padStart(8)}${fmt(r.rate, 1).padStart(10)}${fmt(r.p50, 2).padStart(9)}${fmt(r.p99, 2).padStart(9)}`,
    );
  }
  console.log('');
}

/** Services, a deployment (migrated databases) and the API listening on a free port with one operator key. */
async function setUp() {
  const s = await startEphemeralServices({ log: (l) => console.log(l), temporalInMemory: IN_MEMORY });
  const d = await deployment(s, 'api');
  const { key, entry } = newApiKey('bench', 'operator');
  Object.assign(process.env, d.env, {
    FABRICA_TASK_QUEUE: TASK_QUEUE,
    FABRICA_DEMO: 'false',
    FABRICA_API_KEYS: entry,
    // The limiter would refuse a benchmark's burst; its cost per request stays in the measurement.
    FABRICA_RATE_LIMIT_PER_MINUTE: '1000000000',
  });
  const app = await createApp({ logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const connection = await Connection.connect({ address: s.temporal.address });
  const tearDown = async () => {
    await app.close();
    await connection.close();
    await s.stop();
    rmSync(d.dir, { recursive: true, force: true });
  };
  return { port, key, client: new Client({ connection }), tearDown };
}

async function main(): Promise<void> {
  const { port, key, client, tearDown } = await setUp();
  const agents: Agent[] = [];
  const api = (c: number) => {
    const agent = new Agent({ keepAlive: true, maxSockets: c });
    agents.push(agent);
    return apiStart(port, key, agent);
  };
  let ok = true;
  try {
    const bare = bareStart(client);
    // Warm-up: connections, the server's caches and, above all, the JIT, which Nest, Express and the validators need
    // far more than the bare client does; measuring cold code would charge start-up to the API.
    await measure(bare, 8, WARM_UP);
    await measure(api(8), 8, WARM_UP);
    const rows: [Row, Row][] = [];
    for (const c of CONCURRENCY) {
      const r = await compare(bare, api(c), c);
      rows.push([row('API POST /pipelines/…/runs', c, r.api), row('bare client.workflow.start', c, r.bare)]);
    }
    console.log(
      `\n${availableParallelism()} CPUs; Temporal dev server on SQLite (${IN_MEMORY ? 'in memory' : 'file'}); ${REQUESTS} starts per row`,
    );
    printTable(rows.flat());
    for (const [a, b] of rows)
      ok = check(`API p50 / bare p50 at ${a.c} client${a.c > 1 ? 's' : ''}`, a.p50 / b.p50, '<=', 1.2) && ok;
    ok = check('API starts/s at 32 clients', rows.find(([a]) => a.c === 32)![0].rate, '>=', 200) && ok;
  } finally {
    for (const a of agents) a.destroy();
    await tearDown();
  }
  process.exitCode = ok ? 0 : 1;
}

await main();

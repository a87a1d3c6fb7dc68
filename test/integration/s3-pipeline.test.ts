import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import proto from '@temporalio/proto';
import type { PartitionTruth } from '../../infra/generator/ground-truth.js';
import { generateMachineFiles, writeMachineHourFile } from '../../infra/generator/machine-files.js';
import { startMinio } from '../../infra/services/minio.js';
import { freePort, isPortFree } from '../../infra/services/ports.js';
import type { ManagedProcess } from '../../infra/services/process.js';
import { ensureGoTool, MINIO } from '../../infra/services/tools.js';
import { lakeKeys } from '../../activities/lake-layout.js';
import type { PartitionDefect } from '../../infra/generator/defects.js';
import { runWorkflowId } from '../../workflows/ids.js';
import { factoryMachineSignals as spec } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';
import { deliverToStore, expectMatchesTruth, startSensor, waitQuiet } from '../support/factory-checks.js';
import { expectExactlyLoaded, filesUnder, waitFor } from '../support/fault-checks.js';
import { testServices } from '../support/services.js';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.js';

const { PendingActivityState } = proto.temporal.api.enums.v1;

/**
 * Issue 12, row 3: the lake AND the landing area on S3 (MinIO), end to end through a real worker process; then
 * MinIO killed (SIGKILL) during ingest and during stage and restarted; then a fault proxy that delays S3 answers and
 * answers 503 SlowDown for a while. Each test has its own env (databases, bucket, task queue) and its own day, so
 * their runs' workflow ids never meet.
 */
describe('the lake and the landing area on S3 (MinIO)', () => {
  let env: FabricaTestEnv | undefined;
  let worker: WorkerProcess | undefined;
  let stopSensor: (() => Promise<void>) | undefined;
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'fabrica-s3-pipeline-'));
  });
  afterEach(async () => {
    await stopSensor?.();
    stopSensor = undefined;
    await worker?.kill('SIGKILL');
    worker = undefined;
    await env?.close();
    env = undefined;
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A worker process on the env (S3 lake and landing), its temp folder its own; `endpoint` overrides S3_ENDPOINT. */
  const startWorker = async (e: FabricaTestEnv, name: string, endpoint?: string) => {
    const workerTmp = path.join(dir, `${name}-tmp`);
    mkdirSync(workerTmp);
    worker = spawnWorker({
      ...e.processEnv(),
      ...(endpoint ? { S3_ENDPOINT: endpoint } : {}),
      TMPDIR: workerTmp,
      FABRICA_WORKER_METRICS_PORT: 'off',
    });
    await worker.polling();
    return workerTmp;
  };
  const logs = () => `worker:\n${worker?.output() ?? ''}`;

  it('a generated day PUT into the S3 landing area: the sensor finds it, and warehouse, inventory and lake match the ground truth', async () => {
    env = await createTestEnv('s3_day', { s3: true });
    const genDir = path.join(dir, 'day');
    const truth = await generateMachineFiles({
      outDir: genDir,
      from: '2026-11-02',
      to: '2026-11-02',
      machines: 3,
      seed: 31,
      itemsPerFile: 150,
      defects: 'all',
    });
    const outcomes = new Set(Object.values(truth.partitions).map((p) => p.outcome));
    expect([...outcomes].sort()).toEqual(['contract_broken', 'incomplete', 'loaded', 'missing', 'quality_failed']);
    const workerTmp = await startWorker(env, 's3-day');
    const onTime = await deliverToStore(genDir, env);
    stopSensor = await startSensor(env, spec);
    await waitQuiet(env, onTime);
    const late = await deliverToStore(genDir, env, 'late');
    expect(late).toBeGreaterThan(0);
    await waitQuiet(env, onTime + late);

    await expectMatchesTruth(env, truth);
    // Every failed partition failed for its data, with its type; a truncated file (no trailer) never starts a run,
    // one whose trailer's checksum is wrong fails as incomplete.
    const failed = await env.deps.warehouse.query<{ failure_type: string; n: number }>(
      "SELECT failure_type, count(DISTINCT partition_key)::int AS n FROM ops.runs WHERE status = 'failed' GROUP BY 1 ORDER BY 1",
    );
    const all = Object.values(truth.partitions);
    const by = (o: string) => all.filter((p) => p.outcome === o).length;
    const checksum = all.filter((p) => p.defect === 'checksum').length;
    expect(checksum).toBeGreaterThan(0);
    expect(failed.rows).toEqual([
      { failure_type: 'ContractBroken', n: by('contract_broken') },
      { failure_type: 'DataQualityThresholdExceeded', n: by('quality_failed') },
      { failure_type: 'IncompleteFile', n: checksum },
    ]);
    const truncated = all.filter((p) => p.defect === 'incomplete').map((p) => p.partition);
    expect(truncated.length).toBeGreaterThan(0);
    const truncatedRuns = await env.deps.warehouse.query('SELECT 1 FROM ops.runs WHERE partition_key = ANY($1)', [
      truncated,
    ]);
    expect(truncatedRuns.rowCount).toBe(0);
    // It all went through S3: lineage from the S3 landing area into the S3 lake, nothing in the env's folders.
    const s3 = env.s3!;
    const ingestLineage = await env.deps.warehouse.query<{ input_uri: string; output_uri: string }>(
      "SELECT input_uri, output_uri FROM ops.lineage WHERE step = 'ingest'",
    );
    expect(ingestLineage.rows.length).toBeGreaterThan(0);
    for (const r of ingestLineage.rows) {
      expect(r.input_uri.startsWith(`s3://${s3.bucket}/landing/`)).toBe(true);
      expect(r.output_uri.startsWith(`s3://${s3.bucket}/lake/v1/raw/`)).toBe(true);
    }
    expect({ lake: filesUnder(env.lakeDir), landing: filesUnder(env.landingDir) }).toEqual({ lake: [], landing: [] });
    await expectCleanLake(env, Object.values(truth.partitions), [workerTmp]);
  }, 180_000);

  it('MinIO killed (SIGKILL) during ingest and during stage, restarted on the same data and port: every run completes exactly', async () => {
    const ownDir = path.join(dir, 'own-minio');
    const port = await freePort();
    const consolePort = await freePort();
    const { s3: shared } = testServices();
    const binary = await ensureGoTool(MINIO);
    let minio: ManagedProcess | undefined;
    const boot = async () => {
      await waitFor(`port ${port} free`, () => isPortFree(port));
      minio = await startMinio({
        binary,
        dataDir: path.join(ownDir, 'data'),
        port,
        consolePort,
        accessKeyId: shared.accessKeyId,
        secretAccessKey: shared.secretAccessKey,
        logFile: path.join(ownDir, 'minio.log'),
      });
    };
    const kill = async () => {
      await minio!.stop('SIGKILL');
      expect(await minio!.exited).toBe('SIGKILL');
    };
    try {
      await boot();
      env = await createTestEnv('s3_minio_kill', { s3: { endpoint: `http://127.0.0.1:${port}` } });
      const genDir = path.join(dir, 'kill');
      // Files large enough that ingest and stage spend their time streaming to and from S3.
      const truths = await hourFiles(genDir, '2026-11-03T10', 200_000, [['M01', 'duplicate'], ['M02']]);
      const workerTmp = await startWorker(env, 's3-kill');
      const landed = await deliverToStore(genDir, env);
      stopSensor = await startSensor(env, spec);
      const e = env;
      const pending = async (type: string) => {
        const found = [];
        for (const t of truths) {
          const d = await e.client.workflow
            .getHandle(runWorkflowId(spec.id, t.partition))
            .describe()
            .catch(() => undefined);
          for (const a of d?.raw.pendingActivities ?? []) {
            if (a.activityType?.name === type) found.push({ partition: t.partition, ...a });
          }
        }
        return found;
      };
      const s3 = new S3Client({
        endpoint: e.s3!.endpoint,
        region: e.s3!.region,
        forcePathStyle: true,
        credentials: { accessKeyId: e.s3!.accessKeyId, secretAccessKey: e.s3!.secretAccessKey },
        maxAttempts: 1,
      });
      // MinIO lists unfinished uploads by bucket or by exact key only, not by a shorter prefix.
      const uploadingRaw = async () =>
        ((await s3.send(new ListMultipartUploadsCommand({ Bucket: e.s3!.bucket }))).Uploads ?? []).some((u) =>
          u.Key?.startsWith('lake/v1/raw/'),
        );
      // Ingest is killed while it streams the landed file into the raw zone (a multipart upload is open); stage while
      // it reads the raw file.
      for (const [type, moment] of [
        ['ingestPartition', uploadingRaw],
        ['stagePartition', () => Promise.resolve(true)],
      ] as const) {
        const started = await waitFor(
          `a ${type} started`,
          async () => {
            const running = (await pending(type)).filter(
              (a) => a.state === PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
            );
            return running.length > 0 && (await moment()) && running;
          },
          { everyMs: 20, context: logs },
        );
        await kill();
        // The step met the outage: its attempt failed and Temporal schedules the next one.
        const victim = started[0]!.partition;
        const failedAttempt = await waitFor(
          `${type} of ${victim} failing while MinIO is down`,
          async () => (await pending(type)).find((a) => a.partition === victim && (a.attempt ?? 1) >= 2),
          { context: logs },
        );
        expect(failedAttempt.lastFailure?.message ?? '').not.toBe('');
        await boot();
      }
      s3.destroy();
      await waitQuiet(env, landed);
      const attempts = await env.deps.warehouse.query<{ step: string; attempt: number }>(
        "SELECT step, max(attempt)::int AS attempt FROM ops.run_steps WHERE step IN ('ingest', 'stage') GROUP BY 1 ORDER BY 1",
      );
      expect(attempts.rows.map((r) => ({ step: r.step, retried: r.attempt >= 2 }))).toEqual([
        { step: 'ingest', retried: true },
        { step: 'stage', retried: true },
      ]);
      await expectExactlyLoaded(env, truths, { tempDirs: [workerTmp] });
      await expectCleanLake(env, truths, [workerTmp]);
    } finally {
      await stopSensor?.();
      stopSensor = undefined;
      await worker?.kill('SIGKILL');
      worker = undefined;
      await env?.close();
      env = undefined;
      await minio?.stop('SIGKILL');
    }
  }, 240_000);

  it('a fault proxy delays S3 answers and answers 503 SlowDown for a while: the SDK and the steps retry, the runs complete exactly', async () => {
    env = await createTestEnv('s3_proxy', { s3: true });
    const genDir = path.join(dir, 'proxy');
    const truths = await hourFiles(genDir, '2026-11-04T08', 800, [['M01', 'malformed'], ['M02', 'duplicate'], ['M03']]);
    const upstream = new URL(env.s3!.endpoint);
    const proxy = await startFaultProxy(Number(upstream.port), `/${env.s3!.bucket}/lake/v1/raw/`);
    try {
      const workerTmp = await startWorker(env, 's3-proxy', proxy.url);
      const landed = await deliverToStore(genDir, env);
      stopSensor = await startSensor(env, spec);
      await waitQuiet(env, landed);
      const st = proxy.stats;
      // The proxy did inject: delays, first-attempt 503s, and one read refused on every SDK attempt.
      expect(st.delayed).toBeGreaterThan(0);
      expect(st.slowDown.length).toBeGreaterThan(0);
      expect(st.poisoned.attempts).toEqual([1, 2, 3]);
      expect(st.passedAfterWindow).toBeGreaterThan(0);
      // The SDK retried every injected 503 it could: the same invocation came back with a later attempt, answered.
      for (const id of st.slowDown) {
        if (id === st.poisoned.invocation) continue;
        const later = st.answers.filter((a) => a.invocation === id && a.attempt >= 2 && a.status < 500);
        expect({ id, retriedAndAnswered: later.length > 0 }).toEqual({ id, retriedAndAnswered: true });
      }
      // The read whose SDK retries were all refused failed its stage attempt; Temporal retried the step.
      const sha = st.poisoned.path
        .split('/')
        .pop()!
        .replace(/\.txt$/, '');
      const victim = truths.find((t) => sha256(readFileSync(path.join(genDir, t.files[0]!))) === sha);
      expect(victim).toBeDefined();
      const stage = await env.deps.warehouse.query<{ attempt: number }>(
        "SELECT s.attempt FROM ops.run_steps s JOIN ops.runs r USING (run_id) WHERE s.step = 'stage' AND r.partition_key = $1",
        [victim!.partition],
      );
      expect(stage.rows.map((r) => r.attempt >= 2)).toEqual([true]);
      await expectExactlyLoaded(env, truths, { tempDirs: [workerTmp] });
      await expectCleanLake(env, truths, [workerTmp]);
    } finally {
      await proxy.close();
    }
  }, 180_000);
});

/** Writes one file per machine for one hour (a defect where given); every partition loads. */
async function hourFiles(
  outDir: string,
  hourKey: string,
  itemsPerFile: number,
  machines: readonly (readonly [string, PartitionDefect?])[],
): Promise<PartitionTruth[]> {
  const written = await Promise.all(
    machines.map(([machine, defect]) =>
      writeMachineHourFile({
        outDir,
        seed: 33,
        machines: 5,
        itemsPerFile,
        defects: 'none',
        machine,
        hourKey,
        ...(defect ? { defect } : {}),
      }),
    ),
  );
  const truths = written.map((w) => w.truth);
  expect(truths.map((t) => t.outcome)).toEqual(machines.map(() => 'loaded'));
  return truths;
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function readAll(env: FabricaTestEnv, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await env.deps.lake.get(key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Nothing partial and nothing left behind on S3: no unfinished multipart upload in the bucket, every raw object
 * holds exactly the bytes its content hash names, every loaded partition's staged object holds one line per loaded
 * event, and the worker's temp folders are empty.
 */
async function expectCleanLake(env: FabricaTestEnv, truths: readonly PartitionTruth[], tempDirs: string[]) {
  const s3 = env.s3!;
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  const keys: string[] = [];
  for await (const o of env.deps.lake.list('')) keys.push(o.key);
  try {
    // MinIO leaves an upload begun before a restart out of the bucket-wide listing, but lists it by its exact key.
    const unfinished = new Set<string>();
    const listed = await client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket }));
    for (const u of listed.Uploads ?? []) unfinished.add(u.Key!);
    for (const key of keys) {
      const full = `${s3.lakePrefix}/${key}`;
      const byKey = await client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: full }));
      for (const u of byKey.Uploads ?? []) if (u.Key === full) unfinished.add(u.Key);
    }
    expect({ unfinishedUploads: [...unfinished].sort() }).toEqual({ unfinishedUploads: [] });
  } finally {
    client.destroy();
  }
  const raw = keys.filter((k) => k.startsWith(`v1/raw/${spec.id}/`));
  expect(raw.length).toBeGreaterThan(0);
  for (const key of raw) {
    const named = key
      .split('/')
      .pop()!
      .replace(/\.txt$/, '');
    expect({ key, sha256: sha256(await readAll(env, key)) }).toEqual({ key, sha256: named });
  }
  const published = new Map(
    (
      await env.deps.warehouse.query<{ partition_key: string; content_sha256: string }>(
        "SELECT partition_key, content_sha256 FROM ops.partition_state WHERE dataset = 'production_events'",
      )
    ).rows.map((r) => [r.partition_key, r.content_sha256]),
  );
  for (const t of truths.filter((p) => p.outcome === 'loaded')) {
    const key = lakeKeys.staged(spec.id, '_staged', t.partition, published.get(t.partition)!);
    expect(keys).toContain(key);
    const lines = (await readAll(env, key)).toString('utf8').split('\n').filter(Boolean).length;
    expect({ key, lines }).toEqual({ key, lines: t.itemsLoaded });
  }
  for (const d of tempDirs) expect({ d, files: readdirSync(d) }).toEqual({ d, files: [] });
}

/** What the fault proxy did. */
interface ProxyStats {
  requests: number;
  delayed: number;
  /** Invocation ids whose first attempt was answered 503 SlowDown. */
  slowDown: string[];
  /** The one read of a raw object refused on every attempt. */
  poisoned: { invocation?: string; path: string; attempts: number[] };
  /** Every answer the client got: its SDK invocation, attempt and status. */
  answers: { invocation: string; attempt: number; status: number }[];
  passedAfterWindow: number;
}

const FAULT_WINDOW_REQUESTS = 60;
const DELAY_MS = 150;

/**
 * An HTTP proxy in front of MinIO. For its first {@link FAULT_WINDOW_REQUESTS} requests (and until it has refused one
 * read of a raw object, `poisonPrefix`, on every SDK attempt) it delays every answer, and answers every third first
 * attempt with 503 SlowDown; then it passes everything. Requests are forwarded byte for byte (the Host header too, so
 * the SigV4 signatures stay valid).
 */
async function startFaultProxy(upstreamPort: number, poisonPrefix: string) {
  const stats: ProxyStats = {
    requests: 0,
    delayed: 0,
    slowDown: [],
    poisoned: { path: '', attempts: [] },
    answers: [],
    passedAfterWindow: 0,
  };
  const inWindow = () => stats.requests <= FAULT_WINDOW_REQUESTS || stats.poisoned.attempts.length < 3;
  const server = http.createServer((req, res) => {
    stats.requests++;
    const invocation = String(req.headers['amz-sdk-invocation-id'] ?? '');
    const attempt = Number(/attempt=(\d+)/.exec(String(req.headers['amz-sdk-request'] ?? ''))?.[1] ?? 1);
    const answer = (status: number) => stats.answers.push({ invocation, attempt, status });
    const slowDown = () => {
      req.resume();
      req.on('end', () => {
        answer(503);
        const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>fault-proxy-${stats.requests}</RequestId></Error>`;
        res.writeHead(503, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
        res.end(req.method === 'HEAD' ? undefined : body);
      });
    };
    const faulty = inWindow();
    if (faulty) {
      const url = req.url ?? '';
      if (req.method === 'GET' && url.startsWith(poisonPrefix) && stats.poisoned.invocation === undefined) {
        stats.poisoned.invocation = invocation;
        stats.poisoned.path = url.split('?')[0]!;
      }
      if (invocation !== '' && invocation === stats.poisoned.invocation) {
        stats.poisoned.attempts.push(attempt);
        return slowDown();
      }
      if (attempt === 1 && stats.requests % 3 === 0) {
        stats.slowDown.push(invocation);
        return slowDown();
      }
    } else {
      stats.passedAfterWindow++;
    }
    const up = http.request(
      { host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers },
      (ur) => {
        const send = () => {
          answer(ur.statusCode ?? 0);
          res.writeHead(ur.statusCode ?? 502, ur.headers);
          ur.pipe(res);
        };
        if (faulty) {
          stats.delayed++;
          setTimeout(send, DELAY_MS);
        } else send();
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

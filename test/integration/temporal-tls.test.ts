import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { writeMachineHourFile } from '../../infra/generator/machine-files.js';
import { projectRoot } from '../../infra/paths.js';
import { freePort } from '../../infra/services/ports.js';
import { runWorkflowId } from '../../workflows/ids.js';
import { pipelineRunWorkflow } from '../../workflows/pipeline-run.workflow.js';
import { factoryMachineSignals as spec } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import { runCli } from '../support/cli-process.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';
import { waitFor } from '../support/fault-checks.js';
import { testServices } from '../support/services.js';
import { createTestPki, type TestPki } from '../support/tls-certs.js';
import { startApiKeyProxy, startTlsProxy, type TestProxy } from '../support/tls-proxy.js';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.js';

/**
 * Temporal over TLS, mTLS and an API key, against the real dev server behind TLS-terminating proxies (the dev server
 * speaks plaintext): the worker and the API processes connect and run through them, and every way of getting the
 * connection wrong stops start-up with one line naming the setting, exit code 78, no stack trace.
 */
let env: FabricaTestEnv;
let pki: TestPki;
let mtls: TestProxy;
let otherName: TestProxy;
let keyed: TestProxy;
const API_KEY = 'tcloud-test-key-0123456789';
const children: ChildProcess[] = [];

beforeAll(async () => {
  env = await createTestEnv('tls');
  pki = createTestPki();
  const upstream = testServices().temporalAddress;
  const pem = (f: string) => readFileSync(f);
  mtls = await startTlsProxy(upstream, {
    cert: pem(pki.serverCert),
    key: pem(pki.serverKey),
    clientCa: pem(pki.caCert),
  });
  otherName = await startTlsProxy(upstream, { cert: pem(pki.otherNameCert), key: pem(pki.otherNameKey) });
  keyed = await startApiKeyProxy(upstream, { cert: pem(pki.serverCert), key: pem(pki.serverKey), apiKey: API_KEY });
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all([mtls?.close(), otherName?.close(), keyed?.close()]);
  await env?.close();
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
});

/** The env's worker/API environment, pointed at `address` with the given Temporal settings. */
function processEnv(address: string, temporal: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...env.processEnv(),
    TEMPORAL_ADDRESS: address,
    FABRICA_WORKER_METRICS_PORT: 'off',
    FABRICA_WORKER_HEALTH_PORT: 'off',
    ...temporal,
  };
}

const withClientCert = () => ({
  TEMPORAL_TLS_CA_FILE: pki.caCert,
  TEMPORAL_TLS_CERT_FILE: pki.clientCert,
  TEMPORAL_TLS_KEY_FILE: pki.clientKey,
});

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Asserts the process stopped with exit code 78 and exactly one error line, `<setting>: …`, and no stack trace. */
function expectOneLineConfigError(output: string, code: number | null, setting: string): string {
  // Node's own deprecation warnings (grpc-js sets an IP address as TLS server name) are not our error lines.
  const lines = output.split('\n').filter((l) => l && !/^\(node:\d+\)|^\(Use `node/.test(l));
  const errors = lines.filter((l) => /"level":"error"/.test(l) || !l.startsWith('{'));
  expect({ code, errors: errors.length }).toEqual({ code: 78, errors: 1 });
  const msg = (JSON.parse(errors[0]!) as { msg: string }).msg;
  expect(msg.startsWith(`${setting}: `)).toBe(true);
  expect(output).not.toMatch(/^\s+at /m);
  return msg;
}

async function workerFails(temporal: NodeJS.ProcessEnv, setting: string, address = mtls.address): Promise<string> {
  const w = spawnWorker(processEnv(address, temporal));
  children.push(w.child);
  const code = await exitOf(w.child);
  return expectOneLineConfigError(w.output(), code, setting);
}

/** Spawns the real API process (`dist/api/main.js`) on a free port. */
async function spawnApi(extra: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; base: string; output(): string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(projectRoot, 'dist', 'api', 'main.js')], {
    env: { ...extra, FABRICA_API_PORT: String(port), FABRICA_API_HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return { child, base: `http://127.0.0.1:${port}/api/v1`, output: () => out };
}

async function apiReady(api: Awaited<ReturnType<typeof spawnApi>>): Promise<{ status: number; body: unknown }> {
  return waitFor(
    'the API to answer its readiness',
    async () => {
      if (api.child.exitCode !== null) throw new Error(`API exited ${api.child.exitCode}:\n${api.output()}`);
      const res = await fetch(`${api.base}/health/ready`).catch(() => undefined);
      return res ? { status: res.status, body: await res.json() } : undefined;
    },
    { timeoutMs: 60_000, context: api.output },
  );
}

describe('Temporal over mutual TLS', () => {
  it('a worker process polls through mTLS and runs a partition; the API is ready through it', async () => {
    const { truth } = await writeMachineHourFile({
      outDir: env.landingDir,
      seed: 71,
      machines: 3,
      itemsPerFile: 400,
      defects: 'none',
      machine: 'M02',
      hourKey: '2026-11-04T09',
    });
    const w: WorkerProcess = spawnWorker(processEnv(mtls.address, withClientCert()));
    children.push(w.child);
    await w.polling();
    const handle = await env.client.workflow.start(pipelineRunWorkflow, {
      workflowId: `${runWorkflowId(spec.id, truth.partition)}:${env.id}`,
      taskQueue: env.taskQueue,
      args: [{ spec, partition: truth.partition, runKind: 'manual' }],
    });
    expect(await handle.result()).toMatchObject({ status: 'succeeded' });
    const rows = await env.deps.warehouse.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM factory.production_events',
    );
    expect(rows.rows[0]!.n).toBe(truth.itemsLoaded);
    const api = await spawnApi(processEnv(mtls.address, withClientCert()));
    expect(await apiReady(api)).toMatchObject({ status: 200, body: { status: 'ready', down: [] } });
    await w.kill('SIGTERM');
    expect(w.child.exitCode).toBe(0);
  });

  it('a client certificate missing, or signed by another CA, is refused: TEMPORAL_TLS_CERT_FILE', async () => {
    await workerFails({ TEMPORAL_TLS_CA_FILE: pki.caCert }, 'TEMPORAL_TLS_CERT_FILE');
    const msg = await workerFails(
      {
        TEMPORAL_TLS_CA_FILE: pki.caCert,
        TEMPORAL_TLS_CERT_FILE: pki.rogueClientCert,
        TEMPORAL_TLS_KEY_FILE: pki.rogueClientKey,
      },
      'TEMPORAL_TLS_CERT_FILE',
    );
    expect(msg).toContain('refused the TLS handshake');
  });

  it('a server certificate the CA did not sign, or for another name: TEMPORAL_TLS_CA_FILE, TEMPORAL_TLS_SERVER_NAME', async () => {
    await workerFails({ ...withClientCert(), TEMPORAL_TLS_CA_FILE: pki.rogueCaCert }, 'TEMPORAL_TLS_CA_FILE');
    await workerFails({ TEMPORAL_TLS_CA_FILE: pki.caCert }, 'TEMPORAL_TLS_SERVER_NAME', otherName.address);
    // The right name given explicitly is accepted (the worker then polls).
    const w = spawnWorker(
      processEnv(otherName.address, { TEMPORAL_TLS_CA_FILE: pki.caCert, TEMPORAL_TLS_SERVER_NAME: 'other.example' }),
    );
    children.push(w.child);
    await w.polling();
    await w.kill('SIGTERM');
  });

  it('a CA file that is missing or not PEM, plaintext against TLS, TLS against plaintext: named', async () => {
    await workerFails(
      { ...withClientCert(), TEMPORAL_TLS_CA_FILE: path.join(pki.dir, 'absent.pem') },
      'TEMPORAL_TLS_CA_FILE',
    );
    await workerFails({ ...withClientCert(), TEMPORAL_TLS_CA_FILE: pki.clientKey }, 'TEMPORAL_TLS_CA_FILE');
    await workerFails({}, 'TEMPORAL_TLS');
    await workerFails({ TEMPORAL_TLS: 'true' }, 'TEMPORAL_TLS', testServices().temporalAddress);
  });

  it('an unreachable cluster and a namespace that does not exist are named, promptly', async () => {
    const closed = `127.0.0.1:${await freePort()}`;
    expect(await workerFails({}, 'TEMPORAL_ADDRESS', closed)).toContain(closed);
    expect(
      await workerFails(
        { TEMPORAL_NAMESPACE: 'no-such-namespace' },
        'TEMPORAL_NAMESPACE',
        testServices().temporalAddress,
      ),
    ).toContain('"no-such-namespace" does not exist');
  });
});

describe('Temporal Cloud API key', () => {
  it('the right key reaches Temporal; a wrong or missing one stops the worker and the API naming TEMPORAL_API_KEY', async () => {
    const tls = { TEMPORAL_TLS_CA_FILE: pki.caCert };
    const api = await spawnApi(processEnv(keyed.address, { ...tls, TEMPORAL_API_KEY: API_KEY }));
    expect(await apiReady(api)).toMatchObject({ status: 200, body: { status: 'ready' } });
    api.child.kill('SIGTERM');
    await exitOf(api.child);
    expect(await workerFails({ ...tls, TEMPORAL_API_KEY: 'wrong-key' }, 'TEMPORAL_API_KEY', keyed.address)).toContain(
      'wrong or expired API key',
    );
    await workerFails(tls, 'TEMPORAL_API_KEY', keyed.address);
    const bad = await spawnApi(processEnv(keyed.address, { ...tls, TEMPORAL_API_KEY: 'wrong-key' }));
    const badExit = await exitOf(bad.child);
    expectOneLineConfigError(bad.output(), badExit, 'TEMPORAL_API_KEY');
  });
});

describe('`fabrica temporal prepare` on a secured cluster', () => {
  it('connects as the workers do (mTLS; an API key from a file) and names a refused setting in one line', async () => {
    const base = { PATH: process.env.PATH, TEMPORAL_NAMESPACE: 'default' };
    // Node's own deprecation warning (grpc-js sets an IP address as TLS server name) is not the CLI's output.
    const ours = (stderr: string) =>
      stderr.split('\n').filter((l) => l && !/^\(node:\d+\)|^\(Use `node/.test(l));
    const expectOk = (r: Awaited<ReturnType<typeof runCli>>) => {
      expect({ code: r.code, stderr: ours(r.stderr) }).toEqual({ code: 0, stderr: [] });
      expect(r.stdout).toContain('search attributes already present');
    };
    expectOk(await runCli(['temporal', 'prepare'], { ...base, TEMPORAL_ADDRESS: mtls.address, ...withClientCert() }));
    const keyFile = path.join(pki.dir, 'temporal-api-key');
    writeFileSync(keyFile, `${API_KEY}\n`);
    const viaKey = { ...base, TEMPORAL_ADDRESS: keyed.address, TEMPORAL_TLS_CA_FILE: pki.caCert };
    expectOk(await runCli(['temporal', 'prepare'], { ...viaKey, TEMPORAL_API_KEY_FILE: keyFile }));
    for (const [extra, setting] of [
      [{ ...viaKey, TEMPORAL_API_KEY: 'wrong-key' }, 'TEMPORAL_API_KEY'],
      [{ ...base, TEMPORAL_ADDRESS: mtls.address, TEMPORAL_TLS_CA_FILE: pki.caCert }, 'TEMPORAL_TLS_CERT_FILE'],
      [{ ...viaKey, TEMPORAL_API_KEY_FILE: path.join(pki.dir, 'absent') }, 'TEMPORAL_API_KEY_FILE'],
    ] as const) {
      const r = await runCli(['temporal', 'prepare'], extra);
      const lines = ours(r.stderr);
      expect({ code: r.code, lines: lines.length, setting: lines[0]!.split(':')[0] }).toEqual({
        code: 78,
        lines: 1,
        setting,
      });
    }
  });
});

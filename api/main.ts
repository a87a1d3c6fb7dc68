import { loadDotEnv } from '../worker/env-file.js';
import { assertRegistryValid } from '../activities/registry/pipelines.js';
import { ConfigError, loadConfig, type TemporalSettings } from '../worker/config.js';
import { connectTemporalClient } from '../worker/temporal-connection.js';
import { log, setLogLevel } from '../worker/log.js';
import { createApp } from './app.js';

/**
 * Connects to Temporal once at start: settings that can never work (TLS, API key, namespace) stop start-up naming
 * the setting; a cluster that is only unreachable does not — the API starts and its readiness reports 503.
 */
async function checkTemporal(temporal: TemporalSettings): Promise<void> {
  try {
    await (await connectTemporalClient(temporal, 5000)).close();
  } catch (err) {
    if (err instanceof ConfigError && err.setting === 'TEMPORAL_ADDRESS')
      log.warn('temporal unreachable at start; serving, readiness 503 until it is back', { error: err.message });
    else throw err;
  }
}

/** The API process: validate config, listen, and close cleanly on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  loadDotEnv();
  const { api, logLevel, temporal } = loadConfig();
  setLogLevel(logLevel);
  assertRegistryValid();
  await checkTemporal(temporal);
  const app = await createApp();
  await app.listen(api.port, api.host);
  log.info('api listening', { url: `http://${api.host}:${api.port}/api/v1` });
}

main().catch((err: unknown) => {
  const message = err instanceof ConfigError ? err.message : `api failed: ${(err as Error).message}`;
  log.error(message);
  process.exit(err instanceof ConfigError ? 78 : 1);
});

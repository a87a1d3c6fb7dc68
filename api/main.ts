import { loadDotEnv } from '../worker/env-file.js';
import { assertRegistryValid } from '../activities/registry/pipelines.js';
import { ConfigError, loadConfig } from '../worker/config.js';
import { log, setLogLevel } from '../worker/log.js';
import { createApp } from './app.js';

/** The API process: validate config, listen, and close cleanly on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  loadDotEnv();
  const { api, logLevel } = loadConfig();
  setLogLevel(logLevel);
  assertRegistryValid();
  const app = await createApp();
  await app.listen(api.port, api.host);
  log.info('api listening', { url: `http://${api.host}:${api.port}/api/v1` });
}

main().catch((err: unknown) => {
  const message = err instanceof ConfigError ? err.message : `api failed: ${(err as Error).message}`;
  log.error(message);
  process.exit(err instanceof ConfigError ? 78 : 1);
});

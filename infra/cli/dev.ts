import path from 'node:path';
import pg from 'pg';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { newApiKey } from '../../worker/api-keys.js';
import {
  ConfigError,
  devApiKeysFile,
  embeddedPostgresCredentials,
  loadConfig,
  type FabricaConfig,
} from '../../worker/config.js';
import { storeFor } from '../../worker/dependencies.js';
import { WORKER_NODE_FLAGS } from '../../worker/node-flags.js';
import { migrate } from '../migrate.js';
import { projectRoot } from '../paths.js';
import { isPortFree } from '../services/ports.js';
import { ensureDatabases, startEmbeddedPostgres } from '../services/postgres.js';
import { startProcess, waitUntilReady, type ManagedProcess } from '../services/process.js';
import { startTemporalDevServer } from '../services/temporal.js';
import { startSdkDevServer } from '../services/temporal-sdk.js';
import { DemoLander } from './demo.js';
import { startDemoAlertReceivers } from '../demo/alert-receivers.js';
import { CatalogService } from '../demo/catalog-service.js';
import { ensureDemoRecords } from '../demo/records-db.js';
import { resolveTemporalCli } from '../services/tools.js';

const say = (line: string) => process.stdout.write(`[fabrica] ${line}\n`);

async function requirePortFree(setting: string, port: number): Promise<void> {
  if (!(await isPortFree(port)))
    throw new ConfigError(setting, `port ${port} is already in use (is another stack running?)`);
}

async function checkDatabase(setting: string, url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    throw new ConfigError(setting, `cannot connect to ${new URL(url).host}: ${(err as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function startTemporal(config: FabricaConfig, stack: ManagedProcess[]): Promise<void> {
  if (config.temporal.external) {
    say(`using Temporal at ${config.temporal.address}`);
    return;
  }
  const [, portText] = config.temporal.address.split(/:(?=\d+$)/);
  const port = Number(portText);
  await requirePortFree('FABRICA_TEMPORAL_PORT', port);
  const uiPort = Number(new URL(config.temporal.uiUrl).port);
  await requirePortFree('FABRICA_TEMPORAL_UI_PORT', uiPort);
  const binary = await resolveTemporalCli(say);
  const dbFile = path.join(config.home, 'temporal.db');
  if (!binary) {
    say('no Temporal CLI found (FABRICA_TEMPORAL_BIN, PATH, Go tools cache): asking the Temporal SDK to download one');
    const executable = { type: 'cached-download' } as const;
    const server = await startSdkDevServer({ executable, port, uiPort, dbFile }).catch((err: Error) => {
      const why = `no Temporal CLI found and the SDK could not download one (${err.message})`;
      throw new ConfigError('FABRICA_TEMPORAL_BIN', `${why}; set it, put \`temporal\` on PATH, or install Go`);
    });
    stack.push(server);
    return;
  }
  say(`starting Temporal dev server (${binary})`);
  stack.push(
    await startTemporalDevServer({
      binary,
      port,
      uiPort,
      dbFile,
      logFile: path.join(config.home, 'logs', 'temporal.log'),
    }),
  );
}

async function startDatabase(config: FabricaConfig, stack: ManagedProcess[]): Promise<void> {
  if (config.embeddedPostgres) {
    await requirePortFree('FABRICA_PG_PORT', config.embeddedPostgres.port);
    say('starting embedded PostgreSQL');
    const { user, password } = embeddedPostgresCredentials;
    stack.push(
      await startEmbeddedPostgres({
        dataDir: path.join(config.home, 'postgres', 'data'),
        port: config.embeddedPostgres.port,
        user,
        password,
        logFile: path.join(config.home, 'logs', 'postgres.log'),
      }),
    );
    const admin = new URL(config.databaseUrl);
    admin.pathname = '/postgres';
    await ensureDatabases(admin.toString(), ['fabrica', 'fabrica_inventory']);
  }
  await checkDatabase('DATABASE_URL', config.databaseUrl);
  await checkDatabase('INVENTORY_DATABASE_URL', config.inventoryDatabaseUrl);
  await migrate(config.databaseUrl, 'warehouse');
  await migrate(config.inventoryDatabaseUrl, 'inventory');
}

async function checkLake(config: FabricaConfig): Promise<void> {
  const setting = (c: FabricaConfig['lake'], name: string) =>
    c.kind === 's3' ? (c.endpoint ? 'S3_ENDPOINT' : name) : name;
  await storeFor(config.lake)
    .check()
    .catch((err: Error) => {
      throw new ConfigError(
        setting(config.lake, config.lake.kind === 's3' ? 'S3_BUCKET' : 'FABRICA_LAKE_DIR'),
        err.message,
      );
    });
  await storeFor(config.landing)
    .check()
    .catch((err: Error) => {
      throw new ConfigError('FABRICA_LANDING', err.message);
    });
}

function startNode(
  name: string,
  script: string,
  config: FabricaConfig,
  flags: string[] = [],
  extraEnv: NodeJS.ProcessEnv = {},
): ManagedProcess {
  return startProcess({
    name,
    command: process.execPath,
    args: ['--enable-source-maps', ...flags, path.join(projectRoot, 'dist', script)],
    // Children get the launcher's resolved Temporal address, so they never start or look for another server.
    env: { ...process.env, ...extraEnv, FABRICA_HOME: config.home, TEMPORAL_ADDRESS: config.temporal.address },
    logFile: path.join(config.home, 'logs', `${name}.log`),
  });
}

/**
 * With no key configured, the local stack gets one admin key, kept in FABRICA_HOME (the key in `dev-api-key`, its
 * hash in `api-keys`, which the API reads); start-up prints where it is, never the key itself. Returns that path.
 */
function ensureDevApiKey(config: FabricaConfig): string | undefined {
  if (process.env.FABRICA_API_KEYS || process.env.FABRICA_API_KEYS_FILE) return undefined;
  mkdirSync(config.home, { recursive: true });
  const keyFile = path.join(config.home, 'dev-api-key');
  if (existsSync(keyFile) && existsSync(devApiKeysFile(config.home))) return keyFile;
  const { key, entry } = newApiKey('dev-admin', 'admin');
  writeFileSync(devApiKeysFile(config.home), `${entry}\n`, { mode: 0o600 });
  writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
  return keyFile;
}

/**
 * Stand-ins for the source systems we do not own, for the settings left unset: the records database (`fabrica_records`
 * on the embedded PostgreSQL, read through the SELECT-only role `fabrica_records_reader`, seeded with the demo
 * machines' maintenance events) and the product catalog API (in this process, on a free loopback port). Returns the
 * settings to give the worker.
 */
async function startDemoSources(
  config: FabricaConfig,
): Promise<{ env: Record<string, string>; catalog?: CatalogService }> {
  const env: Record<string, string> = {};
  const described: string[] = [];
  if (!config.sources.RECORDS_DATABASE_URL && config.embeddedPostgres) {
    const admin = new URL(config.databaseUrl);
    admin.pathname = '/postgres';
    env.RECORDS_DATABASE_URL = await ensureDemoRecords({
      adminUrl: admin.toString(),
      database: 'fabrica_records',
      reader: { role: 'fabrica_records_reader', password: 'fabrica_records_reader' },
      machines: 10,
      days: 120,
    }).catch((err: Error) => {
      throw new ConfigError('RECORDS_DATABASE_URL', `cannot create the demo records database: ${err.message}`);
    });
    described.push('records database fabrica_records (read-only role fabrica_records_reader)');
  }
  let catalog: CatalogService | undefined;
  if (!config.sources.CATALOG_API_URL) {
    catalog = new CatalogService();
    env.CATALOG_API_URL = await catalog.start();
    described.push(`catalog API ${env.CATALOG_API_URL}/products`);
  }
  if (described.length > 0) say(`demo sources: ${described.join(' · ')}`);
  return { env, catalog };
}

async function apiReady(config: FabricaConfig): Promise<boolean> {
  const res = await fetch(`http://${config.api.host}:${config.api.port}/api/v1/health`);
  return res.status === 200;
}

/**
 * `fabrica dev` (what `npm start` runs): brings the whole stack up on one machine with embedded defaults, prints the
 * URLs and stops everything on Ctrl-C. A bad setting stops start-up with one line naming it.
 */
export async function dev(): Promise<number> {
  const stack: ManagedProcess[] = [];
  let demo: DemoLander | undefined;
  let catalog: CatalogService | undefined;
  let receivers: { stop(): Promise<void> } | undefined;
  const stopAll = async () => {
    demo?.stop();
    for (const proc of stack.reverse()) await proc.stop('SIGTERM', 20_000);
    await catalog?.stop();
    await receivers?.stop();
  };
  // Signals are handled from the first line: a Ctrl-C (or a supervisor's SIGTERM) during the minutes of a cold
  // start stops whatever has started so far. What a step still in flight starts afterwards dies with this process
  // (every service runs under a watchdog tied to it).
  const stopSignal = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const interrupted = stopSignal.then((signal) => ({ interrupted: signal }));
  const step = async <T>(work: Promise<T>): Promise<T> => {
    const r = await Promise.race([work.then((value) => ({ value })), interrupted]);
    if ('interrupted' in r) throw new Interrupted(r.interrupted);
    return r.value;
  };
  try {
    const config = loadConfig();
    await step(requirePortFree('FABRICA_API_PORT', config.api.port));
    // Settle all three before judging, so a failure of one never leaves another's process running unseen.
    const results = await step(
      Promise.allSettled([startTemporal(config, stack), startDatabase(config, stack), checkLake(config)]),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const devKey = ensureDevApiKey(config);
    const sources = await step(startDemoSources(config));
    catalog = sources.catalog;
    // With no channel configured, the demo's alerts go to local receivers (a webhook and an SMTP server).
    let alertEnv: Record<string, string> = {};
    if (config.demo && config.alerts.channels.length === 0) {
      const inbox = path.join(config.home, 'demo', 'inbox');
      const demoReceivers = await step(startDemoAlertReceivers(inbox, say));
      receivers = demoReceivers;
      alertEnv = demoReceivers.env;
      say(`demo alert channels: a webhook and an e-mail receiver, messages kept in ${inbox}`);
    }
    const worker = startNode('worker', 'worker/main.js', config, WORKER_NODE_FLAGS, { ...sources.env, ...alertEnv });
    stack.push(worker);
    const api = startNode('api', 'api/main.js', config, [], alertEnv);
    stack.push(api);
    await step(waitUntilReady(api, () => apiReady(config), 120_000));
    const base = `http://localhost:${config.api.port}`;
    say(`ready: API ${base}/api/v1  ·  OpenAPI ${base}/api/docs  ·  Temporal Web UI ${config.temporal.uiUrl}`);
    say(`dashboard: ${base}/  (sign in with an API key${devKey ? `: the local one is in ${devKey}` : ''})`);
    if (config.demo && config.landing.kind === 'fs') {
      demo = new DemoLander(config.landing.root, config.home, config.demoHourSeconds, say, config.demoDay);
      await step(demo.start());
    }
    if (devKey) say(`local admin API key in ${devKey}: curl -H "X-API-Key: $(cat ${devKey})" ${base}/api/v1/pipelines`);
    say(`data in ${config.home}; logs in ${path.join(config.home, 'logs')}; Ctrl-C stops everything`);
    const died = Promise.race(
      stack.map((p) => p.exited.then((code) => `${p.name} exited (${code}); see ${p.logFile}`)),
    );
    const reason = await Promise.race([stopSignal, died]);
    say(`stopping (${reason})…`);
    await stopAll();
    return reason.startsWith('SIG') ? 0 : 1;
  } catch (err) {
    if (err instanceof Interrupted) {
      say(`stopping (${err.signal}) during start-up…`);
      await stopAll();
      return 0;
    }
    await stopAll();
    const message = err instanceof ConfigError ? err.message : (err as Error).message;
    process.stderr.write(`[fabrica] cannot start: ${message}\n`);
    return err instanceof ConfigError ? 78 : 1;
  }
}

/** A stop signal arrived while the stack was starting. */
class Interrupted extends Error {
  constructor(readonly signal: string) {
    super(`interrupted by ${signal}`);
  }
}

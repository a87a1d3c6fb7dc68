import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { projectRoot } from '../paths.js';
import { freePort, freePortInRange } from './ports.js';
import { startProcess, waitUntilReady, type ManagedProcess } from './process.js';
import { temporalIsServing } from './temporal.js';
import { goModuleDir, TEMPORAL_SERVER } from './tools.js';

const execFileAsync = promisify(execFile);

/** The folder holding the server's config template (`postgresql.yaml`, rendered by the server from its environment). */
export const TEMPORAL_CONFIG_DIR = path.join(projectRoot, 'infra', 'temporal');

/** The PostgreSQL server Temporal persists to, and the two databases it uses there. */
export interface TemporalSqlTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  /** History, tasks, namespaces (default `temporal`). */
  database?: string;
  /** Visibility: the runs list, search attributes (default `temporal_visibility`). */
  visibilityDatabase?: string;
}

/** Every port one Temporal server process listens on (all four services in one process). */
export interface TemporalServerPorts {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
}

/**
 * The highest port a membership listener may use: the SQL schema stores a cluster member's port as SMALLINT
 * (`cluster_membership.rpc_port`), so a port from the OS's ephemeral range (32768+) stops the server at start-up with
 * "value … is out of range for type smallint".
 */
export const MAX_MEMBERSHIP_PORT = 32_767;

/**
 * Picks a free loopback port for each of the server's listeners: the gRPC and HTTP ones from the OS, the membership
 * ones at random in 20000–{@link MAX_MEMBERSHIP_PORT}.
 */
export async function freeServerPorts(): Promise<TemporalServerPorts> {
  const picked = new Set<number>();
  // The OS or the random probe may hand the same port out twice while none of them is bound yet.
  const pick = async (next: () => Promise<number>) => {
    let port = await next();
    while (picked.has(port)) port = await next();
    picked.add(port);
    return port;
  };
  const os = () => pick(() => freePort());
  const membership = () => pick(() => freePortInRange(20_000, MAX_MEMBERSHIP_PORT));
  return {
    frontend: await os(),
    frontendHttp: await os(),
    frontendMembership: await membership(),
    history: await os(),
    historyMembership: await membership(),
    matching: await os(),
    matchingMembership: await membership(),
    worker: await os(),
    workerMembership: await membership(),
  };
}

const databaseOf = (t: TemporalSqlTarget) => t.database ?? 'temporal';
const visibilityOf = (t: TemporalSqlTarget) => t.visibilityDatabase ?? 'temporal_visibility';

/**
 * The server module's versioned schema folders (`schema/postgresql/v12/{temporal,visibility}/versioned`), found in Go's
 * module cache through `go mod download -json` (the build downloaded the module already), or under
 * `FABRICA_TEMPORAL_SCHEMA_DIR` (a copy of the module's `schema/` folder) where no Go toolchain is installed.
 */
export async function temporalSchemaDirs(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ temporal: string; visibility: string }> {
  const root =
    env.FABRICA_TEMPORAL_SCHEMA_DIR ||
    path.join(await goModuleDir('go.temporal.io/server', TEMPORAL_SERVER.version), 'schema');
  const dirs = {
    temporal: path.join(root, 'postgresql', 'v12', 'temporal', 'versioned'),
    visibility: path.join(root, 'postgresql', 'v12', 'visibility', 'versioned'),
  };
  for (const dir of Object.values(dirs)) if (!existsSync(dir)) throw new Error(`no Temporal schema folder at ${dir}`);
  return dirs;
}

async function databaseExists(t: TemporalSqlTarget, name: string): Promise<boolean> {
  const client = new pg.Client({
    host: t.host,
    port: t.port,
    user: t.user,
    password: t.password,
    database: 'postgres',
  });
  await client.connect();
  try {
    return ((await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount ?? 0) > 0;
  } finally {
    await client.end();
  }
}

/**
 * Creates Temporal's two databases and brings their schemas to the server release's latest version with
 * `temporal-sql-tool`, as a production cluster is set up: `create-database` and `setup-schema -v 0.0` (the version
 * tables) for a database that does not exist yet, then `update-schema` from the versioned folder, which applies only
 * what is missing (so this is also how a cluster is upgraded). Idempotent. Resolves with the tool's output.
 */
export async function setupTemporalSchema(
  sqlTool: string,
  target: TemporalSqlTarget,
  schemaDirs: { temporal: string; visibility: string },
): Promise<string> {
  const env = {
    ...process.env,
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: target.host,
    SQL_PORT: String(target.port),
    SQL_USER: target.user,
    // From the environment, so the password never shows in a process list.
    SQL_PASSWORD: target.password,
  };
  let output = '';
  const run = async (database: string, args: string[]) => {
    const res = await execFileAsync(sqlTool, ['--db', database, ...args], { env, maxBuffer: 16 * 1024 * 1024 }).catch(
      (err: Error & { stdout?: string; stderr?: string }) => {
        const said = `${err.stdout ?? ''}${err.stderr ?? ''}`.trim().split('\n').slice(-3).join(' | ');
        throw new Error(`temporal-sql-tool ${args[0]} on ${database} failed: ${said || err.message}`);
      },
    );
    output += res.stdout + res.stderr;
  };
  for (const [database, dir] of [
    [databaseOf(target), schemaDirs.temporal],
    [visibilityOf(target), schemaDirs.visibility],
  ] as const) {
    if (!(await databaseExists(target, database))) {
      await run(database, ['create-database']);
      await run(database, ['setup-schema', '-v', '0.0']);
    }
    await run(database, ['update-schema', '-d', dir]);
  }
  return output;
}

/** Options for {@link startTemporalServer}. */
export interface TemporalServerOptions {
  /** The `go.temporal.io/server/cmd/server` binary. */
  binary: string;
  sql: TemporalSqlTarget;
  ports: TemporalServerPorts;
  logFile: string;
  /** History shards; fixed for the life of the cluster's database (default 4). */
  historyShards?: number;
  /** A dynamic config file (none: the server's defaults). */
  dynamicConfigFile?: string;
}

/** The environment the config template (`infra/temporal/postgresql.yaml`) is rendered from. */
export function temporalServerEnv(o: TemporalServerOptions): Record<string, string> {
  const p = o.ports;
  return {
    TEMPORAL_SERVER_BIND_IP: '127.0.0.1',
    TEMPORAL_SERVER_SQL_ADDRESS: `${o.sql.host}:${o.sql.port}`,
    TEMPORAL_SERVER_SQL_USER: o.sql.user,
    TEMPORAL_SERVER_SQL_PASSWORD: o.sql.password,
    TEMPORAL_SERVER_DB: databaseOf(o.sql),
    TEMPORAL_SERVER_VISIBILITY_DB: visibilityOf(o.sql),
    TEMPORAL_SERVER_HISTORY_SHARDS: String(o.historyShards ?? 4),
    TEMPORAL_SERVER_FRONTEND_PORT: String(p.frontend),
    TEMPORAL_SERVER_FRONTEND_HTTP_PORT: String(p.frontendHttp),
    TEMPORAL_SERVER_FRONTEND_MEMBERSHIP_PORT: String(p.frontendMembership),
    TEMPORAL_SERVER_HISTORY_PORT: String(p.history),
    TEMPORAL_SERVER_HISTORY_MEMBERSHIP_PORT: String(p.historyMembership),
    TEMPORAL_SERVER_MATCHING_PORT: String(p.matching),
    TEMPORAL_SERVER_MATCHING_MEMBERSHIP_PORT: String(p.matchingMembership),
    TEMPORAL_SERVER_WORKER_PORT: String(p.worker),
    TEMPORAL_SERVER_WORKER_MEMBERSHIP_PORT: String(p.workerMembership),
    ...(o.dynamicConfigFile ? { TEMPORAL_SERVER_DYNAMIC_CONFIG_FILE: o.dynamicConfigFile } : {}),
  };
}

/** The server's command line: every service in one process, config from {@link TEMPORAL_CONFIG_DIR}. */
export function temporalServerArgs(): string[] {
  return ['--root', '/', '--config', TEMPORAL_CONFIG_DIR, '--env', 'postgresql', '--allow-no-auth', 'start'];
}

/**
 * Starts the real Temporal server (frontend, history, matching and worker services in one process) on an already
 * prepared PostgreSQL ({@link setupTemporalSchema}) and waits until its frontend serves.
 */
export async function startTemporalServer(o: TemporalServerOptions, timeoutMs = 120_000): Promise<ManagedProcess> {
  const proc = startProcess({
    name: 'temporal-server',
    command: o.binary,
    args: temporalServerArgs(),
    env: { ...process.env, ...temporalServerEnv(o) },
    logFile: o.logFile,
  });
  try {
    await waitUntilReady(proc, () => temporalIsServing(`127.0.0.1:${o.ports.frontend}`), timeoutMs);
  } catch (err) {
    await proc.stop('SIGTERM');
    throw new Error(`${(err as Error).message}; it said: ${lastWords(o.logFile)}`, { cause: err });
  }
  return proc;
}

/** The server's last error (or last line) in its log, to say why it did not start. */
function lastWords(logFile: string): string {
  const lines = readFileSync(logFile, 'utf8').trim().split('\n');
  const errors = lines.filter((l) => /"level":"(error|fatal)"|^Unable|^ERROR/i.test(l));
  return (errors.at(-1) ?? lines.at(-1) ?? '(nothing)').slice(0, 2000);
}

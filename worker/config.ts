import { accessSync, constants, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../infra/paths.js';
import { SOURCES } from '../workflows/sources/index.js';
import { readAlertChannels, type AlertChannel } from './alert-channels.js';
import { readApiKeys, type ApiKeyEntry } from './api-keys.js';
import type { WorkerTuning } from './tuning.js';
import type { WorkerVersioning } from './versioning.js';
import { withSecretFiles } from './secret-files.js';
import { temporalSecurity, type TemporalSecurity } from './temporal-settings.js';

import { ConfigError } from './config-error.js';

export { ConfigError };

/** Where the lake lives: a local directory or an S3 bucket/prefix. */
export type LakeConfig =
  | { kind: 'fs'; root: string }
  | { kind: 's3'; bucket: string; prefix?: string; endpoint?: string; region: string; forcePathStyle: boolean };

/** The whole validated configuration of a Fábrica process (API, worker, launcher). */
export interface FabricaConfig {
  home: string;
  /** Where Temporal is and how to reach it (TLS, mTLS, API key: see {@link TemporalSecurity}). */
  temporal: TemporalSettings;
  databaseUrl: string;
  inventoryDatabaseUrl: string;
  /** True when no DATABASE_URL was given: the launcher runs the embedded PostgreSQL. */
  embeddedPostgres: { port: number } | undefined;
  lake: LakeConfig;
  /** The landing area the sensor watches (a local folder, or an S3 prefix of the lake's bucket). */
  landing: LakeConfig;
  /** Demo mode: generate and land machine files (on by default only when no landing area is configured). */
  demo: boolean;
  api: {
    host: string;
    port: number;
    /** Accepted API keys (hashed); the API refuses every protected request when empty. */
    keys: ApiKeyEntry[];
    /** Whether GET /metrics needs no key. */
    metricsPublic: boolean;
    /** Requests per minute allowed per key (and per address for unauthenticated calls). */
    rateLimitPerMinute: number;
    /** Failed sign-ins and invalid API keys allowed per address and minute before it is refused with 429. */
    failedAuthPerMinute: number;
    /** HMAC secret of dashboard session cookies (`FABRICA_SESSION_SECRET`); undefined: random per process. */
    sessionSecret: string | undefined;
  };
  /** The landing sensors the worker keeps running. */
  sensor: { enabled: boolean; intervalSeconds: number };
  /** Whether the worker creates/updates the pipelines' Temporal Schedules at start. */
  schedules: boolean;
  /**
   * Connections of the external sources by setting (`RECORDS_DATABASE_URL`, `CATALOG_API_URL`, … — each source spec
   * names its own); an unset one leaves its sources unconfigured (`npm start` provides demo ones).
   */
  sources: Record<string, string | undefined>;
  /**
   * What this worker process runs (`FABRICA_WORKER_ROLE`): `all` (workflows and every activity, polling the cloud
   * and the edge task queue), `edge` (the plant's activities only, on `<task queue>-edge`), `cloud` (workflows and
   * the warehouse's activities).
   */
  workerRole: WorkerRole;
  /** The cloud landing area an edge worker relays the plant's landing folder into (`FABRICA_LANDING_RELAY`). */
  landingRelay: LakeConfig | undefined;
  /** Demo pace: seconds between two landed hours (0 lands only the first day). */
  demoHourSeconds: number;
  /** The working day the demo lands (`FABRICA_DEMO_DAY`); undefined: the last working day before now. */
  demoDay: string | undefined;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Port of the worker's Temporal SDK metrics (Prometheus) exporter; undefined: off. */
  workerMetricsPort: number | undefined;
  /** How one worker process sizes its task slots (`FABRICA_WORKER_TUNER` and its settings). */
  workerTuning: WorkerTuning;
  /** Worker Versioning (`FABRICA_WORKER_DEPLOYMENT`, `FABRICA_WORKER_BUILD_ID`); undefined: unversioned. */
  workerVersioning: WorkerVersioning | undefined;
  /** Port of the worker's `/live` and `/ready` HTTP server (`FABRICA_WORKER_HEALTH_PORT`); undefined: none. */
  workerHealthPort: number | undefined;
  /** Seconds in-flight activities get to finish after SIGTERM before they are cancelled. */
  workerShutdownGraceSeconds: number;
  /** A workflow bundle built ahead (`FABRICA_WORKFLOW_BUNDLE`, e.g. in the image); undefined: bundled at start. */
  workflowBundle: string | undefined;
  /** Alert delivery: the channels, how long a group gathers alerts, how often open alerts are re-sent. */
  alerts: AlertSettings;
  /** Where people open Fábrica (links in alert messages). */
  publicUrl: string;
}

/** The Temporal cluster: address, namespace, task queue, Web UI, and how every connection authenticates. */
export interface TemporalSettings extends TemporalSecurity {
  address: string;
  namespace: string;
  taskQueue: string;
  uiUrl: string;
  /** True when `TEMPORAL_ADDRESS` is set (the launcher starts no dev server). */
  external: boolean;
}

/** Alert delivery settings (they travel to the delivery workflows as input). */
export interface AlertSettings {
  channels: AlertChannel[];
  /** Seconds a new group waits for more alerts before its first message (grouping). */
  groupWaitSeconds: number;
  /** Seconds after which open, unacknowledged alerts are sent again (0: never). */
  repeatIntervalSeconds: number;
  /** Seconds a delivery is retried (with backoff) while its channel is down before it is marked failed. */
  retryForSeconds: number;
}

const EMBEDDED_PG = { user: 'fabrica', password: 'fabrica' };

/** Credentials of the embedded PostgreSQL the launcher runs (loopback only). */
export const embeddedPostgresCredentials = EMBEDDED_PG;

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new ConfigError(name, `not a TCP port: ${JSON.stringify(raw)}`);
  return n;
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number, allowZero = false): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !allowZero))
    throw new ConfigError(name, `expected a positive number, got ${JSON.stringify(raw)}`);
  return n;
}

/** A whole number ≥ 1. */
function wholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const n = positive(env, name, fallback);
  if (!Number.isInteger(n)) throw new ConfigError(name, `expected a whole number, got ${JSON.stringify(env[name])}`);
  return n;
}

/** A working day (Mon–Fri) as `YYYY-MM-DD`; undefined when unset. */
function workingDay(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const d = /^\d{4}-\d{2}-\d{2}$/.test(raw) ? new Date(`${raw}T00:00:00Z`) : undefined;
  if (!d || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== raw)
    throw new ConfigError(name, `expected a date YYYY-MM-DD, got ${JSON.stringify(raw)}`);
  if (d.getUTCDay() === 0 || d.getUTCDay() === 6) throw new ConfigError(name, `${raw} is not a working day (Mon–Fri)`);
  return raw;
}

/** A fraction in (0, 1], e.g. a resource-usage target. */
function fraction(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const n = positive(env, name, fallback);
  if (n > 1) throw new ConfigError(name, `expected a fraction in (0, 1], got ${JSON.stringify(env[name])}`);
  return n;
}

/**
 * The worker's slot sizing: `fixed` (the default) runs at most the configured slots; `resource` lets the SDK's
 * resource-based tuner hand out slots while memory and CPU stay under their targets, the slot settings (when set)
 * capping it.
 */
function workerTuning(env: NodeJS.ProcessEnv): WorkerTuning {
  const tuner = env.FABRICA_WORKER_TUNER || 'fixed';
  if (tuner !== 'fixed' && tuner !== 'resource')
    throw new ConfigError('FABRICA_WORKER_TUNER', `expected fixed or resource, got ${JSON.stringify(tuner)}`);
  const activitySlots = wholeNumber(env, 'FABRICA_WORKER_ACTIVITY_SLOTS', 4);
  const workflowSlots = wholeNumber(env, 'FABRICA_WORKER_WORKFLOW_SLOTS', 40);
  for (const name of ['FABRICA_WORKER_TUNER_TARGET_MEMORY', 'FABRICA_WORKER_TUNER_TARGET_CPU'])
    if (tuner === 'fixed' && env[name]) throw new ConfigError(name, 'only applies with FABRICA_WORKER_TUNER=resource');
  if (tuner === 'fixed') return { tuner, activitySlots, workflowSlots };
  const set = (name: string) => env[name] !== undefined && env[name] !== '';
  return {
    tuner,
    targetMemoryUsage: fraction(env, 'FABRICA_WORKER_TUNER_TARGET_MEMORY', 0.8),
    targetCpuUsage: fraction(env, 'FABRICA_WORKER_TUNER_TARGET_CPU', 0.9),
    ...(set('FABRICA_WORKER_ACTIVITY_SLOTS') ? { maxActivitySlots: activitySlots } : {}),
    ...(set('FABRICA_WORKER_WORKFLOW_SLOTS') ? { maxWorkflowSlots: workflowSlots } : {}),
  };
}

/** Worker Versioning: on when a build id is set, in the deployment `FABRICA_WORKER_DEPLOYMENT` (default `fabrica`). */
function workerVersioning(env: NodeJS.ProcessEnv): WorkerVersioning | undefined {
  const deploymentName = env.FABRICA_WORKER_DEPLOYMENT || 'fabrica';
  // Temporal joins the two as `<deployment>.<build id>`: the deployment name cannot hold a dot.
  if (!/^[\w-]{1,200}$/.test(deploymentName))
    throw new ConfigError('FABRICA_WORKER_DEPLOYMENT', 'only letters, digits, _ - allowed (at most 200)');
  const buildId = env.FABRICA_WORKER_BUILD_ID;
  if (!buildId) return undefined;
  if (!/^[\w.-]{1,200}$/.test(buildId))
    throw new ConfigError('FABRICA_WORKER_BUILD_ID', 'only letters, digits, _ . - allowed (at most 200)');
  return { deploymentName, buildId };
}

/** Dev key file the launcher writes when no keys are configured. */
export function devApiKeysFile(home: string): string {
  return path.join(home, 'api-keys');
}

function apiKeys(env: NodeJS.ProcessEnv, home: string): ApiKeyEntry[] {
  const fallbackFile = devApiKeysFile(home);
  const withDev =
    env.FABRICA_API_KEYS || env.FABRICA_API_KEYS_FILE ? env : { ...env, FABRICA_API_KEYS_FILE: fallbackFile };
  try {
    return readApiKeys(withDev)?.entries ?? [];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && withDev !== env) return [];
    throw new ConfigError(env.FABRICA_API_KEYS ? 'FABRICA_API_KEYS' : 'FABRICA_API_KEYS_FILE', (err as Error).message);
  }
}

/** A URL setting, parsed (undefined when unset); a malformed one stops start-up naming the setting and its form. */
function urlSetting(env: NodeJS.ProcessEnv, name: string, expected: string): { raw: string; url: URL } | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  try {
    return { raw, url: new URL(raw) };
  } catch {
    throw new ConfigError(name, `not a valid URL (expected ${expected})`);
  }
}

function postgresUrl(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const setting = urlSetting(env, name, 'postgres://user:password@host:port/database');
  if (!setting) return undefined;
  const { raw, url } = setting;
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(name, `unsupported scheme "${url.protocol}" (expected postgres://)`);
  }
  if (!url.hostname) throw new ConfigError(name, 'has no host');
  if (url.pathname.length <= 1) throw new ConfigError(name, 'has no database name');
  checkPostgresTls(name, url);
  return raw;
}

const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'];

/**
 * The TLS parameters `pg` reads from a URL: `sslmode` (one it knows) and the files `sslrootcert`, `sslcert`,
 * `sslkey` (readable), checked here so a wrong one stops start-up naming the setting instead of failing a query.
 */
function checkPostgresTls(name: string, url: URL): void {
  const mode = url.searchParams.get('sslmode');
  if (mode !== null && !SSL_MODES.includes(mode))
    throw new ConfigError(name, `sslmode=${mode} is not one of ${SSL_MODES.join(', ')}`);
  for (const param of ['sslrootcert', 'sslcert', 'sslkey']) {
    const file = url.searchParams.get(param);
    if (file === null) continue;
    try {
      accessSync(file, constants.R_OK);
    } catch (err) {
      throw new ConfigError(name, `${param} ${file} cannot be read: ${(err as NodeJS.ErrnoException).code}`);
    }
  }
  if (url.searchParams.has('sslcert') !== url.searchParams.has('sslkey'))
    throw new ConfigError(name, 'sslcert and sslkey go together');
}

function httpUrl(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const setting = urlSetting(env, name, 'http(s)://host:port/base-path');
  if (!setting) return undefined;
  const { raw, url } = setting;
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError(name, `unsupported scheme "${url.protocol}" (expected http:// or https://)`);
  if (url.search || url.hash) throw new ConfigError(name, 'must be a base URL, without query or fragment');
  return raw;
}

/** The connection setting of every registered source, validated for its kind (a postgres:// or an http(s):// URL). */
function sourceConnections(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const settings: Record<string, string | undefined> = {};
  for (const source of SOURCES)
    settings[source.connection] =
      source.kind === 'database' ? postgresUrl(env, source.connection) : httpUrl(env, source.connection);
  return settings;
}

function alertSettings(env: NodeJS.ProcessEnv): AlertSettings {
  let channels: AlertChannel[];
  try {
    channels = readAlertChannels(env).channels;
  } catch (err) {
    const setting = env.FABRICA_ALERT_CHANNELS ? 'FABRICA_ALERT_CHANNELS' : 'FABRICA_ALERT_CHANNELS_FILE';
    throw new ConfigError(setting, (err as Error).message);
  }
  return {
    channels,
    groupWaitSeconds: positive(env, 'FABRICA_ALERT_GROUP_WAIT_SECONDS', 30, true),
    repeatIntervalSeconds: positive(env, 'FABRICA_ALERT_REPEAT_SECONDS', 4 * 3600, true),
    retryForSeconds: positive(env, 'FABRICA_ALERT_RETRY_FOR_SECONDS', 24 * 3600),
  };
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

function hostPort(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const raw = env[name] || fallback;
  if (!/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/.test(raw))
    throw new ConfigError(name, `expected host:port, got ${JSON.stringify(raw)}`);
  return raw;
}

function sessionSecret(env: NodeJS.ProcessEnv): string | undefined {
  const secret = env.FABRICA_SESSION_SECRET;
  if (!secret) return undefined;
  if (secret.length < 32) throw new ConfigError('FABRICA_SESSION_SECRET', 'must be at least 32 characters');
  return secret;
}

function bool(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(name, `expected true or false, got ${JSON.stringify(raw)}`);
}

function s3Location(env: NodeJS.ProcessEnv, name: string, url: URL): LakeConfig {
  if (!url.hostname) throw new ConfigError(name, 'an s3:// location needs a bucket');
  const endpoint = env.S3_ENDPOINT || undefined;
  return {
    kind: 's3',
    bucket: url.hostname,
    prefix: url.pathname.replace(/^\/+|\/+$/g, '') || undefined,
    endpoint,
    region: env.S3_REGION || env.AWS_REGION || 'us-east-1',
    forcePathStyle: bool(env, 'S3_FORCE_PATH_STYLE', endpoint !== undefined),
  };
}

function lake(env: NodeJS.ProcessEnv, home: string): LakeConfig {
  if (env.S3_ENDPOINT) {
    try {
      const u = new URL(env.S3_ENDPOINT);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
    } catch {
      throw new ConfigError('S3_ENDPOINT', `not an http(s) URL: ${JSON.stringify(env.S3_ENDPOINT)}`);
    }
  }
  const bucket = env.S3_BUCKET;
  if (!bucket) return { kind: 'fs', root: path.resolve(env.FABRICA_LAKE_DIR || path.join(home, 'lake')) };
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw new ConfigError('S3_BUCKET', `invalid bucket name ${JSON.stringify(bucket)}`);
  return s3Location(env, 'S3_BUCKET', new URL(`s3://${bucket}/${env.S3_PREFIX ?? ''}`));
}

function landing(env: NodeJS.ProcessEnv, home: string, name = 'FABRICA_LANDING'): LakeConfig {
  const raw = env[name];
  if (!raw) return { kind: 'fs', root: path.join(home, 'landing') };
  if (raw.startsWith('s3://')) return s3Location(env, name, new URL(raw));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) throw new ConfigError(name, 'expected a directory or an s3:// URL');
  return { kind: 'fs', root: path.resolve(raw) };
}

/** The worker roles: every role in one process, the plant's edge, or the cloud's. */
export const WORKER_ROLES = ['all', 'edge', 'cloud'] as const;
export type WorkerRole = (typeof WORKER_ROLES)[number];

function workerRole(env: NodeJS.ProcessEnv): WorkerRole {
  const raw = env.FABRICA_WORKER_ROLE || 'all';
  if (!(WORKER_ROLES as readonly string[]).includes(raw))
    throw new ConfigError('FABRICA_WORKER_ROLE', `expected ${WORKER_ROLES.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw as WorkerRole;
}

/** Where an edge worker relays the plant's landing folder: required for the edge role, refused elsewhere. */
function landingRelay(env: NodeJS.ProcessEnv, home: string, role: WorkerRole): LakeConfig | undefined {
  if (!env.FABRICA_LANDING_RELAY) {
    if (role === 'edge')
      throw new ConfigError(
        'FABRICA_LANDING_RELAY',
        'required with FABRICA_WORKER_ROLE=edge: the cloud landing area (s3://bucket/prefix) the plant folder is relayed to',
      );
    return undefined;
  }
  if (role !== 'edge')
    throw new ConfigError('FABRICA_LANDING_RELAY', 'only an edge worker relays (set FABRICA_WORKER_ROLE=edge)');
  return landing(env, home, 'FABRICA_LANDING_RELAY');
}

/** `FABRICA_WORKFLOW_BUNDLE`: the path of a bundle `fabrica bundle-workflows` wrote; it must be a file. */
function workflowBundle(env: NodeJS.ProcessEnv): string | undefined {
  const file = env.FABRICA_WORKFLOW_BUNDLE;
  if (!file) return undefined;
  if (!existsSync(file) || !statSync(file).isFile())
    throw new ConfigError('FABRICA_WORKFLOW_BUNDLE', `no workflow bundle at ${file} (write one with fabrica bundle-workflows)`);
  return path.resolve(file);
}

/**
 * Reads and validates the environment once. Every variable is documented in the README's configuration table and
 * in `.env.example`; an invalid one throws a {@link ConfigError} naming it. Secrets may come from `<VAR>_FILE`
 * (see {@link withSecretFiles}).
 */
export function loadConfig(processEnv: NodeJS.ProcessEnv = process.env): FabricaConfig {
  const env = withSecretFiles(processEnv);
  const home = path.resolve(env.FABRICA_HOME || path.join(projectRoot, '.fabrica'));
  const external = Boolean(env.TEMPORAL_ADDRESS);
  const devPort = port(env, 'FABRICA_TEMPORAL_PORT', 7233);
  const address = hostPort(env, 'TEMPORAL_ADDRESS', `127.0.0.1:${devPort}`);
  const uiPort = port(env, 'FABRICA_TEMPORAL_UI_PORT', 8233);
  const pgPort = port(env, 'FABRICA_PG_PORT', 5544);
  const databaseUrl =
    postgresUrl(env, 'DATABASE_URL') ??
    `postgres://${EMBEDDED_PG.user}:${EMBEDDED_PG.password}@127.0.0.1:${pgPort}/fabrica`;
  const logLevel = (env.FABRICA_LOG_LEVEL || 'info') as FabricaConfig['logLevel'];
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel))
    throw new ConfigError('FABRICA_LOG_LEVEL', 'expected debug, info, warn or error');
  for (const dir of (env.FABRICA_PIPELINE_DIRS ?? '').split(path.delimiter).filter(Boolean))
    if (!existsSync(dir) || !statSync(dir).isDirectory())
      throw new ConfigError('FABRICA_PIPELINE_DIRS', `${dir} is not a directory of pipeline declarations`);
  const role = workerRole(env);
  const taskQueue = env.FABRICA_TASK_QUEUE || 'fabrica-pipelines';
  if (!/^[\w.-]{1,200}$/.test(taskQueue))
    throw new ConfigError('FABRICA_TASK_QUEUE', 'only letters, digits, _ . - allowed');
  return {
    home,
    temporal: {
      address,
      namespace: env.TEMPORAL_NAMESPACE || 'default',
      taskQueue,
      uiUrl: env.FABRICA_TEMPORAL_UI_URL || `http://localhost:${uiPort}`,
      external,
      ...temporalSecurity(env),
    },
    databaseUrl,
    inventoryDatabaseUrl: postgresUrl(env, 'INVENTORY_DATABASE_URL') ?? withDatabase(databaseUrl, 'fabrica_inventory'),
    embeddedPostgres: env.DATABASE_URL ? undefined : { port: pgPort },
    lake: lake(env, home),
    landing: landing(env, home),
    demo: bool(env, 'FABRICA_DEMO', !env.FABRICA_LANDING),
    api: {
      host: env.FABRICA_API_HOST || '127.0.0.1',
      port: port(env, 'FABRICA_API_PORT', 3000),
      keys: apiKeys(env, home),
      metricsPublic: bool(env, 'FABRICA_METRICS_PUBLIC', true),
      rateLimitPerMinute: positive(env, 'FABRICA_RATE_LIMIT_PER_MINUTE', 6000),
      failedAuthPerMinute: positive(env, 'FABRICA_FAILED_AUTH_PER_MINUTE', 10),
      sessionSecret: sessionSecret(env),
    },
    sensor: {
      enabled: bool(env, 'FABRICA_SENSOR', true),
      intervalSeconds: positive(env, 'FABRICA_SENSOR_INTERVAL_SECONDS', 5),
    },
    schedules: bool(env, 'FABRICA_SCHEDULES', true),
    sources: sourceConnections(env),
    demoHourSeconds: positive(env, 'FABRICA_DEMO_HOUR_SECONDS', 30, true),
    demoDay: workingDay(env, 'FABRICA_DEMO_DAY'),
    logLevel,
    workerMetricsPort: /^(0|off)?$/i.test(env.FABRICA_WORKER_METRICS_PORT ?? '-')
      ? undefined
      : port(env, 'FABRICA_WORKER_METRICS_PORT', 9464),
    workerRole: role,
    landingRelay: landingRelay(env, home, role),
    workerTuning: workerTuning(env),
    workerVersioning: workerVersioning(env),
    workerHealthPort: /^(0|off)?$/i.test(env.FABRICA_WORKER_HEALTH_PORT ?? '-')
      ? undefined
      : port(env, 'FABRICA_WORKER_HEALTH_PORT', 9465),
    workerShutdownGraceSeconds: positive(env, 'FABRICA_WORKER_SHUTDOWN_GRACE_SECONDS', 30, true),
    workflowBundle: workflowBundle(env),
    alerts: alertSettings(env),
    publicUrl: (
      httpUrl(env, 'FABRICA_PUBLIC_URL') ?? `http://localhost:${port(env, 'FABRICA_API_PORT', 3000)}`
    ).replace(/\/+$/, ''),
  };
}

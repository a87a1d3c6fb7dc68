import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { newApiKey } from '../../worker/api-keys.js';
import { ConfigError, loadConfig } from '../../worker/config.js';

const home = mkdtempSync(path.join(tmpdir(), 'fabrica-config-'));

const fails = (env: NodeJS.ProcessEnv, setting: string) => {
  let error: unknown;
  try {
    loadConfig(env);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).setting).toBe(setting);
  expect((error as ConfigError).message.startsWith(`${setting}: `)).toBe(true);
};

describe('configuration', () => {
  it('runs on embedded defaults with nothing set', () => {
    const c = loadConfig({ FABRICA_HOME: home });
    expect(c.home).toBe(home);
    expect(c.temporal).toMatchObject({ address: '127.0.0.1:7233', namespace: 'default', external: false });
    expect(c.embeddedPostgres).toEqual({ port: 5544 });
    expect(c.databaseUrl).toBe('postgres://fabrica:fabrica@127.0.0.1:5544/fabrica');
    expect(c.inventoryDatabaseUrl).toBe('postgres://fabrica:fabrica@127.0.0.1:5544/fabrica_inventory');
    expect(c.lake.kind).toBe('fs');
    expect(c.demo).toBe(true);
    expect(c.api).toEqual({
      host: '127.0.0.1',
      port: 3000,
      keys: [],
      metricsPublic: true,
      rateLimitPerMinute: 6000,
      failedAuthPerMinute: 10,
    });
    expect(c.lake).toEqual({ kind: 'fs', root: path.join(home, 'lake') });
  });

  it('takes the demo day and the worker slots, refusing bad values by name', () => {
    const c = loadConfig({ FABRICA_HOME: home, FABRICA_DEMO_DAY: '2026-11-20', FABRICA_WORKER_ACTIVITY_SLOTS: '2' });
    expect(c.demoDay).toBe('2026-11-20');
    expect(c.workerTuning).toEqual({ tuner: 'fixed', activitySlots: 2, workflowSlots: 40 });
    expect(loadConfig({ FABRICA_HOME: home })).toMatchObject({
      demoDay: undefined,
      workerTuning: { tuner: 'fixed', activitySlots: 4, workflowSlots: 40 },
      workerVersioning: undefined,
    });
    for (const day of ['2026-11-21', '2026-02-30', '20-11-2026', 'yesterday'])
      fails({ FABRICA_HOME: home, FABRICA_DEMO_DAY: day }, 'FABRICA_DEMO_DAY');
    for (const slots of ['0', '-1', '2.5', 'many'])
      fails({ FABRICA_HOME: home, FABRICA_WORKER_ACTIVITY_SLOTS: slots }, 'FABRICA_WORKER_ACTIVITY_SLOTS');
    for (const slots of ['0', '1.5', 'lots'])
      fails({ FABRICA_HOME: home, FABRICA_WORKER_WORKFLOW_SLOTS: slots }, 'FABRICA_WORKER_WORKFLOW_SLOTS');
  });

  it('sizes the worker with the resource-based tuner when asked, its targets fractions of the machine', () => {
    expect(loadConfig({ FABRICA_HOME: home, FABRICA_WORKER_TUNER: 'resource' }).workerTuning).toEqual({
      tuner: 'resource',
      targetMemoryUsage: 0.8,
      targetCpuUsage: 0.9,
    });
    const capped = loadConfig({
      FABRICA_HOME: home,
      FABRICA_WORKER_TUNER: 'resource',
      FABRICA_WORKER_TUNER_TARGET_MEMORY: '0.6',
      FABRICA_WORKER_TUNER_TARGET_CPU: '0.75',
      FABRICA_WORKER_ACTIVITY_SLOTS: '8',
    });
    expect(capped.workerTuning).toEqual({
      tuner: 'resource',
      targetMemoryUsage: 0.6,
      targetCpuUsage: 0.75,
      maxActivitySlots: 8,
    });
    fails({ FABRICA_HOME: home, FABRICA_WORKER_TUNER: 'auto' }, 'FABRICA_WORKER_TUNER');
    for (const target of ['0', '1.2', '80%', '-0.5'])
      fails(
        { FABRICA_HOME: home, FABRICA_WORKER_TUNER: 'resource', FABRICA_WORKER_TUNER_TARGET_CPU: target },
        'FABRICA_WORKER_TUNER_TARGET_CPU',
      );
    fails({ FABRICA_HOME: home, FABRICA_WORKER_TUNER_TARGET_MEMORY: '0.5' }, 'FABRICA_WORKER_TUNER_TARGET_MEMORY');
  });

  it('turns Worker Versioning on with a build id, in deployment fabrica unless named', () => {
    expect(loadConfig({ FABRICA_HOME: home, FABRICA_WORKER_DEPLOYMENT: 'plant' }).workerVersioning).toBeUndefined();
    expect(loadConfig({ FABRICA_HOME: home, FABRICA_WORKER_BUILD_ID: '1.4.2' }).workerVersioning).toEqual({
      deploymentName: 'fabrica',
      buildId: '1.4.2',
    });
    const named = loadConfig({
      FABRICA_HOME: home,
      FABRICA_WORKER_DEPLOYMENT: 'plant-7',
      FABRICA_WORKER_BUILD_ID: 'abc',
    });
    expect(named.workerVersioning).toEqual({ deploymentName: 'plant-7', buildId: 'abc' });
    for (const name of ['fab.rica', 'has space', 'x'.repeat(201)])
      fails({ FABRICA_HOME: home, FABRICA_WORKER_DEPLOYMENT: name }, 'FABRICA_WORKER_DEPLOYMENT');
    for (const id of ['a/b', 'v 2'])
      fails({ FABRICA_HOME: home, FABRICA_WORKER_BUILD_ID: id }, 'FABRICA_WORKER_BUILD_ID');
  });

  it('uses external services when configured', () => {
    const c = loadConfig({
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      DATABASE_URL: 'postgres://u:p@db:5432/wh',
      S3_BUCKET: 'lake-prod',
      S3_PREFIX: 'fabrica',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      FABRICA_LANDING: 's3://plant-drop/sp-01',
    });
    expect(c.temporal.external).toBe(true);
    expect(c.embeddedPostgres).toBeUndefined();
    expect(c.inventoryDatabaseUrl).toBe('postgres://u:p@db:5432/fabrica_inventory');
    expect(c.lake).toEqual({
      kind: 's3',
      bucket: 'lake-prod',
      prefix: 'fabrica',
      endpoint: 'http://127.0.0.1:9000',
      region: 'us-east-1',
      forcePathStyle: true,
    });
    expect(c.landing).toMatchObject({ kind: 's3', bucket: 'plant-drop', prefix: 'sp-01' });
    expect(c.demo).toBe(false);
  });

  it('reads hashed API keys inline or from a file, never needing the keys themselves', () => {
    const a = newApiKey('ci-bot', 'operator');
    const b = newApiKey('grafana', 'viewer');
    expect(
      loadConfig({ FABRICA_HOME: home, FABRICA_API_KEYS: `${a.entry},${b.entry}` }).api.keys.map((k) => [
        k.name,
        k.role,
      ]),
    ).toEqual([
      ['ci-bot', 'operator'],
      ['grafana', 'viewer'],
    ]);
    const file = path.join(home, 'keys.txt');
    writeFileSync(file, `# operators\n${a.entry}\n`);
    expect(loadConfig({ FABRICA_HOME: home, FABRICA_API_KEYS_FILE: file }).api.keys).toHaveLength(1);
    expect(JSON.stringify(loadConfig({ FABRICA_HOME: home, FABRICA_API_KEYS: a.entry }))).not.toContain(a.key);
  });

  it.each([
    [{ FABRICA_API_KEYS: 'bot:root:abcd' }, 'FABRICA_API_KEYS'],
    [{ FABRICA_API_KEYS_FILE: '/nonexistent/keys' }, 'FABRICA_API_KEYS_FILE'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'mysql://u@h/db' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgres://u@h' }, 'DATABASE_URL'],
    [{ INVENTORY_DATABASE_URL: 'http://x/y' }, 'INVENTORY_DATABASE_URL'],
    [{ FABRICA_API_PORT: '70000' }, 'FABRICA_API_PORT'],
    [{ FABRICA_PG_PORT: 'abc' }, 'FABRICA_PG_PORT'],
    [{ TEMPORAL_ADDRESS: 'no-port' }, 'TEMPORAL_ADDRESS'],
    [{ S3_ENDPOINT: 'ftp://x' }, 'S3_ENDPOINT'],
    [{ S3_BUCKET: 'Bad_Bucket' }, 'S3_BUCKET'],
    [{ FABRICA_LANDING: 'ftp://x/y' }, 'FABRICA_LANDING'],
    [{ FABRICA_DEMO: 'maybe' }, 'FABRICA_DEMO'],
    [{ FABRICA_LOG_LEVEL: 'loud' }, 'FABRICA_LOG_LEVEL'],
    [{ FABRICA_SENSOR_INTERVAL_SECONDS: '0' }, 'FABRICA_SENSOR_INTERVAL_SECONDS'],
  ])('rejects %j naming %s', (env, setting) => fails(env, setting));
});

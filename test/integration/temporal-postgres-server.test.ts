import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import pg from 'pg';
import request from 'supertest';
import type { PartitionTruth } from '../../infra/generator/ground-truth.js';
import { writeMachineHourFile } from '../../infra/generator/machine-files.js';
import { freePort } from '../../infra/services/ports.js';
import { startEmbeddedPostgres } from '../../infra/services/postgres.js';
import type { ManagedProcess } from '../../infra/services/process.js';
import {
  freeServerPorts,
  setupTemporalSchema,
  startTemporalServer,
  temporalSchemaDirs,
  type TemporalSqlTarget,
} from '../../infra/services/temporal-server.js';
import { ensureGoTool, TEMPORAL_SERVER, TEMPORAL_SQL_TOOL } from '../../infra/services/tools.js';
import { factoryMachineSignals as spec } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import { createTestApi, type TestApi } from '../support/api-app.js';
import { runCli } from '../support/cli-process.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';
import { expectExactlyLoaded, waitFor } from '../support/fault-checks.js';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.js';

const { IndexedValueType } = proto.temporal.api.enums.v1;

/**
 * Issue 13, item 4: Fábrica on the real Temporal server (`go.temporal.io/server`, not the CLI's dev server) with
 * PostgreSQL persistence and visibility, prepared as a production cluster is: schemas by `temporal-sql-tool`, the
 * server config rendered from infra/temporal/postgresql.yaml, the namespace and the search attributes by
 * `fabrica temporal prepare`. Then a real worker process and the API run machine-hours exactly to the generator's
 * truth, and the API, the CLI and Temporal's visibility (on PostgreSQL) list them.
 */
describe('a production Temporal server on PostgreSQL', () => {
  const namespace = 'fabrica';
  let dir: string;
  let postgres: ManagedProcess | undefined;
  let server: ManagedProcess | undefined;
  let sql: TemporalSqlTarget;
  let address: string;
  let connection: Connection;
  let client: Client;
  let env: FabricaTestEnv;
  let worker: WorkerProcess | undefined;
  let api: TestApi | undefined;

  beforeAll(async () => {
    // Built by `fabrica tools` (as CI does); built here on a machine that has not run it yet.
    const [serverBin, sqlTool] = [await ensureGoTool(TEMPORAL_SERVER), await ensureGoTool(TEMPORAL_SQL_TOOL)];
    dir = mkdtempSync(path.join(tmpdir(), 'fabrica-tpg-'));
    sql = { host: '127.0.0.1', port: await freePort(), user: 'temporal', password: randomBytes(12).toString('hex') };
    postgres = await startEmbeddedPostgres({
      dataDir: path.join(dir, 'pg'),
      port: sql.port,
      user: sql.user,
      password: sql.password,
      logFile: path.join(dir, 'postgres.log'),
    });
    await setupTemporalSchema(sqlTool, sql, await temporalSchemaDirs());
    const ports = await freeServerPorts();
    server = await startTemporalServer({
      binary: serverBin,
      sql,
      ports,
      logFile: path.join(dir, 'temporal-server.log'),
    });
    address = `127.0.0.1:${ports.frontend}`;
    connection = await Connection.connect({ address });
    client = new Client({ connection, namespace });
    env = await createTestEnv('tserver_pg');
  }, 900_000);
  afterAll(async () => {
    await worker?.kill('SIGTERM');
    await api?.close();
    await connection?.close().catch(() => undefined);
    await env?.close();
    await server?.stop('SIGTERM');
    await postgres?.stop('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const visibilityDb = async <T extends pg.QueryResultRow>(text: string, values: unknown[] = []) => {
    const c = new pg.Client({ ...sql, database: 'temporal_visibility' });
    await c.connect();
    try {
      return (await c.query<T>(text, values)).rows;
    } finally {
      await c.end();
    }
  };

  it('has both schemas at the release version, set up by temporal-sql-tool', async () => {
    for (const database of ['temporal', 'temporal_visibility']) {
      const c = new pg.Client({ ...sql, database });
      await c.connect();
      const version = await c.query<{ v: string }>('SELECT curr_version AS v FROM schema_version');
      await c.end();
      // The versioned folder's latest: temporal 1.x, visibility 1.x; the 0.0 of setup-schema is long passed.
      expect({ database, upgraded: /^1\.\d+$/.test(version.rows[0]!.v) }).toEqual({ database, upgraded: true });
    }
  });

  it('`fabrica temporal prepare` registers the namespace and the search attributes, idempotently', async () => {
    const cliEnv = { ...process.env, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace };
    const first = await runCli(['temporal', 'prepare', '--retention-days', '3'], cliEnv);
    expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: '' });
    expect(first.stdout).toContain(`namespace ${namespace} registered`);
    expect(first.stdout).toContain('search attributes added: Pipeline, Partition, RunKind, PipelineStatus');
    const again = await runCli(['temporal', 'prepare'], cliEnv);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`namespace ${namespace} already registered`);
    expect(again.stdout).toContain('search attributes already present');

    const described = await connection.workflowService.describeNamespace({ namespace });
    expect(Number(described.config?.workflowExecutionRetentionTtl?.seconds)).toBe(3 * 24 * 3600);
    const listed = await connection.operatorService.listSearchAttributes({ namespace });
    const keyword = IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
    expect(
      Object.fromEntries(
        ['Pipeline', 'Partition', 'RunKind', 'PipelineStatus'].map((k) => [k, listed.customAttributes?.[k]]),
      ),
    ).toEqual({ Pipeline: keyword, Partition: keyword, RunKind: keyword, PipelineStatus: keyword });

    const bad = await runCli(['temporal', 'prepare'], { ...cliEnv, TEMPORAL_ADDRESS: 'no-port' });
    expect({ code: bad.code, lines: bad.stderr.trim().split('\n') }).toEqual({
      code: 78,
      lines: ['TEMPORAL_ADDRESS: expected host:port, got "no-port"'],
    });
  }, 240_000);

  it('`fabrica temporal prepare` refuses a namespace whose attribute has another type, naming it', async () => {
    const clash = 'fabrica-clash';
    await connection.workflowService.registerNamespace({
      namespace: clash,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
    // A namespace just registered reaches the operator API once the frontend's namespace cache has it.
    await waitFor('the new namespace to take attributes', () =>
      connection.operatorService
        .addSearchAttributes({
          namespace: clash,
          searchAttributes: { Pipeline: IndexedValueType.INDEXED_VALUE_TYPE_TEXT },
        })
        .then(
          () => true,
          () => false,
        ),
    );
    const res = await runCli(['temporal', 'prepare'], {
      ...process.env,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: clash,
    });
    expect({ code: res.code, stderr: res.stderr }).toEqual({
      code: 1,
      stderr: `fabrica: search attribute Pipeline exists in namespace ${clash} as INDEXED_VALUE_TYPE_TEXT, Fábrica needs KEYWORD\n`,
    });
    const listed = await connection.operatorService.listSearchAttributes({ namespace: clash });
    expect(Object.keys(listed.customAttributes ?? {}).filter((k) => k !== 'Pipeline')).toEqual([]);
  }, 240_000);

  it('runs machine-hours exactly, listed by the API, the CLI and visibility on PostgreSQL', async () => {
    const hours = ['2026-11-04T09', '2026-11-04T10'];
    const written = await Promise.all(
      (
        [
          ['M01', hours[0]!, 'malformed'],
          ['M02', hours[0]!, 'duplicate'],
          ['M01', hours[1]!, undefined],
        ] as const
      ).map(([machine, hourKey, defect]) =>
        writeMachineHourFile({
          outDir: env.landingDir,
          seed: 13,
          machines: 3,
          itemsPerFile: 400,
          defects: 'none',
          machine,
          hourKey,
          ...(defect ? { defect } : {}),
        }),
      ),
    );
    const truths: PartitionTruth[] = written.map((w) => w.truth);
    expect(truths.map((t) => t.outcome)).toEqual(['loaded', 'loaded', 'loaded']);

    const temporalEnv = { TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace };
    const workerTmp = path.join(dir, 'worker-tmp');
    mkdirSync(workerTmp);
    worker = spawnWorker({
      ...env.processEnv(),
      ...temporalEnv,
      TMPDIR: workerTmp,
      FABRICA_WORKER_METRICS_PORT: 'off',
    });
    await worker.polling();
    api = await createTestApi(env, temporalEnv);
    await api.app.listen(0, '127.0.0.1');
    const http = api.app.getHttpServer();
    const operator = { 'X-API-Key': api.keys.operator };

    const started: { workflowId: string; partition: string }[] = [];
    for (const t of truths) {
      const res = await request(http)
        .post(`/api/v1/pipelines/${spec.id}/runs`)
        .set(operator)
        .send({ partition: t.partition });
      expect({ partition: t.partition, status: res.status }).toEqual({ partition: t.partition, status: 202 });
      started.push({ workflowId: res.body.workflowId as string, partition: t.partition });
    }
    const logs = () => `worker:\n${worker?.output() ?? ''}`;
    const outcomes = await Promise.all(started.map((s) => client.workflow.getHandle(s.workflowId).result()));
    expect(outcomes.map((o) => (o as { status: string }).status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    await expectExactlyLoaded(env, truths, { tempDirs: [workerTmp] });

    // The API's runs list, filtered by pipeline; the other pipeline has none.
    const viewer = { 'X-API-Key': api.keys.viewer };
    const runs = await request(http).get(`/api/v1/runs?pipeline=${spec.id}`).set(viewer);
    expect(runs.status).toBe(200);
    expect({
      total: runs.body.total,
      runs: (runs.body.items as { partition: string; status: string }[])
        .map((r) => `${r.partition} ${r.status}`)
        .sort(),
    }).toEqual({ total: 3, runs: truths.map((t) => `${t.partition} succeeded`).sort() });
    const other = await request(http).get('/api/v1/runs?pipeline=quality-lab-inspections').set(viewer);
    expect(other.body.total).toBe(0);

    // The CLI lists the same runs through the API.
    const apiUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const listed = await runCli(['runs', 'list', '--pipeline', spec.id, '--json'], {
      ...process.env,
      FABRICA_API_URL: apiUrl,
      FABRICA_API_KEY: api.keys.viewer,
    });
    expect(listed.code).toBe(0);
    expect(((JSON.parse(listed.stdout) as { items: { workflowId: string }[] }).items ?? []).length).toBe(3);

    // Temporal's visibility answers queries on Fábrica's search attributes (the workflows set them as they run).
    const count = (query: string) =>
      client.workflow.count(query).then(
        (c) => c.count,
        () => -1,
      );
    await waitFor(
      'visibility to list the succeeded runs',
      async () => (await count(`Pipeline = '${spec.id}' AND PipelineStatus = 'Succeeded'`)) === 3,
      { context: logs },
    );
    expect(await count(`Pipeline = 'quality-lab-inspections'`)).toBe(0);
    const one = truths[2]!.partition;
    const byPartition: string[] = [];
    // On SQL visibility `Partition` must be back-quoted (unquoted, the parser takes it for the keyword PARTITION).
    for await (const w of client.workflow.list({ query: `\`Partition\` = '${one}' AND RunKind = 'manual'` }))
      byPartition.push(w.workflowId);
    expect(byPartition).toEqual(started.filter((s) => s.partition === one).map((s) => s.workflowId));

    // And that visibility lives in the cluster's own PostgreSQL database.
    const rows = await visibilityDb<{ workflow_id: string; status: number }>(
      'SELECT workflow_id, status FROM executions_visibility WHERE workflow_id = ANY($1) ORDER BY workflow_id',
      [started.map((s) => s.workflowId)],
    );
    expect(rows).toEqual(
      started
        .map((s) => ({
          workflow_id: s.workflowId,
          status: proto.temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED,
        }))
        .sort((a, b) => a.workflow_id.localeCompare(b.workflow_id)),
    );
  }, 420_000);
});

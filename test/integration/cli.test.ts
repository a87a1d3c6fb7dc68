import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestApi, type TestApi } from '../support/api-app.js';
import { runCli, type CliResult } from '../support/cli-process.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';

const PIPELINE = 'factory-machine-signals';

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The built `fabrica` CLI as a user runs it, against a listening test API. */
describe('fabrica CLI (REST client)', () => {
  let env: FabricaTestEnv;
  let api: TestApi;
  let url: string;
  let home: string;

  function cli(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<CliResult> {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, FABRICA_HOME: home, FABRICA_API_URL: url };
    delete childEnv.FABRICA_API_KEY;
    Object.assign(childEnv, extraEnv);
    return runCli(args, childEnv);
  }
  const as = (role: keyof TestApi['keys']) => ({ FABRICA_API_KEY: api.keys[role] });

  beforeAll(async () => {
    env = await createTestEnv('cli');
    await env.startWorker();
    api = await createTestApi(env);
    await api.app.listen(0, '127.0.0.1');
    const { port } = api.app.getHttpServer().address() as AddressInfo;
    url = `http://127.0.0.1:${port}`;
    home = mkdtempSync(path.join(tmpdir(), 'fabrica-cli-home-'));
  });
  afterAll(async () => {
    await api.close();
    await env.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('lists and shows pipelines, as JSON and for humans', async () => {
    const json = await cli(['pipelines', '--json'], as('viewer'));
    expect(json).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(json.stdout).map((p: { id: string }) => p.id)).toContain(PIPELINE);
    const human = await cli(['pipelines'], as('viewer'));
    expect(human.code).toBe(0);
    expect(human.stdout.split('\n')[0]).toMatch(/^PIPELINE\s+VERSION\s+DATASETS\s+LAST RUN$/);
    expect(human.stdout).toMatch(new RegExp(`^${PIPELINE}\\s+2\\s+production_events,`, 'm'));
    const one = await cli(['pipelines', PIPELINE, '--api', `${url}/api/v1/`], as('viewer'));
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/^freshness: +data at most 120 min old$/m);
    expect(one.stdout).toMatch(
      /^partitioning: +entity-hour: 15 machines × hours 6-17, weekdays 1,2,3,4,5 \(America\/Sao_Paulo\)$/m,
    );
  });

  it('starts a run, follows it and lists it, as JSON and for humans', async () => {
    const started = await cli(['runs', 'start', PIPELINE, 'M05@2026-11-18T08', '--json'], as('operator'));
    expect(started.code).toBe(0);
    const run = JSON.parse(started.stdout);
    expect(run).toMatchObject({ pipeline: PIPELINE, partition: 'M05@2026-11-18T08', status: 'running' });
    const human = await cli(['runs', 'start', PIPELINE, 'M05@2026-11-18T09', '--force'], as('operator'));
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^run [0-9a-f-]{36}  ${PIPELINE} M05@2026-11-18T09  running\\n`));
    // Nothing landed for those hours: each run fails once, as a data fault.
    await env.client.workflow
      .getHandle(run.workflowId, run.runId)
      .result()
      .catch(() => undefined);

    const got = await cli(['runs', 'get', run.runId, '--json'], as('viewer'));
    expect(got.code).toBe(0);
    expect(JSON.parse(got.stdout)).toMatchObject({
      runId: run.runId,
      status: 'failed',
      failure: { type: 'SourceMissing' },
    });
    const shown = await cli(['runs', 'get', run.runId], as('viewer'));
    expect(shown.stdout.split('\n')[0]).toBe(`run ${run.runId}  ${PIPELINE} M05@2026-11-18T08  failed (manual)`);
    expect(shown.stdout).toMatch(/^failure SourceMissing: /m);
    expect(shown.stdout).toContain(run.links.temporalUi);

    const listed = await cli(['runs', 'list', '--status', 'failed', '--pipeline', PIPELINE, '--json'], as('viewer'));
    expect(JSON.parse(listed.stdout).items.map((r: { runId: string }) => r.runId)).toContain(run.runId);
    const table = await cli(['runs', 'list', '--partition', 'M05@2026-11-18T08', '--page', '1'], as('viewer'));
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^RUN ID\s+PIPELINE\s+PARTITION\s+KIND\s+STATUS\s+STARTED\s+TOOK\s+FAILURE$/m);
    expect(table.stdout).toMatch(
      new RegExp(`^${run.runId}\\s+${PIPELINE}\\s+M05@2026-11-18T08\\s+manual\\s+failed\\s`, 'm'),
    );
    expect(table.stdout.trimEnd().split('\n').at(-1)).toBe('page 1: 1-1 of 1');

    const partition = await cli(['datasets', 'production_events', 'M05@2026-11-18T08'], as('viewer'));
    expect(partition.code).toBe(0);
    expect(partition.stdout).toContain('published: nothing');
    expect(partition.stdout).toContain(run.runId);
  });

  it('lists feature sets, starts an export and follows it to its manifest', async () => {
    const sets = await cli(['feature-sets', '--json'], as('viewer'));
    expect(sets.code).toBe(0);
    expect(JSON.parse(sets.stdout).map((s: { id: string }) => s.id)).toContain('machine-maintenance-daily');
    const args = [
      'exports',
      'start',
      'production-events',
      '--from',
      '2026-11-16',
      '--to',
      '2026-11-17',
      '--format',
      'csv',
    ];
    const started = await cli([...args, '--json'], as('operator'));
    expect(started.code).toBe(0);
    const exp = JSON.parse(started.stdout) as { exportId: string };
    expect(exp.exportId).toMatch(/^production-events-v1-[0-9a-f]{16}$/);
    let view: { status: string; manifest?: { rowCount: number; format: string } } = { status: 'running' };
    for (let i = 0; i < 100 && view.status === 'running'; i++) {
      const got = await cli(['exports', 'get', exp.exportId, '--json'], as('viewer'));
      expect(got.code).toBe(0);
      view = JSON.parse(got.stdout);
      if (view.status === 'running') await new Promise((r) => setTimeout(r, 200));
    }
    // Nothing was loaded for those days: the export succeeds with no rows.
    expect(view).toMatchObject({ status: 'succeeded', manifest: { rowCount: 0, format: 'csv' } });
    const again = await cli(args, as('operator'));
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(exp.exportId);
    const training = await cli([...args, '--training'], as('operator'));
    expect([training.code, training.stderr]).toEqual([1, expect.stringMatching(/^fabrica: 422 .*training/)]);
  });

  it('exits 1 with the API status and message when the API answers an error, never with a stack trace', async () => {
    const missing = await cli(['pipelines', 'nope'], as('viewer'));
    expect(missing).toEqual({ code: 1, stdout: '', stderr: 'fabrica: 404 pipeline "nope" not found\n' });
    const badPartition = await cli(['runs', 'start', PIPELINE, 'M05@2026-02-30T10'], as('operator'));
    expect(badPartition.code).toBe(1);
    expect(badPartition.stderr).toBe(
      'fabrica: 422 partition is not a partition of factory-machine-signals (like M07@2026-11-20T10, a real local hour)\n',
    );
    const forbidden = await cli(['runs', 'start', PIPELINE, 'M05@2026-11-18T10'], as('viewer'));
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toMatch(/^fabrica: 403 this action needs the operator role/);
    const noKey = await cli(['runs', 'list']);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(/^fabrica: 401 an API key is required/);
    for (const r of [missing, badPartition, forbidden, noKey]) expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('reads the local dev key from FABRICA_HOME when no key is given', async () => {
    writeFileSync(path.join(home, 'dev-api-key'), `${api.keys.viewer}\n`);
    try {
      const res = await cli(['runs', 'list', '--json']);
      expect(res.code).toBe(0);
      expect(JSON.parse(res.stdout)).toHaveProperty('items');
    } finally {
      rmSync(path.join(home, 'dev-api-key'));
    }
  });

  it('exits 2 with the usage on a usage error', async () => {
    for (const args of [['runs'], ['runs', 'get'], ['runs', 'list', '--page', 'two'], ['frobnicate']]) {
      const res = await cli(args, as('viewer'));
      expect(res.code).toBe(2);
      expect(res.stdout).toBe('');
      expect(res.stderr).toMatch(/^fabrica: /);
      expect(res.stderr).toContain('usage: fabrica <command>');
    }
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
  });

  it('exits 3 when the API cannot be reached', async () => {
    const port = await closedPort();
    const res = await cli(['pipelines', '--api', `http://127.0.0.1:${port}`], as('viewer'));
    expect(res.code).toBe(3);
    expect(res.stderr).toBe(`fabrica: cannot reach the API at http://127.0.0.1:${port}/api/v1: ECONNREFUSED\n`);
  });
});

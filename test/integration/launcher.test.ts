import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { canConnect, freePort } from '../../infra/services/ports.js';
import { runLauncher } from '../support/launcher.js';
import { testServices } from '../support/services.js';

/** `npm start` as a newcomer runs it: the real launcher, its own Temporal dev server and embedded PostgreSQL. */
describe('fabrica dev (npm start)', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  let ports: { temporal: number; ui: number; pg: number; api: number };

  beforeAll(async () => {
    home = mkdtempSync(path.join(tmpdir(), 'fabrica-launcher-'));
    ports = { temporal: await freePort(), ui: await freePort(), pg: await freePort(), api: await freePort() };
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      FABRICA_HOME: home,
      FABRICA_TEMPORAL_BIN: testServices().temporal.binary,
      FABRICA_TEMPORAL_PORT: String(ports.temporal),
      FABRICA_TEMPORAL_UI_PORT: String(ports.ui),
      FABRICA_PG_PORT: String(ports.pg),
      FABRICA_API_PORT: String(ports.api),
      FABRICA_DEMO: 'false',
    };
  });

  afterAll(() => rmSync(home, { recursive: true, force: true }));

  const processesUsing = (dir: string) =>
    execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes(dir));

  it('comes up healthy, keeps workflows across a restart, and stops cleanly on SIGINT', async () => {
    const first = runLauncher(env);
    await first.ready();
    const health = await fetch(`http://127.0.0.1:${ports.api}/api/v1/health`);
    const body = (await health.json()) as { status: string; checks: Record<string, { status: string }> };
    expect(health.status).toBe(200);
    expect(body.status).toBe('ok');
    expect(Object.fromEntries(Object.entries(body.checks).map(([k, v]) => [k, v.status]))).toEqual({
      temporal: 'up',
      postgres: 'up',
      lake: 'up',
      workers: 'up',
    });
    expect((await fetch(`http://127.0.0.1:${ports.ui}/`)).status).toBe(200);
    const openapi = (await (await fetch(`http://127.0.0.1:${ports.api}/api/v1/openapi.json`)).json()) as {
      openapi: string;
    };
    expect(openapi.openapi).toMatch(/^3\./);
    // The dashboard is served by the API process, and start-up says where.
    expect(first.output()).toContain(`dashboard: http://localhost:${ports.api}/`);
    const page = await fetch(`http://127.0.0.1:${ports.api}/`);
    expect([page.status, page.headers.get('content-type')]).toEqual([200, expect.stringContaining('text/html')]);

    const address = `127.0.0.1:${ports.temporal}`;
    let connection = await Connection.connect({ address });
    const workflowId = `persistence-probe-${Date.now()}`;
    // Nothing polls this task queue: the workflow simply stays open, which is all this test needs.
    await new Client({ connection }).workflow.start('persistenceProbe', {
      workflowId,
      taskQueue: 'nobody-polls',
      args: [],
    });
    await connection.close();

    first.child.kill('SIGINT');
    expect(await first.exit()).toBe(0);
    expect(first.output()).toContain('stopping (SIGINT)');
    for (const port of Object.values(ports)) expect(await canConnect(port)).toBe(false);
    expect(processesUsing(home)).toEqual([]);

    const second = runLauncher(env);
    await second.ready();
    connection = await Connection.connect({ address });
    const described = await new Client({ connection }).workflow.getHandle(workflowId).describe();
    expect(described.status.name).toBe('RUNNING');
    await new Client({ connection }).workflow.getHandle(workflowId).terminate('test over');
    await connection.close();
    second.child.kill('SIGTERM');
    expect(await second.exit()).toBe(0);
    expect(processesUsing(home)).toEqual([]);
  });

  /** Polls (bounded) until no process of this stack is left and no port of it listens. */
  async function stackGone(): Promise<void> {
    for (let i = 0; i < 600; i++) {
      const open = await Promise.all(Object.values(ports).map((p) => canConnect(p)));
      if (processesUsing(home).length === 0 && !open.includes(true)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the stack outlived its launcher: ${processesUsing(home).join('\n')}`);
  }

  it('stops whatever has started when interrupted during start-up (Ctrl-C before "ready")', async () => {
    const run = runLauncher(env);
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (run.output().includes('starting embedded PostgreSQL')) resolve();
        else if (run.child.exitCode !== null) reject(new Error(`launcher exited early:\n${run.output()}`));
        else setTimeout(check, 20);
      };
      check();
    });
    run.child.kill('SIGINT');
    expect(await run.exit()).toBe(0);
    expect(run.output()).toContain('stopping (SIGINT) during start-up');
    await stackGone();
  });

  it('takes every service down with it when the launcher is killed outright (SIGKILL)', async () => {
    const run = runLauncher(env);
    await run.ready();
    run.child.kill('SIGKILL');
    await run.exit();
    // No handler ran: the services' watchdogs saw their lifeline close and stopped them.
    await stackGone();
    // And the next start finds its ports free.
    const again = runLauncher(env);
    await again.ready();
    again.child.kill('SIGTERM');
    expect(await again.exit()).toBe(0);
    await stackGone();
  });

  it('stops start-up with one line naming a malformed DATABASE_URL', async () => {
    const run = runLauncher({ ...env, DATABASE_URL: 'postgres//oops' });
    expect(await run.exit()).toBe(78);
    expect(run.output().trim()).toBe(
      '[fabrica] cannot start: DATABASE_URL: not a valid URL (expected postgres://user:password@host:port/database)',
    );
  });

  it('names the setting when a port is already taken', async () => {
    const blocker = net.createServer().listen(ports.api, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      const run = runLauncher(env);
      expect(await run.exit()).toBe(78);
      expect(run.output()).toContain(`FABRICA_API_PORT: port ${ports.api} is already in use`);
      expect(run.output()).not.toMatch(/\n\s+at /);
    } finally {
      blocker.close();
    }
  });

  it('names S3_ENDPOINT when the lake is unreachable', async () => {
    const run = runLauncher({
      ...env,
      S3_BUCKET: 'lake',
      S3_ENDPOINT: 'http://127.0.0.1:1',
      AWS_ACCESS_KEY_ID: 'k',
      AWS_SECRET_ACCESS_KEY: 's',
    });
    expect(await run.exit()).toBe(78);
    expect(run.output()).toMatch(/cannot start: S3_ENDPOINT: .*127\.0\.0\.1:1/);
    expect(run.output()).not.toContain('AWS_SECRET');
  });
});

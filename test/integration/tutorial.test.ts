import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../infra/paths.js';
import { freePort } from '../../infra/services/ports.js';
import { runCli } from '../support/cli-process.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.js';

/** The tutorial's declaration folder: nothing of this pipeline exists anywhere else in the code. */
const FIXTURE = path.join(projectRoot, 'test', 'fixtures', 'pipelines');
const ID = 'tutorial-air-quality';
const KEY = 'tutorial-admin-key-0123456789abcdef';

interface Reading {
  sensor: string;
  ts: string;
  pm25: number;
  status: string;
}

/** A day of readings of a sensor, and what the tutorial's SQL model must make of the good ones. */
function readings(sensor: string, n: number): { lines: string[]; good: Reading[] } {
  const good: Reading[] = [];
  for (let i = 0; i < n; i++)
    good.push({
      sensor,
      ts: `2026-11-20T${String(8 + (i % 10)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00`,
      pm25: Math.round(((sensor === 'S1' ? 10 : 30) + i * 0.75) * 100) / 100,
      status: i % 7 === 0 ? 'degraded' : 'ok',
    });
  const lines = good.map((r) => JSON.stringify(r));
  // Bad lines the format quarantines: out of range, a status that is not allowed, not JSON, another day's reading
  // (00:30 in Lisbon on the 21st is still the 20th in UTC: the day is the sensor's local day).
  lines.splice(3, 0, JSON.stringify({ sensor, ts: '2026-11-20T09:00:00', pm25: -4, status: 'ok' }));
  lines.splice(5, 0, JSON.stringify({ sensor, ts: '2026-11-20T09:30:00', pm25: 12, status: 'bogus' }));
  lines.splice(7, 0, '{not json');
  lines.splice(9, 0, JSON.stringify({ sensor, ts: '2026-11-21T00:30:00', pm25: 5, status: 'ok' }));
  return { lines, good };
}

/**
 * "Adding a pipeline", followed literally: a pipeline declared in a fixture folder (a JSON Lines format config whose
 * rows name their partition, one
 * dataset, one SQL model, a migration, a spec) and pointed at with FABRICA_PIPELINE_DIRS, with no other code, runs
 * end to end through the real worker and API processes and the CLI: sensor → published partition, a backfill, a
 * forced re-run, the pipeline listed.
 */
describe('the tutorial pipeline, from declarations only', () => {
  let env: FabricaTestEnv;
  let worker: WorkerProcess;
  let api: ChildProcess;
  let apiOut = '';
  let url: string;
  let processEnv: NodeJS.ProcessEnv;
  const days = { S1: readings('S1', 40), S2: readings('S2', 25) };

  const cli = (args: string[]) => runCli(args, { ...processEnv, FABRICA_API_URL: url, FABRICA_API_KEY: KEY });

  /** Waits until the partition's latest run ended with one of `statuses`, `after` runs of it. */
  async function runEnded(partition: string, runs: number): Promise<{ status: string; run_kind: string }> {
    for (let i = 0; ; i++) {
      const res = await env.deps.warehouse.query<{ status: string; run_kind: string; n: number }>(
        `SELECT status, run_kind, count(*) OVER ()::int AS n FROM ops.runs WHERE pipeline = $1 AND partition_key = $2
         ORDER BY started_at DESC LIMIT 1`,
        [ID, partition],
      );
      const r = res.rows[0];
      if (r && r.n >= runs && r.status !== 'running') return r;
      if (i > 1500) throw new Error(`${partition}: no run ended in time\n${worker.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  beforeAll(async () => {
    env = await createTestEnv('tutorial');
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    processEnv = {
      ...env.processEnv(),
      FABRICA_PIPELINE_DIRS: FIXTURE,
      FABRICA_SENSOR: 'true',
      FABRICA_SENSOR_INTERVAL_SECONDS: '1',
      FABRICA_API_PORT: String(port),
      FABRICA_API_KEYS: `tutorial:admin:${createHash('sha256').update(KEY).digest('hex')}`,
    };
    worker = spawnWorker(processEnv);
    await worker.polling();
    api = spawn(process.execPath, [path.join(projectRoot, 'dist', 'api', 'main.js')], {
      env: processEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    api.stdout!.on('data', (d: Buffer) => (apiOut += d.toString()));
    api.stderr!.on('data', (d: Buffer) => (apiOut += d.toString()));
    for (let i = 0; !apiOut.includes('"api listening"'); i++) {
      if (api.exitCode !== null || i > 600) throw new Error(`api did not start:\n${apiOut}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
  afterAll(async () => {
    api?.kill('SIGTERM');
    await worker?.kill('SIGTERM');
    await env.close();
  });

  it('is listed by the API and the CLI', async () => {
    const res = await fetch(`${url}/api/v1/pipelines`, { headers: { 'X-API-Key': KEY } });
    expect(res.status).toBe(200);
    const ids = ((await res.json()) as { id: string }[]).map((p) => p.id);
    expect(ids).toEqual(expect.arrayContaining([ID, 'factory-machine-signals', 'quality-lab-inspections']));
    const human = await cli(['pipelines']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^${ID}\\s+1\\s+air_readings_daily`, 'm'));
    const one = await cli(['pipelines', ID]);
    expect(one.stdout).toMatch(
      /^partitioning: +entity-day: 2 sensors × days, weekdays 0,1,2,3,4,5,6 \(Europe\/Lisbon\)$/m,
    );
  });

  it('publishes what the sensor finds, quarantining the bad lines with their reasons', async () => {
    const dir = path.join(env.landingDir, 'air');
    mkdirSync(dir, { recursive: true });
    for (const [sensor, d] of Object.entries(days))
      writeFileSync(path.join(dir, `${sensor}_20261120.jsonl`), `${d.lines.join('\n')}\n`);
    for (const sensor of Object.keys(days))
      expect(await runEnded(`${sensor}@2026-11-20`, 1)).toMatchObject({ status: 'succeeded', run_kind: 'sensor' });
    const rows = await env.deps.warehouse.query('SELECT * FROM tutorial.air_readings_daily ORDER BY sensor_id');
    expect(
      rows.rows.map((r: Record<string, unknown>) => ({ ...r, day: (r.day as Date).toISOString().slice(0, 10) })),
    ).toEqual(
      Object.entries(days).map(([sensor, d]) => ({
        day: expect.any(String),
        sensor_id: sensor,
        readings: d.good.length,
        pm25_mean: expect.closeTo(d.good.reduce((a, r) => a + r.pm25, 0) / d.good.length, 9),
        pm25_max: Math.max(...d.good.map((r) => r.pm25)),
        degraded: d.good.filter((r) => r.status === 'degraded').length,
        source_sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      })),
    );
    const q = await env.deps.warehouse.query(
      'SELECT partition_key, line_no, reason FROM ops.quarantined_rows WHERE pipeline = $1 ORDER BY 1, 2',
      [ID],
    );
    expect(q.rows).toEqual(
      ['S1', 'S2'].flatMap((s) => [
        { partition_key: `${s}@2026-11-20`, line_no: 4, reason: 'out_of_range' },
        { partition_key: `${s}@2026-11-20`, line_no: 6, reason: 'bad_value' },
        { partition_key: `${s}@2026-11-20`, line_no: 8, reason: 'bad_json' },
        { partition_key: `${s}@2026-11-20`, line_no: 10, reason: 'outside_partition' },
      ]),
    );
  });

  it('backfills the day and re-runs a partition forced, through the CLI, changing nothing', async () => {
    const before = (await env.deps.warehouse.query('SELECT * FROM tutorial.air_readings_daily ORDER BY sensor_id'))
      .rows;
    const started = await cli(['backfills', 'start', ID, '--from', '2026-11-20', '--to', '2026-11-20', '--json']);
    expect(started).toMatchObject({ code: 0, stderr: '' });
    const watched = await cli([
      'backfills',
      'watch',
      (JSON.parse(started.stdout) as { backfillId: string }).backfillId,
    ]);
    expect(watched.code).toBe(0);
    for (const sensor of Object.keys(days))
      expect(await runEnded(`${sensor}@2026-11-20`, 2)).toMatchObject({ status: 'unchanged', run_kind: 'backfill' });
    const forced = await cli(['runs', 'start', ID, 'S1@2026-11-20', '--force', '--json']);
    expect(forced).toMatchObject({ code: 0, stderr: '' });
    expect(await runEnded('S1@2026-11-20', 3)).toMatchObject({ status: 'succeeded', run_kind: 'manual' });
    expect(
      (await env.deps.warehouse.query('SELECT * FROM tutorial.air_readings_daily ORDER BY sensor_id')).rows,
    ).toEqual(before);
    const bad = await cli(['runs', 'start', ID, 'S1@2026-11-20T10']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('partition');
  });
});

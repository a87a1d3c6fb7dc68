import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../infra/paths.js';
import { partitionsInRange } from '../../workflows/partitions.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';
import { waitQuiet } from '../support/factory-checks.js';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.js';

/** A pipeline declared in a zone with daylight saving (Europe/Lisbon), only for this test. */
const FIXTURE = path.join(projectRoot, 'test', 'fixtures', 'pipelines-dst');
const ID = 'dst-meter-hourly';

/**
 * Fault matrix row 8 (daylight saving): the hours around both changes of 2026 in Lisbon, end to end through a real
 * worker and the landing sensor. Spring (29 March, 01:00 → 02:00): local hour 01 does not exist, so it is no
 * partition and a file naming it is refused with the reason. Autumn (25 October, 02:00 → 01:00): local hour 01 happens
 * twice and is ONE partition of two hours, holding the readings of both; a local time without offset in it is read
 * as its earlier instant.
 */
describe('a pipeline in a zone with daylight saving', () => {
  let env: FabricaTestEnv;
  let worker: WorkerProcess;

  beforeAll(async () => {
    env = await createTestEnv('dst');
    worker = spawnWorker({
      ...env.processEnv(),
      FABRICA_PIPELINE_DIRS: FIXTURE,
      FABRICA_SENSOR: 'true',
      FABRICA_SENSOR_INTERVAL_SECONDS: '1',
      FABRICA_WORKER_METRICS_PORT: 'off',
    });
    await worker.polling();
  });
  afterAll(async () => {
    await worker?.kill('SIGTERM');
    await env?.close();
  });

  const land = (name: string, rows: { ts: string; kwh: number }[]) => {
    const dir = path.join(env.landingDir, 'meters');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, name), rows.map((r) => `${JSON.stringify({ meter: 'E1', ...r })}\n`).join(''));
  };

  it('loads the hours around both changes with their real lengths, and refuses the hour that never happened', async () => {
    // Spring forward: 00:00–01:00Z is local 00 (WET); 01:00Z is already 02:00 WEST.
    land('E1_20260329T00.jsonl', [{ ts: '2026-03-29T00:20:00Z', kwh: 1 }]);
    land('E1_20260329T01.jsonl', [{ ts: '2026-03-29T00:40:00Z', kwh: 99 }]);
    land('E1_20260329T02.jsonl', [{ ts: '2026-03-29T02:20:00+01:00', kwh: 2 }]);
    // Fall back: local 00 is 23:00Z (WEST); local 01 is 00:00Z–02:00Z (01:xx WEST, then 01:xx WET); local 02 is 02:00Z.
    land('E1_20261025T00.jsonl', [{ ts: '2026-10-25T00:10:00+01:00', kwh: 3 }]);
    land('E1_20261025T01.jsonl', [
      { ts: '2026-10-25T01:15:00+01:00', kwh: 4 }, // 00:15Z, first 01:15
      { ts: '2026-10-25T01:15:00Z', kwh: 5 }, // second 01:15 (WET)
      { ts: '2026-10-25T01:30:00', kwh: 6 }, // no offset: the earlier 01:30, 00:30Z
    ]);
    land('E1_20261025T02.jsonl', [{ ts: '2026-10-25T02:30:00Z', kwh: 8 }]);
    await waitQuiet(env, 6);

    const rows = await env.deps.warehouse.query<Record<string, unknown>>(
      `SELECT to_char(hour_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"') AS hour_start, minutes, readings, kwh
         FROM dst.meter_hourly ORDER BY 1`,
    );
    expect(rows.rows).toEqual([
      { hour_start: '2026-03-29T00:00Z', minutes: 60, readings: 1, kwh: 1 },
      { hour_start: '2026-03-29T01:00Z', minutes: 60, readings: 1, kwh: 2 },
      { hour_start: '2026-10-24T23:00Z', minutes: 60, readings: 1, kwh: 3 },
      { hour_start: '2026-10-25T00:00Z', minutes: 120, readings: 3, kwh: 15 },
      { hour_start: '2026-10-25T02:00Z', minutes: 60, readings: 1, kwh: 8 },
    ]);
    // (A file-name partition takes every row of its file: generic formats check rows against the window when the
    // partition comes from a column.)
    const quarantined = await env.deps.warehouse.query('SELECT 1 FROM ops.quarantined_rows WHERE pipeline = $1', [ID]);
    expect(quarantined.rowCount).toBe(0);
    const runs = await env.deps.warehouse.query<{ partition_key: string; status: string }>(
      'SELECT partition_key, status FROM ops.runs WHERE pipeline = $1 ORDER BY 1',
      [ID],
    );
    expect(runs.rows).toEqual(
      ['E1@2026-03-29T00', 'E1@2026-03-29T02', 'E1@2026-10-25T00', 'E1@2026-10-25T01', 'E1@2026-10-25T02'].map(
        (partition_key) => ({ partition_key, status: 'succeeded' }),
      ),
    );
    const refused = await env.deps.warehouse.query<{ state: string; detail: string }>(
      "SELECT state, detail FROM ops.landed_files WHERE object_key = 'meters/E1_20260329T01.jsonl'",
    );
    expect(refused.rows).toEqual([
      {
        state: 'rejected',
        detail:
          'file name E1_20260329T01.jsonl does not match {entity}_{yyyy}{MM}{dd}T{HH}.jsonl with a real date and local hour in Europe/Lisbon',
      },
    ]);
  });

  it('backfill ranges list the hours as the zone has them', async () => {
    const spec = JSON.parse(readFileSync(path.join(FIXTURE, ID, 'pipeline.json'), 'utf8')) as {
      partitioning: Parameters<typeof partitionsInRange>[0];
    };
    expect(partitionsInRange(spec.partitioning, '2026-03-29T00', '2026-03-29T03')).toEqual([
      'E1@2026-03-29T00',
      'E1@2026-03-29T02',
      'E1@2026-03-29T03',
    ]);
    expect(partitionsInRange(spec.partitioning, '2026-10-25T00', '2026-10-25T03')).toEqual([
      'E1@2026-10-25T00',
      'E1@2026-10-25T01',
      'E1@2026-10-25T02',
      'E1@2026-10-25T03',
    ]);
  });
});

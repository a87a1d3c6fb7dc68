import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { GroundTruth } from '../../infra/generator/ground-truth.js';
import type { LabGroundTruth } from '../../infra/generator/lab-truth.js';
import { freePort } from '../../infra/services/ports.js';
import { embeddedPostgresCredentials as EMBEDDED_PG } from '../../worker/config.js';
import type { FabricaTestEnv } from '../support/fabrica-env.js';
import { expectMatchesTruth, waitQuiet } from '../support/factory-checks.js';
import { expectLabTruth } from '../support/lab-checks.js';
import { runLauncher, type LauncherProcess } from '../support/launcher.js';
import { testServices } from '../support/services.js';

/**
 * Fault matrix row 12: the `npm start` demo as a newcomer sees it — the real launcher on a fresh home, its own
 * Temporal dev server and embedded PostgreSQL, the demo day injected (`FABRICA_DEMO_DAY`, never today's date). Every
 * defect of the contract lands; the warehouse and the inventory equal the generator's ground truth partition by
 * partition (failed partitions with their failure types), the QA lab's week too, and the stand-in sources sync.
 */
describe('the npm start demo', () => {
  const day = '2026-11-20'; // a Friday
  let home: string;
  let launcher: LauncherProcess | undefined;
  let warehouse: pg.Pool;
  let inventory: pg.Pool;

  beforeAll(async () => {
    home = mkdtempSync(path.join(tmpdir(), 'fabrica-demo-'));
    const ports = { temporal: await freePort(), ui: await freePort(), pg: await freePort(), api: await freePort() };
    launcher = runLauncher({
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      FABRICA_HOME: home,
      FABRICA_TEMPORAL_BIN: testServices().temporal.binary,
      FABRICA_TEMPORAL_PORT: String(ports.temporal),
      FABRICA_TEMPORAL_UI_PORT: String(ports.ui),
      FABRICA_PG_PORT: String(ports.pg),
      FABRICA_API_PORT: String(ports.api),
      FABRICA_WORKER_METRICS_PORT: 'off',
      FABRICA_DEMO_DAY: day,
      FABRICA_DEMO_HOUR_SECONDS: '0',
      FABRICA_SENSOR_INTERVAL_SECONDS: '1',
    });
    await launcher.ready();
    // The demo lands its first day right after "ready"; the launcher then says where the data is.
    for (let i = 0; !launcher.output().includes(`data in ${home}`); i++) {
      if (i > 1200 || launcher.child.exitCode !== null) throw new Error(`demo not landed:\n${launcher.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const url = (db: string) => `postgres://${EMBEDDED_PG.user}:${EMBEDDED_PG.password}@127.0.0.1:${ports.pg}/${db}`;
    warehouse = new pg.Pool({ connectionString: url('fabrica'), max: 2 });
    inventory = new pg.Pool({ connectionString: url('fabrica_inventory'), max: 2 });
  });

  afterAll(async () => {
    await warehouse?.end();
    await inventory?.end();
    if (launcher && launcher.child.exitCode === null) {
      launcher.child.kill('SIGINT');
      await launcher.exit();
    }
    rmSync(home, { recursive: true, force: true });
  });

  it('lands every defect and ends exactly as the ground truth says', async () => {
    const env = { deps: { warehouse, inventory } } as unknown as FabricaTestEnv;
    const truth = JSON.parse(
      readFileSync(path.join(home, 'demo', 'generated', 'ground-truth.json'), 'utf8'),
    ) as GroundTruth;
    const lab = JSON.parse(
      readFileSync(path.join(home, 'demo', 'generated-lab', 'lab-ground-truth.json'), 'utf8'),
    ) as LabGroundTruth;
    expect(truth.options.from).toBe(day);
    // The demo covers every defect of the contract's table.
    const defects = new Set(Object.values(truth.partitions).flatMap((p) => (p.defect ? [p.defect] : [])));
    expect(defects.size).toBeGreaterThan(5);
    // The late machine files and the lab's corrected re-send arrive some seconds after the first landing.
    const landedAll = async () => {
      for (let i = 0; ; i++) {
        const out = launcher!.output();
        if (out.includes('late files delivered') && out.includes('the QA lab re-sent')) return;
        if (i > 1200) throw new Error(`late deliveries not announced:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await landedAll();
    await waitQuiet(env, truth.files.length, 420_000);
    await expectMatchesTruth(env, truth);
    await expectLabTruth(env, lab);
    // Every run ended in its final status; the failures are exactly the truth's failed partitions.
    const running = await warehouse.query("SELECT count(*)::int AS n FROM ops.runs WHERE status = 'running'");
    expect(running.rows[0].n).toBe(0);
    // The stand-in sources (records database, catalog API) synced.
    for (const source of ['maintenance-events', 'product-catalog']) {
      for (let i = 0; ; i++) {
        const r = await warehouse.query(
          "SELECT 1 FROM ops.source_syncs WHERE source_id = $1 AND status = 'committed'",
          [source],
        );
        if (r.rowCount) break;
        if (i > 600) throw new Error(`${source} never synced:\n${launcher!.output()}`);
        await new Promise((res) => setTimeout(res, 200));
      }
    }
  }, 600_000);
});

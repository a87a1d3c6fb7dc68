import { expect } from '@jest/globals';
import { cpSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { GroundTruth } from '../../infra/generator/ground-truth.js';
import { sensorWorkflowId } from '../../workflows/ids.js';
import { landingSensorWorkflow } from '../../workflows/landing-sensor.workflow.js';
import type { PipelineSpec } from '../../workflows/spec.js';
import type { FabricaTestEnv } from './fabrica-env.js';

/** Copies the generated files (optionally only those under a sub-folder) into the env's landing area. */
export function deliver(genDir: string, env: FabricaTestEnv, sub = ''): number {
  let n = 0;
  const from = path.join(genDir, sub);
  for (const name of readdirSync(from)) {
    const file = path.join(from, name);
    if (statSync(file).isFile() && name.endsWith('.txt')) {
      cpSync(file, path.join(env.landingDir, name));
      n++;
    }
  }
  return n;
}

/**
 * Uploads the generated files (optionally only those under a sub-folder) into the env's landing store, one PUT per
 * file: the way files land in an S3 landing area.
 */
export async function deliverToStore(genDir: string, env: FabricaTestEnv, sub = ''): Promise<number> {
  let n = 0;
  const from = path.join(genDir, sub);
  for (const name of readdirSync(from).sort()) {
    const file = path.join(from, name);
    if (statSync(file).isFile() && name.endsWith('.txt')) {
      await env.deps.landing.put(name, readFileSync(file));
      n++;
    }
  }
  return n;
}

/** Starts the env's landing sensor (1 s interval); returns a function that terminates it. */
export async function startSensor(env: FabricaTestEnv, spec: PipelineSpec): Promise<() => Promise<void>> {
  const handle = await env.client.workflow.start(landingSensorWorkflow, {
    workflowId: `${sensorWorkflowId(spec.id)}:${env.id}`,
    taskQueue: env.taskQueue,
    args: [{ spec, intervalSeconds: 1 }],
  });
  return async () => {
    await handle.terminate('test over').catch(() => undefined);
  };
}

/**
 * Waits until the sensor has classified every landed file, a run was started for each complete one, and no run is
 * still going: the factory is quiet.
 */
export async function waitQuiet(env: FabricaTestEnv, landed: number, timeoutMs = 240_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await env.deps.warehouse.query<{ seen: string; pending: string; running: string }>(
      `SELECT (SELECT count(DISTINCT object_key) FROM ops.landed_files) AS seen,
              (SELECT count(*) FROM ops.landed_files WHERE state = 'complete') AS pending,
              (SELECT count(*) FROM ops.runs WHERE status = 'running') AS running`,
    );
    const r = res.rows[0]!;
    if (Number(r.seen) >= landed && Number(r.pending) === 0 && Number(r.running) === 0) {
      // Dispatched runs may not have recorded their start yet: settle once more.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const again = await env.deps.warehouse.query<{ n: string }>(
        "SELECT (SELECT count(*) FROM ops.runs WHERE status = 'running') + (SELECT count(*) FROM ops.landed_files WHERE state = 'complete') AS n",
      );
      if (Number(again.rows[0]!.n) === 0) return;
    }
    if (Date.now() > deadline) throw new Error(`factory not quiet in time: ${JSON.stringify(r)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

type Row = Record<string, unknown>;

/** Compares the warehouse and the inventory database with the ground truth, partition by partition and in total. */
export async function expectMatchesTruth(
  env: FabricaTestEnv,
  truth: Pick<GroundTruth, 'partitions' | 'totals'>,
): Promise<void> {
  const q = async (sql: string, db = env.deps.warehouse) => (await db.query(sql)).rows as Row[];
  const events = new Map(
    (
      await q(
        `SELECT machine_id || '@' || to_char(partition_hour AT TIME ZONE INTERVAL '-03:00', 'YYYY-MM-DD"T"HH24') AS p, count(*)::int AS n FROM factory.production_events GROUP BY 1`,
      )
    ).map((r) => [r.p, r.n]),
  );
  const yields = new Map(
    (
      await q(
        `SELECT machine_id || '@' || to_char(partition_hour AT TIME ZONE INTERVAL '-03:00', 'YYYY-MM-DD"T"HH24') AS p, * FROM factory.machine_yield_hourly`,
      )
    ).map((r) => [r.p, r]),
  );
  const quarantine = await q(
    `SELECT machine_id || '@' || to_char(partition_hour AT TIME ZONE INTERVAL '-03:00', 'YYYY-MM-DD"T"HH24') AS p, reason, count(*)::int AS n FROM factory.quarantined_rows GROUP BY 1, 2`,
  );
  const failures = new Map(
    (
      await q(
        `SELECT DISTINCT ON (partition_key) partition_key, status, failure_type FROM ops.runs ORDER BY partition_key, started_at DESC`,
      )
    ).map((r) => [r.partition_key, r]),
  );
  for (const t of Object.values(truth.partitions)) {
    const where = `${t.partition} (${t.outcome}${t.defect ? `, ${t.defect}` : ''})`;
    expect({ where, events: events.get(t.partition) ?? 0 }).toEqual({ where, events: t.itemsLoaded });
    const q = Object.fromEntries(quarantine.filter((r) => r.p === t.partition).map((r) => [r.reason, r.n]));
    expect({ where, q }).toEqual({ where, q: t.outcome === 'loaded' ? t.quarantinedByReason : {} });
    const y = yields.get(t.partition);
    if (t.outcome === 'loaded') {
      const e = t.yield!;
      expect({ where, items: y?.items, ok: y?.ok, scrap: y?.scrap, rework: y?.rework, dup: y?.duplicates }).toEqual({
        where,
        items: e.items,
        ok: e.ok,
        scrap: e.scrap,
        rework: e.rework,
        dup: t.duplicates,
      });
      for (const [col, want] of [
        ['yield_pct', e.yieldPct],
        ['cycle_ms_mean', e.cycleMsMean],
        ['cycle_ms_p95', e.cycleMsP95],
        ['temp_c_mean', e.tempCMean],
        ['vibration_max', e.vibrationMax],
        ['downtime_minutes', e.downtimeMinutes],
        ['energy_wh', e.energyWh],
      ] as const) {
        if (want === null) expect({ where, col, v: y?.[col] }).toEqual({ where, col, v: null });
        else expect(Math.abs(Number(y?.[col]) - want)).toBeLessThan(1e-4);
      }
    } else {
      expect({ where, yieldRow: y }).toEqual({ where, yieldRow: undefined });
    }
    const run = failures.get(t.partition);
    const expectedFailure = { contract_broken: 'ContractBroken', quality_failed: 'DataQualityThresholdExceeded' }[
      t.outcome as string
    ];
    if (expectedFailure) expect({ where, run: run?.failure_type }).toEqual({ where, run: expectedFailure });
  }
  const stock = Object.fromEntries(
    (
      await q(
        'SELECT sku, quantity::int AS quantity FROM inventory.stock_on_hand WHERE quantity <> 0',
        env.deps.inventory,
      )
    ).map((r) => [r.sku, r.quantity]),
  );
  expect(stock).toEqual(truth.totals.stockBySku);
  const total = await q('SELECT count(*)::int AS n FROM factory.production_events');
  expect(total[0]!.n).toBe(truth.totals.eventsLoaded);
}

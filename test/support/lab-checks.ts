import { expect } from '@jest/globals';
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { LabDeliveryTruth, LabGroundTruth } from '../../infra/generator/lab-truth.js';
import type { FabricaTestEnv } from './fabrica-env.js';
import { waitQuiet } from './factory-checks.js';

export const LAB_PIPELINE = 'quality-lab-inspections';

/** Copies lab files (and their markers) from a generated folder's sub-folder into the landing area's `lab/`. */
export function deliverLab(genDir: string, env: FabricaTestEnv, sub = 'lab', only?: (name: string) => boolean): number {
  const to = path.join(env.landingDir, 'lab');
  mkdirSync(to, { recursive: true });
  let files = 0;
  for (const name of readdirSync(path.join(genDir, sub))) {
    if (!/\.csv(\.done)?$/.test(name) || (only && !only(name))) continue;
    cpSync(path.join(genDir, sub, name), path.join(to, name));
    if (name.endsWith('.csv')) files++;
  }
  return files;
}

/** Whether a generated day's marker exists (for the `no_marker` day it does not). */
export function hasMarker(genDir: string, fileName: string): boolean {
  return existsSync(path.join(genDir, 'lab', `${fileName}.done`));
}

type Row = Record<string, unknown>;

/** Relative closeness of two statistics (both null, or within 1e-9 relative). */
function close(actual: unknown, want: number | null): boolean {
  if (want === null) return actual === null;
  const a = Number(actual);
  return Math.abs(a - want) <= 1e-9 * Math.max(1, Math.abs(want));
}

/**
 * Compares one lab day in the warehouse with a delivery's ground truth: every sample row, the quarantined rows per
 * reason, the mart per SKU (counts exactly, statistics within 1e-9), or nothing published when the day failed or waits.
 */
export async function expectLabDay(env: FabricaTestEnv, day: string, t: LabDeliveryTruth): Promise<void> {
  const db = env.deps.warehouse;
  const rows = (
    await db.query<Row>(
      `SELECT sample_id AS amostra, sku, machine_id AS maquina, to_char(inspected_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS inspected_at,
              inspector, weight_g::text AS peso_g, diameter_mm::text AS diametro_mm, coating_um::text AS revestimento_um, result, defect
       FROM quality.inspections WHERE inspection_day = $1 ORDER BY sample_id`,
      [day],
    )
  ).rows;
  const where = `${day} (${t.outcome}${t.injected.length ? `: ${t.injected.join(', ')}` : ''})`;
  if (t.outcome !== 'loaded') {
    expect({ where, rows: rows.length }).toEqual({ where, rows: 0 });
    return;
  }
  expect({ where, n: rows.length }).toEqual({ where, n: t.rows.length });
  expect(rows).toEqual(t.rows.map((r) => ({ ...r })));
  const q = await db.query<{ reason: string; n: number }>(
    'SELECT reason, count(*)::int AS n FROM ops.quarantined_rows WHERE pipeline = $1 AND partition_key = $2 GROUP BY 1',
    [LAB_PIPELINE, day],
  );
  expect({ where, q: Object.fromEntries(q.rows.map((r) => [r.reason, r.n])) }).toEqual({
    where,
    q: t.quarantinedByReason,
  });
  const mart = new Map(
    (await db.query<Row>('SELECT * FROM quality.sku_quality_daily WHERE day = $1', [day])).rows.map((r) => [r.sku, r]),
  );
  expect({ where, skus: [...mart.keys()].sort() }).toEqual({ where, skus: Object.keys(t.bySku).sort() });
  for (const [sku, s] of Object.entries(t.bySku)) {
    const m = mart.get(sku)!;
    expect({ where, sku, samples: m.samples, rejected: m.rejected }).toEqual({
      where,
      sku,
      samples: s.samples,
      rejected: s.rejected,
    });
    const pairs: [string, number | null][] = [
      ['reject_rate', s.rejectRate],
      ['weight_g_mean', s.peso_g.mean],
      ['weight_g_stddev', s.peso_g.stddev_samp],
      ['diameter_mm_mean', s.diametro_mm.mean],
      ['diameter_mm_stddev', s.diametro_mm.stddev_samp],
      ['coating_um_mean', s.revestimento_um.mean],
      ['coating_um_stddev', s.revestimento_um.stddev_samp],
    ];
    for (const [col, want] of pairs)
      expect({ where, sku, col, ok: close(m[col], want) }).toEqual({ where, sku, col, ok: true });
  }
}

/** The day's produced and scrapped items per SKU as the machine-signal flow published them. */
export async function productionOfDay(env: FabricaTestEnv, day: string): Promise<Record<string, [number, number]>> {
  const res = await env.deps.warehouse.query<{ sku: string; produced: number; scrapped: number }>(
    `SELECT sku, count(*)::int AS produced, (count(*) FILTER (WHERE status = 'SCRAP'))::int AS scrapped
     FROM factory.production_events WHERE (partition_hour AT TIME ZONE 'America/Sao_Paulo')::date = $1 GROUP BY sku`,
    [day],
  );
  return Object.fromEntries(res.rows.map((r) => [r.sku, [r.produced, r.scrapped]]));
}

/** The mart's produced and scrapped items per SKU of a day. */
export async function martProduction(env: FabricaTestEnv, day: string): Promise<Record<string, [number, number]>> {
  const res = await env.deps.warehouse.query<{ sku: string; produced_items: number; scrapped_items: number }>(
    'SELECT sku, produced_items, scrapped_items FROM quality.sku_quality_daily WHERE day = $1 AND produced_items > 0',
    [day],
  );
  return Object.fromEntries(res.rows.map((r) => [r.sku, [r.produced_items, r.scrapped_items]]));
}

/** Every loaded day of the truth, checked. */
export async function expectLabTruth(
  env: FabricaTestEnv,
  truth: LabGroundTruth,
  pick: (day: string) => LabDeliveryTruth = (d) => truth.days[d]!,
): Promise<void> {
  for (const day of Object.keys(truth.days)) await expectLabDay(env, day, pick(day));
}

/** Waits until `versions` versions of a landed object were dispatched to runs, then until the factory is quiet. */
export async function waitDispatched(env: FabricaTestEnv, key: string, versions: number): Promise<void> {
  for (let i = 0; ; i++) {
    const res = await env.deps.warehouse.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM ops.landed_files WHERE object_key = $1 AND state = 'dispatched'",
      [key],
    );
    if (res.rows[0]!.n >= versions) break;
    if (i > 1200) throw new Error(`${key}: ${versions} dispatched versions not seen in time`);
    await new Promise((r) => setTimeout(r, 200));
  }
  await waitQuiet(env, 0);
}

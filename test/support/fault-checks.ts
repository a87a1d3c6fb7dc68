import { expect } from '@jest/globals';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { totalsOf, type PartitionTruth } from '../../infra/generator/ground-truth.js';
import { factoryMachineSignals as spec } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import type { FabricaTestEnv } from './fabrica-env.js';
import { expectMatchesTruth } from './factory-checks.js';

/** Polls `probe` (every `everyMs`) until it returns a value other than undefined/false; rejects naming `what`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  {
    timeoutMs = 120_000,
    everyMs = 100,
    context = () => '',
  }: { timeoutMs?: number; everyMs?: number; context?: () => string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${context()}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Every entry (file or folder) under `dir`, recursively, relative to it; a missing folder is empty. */
export function filesUnder(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true, recursive: true });
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return [];
    throw error;
  }
  return entries.map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();
}

/**
 * The exact final state of a set of machine-hour partitions of the factory pipeline, all loaded: the warehouse and
 * the inventory database equal the generator's truth partition by partition, one ledger entry per dataset and
 * partition, one run per partition in `status`, and nothing left behind (temporary tables, open transactions, the
 * lake's write folder, the given temp folders).
 */
export async function expectExactlyLoaded(
  env: FabricaTestEnv,
  truths: readonly PartitionTruth[],
  o: { tempDirs: string[]; runs?: number },
): Promise<void> {
  await expectMatchesTruth(env, {
    partitions: Object.fromEntries(truths.map((t) => [t.partition, t])),
    totals: totalsOf(truths, truths.length),
  });
  const wh = env.deps.warehouse;
  const hourOf = "machine_id || '@' || to_char(hour AT TIME ZONE INTERVAL '-03:00', 'YYYY-MM-DD\"T\"HH24')";
  const movements = await env.deps.inventory.query<{ p: string; sku: string; q: number }>(
    `SELECT ${hourOf} AS p, sku, quantity AS q FROM inventory.movements ORDER BY 1, 2`,
  );
  const byPartition: Record<string, Record<string, number>> = {};
  for (const r of movements.rows) (byPartition[r.p] ??= {})[r.sku] = r.q;
  expect(byPartition).toEqual(Object.fromEntries(truths.map((t) => [t.partition, t.okBySku])));
  const ledger = await wh.query<{ dataset: string; partition_key: string; n: number }>(
    'SELECT dataset, partition_key, count(*)::int AS n FROM ops.load_ledger GROUP BY 1, 2 ORDER BY 1, 2',
  );
  expect(ledger.rows).toEqual(
    [...spec.load.datasets]
      .sort()
      .flatMap((dataset) =>
        [...truths]
          .sort((a, b) => a.partition.localeCompare(b.partition))
          .map((t) => ({ dataset, partition_key: t.partition, n: 1 })),
      ),
  );
  const runs = await wh.query<{ partition_key: string; status: string; n: number }>(
    'SELECT partition_key, status, count(*)::int AS n FROM ops.runs GROUP BY 1, 2 ORDER BY 1, 2',
  );
  expect(runs.rows).toEqual(
    [...truths]
      .sort((a, b) => a.partition.localeCompare(b.partition))
      .map((t) => ({ partition_key: t.partition, status: 'succeeded', n: o.runs ?? 1 })),
  );
  const db = env.databaseUrl.split('/').pop()!;
  const temp = await wh.query("SELECT relname FROM pg_class WHERE relpersistence = 't'");
  expect(temp.rows).toEqual([]);
  const open = await wh.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND state LIKE 'idle in transaction%'",
    [db],
  );
  expect(open.rows[0]!.n).toBe(0);
  expect({ lakeWrites: filesUnder(path.join(env.lakeDir, '.tmp')) }).toEqual({ lakeWrites: [] });
  for (const dir of o.tempDirs) expect({ dir, files: filesUnder(dir) }).toEqual({ dir, files: [] });
}

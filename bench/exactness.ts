import pg from 'pg';
import type { GroundTruth } from '../infra/generator/ground-truth.js';

/** Connections of the databases a benchmark round loaded. */
export interface LoadedDatabases {
  warehouse: string;
  inventory: string;
}

async function rows<T extends pg.QueryResultRow>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    return (await db.query<T>(sql, values)).rows;
  } finally {
    await db.end();
  }
}

/**
 * What differs between the loaded warehouse/inventory and the generator's ground truth: per partition the events
 * and the hourly yield row (items, ok, scrap, rework), the events in total and the stock per SKU. Empty when the
 * load is exact; a lost or doubled partition shows as its count against the expected one.
 */
export async function mismatches(db: LoadedDatabases, truth: Pick<GroundTruth, 'partitions' | 'totals' | 'options'>) {
  const label = `machine_id || '@' || to_char(partition_hour AT TIME ZONE $1::interval, 'YYYY-MM-DD"T"HH24')`;
  const offset = [truth.options.utcOffset];
  const events = new Map(
    (
      await rows<{ p: string; n: number }>(
        db.warehouse,
        `SELECT ${label} AS p, count(*)::int AS n FROM factory.production_events GROUP BY 1`,
        offset,
      )
    ).map((r) => [r.p, r.n]),
  );
  const yields = new Map(
    (
      await rows<{ p: string; items: number; ok: number; scrap: number; rework: number }>(
        db.warehouse,
        `SELECT ${label} AS p, items::int, ok::int, scrap::int, rework::int FROM factory.machine_yield_hourly`,
        offset,
      )
    ).map((r) => [r.p, r]),
  );
  const problems: string[] = [];
  for (const t of Object.values(truth.partitions)) {
    const got = events.get(t.partition) ?? 0;
    if (got !== t.itemsLoaded) problems.push(`${t.partition}: ${got} events, expected ${t.itemsLoaded}`);
    const y = yields.get(t.partition);
    const want = t.yield;
    const same =
      want === null
        ? y === undefined
        : y !== undefined &&
          y.items === want.items &&
          y.ok === want.ok &&
          y.scrap === want.scrap &&
          y.rework === want.rework;
    if (!same)
      problems.push(`${t.partition}: yield row ${JSON.stringify(y ?? null)}, expected ${JSON.stringify(want)}`);
  }
  for (const p of events.keys()) if (!truth.partitions[p]) problems.push(`${p}: events of an unknown partition`);
  const total = (
    await rows<{ n: number }>(db.warehouse, 'SELECT count(*)::int AS n FROM factory.production_events')
  )[0]!.n;
  if (total !== truth.totals.eventsLoaded)
    problems.push(`${total} events in all, expected ${truth.totals.eventsLoaded}`);
  const stock = Object.fromEntries(
    (
      await rows<{ sku: string; quantity: number }>(
        db.inventory,
        'SELECT sku, quantity::int AS quantity FROM inventory.stock_on_hand WHERE quantity <> 0',
      )
    ).map((r) => [r.sku, r.quantity]),
  );
  for (const sku of new Set([...Object.keys(stock), ...Object.keys(truth.totals.stockBySku)]))
    if ((stock[sku] ?? 0) !== (truth.totals.stockBySku[sku] ?? 0))
      problems.push(`stock of ${sku}: ${stock[sku] ?? 0}, expected ${truth.totals.stockBySku[sku] ?? 0}`);
  return problems;
}

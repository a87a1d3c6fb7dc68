import type { FabricaTestEnv } from './fabrica-env.js';

/** What one machine-hour partition publishes everywhere: warehouse datasets, inventory movements, the ledger. */
export interface PublishedPartition {
  itemSeqs: number[];
  quarantinedByReason: Record<string, number>;
  yield: Record<string, unknown> | undefined;
  /** `factory.inventory_movements` per SKU. */
  movements: Record<string, number>;
  /** `inventory.movements` per SKU (the inventory database). */
  inventoryMovements: Record<string, number>;
  /** `ops.load_ledger`: per dataset, the number of entries per content SHA-256. */
  ledger: Record<string, Record<string, number>>;
}

const bySku = (rows: { sku: string; q: number }[]) => Object.fromEntries(rows.map((r) => [r.sku, r.q]));

/** Reads the partition `<machine>@<YYYY-MM-DDTHH>` (plant time, -03:00) from both databases. */
export async function publishedPartition(env: FabricaTestEnv, partition: string): Promise<PublishedPartition> {
  const [machine, hourKey] = partition.split('@') as [string, string];
  const hour = `${hourKey}:00:00-03:00`;
  const wh = env.deps.warehouse;
  const args = [machine, hour];
  const events = await wh.query<{ item_seq: string }>(
    'SELECT item_seq::text FROM factory.production_events WHERE machine_id = $1 AND partition_hour = $2 ORDER BY item_seq',
    args,
  );
  const quarantine = await wh.query<{ reason: string; n: number }>(
    'SELECT reason, count(*)::int AS n FROM factory.quarantined_rows WHERE machine_id = $1 AND partition_hour = $2 GROUP BY 1 ORDER BY 1',
    args,
  );
  const yields = await wh.query<Record<string, unknown>>(
    'SELECT * FROM factory.machine_yield_hourly WHERE machine_id = $1 AND partition_hour = $2',
    args,
  );
  const movements = await wh.query<{ sku: string; q: number }>(
    'SELECT sku, quantity AS q FROM factory.inventory_movements WHERE machine_id = $1 AND partition_hour = $2 ORDER BY sku',
    args,
  );
  const inventory = await env.deps.inventory.query<{ sku: string; q: number }>(
    'SELECT sku, quantity AS q FROM inventory.movements WHERE machine_id = $1 AND hour = $2 ORDER BY sku',
    args,
  );
  const ledger = await wh.query<{ dataset: string; content_sha256: string; n: number }>(
    'SELECT dataset, content_sha256, count(*)::int AS n FROM ops.load_ledger WHERE partition_key = $1 GROUP BY 1, 2',
    [partition],
  );
  const perDataset: Record<string, Record<string, number>> = {};
  for (const r of ledger.rows) (perDataset[r.dataset] ??= {})[r.content_sha256] = r.n;
  return {
    itemSeqs: events.rows.map((r) => Number(r.item_seq)),
    quarantinedByReason: Object.fromEntries(quarantine.rows.map((r) => [r.reason, r.n])),
    yield: yields.rows[0],
    movements: bySku(movements.rows),
    inventoryMovements: bySku(inventory.rows),
    ledger: perDataset,
  };
}

/** Stock on hand per SKU in the inventory database (zero rows included). */
export async function stockOnHand(env: FabricaTestEnv): Promise<Record<string, number>> {
  const res = await env.deps.inventory.query<{ sku: string; q: number }>(
    'SELECT sku, quantity::int AS q FROM inventory.stock_on_hand ORDER BY sku',
  );
  return bySku(res.rows);
}

/** Waits until the sensor has recorded `versions` landed file versions (a re-delivery under the same name counts). */
export async function waitLandedVersions(env: FabricaTestEnv, versions: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await env.deps.warehouse.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM ops.landed_files WHERE state <> 'waiting'",
    );
    if (res.rows[0]!.n >= versions) return;
    if (Date.now() > deadline) throw new Error(`only ${res.rows[0]!.n} of ${versions} landed versions seen in time`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

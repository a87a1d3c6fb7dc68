import type pg from 'pg';
import type { IngestResult, RunOutcome, ServeResult, StageResult, StepInput } from '../workflows/steps.js';
import { attempt } from './activity-context.js';
import { Catalog } from './catalog.js';
import { tableUri } from './lake-layout.js';

/** What serve needs. */
export interface ServeDeps {
  warehouse: pg.Pool;
  inventory: pg.Pool;
}

/**
 * Reverse ETL to the inventory system: replaces the machine-hour's movements in the inventory database with what the
 * warehouse publishes for the partition, and recomputes stock on hand of every SKU the old or new movements touch as
 * the sum of its movements — so re-running any partition any number of times leaves stock unchanged. Stock updates
 * are serialized by an advisory lock in the inventory database.
 */
async function serveInventory(deps: ServeDeps, machine: string, hour: string): Promise<number> {
  const published = await deps.warehouse.query<{ sku: string; quantity: number; source_sha256: string }>(
    'SELECT sku, quantity, source_sha256 FROM factory.inventory_movements WHERE machine_id = $1 AND partition_hour = $2',
    [machine, hour],
  );
  const client = await deps.inventory.connect();
  try {
    await client.query('BEGIN');
    await client.query("SELECT pg_advisory_xact_lock(hashtext('fabrica.stock_on_hand'))");
    const old = await client.query<{ sku: string }>(
      'DELETE FROM inventory.movements WHERE machine_id = $1 AND hour = $2 RETURNING sku',
      [machine, hour],
    );
    const rows = published.rows;
    if (rows.length > 0) {
      await client.query(
        `INSERT INTO inventory.movements (hour, machine_id, sku, quantity, source_sha256)
         SELECT $1, $2, * FROM unnest($3::text[], $4::int[], $5::text[])`,
        [hour, machine, rows.map((r) => r.sku), rows.map((r) => r.quantity), rows.map((r) => r.source_sha256)],
      );
    }
    const skus = [...new Set([...old.rows.map((r) => r.sku), ...rows.map((r) => r.sku)])];
    await client.query(
      `INSERT INTO inventory.stock_on_hand (sku, quantity, updated_at)
       SELECT s.sku, COALESCE((SELECT sum(m.quantity) FROM inventory.movements m WHERE m.sku = s.sku), 0), now()
       FROM unnest($1::text[]) AS s(sku)
       ON CONFLICT (sku) DO UPDATE SET quantity = EXCLUDED.quantity, updated_at = EXCLUDED.updated_at`,
      [skus],
    );
    await client.query('COMMIT');
    return rows.length;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Serve: refreshes the pipeline's serving outputs for the partition from what the warehouse now publishes, then
 * records the run's successful end in the catalog (the last step closes the run).
 */
export function createServe(deps: ServeDeps) {
  return async function servePartition(
    input: StepInput & { ingest: IngestResult; stage: StageResult; outcome: RunOutcome },
  ): Promise<ServeResult> {
    const startedAt = new Date();
    const { ctx, spec, stage } = input;
    const machine = ctx.partition.split('@')[0]!;
    const outputs: Record<string, number> = {};
    const catalog = new Catalog(deps.warehouse);
    for (const output of spec.serve) {
      if (output.kind === 'inventory-db') {
        outputs['inventory.movements'] = await serveInventory(deps, machine, stage.hourStart);
        await catalog.lineage(
          ctx,
          'serve',
          tableUri('factory.inventory_movements', ctx.partition),
          'postgres://inventory/inventory.movements',
        );
      }
    }
    await catalog.step(ctx, {
      step: 'serve',
      startedAt,
      attempt: attempt(),
      rowsOut: outputs['inventory.movements'] ?? 0,
      details: outputs,
    });
    await catalog.runFinished(ctx, input.outcome);
    return { outputs };
  };
}

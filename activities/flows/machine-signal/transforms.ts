import { readLines } from '../../line-reader.js';
import type { QuarantineRecord } from '../../formats/registry.js';
import type { CopyValue } from '../../formats/copy-text.js';
import type { ObjectStore } from '../../storage/object-store.js';
import type { TsTransform } from '../../transforms/registry.js';
import type { PartitionProfile } from './partition-profile.js';

/** Inventory movements: OK items per SKU of the machine-hour (from the staging pass's profile). */
export const inventoryMovements: TsTransform = {
  id: 'inventory-movements',
  outputs: ['inventory_movements'],
  async run({ ctx, stage, ingest, profile, emit }) {
    const { okBySku } = profile as PartitionProfile;
    const machine = ctx.partition.split('@')[0]!;
    await emit(
      'inventory_movements',
      Object.entries(okBySku).map(([sku, qty]) => [stage.window.start, machine, sku, qty, ingest.sha256]),
    );
  },
};

/** The machine-hour's row of the yield mart (from the staging pass's profile). */
export const machineYieldHourly: TsTransform = {
  id: 'machine-yield-hourly',
  outputs: ['machine_yield_hourly'],
  async run({ ctx, stage, ingest, profile, emit }) {
    const m = (profile as PartitionProfile).metrics;
    const machine = ctx.partition.split('@')[0]!;
    await emit('machine_yield_hourly', [
      [
        stage.window.start,
        machine,
        m.items,
        m.ok,
        m.scrap,
        m.rework,
        m.yieldPct,
        m.cycleMsMean,
        m.cycleMsP95,
        m.tempCMean,
        m.vibrationMax,
        m.downtimeMinutes,
        m.energyWh,
        stage.quarantined,
        stage.duplicates,
        stage.facts.firmware ?? '',
        ingest.sha256,
      ],
    ]);
  },
};

/** The machine-hour's quarantined lines as a table. */
export const machineQuarantine: TsTransform = {
  id: 'machine-quarantine',
  outputs: ['quarantined_rows'],
  async run({ ctx, stage, ingest, lake, emit }) {
    await emit(
      'quarantined_rows',
      quarantineRows(lake, stage.quarantineKey, stage.window.start, ctx.partition.split('@')[0]!, ingest.sha256),
    );
  },
};

async function* quarantineRows(
  lake: ObjectStore,
  key: string,
  hour: string,
  machine: string,
  sha: string,
): AsyncGenerator<CopyValue[]> {
  for await (const line of readLines(lake, key)) {
    const q = JSON.parse(line) as QuarantineRecord;
    yield [hour, machine, q.lineNo, q.reason, q.column ?? null, q.detail, q.raw, sha];
  }
}

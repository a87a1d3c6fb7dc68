import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeMachineHourFile } from '../../infra/generator/machine-files.js';
import type { YieldMetrics } from '../../infra/generator/yield-metrics.js';
import { runWorkflowId } from '../../workflows/ids.js';
import { pipelineRunWorkflow } from '../../workflows/pipeline-run.workflow.js';
import { factoryMachineSignals } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';
import { startSensor, waitQuiet } from '../support/factory-checks.js';
import {
  addStock,
  itemSeqOf,
  readMachineFile,
  truthOfLines,
  withField,
  writeMachineFile,
  type MachineFileParts,
} from '../support/machine-file-edit.js';
import { publishedPartition, stockOnHand, waitLandedVersions } from '../support/partition-state.js';

const MACHINES = ['M01', 'M02', 'M03', 'M04'];
const spec = { ...factoryMachineSignals, partitioning: { ...factoryMachineSignals.partitioning, entities: MACHINES } };
const HOUR = '2026-11-20T10';
const HOUR_ISO = `${HOUR}:00:00-03:00`;

/** Generates one clean machine-hour file (UTF-8, no defect) and returns its parts. */
async function generated(dir: string, machine: string, hourKey: string): Promise<MachineFileParts> {
  const { files } = await writeMachineHourFile({
    outDir: dir,
    seed: 61,
    machines: MACHINES.length,
    itemsPerFile: 300,
    defects: 'none',
    machine,
    hourKey,
  });
  return readMachineFile(path.join(dir, files[0]!.path));
}

/** The yield row's columns against the truth of its lines. */
function expectYield(row: Record<string, unknown> | undefined, want: YieldMetrics, extra: Record<string, unknown>) {
  expect({ items: row?.items, ok: row?.ok, scrap: row?.scrap, rework: row?.rework, ...pick(row, extra) }).toEqual({
    items: want.items,
    ok: want.ok,
    scrap: want.scrap,
    rework: want.rework,
    ...extra,
  });
  for (const [col, v] of [
    ['yield_pct', want.yieldPct],
    ['cycle_ms_mean', want.cycleMsMean],
    ['cycle_ms_p95', want.cycleMsP95],
    ['temp_c_mean', want.tempCMean],
    ['vibration_max', want.vibrationMax],
    ['downtime_minutes', want.downtimeMinutes],
  ] as const) {
    expect({ col, diff: Math.abs(Number(row?.[col]) - Number(v)) < 1e-4 }).toEqual({ col, diff: true });
  }
}

function pick(row: Record<string, unknown> | undefined, like: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(like).map((k) => [k, row?.[k]]));
}

/** Latest run per partition: status and content. */
async function runsOf(env: FabricaTestEnv, partition: string) {
  const res = await env.deps.warehouse.query<{ status: string; content_sha256: string; failure_type: string | null }>(
    'SELECT status, content_sha256, failure_type FROM ops.runs WHERE partition_key = $1 ORDER BY started_at',
    [partition],
  );
  return res.rows;
}

/**
 * Issue 12, row 6: a machine-hour file landed again under the same name with other content replaces the partition
 * everywhere (events, quarantine, mart, movements in both databases, stock as a sum); a repeated item_seq across two
 * hourly files of one machine is one item, loaded once.
 */
describe('a file re-delivered with other content', () => {
  let env: FabricaTestEnv;
  let gen: string;
  let stopSensor: () => Promise<void>;

  beforeAll(async () => {
    env = await createTestEnv('redelivery');
    gen = mkdtempSync(path.join(tmpdir(), 'fabrica-redelivery-'));
    await env.startWorker();
    stopSensor = await startSensor(env, spec);
  });
  afterAll(async () => {
    await stopSensor();
    await env.close();
    rmSync(gen, { recursive: true, force: true });
  });

  it('corrects every event, quarantined row, mart row, movement and stock figure to the second content', async () => {
    const base = await generated(gen, 'M01', HOUR);
    const other = await generated(gen, 'M02', HOUR);
    // First content: SKU-PAN-20 then SKU-PAN-24, and one line with a bad status.
    const v1Data = base.data.map((l, i) => withField(l, 2, i < 100 ? 'SKU-PAN-20' : 'SKU-PAN-24'));
    v1Data[7] = withField(v1Data[7]!, 3, 'ok');
    // Second content (the machine's corrected re-send): fewer items, SKU-PAN-20 gone, SKU-PAN-28 new, one bad number.
    const v2Data = base.data.slice(150).map((l, i) => withField(l, 2, i % 2 === 0 ? 'SKU-PAN-24' : 'SKU-PAN-28'));
    v2Data[3] = withField(v2Data[3]!, 4, '8x2');
    const file = path.join(env.landingDir, 'M01_20261120T10.txt');
    const sha1 = writeMachineFile(file, { ...base, data: v1Data });
    const otherSha = writeMachineFile(path.join(env.landingDir, 'M02_20261120T10.txt'), other);
    await waitLandedVersions(env, 2);
    await waitQuiet(env, 2);

    const v1 = truthOfLines(
      v1Data.filter((_, i) => i !== 7),
      HOUR_ISO,
    );
    const o = truthOfLines(other.data, HOUR_ISO);
    const first = await publishedPartition(env, `M01@${HOUR}`);
    expect(first.itemSeqs).toEqual(v1.itemSeqs);
    expect(first.movements).toEqual(v1.okBySku);
    expect(Object.keys(first.movements)).toEqual(['SKU-PAN-20', 'SKU-PAN-24']);
    const stockBefore = await stockOnHand(env);
    expect(stockBefore).toEqual(addStock({ ...v1.okBySku }, o.okBySku));

    const sha2 = writeMachineFile(file, { ...base, data: v2Data });
    expect(sha2).not.toBe(sha1);
    await waitLandedVersions(env, 3);
    await waitQuiet(env, 2);

    const v2 = truthOfLines(
      v2Data.filter((_, i) => i !== 3),
      HOUR_ISO,
    );
    const after = await publishedPartition(env, `M01@${HOUR}`);
    expect(after.itemSeqs).toEqual(v2.itemSeqs);
    expect(after.quarantinedByReason).toEqual({ bad_number: 1 });
    expectYield(after.yield, v2.yield, { quarantined: 1, duplicates: 0, source_sha256: sha2 });
    expect(after.movements).toEqual(v2.okBySku);
    expect(after.inventoryMovements).toEqual(v2.okBySku);
    expect(Object.keys(after.inventoryMovements)).toEqual(['SKU-PAN-24', 'SKU-PAN-28']);
    // Stock is the sum of the movements: SKU-PAN-24 went down, SKU-PAN-20 is back to zero, SKU-PAN-28 appeared.
    const stock = await stockOnHand(env);
    expect(stock).toEqual({ 'SKU-PAN-20': 0, ...addStock({ ...v2.okBySku }, o.okBySku) });
    expect(stock['SKU-PAN-24']).toBeLessThan(stockBefore['SKU-PAN-24']!);
    // The other partition is untouched.
    const m02 = await publishedPartition(env, `M02@${HOUR}`);
    expect(m02.itemSeqs).toEqual(o.itemSeqs);
    expect(m02.inventoryMovements).toEqual(o.okBySku);
    // One ledger entry per dataset and published content; both runs succeeded, the second on the new content.
    const perContent = (sha: string[]) => Object.fromEntries(sha.map((s) => [s, 1]));
    for (const dataset of spec.load.datasets) {
      expect({ dataset, ledger: after.ledger[dataset] }).toEqual({ dataset, ledger: perContent([sha1, sha2]) });
      expect({ dataset, ledger: m02.ledger[dataset] }).toEqual({ dataset, ledger: perContent([otherSha]) });
    }
    expect(await runsOf(env, `M01@${HOUR}`)).toEqual([
      { status: 'succeeded', content_sha256: sha1, failure_type: null },
      { status: 'succeeded', content_sha256: sha2, failure_type: null },
    ]);
    const alerts = await env.deps.warehouse.query('SELECT kind, partition_key FROM ops.alerts');
    expect(alerts.rows).toEqual([]);
  });
});

/**
 * The rule for an item_seq repeated in two hourly files of one machine: (machine, item_seq) is the item (contract v1),
 * so it is loaded once, in the hour published first; the other hour counts the line as a duplicate.
 */
describe('an item_seq repeated across two hourly files of one machine', () => {
  let env: FabricaTestEnv;
  let gen: string;
  let stopSensor: () => Promise<void>;

  beforeAll(async () => {
    env = await createTestEnv('crossdup');
    gen = mkdtempSync(path.join(tmpdir(), 'fabrica-crossdup-'));
    await env.startWorker();
    stopSensor = await startSensor(env, spec);
  });
  afterAll(async () => {
    await stopSensor();
    await env.close();
    rmSync(gen, { recursive: true, force: true });
  });

  it('loads the item once whichever hour lands first, counted as a duplicate in the other', async () => {
    const T14 = '2026-11-20T14';
    const T15 = '2026-11-20T15';
    const files = new Map<string, MachineFileParts>();
    const repeated = new Map<string, string[]>();
    for (const m of ['M03', 'M04']) {
      const early = await generated(gen, m, T14);
      const late = await generated(gen, m, T15);
      // After a reconnect the machine re-sends its last two items of 14h at the top of the 15h file; their
      // timestamps are within the 5 min tolerance before 15:00, so they are valid lines of that file too.
      const again = early.data.slice(-2);
      for (const l of again)
        expect(Date.parse(l.split('|')[0]!)).toBeGreaterThan(Date.parse('2026-11-20T14:55:00-03:00'));
      files.set(`${m}@${T14}`, early);
      files.set(`${m}@${T15}`, { ...late, data: [...again, ...late.data] });
      repeated.set(m, again);
    }
    const land = async (partition: string, versions: number) => {
      const [m, h] = partition.split('@') as [string, string];
      writeMachineFile(
        path.join(env.landingDir, `${m}_${h.slice(0, 10).replaceAll('-', '')}T${h.slice(11)}.txt`),
        files.get(partition)!,
      );
      await waitLandedVersions(env, versions);
      await waitQuiet(env, versions);
    };
    // M03 in hour order; M04 the other way round (its 15h file first, the 14h file late).
    await land(`M03@${T14}`, 1);
    await land(`M03@${T15}`, 2);
    await land(`M04@${T15}`, 3);
    await land(`M04@${T14}`, 4);

    const iso = (h: string) => `${h}:00:00-03:00`;
    const expected: Record<string, { lines: string[]; duplicates: number }> = {
      [`M03@${T14}`]: { lines: files.get(`M03@${T14}`)!.data, duplicates: 0 },
      [`M03@${T15}`]: { lines: files.get(`M03@${T15}`)!.data.slice(2), duplicates: 2 },
      [`M04@${T15}`]: { lines: files.get(`M04@${T15}`)!.data, duplicates: 0 },
      [`M04@${T14}`]: { lines: files.get(`M04@${T14}`)!.data.slice(0, -2), duplicates: 2 },
    };
    const expectPlacement = async () => {
      const stock: Record<string, number> = {};
      for (const [partition, e] of Object.entries(expected)) {
        const t = truthOfLines(e.lines, iso(partition.split('@')[1]!));
        const got = await publishedPartition(env, partition);
        expect({ partition, items: got.itemSeqs }).toEqual({ partition, items: t.itemSeqs });
        expectYield(got.yield, t.yield, { duplicates: e.duplicates, quarantined: 0 });
        expect({ partition, movements: got.inventoryMovements }).toEqual({ partition, movements: t.okBySku });
        addStock(stock, t.okBySku);
      }
      for (const [m, again] of repeated) {
        const res = await env.deps.warehouse.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM factory.production_events WHERE machine_id = $1 AND item_seq = ANY($2)',
          [m, again.map(itemSeqOf)],
        );
        expect({ m, n: res.rows[0]!.n }).toEqual({ m, n: 2 });
      }
      const dupes = await env.deps.warehouse.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM (SELECT machine_id, item_seq FROM factory.production_events GROUP BY 1, 2 HAVING count(*) > 1) d',
      );
      expect(dupes.rows[0]!.n).toBe(0);
      expect(await stockOnHand(env)).toEqual(stock);
    };
    await expectPlacement();
    const runs = await env.deps.warehouse.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM ops.runs GROUP BY 1',
    );
    expect(runs.rows).toEqual([{ status: 'succeeded', n: 4 }]);

    // Forced re-runs of every partition, in any order, keep each item where it is (the rule is idempotent).
    for (const partition of [`M03@${T15}`, `M03@${T14}`, `M04@${T14}`, `M04@${T15}`]) {
      const outcome = await env.client.workflow.execute(pipelineRunWorkflow, {
        workflowId: `${runWorkflowId(spec.id, partition)}:${env.id}:forced`,
        taskQueue: env.taskQueue,
        args: [{ spec, partition, runKind: 'manual', force: true }],
      });
      expect({ partition, status: outcome.status }).toEqual({ partition, status: 'succeeded' });
    }
    await expectPlacement();
  });
});

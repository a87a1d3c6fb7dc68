import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import {
  dropRecordsDatabase,
  ensureRecordsDatabase,
  insertMaintenanceEvents,
  maintenanceEventRows,
  type RecordsDatabaseOptions,
} from '../../infra/demo/records-db.js';
import { scheduledSourceSyncWorkflow, sourceSyncWorkflow } from '../../workflows/source-sync.workflow.js';
import { maintenanceEvents } from '../../workflows/sources/maintenance-events.source.js';
import { sourceSyncStartOptions } from '../../workflows/sources/start-options.js';
import type { SourceSyncOutcome } from '../../workflows/sources/spec.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';
import { testServices } from '../support/services.js';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.js';

const ISO = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
const COLUMNS = `id::text AS id, machine_id, kind, ${ISO('started_at')} AS started_at, ${ISO('ended_at')} AS ended_at,
  notes, ${ISO('updated_at')} AS updated_at`;
/** Small batches, so every sync pages through several keyset pages of the source. */
const spec = { ...maintenanceEvents, batchSize: 7 };
type Row = Record<string, string | null>;
type Position = { ts: string; key: string };

/**
 * The generic database source on `maintenance_events`, end to end: a records database with a read-only role in the
 * test PostgreSQL, the real worker process (its configuration read from RECORDS_DATABASE_URL), syncs through
 * Temporal, and crashes between extract and commit.
 */
describe('database source by watermark (maintenance events)', () => {
  let env: FabricaTestEnv;
  let records: RecordsDatabaseOptions;
  let readerUrl: string;
  let source: pg.Client;
  let worker: WorkerProcess | undefined;
  const workflowId = () => `source-sync:${spec.id}:${env.id}`;

  const startWorker = async () => {
    worker = spawnWorker({ ...env.processEnv(), RECORDS_DATABASE_URL: readerUrl });
    await worker.polling();
  };
  const startSync = () =>
    env.client.workflow.start(
      sourceSyncWorkflow,
      sourceSyncStartOptions(spec, { taskQueue: env.taskQueue, workflowId: workflowId() }),
    );
  const sync = async (): Promise<SourceSyncOutcome> => (await startSync()).result();

  const sourceRows = async () =>
    (await source.query<Row>(`SELECT ${COLUMNS} FROM public.maintenance_events ORDER BY id`)).rows;
  const mirrorRows = async () =>
    (
      await env.deps.warehouse.query<Row>(
        `SELECT ${COLUMNS} FROM sources.maintenance_events WHERE deleted_at IS NULL ORDER BY id`,
      )
    ).rows;
  const watermark = async () =>
    (
      await env.deps.warehouse.query<Position>(
        `SELECT ${ISO('watermark_ts')} AS ts, watermark_key AS key FROM ops.source_watermarks WHERE source_id = $1`,
        [spec.id],
      )
    ).rows[0];
  const sourceMax = async () =>
    (
      await source.query<Position>(
        `SELECT ${ISO('updated_at')} AS ts, id::text AS key FROM public.maintenance_events
         ORDER BY updated_at DESC, id DESC LIMIT 1`,
      )
    ).rows[0];
  const versionsOf = async (id: number) =>
    (
      await env.deps.warehouse.query<{ updated_at: string; deleted: boolean; notes: string }>(
        `SELECT ${ISO('updated_at')} AS updated_at, deleted, notes FROM sources.maintenance_event_versions
         WHERE id = $1 ORDER BY updated_at`,
        [id],
      )
    ).rows;
  const versionCount = async () =>
    (await env.deps.warehouse.query<{ n: number }>('SELECT count(*)::int AS n FROM sources.maintenance_event_versions'))
      .rows[0]!.n;

  /** Mirror = source, row for row; the watermark is the largest (updated_at, id) of the source. */
  const expectExact = async () => {
    expect(await mirrorRows()).toEqual(await sourceRows());
    expect(await watermark()).toEqual(await sourceMax());
  };

  /** Holds a lock the commit needs (not the extract), runs `during` once the commit waits on it, then releases it. */
  async function withCommitBlocked(during: () => Promise<void>): Promise<void> {
    const locker = await env.deps.warehouse.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE sources.maintenance_event_versions IN ACCESS EXCLUSIVE MODE');
      await during();
      await locker.query('ROLLBACK');
    } finally {
      locker.release();
    }
  }
  async function commitWaitingOnLock(): Promise<void> {
    const db = new URL(env.databaseUrl).pathname.slice(1);
    const deadline = Date.now() + 120_000;
    for (;;) {
      const waiting = await env.deps.warehouse.query(
        `SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'
           AND query LIKE '%INSERT INTO "sources"."maintenance_event_versions"%'`,
        [db],
      );
      if (waiting.rowCount) return;
      if (Date.now() > deadline) throw new Error(`the commit never waited on the lock:\n${worker?.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  beforeAll(async () => {
    env = await createTestEnv('srcdb');
    records = {
      adminUrl: testServices().databaseUrl,
      database: `records_${env.id}`,
      reader: { role: `records_reader_${env.id}`, password: `pw-${env.id}` },
    };
    readerUrl = await ensureRecordsDatabase(records);
    const admin = new URL(testServices().databaseUrl);
    admin.pathname = `/${records.database}`;
    source = new pg.Client({ connectionString: admin.toString() });
    await source.connect();
    await insertMaintenanceEvents(source, maintenanceEventRows({ machines: 4, from: '2026-09-01', to: '2026-10-31' }));
    await startWorker();
  });
  afterAll(async () => {
    await worker?.kill('SIGKILL');
    await source?.end();
    await env?.close();
    if (records) await dropRecordsDatabase(records);
  });

  it('connects through a role that cannot write to the source', async () => {
    const reader = new pg.Client({ connectionString: readerUrl });
    await reader.connect();
    try {
      expect((await reader.query('SELECT count(*)::int AS n FROM maintenance_events')).rows[0].n).toBeGreaterThan(0);
      await expect(reader.query("UPDATE maintenance_events SET notes = 'x'")).rejects.toMatchObject({
        code: '25006',
        message: 'cannot execute UPDATE in a read-only transaction',
      });
      // Even a session that turns read-only off has no privilege to write or create anything.
      await reader.query('SET default_transaction_read_only = off');
      await expect(reader.query("UPDATE maintenance_events SET notes = 'x'")).rejects.toMatchObject({
        code: '42501',
        message: 'permission denied for table maintenance_events',
      });
      await expect(reader.query('DELETE FROM maintenance_events')).rejects.toMatchObject({ code: '42501' });
      await expect(reader.query('CREATE TABLE stolen (a int)')).rejects.toMatchObject({ code: '42501' });
      await expect(reader.query('CREATE TEMP TABLE stolen (a int)')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await reader.end();
    }
  });

  it('extracts everything first, then inserts, a late update, a late-committed row and a delete', async () => {
    const seeded = await sourceRows();
    expect(seeded.length).toBeGreaterThan(2 * spec.batchSize);
    const first = await sync();
    expect(first).toMatchObject({ status: 'committed', rowsExtracted: seeded.length, rowsChanged: seeded.length });
    expect(first.versionsAdded).toBe(seeded.length);
    await expectExact();
    const afterFirst = (await watermark())!;
    const firstRun = await env.deps.warehouse.query(
      "SELECT status, rows_extracted::int AS n, watermark_from FROM ops.source_syncs WHERE status = 'committed'",
    );
    expect(firstRun.rows).toEqual([{ status: 'committed', n: seeded.length, watermark_from: null }]);

    // Inserts; a late update of the oldest event; a row whose transaction stamped updated_at 5 minutes before the
    // committed watermark but committed after that sync (inside the 10-minute lookback); a hard delete.
    const nextId = seeded.length + 1;
    await source.query(
      `INSERT INTO maintenance_events (id, machine_id, kind, started_at, ended_at, notes, updated_at) VALUES
         ($1, 'M02', 'corrective', now() - interval '2 hours', NULL, 'Ruído anormal no redutor', now()),
         ($2, 'M03', 'preventive', now() - interval '1 hour', now(), 'Lubrificação', now()),
         ($3, 'M01', 'corrective', $4::timestamptz - interval '40 minutes', NULL, 'Registro tardio',
          $4::timestamptz - interval '5 minutes')`,
      [nextId, nextId + 1, nextId + 2, afterFirst.ts],
    );
    await source.query(
      "UPDATE maintenance_events SET notes = notes || ' — peça trocada de novo', updated_at = now() WHERE id = 1",
    );
    await source.query('DELETE FROM maintenance_events WHERE id = 2');
    // A bulk import: ten events with one updated_at, more than a batch, ids crossing 99 → 100 (keyset paging must
    // order ties by the typed key).
    await source.query(
      `INSERT INTO maintenance_events (id, machine_id, kind, started_at, ended_at, notes, updated_at)
       SELECT i, 'M04', 'preventive', now() - interval '1 day', now() - interval '23 hours', 'Importado', now()
       FROM generate_series(95, 104) AS i`,
    );
    const second = await sync();
    expect(second).toMatchObject({ status: 'committed', rowsChanged: 15, versionsAdded: 15, deleted: 1 });
    await expectExact();

    // Every version is kept: the late update is a second version of event 1; event 2 got a tombstone stamped when
    // the deletion was found (after its last version), and its mirror row is marked, not removed.
    const one = await versionsOf(1);
    expect(one).toHaveLength(2);
    expect(one[1]!.notes).toMatch(/peça trocada de novo$/);
    const two = await versionsOf(2);
    expect(two.map((v) => v.deleted)).toEqual([false, true]);
    expect(two[1]!.updated_at > two[0]!.updated_at).toBe(true);
    const gone = await env.deps.warehouse.query(
      `SELECT ${ISO('deleted_at')} AS deleted_at FROM sources.maintenance_events WHERE id = 2`,
    );
    expect(gone.rows).toEqual([{ deleted_at: two[1]!.updated_at }]);
    expect(await versionsOf(nextId + 2)).toHaveLength(1);

    // Nothing changed: the lookback re-reads recent rows, and they add nothing.
    const versions = await versionCount();
    const third = await sync();
    expect(third.rowsExtracted).toBeGreaterThanOrEqual(13);
    expect(third).toMatchObject({ rowsChanged: 0, versionsAdded: 0, deleted: 0 });
    expect(await versionCount()).toBe(versions);
    await expectExact();
  });

  it('a scheduled firing runs the sync under the source id, and skips while a sync of the source runs', async () => {
    const fire = (n: number) =>
      env.client.workflow.execute(scheduledSourceSyncWorkflow, {
        workflowId: `scheduled-source:${spec.id}:${env.id}:${n}`,
        taskQueue: env.taskQueue,
        args: [{ sourceId: spec.id, spec, syncWorkflowId: workflowId() }],
      });
    await source.query("UPDATE maintenance_events SET notes = 'agendado', updated_at = now() WHERE id = 7");
    let running: Awaited<ReturnType<typeof startSync>> | undefined;
    await withCommitBlocked(async () => {
      running = await startSync();
      await commitWaitingOnLock();
      expect(await fire(1)).toEqual({
        sourceId: spec.id,
        status: 'skipped',
        reason: 'a sync of this source is already running',
      });
    });
    expect(await running!.result()).toMatchObject({ status: 'committed', rowsChanged: 1 });
    await source.query("UPDATE maintenance_events SET notes = 'agendado de novo', updated_at = now() WHERE id = 7");
    expect(await fire(2)).toMatchObject({ status: 'committed', rowsChanged: 1 });
    await expectExact();
  });

  it('a worker killed during the commit: the retried commit loads the extract exactly once', async () => {
    const before = await versionCount();
    const maxId = Number((await source.query('SELECT max(id)::int AS m FROM maintenance_events')).rows[0].m);
    await source.query(
      `INSERT INTO maintenance_events (id, machine_id, kind, started_at, ended_at, notes, updated_at)
       VALUES ($1, 'M04', 'corrective', now(), NULL, 'Parada do alimentador', now())`,
      [maxId + 1],
    );
    await source.query('UPDATE maintenance_events SET ended_at = now(), updated_at = now() WHERE id = 3');
    let handle: Awaited<ReturnType<typeof startSync>> | undefined;
    await withCommitBlocked(async () => {
      handle = await startSync();
      await commitWaitingOnLock();
      // Changed after the extract: not part of this sync, found by the next one.
      await source.query("UPDATE maintenance_events SET notes = 'revisado', updated_at = now() WHERE id = 4");
      await worker!.kill('SIGKILL');
    });
    await startWorker();
    const outcome = await handle!.result();
    expect(outcome).toMatchObject({ status: 'committed', rowsChanged: 2, versionsAdded: 2 });
    const run = await env.deps.warehouse.query(
      "SELECT status, (details->>'commitAttempt')::int AS attempt FROM ops.source_syncs WHERE run_id = $1",
      [handle!.firstExecutionRunId],
    );
    expect(run.rows[0].status).toBe('committed');
    expect(run.rows[0].attempt).toBeGreaterThan(1);
    expect(await versionCount()).toBe(before + 2);

    const next = await sync();
    expect(next).toMatchObject({ rowsChanged: 1, versionsAdded: 1 });
    expect(await versionCount()).toBe(before + 3);
    await expectExact();
  });

  it('a sync that dies between extract and commit leaves the watermark; the next one extracts the rows again', async () => {
    const mark = await watermark();
    const before = await versionCount();
    const maxId = Number((await source.query('SELECT max(id)::int AS m FROM maintenance_events')).rows[0].m);
    await source.query(
      `INSERT INTO maintenance_events (id, machine_id, kind, started_at, ended_at, notes, updated_at)
       VALUES ($1, 'M01', 'preventive', now(), now(), 'Inspeção geral', now())`,
      [maxId + 1],
    );
    await source.query("UPDATE maintenance_events SET kind = 'preventive', updated_at = now() WHERE id = 5");
    await source.query('DELETE FROM maintenance_events WHERE id = 6');
    await withCommitBlocked(async () => {
      const handle = await startSync();
      await commitWaitingOnLock();
      await worker!.kill('SIGKILL');
      await handle.terminate('the sync died between extract and commit');
    });
    expect(await watermark()).toEqual(mark);
    expect(await versionCount()).toBe(before);
    const died = await env.deps.warehouse.query(
      "SELECT status, rows_extracted::int AS n FROM ops.source_syncs WHERE status NOT IN ('committed')",
    );
    expect(died.rows).toEqual([{ status: 'extracted', n: expect.any(Number) }]);

    await startWorker();
    const outcome = await sync();
    expect(outcome).toMatchObject({ status: 'committed', rowsChanged: 3, versionsAdded: 3, deleted: 1 });
    expect(await versionCount()).toBe(before + 3);
    await expectExact();
    const dups = await env.deps.warehouse.query(
      `SELECT count(*)::int AS n, count(DISTINCT (id, updated_at))::int AS d FROM sources.maintenance_event_versions`,
    );
    expect(dups.rows[0].n).toBe(dups.rows[0].d);
  });
});

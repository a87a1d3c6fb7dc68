/**
 * `npm run bench:export`: a month of `production_events` (default 15 machines × 22 working days × 12 hours × 10,000
 * items ≈ 40 M rows, filled straight into the warehouse by SQL) exported to Parquet by `featureExportWorkflow` on a
 * real worker process, against, in the same run, a plain `COPY … TO STDOUT` of the same rows read and discarded by
 * this process (the read limit). Prints rows/s, MB/s and the worker's peak RSS; then checks the files with DuckDB.
 */
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { typedQuery, unpublishedPartitions } from '../activities/export.js';
import { fillSyntheticEvents } from '../infra/generator/synthetic-events.js';
import { startEphemeralServices } from '../infra/services/ephemeral.js';
import { featureExportWorkflow } from '../workflows/feature-export.workflow.js';
import { productionEvents } from '../workflows/features/production-events.featureset.js';
import { check, deployment, fmt, peakRssMiB, startWorkerProcess, stopProcess, type Deployment } from './support.js';

const DAYS = Number(process.env.BENCH_DAYS ?? 22);
const MACHINES = Number(process.env.BENCH_MACHINES ?? 15);
const ITEMS = Number(process.env.BENCH_ITEMS_PER_HOUR ?? 10_000);
const FROM = '2026-06-01';

/** The working days (Mon–Fri) of the benchmark's month. */
function workingDays(): string[] {
  const days: string[] = [];
  for (const d = new Date(`${FROM}T00:00:00Z`); days.length < DAYS; d.setUTCDate(d.getUTCDate() + 1)) {
    if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6) days.push(d.toISOString().slice(0, 10));
  }
  return days;
}

/** Reads `COPY (sql) TO STDOUT` to the end, discarding it; returns seconds and bytes. */
async function copyOut(db: pg.Client, sql: string, options: string): Promise<{ seconds: number; bytes: number }> {
  let bytes = 0;
  const t0 = performance.now();
  await pipeline(
    db.query(copyStreams.to(`COPY (${sql}) TO STDOUT ${options}`)),
    new Writable({
      write(chunk: Buffer, _e, cb) {
        bytes += chunk.length;
        cb();
      },
    }),
  );
  return { seconds: (performance.now() - t0) / 1000, bytes };
}

async function main(): Promise<void> {
  const s = await startEphemeralServices({ log: (l) => console.log(l) });
  const connection = await Connection.connect({ address: s.temporal.address });
  const client = new Client({ connection });
  let d: Deployment | undefined;
  let ok = true;
  try {
    d = await deployment(s, 'export');
    const db = new pg.Client({ connectionString: d.warehouse });
    await db.connect();
    const days = workingDays();
    const from = days[0]!;
    const to = days[days.length - 1]!;
    console.log(
      `filling ${MACHINES} machines × ${DAYS} working days × 12 hours × ${fmt(ITEMS)} items (${from}..${to})…`,
    );
    const fill0 = performance.now();
    for (const day of days) await fillSyntheticEvents(db, { day, machines: MACHINES, itemsPerHour: ITEMS });
    await db.query('VACUUM ANALYZE factory.production_events');
    const rows = Number(
      (await db.query<{ n: string }>('SELECT count(*) AS n FROM factory.production_events')).rows[0]!.n,
    );
    console.log(`${fmt(rows)} rows filled in ${fmt((performance.now() - fill0) / 1000, 1)} s\n`);

    // The read limit: the same rows, plain COPY to this process, discarded.
    const cols = productionEvents.columns.map((c) => c.name).join(', ');
    const plain = await copyOut(db, `SELECT ${cols} FROM factory.production_events`, '');
    const plainRate = rows / plain.seconds;
    console.log(
      `plain COPY TO STDOUT (text): ${fmt(plain.seconds, 1)} s = ${fmt(plainRate)} rows/s, ` +
        `${fmt(plain.bytes / 2 ** 20 / plain.seconds, 1)} MB/s`,
    );
    const binary = await copyOut(db, `SELECT ${cols} FROM factory.production_events`, '(FORMAT binary)');
    console.log(`plain COPY TO STDOUT (binary): ${fmt(binary.seconds, 1)} s = ${fmt(rows / binary.seconds)} rows/s`);
    // What PostgreSQL alone spends on the export's own query (the availability join included), for diagnosis.
    const asOf = new Date().toISOString();
    const { sql: exportSql } = typedQuery(
      productionEvents,
      { exportId: 'probe', spec: productionEvents, from, to, format: 'parquet', training: false },
      asOf,
      from,
      to,
      await unpublishedPartitions(db, productionEvents, from, to, asOf),
    );
    const own = await copyOut(db, exportSql, '(FORMAT binary)');
    console.log(
      `the export's query, COPY binary discarded: ${fmt(own.seconds, 1)} s = ${fmt(rows / own.seconds)} rows/s`,
    );
    await db.end();

    const worker = await startWorkerProcess(d.env);
    const t0 = performance.now();
    const manifest = await client.workflow.execute(featureExportWorkflow, {
      workflowId: 'bench-export',
      taskQueue: d.env.FABRICA_TASK_QUEUE!,
      args: [{ exportId: 'bench', spec: productionEvents, from, to, format: 'parquet', training: false }],
    });
    const seconds = (performance.now() - t0) / 1000;
    const peak = peakRssMiB(worker.pid!);
    await stopProcess(worker);
    const rate = manifest.rowCount / seconds;
    console.log(
      `\nexport to Parquet: ${fmt(manifest.rowCount)} rows in ${manifest.files.length} files, ` +
        `${fmt(manifest.byteCount / 2 ** 20, 1)} MiB, ${fmt(seconds, 1)} s = ${fmt(rate)} rows/s, ` +
        `${fmt(manifest.byteCount / 2 ** 20 / seconds, 1)} MB/s written; worker peak RSS ${fmt(peak)} MiB`,
    );
    if (manifest.rowCount !== rows) throw new Error(`exported ${manifest.rowCount} rows of ${rows}`);

    // Independent read-back: DuckDB counts the rows of every file.
    const instance = await DuckDBInstance.create(':memory:');
    const duck = await instance.connect();
    const list = manifest.files.map((f) => `'${path.join(d!.env.FABRICA_LAKE_DIR!, f.key)}'`).join(', ');
    const read = await duck.runAndReadAll(`SELECT count(*)::DOUBLE AS n FROM read_parquet([${list}])`);
    const readBack = Number(read.getRowObjectsJS()[0]!.n);
    duck.closeSync();
    instance.closeSync();
    console.log(`DuckDB reads back ${fmt(readBack)} rows`);
    if (readBack !== rows) throw new Error('DuckDB read back a different row count');
    ok = check('export rows/s', rate, '>=', 300_000) && ok;
    ok = check('export rate / plain COPY rate', (rate / plainRate) * 100, '>=', 40, ' %') && ok;
    ok = check('worker peak RSS', peak, '<=', 512, ' MiB') && ok;
  } finally {
    if (d) rmSync(d.dir, { recursive: true, force: true });
    await connection.close();
    await s.stop();
  }
  process.exitCode = ok ? 0 : 1;
}

await main();

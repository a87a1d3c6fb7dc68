/**
 * `npm run bench:dashboard`: a year of `factory.machine_yield_hourly` (15 machines × the working hours of ~261 days
 * ≈ 47,000 rows, filled by SQL with their catalog rows: published state, a run and a landed file per partition, 2 %
 * failed) and a month of production events (scrap costs), then every dashboard JSON endpoint timed through the
 * in-process API over HTTP (p50/p95 of N calls after a warm-up) against, in the same run, the same SQL statements
 * (captured from the endpoint's own calls) timed by `psql` (`\timing`, executed one after another: the database's
 * share, the limit). Target: API p95 ≤ 200 ms per endpoint.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { createApp } from '../api/app.js';
import { WAREHOUSE } from '../api/database/database.module.js';
import { fillSyntheticEvents } from '../infra/generator/synthetic-events.js';
import { startEphemeralServices } from '../infra/services/ephemeral.js';
import { newApiKey } from '../worker/api-keys.js';
import { check, deployment, fmt } from './support.js';

const N = Number(process.env.BENCH_CALLS ?? 30);
const MACHINES = 15;
const FROM = '2025-12-01';
const TO = '2026-11-30';
const EVENT_DAYS = Number(process.env.BENCH_EVENT_DAYS ?? 22);
const ITEMS = Number(process.env.BENCH_ITEMS_PER_HOUR ?? 300);
const LIMIT_MS = 200;

/** Fills the year of yield rows and their catalog, the month of events, maintenance events and products. */
async function fill(db: pg.Client): Promise<void> {
  await db.query(
    `CREATE TEMP TABLE parts AS
     SELECT m.id AS machine_id, h.hour AS partition_hour,
       m.id || '@' || to_char(h.hour AT TIME ZONE 'America/Sao_Paulo', 'YYYY-MM-DD"T"HH24') AS partition_key,
       (hashtext(m.id || h.hour::text) & 1023) AS r
     FROM (SELECT 'M' || lpad(n::text, 2, '0') AS id FROM generate_series(1, $3::int) n) m
     CROSS JOIN (SELECT (d::date || ' ' || lpad(hr::text, 2, '0') || ':00:00-03:00')::timestamptz AS hour
                 FROM generate_series($1::date, $2::date, interval '1 day') d CROSS JOIN generate_series(6, 17) hr
                 WHERE extract(isodow FROM d) < 6) h`,
    [FROM, TO, MACHINES],
  );
  // 2 % of the partitions failed (no yield row), the rest published.
  await db.query(
    `INSERT INTO factory.machine_yield_hourly (partition_hour, machine_id, items, ok, scrap, rework, yield_pct,
       cycle_ms_mean, cycle_ms_p95, temp_c_mean, vibration_max, downtime_minutes, energy_wh, quarantined, duplicates,
       firmware, source_sha256)
     SELECT partition_hour, machine_id, 1000, 1000 - 20 - r % 40, 10 + r % 30, 10 + r % 10, (1000 - 20 - r % 40) / 10.0,
       800 + r % 100, 950 + r % 100, 60 + r % 20, 2 + (r % 300) / 100.0, r % 15,
       CASE WHEN machine_id < 'M04' THEN 5000 + r END, r % 3, r % 2, 'fw-3.1', md5(partition_key)
     FROM parts WHERE r >= 20`,
  );
  await db.query(
    `INSERT INTO ops.partition_state (dataset, partition_key, content_sha256, run_id, rows, loaded_at)
     SELECT 'machine_yield_hourly', partition_key, md5(partition_key), 'run-' || partition_key, 1,
       partition_hour + interval '1 hour 3 minutes'
     FROM parts WHERE r >= 20`,
  );
  await db.query(
    `INSERT INTO ops.runs (run_id, workflow_id, pipeline, partition_key, run_kind, status, failure_type,
       failure_message, source_key, content_sha256, started_at, finished_at)
     SELECT 'run-' || partition_key, 'run:factory-machine-signals:' || partition_key, 'factory-machine-signals',
       partition_key, 'sensor', CASE WHEN r < 20 THEN 'failed' ELSE 'succeeded' END,
       CASE WHEN r < 20 THEN 'ContractBroken' END, CASE WHEN r < 20 THEN 'missing column(s) vibration_mm_s' END,
       replace(partition_key, '@', '_') || '.txt', md5(partition_key),
       partition_hour + interval '1 hour 1 minute', partition_hour + interval '1 hour 3 minutes'
     FROM parts`,
  );
  await db.query(
    `INSERT INTO ops.landed_files (pipeline, object_key, etag, size, partition_key, state, first_seen_at, completed_at)
     SELECT 'factory-machine-signals', replace(partition_key, '@', '_') || '.txt', md5(partition_key), 100000,
       partition_key, 'dispatched', partition_hour + interval '1 hour', partition_hour + interval '1 hour'
     FROM parts`,
  );
  await db.query(
    `INSERT INTO sources.maintenance_events (id, machine_id, kind, started_at, ended_at, notes, updated_at, loaded_at)
     SELECT n, 'M' || lpad((1 + n % $1)::text, 2, '0'), CASE WHEN n % 3 = 0 THEN 'corrective' ELSE 'preventive' END,
       $2::timestamptz + (n * interval '1 day') / 6, $2::timestamptz + (n * interval '1 day') / 6 + interval '1 hour',
       'bench', now(), now()
     FROM generate_series(1, 2000) n`,
    [MACHINES, `${FROM}T12:00:00Z`],
  );
  const eventDays: string[] = [];
  for (const d = new Date(`${TO}T00:00:00Z`); eventDays.length < EVENT_DAYS; d.setUTCDate(d.getUTCDate() - 1))
    if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6) eventDays.push(d.toISOString().slice(0, 10));
  for (const day of eventDays) await fillSyntheticEvents(db, { day, machines: MACHINES, itemsPerHour: ITEMS });
  await db.query(
    `INSERT INTO sources.products (sku, name, category, unit_cost, updated_at, loaded_at)
     SELECT DISTINCT sku, 'Product ' || sku, 'household', 2.5, now(), now() FROM factory.production_events`,
  );
  await db.query('ANALYZE');
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

/** A statement with its parameters written as literals (psql 15 has no `\bind`). */
function inline(text: string, values: unknown[] | undefined): string {
  return text.replace(/\$(\d+)/g, (_m, i: string) => {
    const v = values?.[Number(i) - 1];
    if (v === null || v === undefined) return 'NULL';
    if (Array.isArray(v))
      return pg.escapeLiteral(`{${v.map((x) => `"${String(x).replace(/["\\]/g, '\\$&')}"`).join(',')}}`);
    if (v instanceof Date) return pg.escapeLiteral(v.toISOString());
    if (typeof v === 'string') return pg.escapeLiteral(v);
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return pg.escapeLiteral(v.toString());
    return pg.escapeLiteral(JSON.stringify(v));
  });
}

/** Runs the statements `n` times in one psql session with `\timing`; per-iteration total milliseconds. */
function psqlTimes(url: string, dir: string, statements: string[], n: number): number[] {
  const file = path.join(dir, 'bench.sql');
  const body = statements.map((s) => `${s.trim().replace(/;?$/, ';')}\n`).join('');
  writeFileSync(file, `\\timing on\n\\o /dev/null\n${Array.from({ length: n }, () => body).join('')}`);
  const r = spawnSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-f', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
  const times = [...r.stdout.matchAll(/Time: ([\d.]+) ms/g)].map((m) => Number(m[1]));
  const per: number[] = [];
  for (let i = 0; i < n; i++)
    per.push(times.slice(i * statements.length, (i + 1) * statements.length).reduce((a, b) => a + b, 0));
  return per;
}

async function main(): Promise<void> {
  const s = await startEphemeralServices({ log: (l) => console.log(l) });
  let ok = true;
  try {
    const d = await deployment(s, 'dashboard');
    const db = new pg.Client({ connectionString: d.warehouse });
    await db.connect();
    console.log(
      `filling a year of machine-hours (${FROM}..${TO}, ${MACHINES} machines) and ${EVENT_DAYS} days of events…`,
    );
    const t0 = performance.now();
    await fill(db);
    const counts = (
      await db.query<{ y: string; e: string }>(
        'SELECT (SELECT count(*) FROM factory.machine_yield_hourly) AS y, (SELECT count(*) FROM factory.production_events) AS e',
      )
    ).rows[0]!;
    console.log(
      `${fmt(Number(counts.y))} yield rows, ${fmt(Number(counts.e))} events in ${fmt((performance.now() - t0) / 1000, 1)} s\n`,
    );
    await db.end();

    const key = newApiKey('bench', 'viewer');
    Object.assign(process.env, d.env, { FABRICA_API_KEYS: key.entry });
    const app = await createApp({ logger: false });
    await app.listen(0, '127.0.0.1');
    const port = (app.getHttpServer().address() as AddressInfo).port;
    // Captures the statements each endpoint runs, to time the same SQL in psql.
    const pool = app.get<pg.Pool>(WAREHOUSE);
    let captured: string[] | undefined;
    const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
    (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      if (captured && typeof args[0] === 'string') captured.push(inline(args[0], args[1] as unknown[] | undefined));
      return query(...args);
    };
    const now = '2026-11-30T19:30:00Z';
    const endpoints: [string, string][] = [
      ['heatmap (a day)', `/yield/heatmap?day=2026-11-27&now=${now}`],
      ['trends (3 days, hourly)', `/yield/trends?from=2026-11-25&to=2026-11-27&now=${now}`],
      ['trends (a month, daily)', `/yield/trends?from=2026-11-01&to=2026-11-30&now=${now}`],
      ['trends (a year, daily)', `/yield/trends?from=${FROM}&to=${TO}&now=${now}`],
      ['trends (a year, 1 machine)', `/yield/trends?from=${FROM}&to=${TO}&machines=M07&now=${now}`],
      ['scrap (a month)', `/yield/scrap?from=2026-11-01&to=2026-11-30&now=${now}`],
      ['lab (a month)', `/yield/lab?from=2026-11-01&to=2026-11-30&now=${now}`],
      ['freshness', `/freshness?now=${now}`],
      ['pipelines (24 h)', `/pipelines?now=${now}&hours=24`],
      ['pipelines (a week)', `/pipelines?now=${now}&hours=168`],
      ['exports', '/exports'],
      ['partition', '/partition?partition=M07@2026-11-27T10'],
    ];
    const rows: string[][] = [];
    for (const [label, url] of endpoints) {
      const call = async () => {
        const t = performance.now();
        // A fresh connection per call: a kept-alive one may be closed by the server while psql runs.
        const status = await new Promise<number>((resolve, reject) => {
          const req = http.get(
            `http://127.0.0.1:${port}/api/v1/dashboard${url}`,
            { agent: false, headers: { 'X-API-Key': key.key } },
            (res) => {
              res.on('data', () => undefined);
              res.on('end', () => resolve(res.statusCode ?? 0));
              res.on('error', reject);
            },
          );
          req.on('error', reject);
        });
        if (status !== 200) throw new Error(`${url}: HTTP ${status}`);
        return performance.now() - t;
      };
      captured = [];
      await call();
      const statements = captured;
      captured = undefined;
      for (let i = 0; i < 3; i++) await call();
      const times: number[] = [];
      for (let i = 0; i < N; i++) times.push(await call());
      const sql = psqlTimes(d.warehouse, d.dir, statements, N);
      const p95 = pct(times, 95);
      rows.push([
        label,
        fmt(pct(times, 50), 1),
        fmt(p95, 1),
        fmt(pct(sql, 50), 1),
        fmt(pct(sql, 95), 1),
        String(statements.length),
      ]);
      ok = check(`${label} API p95`, p95, '<=', LIMIT_MS, ' ms') && ok;
    }
    await app.close();
    console.log('');
    const widths = [28, 10, 10, 10, 10, 6];
    const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' ');
    console.log(line(['endpoint', 'API p50', 'API p95', 'psql p50', 'psql p95', 'stmts']));
    for (const r of rows) console.log(line(r));
    console.log(`\n(ms over ${N} calls; psql: the endpoint's statements one after another, parameters inlined)`);
  } finally {
    await s.stop();
  }
  process.exitCode = ok ? 0 : 1;
}

await main();

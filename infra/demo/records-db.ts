import pg from 'pg';
import { dayIndex, parseDate } from '../generator/calendar.js';
import { machineProfiles } from '../generator/catalog.js';
import { hashSeed, Rng } from '../generator/prng.js';
import { ensureDatabases } from '../services/postgres.js';

/** One row of the records system's `maintenance_events`. */
export interface MaintenanceEventRow {
  id: number;
  machine_id: string;
  kind: 'preventive' | 'corrective';
  /** ISO-8601 UTC instants (milliseconds). */
  started_at: string;
  ended_at: string | null;
  notes: string;
  updated_at: string;
}

/** Where the demo records database lives and who reads it. */
export interface RecordsDatabaseOptions {
  /** A superuser connection to the server (any database). */
  adminUrl: string;
  database: string;
  /** The read-only role Fábrica connects with. */
  reader: { role: string; password: string };
}

/** The records system's table, as the case study describes it (created by the records system, not by Fábrica). */
export const MAINTENANCE_EVENTS_DDL = `
CREATE TABLE IF NOT EXISTS public.maintenance_events (
  id         bigint PRIMARY KEY,
  machine_id text NOT NULL,
  kind       text NOT NULL CHECK (kind IN ('preventive', 'corrective')),
  started_at timestamptz NOT NULL,
  ended_at   timestamptz,
  notes      text,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS maintenance_events_changes ON public.maintenance_events (updated_at, id);`;

function urlOf(base: string, database: string, user?: { role: string; password: string }): string {
  const u = new URL(base);
  u.pathname = `/${database}`;
  if (user) {
    u.username = encodeURIComponent(user.role);
    u.password = encodeURIComponent(user.password);
  }
  return u.toString();
}

/**
 * Creates (idempotently) the stand-in of the manufacturing-records database: the database, its `maintenance_events`
 * table, and a read-only role for Fábrica — LOGIN, nothing but CONNECT, USAGE on the schema and SELECT on the table,
 * no temporary tables, `default_transaction_read_only = on`. Returns the role's connection URL.
 */
export async function ensureRecordsDatabase(o: RecordsDatabaseOptions): Promise<string> {
  await ensureDatabases(o.adminUrl, [o.database]);
  const client = new pg.Client({ connectionString: urlOf(o.adminUrl, o.database) });
  await client.connect();
  try {
    await client.query(MAINTENANCE_EVENTS_DDL);
    const role = pg.escapeIdentifier(o.reader.role);
    const db = pg.escapeIdentifier(o.database);
    const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [o.reader.role]);
    if (exists.rowCount === 0) await client.query(`CREATE ROLE ${role}`);
    await client.query(
      `ALTER ROLE ${role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS
         PASSWORD ${pg.escapeLiteral(o.reader.password)}`,
    );
    await client.query(`ALTER ROLE ${role} SET default_transaction_read_only = on`);
    await client.query(`REVOKE ALL ON DATABASE ${db} FROM PUBLIC`);
    await client.query(`GRANT CONNECT ON DATABASE ${db} TO ${role}`);
    await client.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
    await client.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
    await client.query(`GRANT SELECT ON public.maintenance_events TO ${role}`);
  } finally {
    await client.end();
  }
  return urlOf(o.adminUrl, o.database, o.reader);
}

/** Drops a records database and its reader role (tests). */
export async function dropRecordsDatabase(o: RecordsDatabaseOptions): Promise<void> {
  const client = new pg.Client({ connectionString: o.adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(o.database)} WITH (FORCE)`);
    await client.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(o.reader.role)}`);
  } finally {
    await client.end();
  }
}

const PREVENTIVE_NOTES = [
  'Troca de rolamentos e lubrificação geral',
  'Calibração dos sensores de temperatura',
  'Substituição das correias e ajuste de tensão',
  'Limpeza do molde e inspeção das guias',
  'Revisão do sistema hidráulico',
];
const CORRECTIVE_NOTES = [
  'Parada por vibração excessiva no eixo principal',
  'Superaquecimento do motor; ventilador substituído',
  'Falha no sensor de fim de curso',
  'Vazamento de óleo na unidade hidráulica',
  'Desalinhamento da esteira de saída',
];

/**
 * The demo's maintenance events, deterministic from (machines, days, seed): a preventive maintenance on the day each
 * machine's wear cycle restarts (early morning, before the shift; the generator's machines drift until then), some
 * corrective stops late in the cycle (during working hours), a quarter of them revised 1–3 days later (their
 * `updated_at` moves), and the last corrective stop still open (`ended_at` null) when it is recent. Every instant is
 * before the end of `to`, which must not be in the future (a future `updated_at` would run ahead of the watermark).
 */
export function maintenanceEventRows(o: {
  machines: number;
  from: string;
  to: string;
  seed?: number;
}): MaintenanceEventRow[] {
  const start = parseDate(o.from);
  const end = parseDate(o.to);
  if (start === undefined || end === undefined || end < start) throw new Error(`invalid range ${o.from}..${o.to}`);
  const endMs = end + 86_400_000 - 1;
  const seed = o.seed ?? 2026;
  const events: Omit<MaintenanceEventRow, 'id'>[] = [];
  const iso = (ms: number) => new Date(Math.min(ms, endMs)).toISOString();
  for (const profile of machineProfiles(o.machines, { latin1: true, energy: true })) {
    const rng = new Rng(hashSeed(seed, 'maintenance', profile.id, o.from));
    for (let day = start; day <= end; day += 86_400_000) {
      const date = new Date(day).toISOString().slice(0, 10);
      const inCycle =
        (((dayIndex(`${date}T00`) + profile.wearPhaseDays) % profile.wearCycleDays) + profile.wearCycleDays) %
        profile.wearCycleDays;
      // Local (-03:00) wall clock → UTC: +3 h.
      const local = (hour: number, minute: number) => day + (hour + 3) * 3_600_000 + minute * 60_000;
      if (inCycle === 0) {
        const started = local(4, rng.int(0, 50));
        const ended = started + rng.int(60, 110) * 60_000;
        events.push({
          machine_id: profile.id,
          kind: 'preventive',
          started_at: iso(started),
          ended_at: iso(ended),
          notes: rng.pick(PREVENTIVE_NOTES),
          updated_at: iso(ended + rng.int(5, 30) * 60_000),
        });
      } else if (inCycle >= profile.wearCycleDays - 4 && rng.chance(0.2)) {
        const started = local(rng.int(7, 15), rng.int(0, 59));
        const ended = started + rng.int(30, 180) * 60_000;
        const open = ended > endMs;
        events.push({
          machine_id: profile.id,
          kind: 'corrective',
          started_at: iso(started),
          ended_at: open ? null : iso(ended),
          notes: rng.pick(CORRECTIVE_NOTES),
          updated_at: iso(open ? started + 5 * 60_000 : ended + rng.int(5, 30) * 60_000),
        });
      }
    }
  }
  events.sort((a, b) => a.started_at.localeCompare(b.started_at) || a.machine_id.localeCompare(b.machine_id));
  const rng = new Rng(hashSeed(seed, 'revisions', o.from, o.to));
  return events.map((e, i) => {
    const row: MaintenanceEventRow = { id: i + 1, ...e };
    if (rng.chance(0.25)) {
      const revised = Date.parse(e.updated_at) + rng.int(1, 3) * 86_400_000 + rng.int(0, 600) * 60_000;
      if (revised <= endMs)
        Object.assign(row, { notes: `${e.notes} (revisado pela engenharia)`, updated_at: iso(revised) });
    }
    return row;
  });
}

/** Inserts rows into a records database's `maintenance_events` (as the records system would); returns their number. */
export async function insertMaintenanceEvents(
  client: pg.ClientBase,
  rows: readonly MaintenanceEventRow[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const res = await client.query(
    `INSERT INTO public.maintenance_events (id, machine_id, kind, started_at, ended_at, notes, updated_at)
     SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(id bigint, machine_id text, kind text, started_at timestamptz,
       ended_at timestamptz, notes text, updated_at timestamptz)`,
    [JSON.stringify(rows)],
  );
  return res.rowCount ?? 0;
}

/**
 * The records stand-in of `npm start`: ensures the database and role, and seeds the events of the demo machines over
 * the `days` days up to yesterday when the table is empty. Returns the reader's URL.
 */
export async function ensureDemoRecords(
  o: RecordsDatabaseOptions & { machines: number; days: number },
): Promise<string> {
  const url = await ensureRecordsDatabase(o);
  const client = new pg.Client({ connectionString: urlOf(o.adminUrl, o.database) });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM public.maintenance_events');
    if (rows[0]!.n === 0) {
      const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
      const from = new Date(Date.parse(yesterday) - (o.days - 1) * 86_400_000).toISOString().slice(0, 10);
      await insertMaintenanceEvents(client, maintenanceEventRows({ machines: o.machines, from, to: yesterday }));
    }
  } finally {
    await client.end();
  }
  return url;
}

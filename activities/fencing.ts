import type pg from 'pg';
import { cancellationSignal, heartbeat, throwIfCancelled, warn } from './activity-context.js';

/** The session tag of a fenced transaction: `application_name`, local to the transaction (at most 63 bytes). */
export function fenceTag(role: 'load' | 'serve', runId: string, attempt: number): string {
  return `fabrica:${role}:${runId}:${attempt}`;
}

/**
 * Takes a transaction-scoped advisory lock on `key` inside the open transaction of `client`, fencing off older
 * attempts of the same run.
 *
 * Temporal starts attempt n+1 of an activity only once attempt n stopped heartbeating or timed out — but a worker
 * frozen (SIGSTOP, a long GC pause, a suspended VM) still holds its session and the lock, and would block the new
 * attempt for as long as it sleeps, then write late. So the transaction is tagged with its run and attempt
 * (`application_name`), the lock is tried rather than waited on, and a holder that is an OLDER attempt of the SAME
 * run is terminated (`pg_terminate_backend`): its transaction rolls back, its late writes never land. A holder of any
 * other run is waited for (runs of one partition are serialized by Temporal, so that wait is short).
 */
export async function lockFenced(
  client: pg.PoolClient,
  o: { key: string; role: 'load' | 'serve'; runId: string; attempt: number; pollMs?: number },
): Promise<void> {
  await client.query("SELECT set_config('application_name', $1, true)", [fenceTag(o.role, o.runId, o.attempt)]);
  const signal = cancellationSignal();
  for (;;) {
    const got = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ok', [o.key]);
    if (got.rows[0]?.ok) return;
    await client.query('SELECT pg_stat_clear_snapshot()'); // pg_stat_activity is otherwise frozen for the transaction
    const older = await client.query<{ pid: number; application_name: string }>(
      `SELECT pid, application_name FROM pg_stat_activity
        WHERE pid <> pg_backend_pid() AND datname = current_database() AND starts_with(application_name, $1)`,
      [`fabrica:${o.role}:${o.runId}:`],
    );
    for (const s of older.rows) {
      const theirs = Number(s.application_name.split(':').pop());
      if (Number.isInteger(theirs) && theirs < o.attempt) {
        warn('fencing off an older attempt of this run', { key: o.key, pid: s.pid, attempt: theirs, mine: o.attempt });
        await client.query('SELECT pg_terminate_backend($1)', [s.pid]);
      }
    }
    heartbeat({ waitingForLock: o.key });
    throwIfCancelled();
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, o.pollMs ?? 500);
      signal.addEventListener('abort', done, { once: true });
    });
    throwIfCancelled();
  }
}

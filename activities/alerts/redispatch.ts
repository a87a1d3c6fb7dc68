import type pg from 'pg';
import type { AlertSink } from './sink.js';

/**
 * The outbox's safety net: signals every group with an alert raised (or resolved) more than `graceSeconds` ago that
 * no delivery plan has taken into account yet (its raise's signal was lost). Returns the groups signalled.
 */
export async function redispatchUnplanned(
  db: Pick<pg.Pool, 'query'>,
  sink: AlertSink,
  graceSeconds = 60,
): Promise<string[]> {
  const { rows } = await db.query<{ group_key: string }>(
    `SELECT DISTINCT group_key FROM ops.alerts
     WHERE (planned_at IS NULL OR (resolved_at IS NOT NULL AND resolution_planned_at IS NULL))
       AND coalesce(resolved_at, created_at) < now() - make_interval(secs => $1)
     LIMIT 1000`,
    [graceSeconds],
  );
  const groups = rows.map((r) => r.group_key);
  await sink.changed(groups);
  return groups;
}

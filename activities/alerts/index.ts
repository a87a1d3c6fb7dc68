import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import { routes, type AlertChannel } from '../../worker/alert-channels.js';
import type { AlertActivities, DeliveryPlan } from '../../workflows/alert-delivery.workflow.js';
import type { AlertForMessage } from './messages.js';
import { send } from './send.js';

/** What alert delivery needs: the configured channels and the dashboard's base URL (links). */
export interface AlertDeliveryDeps {
  warehouse: pg.Pool;
  channels: AlertChannel[];
  publicUrl: string;
}

interface AlertRow {
  id: string;
  kind: string;
  severity: string;
  pipeline: string;
  partition_key: string | null;
  run_id: string | null;
  message: string;
  created_at: Date;
  resolved_at: Date | null;
  acknowledged_at: Date | null;
  silenced: boolean;
}

interface DeliveryRow {
  id: string;
  channel: string;
  event: 'firing' | 'resolved';
  sequence: number;
  status: string;
  alert_ids: string[];
}

const key = (channel: string, groupKey: string, event: string, sequence: number) =>
  `fabrica:${channel}:${groupKey}:${event}:${sequence}`;

/** The group's alerts, each with whether an active silence matches it now. */
async function groupAlerts(db: pg.PoolClient, groupKey: string): Promise<AlertRow[]> {
  const { rows } = await db.query<AlertRow>(
    `SELECT a.id, a.kind, a.severity, a.pipeline, a.partition_key, a.run_id, a.message, a.created_at, a.resolved_at,
            a.acknowledged_at,
            EXISTS (SELECT 1 FROM ops.alert_silences s
                    WHERE now() >= s.starts_at AND now() < s.ends_at
                      AND (s.pipeline IS NULL OR s.pipeline = a.pipeline)
                      AND (s.kind IS NULL OR s.kind = a.kind)
                      AND (s.partition_prefix IS NULL OR starts_with(coalesce(a.partition_key, ''), s.partition_prefix)))
              AS silenced
     FROM ops.alerts a WHERE a.group_key = $1 ORDER BY a.id`,
    [groupKey],
  );
  return rows;
}

/**
 * Plans one channel's next messages for the group (pure: the rows in, the rows to insert out):
 * - routed open alerts no delivery of this channel has taken yet go out in one firing message (or one `silenced`
 *   record while a silence matches them);
 * - a reminder re-sends every open, unacknowledged, unsilenced routed alert;
 * - once every alert this channel announced is resolved, one resolved message for its last firing message.
 */
export function planChannel(
  channel: AlertChannel,
  alerts: AlertRow[],
  deliveries: DeliveryRow[],
  reminder: boolean,
): { event: 'firing' | 'resolved'; sequence: number; status: 'pending' | 'silenced'; alertIds: string[] }[] {
  const routed = alerts.filter((a) => routes(channel, a));
  const mine = deliveries.filter((d) => d.channel === channel.id);
  const firing = mine.filter((d) => d.event === 'firing');
  const taken = new Set(firing.flatMap((d) => d.alert_ids.map(String)));
  const announced = new Set(firing.filter((d) => d.status !== 'silenced').flatMap((d) => d.alert_ids.map(String)));
  let sequence = firing.reduce((n, d) => Math.max(n, d.sequence), 0);
  const out: ReturnType<typeof planChannel> = [];
  const fresh = routed.filter((a) => !a.resolved_at && !taken.has(String(a.id)));
  const loud = fresh.filter((a) => !a.silenced);
  const quiet = fresh.filter((a) => a.silenced);
  const reminded = reminder
    ? routed.filter((a) => !a.resolved_at && !a.silenced && !a.acknowledged_at && announced.has(String(a.id)))
    : [];
  const send = [...reminded, ...loud];
  if (send.length > 0)
    out.push({ event: 'firing', sequence: ++sequence, status: 'pending', alertIds: send.map((a) => a.id) });
  if (quiet.length > 0)
    out.push({ event: 'firing', sequence: sequence + 1, status: 'silenced', alertIds: quiet.map((a) => a.id) });
  const announcedAlerts = routed.filter((a) => announced.has(String(a.id)) || send.includes(a));
  const lastLoud = [...firing.filter((d) => d.status !== 'silenced'), ...out.filter((d) => d.status === 'pending')]
    .map((d) => d.sequence)
    .reduce((n, s) => Math.max(n, s), 0);
  const resolvedSent = mine.some((d) => d.event === 'resolved' && d.sequence === lastLoud);
  if (
    lastLoud > 0 &&
    !resolvedSent &&
    announcedAlerts.length > 0 &&
    announcedAlerts.every((a) => a.resolved_at) &&
    send.length === 0
  )
    out.push({ event: 'resolved', sequence: lastLoud, status: 'pending', alertIds: announcedAlerts.map((a) => a.id) });
  return out;
}

const asMessageAlert = (a: AlertRow): AlertForMessage => ({
  id: Number(a.id),
  kind: a.kind,
  severity: a.severity,
  pipeline: a.pipeline,
  partition: a.partition_key,
  runId: a.run_id,
  message: a.message,
  createdAt: a.created_at.toISOString(),
  resolvedAt: a.resolved_at?.toISOString() ?? null,
});

/** The alert delivery activities, bound to the warehouse and the configured channels. */
export function createAlertActivities(deps: AlertDeliveryDeps): AlertActivities {
  const channels = new Map(deps.channels.map((c) => [c.id, c]));
  return {
    async planAlertDeliveries({ groupKey, reminder }): Promise<DeliveryPlan> {
      const db = await deps.warehouse.connect();
      try {
        await db.query('BEGIN');
        // One planner per group at a time, even across workflow runs of the same group.
        await db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`fabrica.alerts:${groupKey}`]);
        const alerts = await groupAlerts(db, groupKey);
        const { rows: deliveries } = await db.query<DeliveryRow>(
          'SELECT id, channel, event, sequence, status, alert_ids FROM ops.alert_deliveries WHERE group_key = $1',
          [groupKey],
        );
        for (const channel of deps.channels)
          for (const d of planChannel(channel, alerts, deliveries, reminder))
            await db.query(
              `INSERT INTO ops.alert_deliveries (channel, group_key, event, sequence, idempotency_key, alert_ids, status)
               VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (idempotency_key) DO NOTHING`,
              [
                channel.id,
                groupKey,
                d.event,
                d.sequence,
                key(channel.id, groupKey, d.event, d.sequence),
                d.alertIds,
                d.status,
              ],
            );
        await db.query(
          `UPDATE ops.alerts SET planned_at = coalesce(planned_at, now()),
             resolution_planned_at = CASE WHEN resolved_at IS NOT NULL THEN coalesce(resolution_planned_at, now()) END
           WHERE group_key = $1`,
          [groupKey],
        );
        const { rows: pending } = await db.query<{ id: string; channel: string; event: 'firing' | 'resolved' }>(
          "SELECT id, channel, event FROM ops.alert_deliveries WHERE group_key = $1 AND status = 'pending' ORDER BY id",
          [groupKey],
        );
        await db.query('COMMIT');
        return {
          deliveries: pending.map((p) => ({ id: Number(p.id), channel: p.channel, event: p.event })),
          open: alerts.some((a) => !a.resolved_at),
        };
      } catch (err) {
        await db.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        db.release();
      }
    },

    async deliverAlert({ deliveryId }): Promise<void> {
      const { rows } = await deps.warehouse.query<DeliveryRow & { group_key: string; idempotency_key: string }>(
        `UPDATE ops.alert_deliveries SET attempts = attempts + 1 WHERE id = $1
         RETURNING id, channel, group_key, event, sequence, status, alert_ids, idempotency_key`,
        [deliveryId],
      );
      const d = rows[0];
      if (!d) throw ApplicationFailure.nonRetryable(`delivery ${deliveryId} does not exist`, 'DeliveryNotFound');
      if (d.status !== 'pending') return;
      const channel = channels.get(d.channel);
      if (!channel) {
        const message = `channel "${d.channel}" is no longer configured`;
        await deps.warehouse.query(
          "UPDATE ops.alert_deliveries SET status = 'failed', last_error = $2 WHERE id = $1 AND status = 'pending'",
          [deliveryId, message],
        );
        throw ApplicationFailure.nonRetryable(message, 'ChannelUnknown');
      }
      const { rows: alerts } = await deps.warehouse.query<AlertRow>(
        `SELECT id, kind, severity, pipeline, partition_key, run_id, message, created_at, resolved_at
         FROM ops.alerts WHERE id = ANY($1) ORDER BY id`,
        [d.alert_ids],
      );
      const outcome = await send(channel, {
        idempotencyKey: d.idempotency_key,
        event: d.event,
        groupKey: d.group_key,
        channel: d.channel,
        sequence: d.sequence,
        alerts: alerts.map(asMessageAlert),
        publicUrl: deps.publicUrl,
      });
      if (outcome.ok) {
        await deps.warehouse.query(
          `UPDATE ops.alert_deliveries SET status = 'delivered', delivered_at = now(), last_error = NULL
           WHERE id = $1 AND status = 'pending'`,
          [deliveryId],
        );
        return;
      }
      await deps.warehouse.query(
        `UPDATE ops.alert_deliveries SET last_error = $2, status = CASE WHEN $3 THEN 'failed' ELSE status END
         WHERE id = $1 AND status = 'pending'`,
        [deliveryId, outcome.error, outcome.permanent],
      );
      if (outcome.permanent) throw ApplicationFailure.nonRetryable(outcome.error, 'DeliveryRejected');
      throw ApplicationFailure.create({
        message: outcome.error,
        type: 'ChannelUnavailable',
        nextRetryDelay: outcome.retryAfterSeconds ? `${outcome.retryAfterSeconds} seconds` : undefined,
      });
    },

    async recordDeliveryGaveUp({ deliveryId, message }): Promise<void> {
      await deps.warehouse.query(
        `UPDATE ops.alert_deliveries SET status = 'failed', last_error = coalesce(last_error, $2)
         WHERE id = $1 AND status = 'pending'`,
        [deliveryId, message],
      );
    },
  };
}

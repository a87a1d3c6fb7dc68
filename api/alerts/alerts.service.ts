import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import type { AlertForMessage } from '../../activities/alerts/messages.js';
import type { FabricaConfig } from '../../worker/config.js';
import { PIPELINES } from '../../activities/registry/pipelines.js';
import { SOURCES } from '../../workflows/sources/index.js';
import { InvalidInputError, NotFoundError } from '../common/errors.js';
import { CONFIG } from '../config/config.module.js';
import { WAREHOUSE } from '../database/database.module.js';
import type { CreateSilenceDto, ListAlertsDto, ListDeliveriesDto } from './dto/alerts.dto.js';

/** An alert as the API shows it: what a message shows, plus its group and acknowledgement. */
export interface AlertView extends AlertForMessage {
  groupKey: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  ackComment: string | null;
  deliveries?: DeliveryView[];
}

/** One message to one channel. */
export interface DeliveryView {
  id: number;
  channel: string;
  groupKey: string;
  event: string;
  sequence: number;
  idempotencyKey: string;
  alertIds: number[];
  status: string;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

type AlertRow = Record<string, unknown> & {
  id: string;
  created_at: Date;
  resolved_at: Date | null;
  acknowledged_at: Date | null;
};

function alertView(r: AlertRow): AlertView {
  return {
    id: Number(r.id),
    kind: r.kind as string,
    severity: r.severity as string,
    pipeline: r.pipeline as string,
    partition: (r.partition_key as string | null) ?? null,
    runId: (r.run_id as string | null) ?? null,
    message: r.message as string,
    groupKey: r.group_key as string,
    createdAt: r.created_at.toISOString(),
    resolvedAt: iso(r.resolved_at),
    acknowledgedAt: iso(r.acknowledged_at),
    acknowledgedBy: (r.acknowledged_by as string | null) ?? null,
    ackComment: (r.ack_comment as string | null) ?? null,
  };
}

function deliveryView(r: Record<string, unknown>): DeliveryView {
  return {
    id: Number(r.id),
    channel: r.channel as string,
    groupKey: r.group_key as string,
    event: r.event as string,
    sequence: r.sequence as number,
    idempotencyKey: r.idempotency_key as string,
    alertIds: (r.alert_ids as string[]).map(Number),
    status: r.status as string,
    attempts: r.attempts as number,
    lastError: (r.last_error as string | null) ?? null,
    createdAt: (r.created_at as Date).toISOString(),
    deliveredAt: iso(r.delivered_at as Date | null),
  };
}

const ALERT_COLUMNS = `id, kind, severity, pipeline, partition_key, run_id, message, group_key, created_at, resolved_at,
  acknowledged_at, acknowledged_by, ack_comment`;

/** Alerts, their deliveries, acknowledgements and silences (the catalog's `ops.alert*` tables). */
@Injectable()
export class AlertsService {
  constructor(
    @Inject(WAREHOUSE) private readonly db: pg.Pool,
    @Inject(CONFIG) private readonly config: FabricaConfig,
  ) {}

  async list(q: ListAlertsDto): Promise<{ items: AlertView[] }> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.state === 'open') where.push('resolved_at IS NULL');
    if (q.state === 'resolved') where.push('resolved_at IS NOT NULL');
    if (q.pipeline) where.push(`pipeline = $${args.push(q.pipeline)}`);
    if (q.kind) where.push(`kind = $${args.push(q.kind)}`);
    const { rows } = await this.db.query<AlertRow>(
      `SELECT ${ALERT_COLUMNS} FROM ops.alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, id DESC LIMIT $${args.push(q.limit)}`,
      args,
    );
    return { items: rows.map(alertView) };
  }

  async get(id: number): Promise<AlertView> {
    const { rows } = await this.db.query<AlertRow>(`SELECT ${ALERT_COLUMNS} FROM ops.alerts WHERE id = $1`, [id]);
    if (!rows[0]) throw new NotFoundError('alert', String(id));
    const deliveries = await this.db.query('SELECT * FROM ops.alert_deliveries WHERE $1 = ANY(alert_ids) ORDER BY id', [
      id,
    ]);
    return { ...alertView(rows[0]), deliveries: deliveries.rows.map(deliveryView) };
  }

  /** Acknowledges an open alert (idempotent: a second ack keeps the first's author and time). */
  async ack(id: number, by: string, comment?: string): Promise<AlertView> {
    const { rowCount } = await this.db.query(
      `UPDATE ops.alerts SET acknowledged_at = coalesce(acknowledged_at, now()),
         acknowledged_by = coalesce(acknowledged_by, $2), ack_comment = coalesce(ack_comment, $3)
       WHERE id = $1`,
      [id, by, comment ?? null],
    );
    if (!rowCount) throw new NotFoundError('alert', String(id));
    return this.get(id);
  }

  async deliveries(q: ListDeliveriesDto): Promise<{ items: DeliveryView[] }> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.status) where.push(`status = $${args.push(q.status)}`);
    if (q.channel) where.push(`channel = $${args.push(q.channel)}`);
    const { rows } = await this.db.query(
      `SELECT * FROM ops.alert_deliveries ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY id DESC LIMIT $${args.push(q.limit)}`,
      args,
    );
    return { items: rows.map(deliveryView) };
  }

  /** The configured channels and their routes (never a URL's credentials or a secret). */
  channels() {
    return {
      items: this.config.alerts.channels.map((c) => ({
        id: c.id,
        type: c.type,
        minSeverity: c.minSeverity,
        pipelines: c.pipelines ?? null,
        kinds: c.kinds ?? null,
        ...(c.type === 'webhook'
          ? { format: c.format, target: new URL(c.url).origin, signed: Boolean(c.secret) }
          : { target: new URL(c.smtpUrl).host, to: c.to }),
      })),
    };
  }

  async silences(all: boolean) {
    const { rows } = await this.db.query(
      `SELECT * FROM ops.alert_silences ${all ? '' : 'WHERE ends_at > now()'} ORDER BY id DESC LIMIT 500`,
    );
    return { items: rows.map(silenceView) };
  }

  async silence(dto: CreateSilenceDto, by: string) {
    // A silence of a pipeline that does not exist would silence nothing: refuse it rather than pretend.
    const known = [...PIPELINES.map((p) => p.id), ...SOURCES.map((s) => `source:${s.id}`)];
    if (dto.pipeline !== undefined && !known.includes(dto.pipeline))
      throw new InvalidInputError('pipeline', `must be a registered pipeline or source:<id> (${known.join(', ')})`);
    const { rows } = await this.db.query<Record<string, unknown>>(
      `INSERT INTO ops.alert_silences (pipeline, kind, partition_prefix, ends_at, reason, created_by)
       VALUES ($1, $2, $3, now() + make_interval(mins => $4), $5, $6) RETURNING *`,
      [dto.pipeline ?? null, dto.kind ?? null, dto.partitionPrefix ?? null, dto.minutes, dto.reason, by],
    );
    return silenceView(rows[0]!);
  }

  /** Ends a silence now (kept for the record). */
  async expire(id: number) {
    const { rows } = await this.db.query<Record<string, unknown>>(
      "UPDATE ops.alert_silences SET ends_at = greatest(starts_at + interval '1 microsecond', least(ends_at, now())) WHERE id = $1 RETURNING *",
      [id],
    );
    if (!rows[0]) throw new NotFoundError('silence', String(id));
    return silenceView(rows[0]);
  }
}

function silenceView(r: Record<string, unknown>) {
  return {
    id: Number(r.id),
    pipeline: r.pipeline ?? null,
    kind: r.kind ?? null,
    partitionPrefix: r.partition_prefix ?? null,
    startsAt: (r.starts_at as Date).toISOString(),
    endsAt: (r.ends_at as Date).toISOString(),
    active: (r.ends_at as Date).getTime() > Date.now() && (r.starts_at as Date).getTime() <= Date.now(),
    reason: r.reason,
    createdBy: r.created_by,
  };
}

import { createHash, createHmac } from 'node:crypto';

/** An alert as a message shows it. */
export interface AlertForMessage {
  id: number;
  kind: string;
  severity: string;
  pipeline: string;
  partition: string | null;
  runId: string | null;
  message: string;
  createdAt: string;
  resolvedAt: string | null;
}

/** One message to send: a group's alerts on one channel, firing or resolved. */
export interface AlertMessage {
  idempotencyKey: string;
  event: 'firing' | 'resolved';
  groupKey: string;
  channel: string;
  sequence: number;
  alerts: AlertForMessage[];
  /** Base URL of the dashboard, for links. */
  publicUrl: string;
}

/** The most severe severity of the alerts. */
function severity(alerts: AlertForMessage[]): string {
  return alerts.some((a) => a.severity === 'critical') ? 'critical' : 'warning';
}

/** The dashboard page of an alert's partition (or of its pipeline). */
export function alertLink(publicUrl: string, a: Pick<AlertForMessage, 'pipeline' | 'partition'>): string {
  if (!a.partition) return `${publicUrl}/#/pipelines`;
  const q = new URLSearchParams({ pipeline: a.pipeline, partition: a.partition });
  return `${publicUrl}/#/partition?${q.toString()}`;
}

/** One line title: `[FIRING:15] freshness · machine-signal · 2026-11-20T10 (warning)`. */
export function messageTitle(m: AlertMessage): string {
  const [kind, ...rest] = m.groupKey.split(':');
  const what = rest.join(':');
  const head = m.event === 'firing' ? `[FIRING:${m.alerts.length}]` : `[RESOLVED:${m.alerts.length}]`;
  return `${head} ${kind} · ${what} (${severity(m.alerts)})`;
}

/** Plain-text body: one line per alert with its link. */
export function messageText(m: AlertMessage): string {
  const lines = m.alerts.map((a) => {
    const state = a.resolvedAt ? `resolved ${a.resolvedAt}` : `since ${a.createdAt}`;
    return `- [${a.severity}] ${a.message} (${state})\n  ${alertLink(m.publicUrl, a)}`;
  });
  const footer =
    m.event === 'firing'
      ? 'Acknowledge or silence: the dashboard, `fabrica alerts ack <id>` or POST /api/v1/alerts/{id}/ack.'
      : 'Every alert above is resolved.';
  return `${messageTitle(m)}\n\n${lines.join('\n')}\n\n${footer}\nIdempotency key: ${m.idempotencyKey}\n`;
}

/** Fábrica's own webhook payload (version 1). */
export function jsonPayload(m: AlertMessage): Record<string, unknown> {
  return {
    version: 1,
    idempotencyKey: m.idempotencyKey,
    event: m.event,
    groupKey: m.groupKey,
    channel: m.channel,
    sequence: m.sequence,
    severity: severity(m.alerts),
    title: messageTitle(m),
    alerts: m.alerts.map((a) => ({ ...a, link: alertLink(m.publicUrl, a) })),
  };
}

/** A Slack incoming-webhook payload (`text` plus blocks; Slack-compatible receivers such as Mattermost take it). */
export function slackPayload(m: AlertMessage): Record<string, unknown> {
  const shown = m.alerts.slice(0, 20);
  const items = shown.map((a) => `• <${alertLink(m.publicUrl, a)}|${a.pipeline} ${a.partition ?? ''}> ${a.message}`);
  if (m.alerts.length > shown.length) items.push(`… and ${m.alerts.length - shown.length} more`);
  return {
    text: messageTitle(m),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${messageTitle(m)}*` } },
      { type: 'section', text: { type: 'mrkdwn', text: items.join('\n').slice(0, 2900) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `idempotency key ${m.idempotencyKey}` }] },
    ],
  };
}

/**
 * The `X-Fabrica-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, so a receiver can check
 * both the body and its freshness (the Stripe-style scheme receivers know).
 */
export function signature(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** A stable e-mail Message-ID for a delivery (the same on every retry, so a mail system can drop a duplicate). */
export function messageId(idempotencyKey: string): string {
  return `<${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40)}@fabrica.alerts>`;
}

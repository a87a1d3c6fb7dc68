import nodemailer from 'nodemailer';
import type { AlertChannel, EmailChannel, WebhookChannel } from '../../worker/alert-channels.js';
import {
  jsonPayload,
  messageId,
  messageText,
  messageTitle,
  signature,
  slackPayload,
  type AlertMessage,
} from './messages.js';

/** How one send attempt ended: delivered, or an error that is permanent (4xx, 5xx SMTP) or worth retrying. */
export type SendOutcome = { ok: true } | { ok: false; permanent: boolean; error: string; retryAfterSeconds?: number };

const TIMEOUT_MS = 10_000;

/** Seconds of a `Retry-After` header (seconds or an HTTP date), capped at an hour. */
function retryAfter(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = /^\d+$/.test(header.trim()) ? Number(header) : (Date.parse(header) - Date.now()) / 1000;
  return Number.isFinite(seconds) ? Math.min(3600, Math.max(1, Math.ceil(seconds))) : undefined;
}

async function webhook(c: WebhookChannel, m: AlertMessage): Promise<SendOutcome> {
  const body = JSON.stringify(c.format === 'slack' ? slackPayload(m) : jsonPayload(m));
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'fabrica-alerts/1',
    'idempotency-key': m.idempotencyKey,
    'x-fabrica-event': m.event,
  };
  if (c.secret) headers['x-fabrica-signature'] = signature(c.secret, body, Math.floor(Date.now() / 1000));
  let res: Response;
  try {
    res = await fetch(c.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return {
      ok: false,
      permanent: false,
      error: `webhook ${c.id} unreachable: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
    };
  }
  await res.arrayBuffer().catch(() => undefined);
  if (res.ok) return { ok: true };
  const error = `webhook ${c.id} answered HTTP ${res.status}`;
  // 408 and 429 are "later"; any other 4xx is the receiver refusing this message: retrying cannot help.
  const later = res.status >= 500 || res.status === 408 || res.status === 429;
  return {
    ok: false,
    permanent: !later,
    error,
    retryAfterSeconds: later ? retryAfter(res.headers.get('retry-after')) : undefined,
  };
}

const transports = new Map<string, nodemailer.Transporter>();

async function email(c: EmailChannel, m: AlertMessage): Promise<SendOutcome> {
  let transport = transports.get(c.id);
  if (!transport) {
    transport = nodemailer.createTransport(c.smtpUrl, {
      connectionTimeout: TIMEOUT_MS,
      greetingTimeout: TIMEOUT_MS,
      socketTimeout: TIMEOUT_MS,
    });
    transports.set(c.id, transport);
  }
  try {
    await transport.sendMail({
      from: c.from,
      to: c.to,
      subject: messageTitle(m),
      text: messageText(m),
      messageId: messageId(m.idempotencyKey),
      headers: { 'X-Fabrica-Idempotency-Key': m.idempotencyKey, 'X-Fabrica-Event': m.event },
    });
    return { ok: true };
  } catch (err) {
    const e = err as { responseCode?: number; code?: string; message: string };
    // SMTP 5xx is a permanent refusal (bad recipient, policy); 4xx and connection errors are transient.
    const permanent = e.responseCode !== undefined && e.responseCode >= 500;
    return { ok: false, permanent, error: `smtp ${c.id}: ${e.responseCode ?? e.code ?? ''} ${e.message}`.trim() };
  }
}

/** Sends one message on its channel. */
export function send(channel: AlertChannel, m: AlertMessage): Promise<SendOutcome> {
  return channel.type === 'webhook' ? webhook(channel, m) : email(channel, m);
}

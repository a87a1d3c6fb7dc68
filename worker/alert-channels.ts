import { readFileSync } from 'node:fs';

/** Alert kinds raised by Fábrica (the `ops.alerts.kind` vocabulary). */
export const ALERT_KINDS = ['run_failed', 'freshness', 'incomplete_file'] as const;
/** An alert kind. */
export type AlertKind = (typeof ALERT_KINDS)[number];
/** Severities, least first. */
export const SEVERITIES = ['warning', 'critical'] as const;
/** An alert severity. */
export type Severity = (typeof SEVERITIES)[number];

/** Which alerts a channel receives: at least `minSeverity`, of the listed pipelines and kinds (all when absent). */
export interface ChannelRoute {
  minSeverity: Severity;
  pipelines?: string[];
  kinds?: AlertKind[];
}

/** A webhook: a JSON POST (Fábrica's own payload, or Slack's incoming-webhook shape), signed when a secret is set. */
export interface WebhookChannel extends ChannelRoute {
  id: string;
  type: 'webhook';
  url: string;
  format: 'json' | 'slack';
  /** HMAC-SHA256 key of the `X-Fabrica-Signature` header (never logged or returned). */
  secret?: string;
}

/** E-mail over SMTP (`smtp://` or `smtps://` URL, credentials in the URL's user info). */
export interface EmailChannel extends ChannelRoute {
  id: string;
  type: 'email';
  smtpUrl: string;
  from: string;
  to: string[];
}

/** A configured alert channel. */
export type AlertChannel = WebhookChannel | EmailChannel;

/** Thrown with the path of the offending field (`[1].url`) and what is wrong with it. */
export class ChannelConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

const EMAIL = /^[^\s@<>]+@[^\s@<>]+$/;

type Raw = Record<string, unknown>;

function text(raw: Raw, at: string, field: string, required: true): string;
function text(raw: Raw, at: string, field: string, required?: false): string | undefined;
function text(raw: Raw, at: string, field: string, required = false): string | undefined {
  const v = raw[field];
  if (v === undefined || v === null) {
    if (required) throw new ChannelConfigError(`${at}.${field}`, 'is required');
    return undefined;
  }
  if (typeof v !== 'string' || v.trim() === '') throw new ChannelConfigError(`${at}.${field}`, 'must be a string');
  return v;
}

function list<T extends string>(raw: Raw, at: string, field: string, allowed?: readonly T[]): T[] | undefined {
  const v = raw[field];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string' || !x))
    throw new ChannelConfigError(`${at}.${field}`, 'must be a non-empty array of strings');
  for (const x of v as string[])
    if (allowed && !allowed.includes(x as T))
      throw new ChannelConfigError(`${at}.${field}`, `unknown value "${x}" (expected ${allowed.join(', ')})`);
  return v as T[];
}

function url(raw: string, at: string, schemes: string[]): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ChannelConfigError(at, `not a valid URL (expected ${schemes.join(' or ')})`);
  }
  if (!schemes.includes(u.protocol.replace(/:$/, '')))
    throw new ChannelConfigError(at, `unsupported scheme "${u.protocol}" (expected ${schemes.join(' or ')})`);
  if (!u.hostname) throw new ChannelConfigError(at, 'has no host');
  return u;
}

function channel(raw: unknown, i: number, env: NodeJS.ProcessEnv): AlertChannel {
  const at = `[${i}]`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ChannelConfigError(at, 'must be an object');
  const r = raw as Raw;
  const known = new Set([
    'id',
    'type',
    'minSeverity',
    'pipelines',
    'kinds',
    'url',
    'format',
    'secret',
    'secretEnv',
    'smtpUrl',
    'from',
    'to',
  ]);
  for (const k of Object.keys(r)) if (!known.has(k)) throw new ChannelConfigError(`${at}.${k}`, 'unknown field');
  const id = text(r, at, 'id', true);
  if (!/^[\w.-]{1,64}$/.test(id)) throw new ChannelConfigError(`${at}.id`, 'only letters, digits, _ . - (at most 64)');
  const minSeverity = (text(r, at, 'minSeverity') ?? 'warning') as Severity;
  if (!SEVERITIES.includes(minSeverity))
    throw new ChannelConfigError(`${at}.minSeverity`, `expected ${SEVERITIES.join(' or ')}`);
  const route: ChannelRoute = {
    minSeverity,
    pipelines: list(r, at, 'pipelines'),
    kinds: list(r, at, 'kinds', ALERT_KINDS),
  };
  const type = text(r, at, 'type', true);
  if (type === 'webhook') {
    const target = text(r, at, 'url', true);
    url(target, `${at}.url`, ['http', 'https']);
    const format = (text(r, at, 'format') ?? 'json') as WebhookChannel['format'];
    if (format !== 'json' && format !== 'slack') throw new ChannelConfigError(`${at}.format`, 'expected json or slack');
    const secretEnv = text(r, at, 'secretEnv');
    let secret = text(r, at, 'secret');
    if (secretEnv) {
      secret = env[secretEnv];
      if (!secret) throw new ChannelConfigError(`${at}.secretEnv`, `environment variable ${secretEnv} is not set`);
    }
    for (const f of ['smtpUrl', 'from', 'to'])
      if (r[f] !== undefined) throw new ChannelConfigError(`${at}.${f}`, 'only for type email');
    return { id, type, url: target, format, secret, ...route };
  }
  if (type === 'email') {
    const smtpUrl = text(r, at, 'smtpUrl', true);
    url(smtpUrl, `${at}.smtpUrl`, ['smtp', 'smtps']);
    const from = text(r, at, 'from', true);
    if (!EMAIL.test(from.replace(/^.*<([^>]+)>\s*$/, '$1')))
      throw new ChannelConfigError(`${at}.from`, 'not an e-mail address');
    const to = list(r, at, 'to');
    if (!to) throw new ChannelConfigError(`${at}.to`, 'is required');
    for (const addr of to)
      if (!EMAIL.test(addr)) throw new ChannelConfigError(`${at}.to`, `"${addr}" is not an address`);
    for (const f of ['url', 'format', 'secret', 'secretEnv'])
      if (r[f] !== undefined) throw new ChannelConfigError(`${at}.${f}`, 'only for type webhook');
    return { id, type, smtpUrl, from, to, ...route };
  }
  throw new ChannelConfigError(`${at}.type`, 'expected webhook or email');
}

/**
 * Parses the channel list (a JSON array). Throws a {@link ChannelConfigError} naming the field (`[1].smtpUrl`);
 * the message never contains a secret.
 */
export function parseAlertChannels(json: string, env: NodeJS.ProcessEnv = {}): AlertChannel[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new ChannelConfigError('(document)', `not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(raw)) throw new ChannelConfigError('(document)', 'expected a JSON array of channels');
  const channels = raw.map((c, i) => channel(c, i, env));
  const seen = new Set<string>();
  channels.forEach((c, i) => {
    if (seen.has(c.id)) throw new ChannelConfigError(`[${i}].id`, `duplicate channel id "${c.id}"`);
    seen.add(c.id);
  });
  return channels;
}

/** Reads channels from `FABRICA_ALERT_CHANNELS` (inline JSON) or `FABRICA_ALERT_CHANNELS_FILE` (a JSON file). */
export function readAlertChannels(env: NodeJS.ProcessEnv): { channels: AlertChannel[]; setting: string } {
  if (env.FABRICA_ALERT_CHANNELS)
    return { channels: parseAlertChannels(env.FABRICA_ALERT_CHANNELS, env), setting: 'FABRICA_ALERT_CHANNELS' };
  if (env.FABRICA_ALERT_CHANNELS_FILE) {
    let text: string;
    try {
      text = readFileSync(env.FABRICA_ALERT_CHANNELS_FILE, 'utf8');
    } catch (err) {
      throw new ChannelConfigError(
        '(file)',
        `cannot read ${env.FABRICA_ALERT_CHANNELS_FILE}: ${(err as Error).message}`,
      );
    }
    return { channels: parseAlertChannels(text, env), setting: 'FABRICA_ALERT_CHANNELS_FILE' };
  }
  return { channels: [], setting: 'FABRICA_ALERT_CHANNELS' };
}

/** Whether a channel's route takes an alert. */
export function routes(c: ChannelRoute, a: { severity: string; pipeline: string; kind: string }): boolean {
  if (SEVERITIES.indexOf(a.severity as Severity) < SEVERITIES.indexOf(c.minSeverity)) return false;
  if (c.pipelines && !c.pipelines.includes(a.pipeline)) return false;
  if (c.kinds && !c.kinds.includes(a.kind as AlertKind)) return false;
  return true;
}

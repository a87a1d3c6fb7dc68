import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import type { NativeConnection, NativeConnectionOptions } from '@temporalio/worker';
import { ConfigError } from './config-error.js';
import type { TemporalSettings } from './config.js';

/** How long a process waits for Temporal at start-up before it stops naming `TEMPORAL_ADDRESS`. */
export const TEMPORAL_CONNECT_TIMEOUT_MS = 15_000;

type ConnectionTarget = Pick<TemporalSettings, 'address' | 'namespace' | 'tls' | 'apiKey'>;

/** The options every Temporal connection of Fábrica is made with: address, TLS (mTLS), API key. */
export function temporalConnectionOptions(t: ConnectionTarget): ConnectionOptions & NativeConnectionOptions {
  return {
    address: t.address,
    ...(t.tls ? { tls: t.tls } : {}),
    ...(t.apiKey ? { apiKey: t.apiKey } : {}),
  };
}

/** A client connection that connects on first use (the API: it starts, and reports 503, while Temporal is down). */
export function lazyTemporalConnection(t: ConnectionTarget): Connection {
  return Connection.lazy(temporalConnectionOptions(t));
}

/**
 * Connects a client and checks the namespace exists. Any failure — unreachable within
 * {@link TEMPORAL_CONNECT_TIMEOUT_MS}, a TLS handshake refused either way, an API key refused, no such namespace —
 * is a {@link ConfigError} naming the setting to fix.
 */
export async function connectTemporalClient(
  t: ConnectionTarget,
  timeoutMs = TEMPORAL_CONNECT_TIMEOUT_MS,
): Promise<Connection> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ ...temporalConnectionOptions(t), connectTimeout: timeoutMs });
    await withTimeout(connection.workflowService.describeNamespace({ namespace: t.namespace }), timeoutMs);
    return connection;
  } catch (err) {
    await connection?.close().catch(() => undefined);
    throw await temporalConnectError(err, t);
  }
}

/** The worker's native (Rust core) connection, made and checked as {@link connectTemporalClient} does. */
export async function connectTemporalWorker(
  t: ConnectionTarget,
  timeoutMs = TEMPORAL_CONNECT_TIMEOUT_MS,
): Promise<NativeConnection> {
  // Imported here so that the API and the CLI, which only need a client, never load the worker's native bridge.
  const { NativeConnection } = await import('@temporalio/worker');
  const pending = NativeConnection.connect(temporalConnectionOptions(t));
  let connection: NativeConnection | undefined;
  try {
    connection = await withTimeout(pending, timeoutMs);
    await withTimeout(connection.workflowService.describeNamespace({ namespace: t.namespace }), timeoutMs);
    return connection;
  } catch (err) {
    // A connect that is still pending after the timeout is closed when it completes.
    if (!connection) void pending.then((c) => c.close()).catch(() => undefined);
    await connection?.close().catch(() => undefined);
    throw await temporalConnectError(err, t);
  }
}

class ConnectTimeout extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ConnectTimeout(`no answer within ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** gRPC status codes (grpc-js and the Rust core report the same numbers). */
const NOT_FOUND = 5;
const PERMISSION_DENIED = 7;
const UNAUTHENTICATED = 16;

/** Node TLS error codes, by the setting that fixes them. */
const TLS_CAUSES: [RegExp, string, string][] = [
  [/ALTNAME|HOSTNAME/, 'TEMPORAL_TLS_SERVER_NAME', 'the server certificate is for another name'],
  [
    /SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|UNTRUSTED|ISSUER/,
    'TEMPORAL_TLS_CA_FILE',
    'the server certificate is not signed by a trusted CA',
  ],
  [
    /CERTIFICATE_REQUIRED|UNKNOWN_CA|BAD_CERTIFICATE|HANDSHAKE_FAILURE|CERTIFICATE_UNKNOWN|ECONNRESET/,
    'TEMPORAL_TLS_CERT_FILE',
    'the server refused the TLS handshake: client certificate missing or not trusted',
  ],
  [/WRONG_VERSION_NUMBER|PACKET_LENGTH|RECORD_LAYER|HTTP_REQUEST/, 'TEMPORAL_TLS', 'the server does not speak TLS'],
];

/**
 * Maps a failed connection to the setting an operator must fix, as one line: no such namespace names
 * `TEMPORAL_NAMESPACE`, refused credentials `TEMPORAL_API_KEY`. Neither gRPC client says why a TLS connection
 * failed in a way to rely on, so the TLS cases come from a TLS handshake of Node's own with the same settings
 * ({@link tlsProbe}): a server certificate not trusted names `TEMPORAL_TLS_CA_FILE`, one for another name
 * `TEMPORAL_TLS_SERVER_NAME`, a handshake the server refuses (client certificate missing or not trusted)
 * `TEMPORAL_TLS_CERT_FILE`, TLS against plaintext or back `TEMPORAL_TLS`; anything else `TEMPORAL_ADDRESS`.
 */
export async function temporalConnectError(err: unknown, t: ConnectionTarget): Promise<ConfigError> {
  if (err instanceof ConfigError) return err;
  const message = describe(err);
  const codes = causes(err).map((e) => (e as { code?: unknown }).code);
  const at = `Temporal at ${t.address}`;
  if (codes.includes(NOT_FOUND) || /namespace .*not (found|exist)/i.test(message))
    return new ConfigError('TEMPORAL_NAMESPACE', `namespace "${t.namespace}" does not exist on ${at}`);
  if (
    codes.includes(UNAUTHENTICATED) ||
    codes.includes(PERMISSION_DENIED) ||
    /authentication credentials|unauthenticated|unauthorized|permission denied/i.test(message)
  )
    return new ConfigError(
      'TEMPORAL_API_KEY',
      `${at} refused the credentials (${t.apiKey ? 'a wrong or expired API key' : 'it needs an API key'}): ${message}`,
    );
  const probe = await tlsProbe(t);
  if (probe === 'tls-ok' && !t.tls)
    return new ConfigError('TEMPORAL_TLS', `${at} speaks TLS: set TEMPORAL_TLS=true (and its CA): ${message}`);
  if (probe !== 'tls-ok' && probe !== 'no-tls') {
    for (const [pattern, setting, why] of TLS_CAUSES)
      if (pattern.test(probe.code)) {
        if (setting === 'TEMPORAL_TLS' && !t.tls) break;
        return new ConfigError(setting, `${at}: ${why} (${probe.message})`);
      }
  }
  return new ConfigError('TEMPORAL_ADDRESS', `cannot reach ${at}: ${message}`);
}

type ProbeResult = 'tls-ok' | 'no-tls' | { code: string; message: string };

/**
 * A TLS handshake with the connection's settings (CA, client certificate, server name), kept open briefly so a
 * server's refusal of the client certificate (sent after the handshake in TLS 1.3) arrives. Without TLS configured
 * it only asks whether the server speaks TLS at all.
 */
export function tlsProbe(t: ConnectionTarget, waitMs = 1000): Promise<ProbeResult> {
  const cut = t.address.lastIndexOf(':');
  const host = t.address.slice(0, cut).replace(/^\[|\]$/g, '');
  const port = Number(t.address.slice(cut + 1));
  const servername = t.tls?.serverNameOverride ?? (isIP(host) ? undefined : host);
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const done = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const socket = tlsConnect({
      host,
      port,
      ALPNProtocols: ['h2'],
      ...(servername ? { servername } : {}),
      ...(t.tls
        ? {
            ...(t.tls.serverRootCACertificate ? { ca: t.tls.serverRootCACertificate } : {}),
            ...(t.tls.clientCertPair ? { cert: t.tls.clientCertPair.crt, key: t.tls.clientCertPair.key } : {}),
          }
        : { rejectUnauthorized: false }),
    });
    socket.on('secureConnect', () => {
      clearTimeout(timer);
      timer = setTimeout(() => done('tls-ok'), waitMs);
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      const code = e.code ?? 'UNKNOWN';
      if (!t.tls) return done(/^ERR_SSL_(TLSV|SSLV3_ALERT)/.test(code) ? 'tls-ok' : 'no-tls');
      const reason = /SSL routines:[^:]*:([^:]+):/.exec(e.message)?.[1] ?? e.message.replace(/\s+/g, ' ');
      done({ code, message: reason });
    });
    // Closed by the server before the wait is over (without an alert): it refused this client.
    socket.on('close', () => done({ code: 'ECONNRESET', message: 'the server closed the connection' }));
    timer = setTimeout(() => done({ code: 'ETIMEDOUT', message: 'no TLS handshake' }), waitMs * 5);
  });
}

function causes(err: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = err; e && chain.length < 5; e = (e as { cause?: unknown }).cause) chain.push(e);
  return chain;
}

/** The most telling message of an error and its causes, on one line. */
function describe(err: unknown): string {
  const parts = causes(err).map((e) => {
    const x = e as { details?: unknown; message?: unknown };
    return typeof x.details === 'string' && x.details ? x.details : String(x.message ?? e);
  });
  return [...new Set(parts)].join(': ').replace(/\s+/g, ' ').trim().slice(0, 400);
}

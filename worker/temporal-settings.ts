import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error.js';

/** TLS of the Temporal connections: the PEM bytes read from the configured files (each optional). */
export interface TemporalTls {
  /** CA that signed the server's certificate (`TEMPORAL_TLS_CA_FILE`); absent: the system's roots. */
  serverRootCACertificate?: Buffer;
  /** Client certificate and key for mTLS (`TEMPORAL_TLS_CERT_FILE` + `TEMPORAL_TLS_KEY_FILE`). */
  clientCertPair?: { crt: Buffer; key: Buffer };
  /** Name the server's certificate must carry, when it differs from the address's host (`TEMPORAL_TLS_SERVER_NAME`). */
  serverNameOverride?: string;
}

/** How the processes authenticate to Temporal: TLS (with mTLS) and/or an API key (Temporal Cloud). */
export interface TemporalSecurity {
  /** Undefined: plaintext (the dev server). */
  tls?: TemporalTls;
  /** Sent as `Authorization: Bearer <key>` (`TEMPORAL_API_KEY`); implies TLS. */
  apiKey?: string;
}

function readPem(env: NodeJS.ProcessEnv, name: string, kind: 'certificate' | 'key'): Buffer | undefined {
  const file = env[name];
  if (!file) return undefined;
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (err) {
    throw new ConfigError(
      name,
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  try {
    if (kind === 'certificate') new X509Certificate(pem);
    else createPrivateKey(pem);
  } catch {
    throw new ConfigError(name, `${file} is not a PEM ${kind === 'key' ? 'private key' : 'certificate'}`);
  }
  return pem;
}

function tlsFlag(env: NodeJS.ProcessEnv): boolean | undefined {
  const raw = env.TEMPORAL_TLS;
  if (raw === undefined || raw === '') return undefined;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError('TEMPORAL_TLS', `expected true or false, got ${JSON.stringify(raw)}`);
}

/**
 * Reads the Temporal security settings: `TEMPORAL_TLS`, `TEMPORAL_TLS_CA_FILE`, `TEMPORAL_TLS_CERT_FILE`,
 * `TEMPORAL_TLS_KEY_FILE`, `TEMPORAL_TLS_SERVER_NAME` and `TEMPORAL_API_KEY` (already read from its `_FILE`). Any
 * TLS file or the API key turns TLS on unless `TEMPORAL_TLS=false` says otherwise, which is then an error; a file
 * that cannot be read or is not PEM stops start-up naming its setting.
 */
export function temporalSecurity(env: NodeJS.ProcessEnv): TemporalSecurity {
  const flag = tlsFlag(env);
  const ca = readPem(env, 'TEMPORAL_TLS_CA_FILE', 'certificate');
  const crt = readPem(env, 'TEMPORAL_TLS_CERT_FILE', 'certificate');
  const key = readPem(env, 'TEMPORAL_TLS_KEY_FILE', 'key');
  if (crt && !key)
    throw new ConfigError('TEMPORAL_TLS_KEY_FILE', 'TEMPORAL_TLS_CERT_FILE is set: give its private key too');
  if (key && !crt)
    throw new ConfigError('TEMPORAL_TLS_CERT_FILE', 'TEMPORAL_TLS_KEY_FILE is set: give its certificate too');
  const serverName = env.TEMPORAL_TLS_SERVER_NAME || undefined;
  if (serverName && !/^[A-Za-z0-9.-]+$/.test(serverName))
    throw new ConfigError('TEMPORAL_TLS_SERVER_NAME', `not a host name: ${JSON.stringify(serverName)}`);
  const apiKey = env.TEMPORAL_API_KEY || undefined;
  if (apiKey !== undefined && /\s/.test(apiKey)) throw new ConfigError('TEMPORAL_API_KEY', 'contains white space');
  const implied = [
    ca && 'TEMPORAL_TLS_CA_FILE',
    crt && 'TEMPORAL_TLS_CERT_FILE',
    serverName && 'TEMPORAL_TLS_SERVER_NAME',
    apiKey && 'TEMPORAL_API_KEY',
  ].filter(Boolean);
  if (flag === false && implied.length > 0)
    throw new ConfigError('TEMPORAL_TLS', `is false but ${implied.join(', ')} needs TLS`);
  if (!flag && implied.length === 0) return {};
  const tls: TemporalTls = {
    ...(ca ? { serverRootCACertificate: ca } : {}),
    ...(crt && key ? { clientCertPair: { crt, key } } : {}),
    ...(serverName ? { serverNameOverride: serverName } : {}),
  };
  return { tls, ...(apiKey ? { apiKey } : {}) };
}

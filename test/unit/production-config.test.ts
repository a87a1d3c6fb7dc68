import { afterAll, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../worker/config.js';
import { createTestPki } from '../support/tls-certs.js';

const home = mkdtempSync(path.join(tmpdir(), 'fabrica-prod-config-'));
const pki = createTestPki();
afterAll(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(pki.dir, { recursive: true, force: true });
});

function file(name: string, content: string, mode = 0o600): string {
  const f = path.join(home, name);
  writeFileSync(f, content);
  chmodSync(f, mode);
  return f;
}

/** The ConfigError `env` stops start-up with. */
function failure(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig({ FABRICA_HOME: home, ...env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).not.toContain('\n');
    return err as ConfigError;
  }
  throw new Error(`no ConfigError for ${JSON.stringify(env)}`);
}

describe('secrets from files', () => {
  it('reads <VAR>_FILE without its trailing newline, for every secret of the contract', () => {
    const c = loadConfig({
      FABRICA_HOME: home,
      DATABASE_URL_FILE: file('db', 'postgres://u:s3cret@db:5432/wh\n'),
      INVENTORY_DATABASE_URL_FILE: file('inv', 'postgres://u:p@inv:5432/inventory\n'),
      RECORDS_DATABASE_URL_FILE: file('rec', 'postgres://r:p@rec:5432/records'),
      TEMPORAL_API_KEY_FILE: file('key', 'tcloud-key-123\n'),
      FABRICA_SESSION_SECRET_FILE: file('session', `${'x'.repeat(40)}\n`),
    });
    expect(c.databaseUrl).toBe('postgres://u:s3cret@db:5432/wh');
    expect(c.embeddedPostgres).toBeUndefined();
    expect(c.inventoryDatabaseUrl).toBe('postgres://u:p@inv:5432/inventory');
    expect(c.sources.RECORDS_DATABASE_URL).toBe('postgres://r:p@rec:5432/records');
    expect(c.temporal.apiKey).toBe('tcloud-key-123');
    expect(c.temporal.tls).toEqual({});
    expect(c.api.sessionSecret).toBe('x'.repeat(40));
  });

  it('refuses the variable and its file together, naming both', () => {
    const e = failure({ DATABASE_URL: 'postgres://u:p@db:5432/wh', DATABASE_URL_FILE: file('db2', 'postgres://a') });
    expect(e.setting).toBe('DATABASE_URL / DATABASE_URL_FILE');
  });

  it('names the _FILE setting of a missing, unreadable or empty file', () => {
    expect(failure({ TEMPORAL_API_KEY_FILE: path.join(home, 'absent') })).toMatchObject({
      setting: 'TEMPORAL_API_KEY_FILE',
      message: expect.stringContaining('ENOENT'),
    });
    expect(failure({ FABRICA_SESSION_SECRET_FILE: home }).setting).toBe('FABRICA_SESSION_SECRET_FILE');
    expect(failure({ RECORDS_DATABASE_URL_FILE: file('empty', '\n') }).setting).toBe('RECORDS_DATABASE_URL_FILE');
    // The value read is validated as the variable itself would be, naming the variable.
    expect(failure({ DATABASE_URL_FILE: file('bad-url', 'mysql://x@y/z') }).setting).toBe('DATABASE_URL');
  });
});

describe('Temporal TLS and API key', () => {
  it('is plaintext by default and with TEMPORAL_TLS=false', () => {
    expect(loadConfig({ FABRICA_HOME: home }).temporal.tls).toBeUndefined();
    expect(loadConfig({ FABRICA_HOME: home, TEMPORAL_TLS: 'false' }).temporal.tls).toBeUndefined();
  });

  it('reads the CA, the client pair and the server name; the API key implies TLS', () => {
    const c = loadConfig({
      FABRICA_HOME: home,
      TEMPORAL_TLS_CA_FILE: pki.caCert,
      TEMPORAL_TLS_CERT_FILE: pki.clientCert,
      TEMPORAL_TLS_KEY_FILE: pki.clientKey,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    expect(c.temporal.tls?.serverRootCACertificate?.toString()).toContain('BEGIN CERTIFICATE');
    expect(c.temporal.tls?.clientCertPair?.key.toString()).toContain('PRIVATE KEY');
    expect(c.temporal.tls?.serverNameOverride).toBe('temporal.internal');
    expect(loadConfig({ FABRICA_HOME: home, TEMPORAL_API_KEY: 'k' }).temporal).toMatchObject({ tls: {}, apiKey: 'k' });
    expect(loadConfig({ FABRICA_HOME: home, TEMPORAL_TLS: 'true' }).temporal.tls).toEqual({});
  });

  it('stops on a missing, unreadable or non-PEM file naming its setting', () => {
    expect(failure({ TEMPORAL_TLS_CA_FILE: path.join(home, 'no-ca.pem') })).toMatchObject({
      setting: 'TEMPORAL_TLS_CA_FILE',
      message: expect.stringContaining('ENOENT'),
    });
    expect(failure({ TEMPORAL_TLS_CA_FILE: file('garbage.pem', 'not a certificate') }).setting).toBe(
      'TEMPORAL_TLS_CA_FILE',
    );
    expect(failure({ TEMPORAL_TLS_CERT_FILE: pki.clientKey, TEMPORAL_TLS_KEY_FILE: pki.clientKey }).setting).toBe(
      'TEMPORAL_TLS_CERT_FILE',
    );
    expect(failure({ TEMPORAL_TLS_CERT_FILE: pki.clientCert, TEMPORAL_TLS_KEY_FILE: pki.clientCert }).setting).toBe(
      'TEMPORAL_TLS_KEY_FILE',
    );
    expect(failure({ TEMPORAL_TLS_CERT_FILE: pki.clientCert }).setting).toBe('TEMPORAL_TLS_KEY_FILE');
    expect(failure({ TEMPORAL_TLS_KEY_FILE: pki.clientKey }).setting).toBe('TEMPORAL_TLS_CERT_FILE');
  });

  it('refuses contradictions and malformed values by name', () => {
    expect(failure({ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'k' }).setting).toBe('TEMPORAL_TLS');
    expect(failure({ TEMPORAL_TLS: 'maybe' }).setting).toBe('TEMPORAL_TLS');
    expect(failure({ TEMPORAL_TLS_SERVER_NAME: 'bad name' }).setting).toBe('TEMPORAL_TLS_SERVER_NAME');
    expect(failure({ TEMPORAL_API_KEY: 'two words' }).setting).toBe('TEMPORAL_API_KEY');
  });
});

describe('PostgreSQL TLS in the URLs', () => {
  it('accepts the sslmode and certificate parameters pg reads', () => {
    const url = `postgres://u:p@db:5432/wh?sslmode=verify-full&sslrootcert=${pki.caCert}`;
    expect(loadConfig({ FABRICA_HOME: home, DATABASE_URL: url }).databaseUrl).toBe(url);
    const mtls = `postgres://u:p@inv:5432/inv?sslmode=verify-full&sslrootcert=${pki.caCert}&sslcert=${pki.clientCert}&sslkey=${pki.clientKey}`;
    expect(loadConfig({ FABRICA_HOME: home, INVENTORY_DATABASE_URL: mtls }).inventoryDatabaseUrl).toBe(mtls);
  });

  it('names the URL setting of an unknown sslmode, an unreadable file, a certificate without its key', () => {
    expect(failure({ DATABASE_URL: 'postgres://u:p@db:5432/wh?sslmode=strict' }).setting).toBe('DATABASE_URL');
    expect(
      failure({ RECORDS_DATABASE_URL: `postgres://u:p@db:5432/r?sslmode=verify-full&sslrootcert=${home}/none.pem` }),
    ).toMatchObject({ setting: 'RECORDS_DATABASE_URL', message: expect.stringContaining('sslrootcert') });
    expect(failure({ INVENTORY_DATABASE_URL: `postgres://u:p@db:5432/i?sslcert=${pki.clientCert}` }).setting).toBe(
      'INVENTORY_DATABASE_URL',
    );
  });
});

describe('worker probes and drain', () => {
  it('defaults the health port to 9465 and the grace to 30 s; off turns the server off', () => {
    expect(loadConfig({ FABRICA_HOME: home })).toMatchObject({
      workerHealthPort: 9465,
      workerShutdownGraceSeconds: 30,
    });
    for (const off of ['0', 'off', ''])
      expect(loadConfig({ FABRICA_HOME: home, FABRICA_WORKER_HEALTH_PORT: off }).workerHealthPort).toBeUndefined();
    expect(
      loadConfig({
        FABRICA_HOME: home,
        FABRICA_WORKER_HEALTH_PORT: '8081',
        FABRICA_WORKER_SHUTDOWN_GRACE_SECONDS: '0',
      }),
    ).toMatchObject({ workerHealthPort: 8081, workerShutdownGraceSeconds: 0 });
    expect(failure({ FABRICA_WORKER_HEALTH_PORT: '70000' }).setting).toBe('FABRICA_WORKER_HEALTH_PORT');
    expect(failure({ FABRICA_WORKER_SHUTDOWN_GRACE_SECONDS: '-1' }).setting).toBe(
      'FABRICA_WORKER_SHUTDOWN_GRACE_SECONDS',
    );
  });
});

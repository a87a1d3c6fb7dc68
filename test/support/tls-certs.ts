import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** PEM files of a test PKI: a CA, a server certificate for `localhost`/127.0.0.1, client certificates. */
export interface TestPki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** A client certificate signed by the CA. */
  clientCert: string;
  clientKey: string;
  /** Another CA, trusted by nobody, and a client certificate it signed. */
  rogueCaCert: string;
  rogueClientCert: string;
  rogueClientKey: string;
  /** A server certificate signed by the CA for another name (`other.example`). */
  otherNameCert: string;
  otherNameKey: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function issue(dir: string, name: string, subject: string, ca: string, ext: string): void {
  openssl(dir, [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    subject,
  ]);
  writeFileSync(path.join(dir, `${name}.ext`), ext);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    `${name}.crt`,
    '-extfile',
    `${name}.ext`,
  ]);
}

function authority(dir: string, name: string): void {
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

/** Generates a fresh PKI with `openssl` into a new temp folder. */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'fabrica-pki-'));
  authority(dir, 'ca');
  authority(dir, 'rogue-ca');
  const leaf = (usage: string, san?: string) =>
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature',
      `extendedKeyUsage=${usage}`,
      ...(san ? [`subjectAltName=${san}`] : []),
    ].join('\n') + '\n';
  issue(dir, 'server', '/CN=localhost', 'ca', leaf('serverAuth', 'DNS:localhost,IP:127.0.0.1'));
  issue(dir, 'other', '/CN=other.example', 'ca', leaf('serverAuth', 'DNS:other.example'));
  issue(dir, 'client', '/CN=fabrica-worker', 'ca', leaf('clientAuth'));
  issue(dir, 'rogue-client', '/CN=intruder', 'rogue-ca', leaf('clientAuth'));
  const f = (name: string) => path.join(dir, name);
  return {
    dir,
    caCert: f('ca.crt'),
    serverCert: f('server.crt'),
    serverKey: f('server.key'),
    clientCert: f('client.crt'),
    clientKey: f('client.key'),
    rogueCaCert: f('rogue-ca.crt'),
    rogueClientCert: f('rogue-client.crt'),
    rogueClientKey: f('rogue-client.key'),
    otherNameCert: f('other.crt'),
    otherNameKey: f('other.key'),
  };
}

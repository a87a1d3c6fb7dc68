import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';

const { ServingStatus } = proto.grpc.health.v1.HealthCheckResponse;
import { startProcess, waitUntilReady, type ManagedProcess } from './process.js';

/** Search attributes every Fábrica run carries; registered on the dev server at start (idempotent). */
export const SEARCH_ATTRIBUTES: Record<string, 'Keyword' | 'Text' | 'Int' | 'Datetime'> = {
  Pipeline: 'Keyword',
  Partition: 'Keyword',
  RunKind: 'Keyword',
  PipelineStatus: 'Keyword',
};

/** Options for {@link startTemporalDevServer}. */
export interface TemporalDevServerOptions {
  binary: string;
  port: number;
  uiPort?: number;
  /** SQLite file for persistent state; omitted means in memory. */
  dbFile?: string;
  logFile: string;
  /** `--dynamic-config-value KEY=VALUE` pairs (values are JSON). */
  dynamicConfig?: Record<string, unknown>;
  namespace?: string;
  /** Address the frontend listens on (default `127.0.0.1`). */
  ip?: string;
}

/** Builds the `temporal server start-dev` argument list. */
export function devServerArgs(o: TemporalDevServerOptions): string[] {
  const args = ['server', 'start-dev', '--ip', o.ip ?? '127.0.0.1', '--port', String(o.port), '--log-format', 'json'];
  args.push(...(o.uiPort ? ['--ui-port', String(o.uiPort)] : ['--headless']));
  if (o.dbFile) args.push('--db-filename', o.dbFile);
  if (o.namespace && o.namespace !== 'default') args.push('--namespace', o.namespace);
  for (const [key, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${key}=${type}`);
  for (const [key, value] of Object.entries(o.dynamicConfig ?? {})) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  return args;
}

/** Resolves true when the Temporal frontend at `address` answers a health check. */
export async function temporalIsServing(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1000 });
  try {
    const res = await connection.healthService.check({});
    return res.status === ServingStatus.SERVING;
  } finally {
    await connection.close();
  }
}

/** Starts the Temporal CLI dev server and waits until its frontend serves. */
export async function startTemporalDevServer(o: TemporalDevServerOptions, timeoutMs = 90_000): Promise<ManagedProcess> {
  const proc = startProcess({ name: 'temporal', command: o.binary, args: devServerArgs(o), logFile: o.logFile });
  await waitUntilReady(proc, () => temporalIsServing(`127.0.0.1:${o.port}`), timeoutMs);
  return proc;
}

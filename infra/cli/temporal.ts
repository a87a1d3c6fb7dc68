import { parseArgs } from 'node:util';
import { Connection } from '@temporalio/client';
import { ConfigError } from '../../worker/config.js';
import { withSecretFiles } from '../../worker/secret-files.js';
import { temporalConnectError, temporalConnectionOptions } from '../../worker/temporal-connection.js';
import { temporalSecurity, type TemporalSecurity } from '../../worker/temporal-settings.js';
import { prepareTemporalCluster } from '../services/temporal-cluster.js';

/** Usage of `fabrica temporal`. */
export const TEMPORAL_USAGE = `usage: fabrica temporal prepare [--retention-days N]

Registers the namespace $TEMPORAL_NAMESPACE (default "default") on the Temporal cluster at $TEMPORAL_ADDRESS and adds
Fábrica's search attributes to it, then waits until both are usable. Idempotent: run it once per cluster, and again
after an upgrade. It connects as the workers do: TEMPORAL_TLS, TEMPORAL_TLS_CA_FILE, TEMPORAL_TLS_CERT_FILE,
TEMPORAL_TLS_KEY_FILE, TEMPORAL_TLS_SERVER_NAME and TEMPORAL_API_KEY (or TEMPORAL_API_KEY_FILE).

  --retention-days N   history retention of a namespace it registers (default 30)`;

function address(env: NodeJS.ProcessEnv): string {
  const raw = env.TEMPORAL_ADDRESS;
  if (!raw) throw new ConfigError('TEMPORAL_ADDRESS', 'not set: give the cluster frontend as host:port');
  if (!/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/.test(raw))
    throw new ConfigError('TEMPORAL_ADDRESS', `expected host:port, got ${JSON.stringify(raw)}`);
  return raw;
}

/** `fabrica temporal <subcommand>`: resolves with the exit code (78 for bad configuration, 2 for bad usage). */
export async function temporalCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'prepare') {
    console.error(TEMPORAL_USAGE);
    return sub === undefined || sub === '--help' || sub === '-h' ? 0 : 2;
  }
  let retentionDays: number;
  try {
    const { values } = parseArgs({ args: rest, options: { 'retention-days': { type: 'string', default: '30' } } });
    retentionDays = Number(values['retention-days']);
    if (!Number.isInteger(retentionDays) || retentionDays < 1) throw new Error('--retention-days: a whole number ≥ 1');
  } catch (err) {
    console.error(`fabrica temporal prepare: ${(err as Error).message}\n\n${TEMPORAL_USAGE}`);
    return 2;
  }
  let target: string;
  let security: TemporalSecurity;
  try {
    const settings = withSecretFiles(env);
    target = address(settings);
    security = temporalSecurity(settings);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    return 78;
  }
  const namespace = env.TEMPORAL_NAMESPACE || 'default';
  const t = { address: target, namespace, ...security };
  let connection: Connection;
  try {
    // The namespace may not exist yet: only the connection (TLS, API key, address) is checked here.
    connection = await Connection.connect({ ...temporalConnectionOptions(t), connectTimeout: 10_000 });
    await connection.workflowService.getSystemInfo({});
  } catch (err) {
    console.error((await temporalConnectError(err, t)).message);
    return 78;
  }
  try {
    await prepareTemporalCluster(connection, { namespace, retentionDays, log: (line) => console.log(line) });
    return 0;
  } finally {
    await connection.close();
  }
}

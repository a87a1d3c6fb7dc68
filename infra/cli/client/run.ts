import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../paths.js';
import { parseInvocation, UsageError, type Invocation } from './args.js';
import { ApiClient, ApiError, ApiUnreachableError } from './http.js';
import { USAGE } from './usage.js';
import { render } from './views.js';
import { watchBackfill } from './watch.js';

/** The exit codes scripts can rely on. */
export const EXIT = { ok: 0, apiError: 1, usage: 2, unreachable: 3 } as const;

/** The process streams the client writes to (replaceable for tests). */
export interface ClientIo {
  stdout: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
}

/** The key from `--key`, else `FABRICA_API_KEY`, else the local stack's dev key file (`FABRICA_HOME/dev-api-key`). */
export function resolveKey(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (flag) return flag;
  const home = env.FABRICA_HOME ? path.resolve(env.FABRICA_HOME) : path.join(projectRoot, '.fabrica');
  const file = path.join(home, 'dev-api-key');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || undefined : undefined;
}

async function call(inv: Extract<Invocation, { kind: 'call' }>, io: ClientIo): Promise<number> {
  const client = new ApiClient(inv.api, resolveKey(inv.key, io.env));
  const { action } = inv;
  if (action.kind === 'watch') {
    const columns = io.stdout.isTTY && !inv.json ? (io.stdout.columns ?? 80) : undefined;
    return watchBackfill(client, action.backfillId, action.intervalMs, {
      write: (t) => io.stdout.write(t),
      columns,
      json: inv.json,
    });
  }
  const res = await client.request(action.method, action.path, { query: action.query, body: action.body });
  const lines = inv.json ? [res.text] : render(action.view, res.body);
  if (lines.length) io.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.ok;
}

/**
 * Runs one client command (`pipelines`, `runs …`, `backfills …`, `exports …`, `datasets …`) and returns its exit
 * code: 0 success, 1 the API answered an error (`fabrica: <status> <message>` on stderr), 2 usage error (usage on
 * stderr), 3 the API cannot be reached, 4 a watched backfill ended with failures or was cancelled. Never prints a
 * stack trace.
 */
export async function runClient(
  argv: string[],
  io: ClientIo = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  let inv: Invocation;
  try {
    inv = parseInvocation(argv, io.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`fabrica: ${err.message}\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (inv.kind === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  try {
    return await call(inv, io);
  } catch (err) {
    if (err instanceof ApiError) {
      io.stderr.write(`fabrica: ${err.status} ${err.message}\n`);
      return EXIT.apiError;
    }
    if (err instanceof ApiUnreachableError) {
      io.stderr.write(`fabrica: ${err.message}\n`);
      return EXIT.unreachable;
    }
    io.stderr.write(`fabrica: ${(err as Error).message}\n`);
    return EXIT.apiError;
  }
}

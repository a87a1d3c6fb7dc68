import { DefaultLogger, Runtime, type LogEntry, type LogLevel } from '@temporalio/worker';

let installed = false;

/** Flattens SDK log metadata to JSON-safe fields: errors become their type and message, never a stack trace. */
function fields(meta: LogEntry['meta']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(meta ?? {})) {
    if (k === 'taskToken') continue;
    // Errors from the workflow sandbox come from another realm: recognise them by shape, not by instanceof.
    const e = v as { message?: unknown; name?: unknown; type?: unknown } | null;
    if (typeof e === 'object' && e !== null && typeof e.message === 'string')
      out[k] = { type: e.type ?? e.name, message: e.message };
    else if (typeof v !== 'function') out[k] = v;
  }
  return out;
}

/** Writes one SDK log entry as a JSON line on stderr, like the rest of Fábrica's logs. */
function writeJson(entry: LogEntry): void {
  const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  process.stderr.write(
    `${JSON.stringify({ time, level: entry.level.toLowerCase(), msg: entry.message, ...fields(entry.meta) })}\n`,
  );
}

/** Installs the SDK runtime once per process, logging JSON lines at `level` and above. */
export function installRuntime(level: LogLevel = 'WARN'): void {
  if (installed) return;
  installed = true;
  Runtime.install({ logger: new DefaultLogger(level, writeJson) });
}

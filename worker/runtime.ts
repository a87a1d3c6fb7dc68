import { DefaultLogger, Runtime, type LogEntry, type LogLevel } from '@temporalio/worker';
import { log } from './log.js';

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

/** Options of {@link installRuntime}. */
export interface RuntimeSettings {
  /** SDK log level (entries at it and above are written). */
  level?: LogLevel;
  /**
   * Port of the SDK's Prometheus exporter (`GET http://<host>:<port>/metrics`: task slots, pollers, schedule-to-start
   * and execution latencies…); undefined: no exporter.
   */
  metricsPort?: number;
  /** Address the exporter binds (default `0.0.0.0`, so Prometheus on another host can scrape it). */
  metricsHost?: string;
}

/**
 * Installs the SDK runtime once per process, logging JSON lines at `level` and above and, with `metricsPort`, serving
 * the SDK's metrics in the Prometheus format. A port already in use does not stop the worker (a second worker on the
 * same host is normal): it logs a warning and runs without the exporter.
 */
export function installRuntime(settings: RuntimeSettings | LogLevel = {}): void {
  if (installed) return;
  const {
    level = 'WARN',
    metricsPort,
    metricsHost = '0.0.0.0',
  } = typeof settings === 'string' ? { level: settings } : settings;
  const logger = new DefaultLogger(level, writeJson);
  if (metricsPort !== undefined) {
    const bindAddress = `${metricsHost}:${metricsPort}`;
    try {
      Runtime.install({ logger, telemetryOptions: { metrics: { prometheus: { bindAddress } } } });
      installed = true;
      return;
    } catch (err) {
      log.warn('worker metrics exporter not started; the worker runs without it', {
        setting: 'FABRICA_WORKER_METRICS_PORT',
        bindAddress,
        error: (err as Error).message,
      });
    }
  }
  Runtime.install({ logger });
  installed = true;
}

/** Log levels, least severe first. */
const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
/** A log level (`FABRICA_LOG_LEVEL`). */
export type LogLevelName = (typeof LEVELS)[number];

let threshold = LEVELS.indexOf('info');

/** Drops lines below `level` from now on (the process applies `FABRICA_LOG_LEVEL` at start). */
export function setLogLevel(level: LogLevelName): void {
  threshold = LEVELS.indexOf(level);
}

/** Structured JSON log lines on stderr, one per event, with optional context (run id, request id…). */
function write(level: LogLevelName, msg: string, fields?: Record<string, unknown>): void {
  if (LEVELS.indexOf(level) < threshold) return;
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
}

/** The process logger. */
export const log = {
  debug: (msg: string, fields?: Record<string, unknown>) => write('debug', msg, fields),
  info: (msg: string, fields?: Record<string, unknown>) => write('info', msg, fields),
  warn: (msg: string, fields?: Record<string, unknown>) => write('warn', msg, fields),
  error: (msg: string, fields?: Record<string, unknown>) => write('error', msg, fields),
};

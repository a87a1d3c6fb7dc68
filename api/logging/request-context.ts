import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Request } from 'express';
import { log } from '../../worker/log.js';

/** What the API knows about the request being served, for its log lines and error bodies. */
export interface RequestContext {
  requestId: string;
  /** False in an application built quiet (tests): info lines are dropped, errors still written. */
  verbose: boolean;
}

/** The request context of the code running now (AsyncLocalStorage: no per-request injection, no overhead). */
export const requestContext = new AsyncLocalStorage<RequestContext>();

/** A request carrying its context (set by the request-id middleware before anything else runs). */
export type RequestWithContext = Request & { context?: RequestContext };

/** An incoming `X-Request-Id` is kept when it is sane: 1–128 characters of `[A-Za-z0-9._:-]`. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request id to use: the client's `X-Request-Id` when sane, else a new UUID. */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && SANE_REQUEST_ID.test(header) ? header : randomUUID();
}

/** The id of the request being served, if any. */
export function currentRequestId(): string | undefined {
  return requestContext.getStore()?.requestId;
}

type Level = 'debug' | 'info' | 'warn' | 'error';

function write(level: Level, msg: string, fields?: Record<string, unknown>): void {
  const ctx = requestContext.getStore();
  if (ctx && !ctx.verbose && level !== 'error') return;
  log[level](msg, ctx ? { requestId: ctx.requestId, ...fields } : fields);
}

/**
 * The API's logger: the worker's JSON lines (`{"time","level","msg",...}` on stderr), with the request id of the
 * request being served added to every line.
 */
export const apiLog = {
  debug: (msg: string, fields?: Record<string, unknown>) => write('debug', msg, fields),
  info: (msg: string, fields?: Record<string, unknown>) => write('info', msg, fields),
  warn: (msg: string, fields?: Record<string, unknown>) => write('warn', msg, fields),
  error: (msg: string, fields?: Record<string, unknown>) => write('error', msg, fields),
};

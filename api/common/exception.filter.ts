import { STATUS_CODES } from 'node:http';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import { ServiceError } from '@temporalio/client';
import type { Response } from 'express';
import { log } from '../../worker/log.js';
import { currentRequestId, type RequestWithContext } from '../logging/request-context.js';
import { ConflictError, InvalidInputError, NotFoundError } from './errors.js';

/** The error body every failure has; `requestId` is the request's `X-Request-Id`, for the user to quote. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string | string[];
  requestId?: string;
}

/** SQLSTATE classes of a database that is not there right now: connection exception, insufficient resources, operator intervention. */
const PG_UNAVAILABLE_CLASSES = new Set(['08', '53', '57']);
/** Socket errors of an unreachable dependency. */
const NET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EAI_AGAIN',
]);
/** gRPC status codes of an unreachable or overloaded Temporal: DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, UNAVAILABLE. */
const GRPC_UNAVAILABLE = new Set([4, 8, 14]);
/** node-postgres' own errors for a connection that could not be made or was lost (they carry no code). */
const PG_CLIENT_LOST =
  /^(Connection terminated( unexpectedly| due to connection timeout)?|timeout exceeded when trying to connect|Client has encountered a connection error and is not queryable|Failed to connect before the deadline)$/;

/**
 * Whether an error (or one of its causes) says a dependency is unavailable, by its codes — a SQLSTATE class, a socket
 * error code, a gRPC status — never by words a message happens to contain.
 */
export function isUnavailable(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 5) return false;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown };
  if (typeof e.code === 'string') {
    if (NET_CODES.has(e.code)) return true;
    if (/^[0-9A-Z]{5}$/.test(e.code) && PG_UNAVAILABLE_CLASSES.has(e.code.slice(0, 2))) return true;
  }
  if (typeof e.code === 'number' && GRPC_UNAVAILABLE.has(e.code) && (depth > 0 || 'metadata' in e)) return true;
  if (typeof e.message === 'string' && PG_CLIENT_LOST.test(e.message)) return true;
  return isUnavailable(e.cause, depth + 1);
}

/** An HTTP exception's message as a string or a list of strings, whatever shape its response has. */
function messageOf(exception: HttpException): string | string[] {
  const r = exception.getResponse();
  const m = typeof r === 'string' ? r : (r as { message?: unknown } | null)?.message;
  if (typeof m === 'string' && m) return m;
  if (Array.isArray(m) && m.length && m.every((x) => typeof x === 'string')) return m;
  return exception.message || (STATUS_CODES[exception.getStatus()] ?? 'error');
}

/**
 * The HTTP answer to `exception`: validation and Nest HTTP errors keep their status; domain errors become 422/404/409;
 * Temporal or PostgreSQL unreachable becomes 503; anything else is a 500 whose details never reach the client.
 */
export function errorBody(exception: unknown, requestId?: string): ErrorBody {
  const withId = (b: ErrorBody): ErrorBody => (requestId ? { ...b, requestId } : b);
  if (exception instanceof HttpException) {
    const statusCode = exception.getStatus();
    return withId({ statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message: messageOf(exception) });
  }
  if (exception instanceof InvalidInputError)
    return withId({ statusCode: 422, error: 'Unprocessable Entity', message: [exception.message] });
  if (exception instanceof NotFoundError)
    return withId({ statusCode: 404, error: 'Not Found', message: exception.message });
  if (exception instanceof ConflictError)
    return withId({ statusCode: 409, error: 'Conflict', message: exception.message });
  if (isUnavailable(exception) || (exception instanceof ServiceError && isUnavailable(exception.cause, 1))) {
    return withId({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'a dependency (Temporal or PostgreSQL) is unavailable; retry later',
    });
  }
  return withId({ statusCode: 500, error: 'Internal Server Error', message: 'internal error' });
}

/**
 * Maps every error to HTTP in one place ({@link errorBody}), adds the request id to the body, sets `Retry-After` on a
 * 503, and logs every 5xx with its request id (details go to the log, never to the client).
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<Response>();
    const req = http.getRequest<RequestWithContext | undefined>();
    const requestId = req?.context?.requestId ?? currentRequestId();
    const body = errorBody(exception, requestId);
    if (body.statusCode >= 500) {
      const err = exception as Error | undefined;
      log.error('request failed', {
        requestId,
        method: req?.method,
        path: req?.path,
        status: body.statusCode,
        errType: err?.name,
        err: err?.message ?? String(exception),
      });
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    if (body.statusCode === 503) res.setHeader('Retry-After', '5');
    res.status(body.statusCode).json(body);
  }
}

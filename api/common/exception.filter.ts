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

const UNAVAILABLE =
  /ECONNREFUSED|UNAVAILABLE|14 UNAVAILABLE|DEADLINE_EXCEEDED|connect|timed out|Connection terminated/i;

/** An HTTP exception's message as a string or a list of strings, whatever shape its response has. */
function messageOf(exception: HttpException): string | string[] {
  const r = exception.getResponse();
  const m = typeof r === 'string' ? r : (r as { message?: unknown } | null)?.message;
  if (typeof m === 'string' && m) return m;
  if (Array.isArray(m) && m.length && m.every((x) => typeof x === 'string')) return m;
  return exception.message || (STATUS_CODES[exception.getStatus()] ?? 'error');
}

/**
 * The HTTP answer to `exception`: validation and Nest HTTP errors keep their status; domain errors become 400/404/409;
 * Temporal or PostgreSQL unreachable becomes 503; anything else is a 500 whose details never reach the client.
 */
export function errorBody(exception: unknown, requestId?: string): ErrorBody {
  const withId = (b: ErrorBody): ErrorBody => (requestId ? { ...b, requestId } : b);
  if (exception instanceof HttpException) {
    const statusCode = exception.getStatus();
    return withId({ statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message: messageOf(exception) });
  }
  if (exception instanceof InvalidInputError)
    return withId({ statusCode: 400, error: 'Bad Request', message: [exception.message] });
  if (exception instanceof NotFoundError)
    return withId({ statusCode: 404, error: 'Not Found', message: exception.message });
  if (exception instanceof ConflictError)
    return withId({ statusCode: 409, error: 'Conflict', message: exception.message });
  const message = (exception as Error | undefined)?.message ?? String(exception);
  if (exception instanceof ServiceError || UNAVAILABLE.test(message)) {
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

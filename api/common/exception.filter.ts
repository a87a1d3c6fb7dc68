import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import { ServiceError } from '@temporalio/client';
import type { Response } from 'express';
import { log } from '../../worker/log.js';
import { ConflictError, InvalidInputError, NotFoundError } from './errors.js';

/** The error body every failure has. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string | string[];
}

const UNAVAILABLE =
  /ECONNREFUSED|UNAVAILABLE|14 UNAVAILABLE|DEADLINE_EXCEEDED|connect|timed out|Connection terminated/i;

/**
 * Maps every error to HTTP in one place: validation and Nest HTTP errors keep their status; domain errors become
 * 404/409; Temporal or PostgreSQL unreachable becomes 503 with `Retry-After`; anything else is a 500 whose details go
 * to the log, never to the client.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const body = this.toBody(exception);
    if (body.statusCode === 503) res.setHeader('Retry-After', '5');
    if (body.statusCode >= 500)
      log.error('request failed', { status: body.statusCode, err: (exception as Error)?.message });
    res.status(body.statusCode).json(body);
  }

  private toBody(exception: unknown): ErrorBody {
    if (exception instanceof HttpException) {
      const r = exception.getResponse();
      const message = typeof r === 'string' ? r : ((r as { message?: string | string[] }).message ?? exception.message);
      return { statusCode: exception.getStatus(), error: exception.name.replace(/Exception$/, ''), message };
    }
    if (exception instanceof InvalidInputError)
      return { statusCode: 400, error: 'Bad Request', message: [exception.message] };
    if (exception instanceof NotFoundError) return { statusCode: 404, error: 'Not Found', message: exception.message };
    if (exception instanceof ConflictError) return { statusCode: 409, error: 'Conflict', message: exception.message };
    const message = (exception as Error)?.message ?? String(exception);
    if (exception instanceof ServiceError || UNAVAILABLE.test(message)) {
      return {
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'a dependency (Temporal or PostgreSQL) is unavailable; retry later',
      };
    }
    return { statusCode: 500, error: 'Internal Server Error', message: 'internal error' };
  }
}

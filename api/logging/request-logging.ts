import type { NextFunction, Response } from 'express';
import type { AuthenticatedRequest } from '../auth/auth.guard.js';
import {
  apiLog,
  requestContext,
  requestIdFrom,
  type RequestContext,
  type RequestWithContext,
} from './request-context.js';

type Req = RequestWithContext & AuthenticatedRequest;

/**
 * First middleware of the API: gives the request its id (the client's sane `X-Request-Id`, else a UUID), echoes it
 * in the `X-Request-Id` response header, runs the rest of the request in its {@link requestContext}, and writes one
 * access log line when the response is done: method, route template, path, status, duration, and the API key's name
 * and role (never the key).
 */
export function requestIdMiddleware(options: { verbose: boolean }) {
  return (req: Req, res: Response, next: NextFunction): void => {
    const ctx: RequestContext = { requestId: requestIdFrom(req.headers['x-request-id']), verbose: options.verbose };
    req.context = ctx;
    res.setHeader('X-Request-Id', ctx.requestId);
    const started = process.hrtime.bigint();
    res.once('close', () => {
      const route = (req.route as { path?: unknown } | undefined)?.path;
      const fields = {
        method: req.method,
        route: typeof route === 'string' && route.startsWith('/') ? route : 'unmatched',
        path: req.path.slice(0, 256),
        status: res.statusCode,
        durationMs: Math.round(Number(process.hrtime.bigint() - started) / 1e3) / 1e3,
        ...(req.apiKey ? { apiKey: req.apiKey.name, role: req.apiKey.role } : {}),
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      // 5xx details are logged at error level by the exception filter; the access line only counts the request.
      requestContext.run(ctx, () => (res.statusCode >= 500 ? apiLog.warn : apiLog.info)('request', fields));
    });
    requestContext.run(ctx, next);
  };
}

/** Re-enters the request's context after the body parser, whose stream callbacks run outside it. */
export function reenterRequestContext(req: Req, _res: Response, next: NextFunction): void {
  if (req.context) requestContext.run(req.context, next);
  else next();
}

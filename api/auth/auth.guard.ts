import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  HttpException,
  HttpStatus,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { roleAllows, type ApiKeyEntry, type Role } from '../../worker/api-keys.js';
import { MIN_ROLE, PUBLIC } from './auth.decorators.js';
import { AuthState } from './auth.state.js';

/** The key a request was authenticated with, attached to the request for logs. */
export type AuthenticatedRequest = Request & {
  apiKey?: Pick<ApiKeyEntry, 'name' | 'role'>;
  /** How the key was presented: its header, or the dashboard's session cookie. */
  authVia?: 'header' | 'cookie';
};

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Throws 429 with `Retry-After` when `retryAfter` is set. */
export function tooMany(
  res: Response,
  retryAfter: number | undefined,
  message = 'rate limit exceeded; retry later',
): void {
  if (retryAfter === undefined) return;
  res.setHeader('Retry-After', String(retryAfter));
  throw new HttpException(message, HttpStatus.TOO_MANY_REQUESTS);
}

/**
 * Least privilege for every route: a valid API key (`X-API-Key` or `Authorization: Bearer`) or a valid dashboard
 * session cookie (signed, naming a configured key; see `POST /session`) whose role covers the route's
 * {@link MinRole} (GET: viewer, otherwise operator, unless declared); 401 without a valid key or session, 403 for a
 * role too low, 429 past the per-key rate limit (invalid keys count against the caller's address). A request
 * authenticated by the cookie that is not a GET must be `Content-Type: application/json` (415 otherwise): with
 * SameSite=Strict this keeps other sites' forms from acting with a signed-in browser. Keys are compared by hash; no
 * key or hash is ever logged or returned.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthState,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const res = context.switchToHttp().getResponse<Response>();
    const targets = [context.getHandler(), context.getClass()];
    const isPublic = this.reflector.getAllAndOverride<boolean>(PUBLIC, targets) ?? false;
    const isMetrics = req.path.endsWith('/metrics');
    if (isPublic || (isMetrics && this.auth.config.api.metricsPublic)) return this.limit(`ip:${req.ip}`, res);
    const id = this.auth.identify(req);
    if (id.via === 'invalid-key') {
      tooMany(res, await this.auth.failed(req), 'too many invalid API keys from this address; retry later');
      throw new UnauthorizedException('invalid API key');
    }
    if (id.via === 'invalid-session')
      throw new UnauthorizedException('the session has expired or is no longer valid; sign in again');
    if (id.via === 'none')
      throw new UnauthorizedException('an API key is required (X-API-Key or Authorization: Bearer) or a session');
    if (
      id.via === 'cookie' &&
      !SAFE_METHODS.has(req.method) &&
      !/^application\/json\b/i.test(req.headers['content-type'] ?? '')
    )
      throw new HttpException(
        'a request authenticated by the session cookie must send Content-Type: application/json',
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      );
    const required: Role =
      this.reflector.getAllAndOverride<Role>(MIN_ROLE, targets) ?? (req.method === 'GET' ? 'viewer' : 'operator');
    if (!roleAllows(id.key.role, required))
      throw new ForbiddenException(`this action needs the ${required} role; key "${id.key.name}" is ${id.key.role}`);
    req.apiKey = { name: id.key.name, role: id.key.role };
    req.authVia = id.via;
    return this.limit(`key:${id.key.name}`, res);
  }

  private limit(bucket: string, res: Response): boolean {
    tooMany(res, this.auth.limiter.take(bucket));
    return true;
  }
}

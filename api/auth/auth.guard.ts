import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { matchApiKey, roleAllows, type ApiKeyEntry, type Role } from '../../worker/api-keys.js';
import type { FabricaConfig } from '../../worker/config.js';
import { CONFIG } from '../config/config.module.js';
import { MIN_ROLE, PUBLIC } from './auth.decorators.js';
import { RateLimiter } from './rate-limiter.js';

/** The key a request was authenticated with, attached to the request for logs. */
export type AuthenticatedRequest = Request & { apiKey?: Pick<ApiKeyEntry, 'name' | 'role'> };

function presentedKey(req: Request): string | undefined {
  const header = req.headers['x-api-key'];
  if (typeof header === 'string' && header) return header;
  const auth = req.headers.authorization;
  const m = auth ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
  return m?.[1];
}

/**
 * Least privilege for every route: a valid API key (`X-API-Key` or `Authorization: Bearer`) whose role covers the
 * route's {@link MinRole} (GET: viewer, otherwise operator, unless declared); 401 without a valid key, 403 for a role
 * too low, 429 past the per-key rate limit. Keys are compared by hash; no key or hash is ever logged or returned.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly limiter: RateLimiter;

  constructor(
    private readonly reflector: Reflector,
    @Inject(CONFIG) private readonly config: FabricaConfig,
  ) {
    this.limiter = new RateLimiter(config.api.rateLimitPerMinute);
  }

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const res = context.switchToHttp().getResponse<Response>();
    const targets = [context.getHandler(), context.getClass()];
    const isPublic = this.reflector.getAllAndOverride<boolean>(PUBLIC, targets) ?? false;
    const isMetrics = req.path.endsWith('/metrics');
    if (isPublic || (isMetrics && this.config.api.metricsPublic)) return this.limit(`ip:${req.ip}`, res);
    const key = presentedKey(req);
    const entry = key === undefined ? undefined : matchApiKey(this.config.api.keys, key);
    if (!entry)
      throw new UnauthorizedException(
        key === undefined ? 'an API key is required (X-API-Key or Authorization: Bearer)' : 'invalid API key',
      );
    const required: Role =
      this.reflector.getAllAndOverride<Role>(MIN_ROLE, targets) ?? (req.method === 'GET' ? 'viewer' : 'operator');
    if (!roleAllows(entry.role, required))
      throw new ForbiddenException(`this action needs the ${required} role; key "${entry.name}" is ${entry.role}`);
    req.apiKey = { name: entry.name, role: entry.role };
    return this.limit(`key:${entry.name}`, res);
  }

  private limit(bucket: string, res: Response): boolean {
    const retryAfter = this.limiter.take(bucket);
    if (retryAfter === undefined) return true;
    res.setHeader('Retry-After', String(retryAfter));
    throw new HttpException('rate limit exceeded; retry later', HttpStatus.TOO_MANY_REQUESTS);
  }
}

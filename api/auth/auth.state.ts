import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { matchApiKey, type ApiKeyEntry } from '../../worker/api-keys.js';
import type { FabricaConfig } from '../../worker/config.js';
import { CONFIG } from '../config/config.module.js';
import { RateLimiter } from './rate-limiter.js';
import { sessionCookie, SessionSigner, type Session } from './session.js';

/** How a request identifies itself. */
export type Identity =
  | { via: 'header'; key: Pick<ApiKeyEntry, 'name' | 'role'> }
  | { via: 'cookie'; key: Pick<ApiKeyEntry, 'name' | 'role'>; session: Session }
  | { via: 'none' }
  | { via: 'invalid-key' }
  | { via: 'invalid-session' };

/** The API key header value of a request (`X-API-Key` or `Authorization: Bearer`). */
export function presentedKey(req: Request): string | undefined {
  const header = req.headers['x-api-key'];
  if (typeof header === 'string' && header) return header;
  const auth = req.headers.authorization;
  const m = auth ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
  return m?.[1];
}

/** State shared by the guard and the session endpoints: the rate limiters and the session signer (one per process). */
@Injectable()
export class AuthState {
  /** Requests per key (per address without a key). */
  readonly limiter: RateLimiter;
  /** Failed sign-ins and invalid keys per address. */
  readonly failures: RateLimiter;
  readonly signer: SessionSigner;

  constructor(@Inject(CONFIG) readonly config: FabricaConfig) {
    this.limiter = new RateLimiter(config.api.rateLimitPerMinute);
    this.failures = new RateLimiter(Math.min(config.api.failedAuthPerMinute, config.api.rateLimitPerMinute));
    this.signer = new SessionSigner(config.api.sessionSecret);
  }

  /** The key a presented key matches, if any. */
  match(key: string): ApiKeyEntry | undefined {
    return matchApiKey(this.config.api.keys, key);
  }

  /** Who the request is: an API key header wins over the session cookie. */
  identify(req: Request): Identity {
    const key = presentedKey(req);
    if (key !== undefined) {
      const entry = this.match(key);
      return entry ? { via: 'header', key: { name: entry.name, role: entry.role } } : { via: 'invalid-key' };
    }
    const token = sessionCookie(req);
    if (token === undefined || token === '') return { via: 'none' };
    const session = this.signer.verify(token, this.config.api.keys);
    return session
      ? { via: 'cookie', key: { name: session.name, role: session.role }, session }
      : { via: 'invalid-session' };
  }

  /** Counts a failed attempt from the request's address; returns the seconds to wait when over the limit. */
  failed(req: Request): number | undefined {
    return this.failures.take(`ip:${req.ip}`);
  }

  /** Whether the address is already over its failed-attempt limit (without counting this request). */
  blocked(req: Request): number | undefined {
    return this.failures.peek(`ip:${req.ip}`);
  }
}

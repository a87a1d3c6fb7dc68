import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Request } from 'express';
import type pg from 'pg';
import { matchApiKey, type ApiKeyEntry } from '../../worker/api-keys.js';
import type { FabricaConfig } from '../../worker/config.js';
import { CONFIG } from '../config/config.module.js';
import { WAREHOUSE } from '../database/database.module.js';
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

  private readonly failedLimit: number;
  private readonly log = new Logger('AuthState');

  constructor(
    @Inject(CONFIG) readonly config: FabricaConfig,
    @Inject(WAREHOUSE) private readonly db: pg.Pool,
  ) {
    this.limiter = new RateLimiter(config.api.rateLimitPerMinute);
    this.failedLimit = Math.min(config.api.failedAuthPerMinute, config.api.rateLimitPerMinute);
    this.failures = new RateLimiter(this.failedLimit);
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

  /**
   * Counts a failed attempt from the request's address in `ops.api_failed_auth`, shared by every API process on the
   * warehouse; returns the seconds to wait when over the limit. With the warehouse unreachable, the process's own
   * count still limits (never a 5xx for counting).
   */
  async failed(req: Request, now = Date.now()): Promise<number | undefined> {
    const local = this.failures.take(`ip:${req.ip}`, now);
    const minute = Math.floor(now / 60_000);
    try {
      const res = await this.db.query<{ n: number }>(
        `WITH gone AS (DELETE FROM ops.api_failed_auth WHERE minute < $2 - 1)
         INSERT INTO ops.api_failed_auth (bucket, minute, n) VALUES ($1, $2, 1)
         ON CONFLICT (bucket, minute) DO UPDATE SET n = ops.api_failed_auth.n + 1 RETURNING n`,
        [`ip:${req.ip}`, minute],
      );
      return res.rows[0]!.n <= this.failedLimit ? undefined : waitFor(minute, now);
    } catch (err) {
      this.log.warn(`failed sign-ins counted by this process only: ${(err as Error).message}`);
      return local;
    }
  }

  /** Whether the address is already over its failed-attempt limit (without counting this request). */
  async blocked(req: Request, now = Date.now()): Promise<number | undefined> {
    const minute = Math.floor(now / 60_000);
    try {
      const res = await this.db.query<{ n: number }>(
        'SELECT n FROM ops.api_failed_auth WHERE bucket = $1 AND minute = $2',
        [`ip:${req.ip}`, minute],
      );
      return (res.rows[0]?.n ?? 0) < this.failedLimit ? undefined : waitFor(minute, now);
    } catch {
      return this.failures.peek(`ip:${req.ip}`, now);
    }
  }
}

/** Seconds until the next minute window. */
function waitFor(minute: number, now: number): number {
  return Math.max(1, Math.ceil(((minute + 1) * 60_000 - now) / 1000));
}

import { createHash, randomUUID } from 'node:crypto';
import {
  BadRequestException,
  type CallHandler,
  ConflictException,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
  UnprocessableEntityException,
} from '@nestjs/common';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { Response } from 'express';
import type pg from 'pg';
import { from, lastValueFrom, type Observable } from 'rxjs';
import type { AuthenticatedRequest } from '../auth/auth.guard.js';
import { errorBody } from '../common/exception.filter.js';
import { apiLog, type RequestWithContext } from '../logging/request-context.js';

/** The request header naming one logical operation, so that a client's retry of it acts once. */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** How long a stored response is replayed. */
export const IDEMPOTENCY_TTL_HOURS = 24;
/** An entry still `in_progress` this long after it was claimed belongs to a request that died (process crash). */
export const ABANDONED_AFTER_SECONDS = 120;

const KEY = /^[\x20-\x7E]{1,255}$/;
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const PURGE_EVERY_MS = 60_000;

type Req = RequestWithContext & AuthenticatedRequest & { rawBody?: Buffer };

/** What identifies "the same request" for a key: method, path with query, and the body's bytes (sha256). */
export function requestFingerprint(method: string, url: string, rawBody: Buffer | undefined): string {
  return createHash('sha256')
    .update(`${method.toUpperCase()}\n${url}\n`)
    .update(rawBody ?? Buffer.alloc(0))
    .digest('hex');
}

/** Who a key belongs to: keys are per API key, so two callers never see each other's responses. */
export function idempotencyScope(apiKeyName: string | undefined): string {
  return apiKeyName === undefined ? 'public' : `key:${apiKeyName}`;
}

/** Responses worth replaying: 2xx and 4xx, but not the transient 408/429, and never a 5xx (a retry re-executes). */
const storable = (status: number): boolean => status < 500 && status !== 408 && status !== 429;

interface StoredRow {
  fingerprint: string;
  state: 'in_progress' | 'completed';
  request_id: string;
  response_status: number | null;
  response_body: string | null;
}

type Claim = { kind: 'owned'; owner: string } | { kind: 'replay'; row: StoredRow } | { kind: 'busy' };

/**
 * `Idempotency-Key` on every unsafe method (POST, PUT, PATCH, DELETE), applied globally after the API-key guard.
 * The first request with a key claims it (insert-first into `ops.api_idempotency`, unique per caller and key), runs,
 * and stores its status and body; a repeat with the same key, caller, method, path and body gets the stored answer
 * with `Idempotent-Replayed: true`; the same key with another request is a 422; a duplicate arriving while the first
 * still runs is a 409 with `Retry-After` (it is not executed). 5xx answers are not stored, so a retry re-executes.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private lastPurge = 0;

  constructor(private readonly db: pg.Pool) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const req = context.switchToHttp().getRequest<Req>();
    const res = context.switchToHttp().getResponse<Response>();
    const header = req.headers['idempotency-key'];
    if (!UNSAFE_METHODS.has(req.method) || header === undefined) return next.handle();
    if (typeof header !== 'string' || !KEY.test(header))
      throw new BadRequestException(`${IDEMPOTENCY_HEADER} must be 1-255 printable ASCII characters`);
    // A promise, not a chain of operators: the response is stored even when the client has gone away meanwhile.
    return from(this.execute(req, res, header, next));
  }

  private async execute(req: Req, res: Response, key: string, next: CallHandler): Promise<unknown> {
    const scope = idempotencyScope(req.apiKey?.name);
    const requestId = req.context?.requestId ?? randomUUID();
    const fingerprint = requestFingerprint(req.method, req.originalUrl, req.rawBody);
    this.purgeExpired();
    const claim = await this.claim(scope, key, fingerprint, requestId);
    if (claim.kind === 'busy') {
      res.setHeader('Retry-After', '1');
      throw new ConflictException(`a request with this ${IDEMPOTENCY_HEADER} is still in progress; retry later`);
    }
    if (claim.kind === 'replay') {
      const { row } = claim;
      if (row.fingerprint !== fingerprint)
        throw new UnprocessableEntityException(
          `${IDEMPOTENCY_HEADER} was already used for a different request (method, path or body); use a new key`,
        );
      res.status(row.response_status!);
      res.setHeader('Idempotent-Replayed', 'true');
      res.setHeader('Original-Request-Id', row.request_id);
      return row.response_body === null ? undefined : JSON.parse(row.response_body);
    }
    let value: unknown;
    try {
      value = await lastValueFrom(next.handle(), { defaultValue: undefined });
    } catch (err) {
      const body = errorBody(err, requestId);
      await this.finish(scope, key, claim.owner, body.statusCode, JSON.stringify(body));
      throw err;
    }
    await this.finish(scope, key, claim.owner, res.statusCode, value === undefined ? null : JSON.stringify(value));
    return value;
  }

  /** Claims the key (new, expired, or abandoned by a dead request), or reads what holds it. */
  private async claim(scope: string, key: string, fingerprint: string, requestId: string): Promise<Claim> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const owner = randomUUID();
      const claimed = await this.db.query(
        `INSERT INTO ops.api_idempotency AS t
           (scope, idempotency_key, fingerprint, state, request_id, owner, created_at, expires_at)
         VALUES ($1, $2, $3, 'in_progress', $4, $5, now(), now() + make_interval(hours => $6))
         ON CONFLICT (scope, idempotency_key) DO UPDATE SET
           fingerprint = EXCLUDED.fingerprint, state = 'in_progress', request_id = EXCLUDED.request_id,
           owner = EXCLUDED.owner, response_status = NULL, response_body = NULL, created_at = now(),
           completed_at = NULL, expires_at = EXCLUDED.expires_at
         WHERE t.expires_at <= now()
            OR (t.state = 'in_progress' AND t.fingerprint = EXCLUDED.fingerprint
                AND t.created_at < now() - make_interval(secs => $7))
         RETURNING owner`,
        [scope, key, fingerprint, requestId, owner, IDEMPOTENCY_TTL_HOURS, ABANDONED_AFTER_SECONDS],
      );
      if (claimed.rowCount) return { kind: 'owned', owner };
      const held = await this.db.query<StoredRow>(
        `SELECT fingerprint, state, request_id, response_status, response_body FROM ops.api_idempotency
         WHERE scope = $1 AND idempotency_key = $2`,
        [scope, key],
      );
      const row = held.rows[0];
      if (!row) continue; // released by a failed request in between: claim again
      if (row.state === 'in_progress' && row.fingerprint === fingerprint) return { kind: 'busy' };
      return { kind: 'replay', row };
    }
    return { kind: 'busy' };
  }

  /** Stores the answer (or, for one not worth replaying, releases the key so a retry runs again). */
  private async finish(scope: string, key: string, owner: string, status: number, body: string | null): Promise<void> {
    try {
      if (storable(status)) {
        await this.db.query(
          `UPDATE ops.api_idempotency SET state = 'completed', response_status = $4, response_body = $5,
             completed_at = now() WHERE scope = $1 AND idempotency_key = $2 AND owner = $3`,
          [scope, key, owner, status, body],
        );
      } else {
        await this.db.query(
          'DELETE FROM ops.api_idempotency WHERE scope = $1 AND idempotency_key = $2 AND owner = $3',
          [scope, key, owner],
        );
      }
    } catch (err) {
      // The answer still goes out; the entry stays in progress until abandoned, then a retry re-executes.
      apiLog.error('idempotency entry not saved', { err: (err as Error).message, status });
    }
  }

  /** Deletes expired entries, at most once a minute and off the request's path (expired ones are ignored anyway). */
  private purgeExpired(): void {
    const now = Date.now();
    if (now - this.lastPurge < PURGE_EVERY_MS) return;
    this.lastPurge = now;
    this.db.query('DELETE FROM ops.api_idempotency WHERE expires_at <= now()').catch((err: unknown) => {
      apiLog.warn('expired idempotency entries not purged', { err: (err as Error).message });
    });
  }
}

/** Documents the `Idempotency-Key` header on every unsafe operation of an OpenAPI document (in place). */
export function documentIdempotencyKey(document: OpenAPIObject): void {
  for (const item of Object.values(document.paths)) {
    for (const method of ['post', 'put', 'patch', 'delete'] as const) {
      const op = item[method];
      if (!op) continue;
      op.parameters = [
        ...(op.parameters ?? []),
        {
          name: IDEMPOTENCY_HEADER,
          in: 'header',
          required: false,
          schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x20-\\x7E]+$' },
          description:
            `Makes a retry safe: the first request with this key runs and its answer is replayed for ${IDEMPOTENCY_TTL_HOURS} h ` +
            'to the same caller sending the same request (Idempotent-Replayed: true); another request with the key is a ' +
            '422, a duplicate while the first still runs a 409 with Retry-After.',
        },
      ];
    }
  }
}

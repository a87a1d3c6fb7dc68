import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { ROLES, type ApiKeyEntry, type Role } from '../../worker/api-keys.js';

/** Name of the dashboard's session cookie. */
export const SESSION_COOKIE = 'fabrica_session';

/** How long a session lasts after sign-in. */
export const SESSION_TTL_SECONDS = 8 * 3600;

/** Who a valid session token says the caller is. */
export interface Session {
  name: string;
  role: Role;
  /** Expiry, epoch seconds. */
  expires: number;
}

/**
 * Signs and verifies session tokens: `base64url(JSON {n, r, e}) . base64url(HMAC-SHA256)`, the HMAC keyed by
 * `FABRICA_SESSION_SECRET` (or a random secret drawn once per process when unset: sessions then end when the API
 * restarts, and replicas behind one address must share the setting). The token names the key, never holds it.
 */
export class SessionSigner {
  private readonly secret: Buffer;

  constructor(secret: string | undefined) {
    this.secret = secret ? Buffer.from(secret, 'utf8') : randomBytes(32);
  }

  private mac(payload: string): Buffer {
    return createHmac('sha256', this.secret).update(payload, 'utf8').digest();
  }

  /** A token for `key`, valid `ttlSeconds` from `now` (ms). */
  sign(key: Pick<ApiKeyEntry, 'name' | 'role'>, now = Date.now(), ttlSeconds = SESSION_TTL_SECONDS): string {
    const session: Session = { name: key.name, role: key.role, expires: Math.floor(now / 1000) + ttlSeconds };
    const payload = Buffer.from(JSON.stringify({ n: session.name, r: session.role, e: session.expires })).toString(
      'base64url',
    );
    return `${payload}.${this.mac(payload).toString('base64url')}`;
  }

  /**
   * The session of a token whose signature is right, that has not expired and whose key is still configured with
   * the same role (removing or re-roling a key ends its sessions); undefined otherwise.
   */
  verify(token: string, keys: readonly ApiKeyEntry[], now = Date.now()): Session | undefined {
    const m = /^([A-Za-z0-9_-]{1,512})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!m) return undefined;
    // Compared as canonical text: base64url's last character carries 2 unused bits that a decoder would ignore.
    const given = Buffer.from(m[2]!, 'utf8');
    const want = Buffer.from(this.mac(m[1]!).toString('base64url'), 'utf8');
    if (given.length !== want.length || !timingSafeEqual(given, want)) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    const { n, r, e } = (parsed ?? {}) as { n?: unknown; r?: unknown; e?: unknown };
    if (typeof n !== 'string' || typeof e !== 'number' || !ROLES.includes(r as Role)) return undefined;
    if (e * 1000 <= now) return undefined;
    if (!keys.some((k) => k.name === n && k.role === r)) return undefined;
    return { name: n, role: r as Role, expires: e };
  }
}

/** The session cookie's value on a request, if any (cookies parsed by hand: one cookie, no dependency). */
export function sessionCookie(req: Request): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The `Set-Cookie` value that stores `token` (HttpOnly, SameSite=Strict, Path=/; Secure over HTTPS). */
export function sessionCookieHeader(token: string, secure: boolean, maxAgeSeconds = SESSION_TTL_SECONDS): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}

/** The `Set-Cookie` value that removes the session cookie. */
export function clearSessionCookieHeader(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
}

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Roles, each including the ones before it: a viewer reads, an operator starts/pauses/cancels, an admin manages schedules. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;

/** An API role. */
export type Role = (typeof ROLES)[number];

/** One configured key: its name (for logs), role and SHA-256 (the key itself is never stored). */
export interface ApiKeyEntry {
  name: string;
  role: Role;
  sha256: Buffer;
}

/** Hex SHA-256 of a key, as stored in configuration. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A new random key (`fab_` + 32 bytes base64url) and its configuration entry. */
export function newApiKey(name: string, role: Role): { key: string; entry: string } {
  const key = `fab_${randomBytes(32).toString('base64url')}`;
  return { key, entry: `${name}:${role}:${hashApiKey(key)}` };
}

/**
 * Parses `name:role:sha256hex` entries separated by commas or newlines (blank lines and `#` comments ignored).
 * Throws an Error whose message says what is wrong with which entry (never the hash).
 */
export function parseApiKeys(text: string): ApiKeyEntry[] {
  return text
    .split(/[,\n]/)
    .map((e) => e.trim())
    .filter((e) => e && !e.startsWith('#'))
    .map((entry, i) => {
      const [name, role, hex, ...rest] = entry.split(':');
      if (!name || !/^[\w.-]{1,64}$/.test(name) || rest.length > 0)
        throw new Error(`entry ${i + 1}: expected name:role:sha256hex`);
      if (!ROLES.includes(role as Role))
        throw new Error(`entry ${i + 1} (${name}): role must be viewer, operator or admin`);
      if (!hex || !/^[0-9a-f]{64}$/i.test(hex))
        throw new Error(`entry ${i + 1} (${name}): the hash must be 64 hex characters`);
      return { name, role: role as Role, sha256: Buffer.from(hex, 'hex') };
    });
}

/** Reads keys from `FABRICA_API_KEYS` (inline) or `FABRICA_API_KEYS_FILE` (a file of entries). */
export function readApiKeys(env: NodeJS.ProcessEnv): { entries: ApiKeyEntry[]; source: string } | undefined {
  if (env.FABRICA_API_KEYS) return { entries: parseApiKeys(env.FABRICA_API_KEYS), source: 'FABRICA_API_KEYS' };
  if (env.FABRICA_API_KEYS_FILE)
    return { entries: parseApiKeys(readFileSync(env.FABRICA_API_KEYS_FILE, 'utf8')), source: 'FABRICA_API_KEYS_FILE' };
  return undefined;
}

/** Finds the entry a presented key matches, comparing hashes in constant time. */
export function matchApiKey(entries: readonly ApiKeyEntry[], presented: string): ApiKeyEntry | undefined {
  const digest = createHash('sha256').update(presented, 'utf8').digest();
  return entries.find((e) => timingSafeEqual(e.sha256, digest));
}

/** Whether `role` includes the rights of `required`. */
export function roleAllows(role: Role, required: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(required);
}
